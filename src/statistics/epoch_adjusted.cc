// Copyright 2026 The allot Authors.

#include "statistics/epoch_adjusted.h"

#include <limits>
#include <numeric>

#include "Eigen/Dense"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace allot::internal {
namespace {

// Union-find over arms: whether every arm is linked to arm 0 by a chain of
// epochs that two arms share.
bool Connected(const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms) {
  std::vector<int> parent(num_arms);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  for (const std::vector<Aggregate>& row : by_epoch) {
    int first = -1;
    for (int a = 0; a < num_arms; ++a) {
      if (row[a].n == 0) continue;
      if (first < 0) {
        first = a;
      } else {
        parent[find(a)] = find(first);
      }
    }
  }
  for (int a = 1; a < num_arms; ++a) {
    if (find(a) != find(0)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<EpochAdjustedEstimate> EstimateEpochAdjusted(
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms, MetricKind metric,
    const std::vector<double>& epoch_weights) {
  if (num_arms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_arms must be >= 1, got ", num_arms));
  }
  const int k = num_arms;
  const int epochs = static_cast<int>(by_epoch.size());
  auto weight = [&](int e) {
    return e < static_cast<int>(epoch_weights.size()) ? epoch_weights[e] : 1.0;
  };
  // A discounted epoch's units count w_e each: n_ea below is w_e times the
  // count (weighted least squares with unit weights w_e).
  auto n_of = [&](int e, int a) {
    return weight(e) * static_cast<double>(by_epoch[e][a].n);
  };
  std::vector<double> arm_units(k), epoch_units(epochs);
  std::vector<std::pair<int, int>> cells;  // (epoch, arm) with units
  for (int e = 0; e < epochs; ++e) {
    if (static_cast<int>(by_epoch[e].size()) != k) {
      return absl::InvalidArgumentError(
          absl::StrCat("epoch ", e, " has ", by_epoch[e].size(), " arms, expected ", k));
    }
    for (int a = 0; a < k; ++a) {
      if (by_epoch[e][a].n == 0) continue;
      const double n = n_of(e, a);
      arm_units[a] += n;
      epoch_units[e] += n;
      cells.emplace_back(e, a);
    }
  }
  for (int a = 0; a < k; ++a) {
    if (arm_units[a] == 0) {
      return absl::FailedPreconditionError(absl::StrCat("arm ", a, " has no units"));
    }
  }
  if (!Connected(by_epoch, k)) {
    return absl::FailedPreconditionError(
        "the arms are not connected through shared epochs");
  }
  const double all_units = std::accumulate(epoch_units.begin(), epoch_units.end(), 0.0);
  const int m = static_cast<int>(cells.size());

  // Reduced normal system C tau = Q ybar, epoch effects eliminated, with
  // C = sum_e (diag(n_e) - n_e n_e^T / N_e). tau_0 = 0; the rest from the
  // grounded system, positive definite when the arms are connected:
  // G = C^-1 with row and column 0 zero.
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(k, k);
  Eigen::MatrixXd n_e(k, epochs);  // per-epoch (weighted) counts
  for (int e = 0; e < epochs; ++e) {
    for (int a = 0; a < k; ++a) n_e(a, e) = n_of(e, a);
    if (epoch_units[e] == 0) continue;
    c.diagonal() += n_e.col(e);
    c.noalias() -= n_e.col(e) * n_e.col(e).transpose() / epoch_units[e];
  }
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(k, k);
  if (k > 1) {
    g.bottomRightCorner(k - 1, k - 1) =
        Eigen::LDLT<Eigen::MatrixXd>(c.bottomRightCorner(k - 1, k - 1))
            .solve(Eigen::MatrixXd::Identity(k - 1, k - 1));
  }
  // Cell j = (e, b) with weight n_j enters tau through column j of
  // G Q, n_j (G_b - u_e) with u_e = G n_e / N_e. Epoch effects are
  // mu_e = sum_a n_ea (ybar_ea - tau_a) / N_e, and arm a's mean at the
  // experiment's mix (shares s_e = N_e / N) is m_a = sum_e s_e mu_e + tau_a
  // = sum_j l_aj ybar_j with
  //   l_aj = n_j (G_ab - u_ea + s_e / N_e - r_b + h_e),
  // r = G c and h_e = c . u_e for c_a = sum_e s_e n_ea / N_e (the level's
  // weight on tau_a). Each column of l is built as it is used: O(cells K^2)
  // time, O(epochs K) memory.
  Eigen::MatrixXd u(k, epochs);
  Eigen::VectorXd level_weight = Eigen::VectorXd::Zero(k);  // c above
  for (int e = 0; e < epochs; ++e) {
    if (epoch_units[e] == 0) {
      u.col(e).setZero();
      continue;
    }
    u.col(e).noalias() = g * n_e.col(e) / epoch_units[e];
    level_weight += n_e.col(e) / all_units;  // s_e / N_e = 1 / N
  }
  const Eigen::VectorXd r = g * level_weight;
  const Eigen::VectorXd h = u.transpose() * level_weight;
  auto column = [&](int j, Eigen::VectorXd& l, Eigen::VectorXd& t) {
    const auto [e, b] = cells[j];
    const double nj = n_of(e, b);
    t.noalias() = nj * (g.col(b) - u.col(e));
    l = t.array() + nj * (1.0 / all_units - r(b) + h(e));
  };
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(k), effect = Eigen::VectorXd::Zero(k);
  Eigen::VectorXd l(k), t(k);
  for (int j = 0; j < m; ++j) {
    const double ybar = by_epoch[cells[j].first][cells[j].second].Mean();
    column(j, l, t);
    mean += ybar * l;
    effect += ybar * t;
  }
  std::vector<double> shares(epochs);
  for (int e = 0; e < epochs; ++e) shares[e] = epoch_units[e] / all_units;
  const std::vector<std::vector<double>> v = PerUnitVariances(
      by_epoch, k, metric, shares, std::vector<double>(mean.data(), mean.data() + k));
  // The sandwich sum_j l_j l_j^T v_j / n_j, and the Welch-Satterthwaite
  // degrees of freedom of each mean (continuous metrics): cell j's variance
  // is estimated on nu_j = d0 + n_j - 1 = n_j degrees of freedom (the
  // moderated variance, d0 = 1; raw counts, not discounted ones).
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(k, k);
  std::vector<Satterthwaite> satterthwaite(k);
  for (int j = 0; j < m; ++j) {
    const auto [e, b] = cells[j];
    const double var_ybar = v[e][b] / n_of(e, b);
    column(j, l, t);
    cov.selfadjointView<Eigen::Lower>().rankUpdate(l, var_ybar);
    if (metric == MetricKind::kContinuous) {
      for (int a = 0; a < k; ++a) {
        satterthwaite[a].Add(l(a) * l(a) * var_ybar,
                             static_cast<double>(by_epoch[e][b].n));
      }
    }
  }
  cov = cov.selfadjointView<Eigen::Lower>();
  std::vector<double> df(k, std::numeric_limits<double>::infinity());
  if (metric == MetricKind::kContinuous) {
    for (int a = 0; a < k; ++a) df[a] = satterthwaite[a].Df();
  }

  EpochAdjustedEstimate out;
  out.mean.assign(mean.data(), mean.data() + k);
  out.arm_effect.assign(effect.data(), effect.data() + k);
  out.degrees_of_freedom = std::move(df);
  out.covariance.assign(k, std::vector<double>(k));
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) out.covariance[a][b] = cov(a, b);
  }
  return out;
}

}  // namespace allot::internal
