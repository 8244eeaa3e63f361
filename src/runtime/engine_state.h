// Copyright 2026 The allot Authors.
//
// The engine's whole state as plain values: what a snapshot holds and what a
// restore rebuilds from. Every container is in a canonical order (units by
// fingerprint, experiments by id), so two engines in the same state export
// byte-identical snapshots.

#ifndef ALLOT_SRC_RUNTIME_ENGINE_STATE_H_
#define ALLOT_SRC_RUNTIME_ENGINE_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "allot/allocation_history.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "ledger/ledger.h"
#include "statistics/arm_estimates.h"

namespace allot::internal {

struct ExperimentRuntimeState {
  ExperimentConfig config;
  int lifecycle = 0;  // ExperimentState
  absl::Time start;
  int64_t stop_us = INT64_MAX;
  int64_t clock_us = INT64_MIN;
  // The epochs published so far; empty before Start. Epoch e has one weight
  // per arm known in it.
  std::vector<Epoch> epochs;
  // Every arm, with the epochs it joined and retired in and its payload;
  // empty when the arms never changed (they are then the config's).
  std::vector<HistoryArm> arms;
  LedgerState ledger;
  int64_t late = 0;
  int64_t unknown = 0;
  int64_t duplicate = 0;
  std::vector<std::vector<Aggregate>> aggregates;  // [epoch][arm]
  // [guardrail][epoch][arm]; one per guardrail of the config (an older
  // snapshot's state has none and gets empty ones).
  std::vector<std::vector<std::vector<Aggregate>>> guardrail_aggregates;
  Aggregate holdout;
  absl::Time next_due;
  std::vector<ReallocationReport> reports;
  // Every report ever made (more than `reports` when EngineOptions::
  // reports_kept dropped some): each report's seed counts them. An older
  // snapshot has none stored: the count of its reports.
  int64_t reports_made = 0;
};

struct EngineState {
  absl::Time clock = absl::InfinitePast();
  std::vector<ExperimentRuntimeState> experiments;  // by id
  std::vector<ReallocationReport> final_reports;    // by experiment id
  // The journal sequence number of the last record this state includes.
  uint64_t journal_sequence = 0;
  // Free-form text an application stores with a snapshot (the replay
  // command keeps its position in the event log here).
  std::string application_data;
};

// Returns OK when the values of a decoded experiment state mean something:
// counts >= 0, sums finite and consistent with their sums of squares,
// epochs numbered from 0 with increasing finite starts and valid weights,
// units and figures within its arms and epochs, a schedule whose next due
// time is the first grid point after its clock, and sane reports.
// Errors: InvalidArgument naming the field and value. Checks what
// ExperimentRuntime::Import relies on, so a state that passes restores into
// an engine whose every later call returns a Status.
absl::Status ValidateExperimentState(const ExperimentRuntimeState& state);

// Returns the allocation history of a started experiment's state: its
// epochs, with the arm changes of `arms` replayed through
// AllocationHistory's own checks. Errors: InvalidArgument.
absl::StatusOr<AllocationHistory> HistoryOf(const ExperimentRuntimeState& state);

// Returns OK when no two experiments of `state` run on one non-empty
// surface (Engine::Start never lets them). Errors: InvalidArgument naming
// the surface and both experiments.
absl::Status ValidateSurfaces(const EngineState& state);

// Returns OK when a report's counts are >= 0, its probabilities in [0, 1],
// its weights valid for its arms and its winner one of them or -1.
// Errors: InvalidArgument.
absl::Status ValidateReport(const ReallocationReport& report);

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_ENGINE_STATE_H_
