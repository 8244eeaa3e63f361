// Copyright 2026 The allot Authors.

#include "allot/bucket_table.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "allot/weights.h"

namespace allot {

std::vector<uint32_t> BucketCounts(absl::Span<const double> weights) {
  const size_t k = weights.size();
  std::vector<uint32_t> counts(k);
  std::vector<double> remainder(k);
  int64_t assigned = 0;
  for (size_t a = 0; a < k; ++a) {
    const double quota = weights[a] * static_cast<double>(kNumBuckets);
    const double whole = std::floor(quota);
    counts[a] = static_cast<uint32_t>(whole);
    remainder[a] = quota - whole;
    assigned += counts[a];
  }
  // Arms ordered by largest remainder, ties to the lower index.
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return remainder[x] > remainder[y]; });
  int64_t left = static_cast<int64_t>(kNumBuckets) - assigned;
  // Weights that sum to 1 leave 0 <= left < k; the loops also absorb the
  // rounding of sums a few ulps away from 1.
  for (size_t i = 0; left > 0; i = (i + 1) % k, --left) ++counts[order[i]];
  for (size_t i = k; left < 0; --i) {
    if (i == 0) i = k;
    const size_t a = order[i - 1];
    if (counts[a] > 0) {
      --counts[a];
      ++left;
    }
  }
  return counts;
}

absl::StatusOr<BucketTable> BucketTable::Initial(absl::Span<const double> weights) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kAllow));
  std::vector<uint32_t> counts = BucketCounts(normalized);
  std::vector<uint8_t> arm_of(kNumBuckets);
  uint32_t next = 0;
  for (size_t a = 0; a < counts.size(); ++a) {
    std::fill_n(arm_of.begin() + next, counts[a], static_cast<uint8_t>(a));
    next += counts[a];
  }
  auto first = std::make_shared<const std::vector<uint8_t>>(arm_of);
  return BucketTable(std::move(arm_of), std::move(first), std::move(counts));
}

absl::StatusOr<BucketTable> BucketTable::Reallocate(
    absl::Span<const double> weights) const {
  if (static_cast<int>(weights.size()) != num_arms()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a reallocation needs one weight per arm (", num_arms(), "), got ",
                     weights.size()));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kAllow));
  std::vector<uint32_t> target = BucketCounts(normalized);
  const size_t k = target.size();
  std::vector<int64_t> surplus(k), deficit(k);
  for (size_t a = 0; a < k; ++a) {
    const int64_t diff = int64_t{counts_[a]} - int64_t{target[a]};
    surplus[a] = std::max<int64_t>(diff, 0);
    deficit[a] = std::max<int64_t>(-diff, 0);
  }
  const std::vector<uint8_t>& first = *first_arm_of_;
  std::vector<uint8_t> arm_of = arm_of_;

  // 1. Surplus buckets go home when their first arm is gaining.
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    const uint8_t a = arm_of_[b];
    const uint8_t home = first[b];
    if (a != home && surplus[a] > 0 && deficit[home] > 0) {
      arm_of[b] = home;
      --surplus[a];
      --deficit[home];
    }
  }
  // 2. Losing arms release buckets they took from others (units already
  //    moved once), then 3. their own, from the end of their first block.
  std::vector<uint32_t> released;
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    const uint8_t a = arm_of[b];
    if (a != first[b] && surplus[a] > 0 && arm_of_[b] == a) {
      released.push_back(b);
      --surplus[a];
    }
  }
  for (uint32_t b = kNumBuckets; b-- > 0;) {
    const uint8_t a = arm_of[b];
    if (a == first[b] && surplus[a] > 0 && arm_of_[b] == a) {
      released.push_back(b);
      --surplus[a];
    }
  }
  // Released buckets go to the gaining arms, in arm order.
  size_t next = 0;
  for (size_t g = 0; g < k; ++g) {
    for (; deficit[g] > 0; --deficit[g]) {
      arm_of[released[next++]] = static_cast<uint8_t>(g);
    }
  }
  return BucketTable(std::move(arm_of), first_arm_of_, std::move(target));
}

uint32_t BucketTable::MovedBuckets(const BucketTable& a, const BucketTable& b) {
  uint32_t moved = 0;
  for (uint32_t i = 0; i < kNumBuckets; ++i) {
    moved += a.arm_of_[i] != b.arm_of_[i];
  }
  return moved;
}

}  // namespace allot
