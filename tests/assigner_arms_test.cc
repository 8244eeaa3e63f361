// Copyright 2026 The allot Authors.
//
// Tests of arms that come and go in an Assigner: PublishAddedArm and
// PublishRetiredArm move the fewest buckets, pinned units keep their arm
// (unless it is gone), every answer carries its arm's id and payload, and a
// replica rebuilt from the history answers the same.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/allocation_history.h"
#include "allot/assigner.h"
#include "allot/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

absl::Time Hour(int h) { return kStart + absl::Hours(h); }

std::unique_ptr<Assigner> ThreeArms(const AssignerOptions& options = {}) {
  absl::StatusOr<AllocationHistory> h = AllocationHistory::Create(
      "exp", "exp-salt", {"a", "b", "c"}, kStart, std::vector<double>{0.2, 0.3, 0.5},
      {R"({"model":"a"})", "", R"({"model":"c","t":0.5})"});
  EXPECT_TRUE(h.ok()) << h.status();
  absl::StatusOr<std::unique_ptr<Assigner>> a = Assigner::Create(*h, options);
  EXPECT_TRUE(a.ok()) << a.status();
  return *std::move(a);
}

// Buckets whose arm differs between two epochs.
std::vector<uint32_t> Moved(const Assigner& assigner, int64_t from, int64_t to) {
  std::vector<uint32_t> moved;
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    if (assigner.ArmOf(from, b) != assigner.ArmOf(to, b)) moved.push_back(b);
  }
  return moved;
}

std::string Unit(int i) { return absl::StrCat("user-", i); }

TEST(AssignerArmsTest, AddedArmTakesExactlyItsShare) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  const double s = 0.15;
  ASSERT_TRUE(assigner
                  ->PublishAddedArm(Hour(1), {"d", R"({"model":"d"})"},
                                    {0.2 * (1 - s), 0.3 * (1 - s), 0.5 * (1 - s), s})
                  .ok());
  EXPECT_EQ(assigner->num_arms(), 4);
  EXPECT_THAT(assigner->arm_ids(), ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(assigner->WeightsOf(0).size(), 3u);
  EXPECT_EQ(assigner->WeightsOf(1).size(), 4u);
  EXPECT_EQ(assigner->CountsOf(0).size(), 3u);
  ASSERT_EQ(assigner->CountsOf(1).size(), 4u);
  const std::vector<uint32_t> moved = Moved(*assigner, 0, 1);
  // Only buckets that went to the new arm changed, and all of its buckets.
  for (uint32_t b : moved) ASSERT_EQ(assigner->ArmOf(1, b), 3) << "bucket " << b;
  EXPECT_EQ(moved.size(), assigner->CountsOf(1)[3]);
  // Each of the four counts is within one bucket of its quota: the moved
  // share is within 1/B of s, plus 1/B for the old arms' rounding.
  EXPECT_NEAR(static_cast<double>(moved.size()) / kNumBuckets, s, 2.0 / kNumBuckets);
}

TEST(AssignerArmsTest, RetiredArmGivesUpExactlyItsBuckets) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  for (RetireMode mode : {RetireMode::kDrain, RetireMode::kNow}) {
    SCOPED_TRACE(RetireModeName(mode));
    std::unique_ptr<Assigner> a = ThreeArms();
    // Arm b's share goes to a and c in proportion.
    ASSERT_TRUE(a->PublishRetiredArm(Hour(1), 1, mode, {0.2, 0.0, 0.5}).ok());
    const std::vector<uint32_t> moved = Moved(*a, 0, 1);
    EXPECT_EQ(moved.size(), a->CountsOf(0)[1]);
    for (uint32_t b : moved) ASSERT_EQ(a->ArmOf(0, b), 1);
    EXPECT_EQ(a->CountsOf(1)[1], 0u);
    EXPECT_EQ(a->gone(1), mode == RetireMode::kNow);
    EXPECT_FALSE(a->gone(0));
    for (int i = 0; i < 2000; ++i) ASSERT_NE(a->Assign(Unit(i))->arm, 1);
  }
}

TEST(AssignerArmsTest, PinnedUnitsKeepTheirArmAcrossAddAndDrain) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  std::vector<Assignment> before;
  for (int i = 0; i < 5000; ++i) before.push_back(*assigner->AssignAt(Unit(i), kStart));
  ASSERT_TRUE(assigner->PublishAddedArm(Hour(1), {"d", ""}, {0.2, 0.3, 0.5, 0.25}).ok());
  ASSERT_TRUE(
      assigner->PublishRetiredArm(Hour(2), 2, RetireMode::kDrain, {0.2, 0.3, 0, 0.25})
          .ok());
  ASSERT_TRUE(assigner->Publish(Hour(3), {0.5, 0.25, 0, 0.25}).ok());
  int on_drained = 0;
  for (int i = 0; i < 5000; ++i) {
    const Assignment a = *assigner->AssignAt(Unit(i), kStart);
    ASSERT_EQ(a.arm, before[i].arm);
    ASSERT_EQ(a.epoch, 0);
    ASSERT_EQ(a.propensity, before[i].propensity);
    on_drained += a.arm == 2;
  }
  EXPECT_GT(on_drained, 0);
  // Units pinned to the epoch the arm joined in keep it too.
  for (int i = 0; i < 5000; ++i) {
    const Assignment a = *assigner->AssignAt(Unit(i), Hour(1));
    ASSERT_EQ(a.epoch, 1);
    ASSERT_EQ(a.arm, assigner->ArmOf(
                         1, BucketOf(UnitHash(HashPurpose::kArm, "exp-salt", Unit(i)))));
  }
}

TEST(AssignerArmsTest, GoneArmsUnitsMoveAtOnceEvenPinned) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  ASSERT_TRUE(assigner->Publish(Hour(1), {0.3, 0.3, 0.4}).ok());
  std::vector<Assignment> before;
  for (int i = 0; i < 5000; ++i) before.push_back(*assigner->AssignAt(Unit(i), kStart));
  ASSERT_TRUE(
      assigner->PublishRetiredArm(Hour(2), 0, RetireMode::kNow, {0, 0.3, 0.4}).ok());
  int moved = 0;
  for (int i = 0; i < 5000; ++i) {
    const Assignment a = *assigner->AssignAt(Unit(i), kStart);
    if (before[i].arm != 0) {
      // Only the gone arm's units move.
      ASSERT_EQ(a.arm, before[i].arm);
      ASSERT_EQ(a.epoch, 0);
      continue;
    }
    ++moved;
    const Assignment now = *assigner->Assign(Unit(i));
    ASSERT_EQ(a.arm, now.arm);
    ASSERT_EQ(a.epoch, 2);
    ASSERT_EQ(a.propensity, now.propensity);
    ASSERT_EQ(a.arm_info, now.arm_info);
  }
  EXPECT_GT(moved, 0);
}

TEST(AssignerArmsTest, EveryAnswerCarriesItsArmsIdAndPayload) {
  std::unique_ptr<Assigner> assigner = ThreeArms({.holdout = 0.1, .baseline_arm = 1});
  const ArmInfo* first = &assigner->arm(0);
  ASSERT_TRUE(
      assigner->PublishAddedArm(Hour(1), {"d", R"({"model":"d"})"}, {1, 1, 1, 1}).ok());
  EXPECT_EQ(&assigner->arm(0), first);  // never moves
  const std::vector<std::string> payloads = {
      R"({"model":"a"})", "", R"({"model":"c","t":0.5})", R"({"model":"d"})"};
  int holdouts = 0;
  for (int i = 0; i < 3000; ++i) {
    for (const Assignment& a :
         {*assigner->Assign(Unit(i)), *assigner->AssignAt(Unit(i), kStart)}) {
      ASSERT_NE(a.arm_info, nullptr);
      ASSERT_EQ(a.arm_info, &assigner->arm(a.arm));
      ASSERT_EQ(a.arm_info->id, assigner->arm_ids()[a.arm]);
      ASSERT_EQ(a.arm_info->payload, payloads[a.arm]);
      holdouts += a.holdout;
    }
  }
  EXPECT_GT(holdouts, 0);
}

TEST(AssignerArmsTest, ReplicaFromTheHistoryAnswersTheSame) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  ASSERT_TRUE(
      assigner->PublishAddedArm(Hour(1), {"d", R"({"k":[1,2]})"}, {1, 1, 1, 1}).ok());
  ASSERT_TRUE(
      assigner->PublishRetiredArm(Hour(2), 0, RetireMode::kNow, {0, 1, 1, 1}).ok());
  ASSERT_TRUE(
      assigner->PublishRetiredArm(Hour(3), 2, RetireMode::kDrain, {0, 1, 0, 1}).ok());
  // Through JSON too, as a router fleet gets it.
  const std::string json = assigner->history().ToJson();
  absl::StatusOr<AllocationHistory> history = AllocationHistory::FromJson(json);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->ToJson(), json);
  absl::StatusOr<std::unique_ptr<Assigner>> replica = Assigner::Create(*history);
  ASSERT_TRUE(replica.ok()) << replica.status();
  ASSERT_EQ((*replica)->num_arms(), 4);
  for (int a = 0; a < 4; ++a) {
    EXPECT_EQ((*replica)->arm(a).id, assigner->arm(a).id);
    EXPECT_EQ((*replica)->arm(a).payload, assigner->arm(a).payload);
    EXPECT_EQ((*replica)->gone(a), assigner->gone(a));
  }
  for (int64_t e = 0; e <= 3; ++e) {
    EXPECT_EQ((*replica)->CountsOf(e), assigner->CountsOf(e));
    for (uint32_t b = 0; b < kNumBuckets; b += 7) {
      ASSERT_EQ((*replica)->ArmOf(e, b), assigner->ArmOf(e, b));
    }
  }
  for (int i = 0; i < 2000; ++i) {
    for (absl::Time at : {kStart, Hour(1), Hour(2), Hour(3)}) {
      const Assignment x = *assigner->AssignAt(Unit(i), at);
      const Assignment y = *(*replica)->AssignAt(Unit(i), at);
      ASSERT_EQ(x.arm, y.arm);
      ASSERT_EQ(x.epoch, y.epoch);
    }
  }
}

TEST(AssignerArmsTest, RefusedChangesChangeNothing) {
  std::unique_ptr<Assigner> assigner = ThreeArms({.holdout = 0.1, .baseline_arm = 1});
  const std::string before = assigner->history().ToJson();
  const Assignment a = *assigner->Assign("user-1");
  EXPECT_THAT(assigner->PublishAddedArm(Hour(1), {"a", ""}, {1, 1, 1, 1}).message(),
              HasSubstr("\"a\" is already arm 0"));
  EXPECT_THAT(assigner->PublishAddedArm(Hour(1), {"d", "[]"}, {1, 1, 1, 1}).message(),
              HasSubstr("arms[3].payload"));
  EXPECT_THAT(assigner->PublishAddedArm(Hour(1), {"d", ""}, {1, 1, 1}).message(),
              HasSubstr("one entry per arm (4), got 3"));
  EXPECT_THAT(assigner->PublishAddedArm(kStart, {"d", ""}, {1, 1, 1, 1}).message(),
              HasSubstr("must be after epoch 0 start"));
  EXPECT_THAT(
      assigner->PublishRetiredArm(Hour(1), 3, RetireMode::kNow, {1, 1, 1}).message(),
      HasSubstr("arm index in [0, 3), got 3"));
  EXPECT_THAT(
      assigner->PublishRetiredArm(Hour(1), 0, RetireMode::kNow, {1, 1, 1}).message(),
      HasSubstr("weight of retired arm 0 (\"a\") must be 0, got 1"));
  EXPECT_THAT(
      assigner->PublishRetiredArm(Hour(1), 1, RetireMode::kNow, {1, 0, 1}).message(),
      HasSubstr("holdout's baseline arm and cannot be retired"));
  EXPECT_EQ(assigner->current_epoch(), 0);
  EXPECT_EQ(assigner->num_arms(), 3);
  EXPECT_FALSE(assigner->gone(0));
  EXPECT_FALSE(assigner->gone(1));
  EXPECT_EQ(assigner->history().ToJson(), before);
  EXPECT_EQ(assigner->Assign("user-1")->arm, a.arm);
}

// Readers assign, pinned and not, while a writer adds and retires arms; every
// answer names an arm the reader can see, with its own ArmInfo, and an
// unpinned answer never a retired arm. Run under ThreadSanitizer in CI.
TEST(AssignerArmsConcurrencyTest, ReadersAssignWhileArmsComeAndGo) {
  std::unique_ptr<Assigner> assigner = ThreeArms();
  constexpr int kReaders = 3;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      int64_t last_epoch = 0;
      for (int i = 0; !done.load(std::memory_order_acquire) || i < 1000; ++i) {
        const std::string unit = absl::StrCat("r", r, "-", i % 3000);
        const Assignment a = *assigner->Assign(unit);
        ASSERT_GE(a.epoch, last_epoch);
        last_epoch = a.epoch;
        ASSERT_LT(a.arm, assigner->num_arms());
        ASSERT_EQ(a.arm_info, &assigner->arm(a.arm));
        ASSERT_GT(a.propensity, 0);
        ASSERT_EQ(a.propensity, assigner->WeightsOf(a.epoch)[a.arm]);
        const Assignment p = *assigner->AssignAt(unit, kStart + absl::Minutes(i % 50));
        ASSERT_EQ(p.arm_info, &assigner->arm(p.arm));
        ASSERT_FALSE(p.arm_info->id.empty());
      }
    });
  }
  // Arms d0, d1, ... join one by one; every other change retires the oldest
  // active added arm, alternating drain and now.
  std::vector<double> weights = {0.2, 0.3, 0.5};
  int oldest = 3;
  for (int step = 1; step <= 60; ++step) {
    const absl::Time at = kStart + absl::Minutes(step);
    if (step % 2 == 1) {
      weights.push_back(0.1);
      ASSERT_TRUE(
          assigner->PublishAddedArm(at, {absl::StrCat("d", step), "{}"}, weights).ok());
    } else {
      weights[oldest] = 0;
      ASSERT_TRUE(assigner
                      ->PublishRetiredArm(
                          at, oldest,
                          step % 4 == 0 ? RetireMode::kNow : RetireMode::kDrain, weights)
                      .ok());
      ++oldest;
    }
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(assigner->num_arms(), 33);
  EXPECT_EQ(assigner->current_epoch(), 60);
}

}  // namespace
}  // namespace allot
