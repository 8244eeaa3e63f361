// Copyright 2026 The allot Authors.

#include "statistics/epoch_adjusted.h"

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
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms,
    MetricKind metric) {
  if (num_arms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_arms must be >= 1, got ", num_arms));
  }
  const int k = num_arms;
  const int epochs = static_cast<int>(by_epoch.size());
  std::vector<double> arm_units(k), epoch_units(epochs);
  std::vector<std::pair<int, int>> cells;  // (epoch, arm) with units
  for (int e = 0; e < epochs; ++e) {
    if (static_cast<int>(by_epoch[e].size()) != k) {
      return absl::InvalidArgumentError(
          absl::StrCat("epoch ", e, " has ", by_epoch[e].size(), " arms, expected ", k));
    }
    for (int a = 0; a < k; ++a) {
      const double n = static_cast<double>(by_epoch[e][a].n);
      if (n == 0) continue;
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
  auto n_of = [&](int e, int a) { return static_cast<double>(by_epoch[e][a].n); };

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
  Eigen::RowVectorXd level = Eigen::RowVectorXd::Zero(m);  // sum_e s_e mu_e
  for (int e = 0; e < epochs; ++e) {
    if (epoch_units[e] == 0) continue;
    const double s = epoch_units[e] / all_units;
    Eigen::RowVectorXd mu = Eigen::RowVectorXd::Zero(m);
    for (int j = 0; j < m; ++j) {
      if (cells[j].first == e) mu(j) += n_of(e, cells[j].second);
    }
    for (int a = 0; a < k; ++a) mu -= n_of(e, a) * t.row(a);
    level += s * mu / epoch_units[e];
  }
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

  EpochAdjustedEstimate out;
  out.mean.assign(mean.data(), mean.data() + k);
  out.arm_effect.assign(effect.data(), effect.data() + k);
  out.covariance.assign(k, std::vector<double>(k));
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) out.covariance[a][b] = cov(a, b);
  }
  return out;
}

}  // namespace allot::internal
