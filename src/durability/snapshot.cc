// Copyright 2026 The allot Authors.

#include "allot/snapshot.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "durability/file_io.h"
#include "durability/state_codec.h"
#include "runtime/engine_access.h"

namespace allot {
namespace {

// "ALLOTSNP", the format, 4 reserved bytes, the payload's size (u64) and
// its XXH3-64 checksum (u64); then the payload.
constexpr internal::FileHeaderSpec kSnapshotHeader = {.what = "snapshot",
                                                      .magic = "ALLOTSNP",
                                                      .format = kSnapshotFormat,
                                                      .header_bytes = 32};
constexpr size_t kHeaderBytes = kSnapshotHeader.header_bytes;

absl::Status Corrupt(absl::string_view path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot ", path, ": ", what));
}

// Reads and checks a snapshot file; returns its payload.
absl::StatusOr<std::string> ReadPayload(absl::string_view path, uint32_t* format) {
  ALLOT_ASSIGN_OR_RETURN(std::string data,
                         internal::ReadWholeFile(path, kMaxSnapshotBytes));
  ALLOT_RETURN_IF_ERROR(internal::CheckFileHeader(data, kSnapshotHeader, path, format));
  const uint64_t size = internal::GetU64(data.data() + 16);
  const uint64_t checksum = internal::GetU64(data.data() + 24);
  if (size != data.size() - kHeaderBytes) {
    return Corrupt(
        path, absl::StrCat("truncated or padded: the header says ", size,
                           " payload bytes, the file has ", data.size() - kHeaderBytes));
  }
  std::string payload = data.substr(kHeaderBytes);
  if (internal::Checksum(payload) != checksum) {
    return Corrupt(path, "checksum mismatch: the payload is corrupt");
  }
  return payload;
}

absl::StatusOr<internal::EngineState> ReadState(absl::string_view path,
                                                uint32_t* format) {
  ALLOT_ASSIGN_OR_RETURN(std::string payload, ReadPayload(path, format));
  absl::StatusOr<internal::EngineState> state = internal::DecodeEngineState(payload);
  if (!state.ok()) return Corrupt(path, state.status().message());
  return state;
}

}  // namespace

absl::Status WriteSnapshot(const Engine& engine, absl::string_view path,
                           absl::string_view application_data) {
  internal::EngineState state = internal::EngineAccess::Export(engine);
  state.application_data = std::string(application_data);
  const std::string payload = internal::EncodeEngineState(state);
  std::string file = internal::FileHeader(kSnapshotHeader);
  internal::PutU64(file, payload.size());
  internal::PutU64(file, internal::Checksum(payload));
  file += payload;
  return internal::WriteFileAtomically(path, file);
}

absl::StatusOr<std::unique_ptr<Engine>> ReadSnapshot(absl::string_view path,
                                                     std::string* application_data) {
  uint32_t format = 0;
  ALLOT_ASSIGN_OR_RETURN(internal::EngineState state, ReadState(path, &format));
  absl::StatusOr<std::unique_ptr<Engine>> engine = internal::EngineAccess::Import(state);
  if (!engine.ok()) return Corrupt(path, engine.status().message());
  if (application_data != nullptr) *application_data = state.application_data;
  return engine;
}

absl::StatusOr<SnapshotContents> InspectSnapshot(absl::string_view path) {
  SnapshotContents contents;
  ALLOT_ASSIGN_OR_RETURN(internal::EngineState state, ReadState(path, &contents.format));
  contents.clock = state.clock;
  contents.journal_sequence = state.journal_sequence;
  contents.application_data = state.application_data;
  contents.payload_bytes = internal::EncodeEngineState(state).size();
  static constexpr const char* kStates[] = {"created", "running", "stopped"};
  for (const internal::ExperimentRuntimeState& e : state.experiments) {
    SnapshotExperimentSummary s;
    s.id = e.config.id;
    s.state = kStates[std::clamp(e.lifecycle, 0, 2)];
    s.surface = e.config.surface;
    s.epochs = static_cast<int64_t>(e.epochs.size());
    s.open_units = static_cast<int64_t>(e.ledger.open.size());
    s.reports = static_cast<int64_t>(e.reports.size());
    contents.experiments.push_back(std::move(s));
  }
  for (const ReallocationReport& r : state.final_reports) {
    contents.deleted_experiments.push_back(r.experiment);
  }
  return contents;
}

}  // namespace allot
