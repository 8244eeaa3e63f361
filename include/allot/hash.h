// Copyright 2026 The allot Authors.
//
// The hash layer's hash: a specified, versioned 64-bit hash of a unit under an
// experiment's salt. Every replica, machine, compiler and release of allot
// computes the same value for the same inputs, so assignments agree without a
// shared store; the golden vectors in tests/hash_test.cc pin it.
//
// Byte layout, hash version 1 (kHashVersion). The hashed message is
//
//   offset  size  content
//   0       1     hash version: 0x01
//   1       1     purpose: 0x41 ('A') for the arm bucket, 0x48 ('H') for the
//                 holdout decision
//   2       n     the salt's bytes (UTF-8 as given; must not contain 0x00)
//   2+n     1     separator: 0x00
//   3+n     m     the unit's bytes, verbatim (any bytes, m may be 0)
//
// and the hash is XXH3-64 (xxHash 0.8 specification, seed 0) of that message,
// read as an unsigned 64-bit integer. Because the salt holds no 0x00 byte the
// encoding is injective: distinct (salt, unit) pairs hash distinct messages.
//
// From the hash:
//   bucket  = hash >> (64 - kBucketBits)          (the top 16 bits)
//   holdout = (holdout_hash >> 11) * 2^-53 < share (a uniform draw in [0, 1))
//
// Example, in Python with the `xxhash` package:
//   xxhash.xxh3_64_intdigest(b"\x01A" + salt + b"\x00" + unit)
//
//   uint64_t h = allot::UnitHash(allot::HashPurpose::kArm, "exp-salt", "user-42");
//   uint32_t b = allot::BucketOf(h);

#ifndef ALLOT_HASH_H_
#define ALLOT_HASH_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace allot {

// The version of the byte layout above. A new version is a new major release:
// it reassigns every unit.
inline constexpr uint8_t kHashVersion = 1;

// The table has 2^kBucketBits buckets.
inline constexpr int kBucketBits = 16;
inline constexpr uint32_t kNumBuckets = uint32_t{1} << kBucketBits;

// Units longer than this are refused as oversized input.
inline constexpr size_t kMaxUnitBytes = 64 * 1024;
// Salts longer than this are refused.
inline constexpr size_t kMaxSaltBytes = 1024;

// What a hash decides; each purpose hashes a different message, so holdout
// membership is independent of the arm bucket.
enum class HashPurpose : uint8_t { kArm = 0x41, kHoldout = 0x48 };

// Returns the version-1 hash of `unit` under `salt` for `purpose`, as laid out
// above. REQUIRES: ValidateSalt(salt) is OK.
uint64_t UnitHash(HashPurpose purpose, absl::string_view salt, absl::string_view unit);

// Returns the bucket, in [0, kNumBuckets), of an arm hash.
inline uint32_t BucketOf(uint64_t arm_hash) {
  return static_cast<uint32_t>(arm_hash >> (64 - kBucketBits));
}

// Returns a uniform draw in [0, 1) from a hash (its top 53 bits).
inline double UnitInterval(uint64_t hash) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

// Returns OK, or InvalidArgument when the salt holds a 0x00 byte or is longer
// than kMaxSaltBytes. An empty salt is valid.
absl::Status ValidateSalt(absl::string_view salt);

// Returns a well-mixed seed for stream `stream` of `seed` (splitmix64):
// each reallocation's, or each simulated replicate's, reproducible draws.
uint64_t MixSeed(uint64_t seed, uint64_t stream);

// Returns OK, or InvalidArgument when the unit is empty or longer than
// kMaxUnitBytes.
absl::Status ValidateUnit(absl::string_view unit);

}  // namespace allot

#endif  // ALLOT_HASH_H_
