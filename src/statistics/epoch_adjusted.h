// Copyright 2026 The allot Authors.
//
// The epoch-adjusted estimate of DESIGN section 3: a least-squares fit of
//   outcome = epoch effect + arm effect
// on the per-(epoch, arm) aggregates, so a change of base rate between
// epochs is absorbed by the epoch effects, arms are compared only within the
// epochs they share, and every unit counts (an epoch that holds one arm
// alone pins its epoch effect). Not yet the engine's default; P(best) and
// expected loss over its correlated arm means are CorrelatedProbabilityBest
// (statistics/correlated_best.h).
//
//   absl::StatusOr<EpochAdjustedEstimate> fit =
//       EstimateEpochAdjusted(aggregates, num_arms, MetricKind::kBinary);
//   if (fit.ok()) use(fit->mean[a], fit->covariance[a][b]);
//
// Method. Each unit has weight 1 (ordinary least squares on the units,
// which is weighted least squares on the cell means with weights n_ea).
// Eliminating the epoch effects leaves the K x K reduced normal system
// C tau = q of the intra-block analysis of an incomplete block design,
//   C_ab = sum_e (n_ea [a = b] - n_ea n_eb / N_e),
//   q_a  = sum_e n_ea (ybar_ea - ybar_e),   ybar_e the epoch's mean,
// (Searle, Linear Models, 1971, section 7.2; Dey, Theory of Block Designs,
// 1986, chapter 2). C has rank K - 1 when the arms are connected through
// shared epochs; the fit sets tau_0 = 0 and solves the rest with Eigen's
// LDLT. Epoch effects follow as mu_e = sum_a n_ea (ybar_ea - tau_a) / N_e,
// and arm a's mean at the experiment's own epoch mix (shares s_e = N_e / N)
// is m_a = sum_e s_e mu_e + tau_a, which does not depend on the constraint.
// m is linear in the cell means, m = L ybar, so its covariance is
// L diag(v_ea / n_ea) L^T with the per-unit variances of PerUnitVariances
// (binary: at the fit's own means and epoch mix): a sandwich that holds
// when the cells' variances differ.
//
// With one epoch m_a is the arm's mean; when each epoch gives all arms the
// same count it is the period-weighted mean of EstimateArms. The engine's
// P(best) (allot/posterior.h) still assumes independent arms.

#ifndef ALLOT_SRC_STATISTICS_EPOCH_ADJUSTED_H_
#define ALLOT_SRC_STATISTICS_EPOCH_ADJUSTED_H_

#include <vector>

#include "absl/status/statusor.h"
#include "allot/metric.h"
#include "statistics/arm_estimates.h"

namespace allot::internal {

// The fit's arm means and their covariance. Immutable; safe to share.
struct EpochAdjustedEstimate {
  std::vector<double> mean;                     // per arm, at the epoch mix
  std::vector<std::vector<double>> covariance;  // K x K, of `mean`
  // Arm effects with tau_0 = 0; differences tau_a - tau_b = m_a - m_b.
  std::vector<double> arm_effect;
};

// Returns the epoch-adjusted fit of aggregates indexed [epoch][arm], each
// row num_arms long.
// Errors: InvalidArgument if num_arms < 1 or a row has another length;
// FailedPrecondition if an arm has no units or the arms are not connected
// through shared epochs (some difference of arm effects is not estimable).
absl::StatusOr<EpochAdjustedEstimate> EstimateEpochAdjusted(
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms, MetricKind metric);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_EPOCH_ADJUSTED_H_
