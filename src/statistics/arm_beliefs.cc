// Copyright 2026 The allot Authors.

#include "statistics/arm_beliefs.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "statistics/correlated_best.h"
#include "statistics/epoch_adjusted.h"

namespace allot::internal {
namespace {

// Correlations below this are rounding: with one epoch the fit's
// off-diagonal covariances are ~1e-17 of the variances.
constexpr double kIndependent = 1e-12;

int EpochsWithUnits(const std::vector<std::vector<Aggregate>>& by_epoch) {
  int epochs = 0;
  for (const std::vector<Aggregate>& row : by_epoch) {
    for (const Aggregate& cell : row) {
      if (cell.n > 0) {
        ++epochs;
        break;
      }
    }
  }
  return epochs;
}

// Fills in the epoch-adjusted means, spreads and correlation; returns why
// the fit could not be used, or "" when it was.
std::string ApplyEpochAdjusted(const std::vector<std::vector<Aggregate>>& by_epoch, int k,
                               const BeliefOptions& options, ArmBeliefs& out) {
  for (const ArmEstimate& e : out.estimates) {
    // Burn-in: an arm without units has no estimate under any method.
    if (e.units == 0) return "an arm has no matured units";
  }
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted(by_epoch, k, options.metric, options.epoch_weights);
  if (!fit.ok()) return std::string(fit.status().message());
  std::vector<double> sd(k);
  for (int a = 0; a < k; ++a) {
    sd[a] = std::sqrt(fit->covariance[a][a]);
    if (!(sd[a] > 0) || !std::isfinite(fit->mean[a])) {
      return absl::StrCat("the fit gives arm ", a, " no spread");
    }
  }
  bool correlated = false;
  std::vector<std::vector<double>> correlation(k, std::vector<double>(k));
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) {
      correlation[a][b] = a == b ? 1.0 : fit->covariance[a][b] / (sd[a] * sd[b]);
      if (a != b && std::abs(correlation[a][b]) > kIndependent) correlated = true;
    }
  }
  for (int a = 0; a < k; ++a) {
    ArmEstimate& e = out.estimates[a];
    e.mean = fit->mean[a];
    e.variance_of_mean = fit->covariance[a][a];
    // Continuous: the t of the fit's mean (infinite for binary metrics).
    e.degrees_of_freedom = fit->degrees_of_freedom[a];
  }
  if (correlated) out.correlation = std::move(correlation);
  return "";
}

}  // namespace

ArmBeliefs EstimateBeliefs(const std::vector<std::vector<Aggregate>>& by_epoch,
                           int num_arms, EstimateMethod method,
                           const BeliefOptions& options) {
  ArmBeliefs out;
  out.method = method;
  out.estimates = EstimateArms(by_epoch, num_arms, options.metric, options.epoch_weights,
                               method == EstimateMethod::kPooled);
  // With one epoch holding units the fit is the period-weighted estimate.
  if (method == EstimateMethod::kEpochAdjusted && EpochsWithUnits(by_epoch) > 1) {
    const std::string why = ApplyEpochAdjusted(by_epoch, num_arms, options, out);
    if (!why.empty()) {
      out.method = EstimateMethod::kPeriodWeighted;
      out.note = absl::StrCat("period-weighted estimate (epoch-adjusted fit: ", why, ")");
    }
  }
  for (const ArmEstimate& e : out.estimates) {
    out.posteriors.push_back(PosteriorOf(e, options.metric, options.priors));
  }
  if (!options.probabilities) {
    out.p_best = out.expected_loss =
        absl::FailedPreconditionError("P(best) and expected loss not asked for");
    return out;
  }
  if (!out.correlation.empty() && num_arms > kMaxCorrelatedArms) {
    // Integrating the correlated posterior costs O(K^3) per arm (75 ms at
    // 30 arms): beyond the limit the marginals are taken as independent.
    out.correlation.clear();
    out.note =
        absl::StrCat("P(best) treats the epoch-adjusted means as independent above ",
                     kMaxCorrelatedArms, " arms");
  }
  if (out.correlation.empty()) {
    out.p_best = ProbabilityBest(out.posteriors, options.direction, options.seed);
    out.expected_loss = ExpectedLoss(out.posteriors, options.direction, options.seed);
    return out;
  }
  // Correlated means: the multivariate Normal with each arm's posterior
  // mean and spread (its prior included) and the fit's correlation.
  std::vector<double> mean(num_arms), sd(num_arms);
  for (int a = 0; a < num_arms; ++a) {
    // A Student t's spread is its standard deviation, or its scale where
    // the variance is infinite (df <= 2).
    const ArmPosterior& p = out.posteriors[a];
    mean[a] = p.Mean();
    const double variance = p.Variance();
    sd[a] = std::isfinite(variance) ? std::sqrt(variance) : p.b;
  }
  std::vector<std::vector<double>> covariance(num_arms, std::vector<double>(num_arms));
  for (int a = 0; a < num_arms; ++a) {
    for (int b = 0; b < num_arms; ++b) {
      covariance[a][b] = out.correlation[a][b] * sd[a] * sd[b];
    }
  }
  absl::StatusOr<CorrelatedBest> best =
      CorrelatedProbabilityBest(mean, covariance, options.direction);
  if (!best.ok()) {
    out.p_best = out.expected_loss = best.status();
    return out;
  }
  out.p_best = std::move(best->p_best);
  out.expected_loss = std::move(best->expected_loss);
  return out;
}

}  // namespace allot::internal
