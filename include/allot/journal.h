// Copyright 2026 The allot Authors.
//
// The event journal: every state-changing engine call (create, start, stop,
// delete, a new exposure, an outcome, an advance and so its reallocations)
// appended to a file between snapshots, each record with its own checksum.
// Recovery is the latest good snapshot plus a replay of the records after
// it; a torn or corrupt tail (a crash mid-write) is detected and dropped.
//
//   absl::StatusOr<std::unique_ptr<allot::Journal>> journal =
//       allot::Journal::Open("/var/lib/router/allot.journal",
//                            {.flush = allot::FlushPolicy::kEveryRecord});
//   allot::Engine engine({.journal = journal->get()});
//   ...
//   absl::StatusOr<allot::Recovery> r = allot::Recover(
//       "/var/lib/router/allot.snapshot", "/var/lib/router/allot.journal");
//
// File layout: an 16-byte header, "ALLOTJNL", then the format version and 4
// reserved bytes, 0 (little-endian u32 each); then records, each a u32 body
// length, the u64 XXH3-64 checksum of the body, and the body (cereal
// portable binary: sequence number, kind, experiment, unit, time, unit start,
// value, and an experiment config for create records).

#ifndef ALLOT_JOURNAL_H_
#define ALLOT_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace allot {

class Engine;

namespace internal {
class EngineImpl;
class JournalSink;
class JournalWriter;
}  // namespace internal

// The journal file format this release writes and the newest it reads.
inline constexpr uint32_t kJournalFormat = 1;
// A record body larger than this is refused as corrupt.
inline constexpr uint32_t kMaxJournalRecordBytes = 1 << 20;

enum class FlushPolicy {
  // Each record is written and fdatasync'ed before the call that made it
  // returns: an acknowledged call survives a crash or a power loss.
  kEveryRecord,
  // Records are buffered and written with one fdatasync by a background
  // flusher every `batch_interval` (and at once when an append finds the
  // oldest buffered record that old): at most that much acknowledged work,
  // plus the time of the syncs under way, can be lost to a crash. Appends
  // never wait for the disk.
  kBatched,
};

struct JournalOptions {
  FlushPolicy flush = FlushPolicy::kEveryRecord;
  absl::Duration batch_interval = absl::Milliseconds(10);
};

// A journal file that an engine appends its state changes to. Thread-safe.
class Journal {
 public:
  // Opens `path` for appending, creating it with a header when missing.
  // An existing file must have a valid header; records are appended after
  // its last complete record (Recover drops a torn tail first). Errors:
  // InvalidArgument for a bad batch interval; NotFound / PermissionDenied /
  // DataLoss naming the file for I/O failures or a bad header;
  // FailedPrecondition for a future format or a bad tail.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(
      absl::string_view path, const JournalOptions& options = {});

  ~Journal();  // flushes

  // Writes and syncs every buffered record. Errors: DataLoss (or the
  // system's reason) naming the file.
  absl::Status Flush();

  // The sequence number after the last record in the file (written or
  // buffered); 1 for a new journal. The engine numbers records.
  uint64_t next_sequence() const;
  // The sequence number of the last record written and synced (or found in
  // the file when it was opened); next_sequence() - 1 - durable_sequence()
  // records are buffered or being synced.
  uint64_t durable_sequence() const;

  const std::string& path() const;

 private:
  friend class internal::EngineImpl;
  explicit Journal(std::unique_ptr<internal::JournalWriter> writer);
  // Where the engine appends records.
  internal::JournalSink* sink() const;
  std::unique_ptr<internal::JournalWriter> writer_;
};

// What a journal file holds.
struct JournalContents {
  uint32_t format = 0;
  int64_t records = 0;
  // Count per record kind ("create", "exposure", ...), in kind order.
  std::vector<std::pair<std::string, int64_t>> records_by_kind;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  // A torn or corrupt tail: how many records (0 or 1: nothing after a bad
  // record can be trusted) and bytes were dropped, and why.
  int64_t dropped_records = 0;
  int64_t dropped_bytes = 0;
  std::string dropped_reason;
  // Byte offset just past the last good record.
  int64_t good_bytes = 0;
};

// Reads a journal file's records without applying them. Errors: NotFound,
// DataLoss (empty file, bad header, wrong magic), FailedPrecondition (a
// future format), naming the file.
absl::StatusOr<JournalContents> InspectJournal(absl::string_view path);

struct Recovery {
  std::unique_ptr<Engine> engine;
  // Whether a snapshot was loaded, and the records replayed after it.
  bool from_snapshot = false;
  int64_t records_replayed = 0;
  // Records of a torn or corrupt tail that were dropped (and cut off the
  // file, so appending can resume), with the reason.
  int64_t records_dropped = 0;
  std::string dropped_reason;
  // The snapshot's application data, if any.
  std::string application_data;
};

// Rebuilds an engine from the snapshot at `snapshot_path` (skipped when the
// path is empty or no file exists there) and the journal at `journal_path`
// (skipped likewise), replaying the journal records newer than the
// snapshot. A torn tail is truncated from the journal file. Errors: as
// ReadSnapshot and InspectJournal; FailedPrecondition when a record cannot
// be applied (the journal does not belong to the snapshot).
absl::StatusOr<Recovery> Recover(absl::string_view snapshot_path,
                                 absl::string_view journal_path);

}  // namespace allot

#endif  // ALLOT_JOURNAL_H_
