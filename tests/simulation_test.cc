// Copyright 2026 The allot Authors.
//
// End-to-end tests of the simulator: determinism whatever the thread count,
// common random numbers, and the statistical claims the README makes (on a
// clear winner Thompson beats the fixed split; on A/A false winners are
// rare). Scenarios are kept small so the binary runs in seconds, also under
// AddressSanitizer.

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/summary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace allot::sim {
namespace {

// Three arms, one clearly best; four days; units come back (stickiness is
// exercised) and the rate follows a daily cycle.
constexpr char kClearWinner[] = R"toml(name = "clear-winner"
seed = 2026
replicates = 20
horizon = "4d"
[traffic]
units_per_hour = 200
daily_amplitude = 0.3
peak_hour = 15
returning_share = 0.2
[conversion]
delay = "exponential"
delay_mean = "3h"
[experiment.schedule]
burn_in = "12h"
interval = "6h"
conversion_window = "24h"
min_units_per_arm = 50
[[arms]]
id = "a"
rate = 0.08
[[arms]]
id = "b"
rate = 0.10
[[arms]]
id = "c"
rate = 0.15
[[policies]]
name = "thompson"
kind = "thompson"
)toml";

Scenario Parse(absl::string_view text) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(text, "test.toml");
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

Summary RunAndSummarize(const Scenario& scenario, int threads) {
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes =
      RunScenario(scenario, {.threads = threads});
  EXPECT_TRUE(outcomes.ok()) << outcomes.status();
  return Summarize(scenario, *outcomes);
}

const PolicySummary& Policy(const Summary& summary, absl::string_view name) {
  for (const PolicySummary& p : summary.policies) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no policy " << name;
  return summary.policies.front();
}

TEST(SimulationTest, OutputIsIdenticalWhateverTheThreadCount) {
  Scenario scenario = Parse(kClearWinner);
  scenario.replicates = 6;
  absl::StatusOr<std::vector<ReplicateOutcome>> one =
      RunScenario(scenario, {.threads = 1});
  absl::StatusOr<std::vector<ReplicateOutcome>> two =
      RunScenario(scenario, {.threads = 2});
  absl::StatusOr<std::vector<ReplicateOutcome>> four =
      RunScenario(scenario, {.threads = 4});
  ASSERT_TRUE(one.ok() && two.ok() && four.ok());
  const std::string json = SummaryJson(Summarize(scenario, *one));
  EXPECT_EQ(json, SummaryJson(Summarize(scenario, *two)));
  EXPECT_EQ(json, SummaryJson(Summarize(scenario, *four)));
  EXPECT_EQ(EpochsCsv(scenario, *one), EpochsCsv(scenario, *two));
  EXPECT_EQ(EpochsCsv(scenario, *one), EpochsCsv(scenario, *four));
}

TEST(SimulationTest, AnotherSeedGivesAnotherWorld) {
  Scenario scenario = Parse(kClearWinner);
  scenario.replicates = 2;
  const std::string json = SummaryJson(RunAndSummarize(scenario, 1));
  scenario.seed += 1;
  EXPECT_NE(json, SummaryJson(RunAndSummarize(scenario, 1)));
}

TEST(SimulationTest, IdenticalPoliciesGetIdenticalFigures) {
  // Common random numbers: the same arrivals and the same draw per unit, so
  // two identical policies under different names see exactly the same world
  // and make exactly the same choices.
  Scenario scenario = Parse(absl::StrCat(kClearWinner, R"toml(
[[policies]]
name = "thompson-again"
kind = "thompson"
)toml"));
  scenario.replicates = 4;
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes =
      RunScenario(scenario, {.threads = 2});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    const PolicyOutcome& a = r.policies[0];
    const PolicyOutcome& b = r.policies[1];
    EXPECT_EQ(a.arrivals, b.arrivals);
    EXPECT_EQ(a.regret, b.regret);
    EXPECT_EQ(a.conversions, b.conversions);
    EXPECT_EQ(a.share_best, b.share_best);
    EXPECT_EQ(a.moved_share, b.moved_share);
    EXPECT_EQ(a.regret_curve, b.regret_curve);
    ASSERT_EQ(a.epochs.size(), b.epochs.size());
    for (size_t e = 0; e < a.epochs.size(); ++e) {
      EXPECT_EQ(a.epochs[e].weights, b.epochs[e].weights);
    }
  }
}

TEST(SimulationTest, EveryPolicySeesTheSameArrivals) {
  Scenario scenario = Parse(kClearWinner);
  scenario.replicates = 3;
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes =
      RunScenario(scenario, {.threads = 1});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    EXPECT_EQ(r.policies[0].arrivals, r.policies[1].arrivals);
    EXPECT_EQ(r.policies[0].exposures, r.policies[1].exposures);
  }
  // The fixed baseline's lift against itself is exactly zero.
  const Summary summary = Summarize(scenario, *outcomes);
  EXPECT_EQ(Policy(summary, "fixed").lift_vs_fixed.mean, 0);
}

TEST(SimulationTest, ThompsonBeatsTheFixedSplitOnAClearWinner) {
  const Summary summary = RunAndSummarize(Parse(kClearWinner), 2);
  const PolicySummary& thompson = Policy(summary, "thompson");
  const PolicySummary& fixed = Policy(summary, "fixed");
  // The intervals do not cross: Thompson's upper bound is below the fixed
  // split's lower bound.
  EXPECT_LT(thompson.regret.high, fixed.regret.low);
  EXPECT_GT(thompson.lift_vs_fixed.low, 0);
  EXPECT_GT(thompson.share_best.mean, fixed.share_best.mean);
  // The fixed split never moves anyone; Thompson moves at most its
  // total-variation distance (units held by their window do not move).
  EXPECT_EQ(fixed.tv_bound.mean, 0);
  EXPECT_EQ(fixed.moved_share.mean, 0);
  EXPECT_GT(thompson.tv_bound.mean, 0);
  EXPECT_LE(thompson.moved_share.mean, thompson.tv_bound.mean * 1.1 + 0.05);
  EXPECT_EQ(thompson.wrong_winner.rate, 0);
}

TEST(SimulationTest, FalseWinnersAndSampleRatioAlarmsAreRareOnAA) {
  // Two identical arms: any winner is a false one. 40 replicates; a true
  // false-winner rate of 5% would give 2 of 40 on average.
  const std::string aa =
      absl::StrReplaceAll(kClearWinner, {{"rate = 0.08", "rate = 0.10"},
                                         {"[[arms]]\nid = \"c\"\nrate = 0.15\n", ""},
                                         {"replicates = 20", "replicates = 40"},
                                         {"horizon = \"4d\"", "horizon = \"7d\""}});
  const Summary summary = RunAndSummarize(Parse(aa), 2);
  for (const PolicySummary& p : summary.policies) {
    EXPECT_LT(p.wrong_winner.rate, 0.05) << p.name;
    EXPECT_LT(p.srm_alarm.rate, 0.05) << p.name;
    EXPECT_EQ(p.winner_correct.rate, 0) << p.name;
    EXPECT_EQ(p.regret.mean, 0) << p.name;
  }
}

TEST(SimulationTest, PinnedUnitsNeverMove) {
  const std::string pinned = absl::StrReplaceAll(
      kClearWinner,
      {{"returning_share = 0.2", "returning_share = 0.4\npin_unit_start = true"}});
  Scenario scenario = Parse(pinned);
  scenario.replicates = 3;
  const Summary summary = RunAndSummarize(scenario, 2);
  const PolicySummary& thompson = Policy(summary, "thompson");
  EXPECT_GT(thompson.tv_bound.mean, 0);
  EXPECT_EQ(thompson.moved_share.mean, 0);
  EXPECT_EQ(thompson.ever_moved_share.mean, 0);
}

// The issue's phantom trials: units that convert, then come back after the
// ledger forgot them (window one hour, retention one hour, so forgotten
// within two to three hours; half the arrivals are returns of a random
// earlier unit, mostly hours later). The engine counts each such return as
// a new trial; the world must give it an outcome too. Every unit converts
// (rate 1) at once, so every trial the engine counted must have converted:
// a phantom trial would be a non-converting one.
constexpr char kReturns[] = R"toml(name = "returns"
seed = 7
replicates = 1
horizon = "2d"
[traffic]
units_per_hour = 20
returning_share = 0.5
[conversion]
delay = "exponential"
delay_mean = "1s"
[experiment.schedule]
burn_in = "1h"
interval = "1h"
conversion_window = "1h"
retention = "1h"
min_units_per_arm = 1
[[arms]]
id = "a"
rate = 1.0
[[arms]]
id = "b"
rate = 1.0
[[policies]]
name = "thompson"
kind = "thompson"
)toml";

TEST(SimulationTest, EveryTrialTheEngineCountsHasAnOutcome) {
  const Scenario forgets = Parse(kReturns);
  const Scenario remembers = Parse(
      absl::StrReplaceAll(kReturns, {{"retention = \"1h\"", "retention = \"7d\""}}));
  const World forgets_world(forgets, 0), remembers_world(remembers, 0);
  absl::StatusOr<PolicyOutcome> f = RunPolicy(forgets_world, 0, 0);
  absl::StatusOr<PolicyOutcome> r = RunPolicy(remembers_world, 0, 0);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(r.ok()) << r.status();
  // Returns after the retention were new trials: more of them than when
  // units are remembered all along (then trials are the new units alone).
  EXPECT_GT(f->counted_trials, r->counted_trials + 100);
  EXPECT_GT(f->exposures, r->exposures + 100);
  // ...and each had its outcome: the counted mean is 1.
  EXPECT_EQ(f->counted_outcomes, static_cast<double>(f->counted_trials));
  EXPECT_EQ(r->counted_outcomes, static_cast<double>(r->counted_trials));
}

// The shipped drift scenario (the best arm changes on day 5), on 4 of its
// replicates: the policy with a half-life puts more of the traffic after the
// change on the new best arm. Fixed seed; measured 0.50 without and 0.70
// with, so a margin of 0.1.
TEST(SimulationTest, AHalfLifeFollowsTheChangeOfTheBestArm) {
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile(ALLOT_SOURCE_DIR "/examples/scenarios/drift.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  scenario->replicates = 4;
  const Summary summary = RunAndSummarize(*scenario, 2);
  const double plain = Policy(summary, "thompson").share_best_after_change.mean;
  const double discounted =
      Policy(summary, "thompson-hl-24h").share_best_after_change.mean;
  EXPECT_GT(discounted, plain + 0.1) << plain << " vs " << discounted;
  EXPECT_NEAR(Policy(summary, "fixed").share_best_after_change.mean, 0.5, 0.02);
}

TEST(SimulationTest, GuardrailsStopAClearlyHarmfulArmAndSpareTheOthers) {
  // "c" converts best but has five times the errors of the others, far
  // beyond the 50% allowed; "b" has 20% more errors than "a": harmless.
  const std::string text = absl::StrReplaceAll(
      kClearWinner,
      {{"replicates = 20", "replicates = 8"},
       {"units_per_hour = 200", "units_per_hour = 400"},
       {"[[arms]]\nid = \"a\"\nrate = 0.08\n",
        "[[experiment.guardrails]]\nid = \"errors\"\nrelative_harm = 0.5\n"
        "[[experiment.guardrails]]\nid = \"latency\"\nkind = \"continuous\"\n"
        "[[arms]]\nid = \"a\"\nrate = 0.08\n"
        "guardrails = { errors = 0.02, latency = { mean = 900, sd = 300 } }\n"},
       {"rate = 0.10\n",
        "rate = 0.10\nguardrails = { errors = 0.024, latency = { mean = 800, sd = 200 } "
        "}\n"},
       {"rate = 0.15\n",
        "rate = 0.15\nguardrails = { errors = 0.10, latency = { mean = 700, sd = 100 } "
        "}\n"}});
  const Scenario scenario = Parse(text);
  EXPECT_EQ(HarmfulArms(scenario), (std::vector<char>{0, 0, 1}));
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes =
      RunScenario(scenario, {.threads = 2});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    for (const PolicyOutcome& o : r.policies) {
      ASSERT_EQ(o.stop_hours.size(), 3u);
      // Stopped at a report, after the burn-in.
      EXPECT_GE(o.stop_hours[2], 12);
      EXPECT_LT(o.stop_hours[2], 96);
    }
  }
  const Summary summary = Summarize(scenario, *outcomes);
  EXPECT_TRUE(summary.guardrails);
  EXPECT_EQ(summary.harmful_arms, std::vector<std::string>{"c"});
  for (const PolicySummary& p : summary.policies) {
    EXPECT_EQ(p.correct_stop.rate, 1) << p.name;
    EXPECT_EQ(p.correct_stop.n, 8) << p.name;
    // At alpha = 0.05 over every contrast a false stop has probability at
    // most 5% per replicate: 2 or more of 8 has probability under 6%, and
    // with "b" 20% worse, not at the boundary, it is far rarer.
    EXPECT_LE(p.false_stop.count, 1) << p.name;
    EXPECT_LT(p.hours_to_stop.median, 96) << p.name;
    EXPECT_EQ(p.hours_to_stop.censored, 0) << p.name;
  }
  rapidjson::Document d;
  d.Parse(SummaryJson(summary).c_str());
  ASSERT_FALSE(d.HasParseError());
  ASSERT_EQ(d["harmful_arms"].Size(), 1u);
  EXPECT_STREQ(d["harmful_arms"][0].GetString(), "c");
  const auto& t = d["policies"]["thompson"];
  EXPECT_EQ(t["correct_stop_rate"].GetDouble(), 1);
  EXPECT_EQ(t["correct_stop_ci95"].Size(), 2u);
  EXPECT_TRUE(t["false_stop_rate"].IsNumber());
  EXPECT_EQ(t["false_stop_ci95"].Size(), 2u);
  EXPECT_TRUE(t["hours_to_stop"]["median"].IsNumber());
  EXPECT_EQ(t["hours_to_stop"]["median_ci95"].Size(), 2u);
  EXPECT_EQ(t["hours_to_stop"]["replicates_without"].GetInt64(), 0);
  EXPECT_THAT(SummaryMarkdown(summary),
              ::testing::HasSubstr("Guardrail stops; harmful arms by the truths: c."));
}

TEST(SimulationTest, TrackedGuardrailsStopNothingAndAddNoStopFigures) {
  // A guardrail without a harm is recorded and reported, never stops.
  std::string text = absl::StrReplaceAll(
      kClearWinner, {{"replicates = 20", "replicates = 2"},
                     {"[[arms]]\nid = \"a\"",
                      "[[experiment.guardrails]]\nid = \"errors\"\n[[arms]]\nid = \"a\""},
                     {"rate = 0.08\n", "rate = 0.08\nguardrails = { errors = 0.3 }\n"},
                     {"rate = 0.10\n", "rate = 0.10\nguardrails = { errors = 0.3 }\n"},
                     {"rate = 0.15\n", "rate = 0.15\nguardrails = { errors = 0.3 }\n"},
                     {"returning_share = 0.2", "returning_share = 0"}});
  const Scenario scenario = Parse(text);
  EXPECT_FALSE(HasGuardrailHarm(scenario));
  EXPECT_EQ(HarmfulArms(scenario), (std::vector<char>{0, 0, 0}));
  absl::StatusOr<std::vector<ReplicateOutcome>> outcomes =
      RunScenario(scenario, {.threads = 1});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const ReplicateOutcome& r : *outcomes) {
    for (const PolicyOutcome& o : r.policies) {
      for (double h : o.stop_hours) EXPECT_TRUE(std::isnan(h));
    }
  }
  const Summary summary = Summarize(scenario, *outcomes);
  EXPECT_FALSE(summary.guardrails);
  rapidjson::Document d;
  d.Parse(SummaryJson(summary).c_str());
  EXPECT_FALSE(d.HasMember("harmful_arms"));
  EXPECT_FALSE(d["policies"]["thompson"].HasMember("false_stop_rate"));
}

TEST(SimulationTest, RefusesBadOptions) {
  Scenario scenario = Parse(kClearWinner);
  EXPECT_EQ(RunScenario(scenario, {.threads = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  scenario.replicates = 0;
  EXPECT_EQ(RunScenario(scenario, {.threads = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace allot::sim
