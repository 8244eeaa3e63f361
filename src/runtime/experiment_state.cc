// Copyright 2026 The allot Authors.
//
// One experiment's whole state as plain values (what snapshots hold), and a
// runtime rebuilt from it, checked for consistency first.

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "runtime/experiment_runtime.h"

namespace allot::internal {

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
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<ExperimentRuntime> runtime, Create(st.config));
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
      return absl::InvalidArgumentError(
          absl::StrCat("open unit with arm ", static_cast<int>(unit.arm), " and epoch ",
                       static_cast<int>(unit.epoch), " is outside the experiment's ", k,
                       " arms and ", epochs, " epochs"));
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
        AllocationHistory::Create(st.config.id, st.config.EffectiveSalt(), r.arm_ids_,
                                  st.epochs[0].start, st.epochs[0].weights));
    for (size_t e = 1; e < st.epochs.size(); ++e) {
      ALLOT_RETURN_IF_ERROR(history.Append(st.epochs[e].start, st.epochs[e].weights));
    }
    ALLOT_ASSIGN_OR_RETURN(r.assigner_,
                           Assigner::Create(history, {.holdout = st.config.holdout,
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
