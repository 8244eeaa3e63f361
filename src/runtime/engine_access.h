// Copyright 2026 The allot Authors.
//
// The engine's whole state, out and back in: what snapshots and recovery
// use. Not API.

#ifndef ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_
#define ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "runtime/engine_state.h"
#include "runtime/experiment_runtime.h"
#include "runtime/journal_record.h"

namespace allot::internal {

class EngineAccess {
 public:
  // Returns the engine's state; concurrent calls wait while it is copied.
  static EngineState Export(const Engine& engine);
  // Returns an engine in `state`. Errors: InvalidArgument when the state is
  // inconsistent.
  static absl::StatusOr<std::unique_ptr<Engine>> Import(const EngineState& state);
  // Returns the sequence number of the last journal record the engine
  // applied (what a snapshot of it records).
  static uint64_t JournalSequence(const Engine& engine);
  // Applies one journal record through the public API. Errors: as the call.
  static absl::Status Apply(Engine& engine, const JournalRecord& record);
  // Performs grid point `due` of `experiment` with matured units and
  // tallies computed outside the engine (the store's learner), through the
  // same fold, evaluation and publication as Advance; returns its report
  // (none when the experiment is stopped by then). The engine's clock moves
  // to `due`; nothing is journaled. Errors: NotFound for an unknown
  // experiment; InvalidArgument when `due` is before the engine's clock;
  // else as ExperimentRuntime::AdvanceWith.
  // Returns the experiment's next grid point (InfiniteFuture before
  // Start). Errors: NotFound for an unknown experiment.
  static absl::StatusOr<absl::Time> NextDue(const Engine& engine,
                                            absl::string_view experiment);
  static absl::StatusOr<std::vector<ReallocationReport>> AdvanceWith(
      Engine& engine, absl::string_view experiment, absl::Time due,
      const MaturedAtGridPoint& figures);
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_
