// Copyright 2026 The allot Authors.

#include "statistics/arm_estimates.h"

#include <algorithm>
#include <cmath>

namespace allot::internal {
namespace {

// Within-cell sum of squared deviations, sum (x - mean)^2; 0 below two units.
double SumOfSquares(const Aggregate& g) {
  if (g.n < 2) return 0.0;
  return std::max(0.0, g.sum_sq - g.sum * g.Mean());
}

}  // namespace

double Aggregate::SampleVariance() const {
  if (n < 2) return 0.0;
  return SumOfSquares(*this) / static_cast<double>(n - 1);
}

std::vector<ArmEstimate> EstimateArms(
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms,
    MetricKind metric) {
  std::vector<ArmEstimate> estimates(num_arms);
  std::vector<Aggregate> pooled(num_arms);
  std::vector<double> epoch_units(by_epoch.size());
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    for (int a = 0; a < num_arms; ++a) {
      const Aggregate& g = by_epoch[e][a];
      epoch_units[e] += static_cast<double>(g.n);
      pooled[a].n += g.n;
      pooled[a].sum += g.sum;
      pooled[a].sum_sq += g.sum_sq;
    }
  }
  // The epochs every arm with units shares, and their total units.
  std::vector<bool> shared(by_epoch.size(), false);
  double shared_units = 0;
  int shared_epochs = 0;
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    bool all = epoch_units[e] > 0;
    for (int a = 0; a < num_arms && all; ++a) {
      if (pooled[a].n > 0 && by_epoch[e][a].n == 0) all = false;
    }
    if (!all) continue;
    shared[e] = true;
    shared_units += epoch_units[e];
    ++shared_epochs;
  }
  // Per-unit variance of cell (e, a); a lone unit borrows the arm's pooled
  // variance.
  auto cell_variance = [&](const Aggregate& g, int a) {
    if (metric == MetricKind::kBinary) return g.Mean() * (1 - g.Mean());
    return g.n >= 2 ? g.SampleVariance() : pooled[a].SampleVariance();
  };

  for (int a = 0; a < num_arms; ++a) {
    ArmEstimate& est = estimates[a];
    est.units = pooled[a].n;
    est.outcomes = pooled[a].sum;
    est.pooled_mean = pooled[a].Mean();
    est.pooled_variance = pooled[a].SampleVariance();
    if (pooled[a].n == 0) continue;
    est.shared_epochs = shared_epochs;
    if (shared_epochs == 0) {
      // No epoch holds every arm: no common epoch mix exists. Fall back to
      // the pooled mean (not Simpson-safe), with the variance of a simple
      // random sample of the arm's units.
      const double dn = static_cast<double>(pooled[a].n);
      const double m = est.pooled_mean;
      const double v =
          metric == MetricKind::kBinary ? m * (1 - m) : est.pooled_variance;
      est.mean = m;
      est.variance_of_mean = v / dn;
      est.effective_units = dn;
      continue;
    }
    double mean = 0, var = 0, inv_eff = 0;
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      if (!shared[e]) continue;
      const Aggregate& g = by_epoch[e][a];
      const double s = epoch_units[e] / shared_units;
      const double dn = static_cast<double>(g.n);
      mean += s * g.Mean();
      inv_eff += s * s / dn;
      var += s * s * cell_variance(g, a) / dn;
    }
    est.mean = mean;
    est.variance_of_mean = var;
    est.effective_units = 1.0 / inv_eff;
  }
  return estimates;
}

ArmPosterior PosteriorOf(const ArmEstimate& estimate, MetricKind metric,
                         const Priors& priors) {
  if (metric == MetricKind::kBinary) {
    const double n = estimate.units > 0 ? estimate.effective_units : 0.0;
    const double m = std::clamp(estimate.mean, 0.0, 1.0);
    return ArmPosterior::Beta(priors.alpha + m * n, priors.beta + (1 - m) * n);
  }
  const double prior_precision = 1.0 / (priors.normal_sd * priors.normal_sd);
  if (estimate.units < 2 || !(estimate.variance_of_mean > 0)) {
    if (estimate.units >= 2) {
      // Every observed value was equal: the data pin the mean tightly, but a
      // zero variance would be a point mass; use a tiny positive spread.
      const double sd = std::max(1e-9, std::abs(estimate.mean) * 1e-9);
      return ArmPosterior::Normal(estimate.mean, sd);
    }
    return ArmPosterior::Normal(0.0, priors.normal_sd);
  }
  const double data_precision = 1.0 / estimate.variance_of_mean;
  const double precision = prior_precision + data_precision;
  const double mean = estimate.mean * data_precision / precision;
  return ArmPosterior::Normal(mean, std::sqrt(1.0 / precision));
}

}  // namespace allot::internal
