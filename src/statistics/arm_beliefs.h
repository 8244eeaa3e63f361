// Copyright 2026 The allot Authors.
//
// From the per-(epoch, arm) aggregates to what a report and a policy need:
// each arm's estimate and posterior, P(best) and expected loss, by the
// configured estimate ([estimate] method). One path for the engine's
// reports and for `allot weights`.
//
//   ArmBeliefs beliefs = EstimateBeliefs(aggregates, config.estimate.method,
//                                        {.metric = ..., .priors = ...});
//   if (beliefs.p_best.ok()) use((*beliefs.p_best)[a]);
//
// Methods (README "Estimates"):
// - epoch_adjusted: the least-squares fit of epoch_adjusted.h. Its arm
//   means are correlated (they share the fitted epoch effects), so P(best)
//   and expected loss come from the multivariate Normal with the marginal
//   posteriors' means and spreads and the fit's correlation
//   (correlated_best.h). With one epoch holding units the fit is the
//   period-weighted estimate exactly, and that path (independent arms,
//   Beta or Normal quadrature) is used, so results equal today's. When the
//   fit is not estimable (an arm without units, or arms not linked through
//   shared epochs) the period-weighted estimate stands in and `note` says
//   why.
// - period_weighted: EstimateArms (same epoch shares for every arm).
// - pooled: each arm's units together, ignoring epochs.

#ifndef ALLOT_SRC_STATISTICS_ARM_BELIEFS_H_
#define ALLOT_SRC_STATISTICS_ARM_BELIEFS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/experiment_config.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "statistics/arm_estimates.h"

namespace allot::internal {

// Above this many arms, P(best) under the epoch-adjusted estimate takes the
// arms' means as independent (the marginal posteriors are exact; the
// correlation is dropped) and `note` says so: the correlated integral
// costs O(K^3) per arm.
inline constexpr int kMaxCorrelatedArms = 32;

struct BeliefOptions {
  MetricKind metric = MetricKind::kBinary;
  Direction direction = Direction::kHigherIsBetter;
  Priors priors;
  // Empty: no discounting; else one weight per epoch (EpochDiscounts).
  std::vector<double> epoch_weights;
  // For Monte Carlo, where a posterior is too extreme to integrate.
  uint64_t seed = 1;
  // False: estimates and posteriors only (p_best and expected_loss are left
  // as an error status saying they were not asked for).
  bool probabilities = true;
};

struct ArmBeliefs {
  EstimateMethod method = EstimateMethod::kEpochAdjusted;  // the one used
  std::string note;  // why another method than asked was used; else empty
  std::vector<ArmEstimate> estimates;
  std::vector<ArmPosterior> posteriors;
  // Correlation of the arms' means; empty when they are independent.
  std::vector<std::vector<double>> correlation;
  absl::StatusOr<std::vector<double>> p_best;
  absl::StatusOr<std::vector<double>> expected_loss;
};

// Returns the beliefs about num_arms arms from aggregates indexed
// [epoch][arm] (each row num_arms long). Never throws for valid aggregates;
// a P(best) or loss that cannot be computed is an error status inside.
ArmBeliefs EstimateBeliefs(const std::vector<std::vector<Aggregate>>& by_epoch,
                           int num_arms, EstimateMethod method,
                           const BeliefOptions& options);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_ARM_BELIEFS_H_
