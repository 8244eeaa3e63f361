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
// linear in the number of arms (2 to 3 ms for 256 arms; Student t arms with
// small df need grids out to their heavy tails, 4 ms for 256 arms of df 30
// to 36, 50 to 60 ms for df 1.5 to 7.5). Only posteriors too
// extreme to integrate on a grid fall back to seeded Monte Carlo
// (kMonteCarloDraws draws; standard error at most
// 0.5 / sqrt(kMonteCarloDraws)). The same inputs and seed always give
// bit-identical results.

#ifndef ALLOT_POSTERIOR_H_
#define ALLOT_POSTERIOR_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "allot/metric.h"

namespace allot {

// The distribution family of an arm's posterior mean.
enum class PosteriorFamily {
  kBeta,    // binary metrics: Beta(alpha, beta) over the conversion rate
  kNormal,  // continuous metrics: Normal(mean, sd) over the mean value
  // continuous metrics whose variance is estimated: a location-scale Student
  // t, location + scale T_df, over the mean value. Normal is its df = inf
  // limit, and the two may be mixed in one comparison.
  kStudentT,
};

// One arm's posterior over its mean. Immutable value type; safe to share.
struct ArmPosterior {
  PosteriorFamily family = PosteriorFamily::kBeta;
  // Beta: alpha > 0. Normal: the mean (finite). Student t: the location
  // (finite).
  double a = 1.0;
  // Beta: beta > 0. Normal: the standard deviation (> 0). Student t: the
  // scale (> 0).
  double b = 1.0;
  // Student t: the degrees of freedom, >= 1 (kMinStudentTDf) or +inf (then
  // it is Normal(a, b)). Unused by the other families; the default, +inf,
  // keeps {family, a, b} aggregates meaning what they did.
  double df = std::numeric_limits<double>::infinity();

  static ArmPosterior Beta(double alpha, double beta) {
    return {PosteriorFamily::kBeta, alpha, beta};
  }
  static ArmPosterior Normal(double mean, double sd) {
    return {PosteriorFamily::kNormal, mean, sd};
  }
  static ArmPosterior StudentT(double location, double scale, double degrees_of_freedom) {
    return {PosteriorFamily::kStudentT, location, scale, degrees_of_freedom};
  }

  // The posterior mean and variance. A Student t's mean is its location; for
  // df <= 1 the mean does not exist and the location (its median and centre
  // of symmetry) is returned all the same, so that policies ranking arms by
  // their mean still can. Its variance is scale^2 df / (df - 2), +inf for
  // df <= 2 (infinite for 1 < df <= 2, undefined below; +inf either way).
  double Mean() const;
  double Variance() const;
  // The `q`-quantile, q in (0, 1); NaN outside it, for a malformed
  // posterior, or where Boost.Math cannot compute it. Never throws.
  double Quantile(double q) const;
};

// Monte Carlo draws used for posteriors too extreme to integrate on a grid.
inline constexpr int kMonteCarloDraws = 100000;

// The smallest degrees of freedom a Student t posterior may have: the Cauchy.
// An estimated variance has at least one degree of freedom (allot's
// moderated variances have d0 + n - 1 >= 1), and below 1 even the median's
// tails are too heavy to integrate on a bounded grid.
inline constexpr double kMinStudentTDf = 1.0;

// Returns OK when every posterior is well formed (Beta: alpha, beta finite and
// > 0; Normal: mean finite, sd finite and > 0; Student t: location finite,
// scale finite and > 0, df >= kMinStudentTDf or +inf) and there are at least
// two; Beta arms may not be mixed with the others, Normal and Student t arms
// may. Otherwise InvalidArgument naming the arm index and the bad value.
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
// Student t arms: when any arm has df <= 1 the expectation does not exist and
// every arm's loss is +inf. For df > 1 the t tails are integrated out to
// where what they add to E[max] is below 1e-10 of the scale, but at most
// 1e150 scales from the location: the 1e-6 accuracy holds for df >= 1.05;
// closer to 1 the loss is underestimated by about
// 1e150^(1 - df) / (pi (df - 1)) scales (2e-7 at 1.05, 3e-4 at 1.03).
// Errors: as ProbabilityBest.
absl::StatusOr<std::vector<double>> ExpectedLoss(absl::Span<const ArmPosterior> arms,
                                                 Direction direction, uint64_t seed);

}  // namespace allot

#endif  // ALLOT_POSTERIOR_H_
