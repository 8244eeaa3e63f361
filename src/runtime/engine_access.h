// Copyright 2026 The allot Authors.
//
// The engine's whole state, out and back in: what snapshots and recovery
// use. Not API.

#ifndef ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_
#define ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "allot/engine.h"
#include "runtime/engine_state.h"
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
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_ENGINE_ACCESS_H_
