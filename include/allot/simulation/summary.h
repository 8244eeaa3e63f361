// Copyright 2026 The allot Authors.
//
// Figures over replicates: per policy, the mean of each per-replicate figure
// with a 95% interval, and the rates of winners and sample-ratio alarms;
// written as summary.json, summary.md and epochs.csv.
//
//   allot::sim::Summary summary = allot::sim::Summarize(scenario, outcomes);
//   std::string json = allot::sim::SummaryJson(summary);
//   std::string table = allot::sim::SummaryMarkdown(summary);

#ifndef ALLOT_SIMULATION_SUMMARY_H_
#define ALLOT_SIMULATION_SUMMARY_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"

namespace allot::sim {

// A mean over replicates with its 95% interval.
struct Estimate {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  int64_t n = 0;  // values that went in
};

// Returns the mean of the non-NaN values and the Student-t 95% interval of
// that mean (mean +- t(0.975, n - 1) s / sqrt(n)); the interval is
// [mean, mean] for one value, and everything NaN for none.
Estimate MeanWithInterval(absl::Span<const double> values);

// A share of replicates with its Wilson score 95% interval (Wilson, JASA 22
// (1927) 209-212), which keeps its coverage near 0 and 1 where the Normal
// interval collapses.
struct Proportion {
  int64_t count = 0;
  int64_t n = 0;
  double rate = std::numeric_limits<double>::quiet_NaN();  // count / n
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

// Returns count / n with its Wilson 95% interval; all NaN when n is 0.
Proportion WilsonInterval(int64_t count, int64_t n);

// The Kaplan-Meier median of a time to an event, with replicates without
// the event censored at the horizon (Kaplan and Meier, JASA 53 (1958)
// 457-481), and the distribution-free 95% interval of a median from the
// binomial order statistics (exact here: every censoring is at the
// horizon, after every observed time). NaN where not reached (over half
// censored: the median is beyond the horizon).
struct Median {
  double median = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  int64_t events = 0;
  int64_t censored = 0;
};

// Returns the median of `times` (NaN: censored at the horizon).
Median KaplanMeierMedian(absl::Span<const double> times);

struct PolicySummary {
  std::string name;
  std::string kind;  // "thompson", "fixed", ...
  Estimate regret;
  Estimate conversions;
  Estimate lift_vs_fixed;  // (conversions - baseline's) / |baseline's|
  // Paired differences from the fixed baseline on the same replicate.
  Estimate regret_vs_fixed;
  Estimate conversions_vs_fixed;
  Estimate share_best;
  // The share on a best arm of the exposures after the last change of an
  // arm's truth (scenario `changes`); NaN without changes.
  Estimate share_best_after_change;
  Estimate moved_share;
  Estimate tv_bound;
  Estimate ever_moved_share;
  Estimate time_to_winner_hours;  // over replicates that found one
  // Hours to a correct winner, replicates without one censored.
  Median hours_to_winner;
  Estimate simpson_wrong_share;  // see PolicyOutcome
  Estimate pooled_wrong_share;
  int64_t replicates_without_winner = 0;
  // Replicates whose first winner was the truly best arm; another arm, or
  // any arm when none was best (a false winner); with a sample-ratio alarm.
  Proportion winner_correct;
  Proportion wrong_winner;
  Proportion srm_alarm;
  // Guardrail stops, when some guardrail has a harm (Summary::guardrails):
  // replicates in which some harmless arm was stopped (false_stop), and in
  // which every harmful arm was stopped by the horizon (correct_stop; n is 0
  // when no arm is harmful). Harmful: HarmfulArms(scenario).
  Proportion false_stop;
  Proportion correct_stop;
  // Hours until every harmful arm was stopped, replicates where one ran to
  // the horizon censored.
  Median hours_to_stop;
  double mean_arrivals = 0;   // per replicate
  double mean_exposures = 0;  // per replicate
  // Mean cumulative regret at horizon * (j + 1) / kRegretCurvePoints.
  std::vector<double> mean_regret_curve;
};

struct Summary {
  std::string scenario;
  uint64_t seed = 0;
  int replicates = 0;
  double horizon_hours = 0;
  bool binary = true;    // binary metric (conversions) or continuous (values)
  std::string baseline;  // the fixed baseline's name
  // Some guardrail can stop an arm; the stop figures above are set.
  bool guardrails = false;
  std::vector<std::string> harmful_arms;  // ids, by the truths
  std::vector<PolicySummary> policies;    // the scenario's order
  // [churn]: the mean number of replacements per replicate and the
  // replicates in which churn stopped at the engine's kMaxArms cap (from
  // the first policy: churn draws are the same for every policy).
  bool churn = false;
  double churn_mean_changes = 0;
  int64_t churn_replicates_at_cap = 0;
};

// Returns the summary of `outcomes` (one per replicate, in replicate order).
// REQUIRES: outcomes come from RunScenario(scenario, ...).
Summary Summarize(const Scenario& scenario, absl::Span<const ReplicateOutcome> outcomes);

// Returns summary.json: {"scenario", "seed", "replicates", "horizon_hours",
// "baseline", "policies": {NAME: {"kind", "units", "exposures", "regret",
// "conversions", "lift_vs_fixed", "share_best", "moved_share", "tv_bound",
// "ever_moved_share", "regret_vs_fixed", "conversions_vs_fixed": {"mean",
// "ci95": [lo, hi]}, "time_to_winner_hours": {"mean", "ci95",
// "replicates_without", "median", "median_ci95"}, "winner_correct_rate",
// "wrong_winner_rate", "srm_alarm_rate" and each's "..._ci95" (Wilson),
// "leader_wrong_share": {"simpson",
// "pooled": {"mean", "ci95"}}}}}. With guardrails that can stop an arm, also
// "harmful_arms": [ids] at the top and per policy "false_stop_rate",
// "correct_stop_rate" with their "..._ci95" and "hours_to_stop": {"median",
// "median_ci95", "replicates_without"}. With [churn], also "churn":
// {"mean_changes", "replicates_at_cap"} at the top. Non-finite numbers are
// null.
std::string SummaryJson(const Summary& summary);

// Returns summary.md: a heading, one table row per policy, a second table
// comparing each policy's own estimate's and the pooled estimate's leading
// arms, and with guardrails that can stop an arm a third one of the stops.
std::string SummaryMarkdown(const Summary& summary);

// Returns epochs.csv: replicate,policy,epoch,time,hours, then w:ARM and
// p_best:ARM per arm (p_best empty for epoch 0).
std::string EpochsCsv(const Scenario& scenario,
                      absl::Span<const ReplicateOutcome> outcomes);

}  // namespace allot::sim

#endif  // ALLOT_SIMULATION_SUMMARY_H_
