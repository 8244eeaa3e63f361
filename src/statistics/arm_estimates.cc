// Copyright 2026 The allot Authors.

#include "statistics/arm_estimates.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace allot::internal {
namespace {

// Within-cell sum of squared deviations, sum (x - mean)^2; 0 below two units.
double SumOfSquares(const Aggregate& g) {
  if (g.n < 2) return 0.0;
  return std::max(0.0, g.sum_sq - g.sum * g.Mean());
}

// Degrees of freedom and sum of squares of the within-epoch spread.
struct WithinSpread {
  double df = 0;
  double ss = 0;
  void Add(const Aggregate& g) {
    if (g.n < 2) return;
    df += static_cast<double>(g.n - 1);
    ss += SumOfSquares(g);
  }
  double Variance() const { return df > 0 ? ss / df : 0.0; }
};

// The prior variance of a continuous arm's cells: its own within-epoch
// spread, or all arms' when it has none (every value of the arm equal).
std::vector<double> PriorVariances(const std::vector<std::vector<Aggregate>>& by_epoch,
                                   int num_arms) {
  std::vector<WithinSpread> within(num_arms);
  WithinSpread within_all;
  for (const std::vector<Aggregate>& row : by_epoch) {
    for (int a = 0; a < num_arms; ++a) {
      within[a].Add(row[a]);
      within_all.Add(row[a]);
    }
  }
  std::vector<double> prior(num_arms);
  for (int a = 0; a < num_arms; ++a) {
    const double own = within[a].Variance();
    prior[a] = own > 0 ? own : within_all.Variance();
  }
  return prior;
}

// Moderated toward the prior variance with kPriorDf degrees of freedom
// (Smyth 2004): a cell of one unit, or of equal values, borrows the prior
// instead of claiming no spread.
constexpr double kPriorDf = 1.0;
double ModeratedDf(const Aggregate& g) { return kPriorDf + static_cast<double>(g.n - 1); }
double Moderated(double prior_variance, const Aggregate& g) {
  return (kPriorDf * prior_variance + SumOfSquares(g)) / ModeratedDf(g);
}

}  // namespace

double Aggregate::SampleVariance() const {
  if (n < 2) return 0.0;
  return SumOfSquares(*this) / static_cast<double>(n - 1);
}

std::vector<std::vector<double>> PerUnitVariances(
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms, MetricKind metric,
    const std::vector<double>& epoch_shares, const std::vector<double>& arm_means) {
  std::vector<std::vector<double>> v(by_epoch.size(), std::vector<double>(num_arms));
  if (metric == MetricKind::kBinary) {
    // r_e, each epoch's rate with all arms pooled, and r = sum_e s_e r_e.
    std::vector<double> epoch_rate(by_epoch.size());
    double mixed_rate = 0;
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      Aggregate all;
      for (const Aggregate& g : by_epoch[e]) {
        all.n += g.n;
        all.sum += g.sum;
      }
      epoch_rate[e] = all.Mean();
      mixed_rate += epoch_shares[e] * epoch_rate[e];
    }
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      for (int a = 0; a < num_arms; ++a) {
        if (by_epoch[e][a].n == 0) continue;
        const double rate =
            mixed_rate > 0
                ? std::clamp(arm_means[a] * epoch_rate[e] / mixed_rate, 0.0, 1.0)
                : std::clamp(arm_means[a], 0.0, 1.0);
        v[e][a] = rate * (1 - rate);
      }
    }
    return v;
  }
  const std::vector<double> prior = PriorVariances(by_epoch, num_arms);
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    for (int a = 0; a < num_arms; ++a) {
      const Aggregate& g = by_epoch[e][a];
      if (g.n > 0) v[e][a] = Moderated(prior[a], g);
    }
  }
  return v;
}

std::vector<ArmEstimate> EstimateArms(const std::vector<std::vector<Aggregate>>& by_epoch,
                                      int num_arms, MetricKind metric,
                                      const std::vector<double>& epoch_weights,
                                      bool pool_epochs) {
  auto weight = [&](size_t e) {
    return e < epoch_weights.size() ? epoch_weights[e] : 1.0;
  };
  std::vector<ArmEstimate> estimates(num_arms);
  std::vector<Aggregate> pooled(num_arms);
  // Discounted units and outcomes of each arm, all epochs.
  std::vector<double> pooled_units(num_arms);
  std::vector<double> pooled_sum(num_arms);
  std::vector<double> epoch_units(by_epoch.size());
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    for (int a = 0; a < num_arms; ++a) {
      const Aggregate& g = by_epoch[e][a];
      epoch_units[e] += weight(e) * static_cast<double>(g.n);
      pooled[a].n += g.n;
      pooled[a].sum += g.sum;
      pooled[a].sum_sq += g.sum_sq;
      pooled_units[a] += weight(e) * static_cast<double>(g.n);
      pooled_sum[a] += weight(e) * g.sum;
    }
  }
  // The epochs every arm with units shares, and their total units.
  std::vector<bool> shared(by_epoch.size(), false);
  double shared_units = 0;
  int shared_epochs = 0;
  for (size_t e = 0; e < by_epoch.size() && !pool_epochs; ++e) {
    bool all = epoch_units[e] > 0;
    for (int a = 0; a < num_arms && all; ++a) {
      if (pooled[a].n > 0 && by_epoch[e][a].n == 0) all = false;
    }
    if (!all) continue;
    shared[e] = true;
    shared_units += epoch_units[e];
    ++shared_epochs;
  }
  // The shares, and each arm's mean over the shared epochs.
  std::vector<double> shares(by_epoch.size());
  std::vector<double> means(num_arms);
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    if (!shared[e]) continue;
    shares[e] = epoch_units[e] / shared_units;
    for (int a = 0; a < num_arms; ++a) {
      if (pooled[a].n > 0) means[a] += shares[e] * by_epoch[e][a].Mean();
    }
  }
  const std::vector<std::vector<double>> cell_variance =
      shared_epochs > 0 ? PerUnitVariances(by_epoch, num_arms, metric, shares, means)
                        : std::vector<std::vector<double>>();
  const std::vector<double> prior_variance =
      metric == MetricKind::kBinary || shared_epochs > 0
          ? std::vector<double>()
          : PriorVariances(by_epoch, num_arms);

  for (int a = 0; a < num_arms; ++a) {
    ArmEstimate& est = estimates[a];
    est.units = pooled[a].n;
    est.outcomes = pooled[a].sum;
    est.pooled_mean = pooled_units[a] > 0 ? pooled_sum[a] / pooled_units[a] : 0.0;
    est.pooled_variance = pooled[a].SampleVariance();
    if (pooled[a].n == 0) continue;
    est.shared_epochs = shared_epochs;
    if (shared_epochs == 0) {
      // No epoch holds every arm: no common epoch mix exists. Fall back to
      // the pooled mean (not Simpson-safe), with the variance of a simple
      // random sample of the arm's (discounted) units.
      const double dn = pooled_units[a];
      const double m = est.pooled_mean;
      const double v = metric == MetricKind::kBinary
                           ? m * (1 - m)
                           : Moderated(prior_variance[a], pooled[a]);
      est.mean = m;
      est.variance_of_mean = v / dn;
      est.effective_units = dn;
      if (metric == MetricKind::kContinuous && v > 0) {
        est.degrees_of_freedom = ModeratedDf(pooled[a]);
      }
      continue;
    }
    double var = 0, inv_eff = 0;
    Satterthwaite satterthwaite;
    for (size_t e = 0; e < by_epoch.size(); ++e) {
      if (!shared[e]) continue;
      const double dn = weight(e) * static_cast<double>(by_epoch[e][a].n);
      inv_eff += shares[e] * shares[e] / dn;
      const double c = shares[e] * shares[e] * cell_variance[e][a] / dn;
      var += c;
      satterthwaite.Add(c, ModeratedDf(by_epoch[e][a]));
    }
    const double mean = means[a];
    est.mean = mean;
    est.variance_of_mean = var;
    est.effective_units = 1.0 / inv_eff;
    if (metric == MetricKind::kContinuous) {
      est.degrees_of_freedom = satterthwaite.Df();
    }
  }
  return estimates;
}

std::vector<double> EpochDiscounts(const std::vector<absl::Time>& epoch_starts,
                                   size_t num_epochs, absl::Time now,
                                   absl::Duration half_life) {
  if (half_life <= absl::ZeroDuration()) return {};
  std::vector<double> weights(num_epochs, 1.0);
  for (size_t e = 0; e < num_epochs && e < epoch_starts.size(); ++e) {
    // The epoch's midpoint: a long epoch (weights unchanged for days) ages
    // too, so its data weighs less than a newer epoch's.
    const absl::Time end = e + 1 < epoch_starts.size() ? epoch_starts[e + 1] : now;
    const absl::Time mid = epoch_starts[e] + (end - epoch_starts[e]) / 2;
    const absl::Duration age = std::max(absl::ZeroDuration(), now - mid);
    weights[e] = std::max(1e-300, std::exp2(-absl::FDivDuration(age, half_life)));
  }
  return weights;
}

ArmPosterior PosteriorOf(const ArmEstimate& estimate, MetricKind metric,
                         const Priors& priors) {
  if (metric == MetricKind::kBinary) {
    if (estimate.units == 0) return ArmPosterior::Beta(priors.alpha, priors.beta);
    const double m = std::clamp(estimate.mean, 0.0, 1.0);
    // The count whose binomial proportion has the estimate's variance at its
    // mean: with one epoch m (1 - m) / (m (1 - m) / n) = n, so the posterior
    // is Beta(alpha + conversions, beta + failures). Without a variance (m
    // is 0 or 1 in every epoch) the design's effective units stand in.
    double n = estimate.effective_units;
    if (m > 0 && m < 1 && estimate.variance_of_mean > 0) {
      n = m * (1 - m) / estimate.variance_of_mean;
    }
    return ArmPosterior::Beta(priors.alpha + m * n, priors.beta + (1 - m) * n);
  }
  if (estimate.units < 2 || !(estimate.variance_of_mean > 0)) {
    // Fewer than two units, or no spread anywhere in the experiment: the
    // data cannot say how precise the mean is, so the prior stands.
    return ArmPosterior::Normal(0.0, priors.normal_sd);
  }
  // The variance of the mean is estimated, so the mean's posterior is a t
  // with the estimate's Satterthwaite df (>= d0 = 1). The Normal prior is
  // folded in by precisions as before: exact for a known variance, and with
  // the near-flat default (sd 1e6) a change of ~1e-12 relative to the data's
  // t, while an explicit informative normal_sd still shrinks as it did.
  const double prior_precision = 1.0 / (priors.normal_sd * priors.normal_sd);
  const double data_precision = 1.0 / estimate.variance_of_mean;
  const double precision = prior_precision + data_precision;
  const double mean = estimate.mean * data_precision / precision;
  return ArmPosterior::StudentT(mean, std::sqrt(1.0 / precision),
                                estimate.degrees_of_freedom);
}

}  // namespace allot::internal
