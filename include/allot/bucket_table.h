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

#include <cstdint>
#include <memory>
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

// One epoch's mapping from bucket to arm. Immutable; safe to share.
class BucketTable {
 public:
  // Returns the epoch-0 table for `weights`. Errors: InvalidArgument as
  // NormalizeWeights (weights are normalized here; zero weights are allowed).
  static absl::StatusOr<BucketTable> Initial(absl::Span<const double> weights);

  // Returns the table for the next epoch with `weights`, moving the fewest
  // buckets from this one. Errors: InvalidArgument when the number of weights
  // differs from num_arms() or as NormalizeWeights.
  absl::StatusOr<BucketTable> Reallocate(absl::Span<const double> weights) const;

  // Returns the arm serving `bucket`. REQUIRES: bucket < kNumBuckets.
  int ArmOf(uint32_t bucket) const { return arm_of_[bucket]; }

  // Returns the arm that held `bucket` in the first epoch.
  int FirstArmOf(uint32_t bucket) const { return (*first_arm_of_)[bucket]; }

  int num_arms() const { return static_cast<int>(counts_.size()); }

  // Buckets per arm.
  absl::Span<const uint32_t> counts() const { return counts_; }

  // Returns the number of buckets whose arm differs between the two tables.
  // REQUIRES: both come from the same history.
  static uint32_t MovedBuckets(const BucketTable& a, const BucketTable& b);

 private:
  BucketTable(std::vector<uint8_t> arm_of,
              std::shared_ptr<const std::vector<uint8_t>> first_arm_of,
              std::vector<uint32_t> counts)
      : arm_of_(std::move(arm_of)),
        first_arm_of_(std::move(first_arm_of)),
        counts_(std::move(counts)) {}

  std::vector<uint8_t> arm_of_;
  // Shared by every table of one history.
  std::shared_ptr<const std::vector<uint8_t>> first_arm_of_;
  std::vector<uint32_t> counts_;
};

}  // namespace allot

#endif  // ALLOT_BUCKET_TABLE_H_
