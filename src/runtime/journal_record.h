// Copyright 2026 The allot Authors.
//
// The engine's side of the journal: each state-changing call as a record,
// and the sink the engine appends records to. The engine numbers records
// (the one sequence counter); the durability plane encodes and writes them
// (durability/journal.cc) and replays them (EngineAccess::Apply).

#ifndef ALLOT_SRC_RUNTIME_JOURNAL_RECORD_H_
#define ALLOT_SRC_RUNTIME_JOURNAL_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"

namespace allot::internal {

// One state-changing call, as the journal keeps it.
struct JournalRecord {
  enum class Kind : uint8_t {
    kCreate = 1,
    kStart = 2,
    kStop = 3,
    kDelete = 4,
    kExposure = 5,
    kOutcome = 6,
    kAdvance = 7,
    // An arm change: the arm's id in `unit`; kAddArm its payload in
    // `payload` and its initial share in `value` (NaN: the policy's);
    // kRetireArm its mode in `value` (0 drain, 1 now).
    kAddArm = 8,
    kRetireArm = 9,
  };
  uint64_t sequence = 0;
  Kind kind = Kind::kAdvance;
  std::string experiment;
  std::string unit;
  absl::Time time;
  std::optional<absl::Time> unit_start;
  double value = 0;
  std::string metric;       // kOutcome: empty for the primary metric
  std::string payload;      // kAddArm only
  ExperimentConfig config;  // kCreate only
};

// Where the engine appends records. Thread-safe.
class JournalSink {
 public:
  virtual ~JournalSink() = default;
  // Appends `record`, whose sequence number the engine has set. Errors:
  // DataLoss when it cannot be written.
  virtual absl::Status Append(const JournalRecord& record) = 0;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_JOURNAL_RECORD_H_
