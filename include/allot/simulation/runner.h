// Copyright 2026 The allot Authors.
//
// Runs a scenario: every policy on every replicate's world, each through a
// real allot::Engine with the calls a service makes (Assign on each arrival,
// RecordOutcome when a conversion arrives, and for each guardrail event or
// value with the guardrail's id at the same moment, Advance as simulated
// time crosses each grid point), and collects per-replicate figures.
//
//   absl::StatusOr<std::vector<allot::sim::ReplicateOutcome>> outcomes =
//       allot::sim::RunScenario(scenario, {.threads = 8});
//
// Replicates run in parallel; each one's figures depend only on the
// scenario, its seed and the replicate's index, and are stored by index, so
// the results are identical whatever the thread count.

#ifndef ALLOT_SIMULATION_RUNNER_H_
#define ALLOT_SIMULATION_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/world.h"

namespace allot::sim {

// Cumulative regret is sampled at this many evenly spaced times: at
// horizon * (j + 1) / kRegretCurvePoints for j = 0, 1, ...
inline constexpr int kRegretCurvePoints = 200;

// A policy run records at most this many epochs (PolicyOutcome::epochs,
// epochs.csv, the weights chart); later ones are counted in
// PolicyOutcome::epochs_dropped, not kept, so that a run of a million
// reallocations keeps its memory bounded. Every other figure is a running
// sum over all reports.
inline constexpr int64_t kMaxEpochRecords = 5000;

// One epoch of an experiment: the weights in force from `time_us` on and
// the P(best) of the report that set them (empty for epoch 0 and for the
// epochs an arm's joining or retirement starts). Weights are in the
// engine's arm order (EngineArmOrder, then churned arms), one per arm
// known at the time.
struct EpochRecord {
  int64_t epoch = 0;
  int64_t time_us = 0;
  std::vector<double> weights;
  std::vector<double> p_best;
};

// One policy's figures on one replicate. Shares are in [0, 1].
struct PolicyOutcome {
  int64_t arrivals = 0;   // Assign calls
  int64_t exposures = 0;  // new units
  // Expected outcomes lost against serving the best arm of each moment
  // (the best of the arms active when the unit arrived), summed over
  // exposures.
  double regret = 0;
  // Outcomes of the exposed units: conversions, or the summed values.
  double conversions = 0;
  double share_best = 0;  // share of exposures on a best arm of their moment
  // The same over the exposures after the last change of an arm's truth;
  // NaN when no arm changes.
  double share_best_after_change = std::numeric_limits<double>::quiet_NaN();
  // Sum over reallocations of the share of units whose arm changed across
  // it: of the returning arrivals in the epoch a reallocation starts whose
  // previous visit was in the epoch before, the share served another arm
  // than then. A stateless table moves the total-variation distance between
  // the two epochs' weights; windows (units held by the ledger) and pinning
  // move fewer.
  double moved_share = 0;
  // Sum over reallocations of the total-variation distance between the
  // weights before and after.
  double tv_bound = 0;
  double ever_moved_share = 0;  // share of units ever served two arms
  // Hours from the start to the first report naming the truly best arm the
  // winner; NaN when none did.
  double time_to_winner_hours = std::numeric_limits<double>::quiet_NaN();
  // The first report naming a winner named the truly best arm of its
  // moment (winner_correct) or another arm, or no arm was better than all
  // others (wrong_winner). Both false when no report named a winner. With
  // guardrail truths that harm some arm, the right winner is the best
  // harmless arm (the best one the user's guardrails allow).
  bool winner_correct = false;
  bool wrong_winner = false;
  bool srm_alarm = false;  // some report had a sample-ratio p < kSrmAlarmP
  // Of the reports past burn-in (every arm at its minimum of matured units)
  // at moments with a single best arm, the share whose leading arm by the
  // policy's own estimate (`mean`: [estimate] method, epoch-adjusted by
  // default), and by the pooled one, is not that arm.
  // NaN when there were no such reports.
  double simpson_wrong_share = std::numeric_limits<double>::quiet_NaN();
  double pooled_wrong_share = std::numeric_limits<double>::quiet_NaN();
  // Per arm: hours from the start to the report that stopped it by a
  // guardrail (ArmReport::stopped_by); NaN when none did. Empty without
  // guardrails.
  std::vector<double> stop_hours;
  std::vector<EpochRecord> epochs;   // at most kMaxEpochRecords
  int64_t epochs_dropped = 0;        // epochs beyond kMaxEpochRecords
  std::vector<double> regret_curve;  // kRegretCurvePoints cumulative values
  // Arms that come and go: the churn replacements made, and whether churn
  // stopped at the engine's cap of kMaxArms arms (the same for every
  // policy of a replicate: churn draws are the world's).
  int64_t churn_changes = 0;
  bool churn_at_cap = false;
  // What the engine counted by its last report: matured trials (units, over
  // all arms) and their outcomes (undiscounted).
  int64_t counted_trials = 0;
  double counted_outcomes = 0;
};

// Sample-ratio p-values below this raise an alarm. The p-value is
// always-valid, so a replicate's chance of an alarm over all its reports is
// at most this level when nothing is broken (measured on A/A streams with a
// look at every epoch: 0.24-0.36%). 0.01 rather than 0.001: unlimited looks
// cost power, and at 0.001 a 5% loss of one arm's units over 50 epochs of
// 900 units is caught in 84% of runs, at 0.01 in 95% (README.md,
// "The sample-ratio check").
inline constexpr double kSrmAlarmP = 0.01;

// Every policy's figures on one replicate, in the scenario's policy order.
struct ReplicateOutcome {
  std::vector<PolicyOutcome> policies;
};

struct RunOptions {
  int threads = 1;  // worker threads, >= 1
  // When set, arrivals simulated so far are added to it as the run goes
  // (for a progress line).
  std::atomic<int64_t>* units_done = nullptr;
};

// Runs policy `policy` of the scenario on `world` (replicate `replicate`)
// through a fresh Engine. Errors: whatever the engine returns (a bug: the
// scenario was validated), prefixed with the replicate and policy.
absl::StatusOr<PolicyOutcome> RunPolicy(const World& world, int policy, int replicate,
                                        std::atomic<int64_t>* units_done = nullptr);

// Runs every policy on replicates [0, scenario.replicates). Errors:
// InvalidArgument as ValidateScenario or when threads < 1; otherwise as
// RunPolicy (the error of the lowest failing replicate).
absl::StatusOr<std::vector<ReplicateOutcome>> RunScenario(const Scenario& scenario,
                                                          const RunOptions& options);

}  // namespace allot::sim

#endif  // ALLOT_SIMULATION_RUNNER_H_
