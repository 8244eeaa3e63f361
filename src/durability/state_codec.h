// Copyright 2026 The allot Authors.
//
// Encodes the engine's state (snapshots) and journal records as bytes, with
// cereal's portable binary archive (little-endian on every machine). Decoding
// never trusts a length: every sequence is checked against the bytes left, so
// corrupt input is refused without huge allocations or crashes.

#ifndef ALLOT_SRC_DURABILITY_STATE_CODEC_H_
#define ALLOT_SRC_DURABILITY_STATE_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "runtime/engine_state.h"
#include "runtime/journal_record.h"

namespace allot::internal {

std::string EncodeEngineState(const EngineState& state);
// Errors: DataLoss naming what could not be read.
absl::StatusOr<EngineState> DecodeEngineState(absl::string_view bytes);

std::string EncodeJournalRecord(const JournalRecord& record);
// Errors: DataLoss naming what could not be read.
absl::StatusOr<JournalRecord> DecodeJournalRecord(absl::string_view bytes);

// The name of a record kind ("create", "exposure", ...).
absl::string_view JournalKindName(JournalRecord::Kind kind);

}  // namespace allot::internal

#endif  // ALLOT_SRC_DURABILITY_STATE_CODEC_H_
