// Copyright 2026 The allot Authors.
//
// The bucket table: which arm serves each of the kNumBuckets hash buckets in
// one epoch, and how it changes at a reallocation.
//
// Bucket counts come from the weights by largest remainder. The first table
// gives each arm one contiguous block, in arm order. A reallocation moves as
// few buckets as possible: only surplus buckets of arms that lost weight move,
// only to arms that gained, so the share of buckets (and of units) that move
// equals the total-variation distance between the old and new bucket counts,
// which is within K / (2 kNumBuckets) of the distance between the weights.
// Where a choice remains, a bucket goes back to the arm that held it first;
// then an arm gives up buckets it took from others before its own, so as few
// distinct units as possible are ever disturbed. The table is a pure function
// of the weight history: replicas rebuild identical tables without talking.
//
//   absl::StatusOr<allot::BucketTable> t0 = allot::BucketTable::Initial({0.5, 0.5});
//   absl::StatusOr<allot::BucketTable> t1 = t0->Reallocate({0.3, 0.7});
//   int arm = t1->ArmOf(allot::BucketOf(hash));

#ifndef ALLOT_BUCKET_TABLE_H_
#define ALLOT_BUCKET_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "allot/hash.h"

namespace allot {

// Returns the number of buckets per arm for `weights` by largest remainder:
// each arm gets floor(w B) and the leftover buckets go to the largest
// fractional parts, ties to the lower arm index. Sums to kNumBuckets.
// REQUIRES: weights are non-negative and sum to 1 (see NormalizeWeights).
std::vector<uint32_t> BucketCounts(absl::Span<const double> weights);

// Buckets [begin, end), all served by `arm`.
struct BucketRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  int arm = 0;
};

// One epoch's mapping from bucket to arm. Immutable; safe to share.
//
// Kept as runs of consecutive buckets that share their arm and first arm, so
// a table costs bytes per run rather than per bucket, and Reallocate works on
// runs: O(runs + arms log arms), never O(kNumBuckets). Minimal movement keeps
// tables in few runs (tens for a few arms, a few hundred for ten arms after
// thousands of small reallocations).
class BucketTable {
 public:
  // Returns the epoch-0 table for `weights`. Errors: InvalidArgument as
  // NormalizeWeights (weights are normalized here; zero weights are allowed).
  static absl::StatusOr<BucketTable> Initial(absl::Span<const double> weights);

  // Returns the table for the next epoch with `weights`, moving the fewest
  // buckets from this one. Weights past num_arms() are new arms (indices
  // num_arms() and up): they start with no bucket and take theirs from the
  // arms that lose weight, so when every old weight is scaled by (1 - s) and
  // a new arm gets s, only the new arm's buckets move. Errors:
  // InvalidArgument when there are fewer weights than num_arms() or more
  // than kMaxArms, or as NormalizeWeights.
  absl::StatusOr<BucketTable> Reallocate(absl::Span<const double> weights) const;

  // Returns the arm serving `bucket`: a binary search over the runs (for a
  // lookup per unit, see Runs). REQUIRES: bucket < kNumBuckets.
  int ArmOf(uint32_t bucket) const { return RunOf(bucket).arm; }

  // Returns the arm that held `bucket` in the first epoch.
  int FirstArmOf(uint32_t bucket) const { return RunOf(bucket).first_arm; }

  int num_arms() const { return static_cast<int>(counts_.size()); }

  // Buckets per arm.
  absl::Span<const uint32_t> counts() const { return counts_; }

  // Returns the table as its maximal runs of buckets sharing an arm, in
  // bucket order; they cover every bucket.
  std::vector<BucketRange> Runs() const;

  // Returns the maximal ranges of buckets whose arm differs between the two
  // tables, with their arm in `to`, in bucket order. REQUIRES: both come from
  // the same history.
  static std::vector<BucketRange> Changes(const BucketTable& from, const BucketTable& to);

  // Returns the number of buckets whose arm differs between the two tables.
  // REQUIRES: both come from the same history.
  static uint32_t MovedBuckets(const BucketTable& a, const BucketTable& b);

  // Returns the bytes this table holds on the heap.
  size_t HeapBytes() const {
    return runs_.capacity() * sizeof(Run) + counts_.capacity() * sizeof(uint32_t);
  }

 private:
  // Buckets from `begin` to the next run's begin (or kNumBuckets).
  struct Run {
    uint32_t begin;
    uint8_t arm;
    uint8_t first_arm;
  };

  BucketTable(std::vector<Run> runs, std::vector<uint32_t> counts)
      : runs_(std::move(runs)), counts_(std::move(counts)) {}

  const Run& RunOf(uint32_t bucket) const;
  uint32_t EndOf(size_t run) const {
    return run + 1 < runs_.size() ? runs_[run + 1].begin : kNumBuckets;
  }

  // Never empty; the first begins at 0; neighbours differ in arm or first arm.
  std::vector<Run> runs_;
  std::vector<uint32_t> counts_;
};

}  // namespace allot

#endif  // ALLOT_BUCKET_TABLE_H_
