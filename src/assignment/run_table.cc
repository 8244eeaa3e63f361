// Copyright 2026 The allot Authors.

#include "assignment/run_table.h"

#include <algorithm>

namespace allot::internal {

RunTable RunTable::From(const BucketTable& table) {
  const std::vector<BucketRange> ranges = table.Runs();
  const uint32_t runs = static_cast<uint32_t>(ranges.size());
  RunTable out;
  if (size_t{3} * runs >= kNumBuckets) {
    out.data_ = std::make_unique<uint16_t[]>(kNumBuckets / 2);
    uint8_t* arms = reinterpret_cast<uint8_t*>(out.data_.get());
    for (const BucketRange& range : ranges) {
      std::fill(arms + range.begin, arms + range.end, static_cast<uint8_t>(range.arm));
    }
    return out;
  }
  out.num_runs_ = runs;
  out.data_ = std::make_unique<uint16_t[]>(Halves(runs));
  uint8_t* arms = reinterpret_cast<uint8_t*>(out.data_.get()) + 2 * size_t{runs};
  for (uint32_t r = 0; r < runs; ++r) {
    out.data_[r] = static_cast<uint16_t>(ranges[r].begin);
    arms[r] = static_cast<uint8_t>(ranges[r].arm);
  }
  return out;
}

std::vector<uint32_t> RunTable::Counts(int num_arms) const {
  std::vector<uint32_t> counts(num_arms);
  if (num_runs_ == 0) {
    for (uint32_t b = 0; b < kNumBuckets; ++b) ++counts[bytes()[b]];
    return counts;
  }
  const uint16_t* starts = data_.get();
  const uint8_t* arms = bytes() + 2 * size_t{num_runs_};
  for (uint32_t r = 0; r < num_runs_; ++r) {
    const uint32_t end = r + 1 < num_runs_ ? starts[r + 1] : kNumBuckets;
    counts[arms[r]] += end - starts[r];
  }
  return counts;
}

}  // namespace allot::internal
