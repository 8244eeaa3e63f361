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

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace allot {

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
