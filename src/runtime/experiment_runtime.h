// Copyright 2026 The allot Authors.
//
// One experiment inside the engine: its assignment plane (an Assigner), its
// ledger of open units, the aggregates of matured units, its schedule and
// its reports. The Engine owns these and routes calls to them.

#ifndef ALLOT_SRC_RUNTIME_EXPERIMENT_RUNTIME_H_
#define ALLOT_SRC_RUNTIME_EXPERIMENT_RUNTIME_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "allot/assigner.h"
#include "allot/experiment_config.h"
#include "allot/internal/mutex.h"
#include "allot/policy.h"
#include "allot/report.h"
#include "allot/types.h"
#include "ledger/ledger.h"
#include "runtime/engine_state.h"
#include "runtime/scheduler.h"
#include "statistics/arm_beliefs.h"
#include "statistics/arm_estimates.h"

namespace allot::internal {

// The columns of `arms` (in that order) of aggregates indexed [epoch][arm],
// followed by `empty` columns with no units.
std::vector<std::vector<Aggregate>> ArmColumns(
    const std::vector<std::vector<Aggregate>>& by_epoch, const std::vector<int>& arms,
    int empty = 0);

// The figures a report reads besides the aggregates, as of one grid point:
// exposures so far outside the holdout, [epoch][arm] (a row may be shorter
// than the arms), and the outcomes not counted so far.
struct GridTallies {
  std::vector<std::vector<int64_t>> exposures;
  int64_t late = 0;
  int64_t unknown = 0;
  int64_t duplicate = 0;
};

// One grid point's learning as figures computed outside the engine (by the
// store's learner, from events in PostgreSQL): the units that matured since
// the previous grid point, as sums to fold, and the tallies as of this one.
// The primary's values are the units' outcomes (a composite already
// combined per unit); binary outcomes are 0/1 per unit.
struct MaturedAtGridPoint {
  // [epoch][arm]: matured units outside the holdout (rows may be short).
  std::vector<std::vector<Aggregate>> primary;
  // [guardrail][epoch][arm]: the same units' guardrail values.
  std::vector<std::vector<std::vector<Aggregate>>> guardrails;
  Aggregate holdout;  // matured holdout units' primary outcomes
  GridTallies tallies;
};

// Thread-safe, as Engine.
class ExperimentRuntime {
 public:
  // Keeps every report, or with `reports_kept` > 0 only the last
  // `reports_kept` (EngineOptions::reports_kept). Errors: InvalidArgument as
  // ValidateExperimentConfig.
  static absl::StatusOr<std::unique_ptr<ExperimentRuntime>> Create(
      const ExperimentConfig& config, int64_t reports_kept = 0);

  absl::Status Start(absl::Time at);
  absl::Status Stop(absl::Time at);
  // As Engine::AddArm and Engine::RetireArm.
  absl::Status AddArm(const ArmConfig& arm, absl::Time now);
  absl::Status RetireArm(absl::string_view arm, absl::Time now, RetireMode mode);

  // Sets *new_exposure when the call recorded a new exposure.
  absl::StatusOr<Assignment> Assign(absl::string_view unit, absl::Time now,
                                    std::optional<absl::Time> unit_start,
                                    bool* new_exposure);
  // Assigns each request as Assign would, in order, into results[i];
  // calls new_exposure(i) right after request i recorded a new exposure.
  // While it serves one unit, it starts loading the ledger lines of the
  // units a few places ahead. REQUIRES: results.size() == requests.size().
  void AssignBatch(absl::Span<const AssignRequest> requests,
                   absl::Span<absl::StatusOr<Assignment>> results,
                   absl::FunctionRef<void(size_t)> new_exposure);
  absl::StatusOr<OutcomeDisposition> RecordOutcome(absl::string_view unit,
                                                   absl::Time time, double value,
                                                   absl::string_view metric = "");

  // Returns how many grid points AdvanceTo(now) would cross (saturating at
  // INT64_MAX); 0 before Start.
  int64_t GridPointsDue(absl::Time now) const;
  // Returns the schedule's next due time; InfiniteFuture before Start.
  absl::Time NextDue() const;

  // Performs the reallocations due up to `now` and folds matured units.
  // REQUIRES: `now` is not before the previous call.
  std::vector<ReallocationReport> AdvanceTo(absl::Time now);
  // Performs the grid point `due` as AdvanceTo does, with the matured units
  // and tallies of `figures` in place of the ledger's (which an externally
  // fed runtime leaves empty); returns its report, or none when stopped.
  // From then on reports (FinalReport too) read the last figures' tallies.
  // Errors: FailedPrecondition before Start; InvalidArgument when `due` is
  // not the next grid point, or `figures` name an epoch not yet begun, an
  // arm or guardrail the experiment lacks, or negative counts.
  absl::StatusOr<std::vector<ReallocationReport>> AdvanceWith(
      absl::Time due, const MaturedAtGridPoint& figures);

  // Returns every report so far, or the last reports_kept.
  std::vector<ReallocationReport> Reports() const;
  // Returns a report of the figures as of the last Advance, with no
  // reallocation: what Delete keeps.
  ReallocationReport FinalReport() const;

  absl::StatusOr<AllocationHistory> History() const;
  int64_t OpenUnits() const { return ledger_.open_units(); }
  ExperimentState state() const {
    return static_cast<ExperimentState>(state_.load(std::memory_order_acquire));
  }
  const ExperimentConfig& config() const { return config_; }
  // Delete marks the runtime, so handles still holding it answer NotFound.
  void MarkDeleted() { deleted_.store(true, std::memory_order_release); }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

  // The whole state, and a runtime rebuilt from it. Errors (Import):
  // InvalidArgument as ValidateExperimentState (engine_state.h): a bad
  // config, epochs, arms out of range, counts or sums that mean nothing, a
  // next due time that is not the first grid point after the clock.
  ExperimentRuntimeState Export() const;
  static absl::StatusOr<std::unique_ptr<ExperimentRuntime>> Import(
      const ExperimentRuntimeState& state);

 private:
  ExperimentRuntime(const ExperimentConfig& config, std::unique_ptr<Policy> policy);

  absl::Status CheckClock(absl::string_view what, absl::Time t) const;
  // The checks every arm change makes: running, not stopped, `now` not
  // before the clock and after the last epoch's start (an arm change begins
  // an epoch of its own).
  absl::Status CheckArmChange(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lifecycle_mu_, learn_mu_);
  // The share a new arm gets: `initial_share`, else the policy's under the
  // arm's prior beside the active arms' posteriors.
  absl::StatusOr<double> NewArmShare(const ArmConfig& arm, absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // The runtime's side of an arm change the assigner has published (live,
  // or replayed by Import): arm lists, the split, aggregates and fallback.
  void NoteArmAdded(const std::string& id, int64_t epoch,
                    absl::Span<const double> weights)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  void NoteArmRetired(int arm, absl::Span<const double> weights)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // Records an arm change as a report (reason `reason`) of the epoch just
  // published, with the weights before and after.
  void ReportArmChange(absl::Time now, std::vector<double> before, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // The options every estimate of a report at `time` uses: metric,
  // direction, priors, the half-life's epoch discounts and the seed.
  BeliefOptions BeliefOptionsAt(absl::Time time) const
      ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // Appends a report, dropping the oldest past reports_kept_.
  void KeepReport(ReallocationReport report) ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // The indices of the arms not retired.
  std::vector<int> ActiveArms() const ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // Assign for a valid unit whose fingerprint is `key`.
  absl::StatusOr<Assignment> AssignValid(absl::string_view unit, const UnitKey& key,
                                         absl::Time now,
                                         std::optional<absl::Time> unit_start,
                                         bool* new_exposure);
  // Folds matured units (and their guardrail values, one per guardrail per
  // unit) into the aggregates.
  void Fold(const std::vector<OpenUnit>& matured, const std::vector<double>& values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // Folds sums of matured units (an external grid point's) into the
  // aggregates. REQUIRES: `figures` checked by AdvanceWith.
  void FoldSums(const MaturedAtGridPoint& figures)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // Grows the aggregates (and the guardrails') to hold `epoch`.
  void GrowAggregates(size_t epoch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // The tallies reports read now: the last external figures', else the
  // ledger's exposures and the outcome counters.
  GridTallies CurrentTallies() const ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // The step both AdvanceTo and AdvanceWith take at grid point `due` once
  // its matured units are folded: unless stopped by then, evaluates (with
  // `tallies`), publishes a reallocation, keeps the report and appends it
  // to `out`.
  void ReportAt(absl::Time due, const GridTallies& tallies,
                std::vector<ReallocationReport>& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(learn_mu_);
  // Builds the report at `time` from the aggregates and `tallies`; with
  // `reallocate`, runs the policy and publishes the new epoch when burn-in
  // allows.
  // Never throws: an exception from the statistics (none is expected; the
  // Boost.Math calls return NaN on bad arguments) becomes a report that
  // keeps the weights and says why.
  ReallocationReport Evaluate(absl::Time time, bool reallocate,
                              const GridTallies& tallies) const
      ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  ReallocationReport EvaluateOrThrow(absl::Time time, bool reallocate,
                                     const GridTallies& tallies) const
      ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // Each guardrail's means and, with `decide` (past burn-in), its excess
  // harm bounds against the best-guarded arm.
  std::vector<GuardrailReport> GuardrailReports(bool decide,
                                                const std::vector<int>& active) const
      ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  // The last report's sample-ratio p-value (1 before the first report): the
  // next report's is the running minimum from it.
  double PreviousSrmP() const ABSL_SHARED_LOCKS_REQUIRED(learn_mu_);
  absl::Time Clock() const {
    return absl::FromUnixMicros(clock_us_.load(std::memory_order_acquire));
  }

  const ExperimentConfig config_;
  const std::vector<double> initial_weights_;  // normalized, the starting arms'
  const std::unique_ptr<Policy> policy_;
  // Served to new units once stopped; when it is retired, the arm with the
  // most weight then takes over.
  std::atomic<int> fallback_arm_;
  const int baseline_arm_;

  // Written once by Start before state_ turns kRunning (release); read only
  // after observing that (acquire).
  std::unique_ptr<Assigner> assigner_;
  absl::Time start_;
  std::atomic<int> state_{static_cast<int>(ExperimentState::kCreated)};
  std::atomic<int64_t> stop_us_{INT64_MAX};
  std::atomic<bool> deleted_{false};
  std::atomic<int64_t> clock_us_{INT64_MIN};
  Mutex lifecycle_mu_;  // serializes Start and Stop

  const UnitFingerprint fingerprint_;
  Ledger ledger_;
  std::atomic<int64_t> late_{0};
  std::atomic<int64_t> unknown_{0};
  std::atomic<int64_t> duplicate_{0};

  mutable Mutex learn_mu_;
  // Every arm ever in the experiment, by index (arms added while running
  // come last), and which are retired.
  std::vector<std::string> arm_ids_ ABSL_GUARDED_BY(learn_mu_);
  std::vector<bool> retired_ ABSL_GUARDED_BY(learn_mu_);
  // Per arm: the epoch it joined in (0 for the starting arms); an arm that
  // joined later holds its share until its own burn-in is over.
  std::vector<int64_t> added_epoch_ ABSL_GUARDED_BY(learn_mu_);
  // The fixed split the fixed policy keeps (and others start from): the
  // starting weights, a new arm's share taken from the others in
  // proportion, a retired arm's given back the same way.
  std::vector<double> split_ ABSL_GUARDED_BY(learn_mu_);
  absl::Time last_epoch_start_ ABSL_GUARDED_BY(learn_mu_);
  // [epoch][arm], matured units outside the holdout.
  std::vector<std::vector<Aggregate>> aggregates_ ABSL_GUARDED_BY(learn_mu_);
  // [guardrail][epoch][arm], the same units' guardrail values.
  std::vector<std::vector<std::vector<Aggregate>>> guardrail_aggregates_
      ABSL_GUARDED_BY(learn_mu_);
  // Per arm: the guardrail that stopped it (weight 0 from then on), or "".
  std::vector<std::string> stopped_by_ ABSL_GUARDED_BY(learn_mu_);
  Aggregate holdout_ ABSL_GUARDED_BY(learn_mu_);
  std::optional<Scheduler> scheduler_ ABSL_GUARDED_BY(learn_mu_);
  // The units each maturing takes, kept so its memory is reused.
  std::vector<OpenUnit> matured_ ABSL_GUARDED_BY(learn_mu_);
  std::vector<double> matured_values_ ABSL_GUARDED_BY(learn_mu_);
  // Set by AdvanceWith: the tallies of the last external figures. Not in
  // the exported state: an externally fed engine (the store's learner) is
  // rebuilt from the store, never snapshotted.
  std::optional<GridTallies> fed_tallies_ ABSL_GUARDED_BY(learn_mu_);
  // The kept reports, oldest first (all of them when reports_kept_ is 0);
  // reports_made_ counts every report ever made (it seeds each report).
  std::deque<ReallocationReport> reports_ ABSL_GUARDED_BY(learn_mu_);
  int64_t reports_made_ ABSL_GUARDED_BY(learn_mu_) = 0;
  int64_t reports_kept_ = 0;  // set by Create before the runtime is shared
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_EXPERIMENT_RUNTIME_H_
