// Copyright 2026 The allot Authors.
//
// The sample-ratio check: do exposures per arm match the traffic shares the
// bucket tables were built to give? A mismatch means units are lost,
// duplicated or assigned outside allot, and every estimate is suspect.
//
// The check is an anytime-valid sequential test (in the spirit of Lindon and
// Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS 2022):
// an e-value E_t that is a test martingale under "every unit of epoch e lands
// in arm a with probability shares[e][a]", whatever the shares are and
// however they depend on the past, turned into the always-valid p-value
// p_t = min(1, 1 / max_{s <= t} E_s). By Ville's inequality,
// P(p_t <= alpha for some t) <= alpha, so the check can be read at every
// report, and a run's false-alarm rate stays at most alpha however many
// reports it has.
//
//   double p = 1.0;  // before the first report
//   for (each report) p = SampleRatioPValue(exposures, shares, p);
//   if (p < alpha) { /* assignment or logging is broken */ }
//
// The e-value, for arm a: under the null a unit of epoch e lands in a with
// probability p_ea; the alternative tilts its log-odds by delta, giving
// P = p e^delta / (1 - p + p e^delta), with likelihood ratio
//   LR_a(delta) = exp(delta n_a - sum_e n_e log(1 - p_ea + p_ea e^delta))
// (n_a the arm's exposures, n_e the epoch's). Mixing delta over
// Normal(0, kSampleRatioTau^2) gives E_a, a test martingale in the
// unit-arrival filtration for any predictable shares (Robbins 1970, "Statistical
// methods related to the law of the iterated logarithm"; Howard et al. 2021,
// "Time-uniform, nonparametric, nonasymptotic confidence sequences"). E is the
// mean of E_a over the arms: an average of test martingales on one
// filtration is one. E depends on the per-(epoch, arm) counts only, so
// computing it from the counts at each report is exact.

#ifndef ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_
#define ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_

#include <cstdint>
#include <vector>

namespace allot::internal {

// The prior sd of the log-odds imbalance delta. Losing a fraction f of one
// arm's units tilts its log-odds by log(1 - f): -0.051 for the 5% loss the
// check is designed to catch. The mixture's crossing point is lowest when
// I tau^2 is ~15 (I the Fisher information sum_e n_e p(1 - p)); for 50
// epochs of 900 units with an arm's share moving from 0.2 to 0.8, I ~ 9,600,
// which puts the best tau at 0.03-0.05, and the normal approximation of the
// power at the last look is flat there (92.6% at alpha 0.01 for tau 0.04,
// 92.3% for 0.05, 92.6% for 0.03). Smaller imbalances need more units; the
// mixture loses only a log factor when tau is off by a factor of a few.
inline constexpr double kSampleRatioTau = 0.04;

// Returns log E, the log of the sample-ratio e-value of exposures[e][a]
// against shares[e][a] (each epoch's shares sum to 1), averaged over all
// arms (the number of arms is the longest row): +infinity when an arm
// whose share is 0 has exposures, 0 (E = 1) when there is nothing to test
// (no exposures, or every epoch with exposures gives one arm all the
// traffic). Epochs without exposures add nothing. Finite for any counts
// (no overflow for E beyond 1e300).
// REQUIRES: shares.size() >= exposures.size() and each shares[e] at least
// as long as exposures[e] (extra epochs or arms are ignored).
double SampleRatioLogEValue(const std::vector<std::vector<int64_t>>& exposures,
                            const std::vector<std::vector<double>>& shares);

// Returns the always-valid p-value after this look: min(previous,
// 1 / E), E the e-value above (0 when an arm whose share is 0 has
// exposures, 1 when there is nothing to test and previous is 1). Pass the
// previous look's result as `previous` (1 at the first look), so that the
// p-value is the running minimum over the looks; a NaN previous counts as 1.
double SampleRatioPValue(const std::vector<std::vector<int64_t>>& exposures,
                         const std::vector<std::vector<double>>& shares,
                         double previous = 1.0);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_
