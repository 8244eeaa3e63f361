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
  // One block per arm, in arm order; an arm with no bucket has no block.
  std::vector<Run> runs;
  uint32_t next = 0;
  for (size_t a = 0; a < counts.size(); ++a) {
    if (counts[a] == 0) continue;
    runs.push_back({next, static_cast<uint8_t>(a), static_cast<uint8_t>(a)});
    next += counts[a];
  }
  return BucketTable(std::move(runs), std::move(counts));
}

// The rule, bucket by bucket (what the steps below do a run at a time):
//  1. In bucket order, a bucket away from its first arm goes home while its
//     arm has surplus and its first arm a deficit.
//  2. In bucket order, losing arms release buckets they took from others
//     (units already moved once) while they have surplus, then
//  3. in reverse bucket order, their own.
//  4. The released buckets, in the order released, go to the gaining arms in
//     arm order.
// Every bucket of a run has the same arm and first arm, so each step takes a
// prefix (or, in step 3, a suffix) of a run, and the table changes in O(runs)
// ranges.
absl::StatusOr<BucketTable> BucketTable::Reallocate(
    absl::Span<const double> weights) const {
  if (static_cast<int>(weights.size()) < num_arms()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a reallocation needs a weight for each of the ", num_arms(),
                     " arms (and one for each new arm), got ", weights.size()));
  }
  if (weights.size() > static_cast<size_t>(kMaxArms)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a reallocation takes at most ", kMaxArms, " weights, got ", weights.size()));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> normalized,
                         NormalizeWeights(weights, ZeroWeights::kAllow));
  std::vector<uint32_t> target = BucketCounts(normalized);
  const size_t k = target.size();
  // New arms (indices num_arms() and up) start with no bucket: they only gain.
  std::vector<uint32_t> surplus(k), deficit(k);
  for (size_t a = 0; a < k; ++a) {
    const uint32_t had = a < counts_.size() ? counts_[a] : 0;
    surplus[a] = had > target[a] ? had - target[a] : 0;
    deficit[a] = target[a] > had ? target[a] - had : 0;
  }
  // The buckets that change arm, each range inside one run.
  std::vector<BucketRange> moves;

  // 1. Home, from the front of runs away from home.
  std::vector<uint32_t> went_home(runs_.size(), 0);
  for (size_t r = 0; r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    if (run.arm == run.first_arm) continue;
    const uint32_t n =
        std::min({EndOf(r) - run.begin, surplus[run.arm], deficit[run.first_arm]});
    if (n == 0) continue;
    moves.push_back({run.begin, run.begin + n, run.first_arm});
    went_home[r] = n;
    surplus[run.arm] -= n;
    deficit[run.first_arm] -= n;
  }
  // 2. and 3. Released ranges, in the order their buckets are released: a
  // range from step 3 releases from its end.
  struct Released {
    uint32_t begin;
    uint32_t end;
    bool from_end;
  };
  std::vector<Released> released;
  for (size_t r = 0; r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    if (run.arm == run.first_arm) continue;
    const uint32_t begin = run.begin + went_home[r];
    const uint32_t n = std::min(EndOf(r) - begin, surplus[run.arm]);
    if (n == 0) continue;
    released.push_back({begin, begin + n, false});
    surplus[run.arm] -= n;
  }
  for (size_t r = runs_.size(); r-- > 0;) {
    const Run& run = runs_[r];
    if (run.arm != run.first_arm) continue;
    const uint32_t end = EndOf(r);
    const uint32_t n = std::min(end - run.begin, surplus[run.arm]);
    if (n == 0) continue;
    released.push_back({end - n, end, true});
    surplus[run.arm] -= n;
  }
  // 4. To the gaining arms, in arm order.
  size_t next = 0;
  for (size_t g = 0; g < k; ++g) {
    while (deficit[g] > 0) {
      Released& from = released[next];
      const uint32_t n = std::min(from.end - from.begin, deficit[g]);
      if (from.from_end) {
        moves.push_back({from.end - n, from.end, static_cast<int>(g)});
        from.end -= n;
      } else {
        moves.push_back({from.begin, from.begin + n, static_cast<int>(g)});
        from.begin += n;
      }
      deficit[g] -= n;
      if (from.begin == from.end) ++next;
    }
  }

  // The new runs: the old ones with the moved ranges cut in.
  std::sort(moves.begin(), moves.end(),
            [](const BucketRange& x, const BucketRange& y) { return x.begin < y.begin; });
  std::vector<Run> runs;
  runs.reserve(runs_.size() + 2 * moves.size());
  const auto add = [&runs](uint32_t begin, int arm, uint8_t first_arm) {
    if (!runs.empty() && runs.back().arm == arm && runs.back().first_arm == first_arm) {
      return;  // the previous run goes on
    }
    runs.push_back({begin, static_cast<uint8_t>(arm), first_arm});
  };
  size_t m = 0;
  for (size_t r = 0; r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    const uint32_t end = EndOf(r);
    uint32_t at = run.begin;
    for (; m < moves.size() && moves[m].begin < end; ++m) {
      if (at < moves[m].begin) add(at, run.arm, run.first_arm);
      add(moves[m].begin, moves[m].arm, run.first_arm);
      at = moves[m].end;
    }
    if (at < end) add(at, run.arm, run.first_arm);
  }
  return BucketTable(std::move(runs), std::move(target));
}

const BucketTable::Run& BucketTable::RunOf(uint32_t bucket) const {
  // The last run beginning at or before `bucket` (the first begins at 0).
  auto it = std::upper_bound(runs_.begin(), runs_.end(), bucket,
                             [](uint32_t b, const Run& run) { return b < run.begin; });
  return *std::prev(it);
}

std::vector<BucketRange> BucketTable::Runs() const {
  std::vector<BucketRange> out;
  for (size_t r = 0; r < runs_.size(); ++r) {
    if (!out.empty() && out.back().arm == runs_[r].arm) {
      out.back().end = EndOf(r);
    } else {
      out.push_back({runs_[r].begin, EndOf(r), runs_[r].arm});
    }
  }
  return out;
}

std::vector<BucketRange> BucketTable::Changes(const BucketTable& from,
                                              const BucketTable& to) {
  std::vector<BucketRange> out;
  size_t i = 0, j = 0;
  for (uint32_t at = 0; at < kNumBuckets;) {
    const uint32_t end = std::min(from.EndOf(i), to.EndOf(j));
    const int arm = to.runs_[j].arm;
    if (from.runs_[i].arm != arm) {
      if (!out.empty() && out.back().end == at && out.back().arm == arm) {
        out.back().end = end;
      } else {
        out.push_back({at, end, arm});
      }
    }
    at = end;
    if (from.EndOf(i) == end) ++i;
    if (to.EndOf(j) == end) ++j;
  }
  return out;
}

uint32_t BucketTable::MovedBuckets(const BucketTable& a, const BucketTable& b) {
  uint32_t moved = 0;
  for (const BucketRange& range : Changes(a, b)) moved += range.end - range.begin;
  return moved;
}

}  // namespace allot
