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

  // Reduced normal system C tau = Q ybar, epoch effects eliminated.
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(k, k);
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(k, m);
  for (int e = 0; e < epochs; ++e) {
    if (epoch_units[e] == 0) continue;
    for (int a = 0; a < k; ++a) {
      const double na = n_of(e, a);
      if (na == 0) continue;
      c(a, a) += na;
      for (int b = 0; b < k; ++b) c(a, b) -= na * n_of(e, b) / epoch_units[e];
    }
  }
  for (int j = 0; j < m; ++j) {
    const auto [e, b] = cells[j];
    const double nb = n_of(e, b);
    q(b, j) += nb;
    for (int a = 0; a < k; ++a) q(a, j) -= n_of(e, a) * nb / epoch_units[e];
  }
  // tau_0 = 0; the rest from the grounded system, positive definite when
  // the arms are connected.
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(k, m);  // tau = t ybar
  if (k > 1) {
    Eigen::LDLT<Eigen::MatrixXd> ldlt(c.bottomRightCorner(k - 1, k - 1));
    t.bottomRows(k - 1) = ldlt.solve(q.bottomRows(k - 1));
  }
  // mu_e = sum_a n_ea (ybar_ea - tau_a) / N_e; m_a = sum_e s_e mu_e + tau_a.
  // The level sum_e s_e mu_e is sum_j (s_e n_j / N_e) ybar_j, less
  // sum_a c_a tau_a with c_a = sum_e s_e n_ea / N_e: O(cells + K cells).
  Eigen::RowVectorXd level(m);
  Eigen::RowVectorXd c_tau = Eigen::RowVectorXd::Zero(k);
  for (int j = 0; j < m; ++j) {
    const auto [e, a] = cells[j];
    const double s = epoch_units[e] / all_units;
    level(j) = s * n_of(e, a) / epoch_units[e];
    c_tau(a) += level(j);
  }
  level -= c_tau * t;
  Eigen::MatrixXd l = t;  // m = l ybar
  l.rowwise() += level;

  Eigen::VectorXd ybar(m);
  for (int j = 0; j < m; ++j) {
    ybar(j) = by_epoch[cells[j].first][cells[j].second].Mean();
  }
  const Eigen::VectorXd mean = l * ybar;
  std::vector<double> shares(epochs);
  for (int e = 0; e < epochs; ++e) shares[e] = epoch_units[e] / all_units;
  const std::vector<std::vector<double>> v = PerUnitVariances(
      by_epoch, k, metric, shares, std::vector<double>(mean.data(), mean.data() + k));
  Eigen::VectorXd var_ybar(m);
  for (int j = 0; j < m; ++j) {
    const auto [e, a] = cells[j];
    var_ybar(j) = v[e][a] / n_of(e, a);
  }
  const Eigen::VectorXd effect = t * ybar;
  const Eigen::MatrixXd cov = l * var_ybar.asDiagonal() * l.transpose();
  // Welch-Satterthwaite degrees of freedom of each mean (continuous
  // metrics): m_a = sum_j l_aj ybar_j with cell j's variance estimated on
  // nu_j = d0 + n_j - 1 = n_j degrees of freedom (the moderated variance,
  // d0 = 1; raw counts, not discounted ones).
  std::vector<double> df(k, std::numeric_limits<double>::infinity());
  if (metric == MetricKind::kContinuous) {
    for (int a = 0; a < k; ++a) {
      Satterthwaite satterthwaite;
      for (int j = 0; j < m; ++j) {
        satterthwaite.Add(
            l(a, j) * l(a, j) * var_ybar(j),
            static_cast<double>(by_epoch[cells[j].first][cells[j].second].n));
      }
      df[a] = satterthwaite.Df();
    }
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
