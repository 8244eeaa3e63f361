// Copyright 2026 The allot Authors.
//
// The hash of hash.h as inline functions, so the assignment hot path compiles
// it in place (xxHash is header-only here). A message is its head (version,
// purpose, salt, separator: fixed per experiment, so built once) followed by
// the unit's bytes. Not API.

#ifndef ALLOT_SRC_ASSIGNMENT_HASH_INTERNAL_H_
#define ALLOT_SRC_ASSIGNMENT_HASH_INTERNAL_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "allot/hash.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace allot::internal {

// Messages up to this size are built on the stack and hashed in one call;
// longer ones are streamed. Both give the same XXH3 value.
inline constexpr size_t kStackMessageBytes = 256;

// Returns the head of hash.h's message for `purpose` and `salt`.
inline std::string MessageHead(char purpose, absl::string_view salt) {
  std::string head(2 + salt.size() + 1, '\0');  // ends with the separator
  head[0] = static_cast<char>(kHashVersion);
  head[1] = purpose;
  if (!salt.empty()) std::memcpy(&head[2], salt.data(), salt.size());
  return head;
}

// Returns XXH3-64 (or XXH3-128) of `head` followed by `unit`, by copying
// both into one buffer.
template <typename Result, Result (*OneShot)(const void*, size_t),
          XXH_errorcode (*Reset)(XXH3_state_t*),
          XXH_errorcode (*Update)(XXH3_state_t*, const void*, size_t),
          Result (*Digest)(const XXH3_state_t*)>
inline Result HashMessage(absl::string_view head, absl::string_view unit) {
  const size_t size = head.size() + unit.size();
  if (size <= kStackMessageBytes) {
    char message[kStackMessageBytes];
    std::memcpy(message, head.data(), head.size());
    if (!unit.empty()) std::memcpy(message + head.size(), unit.data(), unit.size());
    return OneShot(message, size);
  }
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  Reset(&state);
  Update(&state, head.data(), head.size());
  Update(&state, unit.data(), unit.size());
  return Digest(&state);
}

inline uint64_t HashMessage64(absl::string_view head, absl::string_view unit) {
  return HashMessage<XXH64_hash_t, XXH3_64bits, XXH3_64bits_reset, XXH3_64bits_update,
                     XXH3_64bits_digest>(head, unit);
}

inline XXH128_hash_t HashMessage128(absl::string_view head, absl::string_view unit) {
  return HashMessage<XXH128_hash_t, XXH3_128bits, XXH3_128bits_reset, XXH3_128bits_update,
                     XXH3_128bits_digest>(head, unit);
}

// Hashes the messages of one purpose and salt: the head is built once, and
// for the common sizes (a message of 17 to 128 bytes, a unit of 8 bytes or
// more) XXH3 is computed reading the head and the unit where they lie.
// Copying them into one buffer first costs more than the hash itself: XXH3's
// 8-byte reads then straddle the copy's stores, and the CPU cannot forward
// those stores to the reads, so each hash waits for the copy to reach the
// cache. The values are XXH3's exactly (tests/hash_test.cc compares them
// over every size).
class MessageHasher {
 public:
  MessageHasher(char purpose, absl::string_view salt)
      : head_(MessageHead(purpose, salt)), head_size_(head_.size()) {
    head_.append(8, '\0');  // zeros, so an 8-byte read at any head offset is safe
  }

  absl::string_view head() const { return {head_.data(), head_size_}; }

  uint64_t Hash64(absl::string_view unit) const {
    const size_t size = head_size_ + unit.size();
    if (unit.size() < 8 || size <= 16 || size > 128) {
      return HashMessage64(head(), unit);
    }
    // XXH3-64 of 17 to 128 bytes: the sum of the 16-byte blocks counted i
    // from the front and from the back, each mixed with its part of the
    // secret, for i below ceil(size / 32); then avalanched.
    uint64_t acc = size * XXH_PRIME64_1;
    const size_t rounds = (size - 1) / 32 + 1;
    for (size_t i = 0; i < rounds; ++i) {
      acc += Mix16(16 * i, unit, XXH3_kSecret + 32 * i);
      acc += Mix16(size - 16 * (i + 1), unit, XXH3_kSecret + 32 * i + 16);
    }
    return XXH3_avalanche(acc);
  }

  XXH128_hash_t Hash128(absl::string_view unit) const {
    const size_t size = head_size_ + unit.size();
    if (unit.size() < 8 || size <= 16 || size > 128) {
      return HashMessage128(head(), unit);
    }
    // XXH3-128 of 17 to 128 bytes: the same pairs of blocks, innermost pair
    // last, each pair mixed into both halves of the accumulator.
    uint64_t low = size * XXH_PRIME64_1;
    uint64_t high = 0;
    const size_t rounds = (size - 1) / 32 + 1;
    for (size_t i = rounds; i-- > 0;) {
      const size_t front = 16 * i;
      const size_t back = size - 16 * (i + 1);
      const uint8_t* secret = XXH3_kSecret + 32 * i;
      low += Mix16(front, unit, secret);
      low ^= Read64(back, unit) + Read64(back + 8, unit);
      high += Mix16(back, unit, secret + 16);
      high ^= Read64(front, unit) + Read64(front + 8, unit);
    }
    XXH128_hash_t h;
    h.low64 = XXH3_avalanche(low + high);
    h.high64 = uint64_t{0} - XXH3_avalanche(low * XXH_PRIME64_1 + high * XXH_PRIME64_4 +
                                            size * XXH_PRIME64_2);
    return h;
  }

 private:
  // The message's 8 bytes at `offset`, little-endian. REQUIRES: offset + 8
  // <= message size, unit.size() >= 8.
  uint64_t Read64(size_t offset, absl::string_view unit) const {
    if (offset >= head_size_) return XXH_readLE64(unit.data() + (offset - head_size_));
    const size_t from_head = head_size_ - offset;  // zeros past the head
    const uint64_t word = XXH_readLE64(head_.data() + offset);
    if (from_head >= 8) return word;
    return word | (XXH_readLE64(unit.data()) << (8 * from_head));
  }

  uint64_t Mix16(size_t offset, absl::string_view unit, const uint8_t* secret) const {
    return XXH3_mul128_fold64(Read64(offset, unit) ^ XXH_readLE64(secret),
                              Read64(offset + 8, unit) ^ XXH_readLE64(secret + 8));
  }

  std::string head_;
  size_t head_size_;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_ASSIGNMENT_HASH_INTERNAL_H_
