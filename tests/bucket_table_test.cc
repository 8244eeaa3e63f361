// Copyright 2026 The allot Authors.

#include "allot/bucket_table.h"
#include "allot/weights.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

double WeightTotalVariation(const std::vector<double>& a, const std::vector<double>& b) {
  double tv = 0;
  for (size_t i = 0; i < a.size(); ++i) tv += std::abs(a[i] - b[i]);
  return tv / 2;
}

// Checks a reallocation from `before` (weights `w0`) to `after` (`w1`).
void ExpectMinimalMove(const BucketTable& before, const BucketTable& after,
                       const std::vector<double>& w0, const std::vector<double>& w1) {
  const int k = before.num_arms();
  // Only arms that lost buckets give, only arms that gained receive.
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    const int from = before.ArmOf(b), to = after.ArmOf(b);
    if (from == to) continue;
    ASSERT_GT(before.counts()[from], after.counts()[from]) << "bucket " << b;
    ASSERT_LT(before.counts()[to], after.counts()[to]) << "bucket " << b;
  }
  // Moved buckets = the total-variation distance of the counts, exactly...
  int64_t tv_counts = 0;
  for (int a = 0; a < k; ++a) {
    tv_counts += std::abs(int64_t{before.counts()[a]} - int64_t{after.counts()[a]});
  }
  EXPECT_EQ(int64_t{BucketTable::MovedBuckets(before, after)} * 2, tv_counts);
  // ...which is within max(1, K / 2) / B of the distance between the weights:
  // each count is within one bucket of w * B.
  const double moved =
      double{static_cast<double>(BucketTable::MovedBuckets(before, after))} / kNumBuckets;
  EXPECT_NEAR(moved, WeightTotalVariation(w0, w1), std::max(1.0, k / 2.0) / kNumBuckets);
}

TEST(BucketCountsTest, LargestRemainderSumsToBuckets) {
  EXPECT_THAT(BucketCounts({0.5, 0.5}), ElementsAre(32768u, 32768u));
  // Three equal remainders: the lower index gets the leftover bucket.
  EXPECT_THAT(BucketCounts({1.0 / 3, 1.0 / 3, 1.0 / 3}),
              ElementsAre(21846u, 21845u, 21845u));
  EXPECT_THAT(BucketCounts({0.2, 0.3, 0.5}), ElementsAre(13107u, 19661u, 32768u));
  EXPECT_THAT(BucketCounts({1.0, 0.0}), ElementsAre(65536u, 0u));
}

TEST(BucketCountsTest, EveryCountIsWithinOneBucketOfItsQuota) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 500; ++trial) {
    const int k = 2 + trial % 30;
    std::vector<double> w(k);
    double sum = 0;
    for (double& x : w) sum += (x = u(rng));
    for (double& x : w) x /= sum;
    std::vector<uint32_t> counts = BucketCounts(w);
    int64_t total = 0;
    for (int a = 0; a < k; ++a) {
      total += counts[a];
      EXPECT_LT(std::abs(counts[a] - w[a] * kNumBuckets), 1.0);
    }
    EXPECT_EQ(total, int64_t{kNumBuckets});
  }
}

TEST(BucketTableTest, InitialTableGivesContiguousBlocksInArmOrder) {
  absl::StatusOr<BucketTable> t = BucketTable::Initial({1, 3});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->counts(), ElementsAre(16384u, 49152u));
  EXPECT_EQ(t->ArmOf(0), 0);
  EXPECT_EQ(t->ArmOf(16383), 0);
  EXPECT_EQ(t->ArmOf(16384), 1);
  EXPECT_EQ(t->ArmOf(kNumBuckets - 1), 1);
}

TEST(BucketTableTest, WeightsAreNormalized) {
  absl::StatusOr<BucketTable> a = BucketTable::Initial({1, 1});
  absl::StatusOr<BucketTable> b = BucketTable::Initial({50, 50});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(BucketTable::MovedBuckets(*a, *b), 0u);
}

TEST(BucketTableTest, RefusesBadWeights) {
  EXPECT_THAT(BucketTable::Initial({1}).status().message(), HasSubstr("at least 2 arms"));
  EXPECT_THAT(BucketTable::Initial({1, NAN}).status().message(),
              HasSubstr("weight of arm 1"));
  EXPECT_THAT(BucketTable::Initial({1, -1}).status().message(), HasSubstr("got -1"));
  EXPECT_THAT(
      BucketTable::Initial(std::vector<double>(kMaxArms + 1, 1.0)).status().message(),
      HasSubstr("at most 256 arms, got 257"));
  absl::StatusOr<BucketTable> t = BucketTable::Initial({1, 1});
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->Reallocate({1, 1, 1})->counts(), ElementsAre(21846u, 21845u, 21845u));
  absl::StatusOr<BucketTable> t3 = BucketTable::Initial({1, 1, 1});
  ASSERT_TRUE(t3.ok());
  EXPECT_THAT(
      t3->Reallocate({1, 1}).status().message(),
      HasSubstr("a weight for each of the 3 arms (and one for each new arm), got 2"));
  EXPECT_THAT(t->Reallocate(std::vector<double>(kMaxArms + 1, 1.0)).status().message(),
              HasSubstr("at most 256 weights, got 257"));
  EXPECT_THAT(t->Reallocate({0, 0}).status().message(), HasSubstr("positive finite sum"));
}

// A new arm with share s, every old weight scaled by (1 - s): exactly the new
// arm's buckets move, taken from the old arms in proportion.
TEST(BucketTableTest, NewArmTakesOnlyItsShare) {
  const std::vector<double> w0 = {0.2, 0.3, 0.5};
  BucketTable before = *BucketTable::Initial(w0);
  for (double s : {1.0 / kNumBuckets, 0.01, 0.1, 1.0 / 3, 0.9}) {
    std::vector<double> w1;
    for (double w : w0) w1.push_back(w * (1 - s));
    w1.push_back(s);
    absl::StatusOr<BucketTable> after = before.Reallocate(w1);
    ASSERT_TRUE(after.ok()) << after.status();
    ASSERT_EQ(after->num_arms(), 4);
    uint32_t moved = 0, to_new = 0;
    for (uint32_t b = 0; b < kNumBuckets; ++b) {
      if (before.ArmOf(b) == after->ArmOf(b)) continue;
      ++moved;
      // Only buckets that went to the new arm changed.
      ASSERT_EQ(after->ArmOf(b), 3) << "s " << s << " bucket " << b;
      ++to_new;
    }
    EXPECT_EQ(to_new, after->counts()[3]);
    EXPECT_EQ(moved, BucketTable::MovedBuckets(before, *after));
    // Each count is within one bucket of its quota, so the moved share is
    // within 1/B of s plus the rounding of the four counts (2/B in all).
    EXPECT_NEAR(static_cast<double>(moved) / kNumBuckets, s, 2.0 / kNumBuckets)
        << "s " << s;
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(after->counts()[a], w0[a] * (1 - s) * kNumBuckets, 1.0);
    }
  }
}

TEST(BucketTableTest, SeveralNewArmsAtOnceStartEmpty) {
  BucketTable before = *BucketTable::Initial({0.5, 0.5});
  absl::StatusOr<BucketTable> after = before.Reallocate({0.25, 0.25, 0.25, 0.25});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(after->counts(), ElementsAre(16384u, 16384u, 16384u, 16384u));
  EXPECT_EQ(BucketTable::MovedBuckets(before, *after), 32768u);
  // A new arm may start at zero, and gain later.
  absl::StatusOr<BucketTable> zero = before.Reallocate({0.5, 0.5, 0.0});
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(BucketTable::MovedBuckets(before, *zero), 0u);
  EXPECT_EQ(zero->num_arms(), 3);
}

TEST(BucketTableTest, ReallocationMovesOnlyTheTotalVariation) {
  absl::StatusOr<BucketTable> t0 = BucketTable::Initial({0.5, 0.5});
  ASSERT_TRUE(t0.ok());
  absl::StatusOr<BucketTable> t1 = t0->Reallocate({0.3, 0.7});
  ASSERT_TRUE(t1.ok());
  ExpectMinimalMove(*t0, *t1, {0.5, 0.5}, {0.3, 0.7});
  EXPECT_EQ(BucketTable::MovedBuckets(*t0, *t1), 32768u - 19661u);
}

TEST(BucketTableTest, BucketsReturnToTheArmThatFirstHeldThem) {
  absl::StatusOr<BucketTable> t0 = BucketTable::Initial({0.5, 0.5});
  ASSERT_TRUE(t0.ok());
  absl::StatusOr<BucketTable> t1 = t0->Reallocate({0.3, 0.7});
  absl::StatusOr<BucketTable> t2 = t1->Reallocate({0.5, 0.5});
  ASSERT_TRUE(t1.ok() && t2.ok());
  // Back to the start weights: back to the start table, bucket for bucket.
  EXPECT_EQ(BucketTable::MovedBuckets(*t0, *t2), 0u);
  for (uint32_t b = 0; b < kNumBuckets; b += 97) {
    EXPECT_EQ(t2->ArmOf(b), t2->FirstArmOf(b));
  }
}

TEST(BucketTableTest, LosingArmGivesUpTakenBucketsBeforeItsOwn) {
  // Arm 1 takes buckets from arm 0, then loses weight to arm 2: it must hand
  // over the buckets it took (their units were already moved once), keeping
  // its own first block intact.
  std::vector<double> w0 = {0.4, 0.3, 0.3}, w1 = {0.2, 0.5, 0.3}, w2 = {0.2, 0.3, 0.5};
  absl::StatusOr<BucketTable> t0 = BucketTable::Initial(w0);
  absl::StatusOr<BucketTable> t1 = t0->Reallocate(w1);
  absl::StatusOr<BucketTable> t2 = t1->Reallocate(w2);
  ASSERT_TRUE(t0.ok() && t1.ok() && t2.ok());
  ExpectMinimalMove(*t0, *t1, w0, w1);
  ExpectMinimalMove(*t1, *t2, w1, w2);
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    if (t0->ArmOf(b) == 1) {
      ASSERT_EQ(t2->ArmOf(b), 1) << "arm 1 gave up its own bucket " << b;
    }
  }
}

TEST(BucketTableTest, RandomHistoriesKeepEveryInvariant) {
  std::mt19937_64 rng(2026);
  std::gamma_distribution<double> gamma(0.7, 1.0);
  for (int history = 0; history < 5; ++history) {
    const int k = 2 + history * 3;
    std::vector<double> w(k, 1.0 / k);
    absl::StatusOr<BucketTable> table = BucketTable::Initial(w);
    ASSERT_TRUE(table.ok());
    for (int step = 0; step < 40; ++step) {
      std::vector<double> next(k);
      double sum = 0;
      for (double& x : next) sum += (x = gamma(rng));
      for (double& x : next) x /= sum;
      absl::StatusOr<BucketTable> moved = table->Reallocate(next);
      ASSERT_TRUE(moved.ok());
      ExpectMinimalMove(*table, *moved, w, next);
      table = std::move(moved);
      w = next;
    }
  }
}

// The documented rule, bucket by bucket on a flat array: independent of the
// run-based BucketTable, to check it against.
class FlatTable {
 public:
  explicit FlatTable(const std::vector<double>& weights)
      : counts_(BucketCounts(*NormalizeWeights(weights, ZeroWeights::kAllow))),
        arm_(kNumBuckets) {
    uint32_t b = 0;
    for (size_t a = 0; a < counts_.size(); ++a) {
      for (uint32_t i = 0; i < counts_[a]; ++i) arm_[b++] = static_cast<int>(a);
    }
    first_ = arm_;
  }

  void Reallocate(const std::vector<double>& weights) {
    const std::vector<uint32_t> target =
        BucketCounts(*NormalizeWeights(weights, ZeroWeights::kAllow));
    const size_t k = target.size();
    counts_.resize(k, 0);  // new arms start with no bucket
    std::vector<int64_t> surplus(k), deficit(k);
    for (size_t a = 0; a < k; ++a) {
      surplus[a] = std::max<int64_t>(int64_t{counts_[a]} - target[a], 0);
      deficit[a] = std::max<int64_t>(int64_t{target[a]} - counts_[a], 0);
    }
    // Surplus buckets away from home go home while home gains.
    std::vector<bool> moved(kNumBuckets, false);
    for (uint32_t b = 0; b < kNumBuckets; ++b) {
      const int a = arm_[b], home = first_[b];
      if (a != home && surplus[a] > 0 && deficit[home] > 0) {
        arm_[b] = home;
        moved[b] = true;
        --surplus[a];
        --deficit[home];
      }
    }
    // Losers release taken buckets in order, then their own from the end.
    std::vector<uint32_t> released;
    for (uint32_t b = 0; b < kNumBuckets; ++b) {
      if (!moved[b] && arm_[b] != first_[b] && surplus[arm_[b]] > 0) {
        released.push_back(b);
        --surplus[arm_[b]];
      }
    }
    for (uint32_t b = kNumBuckets; b-- > 0;) {
      if (!moved[b] && arm_[b] == first_[b] && surplus[arm_[b]] > 0) {
        released.push_back(b);
        --surplus[arm_[b]];
      }
    }
    // Gainers take them in arm order.
    size_t next = 0;
    for (size_t g = 0; g < k; ++g) {
      for (; deficit[g] > 0; --deficit[g])
        arm_[released.at(next++)] = static_cast<int>(g);
    }
    ASSERT_EQ(next, released.size());
    counts_ = target;
  }

  const std::vector<int>& arms() const { return arm_; }
  const std::vector<int>& first_arms() const { return first_; }

 private:
  std::vector<uint32_t> counts_;
  std::vector<int> arm_;
  std::vector<int> first_;
};

std::vector<int> Flatten(const BucketTable& table) {
  std::vector<int> arms(kNumBuckets, -1);
  uint32_t at = 0;
  for (const BucketRange& run : table.Runs()) {
    EXPECT_EQ(run.begin, at);
    EXPECT_LT(run.begin, run.end);
    for (uint32_t b = run.begin; b < run.end; ++b) arms[b] = run.arm;
    at = run.end;
  }
  EXPECT_EQ(at, kNumBuckets);
  return arms;
}

// Every bucket of every epoch of many random histories equals the flat
// rule's: 2 to 12 arms, moves of a bucket or two, of a few percent and of
// nearly everything, arms going to zero and coming back, new arms joining.
TEST(BucketTableTest, RunsMatchTheFlatRuleOnRandomHistories) {
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::gamma_distribution<double> gamma(0.5, 1.0);
  for (int history = 0; history < 120; ++history) {
    int k = 2 + history % 11;
    std::vector<double> w(k);
    for (double& x : w) x = gamma(rng) + 1e-3;
    if (history % 4 == 0) w[rng() % k] = 0;  // an arm with no first block
    FlatTable flat(w);
    BucketTable table = *BucketTable::Initial(w);
    for (int epoch = 0; epoch < 40; ++epoch) {
      if (epoch > 0) {
        const int from = static_cast<int>(rng() % k);
        const int to = (from + 1 + static_cast<int>(rng() % (k - 1))) % k;
        double sum = 0;
        for (double x : w) sum += x;
        switch (rng() % 6) {
          case 0:  // a bucket or two
            w[to] += sum * static_cast<double>(1 + rng() % 2) / kNumBuckets;
            break;
          case 1: {  // under a few percent
            const double d = std::min(w[from], sum * 0.03 * uniform(rng));
            w[from] -= d;
            w[to] += d;
            break;
          }
          case 2:  // anything
            for (double& x : w) x = gamma(rng);
            w[from] += 1e-3;
            break;
          case 3:  // an arm to zero, if another keeps weight
            if (sum - w[from] > 0) w[from] = 0;
            break;
          case 4:  // a zero arm back
            for (double& x : w) {
              if (x == 0) x = sum * uniform(rng);
            }
            break;
          default:  // a new arm, its share from all others in proportion
            if (k < 16) {
              w.push_back(sum * uniform(rng) * 0.5);
              ++k;
            }
        }
        flat.Reallocate(w);
        absl::StatusOr<BucketTable> next = table.Reallocate(w);
        ASSERT_TRUE(next.ok()) << next.status();
        table = *std::move(next);
      }
      const std::vector<int> arms = Flatten(table);
      for (uint32_t b = 0; b < kNumBuckets; ++b) {
        ASSERT_EQ(arms[b], flat.arms()[b])
            << "history " << history << " epoch " << epoch << " bucket " << b;
      }
      for (uint32_t b = 0; b < kNumBuckets; b += 251) {
        ASSERT_EQ(table.ArmOf(b), flat.arms()[b]);
        ASSERT_EQ(table.FirstArmOf(b), flat.first_arms()[b]);
      }
    }
  }
}

TEST(BucketTableTest, SameHistoryGivesSameTable) {
  const std::vector<std::vector<double>> history = {
      {0.25, 0.25, 0.5}, {0.1, 0.6, 0.3}, {0.5, 0.2, 0.3}, {0.0, 0.01, 0.99}};
  auto build = [&] {
    BucketTable t = *BucketTable::Initial(history[0]);
    for (size_t e = 1; e < history.size(); ++e) t = *t.Reallocate(history[e]);
    return t;
  };
  EXPECT_EQ(BucketTable::MovedBuckets(build(), build()), 0u);
}

}  // namespace
}  // namespace allot
