// Copyright 2026 The allot Authors.
//
// The compact tables (run_table.h) as the Assigner serves them: exact against
// flat tables rebuilt from the history, and small. Kept out of
// assigner_test.cc, whose concurrency test CI runs under ThreadSanitizer.

#include "assignment/run_table.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/assigner.h"
#include "allot/hash.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

TEST(RunTableTest, MatchesTheBucketTable) {
  for (const std::vector<double>& weights :
       std::vector<std::vector<double>>{{1, 1}, {0.2, 0.3, 0.5}}) {
    const BucketTable table = *BucketTable::Initial(weights);
    const internal::RunTable runs = internal::RunTable::From(table);
    for (uint32_t b = 0; b < kNumBuckets; ++b) ASSERT_EQ(runs.ArmOf(b), table.ArmOf(b));
    EXPECT_EQ(runs.HeapBytes(), 3 * weights.size() + weights.size() % 2);
    const std::vector<uint32_t> counts = runs.Counts(static_cast<int>(weights.size()));
    EXPECT_EQ(counts,
              std::vector<uint32_t>(table.counts().begin(), table.counts().end()));
  }
}

// Compact tables answer exactly as flat tables rebuilt independently from the
// history by BucketTable: for thousands of units, pinned at, just before and
// between every epoch's start and before the first, through reallocations
// that move a bucket or most of them, with few arms (runs) and many arms with
// random weights (fragmented tables, some kept flat).
TEST(RunTableTest, AssignerAnswersMatchTablesRebuiltFromTheHistory) {
  std::mt19937_64 rng(2026);
  for (const int arms : {3, 40}) {
    std::vector<std::string> ids;
    for (int a = 0; a < arms; ++a) ids.push_back(absl::StrCat("arm", a));
    AllocationHistory history = *AllocationHistory::Create(
        "exp", "exp-salt", ids, kStart, std::vector<double>(arms, 1.0));
    std::vector<double> w(arms, 1.0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const int epochs = arms == 3 ? 400 : 60;
    for (int e = 1; e < epochs; ++e) {
      if (arms == 3 && e % 5 != 0) {
        w[e % 3] += 1.0 / kNumBuckets;  // a bucket or so moves
      } else {
        for (double& x : w) x = uniform(rng) + 0.01;  // most of them move
      }
      ASSERT_TRUE(history.Append(kStart + absl::Minutes(e), w).ok());
    }
    // Half the epochs come in through Create, the rest through Publish.
    absl::StatusOr<AllocationHistory> first_half = AllocationHistory::Create(
        "exp", "exp-salt", ids, kStart, history.epochs()[0].weights);
    ASSERT_TRUE(first_half.ok());
    for (int e = 1; e < epochs / 2; ++e) {
      ASSERT_TRUE(
          first_half->Append(history.epochs()[e].start, history.epochs()[e].weights)
              .ok());
    }
    std::unique_ptr<Assigner> assigner = *Assigner::Create(*first_half);
    for (int e = epochs / 2; e < epochs; ++e) {
      ASSERT_TRUE(
          assigner->Publish(history.epochs()[e].start, history.epochs()[e].weights).ok());
    }
    const std::vector<BucketTable> tables = assigner->history().BuildTables();
    ASSERT_EQ(tables.size(), static_cast<size_t>(epochs));
    for (int e = 0; e < epochs; ++e) {
      ASSERT_EQ(assigner->CountsOf(e), std::vector<uint32_t>(tables[e].counts().begin(),
                                                             tables[e].counts().end()));
    }
    for (int i = 0; i < 3000; ++i) {
      const std::string unit = absl::StrCat("unit-", i);
      const int bucket =
          static_cast<int>(BucketOf(UnitHash(HashPurpose::kArm, "exp-salt", unit)));
      ASSERT_EQ(assigner->Assign(unit)->arm, tables.back().ArmOf(bucket));
      ASSERT_EQ(assigner->AssignAt(unit, kStart - absl::Hours(1))->arm,
                tables[0].ArmOf(bucket));
      for (int e = 0; e < epochs; ++e) {
        const absl::Time start = kStart + absl::Minutes(e);
        for (const absl::Time at :
             {start, start + absl::Seconds(30), start - absl::Nanoseconds(1)}) {
          const int in_force = at < start ? std::max(0, e - 1) : e;
          const absl::StatusOr<Assignment> a = assigner->AssignAt(unit, at);
          ASSERT_EQ(a->epoch, in_force);
          ASSERT_EQ(a->arm, tables[in_force].ArmOf(bucket)) << unit << " at epoch " << e;
        }
      }
    }
  }
}

// 20,000 reallocations that each move under 1% of the buckets (a random walk
// of the weights) cost well under 1 KiB per epoch; a flat table per epoch
// cost 64 KiB.
TEST(RunTableTest, EpochsThatMoveLittleCostLittleMemory) {
  for (const int arms : {3, 10}) {
    std::vector<std::string> ids;
    for (int a = 0; a < arms; ++a) ids.push_back(absl::StrCat("arm", a));
    std::vector<double> w(arms, 1.0 / arms);
    std::unique_ptr<Assigner> assigner =
        *Assigner::Create(*AllocationHistory::Create("exp", "exp-salt", ids, kStart, w));
    const size_t one_epoch = assigner->MemoryBytes();
    std::mt19937_64 rng(arms);
    std::uniform_real_distribution<double> shift(0.0, 0.0099);
    const int epochs = 20000;
    for (int e = 1; e < epochs; ++e) {
      const int from = static_cast<int>(rng() % arms);
      const int to = (from + 1 + static_cast<int>(rng() % (arms - 1))) % arms;
      const double tv = std::min(shift(rng), std::max(0.0, w[from] - 0.01));
      w[from] -= tv;
      w[to] += tv;
      ASSERT_TRUE(assigner->Publish(kStart + absl::Minutes(e), w).ok());
    }
    const size_t all = assigner->MemoryBytes();
    const double per_epoch = static_cast<double>(all - one_epoch) / (epochs - 1);
    std::printf(
        "%d arms: %zu bytes for one epoch, %zu for %d; %.0f bytes per epoch "
        "(a flat table per epoch: %zu+)\n",
        arms, one_epoch, all, epochs, per_epoch, size_t{kNumBuckets});
    EXPECT_LE(per_epoch, 1024.0);
  }
}

}  // namespace
}  // namespace allot
