// Copyright 2026 The allot Authors.
//
// End-to-end tests of arms that come and go in the simulator: regret
// against the best active arm, the shipped new-model, drain and churn
// scenarios, churn at the engine's arm cap, and the bound on recorded
// epochs. Every test but the last needs Engine::AddArm and RetireArm.

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/summary.h"
#include "allot/weights.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot::sim {
namespace {

using ::testing::HasSubstr;

// Two equal arms at 10%; "c" at 30%: it joins (or retires) after a day.
// The fixed policy only, no returning units.
constexpr char kTiny[] = R"toml(name = "tiny"
seed = 3
replicates = 1
horizon = "2d"
[traffic]
units_per_hour = 300
[conversion]
delay_mean = "10m"
[experiment.schedule]
burn_in = "6h"
interval = "6h"
conversion_window = "1h"
[[arms]]
id = "a"
rate = 0.1
[[arms]]
id = "b"
rate = 0.1
[[arms]]
id = "c"
rate = 0.3
CHANGE
[[policies]]
name = "fixed"
kind = "fixed"
)toml";

Scenario Parse(absl::string_view text) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(text, "test.toml");
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

Scenario Load(absl::string_view name) {
  absl::StatusOr<Scenario> s = LoadScenarioFile(
      absl::StrCat(ALLOT_SOURCE_DIR, "/examples/scenarios/", name, ".toml"));
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// Hand-computed: before the change, a and b lose 0.2 against c when it is
// active and nothing when it is not; after it the other way round. In both
// cases every exposure not on a best active arm loses exactly 0.2, so
// regret = 0.2 x exposures x (1 - share on a best active arm). Against all
// arms instead, every a and b exposure would lose 0.2 throughout.
void ExpectRegretAgainstTheBestActiveArm(const PolicyOutcome& o) {
  ASSERT_GT(o.exposures, 10000);
  EXPECT_GT(o.share_best, 0.05);
  EXPECT_LT(o.share_best, 0.95);
  const double off_best = static_cast<double>(o.exposures) * (1 - o.share_best);
  EXPECT_NEAR(o.regret, 0.2 * off_best, 1e-6 * o.regret);
}

TEST(SimulationArmsTest, RegretIsAgainstTheBestActiveArmWhenAnArmJoins) {
  const Scenario s = Parse(
      absl::StrReplaceAll(kTiny, {{"CHANGE", "joins_at = \"1d\"\ninitial_share = 0.5"}}));
  const World world(s, 0);
  absl::StatusOr<PolicyOutcome> o = RunPolicy(world, 0, 0);
  ASSERT_TRUE(o.ok()) << o.status();
  ExpectRegretAgainstTheBestActiveArm(*o);
  // c joined with half the traffic: about half of the second day's units
  // (a quarter of all) on it, the rest losing 0.2 each: 0.2 x 7,200 x 0.5.
  EXPECT_NEAR(o->share_best, 0.5 + 0.25, 0.03);
  EXPECT_NEAR(o->regret, 0.2 * 3600, 0.2 * 400);
  // Epoch records: the start (a and b), then the join (three weights).
  ASSERT_GE(o->epochs.size(), 2u);
  EXPECT_EQ(o->epochs[0].weights.size(), 2u);
  EXPECT_EQ(o->epochs[1].weights.size(), 3u);
  EXPECT_NEAR(o->epochs[1].weights[2], 0.5, 1e-3);
}

TEST(SimulationArmsTest, RegretIsAgainstTheBestActiveArmWhenTheBestRetires) {
  const Scenario s = Parse(
      absl::StrReplaceAll(kTiny, {{"CHANGE", "retires_at = \"1d\"\nretire = \"now\""}}));
  const World world(s, 0);
  absl::StatusOr<PolicyOutcome> o = RunPolicy(world, 0, 0);
  ASSERT_TRUE(o.ok()) << o.status();
  ExpectRegretAgainstTheBestActiveArm(*o);
  // A third of the first day's units on c, then a and b are the best:
  // 0.2 x 7,200 x 2/3 lost.
  EXPECT_NEAR(o->regret, 0.2 * 4800, 0.2 * 400);
}

TEST(SimulationArmsTest, NewModelScenarioRuns) {
  Scenario s = Load("new-model");
  s.replicates = 4;
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes = RunScenario(s, {.threads = 2});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  const Summary summary = Summarize(s, *outcomes);
  // Thompson finds the better newcomer; the fixed split leaves it at 10%.
  const PolicySummary& thompson = summary.policies[0];
  const PolicySummary& fixed = summary.policies[static_cast<size_t>(s.baseline)];
  EXPECT_GT(thompson.share_best.mean, fixed.share_best.mean);
  EXPECT_LT(thompson.regret.mean, fixed.regret.mean);
  for (const ReplicateOutcome& r : *outcomes) {
    const PolicyOutcome& o = r.policies[static_cast<size_t>(s.baseline)];
    ASSERT_GE(o.epochs.size(), 2u);
    EXPECT_EQ(o.epochs[1].time_us, int64_t{7} * 24 * kMicrosPerHour);
    EXPECT_NEAR(o.epochs[1].weights[2], 0.1, 1e-3);
  }
  // The same output whatever the thread count.
  absl::StatusOr<std::vector<ReplicateOutcome>> one = RunScenario(s, {.threads = 1});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(SummaryJson(Summarize(s, *one)), SummaryJson(summary));
}

TEST(SimulationArmsTest, DrainScenarioRuns) {
  Scenario s = Load("drain");
  s.replicates = 2;
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes = RunScenario(s, {.threads = 2});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    const PolicyOutcome& o = r.policies[static_cast<size_t>(s.baseline)];
    // The fixed split's epochs: the start, then legacy's retirement on day 5
    // with its weight gone to the others in proportion.
    ASSERT_GE(o.epochs.size(), 2u);
    EXPECT_EQ(o.epochs[1].time_us, int64_t{5} * 24 * kMicrosPerHour);
    EXPECT_EQ(o.epochs[1].weights[0], 0);
    EXPECT_NEAR(o.epochs[1].weights[1], 0.5, 1e-3);
  }
}

TEST(SimulationArmsTest, ChurnScenarioRunsTheSameChurnForEveryPolicy) {
  Scenario s = Load("churn");
  s.replicates = 3;
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes = RunScenario(s, {.threads = 2});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    EXPECT_GT(r.policies[0].churn_changes, 0);
    for (const PolicyOutcome& o : r.policies) {
      EXPECT_EQ(o.churn_changes, r.policies[0].churn_changes);
      EXPECT_FALSE(o.churn_at_cap);
    }
  }
  const std::string json = SummaryJson(Summarize(s, *outcomes));
  EXPECT_THAT(json, HasSubstr("\"churn\": {"));
  EXPECT_THAT(json, HasSubstr("\"replicates_at_cap\": 0"));
}

TEST(SimulationArmsTest, ChurnStopsAtTheArmCap) {
  // Validation refuses such a rate; run it directly: about 720 changes
  // drawn, only 256 - 3 arms fit.
  Scenario s = Parse(absl::StrCat(
      absl::StrReplaceAll(kTiny, {{"CHANGE", ""}}),
      "[churn]\nreplace_probability = 0.001\nnew_arm_rate = { beta = [2, 5] }\n"));
  s.churn.replace_probability = 0.05;
  const World world(s, 0);
  absl::StatusOr<PolicyOutcome> o = RunPolicy(world, 0, 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->churn_at_cap);
  EXPECT_EQ(o->churn_changes, kMaxArms - 3);
}

// Needs no arm changes: a report every second for two hours records
// kMaxEpochRecords epochs and counts the rest.
TEST(SimulationArmsTest, EpochRecordsAreCapped) {
  const Scenario s = Parse(R"toml(name = "often"
seed = 1
replicates = 1
horizon = "2h"
[traffic]
units_per_hour = 7200
[conversion]
delay_mean = "0s"
[experiment.schedule]
burn_in = "10s"
interval = "1s"
conversion_window = "1s"
min_units_per_arm = 1
[[arms]]
id = "a"
rate = 0.1
[[arms]]
id = "b"
rate = 0.2
[[policies]]
name = "thompson"
kind = "thompson"
)toml");
  const World world(s, 0);
  absl::StatusOr<PolicyOutcome> o = RunPolicy(world, 0, 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(static_cast<int64_t>(o->epochs.size()), kMaxEpochRecords);
  EXPECT_GT(o->epochs_dropped, 0);
  EXPECT_LE(static_cast<int64_t>(o->epochs.size()) + o->epochs_dropped, 7200);
}

}  // namespace
}  // namespace allot::sim
