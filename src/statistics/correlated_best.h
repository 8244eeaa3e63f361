// Copyright 2026 The allot Authors.
//
// Probability of being best and expected loss when the arms' means are
// jointly Normal with a full covariance, as the epoch-adjusted fit
// (statistics/epoch_adjusted.h) gives them: arms that share epochs share
// the epochs' estimated effects, so their means are correlated.
//
//   absl::StatusOr<CorrelatedBest> best = CorrelatedProbabilityBest(
//       fit->mean, fit->covariance, Direction::kHigherIsBetter);
//   if (best.ok()) use(best->p_best[a], best->expected_loss[a]);
//
// Method. Arm i is best when every difference D_j = X_i - X_j (j != i) is
// >= 0: an orthant probability of the (K-1)-variate Normal of the
// differences. It is computed by Genz's separation of variables (A. Genz,
// "Numerical computation of multivariate normal probabilities", J. Comput.
// Graph. Stat. 1 (1992) 141-149; A. Genz and F. Bretz, Computation of
// Multivariate Normal and t Probabilities, Springer 2009): with D = mu + L y, L a
// Cholesky factor of the differences' covariance and y standard Normal, the constraints
// are taken one at a time, each y_k drawn from its Normal truncated by its own
// constraint, and the probability is the expectation, over the unit cube, of the product
// of the truncation probabilities. The constraints are reordered as the factor is built,
// least likely first (Genz and Bretz's heuristic, with the truncated means standing in
// for earlier variables; X_i - X_r is put first, below), which makes the integrand nearly
// constant in its later variables. The last variable is integrated in closed form, so K
// arms need a K-2 dimensional cube.
//
// The cube is integrated by randomized quasi-Monte Carlo: the Richtmyer
// (Kronecker) sequence n * sqrt(p_k) mod 1, p_k the k-th prime, with the
// baker's (tent) transformation, under 8 random shifts drawn from a fixed
// seed, so results are bit-reproducible. The spread of the per-shift means
// is the standard error. Points start at 8 per shift and grow by half each
// round until the standard error of the arm's P(best) is below 1e-4 and
// that of its term of E[max] (below) below 1e-4 standard deviations of
// X_i - X_r; then the arm whose E[max] term has the largest standard error
// gets more rounds until E[max]'s (the root sum of squares) is below 1e-4
// of the largest such standard deviation. No arm goes past the cap of 2^14
// points per shift (131,072 integrand evaluations per arm), where the
// error may exceed the target. When the cube has one dimension (two
// constraints, as for K = 3), the integral is smooth in that variable and
// is taken instead by composite 10-point Gauss-Legendre on panels of at
// most 2 standard deviations (error ~1e-11, as in probability_best.cc).
//
// Expected loss is E[max] - mean_i, clamped at 0. E[max] comes from the
// same points: E[max] = m_r + sum_i E[(X_i - X_r) 1{i best}], r the arm of
// largest mean, and X_i - X_r is one of arm i's differences, linear in y,
// so each term is the same integrand times a linear function (its last
// variable again in closed form). X_i - X_r is ordered first, and
// q_0 (X_i - X_r), whose mean E[(X_i - X_r)^+] is known, is subtracted as
// a control variate: it carries the unbounded part of the integrand. This
// replaces sampling the maximum of the K-variate Normal directly, which is
// not smooth, converges far more slowly, and needs a factor of the full
// covariance, which a component common to all arms makes ill-conditioned.
//
// Pruning. An arm with min_j P(X_i > X_j) < 1e-9 gets p_best 0 without
// integration (and no share of E[max]); a constraint j with
// P(X_j > X_i) < 1e-8 is dropped from arm i's integral (changing it by less
// than that). The P(best) so computed are renormalized to sum to 1, which
// moves them by about the integration error.
//
// Special cases. A diagonal covariance (every off-diagonal exactly 0, every
// variance > 0) is handed to ProbabilityBest and ExpectedLoss with Normal
// posteriors, so the results are exactly the independent path's. K = 2
// uses the closed form. A difference with no variance of its own (two arms
// perfectly correlated, all variances 0) is a point mass: its constraint
// holds or not, and an exact tie counts one half (two identical arms share
// their probability evenly). A difference fully determined by earlier ones
// is an indicator of them. (Conditional) variances below 1e-10 times the
// largest |covariance| entry count as 0.
//
// Cost. Building each arm's factor is O(K^3); the integrand is O(K^2) with
// about K Normal CDF and K inverse CDF evaluations per point. Measured CPU
// time per call with bench/posterior_benchmark.cc (Release, a covariance
// shaped like an epoch-adjusted fit, correlations 0.17 to 0.47):
// BM_CorrelatedProbabilityBest (two leading arms) K = 3 6 us, K = 10
// 1.2 ms, K = 30 75 ms; BM_CorrelatedProbabilityBestClose (all ten arms
// within about one standard error, so none is pruned or dropped) K = 10
// 40 ms.

#ifndef ALLOT_SRC_STATISTICS_CORRELATED_BEST_H_
#define ALLOT_SRC_STATISTICS_CORRELATED_BEST_H_

#include <vector>

#include "absl/status/statusor.h"
#include "allot/metric.h"

namespace allot::internal {

// P(best) and expected loss per arm. Plain value; thread-compatible.
struct CorrelatedBest {
  std::vector<double> p_best;  // sums to 1
  // E[max_j X_j - X_i] (higher is better) or E[X_i - min_j X_j]; >= 0.
  std::vector<double> expected_loss;
};

// Returns P(best) and expected loss for X ~ MVN(mean, covariance).
// `covariance` is K x K, symmetric and positive semi-definite; it may be
// singular (for example along a component common to all arms), and tiny
// negative eigenvalues from rounding are tolerated. The result is
// deterministic: the same inputs give bit-identical outputs.
// Errors: InvalidArgument if K < 2, covariance is not K x K, an entry is
// not finite, the matrix is not symmetric (relative 1e-9) or has an
// eigenvalue below -1e-8 times the largest in magnitude. Never throws.
absl::StatusOr<CorrelatedBest> CorrelatedProbabilityBest(
    const std::vector<double>& mean, const std::vector<std::vector<double>>& covariance,
    Direction direction);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_CORRELATED_BEST_H_
