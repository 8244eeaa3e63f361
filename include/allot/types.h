// Copyright 2026 The allot Authors.
//
// The small values that pass between a router and allot: the answer for one
// unit (Assignment), a request in a batch (AssignRequest), what became of a
// reported outcome (OutcomeDisposition) and an experiment's lifecycle
// (ExperimentState). Internals include this header, not engine.h.
//
//   allot::Assignment a = ...;              // from Engine or ExperimentHandle
//   route_to(arms[a.arm]);                  // a.epoch, a.propensity, a.holdout

#ifndef ALLOT_TYPES_H_
#define ALLOT_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace allot {

// How an arm leaves a running experiment (Engine::RetireArm).
enum class RetireMode {
  // New units never get it; exposed (and pinned) units keep it until their
  // windows close. For a variant being phased out.
  kDrain,
  // It is gone (an endpoint decommissioned): every unit it served is served
  // by the new table at once, pinned or not.
  kNow,
};

// "drain" or "now".
absl::string_view RetireModeName(RetireMode mode);

// An arm as a router needs it: its id and its payload (the variant's
// settings as JSON text; empty when it has none). Immutable; owned by the
// experiment (its assigner) and valid as long as the experiment is.
struct ArmInfo {
  std::string id;
  std::string payload;
};

// The answer for one unit.
struct Assignment {
  int arm = 0;        // index into the experiment's arms
  int64_t epoch = 0;  // the epoch whose table gave the arm
  // The probability that this arm was chosen: its weight in that epoch, or 1
  // for a holdout unit (which always gets the baseline arm).
  double propensity = 1.0;
  bool holdout = false;
  // Set by the engine when this call recorded the unit's exposure: a new
  // trial whose outcome will count. False for a unit still in its window, one
  // remembered after it (schedule.retention), a stopped experiment, and for
  // Assigner's answers, which record nothing.
  bool new_exposure = false;
  // The served arm's id and payload: a pointer, so returning it costs
  // nothing. Set on every answer of the engine and of an Assigner (holdout
  // ones too); valid while the experiment (the assigner) lives.
  const ArmInfo* arm_info = nullptr;
};

// One unit of a batch assignment: what a single Assign takes. The unit's
// bytes must outlive the call.
struct AssignRequest {
  absl::string_view unit;
  absl::Time now;
  std::optional<absl::Time> unit_start;
};

// What happened to a reported outcome.
enum class OutcomeDisposition {
  kCounted,      // inside the unit's window: it counts
  kLate,         // after the unit's window closed: tallied, not counted
  kUnknownUnit,  // no exposure of this unit is known: tallied, not counted
  kDuplicate,    // a binary unit's second conversion: tallied, not counted
};

// An experiment's lifecycle.
enum class ExperimentState { kCreated, kRunning, kStopped };

}  // namespace allot

#endif  // ALLOT_TYPES_H_
