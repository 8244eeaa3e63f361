// Copyright 2026 The allot Authors.
//
// The hash of hash.h as an inline function, so the assignment hot path
// compiles it in place (xxHash is header-only here). Not API.

#ifndef ALLOT_SRC_HASH_INTERNAL_H_
#define ALLOT_SRC_HASH_INTERNAL_H_

#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "allot/hash.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace allot::internal {

// Messages up to this size are built on the stack and hashed in one call;
// longer ones are streamed. Both give the same XXH3 value.
inline constexpr size_t kStackMessageBytes = 256;

// Feeds the message of hash.h's byte layout (version, purpose byte, salt,
// separator, unit) to `update(data, size)`, piece by piece.
template <typename Update>
void StreamMessage(char purpose, absl::string_view salt, absl::string_view unit,
                   Update update) {
  const char header[2] = {static_cast<char>(kHashVersion), purpose};
  const char separator = '\0';
  update(header, sizeof(header));
  update(salt.data(), salt.size());
  update(&separator, 1);
  update(unit.data(), unit.size());
}

// Writes the same message into `out` and returns its size.
// REQUIRES: 3 + salt.size() + unit.size() <= kStackMessageBytes.
inline size_t WriteMessage(char* out, char purpose, absl::string_view salt,
                           absl::string_view unit) {
  out[0] = static_cast<char>(kHashVersion);
  out[1] = purpose;
  if (!salt.empty()) std::memcpy(out + 2, salt.data(), salt.size());
  out[2 + salt.size()] = '\0';
  if (!unit.empty()) std::memcpy(out + 3 + salt.size(), unit.data(), unit.size());
  return 3 + salt.size() + unit.size();
}

inline uint64_t InlineUnitHash(HashPurpose purpose, absl::string_view salt,
                               absl::string_view unit) {
  const char p = static_cast<char>(purpose);
  if (3 + salt.size() + unit.size() <= kStackMessageBytes) {
    char message[kStackMessageBytes];
    return XXH3_64bits(message, WriteMessage(message, p, salt, unit));
  }
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  StreamMessage(p, salt, unit, [&](const char* data, size_t size) {
    XXH3_64bits_update(&state, data, size);
  });
  return XXH3_64bits_digest(&state);
}

}  // namespace allot::internal

#endif  // ALLOT_SRC_HASH_INTERNAL_H_
