// Copyright 2026 The allot Authors.
//
// The subcommands of the `allot` tool. Each Add*Command registers one
// subcommand on the app; when it runs, it stores its exit code in
// `exit_code`.

#ifndef ALLOT_SRC_CLI_COMMANDS_H_
#define ALLOT_SRC_CLI_COMMANDS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace allot::cli {

void AddAssignCommand(CLI::App& app, int& exit_code);
void AddReplayCommand(CLI::App& app, int& exit_code);
void AddWeightsCommand(CLI::App& app, int& exit_code);
void AddSnapshotCommand(CLI::App& app, int& exit_code);
void AddSimulateCommand(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);
void AddStoreCommand(CLI::App& app, int& exit_code);
void AddLearnCommand(CLI::App& app, int& exit_code);

// Exit codes of every command: 0 success, kExitUsage for a command line
// CLI11 refuses (unknown option, missing or unconvertible argument),
// kExitError for every other error.
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Prints "allot COMMAND: MESSAGE" to stderr and sets `exit_code` to
// kExitError.
void ReportError(absl::string_view command, const absl::Status& status, int& exit_code);

// Returns `value` in its shortest form that reads back to the same double.
std::string FormatNumber(double value);

// Returns OK when `unit` can be read from and written to allot's line-based
// files: ValidateUnit (non-empty, at most kMaxUnitBytes) and no tab, CR, LF
// or NUL, which those files cannot represent. Errors: InvalidArgument naming
// the byte and its offset.
absl::Status CheckLineUnit(absl::string_view unit);

// Returns `text` for a TSV field: backslash as \\, control bytes and bytes
// that are not UTF-8 as \xNN; anything else as it is.
std::string EscapeTsv(absl::string_view text);

// Returns `text` as valid UTF-8 for JSON output: each byte that is not part
// of a valid UTF-8 sequence becomes U+FFFD.
std::string ValidUtf8(absl::string_view text);

// Returns OK when `path` names a file that can be opened for reading.
// Errors: NotFound or PermissionDenied with the system's reason;
// InvalidArgument when it is a directory.
absl::Status CheckReadableFile(const std::string& path);

// Parses a --seed: a plain decimal integer in [0, 2^63 - 1], the range of
// the seeds experiment and scenario files take. Errors: InvalidArgument
// naming `flag` and the range.
absl::StatusOr<uint64_t> ParseSeed(absl::string_view flag, absl::string_view text);

// Writes `files` (name, contents) into directory `dir` as one set: each to a
// temporary name first (written and fsynced), then all renamed into place.
// When a write fails, the temporaries are removed and `dir` is left as it
// was; the error gives the system's reason ("No space left on device").
absl::Status WriteOutputs(const std::string& dir,
                          const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace allot::cli

#endif  // ALLOT_SRC_CLI_COMMANDS_H_
