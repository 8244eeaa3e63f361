// Copyright 2026 The allot Authors.
//
// Posterior beliefs about each arm's mean and the statistics the policies and
// reports derive from them: probability of being best, expected loss and
// credible intervals.
//
//   std::vector<allot::ArmPosterior> arms = {allot::ArmPosterior::Beta(11, 91),
//                                            allot::ArmPosterior::Beta(21, 81)};
//   absl::StatusOr<std::vector<double>> p_best = allot::ProbabilityBest(
//       arms, allot::Direction::kHigherIsBetter, /*seed=*/1);
//
// Probability of being best and expected loss are computed by deterministic
// numerical integration for any number of arms, accurate to 1e-6, in time
// linear in the number of arms (2 to 3 ms for 256 arms). Only posteriors too
// extreme to integrate on a grid fall back to seeded Monte Carlo
// (kMonteCarloDraws draws; standard error at most
// 0.5 / sqrt(kMonteCarloDraws)). The same inputs and seed always give
// bit-identical results.

#ifndef ALLOT_POSTERIOR_H_
#define ALLOT_POSTERIOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "allot/metric.h"

namespace allot {

// The distribution family of an arm's posterior mean.
enum class PosteriorFamily {
  kBeta,    // binary metrics: Beta(alpha, beta) over the conversion rate
  kNormal,  // continuous metrics: Normal(mean, sd) over the mean value
};

// One arm's posterior over its mean. Immutable value type; safe to share.
struct ArmPosterior {
  PosteriorFamily family = PosteriorFamily::kBeta;
  // Beta: alpha > 0. Normal: the mean (finite).
  double a = 1.0;
  // Beta: beta > 0. Normal: the standard deviation (> 0).
  double b = 1.0;

  static ArmPosterior Beta(double alpha, double beta) {
    return {PosteriorFamily::kBeta, alpha, beta};
  }
  static ArmPosterior Normal(double mean, double sd) {
    return {PosteriorFamily::kNormal, mean, sd};
  }

  // The posterior mean and variance.
  double Mean() const;
  double Variance() const;
  // The `q`-quantile, q in (0, 1); NaN outside it, for a malformed
  // posterior, or where Boost.Math cannot compute it. Never throws.
  double Quantile(double q) const;
};

// Monte Carlo draws used for posteriors too extreme to integrate on a grid.
inline constexpr int kMonteCarloDraws = 100000;

// Returns OK when every posterior is well formed (Beta: alpha, beta finite and
// > 0; Normal: mean finite, sd finite and > 0) and all share one family, and
// there are at least two; otherwise InvalidArgument naming the arm index and
// the bad value.
absl::Status ValidatePosteriors(absl::Span<const ArmPosterior> arms);

// Returns, for each arm, the probability that its mean is the best (largest
// for kHigherIsBetter, smallest for kLowerIsBetter). The result sums to 1.
// `seed` is used only for posteriors too extreme to integrate on a bounded
// grid (a standard deviation below the spacing of doubles at its mean, Beta
// shapes below ~1e-10), which fall back to Monte Carlo; otherwise the result
// does not depend on it. Arms that cannot be best (P < 1e-15) get exactly 0.
// Errors: InvalidArgument as ValidatePosteriors.
absl::StatusOr<std::vector<double>> ProbabilityBest(absl::Span<const ArmPosterior> arms,
                                                    Direction direction, uint64_t seed);

// Returns, for each arm, the expected loss of choosing it: E[max_j mu_j - mu_i]
// for kHigherIsBetter, E[mu_i - min_j mu_j] for kLowerIsBetter (>= 0).
// Errors: as ProbabilityBest.
absl::StatusOr<std::vector<double>> ExpectedLoss(absl::Span<const ArmPosterior> arms,
                                                 Direction direction, uint64_t seed);

}  // namespace allot

#endif  // ALLOT_POSTERIOR_H_
