// Copyright 2026 The allot Authors.
//
// Per-(epoch, arm) aggregates of matured units and the estimates built from
// them: the Simpson-safe mix of per-epoch means that policies use, and the
// pooled mean reported beside it.
//
// Simpson-safe (the period-weighted estimate of DESIGN section 3): each unit
// belongs to the epoch of its first exposure. Arms are compared over the
// shared epochs, those in which every arm with units has units; epoch e's
// share is s_e = N_e / sum_shared N_e, its matured units (all arms) over
// those of all shared epochs, the same shares for every arm. Arm a's mean
// mixes its per-epoch means over the shared epochs,
//   m_a = sum_e s_e m_ea,   Var(m_a) = sum_e s_e^2 v_ea / n_ea
// (v_ea the per-unit variance), so a traffic shift between epochs with
// different base rates cannot flip the ranking the way pooling can. Units
// in epochs that not every arm shares (an arm given no traffic, or added
// later) are counted in `units` but not in the mix: mixing each arm over
// its own epochs would weigh the arms with different shares and bring the
// reversal back. The epoch-adjusted least-squares fit is what uses them.
//
// When no epoch is shared by every arm with units there is no common mix;
// the estimate then falls back to each arm's pooled mean (shared_epochs is
// 0), which is not Simpson-safe. Pairwise-shared epochs were not chosen:
// they give each pair of arms its own mix, not one mean per arm.
//
// Per-unit variances v_ea. Binary: t (1 - t) at the modelled rate
// t_ea = m_a r_e / r, where r_e is epoch e's rate with all arms pooled and
// r = sum_e s_e r_e: each arm follows the epochs' relative rates (weekly
// factors are multiplicative). The cell's own rate is not used: in a small
// cell it is noisy (0 of 10 gives variance 0), and an arm that drew low
// would look both worse and surer; with it, the A/A simulation named a
// false winner in 2 of 40 runs. With one epoch t = m_a, the arm's rate.
// Continuous: the cell's
// sample variance moderated toward a prior variance s0^2 with d0 = 1 prior
// degree of freedom, v_ea = (d0 s0^2 + SS_ea) / (d0 + n_ea - 1) (Smyth,
// Stat. Appl. Genet. Mol. Biol. 3(1), 2004, the moderated variance; the
// posterior of a scaled-inverse-chi^2 prior, Gelman et al., Bayesian Data
// Analysis, 3rd ed., section 3.3). s0^2 is the arm's pooled within-epoch
// variance (sum of within-cell squared deviations over their degrees of
// freedom, so a shift of the mean between epochs is not counted as noise),
// or all arms' when the arm has none. So a lone unit borrows s0^2, an epoch
// whose values are all zero still has spread, and an arm seen in one epoch
// keeps exactly its sample variance.
//
// Degrees of freedom of a continuous mean. v_ea carries nu_ea = d0 + n_ea - 1
// degrees of freedom, and the mean's variance is a sum of such terms,
// c_e = s_e^2 v_ea / n_ea; Welch-Satterthwaite (Satterthwaite, Biometrics
// Bulletin 2 (1946) 110-114) gives the sum the chi^2 degrees of freedom
//   nu_a = (sum_e c_e)^2 / sum_e (c_e^2 / nu_ea),
// between the smallest nu_ea and their sum; with one epoch exactly d0 + n - 1.
// (m_a - mu_a) / sqrt(Var(m_a)) is then about t with nu_a degrees of
// freedom.
//
// Stratified (post-stratified) means: Cochran, Sampling Techniques, 3rd ed.,
// 1977, section 5.3; the Simpson reversal they avoid: Simpson, JRSS B 13
// (1951) 238-241.

#ifndef ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_
#define ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/time/time.h"
#include "allot/metric.h"
#include "allot/posterior.h"

namespace allot::internal {

// Welch-Satterthwaite degrees of freedom of a sum of variance terms
// (Satterthwaite, Biometrics Bulletin 2, 1946): add
// each term c with its degrees of freedom, then Df(). Terms of 0 carry no
// weight; +inf without any variance (the t is then never built: PosteriorOf
// keeps the prior).
// The result lies between the smallest df of a term and the sum of all
// terms' df; it is clamped there so that rounding cannot take it below
// kPriorDf (the smallest valid Student t df), and one term gives its own df
// exactly.
struct Satterthwaite {
  double sum = 0;
  double sum_sq_over_df = 0;
  double min_df = std::numeric_limits<double>::infinity();
  double total_df = 0;
  int terms = 0;
  void Add(double c, double df) {
    if (!(c > 0)) return;
    sum += c;
    sum_sq_over_df += c * c / df;
    min_df = std::min(min_df, df);
    total_df += df;
    ++terms;
  }
  double Df() const {
    if (terms == 0) return std::numeric_limits<double>::infinity();
    if (terms == 1) return min_df;
    return std::clamp(sum * sum / sum_sq_over_df, min_df, total_df);
  }
};

// Count, sum and sum of squares of the outcomes of matured units.
struct Aggregate {
  int64_t n = 0;
  double sum = 0;
  double sum_sq = 0;
  void Add(double value) {
    ++n;
    sum += value;
    sum_sq += value * value;
  }
  double Mean() const { return n > 0 ? sum / static_cast<double>(n) : 0.0; }
  // Sample variance (n - 1 denominator); 0 below two units.
  double SampleVariance() const;
};

struct ArmEstimate {
  int64_t units = 0;
  double outcomes = 0;
  double mean = 0;              // Simpson-safe (pooled if shared_epochs 0)
  double variance_of_mean = 0;  // of `mean`
  double effective_units = 0;   // Kish's 1 / sum_e s_e^2 / n_ea
  int shared_epochs = 0;        // epochs mixed; 0 for an arm without units
  double pooled_mean = 0;
  double pooled_variance = 0;  // per-unit sample variance, all epochs
  // Continuous: the Welch-Satterthwaite degrees of freedom of
  // variance_of_mean (>= 1). Binary metrics, arms without units and
  // experiments without any spread: +inf (a Normal, or unused).
  double degrees_of_freedom = std::numeric_limits<double>::infinity();
};

// Returns one estimate per arm from aggregates indexed [epoch][arm] (each
// row num_arms long). An arm without units gets a zero estimate and does not
// restrict the shared epochs.
//
// `epoch_weights` (empty: all 1; else one per epoch, each in (0, 1])
// discounts epochs: epoch e's cells count as if their n, sum and sum of
// squares were scaled by w_e, so their means and per-unit variances are
// unchanged while the epoch shares become s_e = w_e n_e / sum w n and the
// variance of a mean sum s_e^2 v_ea / (w_e n_ea) grows: effective units
// shrink and posteriors widen. `units` and `outcomes` stay undiscounted
// counts; `pooled_mean` is the discounted pooled mean.
//
// `pool_epochs` asks for the pooled estimate ([estimate] method = "pooled"):
// every arm's mean is then its pooled mean, as when no epoch is shared.
std::vector<ArmEstimate> EstimateArms(const std::vector<std::vector<Aggregate>>& by_epoch,
                                      int num_arms, MetricKind metric,
                                      const std::vector<double>& epoch_weights = {},
                                      bool pool_epochs = false);

// Returns the weight of each of the first `num_epochs` epochs for
// EstimateArms at time `now`: 0.5^(age / half_life), the age measured from the
// epoch's midpoint (between its start and the next epoch's start in
// `epoch_starts`, or `now` for the last) to `now`. The midpoint, not the
// end, so that an epoch that lasts (weights unchanged) ages as well. No
// weight falls below 1e-300 (a very old epoch still counts, negligibly).
// Returns an empty vector (no discounting) when half_life <= 0.
std::vector<double> EpochDiscounts(const std::vector<absl::Time>& epoch_starts,
                                   size_t num_epochs, absl::Time now,
                                   absl::Duration half_life);

// Returns the per-unit variance v_ea of every cell of aggregates indexed
// [epoch][arm] (0 for a cell without units), as described above. Binary
// metrics use epoch_shares (s_e, 0 outside the mix) and arm_means (each
// arm's mean at that mix); continuous ones ignore both.
std::vector<std::vector<double>> PerUnitVariances(
    const std::vector<std::vector<Aggregate>>& by_epoch, int num_arms, MetricKind metric,
    const std::vector<double>& epoch_shares, const std::vector<double>& arm_means);

// Priors of the posteriors below.
struct Priors {
  double alpha = 1.0;  // binary: Beta(alpha, beta)
  double beta = 1.0;
  // continuous: Normal(0, sd) prior on the mean; near flat.
  double normal_sd = 1e6;
};

// Returns the posterior of an arm's mean from its estimate.
// Binary: the Beta with the estimate's mean m and the spread of its sampling
// distribution, Beta(alpha + m n, beta + (1 - m) n) with the effective count
// n = m (1 - m) / variance_of_mean (the count whose binomial proportion has
// that variance; it differs from the design's effective_units whenever the
// epochs' rates differ, by -17% to +44% in sd for weekly factors 0.4 and
// 1.6, see arm_estimates_test). With
// one epoch n is the arm's units, so the posterior is exactly
// Beta(alpha + conversions, beta + failures). When m is 0 or 1 in every
// epoch (no variance) effective_units stands in.
// Continuous: the Student t of an estimated variance, StudentT(location,
// scale, degrees_of_freedom), its location and scale those of the Normal
// prior combined with Normal(m, sqrt(variance_of_mean)) by precisions. The
// prior is near flat (sd 1e6), so this is the data's t to ~1e-12 relative;
// combining precisions keeps an explicit, informative normal_sd meaning what
// it did, and the t's df are the data's (the prior adds none). An arm with
// fewer than two units, or an experiment where every value was equal (no
// spread to borrow), keeps the Normal prior.
ArmPosterior PosteriorOf(const ArmEstimate& estimate, MetricKind metric,
                         const Priors& priors);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_
