// Copyright 2026 The allot Authors.
//
// The reallocation grid: first due at start + burn_in (start + interval
// when there is no burn-in), stepping by the interval, resumable at a given
// time; and the burn-in blocker's message.

#include "runtime/scheduler.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

ScheduleConfig Schedule(absl::Duration burn_in, absl::Duration interval) {
  ScheduleConfig s;
  s.burn_in = burn_in;
  s.interval = interval;
  return s;
}

TEST(SchedulerTest, FirstDueAtTheEndOfBurnIn) {
  const Scheduler s(kStart, Schedule(absl::Hours(24), absl::Hours(6)));
  EXPECT_EQ(s.next_due(), kStart + absl::Hours(24));
}

TEST(SchedulerTest, WithoutBurnInFirstDueOneIntervalAfterStart) {
  const Scheduler s(kStart, Schedule(absl::ZeroDuration(), absl::Minutes(20)));
  EXPECT_EQ(s.next_due(), kStart + absl::Minutes(20));
}

TEST(SchedulerTest, StepMovesByTheIntervalAlignedToBurnInEnd) {
  Scheduler s(kStart, Schedule(absl::Minutes(45), absl::Minutes(20)));
  s.Step();
  EXPECT_EQ(s.next_due(), kStart + absl::Minutes(65));
  s.Step();
  s.Step();
  EXPECT_EQ(s.next_due(), kStart + absl::Minutes(105));
}

TEST(SchedulerTest, SetNextDueResumesTheGridThere) {
  Scheduler s(kStart, Schedule(absl::Hours(1), absl::Minutes(30)));
  const absl::Time resumed = kStart + absl::Hours(7) + absl::Minutes(13);
  s.set_next_due(resumed);
  EXPECT_EQ(s.next_due(), resumed);
  s.Step();
  EXPECT_EQ(s.next_due(), resumed + absl::Minutes(30));
}

TEST(BurnInBlockerTest, NamesTheFirstArmBelowTheMinimum) {
  EXPECT_EQ(BurnInBlocker({150, 12, 3}, {"a", "b", "c"}, 100),
            "arm \"b\" has 12 matured units, below the minimum of 100");
  EXPECT_EQ(BurnInBlocker({0, 0}, {"control", "treatment"}, 1),
            "arm \"control\" has 0 matured units, below the minimum of 1");
}

TEST(BurnInBlockerTest, EmptyOnceEveryArmHasTheMinimum) {
  EXPECT_EQ(BurnInBlocker({100, 100}, {"a", "b"}, 100), "");  // at the minimum
  EXPECT_EQ(BurnInBlocker({101, 5000, 100}, {"a", "b", "c"}, 100), "");
  EXPECT_EQ(BurnInBlocker({0, 0}, {"a", "b"}, 0), "");  // no minimum
}

}  // namespace
}  // namespace allot::internal
