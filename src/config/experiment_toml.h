// Copyright 2026 The allot Authors.
//
// Reading an experiment's TOML tables, shared by experiment files and the
// simulator's scenario files (whose [experiment] table holds the same
// fields). Private to allot: toml++ does not appear in public headers.

#ifndef ALLOT_SRC_CONFIG_EXPERIMENT_TOML_H_
#define ALLOT_SRC_CONFIG_EXPERIMENT_TOML_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "allot/experiment_config.h"
#include "toml++/toml.h"

namespace allot::internal {

// Where each field was read: its path ("policy.epsilon", "arms[1].weight")
// and line, so errors found later can point at the file.
class FieldLines {
 public:
  explicit FieldLines(std::string source) : source_(std::move(source)) {}
  void Set(absl::string_view path, const toml::node& node);
  void Set(absl::string_view path, int64_t line);
  // Returns `status` with "SOURCE:LINE: " before its message when it
  // carries the path of a field read from the file (see field_error.h),
  // "SOURCE: " otherwise.
  absl::Status Locate(const absl::Status& status) const;
  // Returns an InvalidArgument "SOURCE:LINE: PATH WHAT" at `node`.
  absl::Status Error(const toml::node& node, absl::string_view path,
                     absl::string_view what) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  absl::flat_hash_map<std::string, int64_t> lines_;
};

// Which top-level keys ReadExperimentTable takes.
enum class ArmsTable { kRead, kIgnore };

// Reads the experiment fields of `table` (top-level keys, [metric],
// [policy], [schedule] and, with ArmsTable::kRead, [[arms]]) into `config`.
// Keys named in `other_keys` are skipped; any other unknown key is an error.
// Errors: InvalidArgument located by `lines`. Does not validate across
// fields; call ValidateExperimentConfig and lines.Locate afterwards.
absl::Status ReadExperimentTable(const toml::table& table, ArmsTable arms,
                                 absl::Span<const absl::string_view> other_keys,
                                 ExperimentConfig& config, FieldLines& lines);

// Reads a [policy]-like table's fields into `config` (kind, epsilon,
// top_two_beta, floor, max_shift, seed, prior_alpha, prior_beta). Keys in
// `other_keys` are skipped. `prefix` is the path of the table ("policy",
// "policies[2]").
absl::Status ReadPolicyTable(const toml::table& table, absl::string_view prefix,
                             absl::Span<const absl::string_view> other_keys,
                             ExperimentConfig& config, FieldLines& lines);

// Reads an [estimate]-like table's fields (method, half_life) into
// `config`. `prefix` is the path of the table ("estimate",
// "policies[1].estimate").
absl::Status ReadEstimateTable(const toml::table& table, absl::string_view prefix,
                               ExperimentConfig& config, FieldLines& lines);

// Reads a [decision]-like table's fields (rule, alpha, min_effect,
// horizon_units) into `config`. `prefix` is the path of the table
// ("decision", "policies[1].decision").
absl::Status ReadDecisionTable(const toml::table& table, absl::string_view prefix,
                               ExperimentConfig& config, FieldLines& lines);

// Helpers for other TOML readers.
absl::StatusOr<double> ReadNumber(const toml::node& node, absl::string_view path,
                                  const FieldLines& lines);
absl::StatusOr<int64_t> ReadInteger(const toml::node& node, absl::string_view path,
                                    const FieldLines& lines);
absl::StatusOr<std::string> ReadString(const toml::node& node, absl::string_view path,
                                       const FieldLines& lines);
absl::StatusOr<bool> ReadBool(const toml::node& node, absl::string_view path,
                              const FieldLines& lines);
absl::StatusOr<absl::Duration> ReadDuration(const toml::node& node,
                                            absl::string_view path,
                                            const FieldLines& lines);
absl::StatusOr<const toml::table*> ReadTable(const toml::node& node,
                                             absl::string_view path,
                                             const FieldLines& lines);

// Returns `table` as compact JSON text (an arm's payload): tables as
// objects, their keys in byte order of their names (toml++ keeps a table's
// keys sorted, not in file order), arrays as arrays, strings, integers
// (JSON integers), floats (the shortest text that reads back to the same
// double, with ".0" when it has neither point nor exponent), booleans, and
// dates and times as RFC 3339 strings ("1979-05-27", "07:32:00.5",
// "1979-05-27T07:32:00Z", "1979-05-27T07:32:00-07:00"; a local date-time has
// no offset). `path` names the table in errors ("arms[1].config").
// Errors: InvalidArgument at the node for nan and inf, which JSON cannot
// hold: "arms[1].config.temperature must be a finite number ...".
absl::StatusOr<std::string> TomlTableToJson(const toml::table& table,
                                            absl::string_view path,
                                            const FieldLines& lines);

// Parses TOML text, turning toml++'s parse errors into InvalidArgument
// "SOURCE:LINE:COLUMN: ...".
absl::StatusOr<toml::table> ParseToml(absl::string_view text, absl::string_view source);

}  // namespace allot::internal

#endif  // ALLOT_SRC_CONFIG_EXPERIMENT_TOML_H_
