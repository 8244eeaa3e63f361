// Copyright 2026 The allot Authors.
//
// Tests of the simulated world: arrivals in order and at the expected rate,
// the same stream every time, returning units, true rates over time.

#include "allot/simulation/world.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "allot/simulation/scenario.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot::sim {
namespace {

constexpr char kScenario[] = R"toml(name = "world"
seed = 9
horizon = "14d"
[traffic]
units_per_hour = 100
daily_amplitude = 0.5
peak_hour = 15
returning_share = 0.25
[conversion]
delay = "lognormal"
delay_mean = "6h"
delay_sigma = 0.5
[seasonality]
weekly = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
[[arms]]
id = "a"
rate = 0.10
changes = [{ at = "7d", rate = 0.20 }]
[[arms]]
id = "b"
rate = 0.15
[[policies]]
name = "t"
)toml";

Scenario Parse() {
  absl::StatusOr<Scenario> s = ParseScenarioToml(kScenario, "world.toml");
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

std::vector<Arrival> All(const World& world) {
  std::vector<Arrival> out;
  ArrivalStream stream = world.Arrivals();
  Arrival a;
  while (stream.Next(a)) out.push_back(a);
  return out;
}

TEST(WorldTest, StartsOnAMondayAtMidnightUtc) {
  const absl::CivilSecond start =
      absl::ToCivilSecond(SimulationStart(), absl::UTCTimeZone());
  EXPECT_EQ(absl::GetWeekday(start), absl::Weekday::monday);
  EXPECT_EQ(start.hour(), 0);
}

TEST(WorldTest, ArrivalsComeInOrderAtTheExpectedRate) {
  const Scenario scenario = Parse();
  const World world(scenario, 0);
  const std::vector<Arrival> arrivals = All(world);
  // Poisson with mean 33600: 5 sigma is about 920.
  EXPECT_NEAR(static_cast<double>(arrivals.size()), world.ExpectedArrivals(), 920);
  int64_t returning = 0;
  int64_t peak = 0, trough = 0;
  for (size_t i = 0; i < arrivals.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(arrivals[i - 1].time_us, arrivals[i].time_us);
    }
    EXPECT_LT(arrivals[i].time_us, world.horizon_us());
    returning += arrivals[i].returning;
    const int64_t hour = arrivals[i].time_us / kMicrosPerHour % 24;
    peak += hour == 15;
    trough += hour == 3;
  }
  // 25% returning: binomial sd about 80 on 33600 draws; 5 sigma.
  EXPECT_NEAR(static_cast<double>(returning) / arrivals.size(), 0.25, 0.012);
  // Rate at 15h is (1 + 0.5) / (1 - 0.5) = 3 times the rate at 3h.
  EXPECT_NEAR(static_cast<double>(peak) / trough, 3.0, 0.5);
}

TEST(WorldTest, EveryStreamReplaysTheSameArrivals) {
  const Scenario scenario = Parse();
  const World world(scenario, 4);
  const std::vector<Arrival> first = All(world);
  const std::vector<Arrival> second = All(World(scenario, 4));
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].time_us, second[i].time_us);
    EXPECT_EQ(first[i].unit, second[i].unit);
    EXPECT_EQ(first[i].convert_draw, second[i].convert_draw);
    EXPECT_EQ(first[i].delay_us, second[i].delay_us);
  }
  EXPECT_NE(All(World(scenario, 5)).size(), first.size());
}

TEST(WorldTest, NewUnitsAreNumberedInOrderAndReturningOnesAreEarlier) {
  const Scenario scenario = Parse();
  const World world(scenario, 0);
  int64_t next = 0;
  double delay_hours = 0;
  for (const Arrival& a : All(world)) {
    if (a.returning) {
      EXPECT_LT(a.unit, next);
    } else {
      EXPECT_EQ(a.unit, next++);
      EXPECT_GE(a.convert_draw, 0);
      EXPECT_LT(a.convert_draw, 1);
      delay_hours += static_cast<double>(a.delay_us) / kMicrosPerHour;
    }
  }
  // Lognormal delays with mean 6h and sigma 0.5: sd about 3.2h, so the mean
  // of ~25000 is within 0.1h (5 sigma).
  EXPECT_NEAR(delay_hours / static_cast<double>(next), 6.0, 0.1);
}

TEST(WorldTest, GuardrailKeysAreSetOnlyWithGuardrailsAndReplay) {
  for (const Arrival& a : All(World(Parse(), 0))) EXPECT_EQ(a.guardrail_key, 0u);
  const std::string text = absl::StrReplaceAll(
      kScenario, {{"[[arms]]\nid = \"a\"",
                   "[[experiment.guardrails]]\nid = \"errors\"\n[[arms]]\nid = \"a\"\n"
                   "guardrails = { errors = 0.02 }"},
                  {"id = \"b\"", "id = \"b\"\nguardrails = { errors = 0.02 }"}});
  absl::StatusOr<Scenario> s = ParseScenarioToml(text, "world.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  const std::vector<Arrival> first = All(World(*s, 1));
  const std::vector<Arrival> second = All(World(*s, 1));
  const std::vector<Arrival> plain = All(World(Parse(), 1));
  ASSERT_EQ(first.size(), second.size());
  ASSERT_EQ(first.size(), plain.size());  // the primary's draws are unchanged
  absl::flat_hash_set<uint64_t> keys;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].guardrail_key, second[i].guardrail_key);
    EXPECT_EQ(first[i].convert_draw, plain[i].convert_draw);
    keys.insert(first[i].guardrail_key);
  }
  EXPECT_EQ(keys.size(), first.size());  // every arrival draws afresh
}

TEST(WorldTest, GuardrailDrawsAreUniformAndNormalAndIndependent) {
  constexpr int kDraws = 100000;
  double u_sum = 0, u_below = 0, z_sum = 0, z_squares = 0, cross = 0;
  for (uint64_t key = 1; key <= kDraws; ++key) {
    const double u = GuardrailUniform(key * 0x9E3779B97F4A7C15ull, 0);
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
    u_sum += u;
    u_below += u < 0.02;
    const double z = GuardrailNormal(key * 0x9E3779B97F4A7C15ull, 1);
    ASSERT_LT(std::abs(z), 8.6);
    z_sum += z;
    z_squares += z * z;
    cross += (u - 0.5) * z;
  }
  // 5-sigma bounds over 1e5 draws: the uniform's mean (sd 0.289 / 316),
  // P(u < 0.02) (sd 0.00044), the normal's mean (sd 0.0032) and second
  // moment (sd 0.0045), and the guardrails' covariance (sd 0.00091).
  EXPECT_NEAR(u_sum / kDraws, 0.5, 0.0046);
  EXPECT_NEAR(u_below / kDraws, 0.02, 0.0022);
  EXPECT_NEAR(z_sum / kDraws, 0, 0.016);
  EXPECT_NEAR(z_squares / kDraws, 1, 0.023);
  EXPECT_NEAR(cross / kDraws, 0, 0.0046);
}

TEST(WorldTest, TruthFollowsChangesAndTheWeeklyCycle) {
  const Scenario scenario = Parse();
  const World world(scenario, 0);
  const int64_t day = 24 * kMicrosPerHour;
  Truth monday = world.TruthAt(0);
  EXPECT_DOUBLE_EQ(monday.mean[0], 0.10);
  EXPECT_DOUBLE_EQ(monday.mean[1], 0.15);
  EXPECT_EQ(monday.best_arm, 1);
  EXPECT_EQ(monday.until_us, day);
  EXPECT_DOUBLE_EQ(world.RegretOf(monday, 0), 0.05);
  EXPECT_DOUBLE_EQ(world.RegretOf(monday, 1), 0);
  Truth saturday = world.TruthAt(5 * day + 1);
  EXPECT_DOUBLE_EQ(saturday.mean[1], 0.075);
  Truth second_monday = world.TruthAt(7 * day);
  EXPECT_DOUBLE_EQ(second_monday.mean[0], 0.20);
  EXPECT_EQ(second_monday.best_arm, 0);
  EXPECT_EQ(second_monday.from_us, 7 * day);
}

TEST(WorldTest, TiedArmsHaveNoSingleBest) {
  Scenario scenario = Parse();
  scenario.arms[1].mean = 0.10;
  const World world(scenario, 0);
  const Truth t = world.TruthAt(0);
  EXPECT_EQ(t.best_arm, -1);
  EXPECT_TRUE(t.is_best[0] && t.is_best[1]);
}

TEST(WorldTest, MixSeedSeparatesStreams) {
  EXPECT_NE(MixSeed(1, 0), MixSeed(1, 1));
  EXPECT_NE(MixSeed(1, 0), MixSeed(2, 0));
  EXPECT_EQ(MixSeed(7, 3), MixSeed(7, 3));
}

}  // namespace
}  // namespace allot::sim
