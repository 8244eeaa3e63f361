// Copyright 2026 The allot Authors.

#include "experiment_runtime.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/hash.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "sample_ratio.h"

namespace allot::internal {
namespace {

// A report's Monte Carlo seed: the experiment's seed mixed with the report's
// index (splitmix64), so every reallocation draws fresh but reproducible
// numbers.
uint64_t ReportSeed(uint64_t seed, size_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The decision, checked at every report. A winner needs P(best) >= 0.999
// and an expected loss below the threshold of caring, 1% of its mean; and,
// so that practically equal arms never produce one, every other arm's
// expected loss must be at least that threshold. DESIGN's P(best) >= 0.95
// is a single-look threshold: over the ~50 reports of a two-week A/A run it
// named a false winner in 56% of replicates (examples/scenarios/aa.toml).
constexpr double kWinnerPBest = 0.999;
constexpr double kThresholdOfCaring = 0.01;

int Winner(const std::vector<double>& p_best, const std::vector<double>& loss,
           const std::vector<ArmEstimate>& estimates) {
  const int leader = static_cast<int>(
      std::max_element(p_best.begin(), p_best.end()) - p_best.begin());
  const double caring = kThresholdOfCaring * std::abs(estimates[leader].mean);
  if (p_best[leader] < kWinnerPBest || !(loss[leader] < caring)) return -1;
  for (size_t j = 0; j < loss.size(); ++j) {
    if (static_cast<int>(j) != leader && loss[j] < caring) return -1;
  }
  return leader;
}

int ArmIndexOr(const ExperimentConfig& config, const std::string& id,
               int fallback) {
  if (id.empty()) return fallback;
  return FindArm(config.ArmIds(), id);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExperimentRuntime>> ExperimentRuntime::Create(
    const ExperimentConfig& config) {
  ALLOT_RETURN_IF_ERROR(ValidateExperimentConfig(config));
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, NewPolicy(config.policy));
  return std::unique_ptr<ExperimentRuntime>(
      new ExperimentRuntime(config, std::move(policy)));
}

ExperimentRuntime::ExperimentRuntime(const ExperimentConfig& config,
                                     std::unique_ptr<Policy> policy)
    : config_(config),
      arm_ids_(config.ArmIds()),
      initial_weights_(*NormalizeWeights(config.InitialWeights())),
      policy_(std::move(policy)),
      fallback_arm_(ArmIndexOr(config, config.fallback, 0)),
      baseline_arm_(ArmIndexOr(config, config.baseline, -1)),
      fingerprint_(config.EffectiveSalt()),
      ledger_(config.metric, config.schedule.conversion_window,
              static_cast<int>(config.arms.size())) {}

absl::Status ExperimentRuntime::Start(absl::Time at) {
  MutexLock lock(&lifecycle_mu_);
  if (state() != ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", config_.id, "\" was already started"));
  }
  ALLOT_ASSIGN_OR_RETURN(
      AllocationHistory history,
      AllocationHistory::Create(config_.id, config_.EffectiveSalt(), arm_ids_,
                                at, initial_weights_));
  ALLOT_ASSIGN_OR_RETURN(
      assigner_, Assigner::Create(history, {.holdout = config_.holdout,
                                            .baseline_arm = baseline_arm_}));
  start_ = at;
  ledger_.set_origin(at);
  {
    MutexLock learn(&learn_mu_);
    scheduler_.emplace(at, config_.schedule);
  }
  clock_us_.store(absl::ToUnixMicros(at), std::memory_order_release);
  state_.store(static_cast<int>(ExperimentState::kRunning),
               std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ExperimentRuntime::Stop(absl::Time at) {
  MutexLock lock(&lifecycle_mu_);
  if (state() != ExperimentState::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", config_.id, "\" is not running"));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("stop time", at));
  stop_us_.store(absl::ToUnixMicros(at), std::memory_order_release);
  state_.store(static_cast<int>(ExperimentState::kStopped),
               std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ExperimentRuntime::CheckClock(absl::string_view what,
                                           absl::Time t) const {
  const absl::Time clock = Clock();
  if (t < clock) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time going backward: ", what, " ", FormatRfc3339(t),
        " is before the last advance of experiment \"", config_.id, "\" at ",
        FormatRfc3339(clock)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Assignment> ExperimentRuntime::Assign(
    absl::string_view unit, absl::Time now,
    std::optional<absl::Time> unit_start, bool* new_exposure) {
  *new_exposure = false;
  ALLOT_RETURN_IF_ERROR(ValidateUnit(unit));
  return AssignValid(unit, fingerprint_.Of(unit), now, unit_start, new_exposure);
}

void ExperimentRuntime::AssignBatch(absl::Span<const AssignRequest> requests,
                                    absl::Span<absl::StatusOr<Assignment>> results,
                                    absl::FunctionRef<void(size_t)> new_exposure) {
  // Units go through in chunks: fingerprint the chunk's valid units, then
  // serve them in order while prefetching the ledger lines of the unit
  // kAhead places on, so its cache misses overlap the work on the ones
  // before it.
  constexpr size_t kChunk = 64;
  constexpr size_t kAhead = 16;
  std::array<UnitKey, kChunk> keys;
  std::array<bool, kChunk> valid;
  for (size_t first = 0; first < requests.size(); first += kChunk) {
    const size_t n = std::min(kChunk, requests.size() - first);
    for (size_t j = 0; j < n; ++j) {
      absl::Status s = ValidateUnit(requests[first + j].unit);
      valid[j] = s.ok();
      if (valid[j]) {
        keys[j] = fingerprint_.Of(requests[first + j].unit);
      } else {
        results[first + j] = std::move(s);
      }
    }
    for (size_t j = 0; j < std::min(kAhead, n); ++j) {
      if (valid[j]) ledger_.Prefetch(keys[j]);
    }
    for (size_t j = 0; j < n; ++j) {
      if (j + kAhead < n && valid[j + kAhead]) ledger_.Prefetch(keys[j + kAhead]);
      if (!valid[j]) continue;
      const AssignRequest& r = requests[first + j];
      bool exposed = false;
      results[first + j] = AssignValid(r.unit, keys[j], r.now, r.unit_start, &exposed);
      if (exposed) new_exposure(first + j);
    }
  }
}

absl::StatusOr<Assignment> ExperimentRuntime::AssignValid(
    absl::string_view unit, const UnitKey& key, absl::Time now,
    std::optional<absl::Time> unit_start, bool* new_exposure) {
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", config_.id, "\" is not started"));
  }
  if (now < start_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "assignment time ", FormatRfc3339(now), " is before experiment \"",
        config_.id, "\" started at ", FormatRfc3339(start_)));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("assignment time", now));
  const bool stopped =
      absl::ToUnixMicros(now) >= stop_us_.load(std::memory_order_acquire);
  const absl::Time at = unit_start.has_value() ? std::min(*unit_start, now) : now;
  const Assigner& assigner = *assigner_;
  auto assign = [&]() -> Assignment {
    if (stopped) {
      return {fallback_arm_, assigner.EpochAt(now), 1.0, false};
    }
    // ValidateUnit passed above, so AssignAt cannot fail.
    return *assigner.AssignAt(unit, at);
  };
  // A unit whose start (as the caller says) is a whole window ago is a
  // returning unit the ledger has forgotten, not a new exposure: recording
  // it again would count it twice in its pinned epoch.
  const bool long_started =
      unit_start.has_value() &&
      *unit_start + config_.schedule.conversion_window <= now;
  Ledger::Exposure exposure =
      ledger_.Expose(key, now, !stopped && !long_started, assign);
  Assignment a = exposure.assignment;
  *new_exposure =
      exposure.visit == Ledger::Visit::kNew && !stopped && !long_started;
  if (exposure.visit == Ledger::Visit::kReturning) {
    a.propensity = a.holdout ? 1.0 : assigner.WeightsOf(a.epoch)[a.arm];
  }
  return a;
}

absl::StatusOr<OutcomeDisposition> ExperimentRuntime::RecordOutcome(
    absl::string_view unit, absl::Time time, double value) {
  ALLOT_RETURN_IF_ERROR(ValidateUnit(unit));
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome value must be finite, got ", value));
  }
  if (config_.metric == MetricKind::kBinary && value != 0 && value != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome value of a binary metric must be 0 or 1, got ", value));
  }
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", config_.id, "\" is not started"));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("outcome time", time));
  ALLOT_ASSIGN_OR_RETURN(
      OutcomeDisposition d,
      ledger_.Record(fingerprint_.Of(unit), time, value));
  switch (d) {
    case OutcomeDisposition::kLate:
      late_.fetch_add(1, std::memory_order_relaxed);
      break;
    case OutcomeDisposition::kUnknownUnit:
      unknown_.fetch_add(1, std::memory_order_relaxed);
      break;
    case OutcomeDisposition::kDuplicate:
      duplicate_.fetch_add(1, std::memory_order_relaxed);
      break;
    case OutcomeDisposition::kCounted:
      break;
  }
  return d;
}

void ExperimentRuntime::Fold(const std::vector<OpenUnit>& matured) {
  const size_t arms = arm_ids_.size();
  for (const OpenUnit& unit : matured) {
    if (unit.flags & OpenUnit::kHoldout) {
      holdout_.Add(unit.outcome);
      continue;
    }
    if (aggregates_.size() <= unit.epoch) {
      aggregates_.resize(unit.epoch + 1, std::vector<Aggregate>(arms));
    }
    aggregates_[unit.epoch][unit.arm].Add(unit.outcome);
  }
}

std::vector<ReallocationReport> ExperimentRuntime::AdvanceTo(absl::Time now) {
  std::vector<ReallocationReport> out;
  if (state() == ExperimentState::kCreated) return out;
  MutexLock lock(&learn_mu_);
  if (now > Clock()) {
    clock_us_.store(absl::ToUnixMicros(now), std::memory_order_release);
  }
  const absl::Time stop =
      absl::FromUnixMicros(stop_us_.load(std::memory_order_acquire));
  // Matured units are folded at grid points only: the scan is O(open units)
  // and a grid point is where their figures are needed. Between grid points
  // a unit whose window closed waits in the ledger, already treated as
  // matured by Assign and RecordOutcome.
  while (scheduler_->next_due() <= now) {
    const absl::Time due = scheduler_->next_due();
    scheduler_->Step();
    ledger_.TakeMatured(due, matured_);
    Fold(matured_);
    if (due >= stop) continue;  // stopped: units mature, nothing reallocates
    ReallocationReport report = Evaluate(due, /*reallocate=*/true);
    if (report.reallocated) {
      // The weights came from ShapeWeights and the due time is after the
      // last epoch's start, so Publish cannot fail.
      absl::Status published = assigner_->Publish(due, report.weights_after);
      report.epoch = assigner_->current_epoch();
      if (!published.ok()) {
        report.reallocated = false;
        report.reason = absl::StrCat("publish failed: ", published.message());
        report.weights_after = report.weights_before;
      }
    }
    reports_.push_back(report);
    out.push_back(std::move(report));
  }
  return out;
}

ReallocationReport ExperimentRuntime::Evaluate(absl::Time time,
                                               bool reallocate) const {
  const int k = static_cast<int>(arm_ids_.size());
  const Assigner& assigner = *assigner_;
  const int64_t epoch = assigner.current_epoch();
  const absl::Span<const double> current = assigner.WeightsOf(epoch);

  ReallocationReport report;
  report.experiment = config_.id;
  report.epoch = epoch;
  report.time = time;
  report.weights_before.assign(current.begin(), current.end());
  report.weights_after = report.weights_before;
  report.late_outcomes = late_.load(std::memory_order_relaxed);
  report.unknown_outcomes = unknown_.load(std::memory_order_relaxed);
  report.duplicate_outcomes = duplicate_.load(std::memory_order_relaxed);
  report.holdout_units = holdout_.n;
  report.holdout_outcomes = holdout_.sum;

  const std::vector<ArmEstimate> estimates =
      EstimateArms(aggregates_, k, config_.metric);
  std::vector<ArmPosterior> posteriors;
  const Priors priors{config_.prior_alpha, config_.prior_beta};
  for (const ArmEstimate& e : estimates) {
    posteriors.push_back(PosteriorOf(e, config_.metric, priors));
  }
  const uint64_t seed = ReportSeed(config_.seed, reports_.size());
  absl::StatusOr<std::vector<double>> p_best =
      ProbabilityBest(posteriors, config_.direction, seed);
  absl::StatusOr<std::vector<double>> loss =
      ExpectedLoss(posteriors, config_.direction, seed);

  // Exposures and the sample-ratio check against each epoch's bucket shares.
  std::vector<std::vector<int64_t>> exposures = ledger_.ExposureCounts();
  std::vector<std::vector<double>> shares(exposures.size());
  std::vector<int64_t> arm_exposures(k);
  for (size_t e = 0; e < exposures.size(); ++e) {
    const BucketTable& table = assigner.TableOf(static_cast<int64_t>(e));
    for (int a = 0; a < k; ++a) {
      shares[e].push_back(static_cast<double>(table.counts()[a]) / kNumBuckets);
      arm_exposures[a] += exposures[e][a];
    }
  }
  report.srm_p = SampleRatioPValue(exposures, shares);

  std::vector<int64_t> units(k);
  for (int a = 0; a < k; ++a) {
    ArmReport arm;
    arm.id = arm_ids_[a];
    arm.units = units[a] = estimates[a].units;
    arm.outcomes = estimates[a].outcomes;
    arm.mean = estimates[a].mean;
    arm.pooled_mean = estimates[a].pooled_mean;
    arm.ci95_low = posteriors[a].Quantile(0.025);
    arm.ci95_high = posteriors[a].Quantile(0.975);
    arm.p_best = p_best.ok() ? (*p_best)[a] : 0.0;
    arm.expected_loss = loss.ok() ? (*loss)[a] : 0.0;
    arm.exposures = arm_exposures[a];
    report.arms.push_back(std::move(arm));
  }
  if (!p_best.ok() || !loss.ok()) {
    report.reason = absl::StrCat(
        "posteriors unusable: ",
        (!p_best.ok() ? p_best.status() : loss.status()).message());
    return report;
  }

  const std::string blocker =
      BurnInBlocker(units, arm_ids_, config_.schedule.min_units_per_arm);
  if (!blocker.empty()) {
    report.reason = blocker;
    return report;
  }
  report.winner = Winner(*p_best, *loss, estimates);
  if (!reallocate) {
    report.reason = "report only";
    return report;
  }
  if (policy_->kind() == PolicyKind::kFixed) {
    report.reason = "fixed policy keeps the initial weights";
    return report;
  }
  PolicyInput input;
  input.arms = posteriors;
  input.current_weights = current;
  input.initial_weights = initial_weights_;
  input.direction = config_.direction;
  input.seed = seed;
  absl::StatusOr<std::vector<double>> target = policy_->Target(input);
  if (!target.ok()) {
    report.reason = absl::StrCat("policy failed: ", target.status().message());
    return report;
  }
  std::vector<double> next =
      ShapeWeights(*target, current, config_.floor, config_.max_shift);
  if (next == report.weights_before) {
    report.reason = absl::StrCat(PolicyKindName(policy_->kind()),
                                 ": weights unchanged");
    return report;
  }
  report.weights_after = std::move(next);
  report.reallocated = true;
  report.reason = std::string(PolicyKindName(policy_->kind()));
  return report;
}

std::vector<ReallocationReport> ExperimentRuntime::Reports() const {
  ReaderMutexLock lock(&learn_mu_);
  return reports_;
}

ReallocationReport ExperimentRuntime::FinalReport() const {
  ReaderMutexLock lock(&learn_mu_);
  if (state() == ExperimentState::kCreated) {
    ReallocationReport report;
    report.experiment = config_.id;
    report.reason = "never started";
    report.weights_before = report.weights_after = initial_weights_;
    return report;
  }
  ReallocationReport report = Evaluate(Clock(), /*reallocate=*/false);
  report.reason = "final report";
  return report;
}

absl::StatusOr<AllocationHistory> ExperimentRuntime::History() const {
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", config_.id, "\" is not started"));
  }
  return assigner_->history();
}

ExperimentRuntimeState ExperimentRuntime::Export() const {
  ReaderMutexLock lock(&learn_mu_);
  ExperimentRuntimeState st;
  st.config = config_;
  st.lifecycle = state_.load(std::memory_order_acquire);
  st.stop_us = stop_us_.load(std::memory_order_acquire);
  st.clock_us = clock_us_.load(std::memory_order_acquire);
  if (state() != ExperimentState::kCreated) {
    st.start = start_;
    st.epochs = assigner_->history().epochs();
    st.next_due = scheduler_->next_due();
  }
  st.ledger = ledger_.Export();
  st.late = late_.load();
  st.unknown = unknown_.load();
  st.duplicate = duplicate_.load();
  st.aggregates = aggregates_;
  st.holdout = holdout_;
  st.reports = reports_;
  return st;
}

absl::StatusOr<std::unique_ptr<ExperimentRuntime>> ExperimentRuntime::Import(
    const ExperimentRuntimeState& st) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<ExperimentRuntime> runtime,
                         Create(st.config));
  const int k = static_cast<int>(st.config.arms.size());
  if (st.lifecycle < 0 || st.lifecycle > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("experiment state ", st.lifecycle, " is not known"));
  }
  const auto lifecycle = static_cast<ExperimentState>(st.lifecycle);
  if ((lifecycle == ExperimentState::kCreated) != st.epochs.empty()) {
    return absl::InvalidArgumentError(
        "a started experiment needs epochs and a created one has none");
  }
  const int64_t epochs = static_cast<int64_t>(st.epochs.size());
  for (const OpenUnit& unit : st.ledger.open) {
    if (unit.arm >= k || unit.epoch >= epochs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "open unit with arm ", static_cast<int>(unit.arm), " and epoch ",
          static_cast<int>(unit.epoch),
          " is outside the experiment's ", k, " arms and ", epochs, " epochs"));
    }
  }
  for (const auto& row : st.ledger.exposures) {
    if (static_cast<int>(row.size()) != k) {
      return absl::InvalidArgumentError("exposure counts do not match the arms");
    }
  }
  for (const auto& row : st.aggregates) {
    if (static_cast<int>(row.size()) != k) {
      return absl::InvalidArgumentError("aggregates do not match the arms");
    }
  }
  if (static_cast<int64_t>(st.ledger.exposures.size()) > epochs ||
      static_cast<int64_t>(st.aggregates.size()) > epochs) {
    return absl::InvalidArgumentError("figures name epochs that do not exist");
  }
  ExperimentRuntime& r = *runtime;
  if (lifecycle != ExperimentState::kCreated) {
    ALLOT_ASSIGN_OR_RETURN(
        AllocationHistory history,
        AllocationHistory::Create(st.config.id, st.config.EffectiveSalt(),
                                  r.arm_ids_, st.epochs[0].start,
                                  st.epochs[0].weights));
    for (size_t e = 1; e < st.epochs.size(); ++e) {
      ALLOT_RETURN_IF_ERROR(history.Append(st.epochs[e].start, st.epochs[e].weights));
    }
    ALLOT_ASSIGN_OR_RETURN(
        r.assigner_, Assigner::Create(history, {.holdout = st.config.holdout,
                                                .baseline_arm = r.baseline_arm_}));
    r.start_ = st.start;
    r.ledger_.set_origin(st.start);
  }
  r.ledger_.Import(st.ledger);
  r.late_.store(st.late);
  r.unknown_.store(st.unknown);
  r.duplicate_.store(st.duplicate);
  {
    MutexLock lock(&r.learn_mu_);
    r.aggregates_ = st.aggregates;
    r.holdout_ = st.holdout;
    r.reports_ = st.reports;
    if (lifecycle != ExperimentState::kCreated) {
      r.scheduler_.emplace(st.next_due, st.config.schedule);
      r.scheduler_->set_next_due(st.next_due);
    }
  }
  r.stop_us_.store(st.stop_us);
  r.clock_us_.store(st.clock_us);
  r.state_.store(st.lifecycle, std::memory_order_release);
  return runtime;
}

}  // namespace allot::internal
