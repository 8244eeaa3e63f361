// Copyright 2026 The allot Authors.
//
// Snapshots: the whole engine (experiments and their lifecycle, allocation
// histories, the open-unit ledgers, per-epoch aggregates, reports, tallies
// and schedules) in one file. The engine has no random generator state to
// save: every random draw is seeded from the experiment's seed and the
// report's index, so a restored engine makes the same draws.
//
//   absl::Status s = allot::WriteSnapshot(engine, "/var/lib/router/allot.snapshot");
//   absl::StatusOr<std::unique_ptr<allot::Engine>> restored =
//       allot::ReadSnapshot("/var/lib/router/allot.snapshot");
//
// File layout (little-endian): "ALLOTSNP" (8 bytes), format version (u32),
// reserved (u32, must be 0), payload size (u64), XXH3-64 checksum of the payload
// (u64), then the payload (cereal portable binary). Writing is atomic: a
// temporary file in the same directory, written, flushed and fsync'ed, then
// renamed over the target, then the directory fsync'ed.

#ifndef ALLOT_SNAPSHOT_H_
#define ALLOT_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace allot {

class Engine;

inline constexpr uint32_t kSnapshotFormat = 1;
// Snapshots larger than this are refused as oversized.
inline constexpr uint64_t kMaxSnapshotBytes = uint64_t{16} << 30;

// Writes `engine`'s whole state to `path` atomically, with
// `application_data` stored beside it. Consistent with respect to
// concurrent calls (they wait while the state is copied). Errors: DataLoss
// or PermissionDenied naming the file when writing fails; the previous file
// at `path`, if any, is then untouched.
absl::Status WriteSnapshot(const Engine& engine, absl::string_view path,
                           absl::string_view application_data = "");

// Returns an engine restored from `path`: the same assignments, future
// reports and P(best) as the engine that wrote it. Optionally returns the
// application data. Errors: NotFound; DataLoss naming the file and what is
// wrong (empty, truncated, wrong magic, bad checksum, corrupt payload, or
// decoded values that mean nothing: a negative count, a sum that is not
// finite, a next due time off the grid; InspectSnapshot refuses the same);
// FailedPrecondition for a newer format.
absl::StatusOr<std::unique_ptr<Engine>> ReadSnapshot(
    absl::string_view path, std::string* application_data = nullptr);

// What a snapshot holds, for `allot snapshot inspect`.
struct SnapshotExperimentSummary {
  std::string id;
  std::string state;    // created, running, stopped
  std::string surface;  // empty when it has none
  int64_t epochs = 0;
  int64_t open_units = 0;
  int64_t reports = 0;
};
struct SnapshotContents {
  uint32_t format = 0;
  uint64_t payload_bytes = 0;
  absl::Time clock;
  uint64_t journal_sequence = 0;
  std::vector<SnapshotExperimentSummary> experiments;
  std::vector<std::string> deleted_experiments;
  std::string application_data;
};

// Errors: as ReadSnapshot.
absl::StatusOr<SnapshotContents> InspectSnapshot(absl::string_view path);

}  // namespace allot

#endif  // ALLOT_SNAPSHOT_H_
