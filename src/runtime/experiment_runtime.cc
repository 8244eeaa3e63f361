// Copyright 2026 The allot Authors.

#include "runtime/experiment_runtime.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "statistics/sample_ratio.h"

namespace allot::internal {
namespace {

std::vector<MetricKind> GuardrailKinds(const ExperimentConfig& config) {
  std::vector<MetricKind> kinds;
  for (const GuardrailConfig& g : config.guardrails) kinds.push_back(g.kind);
  return kinds;
}

int ArmIndexOr(const ExperimentConfig& config, const std::string& id, int fallback) {
  if (id.empty()) return fallback;
  return FindArm(config.ArmIds(), id);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExperimentRuntime>> ExperimentRuntime::Create(
    const ExperimentConfig& config, int64_t reports_kept) {
  ALLOT_RETURN_IF_ERROR(ValidateExperimentConfig(config));
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, NewPolicy(config.policy));
  std::unique_ptr<ExperimentRuntime> runtime(
      new ExperimentRuntime(config, std::move(policy)));
  runtime->reports_kept_ = std::max<int64_t>(0, reports_kept);
  return runtime;
}

ExperimentRuntime::ExperimentRuntime(const ExperimentConfig& config,
                                     std::unique_ptr<Policy> policy)
    : config_(config),
      initial_weights_(*NormalizeWeights(config.InitialWeights())),
      policy_(std::move(policy)),
      fallback_arm_(ArmIndexOr(config, config.fallback, 0)),
      baseline_arm_(ArmIndexOr(config, config.baseline, -1)),
      fingerprint_(config.EffectiveSalt()),
      ledger_(config.metric, config.schedule.conversion_window,
              static_cast<int>(config.arms.size()), config.schedule.retention,
              GuardrailKinds(config)),
      arm_ids_(config.ArmIds()),
      retired_(config.arms.size(), false),
      added_epoch_(config.arms.size(), 0),
      split_(initial_weights_),
      guardrail_aggregates_(config.guardrails.size()),
      stopped_by_(config.arms.size()) {}

absl::Status ExperimentRuntime::Start(absl::Time at) {
  MutexLock lock(&lifecycle_mu_);
  if (state() != ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id), " was already started"));
  }
  std::vector<std::string> payloads;
  for (const ArmConfig& arm : config_.arms) payloads.push_back(arm.payload);
  ALLOT_ASSIGN_OR_RETURN(
      AllocationHistory history,
      AllocationHistory::Create(config_.id, config_.EffectiveSalt(), config_.ArmIds(), at,
                                initial_weights_, std::move(payloads)));
  ALLOT_ASSIGN_OR_RETURN(assigner_,
                         Assigner::Create(history, {.holdout = config_.holdout,
                                                    .baseline_arm = baseline_arm_}));
  start_ = at;
  ledger_.set_origin(at);
  {
    MutexLock learn(&learn_mu_);
    scheduler_.emplace(at, config_.schedule);
    last_epoch_start_ = at;
  }
  clock_us_.store(absl::ToUnixMicros(at), std::memory_order_release);
  state_.store(static_cast<int>(ExperimentState::kRunning), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ExperimentRuntime::Stop(absl::Time at) {
  MutexLock lock(&lifecycle_mu_);
  if (state() != ExperimentState::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id), " is not running"));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("stop time", at));
  stop_us_.store(absl::ToUnixMicros(at), std::memory_order_release);
  state_.store(static_cast<int>(ExperimentState::kStopped), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ExperimentRuntime::CheckClock(absl::string_view what, absl::Time t) const {
  const absl::Time clock = Clock();
  if (t < clock) {
    return absl::InvalidArgumentError(
        absl::StrCat("time going backward: ", what, " ", FormatRfc3339(t),
                     " is before the last advance of experiment ", QuoteId(config_.id),
                     " at ", FormatRfc3339(clock)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Assignment> ExperimentRuntime::Assign(absl::string_view unit,
                                                     absl::Time now,
                                                     std::optional<absl::Time> unit_start,
                                                     bool* new_exposure) {
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
        absl::StrCat("experiment ", QuoteId(config_.id), " is not started"));
  }
  if (now < start_) {
    return absl::FailedPreconditionError(
        absl::StrCat("assignment time ", FormatRfc3339(now), " is before experiment ",
                     QuoteId(config_.id), " started at ", FormatRfc3339(start_)));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("assignment time", now));
  const bool stopped =
      absl::ToUnixMicros(now) >= stop_us_.load(std::memory_order_acquire);
  const absl::Time at = unit_start.has_value() ? std::min(*unit_start, now) : now;
  const Assigner& assigner = *assigner_;
  auto assign = [&]() -> Assignment {
    if (stopped) {
      const int fallback = fallback_arm_.load(std::memory_order_relaxed);
      Assignment a{fallback, assigner.EpochAt(now), 1.0, false};
      a.arm_info = &assigner.arm(fallback);
      return a;
    }
    // ValidateUnit passed above, so AssignAt cannot fail.
    return *assigner.AssignAt(unit, at);
  };
  // A unit whose start (as the caller says) is a whole window ago is a
  // returning unit the ledger has forgotten, not a new exposure: recording
  // it again would count it twice in its pinned epoch.
  const bool long_started =
      unit_start.has_value() && *unit_start + config_.schedule.conversion_window <= now;
  Ledger::Exposure exposure = ledger_.Expose(key, now, !stopped && !long_started, assign);
  Assignment a = exposure.assignment;
  *new_exposure = exposure.visit == Ledger::Visit::kNew && !stopped && !long_started;
  a.new_exposure = *new_exposure;
  if (exposure.visit == Ledger::Visit::kReturning) {
    if (!a.holdout && assigner.gone(a.arm)) {
      // Its arm was retired "now": the latest table serves it. Its outcomes
      // still count for the arm it was exposed to (intention to treat).
      return *assigner.Assign(unit);
    }
    a.propensity = a.holdout ? 1.0 : assigner.WeightsOf(a.epoch)[a.arm];
    a.arm_info = &assigner.arm(a.arm);
  }
  return a;
}

absl::StatusOr<OutcomeDisposition> ExperimentRuntime::RecordOutcome(
    absl::string_view unit, absl::Time time, double value, absl::string_view metric) {
  ALLOT_RETURN_IF_ERROR(ValidateUnit(unit));
  ALLOT_ASSIGN_OR_RETURN(const int index, config_.MetricIndex(metric));
  const MetricKind kind = index < 0 ? config_.metric : config_.guardrails[index].kind;
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome value must be finite, got ", value));
  }
  if (!(std::abs(value) <= kMaxOutcomeMagnitude)) {
    return absl::InvalidArgumentError(absl::StrCat("outcome value must be at most ",
                                                   kMaxOutcomeMagnitude,
                                                   " in magnitude, got ", value));
  }
  if (kind == MetricKind::kBinary && value != 0 && value != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome value of a binary metric must be 0 or 1, got ", value));
  }
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id), " is not started"));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("outcome time", time));
  ALLOT_ASSIGN_OR_RETURN(OutcomeDisposition d,
                         ledger_.Record(fingerprint_.Of(unit), time, value, index));
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

absl::StatusOr<AllocationHistory> ExperimentRuntime::History() const {
  if (state() == ExperimentState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id), " is not started"));
  }
  return assigner_->history();
}

}  // namespace allot::internal
