// Copyright 2026 The allot Authors.
//
// The engine over time: how long a matured unit is remembered
// (schedule.retention) and how discounting old epochs (estimate.half_life)
// lets the weights follow a change of the best arm.

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

absl::Time At(absl::Duration d) { return kStart + d; }

std::unique_ptr<Engine> Started(const ExperimentConfig& config) {
  auto engine = std::make_unique<Engine>();
  EXPECT_TRUE(engine->CreateExperiment(config).ok());
  EXPECT_TRUE(engine->Start(config.id, kStart).ok());
  return engine;
}

// Window one hour, reallocations every hour, retention three hours: a unit
// that returns within the retention after its window closed keeps its
// exposure (not a new trial); one that returns after twice the retention is
// a new trial. Assignment::new_exposure says which.
TEST(EngineDriftTest, RetentionDecidesWhetherAReturnIsANewTrial) {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}};
  c.schedule.burn_in = absl::Hours(1);
  c.schedule.interval = absl::Hours(1);
  c.schedule.conversion_window = absl::Hours(1);
  c.schedule.retention = absl::Hours(3);
  std::unique_ptr<Engine> engine = Started(c);
  auto assign = [&](absl::Duration at) {
    EXPECT_TRUE(engine->Advance(At(at)).ok());
    absl::StatusOr<Assignment> a = engine->Assign("exp", "u", At(at));
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() && a->new_exposure;
  };
  EXPECT_TRUE(assign(absl::ZeroDuration()));
  EXPECT_FALSE(assign(absl::Minutes(30)));  // inside the window
  EXPECT_FALSE(assign(absl::Hours(3)));     // matured at 1h, remembered
  EXPECT_FALSE(assign(absl::Hours(4)));
  EXPECT_TRUE(assign(absl::Hours(9)));  // forgotten: a new trial
  EXPECT_FALSE(assign(absl::Hours(9) + absl::Minutes(1)));
}

// Two arms; "a" converts at 0.30 and "b" at 0.20 for five days, then they
// swap. Units convert at once. Returns the weight on "b" three days after
// the swap, and how much of the traffic of those three days it got.
struct AfterSwap {
  double weight_b = 0;
  double share_b = 0;
};
AfterSwap RunSwap(absl::Duration half_life) {
  ExperimentConfig c;
  c.id = "drift";
  c.arms = {{"a", 1}, {"b", 1}};
  c.schedule.burn_in = absl::Hours(6);
  c.schedule.interval = absl::Hours(6);
  c.schedule.conversion_window = absl::Hours(1);
  c.schedule.min_units_per_arm = 50;
  c.estimate.half_life = half_life;
  std::unique_ptr<Engine> engine = Started(c);
  std::mt19937_64 rng(2026);  // fixed: the same units and draws in both runs
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const absl::Duration swap = absl::Hours(5 * 24);
  const absl::Duration end = absl::Hours(8 * 24);
  constexpr int kPerHour = 200;
  int64_t after = 0, after_b = 0;
  for (int64_t i = 0; i < absl::ToInt64Hours(end) * kPerHour; ++i) {
    const absl::Duration t = absl::Seconds(i * 3600 / kPerHour);
    EXPECT_TRUE(engine->Advance(At(t)).ok());
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("drift", unit, At(t));
    EXPECT_TRUE(a.ok());
    const bool swapped = t >= swap;
    const double rate = (a->arm == 0) != swapped ? 0.30 : 0.20;
    if (uniform(rng) < rate) {
      EXPECT_TRUE(engine->RecordOutcome("drift", unit, At(t), 1).ok());
    }
    if (swapped) {
      ++after;
      after_b += a->arm == 1;
    }
  }
  EXPECT_TRUE(engine->Advance(At(end)).ok());
  absl::StatusOr<AllocationHistory> history = engine->History("drift");
  EXPECT_TRUE(history.ok());
  return {history->epochs().back().weights[1],
          static_cast<double>(after_b) / static_cast<double>(after)};
}

// With a 12-hour half-life the weights follow the swap within the three
// days; without one five days of "a" being better outweigh them. The
// margins are wide (seeded run: see the printed figures).
TEST(EngineDriftTest, AHalfLifeFollowsAChangeOfTheBestArm) {
  const AfterSwap plain = RunSwap(absl::ZeroDuration());
  const AfterSwap discounted = RunSwap(absl::Hours(12));
  std::printf(
      "after the swap: weight on b %.3f (no half-life) vs %.3f (12h); "
      "share of traffic on b %.3f vs %.3f\n",
      plain.weight_b, discounted.weight_b, plain.share_b, discounted.share_b);
  EXPECT_LT(plain.weight_b, 0.5);
  EXPECT_GT(discounted.weight_b, 0.9);
  EXPECT_GT(discounted.share_b, plain.share_b + 0.3);
}

}  // namespace
}  // namespace allot
