// Copyright 2026 The allot Authors.

#include "allot/assigner.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

AllocationHistory TwoArmHistory() {
  return *AllocationHistory::Create("exp", "exp-salt", {"small", "large"}, kStart,
                                    {1, 1});
}

std::unique_ptr<Assigner> NewAssigner(const AssignerOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Assigner>> a =
      Assigner::Create(TwoArmHistory(), options);
  EXPECT_TRUE(a.ok()) << a.status();
  return *std::move(a);
}

TEST(AssignerTest, AssignFollowsTheBucketTable) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  for (int i = 0; i < 1000; ++i) {
    const std::string unit = absl::StrCat("user-", i);
    absl::StatusOr<Assignment> a = assigner->Assign(unit);
    ASSERT_TRUE(a.ok());
    const uint32_t bucket = BucketOf(UnitHash(HashPurpose::kArm, "exp-salt", unit));
    EXPECT_EQ(a->arm, assigner->ArmOf(0, bucket));
    EXPECT_EQ(a->epoch, 0);
    EXPECT_EQ(a->propensity, 0.5);
    EXPECT_FALSE(a->holdout);
  }
}

TEST(AssignerTest, AssignmentNeverChangesWithinAnEpoch) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  for (int i = 0; i < 100; ++i) {
    const std::string unit = absl::StrCat("u", i);
    EXPECT_EQ(assigner->Assign(unit)->arm, assigner->Assign(unit)->arm);
  }
}

TEST(AssignerTest, PublishMovesOnlyTheTotalVariation) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(30), {0.3, 0.7}).ok());
  EXPECT_EQ(assigner->current_epoch(), 1);
  int moved = 0;
  const int units = 200000;
  for (int i = 0; i < units; ++i) {
    const std::string unit = absl::StrCat("user-", i);
    absl::StatusOr<Assignment> before = assigner->AssignAt(unit, kStart);
    absl::StatusOr<Assignment> after = assigner->Assign(unit);
    ASSERT_TRUE(before.ok() && after.ok());
    EXPECT_EQ(before->epoch, 0);
    EXPECT_EQ(after->epoch, 1);
    if (before->arm != after->arm) {
      ++moved;
      // Only from the arm that lost weight to the arm that gained.
      EXPECT_EQ(before->arm, 0);
      EXPECT_EQ(after->arm, 1);
    }
  }
  // 20% of units should move; binomial sd over 200,000 units is
  // sqrt(0.2 * 0.8 / 200000) = 0.0009, so 5 sd is 0.0045.
  EXPECT_NEAR(static_cast<double>(moved) / units, 0.2, 0.0045);
}

TEST(AssignerTest, PinnedUnitsNeverMove) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  std::vector<int> first(500);
  for (int i = 0; i < 500; ++i) {
    first[i] = assigner->AssignAt(absl::StrCat("c", i), kStart + absl::Hours(1))->arm;
  }
  const std::vector<std::vector<double>> weights = {
      {0.1, 0.9}, {0.9, 0.1}, {0.5, 0.5}, {0.01, 0.99}};
  for (size_t e = 0; e < weights.size(); ++e) {
    ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(24 * (e + 1)), weights[e]).ok());
    for (int i = 0; i < 500; ++i) {
      absl::StatusOr<Assignment> a =
          assigner->AssignAt(absl::StrCat("c", i), kStart + absl::Hours(1));
      ASSERT_EQ(a->arm, first[i]);
      ASSERT_EQ(a->epoch, 0);
    }
  }
}

TEST(AssignerTest, StartBeforeTheExperimentUsesEpochZero) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(1), {0.2, 0.8}).ok());
  EXPECT_EQ(assigner->AssignAt("u", kStart - absl::Hours(100))->epoch, 0);
  EXPECT_EQ(assigner->AssignAt("u", kStart + absl::Hours(1))->epoch, 1);
  EXPECT_EQ(assigner->AssignAt("u", kStart + absl::Minutes(59))->epoch, 0);
  EXPECT_EQ(assigner->EpochAt(absl::InfiniteFuture()), 1);
}

// Epochs are stored in chunks of 1,024; 2,600 epochs span three, and the
// epoch in force is found at, just before and between every start,
// including across chunk boundaries. Epoch e starts e minutes after kStart.
TEST(AssignerTest, EpochAtAcrossThousandsOfEpochs) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  const int epochs = 2600;
  for (int e = 1; e < epochs; ++e) {
    const double w = 0.1 + 0.8 * (e % 7) / 7.0;
    ASSERT_TRUE(assigner->Publish(kStart + absl::Minutes(e), {w, 1 - w}).ok());
  }
  ASSERT_EQ(assigner->current_epoch(), epochs - 1);
  EXPECT_EQ(assigner->EpochAt(kStart - absl::Hours(1)), 0);
  EXPECT_EQ(assigner->EpochAt(absl::InfiniteFuture()), epochs - 1);
  for (int e = 0; e < epochs; ++e) {
    const absl::Time start = kStart + absl::Minutes(e);
    ASSERT_EQ(assigner->EpochAt(start), e);
    ASSERT_EQ(assigner->EpochAt(start + absl::Seconds(30)), e);
    ASSERT_EQ(assigner->EpochAt(start - absl::Nanoseconds(1)), std::max(0, e - 1));
    // AssignAt serves that epoch's table.
    const std::string unit = absl::StrCat("user-", e);
    const absl::StatusOr<Assignment> a = assigner->AssignAt(unit, start);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->epoch, e);
    ASSERT_EQ(a->arm, assigner->ArmOf(
                          e, BucketOf(UnitHash(HashPurpose::kArm, "exp-salt", unit))));
    ASSERT_EQ(a->propensity, assigner->WeightsOf(e)[a->arm]);
  }
}

TEST(AssignerTest, HoldoutGetsBaselineAndNeverChanges) {
  std::unique_ptr<Assigner> assigner = NewAssigner({.holdout = 0.1, .baseline_arm = 1});
  std::vector<bool> held;
  int count = 0;
  const int units = 50000;
  for (int i = 0; i < units; ++i) {
    absl::StatusOr<Assignment> a = assigner->Assign(absl::StrCat("user-", i));
    held.push_back(a->holdout);
    if (a->holdout) {
      ++count;
      EXPECT_EQ(a->arm, 1);
      EXPECT_EQ(a->propensity, 1.0);
    }
  }
  // sd of the share is sqrt(0.1 * 0.9 / 50000) = 0.00134; 5 sd = 0.0067.
  EXPECT_NEAR(static_cast<double>(count) / units, 0.1, 0.0067);
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(30), {0.9, 0.1}).ok());
  for (int i = 0; i < units; ++i) {
    ASSERT_EQ(assigner->Assign(absl::StrCat("user-", i))->holdout, held[i]);
  }
}

TEST(AssignerTest, RefusesBadOptionsAndUnits) {
  EXPECT_THAT(Assigner::Create(TwoArmHistory(), {.holdout = 1.0}).status().message(),
              HasSubstr("holdout must be in [0, 1), got 1"));
  EXPECT_THAT(Assigner::Create(TwoArmHistory(), {.holdout = NAN}).status().message(),
              HasSubstr("holdout must be in [0, 1)"));
  EXPECT_THAT(Assigner::Create(TwoArmHistory(), {.holdout = 0.1}).status().message(),
              HasSubstr("baseline arm is required"));
  EXPECT_THAT(Assigner::Create(TwoArmHistory(), {.holdout = 0.1, .baseline_arm = 2})
                  .status()
                  .message(),
              HasSubstr("got 2"));
  std::unique_ptr<Assigner> assigner = NewAssigner();
  EXPECT_EQ(assigner->Assign("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      assigner->AssignAt(std::string(kMaxUnitBytes + 1, 'x'), kStart).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(AssignerTest, RefusedPublishChangesNothing) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(6), {0.4, 0.6}).ok());
  const int arm = assigner->Assign("user-1")->arm;
  // Time going backward, an equal start, bad weights, wrong arm count.
  EXPECT_THAT(assigner->Publish(kStart + absl::Hours(5), {0.1, 0.9}).message(),
              HasSubstr("must be after epoch 1 start"));
  EXPECT_FALSE(assigner->Publish(kStart + absl::Hours(6), {0.1, 0.9}).ok());
  EXPECT_FALSE(assigner->Publish(kStart + absl::Hours(7), {NAN, 0.9}).ok());
  EXPECT_FALSE(assigner->Publish(kStart + absl::Hours(7), {0.1, 0.2, 0.7}).ok());
  EXPECT_EQ(assigner->current_epoch(), 1);
  EXPECT_EQ(assigner->history().epochs().size(), 2u);
  EXPECT_EQ(assigner->Assign("user-1")->arm, arm);
}

TEST(AssignerTest, HistoryRoundTripsThroughPublish) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(6), {0.4, 0.6}).ok());
  ASSERT_TRUE(assigner->Publish(kStart + absl::Hours(12), {0.7, 0.3}).ok());
  absl::StatusOr<std::unique_ptr<Assigner>> replica =
      Assigner::Create(assigner->history());
  ASSERT_TRUE(replica.ok());
  for (int64_t e = 0; e <= 2; ++e) {
    for (uint32_t b = 0; b < kNumBuckets; ++b) {
      ASSERT_EQ(assigner->ArmOf(e, b), (*replica)->ArmOf(e, b));
    }
    EXPECT_EQ(assigner->CountsOf(e), (*replica)->CountsOf(e));
  }
}

// Readers assign while a writer publishes; every answer must be one that the
// epoch it names would give (no torn reads), and epochs seen by one reader
// never go backward. Run under ThreadSanitizer in CI.
TEST(AssignerConcurrencyTest, ReadersSeeWholeEpochsWhileWriterPublishes) {
  std::unique_ptr<Assigner> assigner = NewAssigner();
  constexpr int kReaders = 4;
  constexpr int kEpochs = 300;
  std::atomic<bool> done{false};
  std::atomic<int64_t> checked{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      int64_t last_epoch = 0;
      int64_t local = 0;
      for (int i = 0; !done.load(std::memory_order_acquire) || i < 1000; ++i) {
        const std::string unit = absl::StrCat("r", r, "-", i % 5000);
        absl::StatusOr<Assignment> a = assigner->Assign(unit);
        ASSERT_TRUE(a.ok());
        ASSERT_GE(a->epoch, last_epoch);
        last_epoch = a->epoch;
        const uint32_t bucket = BucketOf(UnitHash(HashPurpose::kArm, "exp-salt", unit));
        ASSERT_EQ(a->arm, assigner->ArmOf(a->epoch, bucket));
        ASSERT_EQ(a->propensity, assigner->WeightsOf(a->epoch)[a->arm]);
        // Pinned reads of old epochs stay valid while new ones appear.
        ASSERT_EQ(assigner->AssignAt(unit, kStart)->epoch, 0);
        ++local;
      }
      checked.fetch_add(local);
    });
  }
  for (int e = 1; e <= kEpochs; ++e) {
    const double w = 0.05 + 0.9 * ((e * 37) % 100) / 100.0;
    ASSERT_TRUE(assigner->Publish(kStart + absl::Minutes(e), {w, 1 - w}).ok());
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(assigner->current_epoch(), kEpochs);
  EXPECT_GE(checked.load(), kReaders * 1000);
}

}  // namespace
}  // namespace allot
