// Copyright 2026 The allot Authors.

#include "allot/field_error.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

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

}  // namespace allot
