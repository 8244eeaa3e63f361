// Copyright 2026 The allot Authors.
//
// An arm's `config` table as the compact JSON text of its payload.

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allot/status_macros.h"
#include "config/experiment_toml.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace allot::internal {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, absl::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// The shortest text that reads back to `value`, with ".0" when it would
// otherwise read as a JSON integer: a TOML float stays a float.
std::string FormatFloat(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string FormatDate(const toml::date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year, d.month, d.day);
}

// Seconds carry their fraction only when it is not zero, without trailing
// zeros: "07:32:00", "07:32:00.5".
std::string FormatTime(const toml::time& t) {
  std::string text = absl::StrFormat("%02d:%02d:%02d", t.hour, t.minute, t.second);
  if (t.nanosecond != 0) {
    std::string fraction = absl::StrFormat("%09d", t.nanosecond);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    absl::StrAppend(&text, ".", fraction);
  }
  return text;
}

// RFC 3339: "Z" for UTC, "+HH:MM" or "-HH:MM" otherwise; a local date-time
// (no offset) keeps none, as TOML wrote it.
std::string FormatDateTime(const toml::date_time& dt) {
  std::string text = absl::StrCat(FormatDate(dt.date), "T", FormatTime(dt.time));
  if (dt.offset.has_value()) {
    const int minutes = dt.offset->minutes;
    if (minutes == 0) {
      text += "Z";
    } else {
      const int magnitude = std::abs(minutes);
      absl::StrAppend(&text, absl::StrFormat("%c%02d:%02d", minutes < 0 ? '-' : '+',
                                             magnitude / 60, magnitude % 60));
    }
  }
  return text;
}

absl::Status WriteTable(const toml::table& table, const std::string& path,
                        const FieldLines& lines, JsonWriter& w);
absl::Status WriteArray(const toml::array& array, const std::string& path,
                        const FieldLines& lines, JsonWriter& w);

// Nesting is bounded by toml++'s parser (TOML_MAX_NESTED_VALUES), so the
// recursion is too.
absl::Status WriteNode(const toml::node& node, const std::string& path,
                       const FieldLines& lines, JsonWriter& w) {
  switch (node.type()) {
    case toml::node_type::table:
      return WriteTable(*node.as_table(), path, lines, w);
    case toml::node_type::array:
      return WriteArray(*node.as_array(), path, lines, w);
    case toml::node_type::string:
      WriteString(w, node.as_string()->get());
      return absl::OkStatus();
    case toml::node_type::integer:
      w.Int64(node.as_integer()->get());
      return absl::OkStatus();
    case toml::node_type::floating_point: {
      const double value = node.as_floating_point()->get();
      if (!std::isfinite(value)) {
        return lines.Error(node, path,
                           absl::StrCat("must be a finite number (JSON has no nan or "
                                        "inf), got ",
                                        value));
      }
      const std::string text = FormatFloat(value);
      w.RawValue(text.data(), text.size(), rapidjson::kNumberType);
      return absl::OkStatus();
    }
    case toml::node_type::boolean:
      w.Bool(node.as_boolean()->get());
      return absl::OkStatus();
    case toml::node_type::date:
      WriteString(w, FormatDate(node.as_date()->get()));
      return absl::OkStatus();
    case toml::node_type::time:
      WriteString(w, FormatTime(node.as_time()->get()));
      return absl::OkStatus();
    case toml::node_type::date_time:
      WriteString(w, FormatDateTime(node.as_date_time()->get()));
      return absl::OkStatus();
    case toml::node_type::none:
      break;
  }
  return lines.Error(node, path, "has a value JSON cannot hold");
}

absl::Status WriteTable(const toml::table& table, const std::string& path,
                        const FieldLines& lines, JsonWriter& w) {
  w.StartObject();
  for (auto&& [key, value] : table) {
    const absl::string_view name(key.str().data(), key.str().size());
    WriteString(w, name);
    ALLOT_RETURN_IF_ERROR(WriteNode(value, absl::StrCat(path, ".", name), lines, w));
  }
  w.EndObject();
  return absl::OkStatus();
}

absl::Status WriteArray(const toml::array& array, const std::string& path,
                        const FieldLines& lines, JsonWriter& w) {
  w.StartArray();
  for (size_t i = 0; i < array.size(); ++i) {
    ALLOT_RETURN_IF_ERROR(
        WriteNode(*array.get(i), absl::StrCat(path, "[", i, "]"), lines, w));
  }
  w.EndArray();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> TomlTableToJson(const toml::table& table,
                                            absl::string_view path,
                                            const FieldLines& lines) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  ALLOT_RETURN_IF_ERROR(WriteTable(table, std::string(path), lines, w));
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace allot::internal
