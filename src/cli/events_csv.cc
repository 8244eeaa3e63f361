// Copyright 2026 The allot Authors.

#include "cli/events_csv.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"

namespace allot::cli {
namespace {

// Splits one CSV line (RFC 4180: fields may be quoted, "" escapes a quote).
absl::StatusOr<std::vector<std::string>> SplitCsv(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return absl::InvalidArgumentError("unterminated quoted field");
  return fields;
}

// Parses a plain decimal number: an optional minus, digits with an optional
// fraction, an optional exponent. No hex, inf, nan, spaces or plus sign.
bool ParseDecimal(absl::string_view text, double* value) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    return i - from;
  };
  if (i < text.size() && text[i] == '-') ++i;
  size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size() && absl::SimpleAtod(text, value) && std::isfinite(*value);
}

absl::Status MustBeEmpty(const std::vector<std::string>& f, size_t column,
                         absl::string_view kind) {
  static constexpr const char* kColumns[] = {"time",  "kind",       "unit",
                                             "value", "unit_start", "metric"};
  if (f[column].empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      kColumns[column], " must be empty for ", kind, " rows, got ", QuoteId(f[column])));
}

}  // namespace

absl::StatusOr<Event> ParseEvent(absl::string_view line, int64_t number, int columns) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<std::string> f, SplitCsv(line));
  if (f.size() != static_cast<size_t>(columns)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", columns, " fields (time,kind,unit,value,unit_start",
                     columns == 6 ? ",metric" : "", "), got ", f.size()));
  }
  const bool has_metric = columns == 6;
  if (has_metric && f[1] != "outcome") ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, 5, f[1]));
  Event e;
  e.line = number;
  ALLOT_ASSIGN_OR_RETURN(e.time, ParseTime("time", f[0]));
  e.unit = f[2];
  if (f[1] == "assign") {
    e.kind = EventKind::kAssign;
    ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, 3, "assign"));
    if (!f[4].empty()) {
      ALLOT_ASSIGN_OR_RETURN(e.unit_start, ParseTime("unit_start", f[4]));
      if (*e.unit_start > e.time) {
        return absl::InvalidArgumentError(
            absl::StrCat("unit_start ", FormatRfc3339(*e.unit_start),
                         " must not be after the row's time ", FormatRfc3339(e.time)));
      }
    }
  } else if (f[1] == "outcome") {
    e.kind = EventKind::kOutcome;
    if (!ParseDecimal(f[3], &e.value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value must be a plain decimal number like 1 or 0.25, got ", QuoteId(f[3])));
    }
    ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, 4, "outcome"));
    if (has_metric) e.metric = f[5];
  } else if (f[1] == "advance") {
    e.kind = EventKind::kAdvance;
    for (size_t column : {2, 3, 4}) {
      ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, column, "advance"));
    }
  } else if (f[1] == "add_arm") {
    e.kind = EventKind::kAddArm;
    if (!f[3].empty()) {
      double share = 0;
      if (!ParseDecimal(f[3], &share) || !(share > 0 && share < 1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "value of an add_arm row must be empty (the policy's share) or the new "
            "arm's initial share in (0, 1), got ",
            QuoteId(f[3])));
      }
      e.initial_share = share;
    }
    ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, 4, "add_arm"));
  } else if (f[1] == "retire_arm") {
    e.kind = EventKind::kRetireArm;
    if (f[3] == "drain") {
      e.retire_mode = RetireMode::kDrain;
    } else if (f[3] == "now") {
      e.retire_mode = RetireMode::kNow;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "value of a retire_arm row must be drain or now, got ", QuoteId(f[3])));
    }
    ALLOT_RETURN_IF_ERROR(MustBeEmpty(f, 4, "retire_arm"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("kind must be assign, outcome, advance, add_arm or retire_arm, got ",
                     QuoteId(f[1])));
  }
  if (e.kind != EventKind::kAdvance) ALLOT_RETURN_IF_ERROR(CheckLineUnit(e.unit));
  return e;
}

namespace {

constexpr absl::string_view kHeader = "time,kind,unit,value,unit_start";
constexpr absl::string_view kHeaderWithMetric = "time,kind,unit,value,unit_start,metric";
constexpr absl::string_view kByteOrderMark = "\xef\xbb\xbf";

}  // namespace

absl::StatusOr<std::vector<Event>> ReadEvents(std::istream& in, absl::string_view path) {
  std::string line;
  if (!std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // A spreadsheet's UTF-8 export may start with a byte-order mark: skip it.
  if (absl::StartsWith(line, kByteOrderMark)) line.erase(0, kByteOrderMark.size());
  const int columns = line == kHeaderWithMetric ? 6 : 5;
  if (line != kHeader && line != kHeaderWithMetric) {
    const bool cr_only = line.find('\r') != std::string::npos;
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":1: header must be ", kHeader, " (optionally with ,metric), got ",
        QuoteId(line),
        cr_only ? " (lines seem to end with CR alone; allot reads LF or CRLF line ends)"
                : ""));
  }
  std::vector<Event> events;
  for (int64_t number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    absl::StatusOr<Event> e = ParseEvent(line, number, columns);
    if (!e.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", e.status().message()));
    }
    if (!events.empty() && e->time < events.back().time) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": rows must be in time order; ",
                       FormatRfc3339(e->time), " is before line ", events.back().line,
                       "'s ", FormatRfc3339(events.back().time)));
    }
    events.push_back(*std::move(e));
  }
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  if (events.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no events"));
  }
  return events;
}

absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path) {
  ALLOT_RETURN_IF_ERROR(CheckReadableFile(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  return ReadEvents(in, path);
}

}  // namespace allot::cli
