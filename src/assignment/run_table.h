// Copyright 2026 The allot Authors.
//
// One epoch's bucket table kept compactly: as the runs of consecutive buckets
// that share an arm (a run's first bucket and its arm, 3 bytes a run), or as
// the flat 65,536-byte array when that is smaller. Minimal movement keeps
// tables in few runs (tens for a few arms, a few hundred for ten arms after
// thousands of small reallocations), so an epoch costs hundreds of bytes
// instead of 64 KiB, and a lookup is a binary search over the runs whatever
// the number of epochs. Not API.
//
//   internal::RunTable runs = internal::RunTable::From(table);
//   int arm = runs.ArmOf(bucket);  // == table.ArmOf(bucket)

#ifndef ALLOT_SRC_ASSIGNMENT_RUN_TABLE_H_
#define ALLOT_SRC_ASSIGNMENT_RUN_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/attributes.h"
#include "allot/bucket_table.h"
#include "allot/hash.h"

namespace allot::internal {

// Immutable once built; safe to share.
class RunTable {
 public:
  RunTable() = default;

  // Returns `table` as runs, or flat when runs would take more bytes.
  static RunTable From(const BucketTable& table);

  // Returns the arm serving `bucket`. REQUIRES: bucket < kNumBuckets and a
  // table built by From.
  ABSL_ATTRIBUTE_ALWAYS_INLINE int ArmOf(uint32_t bucket) const {
    if (num_runs_ == 0) return bytes()[bucket];
    // The last run starting at or before `bucket` (the first starts at 0);
    // the loop runs about log2(num_runs_) times whatever the answer.
    const uint16_t* starts = data_.get();
    const uint16_t* base = starts;
    for (uint32_t n = num_runs_; n > 1;) {
      const uint32_t half = n / 2;
      base = base[half] <= bucket ? base + half : base;
      n -= half;
    }
    return bytes()[2 * size_t{num_runs_} + static_cast<size_t>(base - starts)];
  }

  // Returns the number of buckets of each of `num_arms` arms.
  std::vector<uint32_t> Counts(int num_arms) const;

  // Returns the bytes this table holds on the heap.
  size_t HeapBytes() const {
    return num_runs_ == 0 ? (data_ ? kNumBuckets : 0) : 2 * Halves(num_runs_);
  }

 private:
  // The uint16 words that hold n runs: n first buckets, then n arm bytes.
  static size_t Halves(uint32_t n) { return n + (n + 1) / 2; }
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(data_.get()); }

  // 0: data_ is the flat array of kNumBuckets arm bytes; else data_ holds
  // num_runs_ uint16 first buckets, then num_runs_ arm bytes.
  uint32_t num_runs_ = 0;
  std::unique_ptr<uint16_t[]> data_;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_ASSIGNMENT_RUN_TABLE_H_
