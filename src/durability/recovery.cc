// Copyright 2026 The allot Authors.
//
// Recovery: the latest snapshot, then the journal records after it, applied
// through the engine's own calls.

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "durability/file_io.h"
#include "durability/journal_file.h"
#include "durability/state_codec.h"
#include "runtime/engine_access.h"

namespace allot {

absl::StatusOr<Recovery> Recover(absl::string_view snapshot_path,
                                 absl::string_view journal_path) {
  Recovery recovery;
  uint64_t applied = 0;
  if (internal::FileExists(snapshot_path)) {
    ALLOT_ASSIGN_OR_RETURN(recovery.engine,
                           ReadSnapshot(snapshot_path, &recovery.application_data));
    recovery.from_snapshot = true;
    applied = internal::EngineAccess::JournalSequence(*recovery.engine);
  } else {
    recovery.engine = std::make_unique<Engine>();
  }
  if (!internal::FileExists(journal_path)) return recovery;
  ALLOT_ASSIGN_OR_RETURN(internal::JournalFile file,
                         internal::ReadJournalFile(journal_path));
  recovery.records_dropped = file.contents.dropped_records;
  recovery.dropped_reason = file.contents.dropped_reason;
  if (file.contents.dropped_records > 0 &&
      ::truncate(std::string(journal_path).c_str(), file.contents.good_bytes) != 0) {
    return internal::ErrnoStatus("cannot cut the bad tail off", journal_path);
  }
  for (const internal::JournalRecord& record : file.records) {
    if (record.sequence <= applied) continue;
    if (record.sequence != applied + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", journal_path, " continues at record ", record.sequence,
          " but the state ends at record ", applied, ": records are missing"));
    }
    absl::Status s = internal::EngineAccess::Apply(*recovery.engine, record);
    if (!s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "journal ", journal_path, " record ", record.sequence, " (",
          internal::JournalKindName(record.kind), ") cannot be applied: ", s.message()));
    }
    applied = record.sequence;
    ++recovery.records_replayed;
  }
  return recovery;
}

}  // namespace allot
