// Copyright 2026 The allot Authors.

#include "allot/hash.h"

#include "absl/strings/str_cat.h"

#include "assignment/hash_internal.h"

namespace allot {

uint64_t UnitHash(HashPurpose purpose, absl::string_view salt, absl::string_view unit) {
  return internal::MessageHasher(static_cast<char>(purpose), salt).Hash64(unit);
}

absl::Status ValidateSalt(absl::string_view salt) {
  if (salt.size() > kMaxSaltBytes) {
    return absl::InvalidArgumentError(absl::StrCat("salt must be at most ", kMaxSaltBytes,
                                                   " bytes, got ", salt.size()));
  }
  if (salt.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "salt must not contain a NUL byte, found one at offset ", salt.find('\0')));
  }
  return absl::OkStatus();
}

absl::Status ValidateUnit(absl::string_view unit) {
  if (unit.empty()) {
    return absl::InvalidArgumentError("unit must not be empty");
  }
  if (unit.size() > kMaxUnitBytes) {
    return absl::InvalidArgumentError(absl::StrCat("unit must be at most ", kMaxUnitBytes,
                                                   " bytes, got ", unit.size()));
  }
  return absl::OkStatus();
}

uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace allot
