// Copyright 2026 The allot Authors.

#include "allot/hash.h"

#include "absl/strings/str_cat.h"

#include "hash_internal.h"

namespace allot {

uint64_t UnitHash(HashPurpose purpose, absl::string_view salt,
                  absl::string_view unit) {
  return internal::MessageHasher(static_cast<char>(purpose), salt).Hash64(unit);
}

absl::Status ValidateSalt(absl::string_view salt) {
  if (salt.size() > kMaxSaltBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("salt must be at most ", kMaxSaltBytes, " bytes, got ",
                     salt.size()));
  }
  if (salt.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("salt must not contain a NUL byte, found one at offset ",
                     salt.find('\0')));
  }
  return absl::OkStatus();
}

absl::Status ValidateUnit(absl::string_view unit) {
  if (unit.empty()) {
    return absl::InvalidArgumentError("unit must not be empty");
  }
  if (unit.size() > kMaxUnitBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("unit must be at most ", kMaxUnitBytes, " bytes, got ",
                     unit.size()));
  }
  return absl::OkStatus();
}

}  // namespace allot
