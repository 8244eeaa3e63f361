// Copyright 2026 The allot Authors.
//
// The report of one due reallocation: what the engine knew, what it decided
// and why. Reports are plain values; ReportsToJson writes them in the format
// `allot replay` puts in reports.json.

#ifndef ALLOT_REPORT_H_
#define ALLOT_REPORT_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace allot {

// One arm's figures in a report. Means and intervals are of the metric:
// conversion rate for binary metrics, mean value per unit for continuous.
struct ArmReport {
  std::string id;
  // Matured units (window closed) outside the holdout, and the sum of their
  // outcomes (conversions, or the summed values).
  int64_t units = 0;
  double outcomes = 0;
  // Simpson-safe estimate: per-epoch means mixed with each epoch's share of
  // all matured units (see statistics/arm_estimates.h); with the 95%
  // credible interval of its posterior.
  double mean = 0;
  double ci95_low = 0;
  double ci95_high = 0;
  // The pooled estimate (all epochs lumped), for comparison.
  double pooled_mean = 0;
  // Posterior probability of being best, and the expected loss of choosing
  // this arm (in metric units), from the Simpson-safe posteriors.
  double p_best = 0;
  double expected_loss = 0;
  // All exposures so far outside the holdout, matured or not.
  int64_t exposures = 0;
  // Anytime-valid bounds (README "Decisions") of this arm's advantage over
  // its strongest rival, min over other arms of (this mean - theirs), in
  // the metric's direction (positive: better), at the experiment's
  // [decision] alpha. NaN in burn-in. The arm wins when advantage_low
  // exceeds min_effect; it is eliminated (some arm is surely better) when
  // advantage_high < 0.
  double advantage_low = std::numeric_limits<double>::quiet_NaN();
  double advantage_high = std::numeric_limits<double>::quiet_NaN();
  bool eliminated = false;
  // The guardrail that stopped this arm (at this report or an earlier one):
  // its weight is 0 from the reallocation that follows the stop; its
  // exposed units keep their windows. Empty while it runs.
  std::string stopped_by;
  // Retired (Engine::RetireArm): out of P(best), decisions and the policy,
  // weight 0; its figures stay.
  bool retired = false;
};

// One guardrail's figures in a report (README "Guardrails").
struct GuardrailReport {
  std::string id;
  // Per arm: the Simpson-safe mean of the guardrail metric and its matured
  // units.
  std::vector<double> mean;
  // The arm with the best guardrail mean (the best-guarded arm), or -1 in
  // burn-in.
  int best = -1;
  // Per arm: anytime-valid bounds of its excess harm against the
  // best-guarded arm, in metric units: (how much worse it is) - (the harm
  // allowed). Relative harm r: m_arm - (1 + r) m_best for a lower-is-better
  // metric, (1 - r) m_best - m_arm for a higher-is-better one; absolute h:
  // the difference minus h. An arm whose excess_low > 0 is surely harmful
  // and is stopped. NaN in burn-in, for the best arm itself, and for a
  // tracked metric (no harm set).
  std::vector<double> excess_low;
  std::vector<double> excess_high;
};

struct ReallocationReport {
  std::string experiment;
  // The epoch in force after this report (a new one when reallocated).
  int64_t epoch = 0;
  // The grid time at which the reallocation was due.
  absl::Time time;
  bool reallocated = false;
  // Why the weights changed or were kept ("thompson", "arm \"b\" has 12
  // matured units, below the minimum of 100", ...).
  std::string reason;
  std::vector<double> weights_before;
  std::vector<double> weights_after;
  std::vector<ArmReport> arms;
  // One per [[guardrails]] entry, in the experiment's order.
  std::vector<GuardrailReport> guardrails;
  // Sample-ratio check: the always-valid p-value of a sequential test of
  // exposures per arm against the bucket shares in force in each epoch (a
  // mixture e-value after Lindon and Malek, NeurIPS 2022; see README.md).
  // It is the running minimum over the experiment's reports, so it never
  // rises, and the chance that it ever falls below alpha, however often it
  // is read, is at most alpha when assignment and logging are sound. Small
  // values mean assignment or logging is broken.
  double srm_p = 1.0;
  // Outcomes not counted, since the experiment was created: after the unit's
  // window, for units never exposed, or a binary unit's second conversion.
  int64_t late_outcomes = 0;
  int64_t unknown_outcomes = 0;
  int64_t duplicate_outcomes = 0;
  // Matured holdout units and their outcomes (not part of the arms above).
  int64_t holdout_units = 0;
  double holdout_outcomes = 0;
  // Index of the winning arm, or -1 to continue. By the experiment's
  // [decision] rule: "confidence_sequence" (the default), the arm whose
  // advantage_low exceeds min_effect, so that a wrong winner has
  // probability at most alpha however often reports are read; "p_best",
  // P(best) >= 0.999 with expected-loss thresholds (README "Decisions"),
  // tuned by simulation, without an error guarantee.
  int winner = -1;
};

// Returns the reports as a JSON array, one object per report:
//   {"experiment", "epoch", "time", "reallocated", "reason",
//    "weights_before": {arm: w}, "weights_after": {arm: w},
//    "arms": {arm: {"units", "outcomes", "mean", "ci95": [lo, hi],
//                   "pooled_mean", "p_best", "expected_loss", "exposures",
//                   "advantage": [lo, hi], "eliminated", "stopped_by"}},
//    "guardrails": {id: {"best": arm or null, "arms": {arm: {"mean",
//                   "excess": [lo, hi]}}}},
//    "srm_p", "late_outcomes", "unknown_outcomes", "duplicate_outcomes",
//    "holdout_units", "holdout_outcomes", "winner": arm id or null}
std::string ReportsToJson(absl::Span<const ReallocationReport> reports);

}  // namespace allot

#endif  // ALLOT_REPORT_H_
