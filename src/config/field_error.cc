// Copyright 2026 The allot Authors.

#include "allot/field_error.h"

#include <algorithm>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/id_text.h"

namespace allot {
namespace {

// The payload's type URL; its value is the field path.
constexpr absl::string_view kFieldPayload = "type.allot/field";

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view what) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, " ", what));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

std::string ErrorField(const absl::Status& status) {
  const auto field = status.GetPayload(kFieldPayload);
  return field.has_value() ? std::string(*field) : std::string();
}

absl::Status RenameField(const absl::Status& status, absl::string_view from,
                         absl::string_view to) {
  const std::string field = ErrorField(status);
  if (status.ok() || field.empty() || !absl::StartsWith(field, from)) return status;
  const std::string renamed = absl::StrCat(to, field.substr(from.size()));
  absl::string_view message = status.message();
  if (absl::StartsWith(message, field)) message.remove_prefix(field.size());
  absl::Status out(status.code(), absl::StrCat(renamed, message));
  out.SetPayload(kFieldPayload, absl::Cord(renamed));
  return out;
}

std::string QuoteId(absl::string_view text) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = internal::DecodeUtf8(text, pos, &cp);
    if (pos + std::max<size_t>(length, 1) > kMaxQuotedBytes) break;
    if (length == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(text[pos]));
      ++pos;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x80 && internal::IsInvisible(cp)) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned>(cp));
    } else if (internal::IsInvisible(cp)) {
      absl::StrAppendFormat(&out, "\\u{%04X}", static_cast<unsigned>(cp));
    } else {
      out.append(text.data() + pos, length);
    }
    pos += length;
  }
  out.push_back('"');
  if (pos < text.size()) {
    out.insert(out.size() - 1, "...");
    absl::StrAppend(&out, " (", text.size(), " bytes)");
  }
  return out;
}

}  // namespace allot
