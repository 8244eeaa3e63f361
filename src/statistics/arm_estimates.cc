// Copyright 2026 The allot Authors.

#include "statistics/arm_estimates.h"

#include <algorithm>
#include <cmath>

namespace allot::internal {

double Aggregate::SampleVariance() const {
  if (n < 2) return 0.0;
  const double dn = static_cast<double>(n);
  const double mean = sum / dn;
  return std::max(0.0, (sum_sq - dn * mean * mean) / (dn - 1));
}

std::vector<ArmEstimate> EstimateArms(const std::vector<std::vector<Aggregate>>& by_epoch,
                                      int num_arms, MetricKind metric) {
  std::vector<ArmEstimate> estimates(num_arms);
  std::vector<Aggregate> pooled(num_arms);
  std::vector<double> epoch_units(by_epoch.size());
  double all_units = 0;
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    for (int a = 0; a < num_arms; ++a) {
      const Aggregate& g = by_epoch[e][a];
      epoch_units[e] += static_cast<double>(g.n);
      pooled[a].n += g.n;
      pooled[a].sum += g.sum;
      pooled[a].sum_sq += g.sum_sq;
    }
    all_units += epoch_units[e];
  }
  for (int a = 0; a < num_arms; ++a) {
    ArmEstimate& est = estimates[a];
    est.units = pooled[a].n;
    est.outcomes = pooled[a].sum;
    est.pooled_mean = pooled[a].Mean();
    est.pooled_variance = pooled[a].SampleVariance();
    if (pooled[a].n == 0) continue;
    double share_sum = 0;
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      if (by_epoch[e][a].n > 0) share_sum += epoch_units[e] / all_units;
    }
    double mean = 0, var = 0, inv_eff = 0;
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      const Aggregate& g = by_epoch[e][a];
      if (g.n == 0) continue;
      const double s = epoch_units[e] / all_units / share_sum;
      const double dn = static_cast<double>(g.n);
      mean += s * g.Mean();
      inv_eff += s * s / dn;
      // Per-unit variance within the epoch; one unit alone borrows the
      // arm's pooled variance.
      double v;
      if (metric == MetricKind::kBinary) {
        v = g.Mean() * (1 - g.Mean());
      } else {
        v = g.n >= 2 ? g.SampleVariance() : est.pooled_variance;
      }
      var += s * s * v / dn;
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
