// Copyright 2026 The allot Authors.
//
// Anytime-valid decisions: confidence sequences for every pair of arms'
// difference of means, valid however often a report is read, and the
// winner and eliminations they imply ([decision] rule =
// "confidence_sequence", the default; README "Decisions").
//
//   ArmContrasts c = ConfidenceSequences(means, variances, correlation,
//                                        unit_variance, {.alpha = 0.05});
//   if (c.winner >= 0) declare(c.winner);
//
// Method. An estimate d_t of a difference with variance v_t, built from
// every matured unit so far, is (asymptotically) Brownian in its
// information I_t = 1 / v_t: S_t = I_t (d_t - d) has independent Normal(0,
// dI) increments, also under adaptive allocation, because each epoch's
// allocation is fixed before its units arrive (a martingale CLT). Mixing
// the likelihood ratio exp(theta S - theta^2 I / 2) over theta ~ Normal(0,
// tau^2) gives a nonnegative martingale
//   M_t = (1 + tau^2 I_t)^(-1/2) exp(tau^2 S_t^2 / (2 (1 + tau^2 I_t))),
// and Ville's inequality P(sup_t M_t >= 1 / alpha) <= alpha turns it into
// the two-sided confidence sequence
//   |d_t - d| < sqrt(v (v + tau^2) / tau^2 (log(1 + tau^2 / v) + 2 log(1 / alpha)))
// that covers d at every t at once with probability >= 1 - alpha (Robbins,
// Ann. Math. Statist. 41 (1970) 1397-1409, the normal mixture; Howard,
// Ramdas, McAuliffe and Sekhon, Ann. Statist. 49 (2021) 1055-1080, section
// 3.5; with the variance estimated from the data it is the asymptotic
// confidence sequence of Waudby-Smith, Arnold, Wu, Howard and Ramdas,
// "Time-uniform central limit theory and asymptotic confidence sequences",
// Ann. Statist. 52 (2024), Theorem 2.2).
//
// The estimates are the Simpson-safe ones of the configured [estimate]
// method (epoch-adjusted by default: a difference of arm effects, which the
// epoch effects leave unbiased whatever the base rates do), without a
// half-life: with discounting, information can shrink and no fixed
// difference is being estimated.
//
// tau sets where the bound is tightest: tau^2 = c sigma^2 2 / n*, with
// sigma^2 the per-unit variance, n* = horizon_units per arm and c =
// 2 log(1/alpha') + log(1 + 2 log(1/alpha')) (Howard et al. 2021, eq. (3.12)
// and the discussion after it). Any tau gives a valid sequence; tau only
// trades early against late width.
//
// Multiplicity: a decision reads the K (K - 1) / 2 pairwise sequences
// together, so each is built at alpha' = alpha / (K (K - 1) / 2)
// (Bonferroni): all of them cover at once with probability >= 1 - alpha,
// so a false winner or a wrong elimination has probability <= alpha.

#ifndef ALLOT_SRC_STATISTICS_CONFIDENCE_SEQUENCE_H_
#define ALLOT_SRC_STATISTICS_CONFIDENCE_SEQUENCE_H_

#include <vector>

#include "allot/metric.h"

namespace allot::internal {

// Returns the half-width of the normal-mixture confidence sequence above
// for an estimate of variance `variance` (> 0), mixture variance
// `mixture_variance` (> 0) and level `alpha` in (0, 1). +inf when the
// variance is not positive and finite.
double MixtureRadius(double variance, double mixture_variance, double alpha);

struct ContrastOptions {
  Direction direction = Direction::kHigherIsBetter;
  double alpha = 0.05;           // in (0, 1)
  double min_effect = 0;         // >= 0, in metric units
  double horizon_units = 10000;  // > 0: matured units per arm where tightest
};

// The confidence sequences of one report. Advantages are in the metric's
// direction: positive means better (higher, or lower for lower-is-better).
// Immutable; safe to share.
struct ArmContrasts {
  // [a][b]: bounds of arm a's advantage over arm b (low[a][a] = high[a][a]
  // = 0).
  std::vector<std::vector<double>> low;
  std::vector<std::vector<double>> high;
  // Bounds of each arm's advantage over its strongest rival, min over b of
  // (mean_a - mean_b): [min_b low[a][b], min_b high[a][b]].
  std::vector<double> advantage_low;
  std::vector<double> advantage_high;
  // An arm is eliminated when some other arm is surely better:
  // advantage_high < 0.
  std::vector<bool> eliminated;
  // The arm whose advantage over every other arm surely exceeds min_effect
  // (advantage_low > min_effect), or -1.
  int winner = -1;
};

// Returns the confidence sequences of the arms' pairwise differences from
// their means (K of them), the variances of those means, their correlation
// (K x K, or empty: independent) and the per-unit variance of the metric
// (`unit_variance`, > 0; sets tau). Pairs whose difference has no positive
// finite variance get infinite bounds (never a winner, never eliminated).
// REQUIRES: means.size() == variance_of_mean.size() >= 2; correlation
// empty or K x K.
ArmContrasts ConfidenceSequences(const std::vector<double>& means,
                                 const std::vector<double>& variance_of_mean,
                                 const std::vector<std::vector<double>>& correlation,
                                 double unit_variance, const ContrastOptions& options);

// Guardrails (README "Guardrails"): is an arm worse than the best-guarded
// arm (the best guardrail mean) by more than the harm allowed? For each arm
// j and the best arm b, the linear contrast
//   excess = s (m_j - lambda m_b) - offset
// (s = +1 for a lower-is-better metric, -1 for higher-is-better; relative
// harm r: lambda = 1 + s r, offset 0; absolute harm h: lambda = 1, offset
// h) gets the confidence sequence above, its variance
// v_j + lambda^2 v_b - 2 lambda rho sqrt(v_j v_b). An arm whose bounds lie
// above 0 is surely harmful. Each contrast is built at `alpha` as given:
// the caller divides its alpha over the contrasts it reads together.
struct GuardrailExcess {
  int best = -1;                    // the best-guarded arm
  std::vector<double> excess_low;   // NaN for `best`
  std::vector<double> excess_high;  // NaN for `best`
  std::vector<bool> harmful;        // excess_low > 0
};

struct HarmOptions {
  Direction direction = Direction::kLowerIsBetter;  // the metric's good way
  bool relative = true;  // max_harm is a fraction of the best arm's mean
  double max_harm = 0;   // >= 0
  double alpha = 0.05;   // for each contrast
  double horizon_units = 10000;
};

// Returns the excess harm of every arm against the best-guarded one from
// the arms' guardrail means, their variances, correlation (empty:
// independent) and the metric's per-unit variance.
// REQUIRES: means.size() == variance_of_mean.size() >= 2.
GuardrailExcess ExcessHarm(const std::vector<double>& means,
                           const std::vector<double>& variance_of_mean,
                           const std::vector<std::vector<double>>& correlation,
                           double unit_variance, const HarmOptions& options);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_CONFIDENCE_SEQUENCE_H_
