// Copyright 2026 The allot Authors.

#include "allot/hash.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace allot {
namespace {

// Messages up to this size are built on the stack and hashed in one call;
// longer ones are streamed. Both give the same XXH3 value.
constexpr size_t kStackMessageBytes = 256;

}  // namespace

uint64_t UnitHash(HashPurpose purpose, absl::string_view salt,
                  absl::string_view unit) {
  const size_t size = 3 + salt.size() + unit.size();
  if (size <= kStackMessageBytes) {
    std::array<char, kStackMessageBytes> message;
    message[0] = static_cast<char>(kHashVersion);
    message[1] = static_cast<char>(purpose);
    if (!salt.empty()) std::memcpy(&message[2], salt.data(), salt.size());
    message[2 + salt.size()] = '\0';
    if (!unit.empty()) {
      std::memcpy(&message[3 + salt.size()], unit.data(), unit.size());
    }
    return XXH3_64bits(message.data(), size);
  }
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  const char header[2] = {static_cast<char>(kHashVersion),
                          static_cast<char>(purpose)};
  const char separator = '\0';
  XXH3_64bits_update(&state, header, sizeof(header));
  XXH3_64bits_update(&state, salt.data(), salt.size());
  XXH3_64bits_update(&state, &separator, 1);
  XXH3_64bits_update(&state, unit.data(), unit.size());
  return XXH3_64bits_digest(&state);
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
