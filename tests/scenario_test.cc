// Copyright 2026 The allot Authors.
//
// Tests of scenario files: every field, the defaults, the fixed baseline, the
// shipped scenarios, and an error naming file, line and field for each bad
// input.

#include "allot/simulation/scenario.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "allot/metric.h"
#include "allot/policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] = "s.toml";

// Line numbers below count from this text's first line.
constexpr char kValid[] = R"toml(name = "three-models"
seed = 42
replicates = 200
horizon = "14d"
[traffic]
units_per_hour = 500
daily_amplitude = 0.3
peak_hour = 15
returning_share = 0.3
pin_unit_start = true
[conversion]
delay = "lognormal"
delay_mean = "6h"
delay_sigma = 1.0
[seasonality]
weekly = [1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7]
[experiment]
unit = "conversation"
[experiment.policy]
floor = 0.02
[experiment.schedule]
burn_in = "24h"
interval = "6h"
conversion_window = "72h"
[[arms]]
id = "small"
weight = 2
rate = 0.10
changes = [{ at = "7d", rate = 0.08 }]
[[arms]]
id = "large"
rate = 0.12
[[policies]]
name = "thompson"
kind = "thompson"
[[policies]]
name = "eps-0.1"
kind = "epsilon_greedy"
epsilon = 0.1
floor = 0
estimate = { method = "pooled", half_life = "12h" }
)toml";

absl::Status ParseError(absl::string_view text) {
  return ParseScenarioToml(text, kSource).status();
}

// kValid with `from` replaced by `to` (which must occur).
std::string With(absl::string_view from, absl::string_view to) {
  std::string text(kValid);
  EXPECT_THAT(text, HasSubstr(std::string(from)));
  return absl::StrReplaceAll(text, {{from, to}});
}

TEST(ScenarioTest, ReadsEveryField) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(kValid, kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "three-models");
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->replicates, 200);
  EXPECT_EQ(s->horizon, absl::Hours(14 * 24));
  EXPECT_EQ(s->traffic.units_per_hour, 500);
  EXPECT_EQ(s->traffic.daily_amplitude, 0.3);
  EXPECT_EQ(s->traffic.peak_hour, 15);
  EXPECT_EQ(s->traffic.returning_share, 0.3);
  EXPECT_TRUE(s->traffic.pin_unit_start);
  EXPECT_EQ(s->conversion.delay, DelayKind::kLognormal);
  EXPECT_EQ(s->conversion.delay_mean, absl::Hours(6));
  EXPECT_EQ(s->conversion.delay_sigma, 1.0);
  EXPECT_EQ(s->weekly[5], 0.7);
  EXPECT_EQ(s->experiment.id, "three-models");
  EXPECT_EQ(s->experiment.unit, "conversation");
  EXPECT_EQ(s->experiment.schedule.interval, absl::Hours(6));
  ASSERT_EQ(s->arms.size(), 2u);
  EXPECT_EQ(s->arms[0].id, "small");
  EXPECT_EQ(s->arms[0].weight, 2);
  EXPECT_EQ(s->arms[0].mean, 0.10);
  ASSERT_EQ(s->arms[0].changes.size(), 1u);
  EXPECT_EQ(s->arms[0].changes[0].at, absl::Hours(7 * 24));
  EXPECT_EQ(s->arms[0].changes[0].mean, 0.08);
  ASSERT_EQ(s->experiment.arms.size(), 2u);
  EXPECT_EQ(s->experiment.arms[0].weight, 2);
  // The two listed policies, then the added fixed baseline.
  ASSERT_EQ(s->policies.size(), 3u);
  EXPECT_EQ(s->policies[0].name, "thompson");
  EXPECT_EQ(s->policies[0].config.floor, 0.02);  // from [experiment.policy]
  EXPECT_EQ(s->policies[1].config.policy.kind, PolicyKind::kEpsilonGreedy);
  EXPECT_EQ(s->policies[1].config.policy.epsilon, 0.1);
  EXPECT_EQ(s->policies[1].config.floor, 0);  // zero is a valid floor
  EXPECT_EQ(s->policies[0].config.estimate.method, EstimateMethod::kEpochAdjusted);
  EXPECT_EQ(s->policies[1].config.estimate.method, EstimateMethod::kPooled);
  EXPECT_EQ(s->policies[1].config.estimate.half_life, absl::Hours(12));
  EXPECT_EQ(s->baseline, 2);
  EXPECT_EQ(s->policies[2].name, "fixed");
  EXPECT_EQ(s->policies[2].config.policy.kind, PolicyKind::kFixed);
}

TEST(ScenarioTest, Defaults) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(R"toml(name = "n"
seed = 0
horizon = "1d"
traffic = { units_per_hour = 10 }
[[arms]]
id = "a"
rate = 0.1
[[arms]]
id = "b"
rate = 0.2
[[policies]]
name = "t"
)toml",
                                                 kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->replicates, 100);
  EXPECT_EQ(s->traffic.daily_amplitude, 0);
  EXPECT_EQ(s->traffic.returning_share, 0);
  EXPECT_FALSE(s->traffic.pin_unit_start);
  EXPECT_EQ(s->conversion.delay, DelayKind::kExponential);
  EXPECT_EQ(s->conversion.delay_mean, absl::ZeroDuration());
  EXPECT_EQ(s->weekly[6], 1.0);
  EXPECT_EQ(s->policies[0].config.policy.kind, PolicyKind::kThompson);
  EXPECT_EQ(s->policies[0].config.schedule.burn_in, absl::Hours(24));
}

TEST(ScenarioTest, ListedFixedPolicyIsTheBaseline) {
  absl::StatusOr<Scenario> s =
      ParseScenarioToml(With("name = \"thompson\"\nkind = \"thompson\"",
                             "name = \"even-split\"\nkind = \"fixed\""),
                        kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->policies.size(), 2u);
  EXPECT_EQ(s->baseline, 0);
  EXPECT_EQ(s->policies[0].name, "even-split");
}

TEST(ScenarioTest, AddedBaselineAvoidsATakenName) {
  absl::StatusOr<Scenario> s =
      ParseScenarioToml(With("name = \"thompson\"", "name = \"fixed\""), kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->policies[s->baseline].name, "fixed-split");
}

TEST(ScenarioTest, ZeroBurnInMinimumUnitsAndFloorAreValid) {
  std::string text = With("burn_in = \"24h\"", "burn_in = \"0s\"\nmin_units_per_arm = 0");
  text = absl::StrReplaceAll(text, {{"floor = 0.02", "floor = 0"}});
  absl::StatusOr<Scenario> s = ParseScenarioToml(text, kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->experiment.schedule.burn_in, absl::ZeroDuration());
  EXPECT_EQ(s->experiment.schedule.min_units_per_arm, 0);
  EXPECT_EQ(s->policies[0].config.floor, 0);
}

TEST(ScenarioTest, ContinuousArmsTakeMeanAndSd) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(R"toml(name = "latency"
seed = 1
horizon = "2d"
traffic = { units_per_hour = 10 }
[experiment.metric]
kind = "continuous"
direction = "lower"
[[arms]]
id = "a"
mean = 1.5
sd = 0.5
changes = [{ at = "1d", mean = 1.2 }]
[[arms]]
id = "b"
mean = 1.4
sd = 0.4
[[policies]]
name = "t"
)toml",
                                                 kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->experiment.metric, MetricKind::kContinuous);
  EXPECT_EQ(s->experiment.direction, Direction::kLowerIsBetter);
  EXPECT_EQ(s->arms[0].changes[0].mean, 1.2);
  EXPECT_EQ(s->arms[0].changes[0].sd, 0.5);  // kept from before the change
}

struct BadCase {
  const char* name;
  const char* from;
  const char* to;
  const char* error;  // the expected start of the message
};

class BadScenarioTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadScenarioTest, NamesFileLineAndField) {
  const BadCase& c = GetParam();
  absl::Status status = ParseError(With(c.from, c.to));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadScenarioTest,
    ::testing::Values(
        BadCase{"UnknownTopLevelKey", "seed = 42", "seed = 42\ncolour = 1",
                "s.toml:3: colour is not a known field"},
        BadCase{"UnknownTrafficKey", "peak_hour = 15", "peak_hour = 15\nburst = 2",
                "s.toml:9: traffic.burst is not a known field"},
        BadCase{"UnknownArmKey", "weight = 2", "weight = 2\ncolour = \"red\"",
                "s.toml:28: arms[0].colour is not a known field"},
        BadCase{"UnknownExperimentKey", "unit = \"conversation\"",
                "unit = \"conversation\"\nowner = \"me\"",
                "s.toml:19: experiment.owner is not a known field"},
        BadCase{"UnknownPolicyKey", "epsilon = 0.1", "epsilon = 0.1\ntemperature = 2",
                "s.toml:40: policies[1].temperature is not a known field"},
        BadCase{"MissingRate", "id = \"large\"\nrate = 0.12", "id = \"large\"",
                "s.toml:30: arms[1].rate is required"},
        BadCase{"NegativeUnitsPerHour", "units_per_hour = 500", "units_per_hour = -5",
                "s.toml:6: traffic.units_per_hour must be > 0"},
        BadCase{"WeeklyWithSixEntries", "[1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7]",
                "[1.0, 1.0, 1.0, 1.0, 0.7, 0.7]",
                "s.toml:16: seasonality.weekly must list 7 factors"},
        BadCase{"NegativeWeekly", "1.0, 0.7, 0.7]", "1.0, -0.7, 0.7]",
                "s.toml:16: seasonality.weekly factors must be finite and >= 0"},
        BadCase{"LognormalWithoutSigma", "delay_sigma = 1.0\n", "",
                "s.toml:12: conversion.delay_sigma is required with delay = "
                "\"lognormal\""},
        BadCase{"SigmaWithExponential", "delay = \"lognormal\"",
                "delay = \"exponential\"",
                "s.toml:14: conversion.delay_sigma is only used with delay = "
                "\"lognormal\""},
        BadCase{"UnknownDelayKind", "delay = \"lognormal\"", "delay = \"gamma\"",
                "s.toml:12: conversion.delay must be \"exponential\" or"},
        BadCase{"BadDuration", "delay_mean = \"6h\"", "delay_mean = \"six hours\"",
                "s.toml:13: conversion.delay_mean must be a duration"},
        BadCase{"BadScheduleDuration", "interval = \"6h\"", "interval = \"6 h\"",
                "s.toml:23: experiment.schedule.interval must be a duration"},
        BadCase{"ZeroInterval", "interval = \"6h\"", "interval = \"0s\"",
                "s.toml:23: experiment.schedule.interval must be a finite "
                "duration of at least 1s, got 0"},
        BadCase{"ZeroReplicates", "replicates = 200", "replicates = 0",
                "s.toml:3: replicates must be in [1, 1000000], got 0"},
        BadCase{"ZeroHorizon", "horizon = \"14d\"", "horizon = \"0s\"",
                "s.toml:4: horizon must be > 0"},
        BadCase{"NegativeHorizon", "horizon = \"14d\"", "horizon = \"-1h\"",
                "s.toml:4: horizon must be > 0"},
        BadCase{"UnknownPolicyKind", "kind = \"epsilon_greedy\"", "kind = \"ucb\"",
                "s.toml:38: policies[1].kind must be thompson, top_two_thompson, "
                "epsilon_greedy or fixed, got \"ucb\""},
        BadCase{"DuplicatePolicyName", "name = \"eps-0.1\"", "name = \"thompson\"",
                "s.toml:37: policies[1].name \"thompson\" is already the name of "
                "another policy"},
        BadCase{"PolicyWithoutName", "name = \"eps-0.1\"\n", "",
                "s.toml:36: policies[1].name is required"},
        BadCase{"BadPolicyField", "epsilon = 0.1", "epsilon = 1.5",
                "s.toml:39: policies[1].epsilon must be in [0, 1], got 1.5"},
        BadCase{"BadExperimentPolicyField", "floor = 0.02", "floor = -1",
                "s.toml:20: experiment.policy.floor must be a finite number >= 0"},
        BadCase{"RateAboveOne", "rate = 0.12", "rate = 1.2",
                "s.toml:32: arms[1].rate must be in [0, 1], got 1.2"},
        BadCase{"RateTimesSeasonalityAboveOne", "0.7, 0.7]", "0.7, 9]",
                "s.toml:32: arms[1].rate times the largest seasonality.weekly "
                "factor (9) must be at most 1"},
        BadCase{"MeanOnBinaryArm", "rate = 0.12", "mean = 0.12",
                "s.toml:32: arms[1].mean is for continuous metrics"},
        BadCase{"ChangeAfterHorizon", "at = \"7d\"", "at = \"15d\"",
                "s.toml:29: arms[0].changes[0].at must be after 0 (the start or "
                "the previous change) and before the horizon 336h"},
        BadCase{"ChangeWithoutAt", "{ at = \"7d\", rate = 0.08 }", "{ rate = 0.08 }",
                "s.toml:29: arms[0].changes[0].at is required"},
        BadCase{"DuplicateArmId", "id = \"large\"", "id = \"small\"",
                "s.toml:31: arms[1].id \"small\" duplicates arms[0].id"},
        BadCase{"NonPositiveWeight", "weight = 2", "weight = 0",
                "s.toml:27: arms[0].weight must be a positive finite number"},
        BadCase{"AmplitudeAboveOne", "daily_amplitude = 0.3", "daily_amplitude = 1.5",
                "s.toml:7: traffic.daily_amplitude must be in [0, 1], got 1.5"},
        BadCase{"ReturningShareOne", "returning_share = 0.3", "returning_share = 1",
                "s.toml:9: traffic.returning_share must be in [0, 1), got 1"},
        BadCase{"WrongType", "units_per_hour = 500", "units_per_hour = \"many\"",
                "s.toml:6: traffic.units_per_hour must be a number"},
        BadCase{"UnknownEstimateMethod", "method = \"pooled\"", "method = \"mixed\"",
                "s.toml:41: policies[1].estimate.method must be epoch_adjusted, "
                "period_weighted or pooled, got \"mixed\""},
        BadCase{"UnknownEstimateKey", "method = \"pooled\"", "methods = \"pooled\"",
                "s.toml:41: policies[1].estimate.methods is not a known field"},
        BadCase{"NegativePolicyHalfLife", "half_life = \"12h\"", "half_life = \"-1h\"",
                "s.toml:41: policies[1].estimate.half_life must be a finite duration"},
        BadCase{"HalfLifeTwice", "floor = 0\nestimate",
                "floor = 0\nhalf_life = \"1h\"\nestimate",
                "s.toml:42: policies[1].estimate and half_life both set a half-life"},
        BadCase{"MalformedToml", "seed = 42", "seed = = 42", "s.toml:2:"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// Two guardrails, one of each kind; line numbers count from this line.
constexpr char kGuarded[] = R"toml(name = "guarded"
seed = 1
horizon = "2d"
traffic = { units_per_hour = 10 }
[[experiment.guardrails]]
id = "errors"
kind = "binary"
direction = "lower"
relative_harm = 0.5
[[experiment.guardrails]]
id = "latency_ms"
kind = "continuous"
direction = "lower"
absolute_harm = 100
[[arms]]
id = "a"
rate = 0.1
guardrails = { errors = 0.02, latency_ms = { mean = 800, sd = 200 } }
[[arms]]
id = "b"
rate = 0.12
guardrails = { latency_ms = { sd = 150, mean = 950 }, errors = 0.04 }
[[policies]]
name = "t"
)toml";

std::string Guarded(absl::string_view from, absl::string_view to) {
  std::string text(kGuarded);
  EXPECT_THAT(text, HasSubstr(std::string(from)));
  return absl::StrReplaceAll(text, {{from, to}});
}

TEST(ScenarioTest, ReadsArmGuardrailsInTheExperimentsOrder) {
  absl::StatusOr<Scenario> s = ParseScenarioToml(kGuarded, kSource);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->experiment.guardrails.size(), 2u);
  EXPECT_EQ(s->experiment.guardrails[0].harm, HarmKind::kRelative);
  EXPECT_EQ(s->experiment.guardrails[1].kind, MetricKind::kContinuous);
  for (const PolicySpec& p : s->policies) EXPECT_EQ(p.config.guardrails.size(), 2u);
  ASSERT_EQ(s->arms[1].guardrails.size(), 2u);
  EXPECT_EQ(s->arms[0].guardrails[0].mean, 0.02);
  EXPECT_EQ(s->arms[0].guardrails[1].mean, 800);
  EXPECT_EQ(s->arms[0].guardrails[1].sd, 200);
  EXPECT_EQ(s->arms[1].guardrails[0].mean, 0.04);
  EXPECT_EQ(s->arms[1].guardrails[1].mean, 950);
  EXPECT_EQ(s->arms[1].guardrails[1].sd, 150);
  EXPECT_TRUE(HasGuardrailHarm(*s));
  // b: 0.04 > 1.5 x 0.02 errors, and 950 > 800 + 100 ms.
  EXPECT_EQ(HarmfulArms(*s), (std::vector<char>{0, 1}));
}

TEST(ScenarioTest, HarmfulArmsFollowTheEnginesDefinition) {
  Scenario s = *ParseScenarioToml(kGuarded, kSource);
  s.arms[1].guardrails[0].mean = 0.03;  // exactly 1.5 x: allowed
  s.arms[1].guardrails[1].mean = 900;   // exactly 100 ms worse: allowed
  EXPECT_EQ(HarmfulArms(s), (std::vector<char>{0, 0}));
  s.arms[1].guardrails[1].mean = 900.5;  // just beyond
  EXPECT_EQ(HarmfulArms(s), (std::vector<char>{0, 1}));
  // Higher is better: harmful below (1 - r) of the best.
  s.experiment.guardrails[1].harm = HarmKind::kNone;  // tracked only
  s.experiment.guardrails[0].direction = Direction::kHigherIsBetter;
  s.arms[0].guardrails[0].mean = 0.5;
  s.arms[1].guardrails[0].mean = 0.26;
  EXPECT_EQ(HarmfulArms(s), (std::vector<char>{0, 0}));
  s.arms[1].guardrails[0].mean = 0.24;
  EXPECT_EQ(HarmfulArms(s), (std::vector<char>{0, 1}));
  s.experiment.guardrails[0].harm = HarmKind::kNone;
  EXPECT_FALSE(HasGuardrailHarm(s));
  EXPECT_EQ(HarmfulArms(s), (std::vector<char>{0, 0}));
}

class BadGuardrailTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadGuardrailTest, NamesFileLineAndField) {
  const BadCase& c = GetParam();
  absl::Status status = ParseError(Guarded(c.from, c.to));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadGuardrailTest,
    ::testing::Values(
        BadCase{"UnknownGuardrail", "errors = 0.04", "crashes = 0.04",
                "s.toml:22: arms[1].guardrails.crashes is not a guardrail of "
                "[[experiment.guardrails]] (they are: errors, latency_ms)"},
        BadCase{"TableForBinary", "errors = 0.04", "errors = { mean = 0.04 }",
                "s.toml:22: arms[1].guardrails.errors must be a number, the rate of "
                "a binary guardrail"},
        BadCase{"NumberForContinuous", "latency_ms = { sd = 150, mean = 950 }",
                "latency_ms = 950",
                "s.toml:22: arms[1].guardrails.latency_ms must be a table { mean = "
                "..., sd = ... } for a continuous guardrail"},
        BadCase{"MissingGuardrail", ", errors = 0.04 }", " }",
                "s.toml:19: arms[1].guardrails.errors is required: every arm gives a "
                "truth for every guardrail"},
        BadCase{"MissingGuardrailsTable",
                "guardrails = { latency_ms = { sd = 150, mean = 950 }, errors = 0.04 }\n",
                "",
                "s.toml:19: arms[1].guardrails is required: every arm gives a truth "
                "for every guardrail (errors, latency_ms)"},
        BadCase{"MissingSd", "{ sd = 150, mean = 950 }", "{ mean = 950 }",
                "s.toml:22: arms[1].guardrails.latency_ms.sd is required"},
        BadCase{"MissingMean", "{ sd = 150, mean = 950 }", "{ sd = 150 }",
                "s.toml:22: arms[1].guardrails.latency_ms.mean is required"},
        BadCase{"UnknownNormalField", "{ sd = 150, mean = 950 }",
                "{ sd = 150, mean = 950, p99 = 2000 }",
                "s.toml:22: arms[1].guardrails.latency_ms.p99 is not a known field"},
        BadCase{"RateAboveOne", "errors = 0.04", "errors = 1.5",
                "s.toml:22: arms[1].guardrails.errors must be a rate in [0, 1], got "
                "1.5"},
        BadCase{"NegativeRate", "errors = 0.04", "errors = -0.01",
                "s.toml:22: arms[1].guardrails.errors must be a rate in [0, 1], got "
                "-0.01"},
        BadCase{"NanRate", "errors = 0.04", "errors = nan",
                "s.toml:22: arms[1].guardrails.errors must be a rate in [0, 1], got "
                "nan"},
        BadCase{"ZeroSd", "{ sd = 150, mean = 950 }", "{ sd = 0, mean = 950 }",
                "s.toml:22: arms[1].guardrails.latency_ms.sd must be a positive "
                "finite number, got 0"},
        BadCase{"InfiniteMean", "{ sd = 150, mean = 950 }", "{ sd = 150, mean = inf }",
                "s.toml:22: arms[1].guardrails.latency_ms.mean must be finite, got "
                "inf"},
        BadCase{"HugeNormal", "{ sd = 150, mean = 950 }", "{ sd = 1e15, mean = 950 }",
                "s.toml:22: arms[1].guardrails.latency_ms |mean| + 9 sd must be at "
                "most 1e+15"},
        BadCase{"NotATable",
                "guardrails = { latency_ms = { sd = 150, mean = 950 }, "
                "errors = 0.04 }",
                "guardrails = 0.04", "s.toml:22: arms[1].guardrails must be a table"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ScenarioTest, CompositePrimaryIsRefused) {
  const std::string text =
      Guarded("[[arms]]\nid = \"a\"",
              "[experiment.metric]\ncomposite = { errors = -1.0 }\n[[arms]]\nid = \"a\"");
  EXPECT_THAT(std::string(ParseError(text).message()),
              HasSubstr("experiment.metric.composite is not supported in scenarios"));
}

TEST(ScenarioTest, MissingRequiredTopLevelFields) {
  EXPECT_THAT(std::string(ParseError(With("seed = 42\n", "")).message()),
              StartsWith("s.toml:1: seed is required"));
  EXPECT_THAT(std::string(ParseError(With("horizon = \"14d\"\n", "")).message()),
              StartsWith("s.toml:1: horizon is required"));
  EXPECT_THAT(std::string(ParseError(With("name = \"three-models\"\n", "")).message()),
              StartsWith("s.toml:1: name is required"));
}

TEST(ScenarioTest, ContinuousArmWithoutSdIsRefused) {
  absl::Status status = ParseError(R"toml(name = "n"
seed = 1
horizon = "1d"
traffic = { units_per_hour = 10 }
[experiment.metric]
kind = "continuous"
[[arms]]
id = "a"
mean = 1
[[arms]]
id = "b"
mean = 2
sd = 1
[[policies]]
name = "t"
)toml");
  EXPECT_THAT(std::string(status.message()),
              StartsWith("s.toml:7: arms[0].sd is required"));
}

TEST(ScenarioTest, ValidateScenarioNamesTheField) {
  Scenario s = *ParseScenarioToml(kValid, kSource);
  s.replicates = 0;
  EXPECT_THAT(std::string(ValidateScenario(s).message()),
              StartsWith("replicates must be"));
  s = *ParseScenarioToml(kValid, kSource);
  s.baseline = 0;  // thompson, not a fixed policy
  EXPECT_THAT(std::string(ValidateScenario(s).message()),
              StartsWith("policies must include a fixed baseline"));
}

// The documented maximum rate over the documented maximum horizon was
// accepted and then ran until memory ran out; the product is bounded.
TEST(ScenarioTest, RefusesMoreUnitsPerReplicateThanTheLimit) {
  absl::Status status = ParseError(With("units_per_hour = 500", "units_per_hour = 1e9"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              StartsWith("s.toml:6: traffic.units_per_hour x horizon must be at most "
                         "1e+08 simulated units per replicate, got 1e+09 x 336 h"));
  // Just under the limit is accepted: 297,000 an hour for 14 days (10
  // replicates of 3 policies keep the whole run under its own limit).
  const std::string text =
      absl::StrReplaceAll(With("units_per_hour = 500", "units_per_hour = 297000"),
                          {{"replicates = 200", "replicates = 10"}});
  absl::StatusOr<Scenario> s = ParseScenarioToml(text, kSource);
  EXPECT_TRUE(s.ok()) << s.status();
}

TEST(ScenarioTest, RefusesMoreSimulatedUnitsThanTheLimit) {
  Scenario s = *ParseScenarioToml(kValid, kSource);
  s.traffic.units_per_hour = 200000;  // 6.72e7 units per replicate
  s.replicates = 100;                 // x 100 x 3 policies = 2e10
  absl::Status status = ValidateScenario(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              StartsWith("replicates x policies x units per replicate must be at most "
                         "1e+10 simulated units, got 100 x 3 x"));
  s.replicates = 40;  // 8.06e9
  EXPECT_TRUE(ValidateScenario(s).ok());
}

TEST(ScenarioTest, LoadsEveryShippedScenario) {
  for (const char* name : {"three-models", "close-race", "aa", "weekly-seasonal",
                           "long-delays", "ten-arms", "latency", "guardrail"}) {
    const std::string path =
        absl::StrCat(ALLOT_SOURCE_DIR, "/examples/scenarios/", name, ".toml");
    absl::StatusOr<Scenario> s = LoadScenarioFile(path);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->name, name);
    EXPECT_EQ(s->policies[s->baseline].config.policy.kind, PolicyKind::kFixed);
  }
  EXPECT_EQ(LoadScenarioFile("/nonexistent.toml").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace allot::sim
