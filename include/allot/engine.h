// Copyright 2026 The allot Authors.
//
// The engine: experiments, their assignment plane and their learning plane
// behind one thread-safe object, the way a model-routing service embeds it.
// Time is always passed in; the engine has no clock of its own.
//
//   allot::Engine engine;
//   absl::Status s = engine.CreateExperiment(config);
//   s = engine.Start("support-bot-model", start);
//   absl::StatusOr<allot::Assignment> a =
//       engine.Assign("support-bot-model", "conv-17", now);
//   absl::StatusOr<allot::OutcomeDisposition> o =
//       engine.RecordOutcome("support-bot-model", "conv-17", later, 1.0);
//   absl::StatusOr<std::vector<allot::ReallocationReport>> reports =
//       engine.Advance(later);
//
//   // A router keeps a handle: no lookup by id on its hot path.
//   absl::StatusOr<allot::ExperimentHandle> h = engine.Handle("support-bot-model");
//   a = h->Assign("conv-18", now);
//
// Time: each experiment keeps the time of its last Advance; events stamped
// before it are refused as time going backward. Between two Advance calls,
// events may arrive in any order (concurrent request threads). A
// reallocation takes effect when the Advance that performs it runs: until
// then, new units are served by the epoch in force, so a service calls
// Advance on a timer (every minute, say) and replays call it in event order.

// Errors and the journal: a call that returns an error has changed nothing,
// with one exception. With a journal attached, a state change is made and
// then its record appended; when that append fails (a full or failing disk)
// the call returns DataLoss although its change took effect in memory, and
// the engine fails closed: every later state-changing call returns
// FailedPrecondition naming the journal error, so no state exists that the
// journal cannot reproduce. Reads (Reports, History, OpenUnits, State) keep
// working. Recover from the latest snapshot and the journal to go on.

#ifndef ALLOT_ENGINE_H_
#define ALLOT_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "allot/allocation_history.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "allot/types.h"

namespace allot {

class Journal;
class ExperimentHandle;

// The largest number of schedule grid points one Advance may cross in one
// experiment. Each grid point builds a report (and may reallocate), so an
// Advance to a far-off time (a 9999-12-31 sentinel, a start years before the
// events) would otherwise run until memory runs out. 100,000 grid points is
// 68 years at a 6-hour interval, 69 days at one minute; a service that
// calls Advance on a timer never comes near it.
inline constexpr int64_t kMaxGridPointsPerAdvance = 100000;

// The largest magnitude of a continuous outcome value. Sums of squares of
// such values over any number of units and outcomes stay far from double
// overflow (1e15^2 = 1e30), so an estimate can never turn to infinity or
// NaN; larger values are refused rather than freezing the weights.
inline constexpr double kMaxOutcomeMagnitude = 1e15;

namespace internal {
class EngineAccess;
class EngineImpl;
class ExperimentRuntime;
}  // namespace internal

struct EngineOptions {
  // When set, every state-changing call is appended to this journal (not
  // owned; it must outlive the engine) before the call returns. State
  // changes are then serialized, so the journal's order is the state's.
  Journal* journal = nullptr;
  // How many reports each experiment keeps for Reports() (and snapshots):
  // 0 (the default) keeps every report; N > 0 keeps only its last N, so a
  // long-running experiment's memory does not grow with its reports.
  // Advance still returns every report it produced, and FinalReport-based
  // figures (Delete) do not depend on it. Negative values count as 0.
  int64_t reports_kept = 0;
};

// Thread-safe. Assign and RecordOutcome on different units run in parallel;
// Advance may run concurrently with them.
class Engine {
 public:
  explicit Engine(const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Adds an experiment. Errors: InvalidArgument as ValidateExperimentConfig;
  // AlreadyExists when the id is taken (also by a deleted experiment whose
  // final report is kept).
  absl::Status CreateExperiment(const ExperimentConfig& config);

  // Starts the experiment at `at`: epoch 0 begins with the initial weights.
  // At most one experiment runs per non-empty surface
  // (ExperimentConfig::surface): starting a second is refused until the
  // first is stopped or deleted. Concurrent Starts on one surface are
  // serialized, so exactly one can win; experiments without a surface never
  // conflict. Errors: InvalidArgument when `at` is infinite; NotFound;
  // FailedPrecondition unless it was just created, or when its surface
  // already has a running experiment (`surface "support-bot" already has
  // running experiment "exp-a"; stop it first`). On error nothing changes
  // and nothing is journaled.
  absl::Status Start(absl::string_view experiment, absl::Time at);

  // Stops it at `at`: from then on new units get the fallback arm and are not
  // recorded, exposed units keep their arm until their window closes, and no
  // reallocation happens; its surface is free for another experiment.
  // Errors: NotFound; FailedPrecondition unless it is running;
  // InvalidArgument when `at` is before its last Advance.
  absl::Status Stop(absl::string_view experiment, absl::Time at);

  // Adds an arm to the running experiment at `now`: a new epoch begins at
  // `now` (a reallocation outside the grid, reason "arm added") in which the
  // new arm takes its share from every other arm in proportion to its
  // weight, so the units that move are exactly the new arm's share (the
  // least any table can move) and no other unit changes arm. The share is
  // `arm.initial_share`, or the policy's share for the arm under its prior
  // given the others' posteriors (floor and max_shift applied). Until the
  // arm has schedule.min_units_per_arm matured units its share is held
  // while the other arms keep learning. Errors: NotFound; FailedPrecondition
  // unless running; InvalidArgument for a bad or taken id (retired ids
  // included), a bad payload or initial_share, kMaxArms arms reached, a
  // floor that the new arm count makes infeasible, or `now` before the last
  // Advance or not after the latest epoch's start (one change per epoch).
  // The change is reported (Reports) like a reallocation. Call Advance(now)
  // first: a grid point before `now` reached only later cannot reallocate.
  // On error nothing changes.
  absl::Status AddArm(absl::string_view experiment, const ArmConfig& arm, absl::Time now);
  // Retires an arm at `now`: a new epoch begins (reason "arm retired") in
  // which its buckets go to the remaining arms in proportion to their
  // weights (the least movement). It leaves P(best), the policy and
  // decisions; its data stays in reports, marked retired. See RetireMode
  // for its units. A retired id never comes back. Errors: NotFound (unknown
  // experiment or arm); FailedPrecondition unless running, or when the arm
  // is already retired, is the holdout's baseline, or is the last active
  // arm; InvalidArgument when `now` is before the last Advance or not after
  // the latest epoch's start. On error nothing changes.
  absl::Status RetireArm(absl::string_view experiment, absl::string_view arm,
                         absl::Time now, RetireMode mode);
  // Removes the experiment (a running one frees its surface); its final
  // report (figures as of the last grid point reached by Advance) stays
  // available from Reports(). Handles to it answer NotFound from then on.
  // Errors: NotFound.
  absl::Status Delete(absl::string_view experiment);

  // Returns a handle to the experiment for a router's hot path: its Assign
  // and RecordOutcome do what this engine's do, without looking the
  // experiment up by id. Errors: NotFound.
  absl::StatusOr<ExperimentHandle> Handle(absl::string_view experiment) const;

  // Returns the unit's arm. The first call for a unit records its exposure
  // at `now`; later calls within its conversion window return the same arm
  // and epoch. With `unit_start`, the unit is pinned to the epoch in force
  // at min(unit_start, now), so it never moves. Errors: NotFound (unknown
  // experiment), FailedPrecondition (not started, or `now` before its start),
  // InvalidArgument (empty or oversized unit, `now` before the last Advance).
  absl::StatusOr<Assignment> Assign(absl::string_view experiment, absl::string_view unit,
                                    absl::Time now,
                                    std::optional<absl::Time> unit_start = std::nullopt);

  // Assigns a batch of units of one experiment: results[i] is what
  // Assign(experiment, requests[i].unit, requests[i].now,
  // requests[i].unit_start) would return, the calls made in order (a unit
  // given twice is exposed once), journaled in order. Faster than a call
  // per unit on a large ledger: each unit's cache misses are started while
  // the units before it are served. Errors: NotFound (unknown experiment),
  // InvalidArgument (`results` not the size of `requests`); then nothing
  // changes. A request's own error is its result. Thread-safe like Assign:
  // without a journal, other threads' calls may run between two requests
  // of a batch; with one, the batch is journaled as one uninterrupted run.
  absl::Status AssignBatch(absl::string_view experiment,
                           absl::Span<const AssignRequest> requests,
                           absl::Span<absl::StatusOr<Assignment>> results);

  // Reports an outcome of `unit` at `time` for `metric` (the primary
  // metric when empty or its [metric] id; else a guardrail's id): a
  // conversion (value 1; 0 is accepted and changes nothing) for binary
  // metrics, a finite value of at most kMaxOutcomeMagnitude in magnitude
  // for continuous ones, summed within the window. Returns how it was
  // counted. Errors: NotFound (unknown experiment or metric),
  // InvalidArgument (non-finite value or one beyond kMaxOutcomeMagnitude,
  // binary value other than 0 or 1, empty unit, `time` before the unit's
  // exposure or before the last Advance, a composite primary). On error
  // nothing changes.
  absl::StatusOr<OutcomeDisposition> RecordOutcome(absl::string_view experiment,
                                                   absl::string_view unit,
                                                   absl::Time time, double value,
                                                   absl::string_view metric = "");

  // Performs, in time order, every reallocation due up to `now` in every
  // running experiment and returns their reports (experiments in id order).
  // Errors: InvalidArgument when `now` is infinite or before an earlier
  // Advance, or when some experiment would cross more than
  // kMaxGridPointsPerAdvance grid points (the message names it, the next
  // due time, `now`, the interval and the count); then nothing changes.
  // Advance in steps to go further.
  absl::StatusOr<std::vector<ReallocationReport>> Advance(absl::Time now);

  // Returns every report of the experiment so far, or its last
  // EngineOptions::reports_kept of them (after Delete, its final report).
  // Errors: NotFound.
  absl::StatusOr<std::vector<ReallocationReport>> Reports(
      absl::string_view experiment) const;

  // Returns the experiment's allocation history. Errors: NotFound,
  // FailedPrecondition before Start.
  absl::StatusOr<AllocationHistory> History(absl::string_view experiment) const;

  // Returns the number of units in the ledger: those whose window is open,
  // and those whose window closed after the last grid point (they are folded
  // into the aggregates at the next one). Errors: NotFound.
  absl::StatusOr<int64_t> OpenUnits(absl::string_view experiment) const;

  // Returns the experiment's lifecycle state. Errors: NotFound.
  absl::StatusOr<ExperimentState> State(absl::string_view experiment) const;

  // Starts appending state changes to `journal` (after a recovery, say);
  // nullptr stops journaling. Records are numbered on from the last record
  // this engine applied.
  void AttachJournal(Journal* journal);

 private:
  friend class internal::EngineAccess;
  std::unique_ptr<internal::EngineImpl> impl_;
};

// One experiment of an engine, as a router keeps it: Assign, AssignBatch and
// RecordOutcome behave exactly as the engine's calls of the same name for
// this experiment (same answers, same journal records, same errors), but
// find the experiment through the handle instead of by id. Cheap to copy.
// Thread-safe. REQUIRES: the engine outlives the handle.
class ExperimentHandle {
 public:
  // As Engine::Assign; NotFound once the experiment is deleted.
  absl::StatusOr<Assignment> Assign(
      absl::string_view unit, absl::Time now,
      std::optional<absl::Time> unit_start = std::nullopt) const;
  // As Engine::AssignBatch.
  absl::Status AssignBatch(absl::Span<const AssignRequest> requests,
                           absl::Span<absl::StatusOr<Assignment>> results) const;
  // As Engine::RecordOutcome.
  absl::StatusOr<OutcomeDisposition> RecordOutcome(absl::string_view unit,
                                                   absl::Time time, double value,
                                                   absl::string_view metric = "") const;
  // The experiment's id.
  absl::string_view id() const;

 private:
  friend class internal::EngineImpl;
  ExperimentHandle(internal::EngineImpl* engine,
                   std::shared_ptr<internal::ExperimentRuntime> runtime)
      : engine_(engine), runtime_(std::move(runtime)) {}
  internal::EngineImpl* engine_;
  std::shared_ptr<internal::ExperimentRuntime> runtime_;
};

}  // namespace allot

#endif  // ALLOT_ENGINE_H_
