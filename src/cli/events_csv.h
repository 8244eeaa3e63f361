// Copyright 2026 The allot Authors.
//
// The events CSV that `allot replay` reads: a header
// `time,kind,unit,value,unit_start` (or the same with a sixth column,
// `metric`), then rows in time order of kind `assign` (unit, optional
// unit_start), `outcome` (unit, a plain decimal value, and with the sixth
// column the metric it is of: a guardrail's id, or empty for the primary)
// `advance`, `add_arm` (the new arm's id in `unit`; `value` its initial
// share in (0, 1), or empty for the policy's) or `retire_arm` (the arm's id
// in `unit`, `value` "drain" or "now"); a column a row's kind does not use
// must be empty.
// Lines end with LF or CRLF; a leading UTF-8 byte-order mark is skipped.
// Separate from the command so the fuzz target reads with the same code.

#ifndef ALLOT_SRC_CLI_EVENTS_CSV_H_
#define ALLOT_SRC_CLI_EVENTS_CSV_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/types.h"

namespace allot::cli {

enum class EventKind { kAssign, kOutcome, kAdvance, kAddArm, kRetireArm };

struct Event {
  int64_t line = 0;
  absl::Time time;
  EventKind kind = EventKind::kAdvance;
  std::string unit;
  double value = 0;
  std::optional<absl::Time> unit_start;
  std::string metric;                   // outcome rows: empty for the primary metric
  std::optional<double> initial_share;  // add_arm rows
  RetireMode retire_mode = RetireMode::kDrain;  // retire_arm rows
};

// Parses row `line` (line `number` of its file) of a file with `columns`
// columns (5, or 6 with `metric`). Errors: InvalidArgument naming the
// column.
absl::StatusOr<Event> ParseEvent(absl::string_view line, int64_t number, int columns = 5);

// Reads every row of an events CSV from `in`; `path` names it in errors.
// Errors: InvalidArgument "PATH:LINE: ..." for a bad header or row, rows out
// of time order or no rows; DataLoss when reading fails.
absl::StatusOr<std::vector<Event>> ReadEvents(std::istream& in, absl::string_view path);

// Opens `path` and reads it as above. Errors: as CheckReadableFile, then as
// the stream version.
absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path);

}  // namespace allot::cli

#endif  // ALLOT_SRC_CLI_EVENTS_CSV_H_
