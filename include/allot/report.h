// Copyright 2026 The allot Authors.
//
// The report of one due reallocation: what the engine knew, what it decided
// and why. Reports are plain values; ReportsToJson writes them in the format
// `allot replay` puts in reports.json.

#ifndef ALLOT_REPORT_H_
#define ALLOT_REPORT_H_

#include <cstdint>
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
  // Index of the winning arm, or -1 to continue. A winner needs
  // P(best) >= 0.999, an expected loss below 1% of its mean, and every other
  // arm's expected loss at least that 1%: a rule tuned by simulation to keep
  // false winners rare when every report is read (README, "The winner rule"); it
  // is not an anytime-valid error guarantee.
  int winner = -1;
};

// Returns the reports as a JSON array, one object per report:
//   {"experiment", "epoch", "time", "reallocated", "reason",
//    "weights_before": {arm: w}, "weights_after": {arm: w},
//    "arms": {arm: {"units", "outcomes", "mean", "ci95": [lo, hi],
//                   "pooled_mean", "p_best", "expected_loss", "exposures"}},
//    "srm_p", "late_outcomes", "unknown_outcomes", "duplicate_outcomes",
//    "holdout_units", "holdout_outcomes", "winner": arm id or null}
std::string ReportsToJson(absl::Span<const ReallocationReport> reports);

}  // namespace allot

#endif  // ALLOT_REPORT_H_
