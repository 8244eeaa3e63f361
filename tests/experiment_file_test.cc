// Copyright 2026 The allot Authors.
//
// Tests of experiment files: every field and default, every shipped example,
// and an error for each bad input that points at its line and names its field.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "allot/metric.h"
#include "allot/policy.h"
#include "allot/weights.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] = "exp.toml";

constexpr char kFull[] = R"toml(# Every field of an experiment file.
id = "checkout-model"
salt = "checkout-model-v2"
unit = "account"
holdout = 0.1
baseline = "control"
fallback = "treatment"

[[arms]]
id = "control"
weight = 3

[[arms]]
id = "treatment"
weight = 1.5

[[arms]]
id = "challenger"
weight = 0.5

[metric]
kind = "continuous"
direction = "lower"

[policy]
kind = "top_two_thompson"
epsilon = 0.2
top_two_beta = 0.7
floor = 0.05
max_shift = 0.25
seed = 42
prior_alpha = 2
prior_beta = 3.5

[schedule]
burn_in = "48h"
min_units_per_arm = 250
interval = "1h30m"
conversion_window = "7d"
retention = "14d"

[estimate]
method = "period_weighted"
half_life = "72h"

[decision]
rule = "p_best"
alpha = 0.01
min_effect = 0.002
horizon_units = 50000
)toml";

constexpr char kMinimal[] = R"toml(id = "minimal"
[[arms]]
id = "a"
[[arms]]
id = "b"
)toml";

TEST(ExperimentFileTest, ParsesEveryField) {
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(kFull, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "checkout-model");
  EXPECT_EQ(c->salt, "checkout-model-v2");
  EXPECT_EQ(c->EffectiveSalt(), "checkout-model-v2");
  EXPECT_EQ(c->unit, "account");
  EXPECT_EQ(c->holdout, 0.1);
  EXPECT_EQ(c->baseline, "control");
  EXPECT_EQ(c->fallback, "treatment");
  EXPECT_THAT(c->ArmIds(), ElementsAre("control", "treatment", "challenger"));
  EXPECT_THAT(c->InitialWeights(), ElementsAre(3.0, 1.5, 0.5));
  EXPECT_EQ(c->metric, MetricKind::kContinuous);
  EXPECT_EQ(c->direction, Direction::kLowerIsBetter);
  EXPECT_EQ(c->policy.kind, PolicyKind::kTopTwoThompson);
  EXPECT_EQ(c->policy.epsilon, 0.2);
  EXPECT_EQ(c->policy.top_two_beta, 0.7);
  EXPECT_EQ(c->floor, 0.05);
  EXPECT_EQ(c->max_shift, 0.25);
  EXPECT_EQ(c->seed, 42u);
  EXPECT_EQ(c->prior_alpha, 2.0);
  EXPECT_EQ(c->prior_beta, 3.5);
  EXPECT_EQ(c->schedule.burn_in, absl::Hours(48));
  EXPECT_EQ(c->schedule.min_units_per_arm, 250);
  EXPECT_EQ(c->schedule.interval, absl::Minutes(90));
  EXPECT_EQ(c->schedule.conversion_window, absl::Hours(7 * 24));
  EXPECT_EQ(c->schedule.retention, absl::Hours(14 * 24));
  EXPECT_EQ(c->schedule.EffectiveRetention(), absl::Hours(14 * 24));
  EXPECT_EQ(c->estimate.half_life, absl::Hours(72));
  EXPECT_EQ(c->estimate.method, EstimateMethod::kPeriodWeighted);
  EXPECT_EQ(c->decision.rule, DecisionRule::kPBest);
  EXPECT_EQ(c->decision.alpha, 0.01);
  EXPECT_EQ(c->decision.min_effect, 0.002);
  EXPECT_EQ(c->decision.horizon_units, 50000);
}

TEST(ExperimentFileTest, MinimalFileGetsEveryDocumentedDefault) {
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(kMinimal, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "minimal");
  EXPECT_EQ(c->salt, "");
  EXPECT_EQ(c->EffectiveSalt(), "minimal");
  EXPECT_EQ(c->unit, "unit");
  EXPECT_THAT(c->ArmIds(), ElementsAre("a", "b"));
  EXPECT_THAT(c->InitialWeights(), ElementsAre(1.0, 1.0));
  EXPECT_EQ(c->holdout, 0.0);
  EXPECT_EQ(c->baseline, "");
  EXPECT_EQ(c->fallback, "");
  EXPECT_EQ(c->metric, MetricKind::kBinary);
  EXPECT_EQ(c->direction, Direction::kHigherIsBetter);
  EXPECT_EQ(c->policy.kind, PolicyKind::kThompson);
  EXPECT_EQ(c->policy.epsilon, 0.1);
  EXPECT_EQ(c->policy.top_two_beta, 0.5);
  EXPECT_EQ(c->floor, 0.01);
  EXPECT_EQ(c->max_shift, 1.0);
  EXPECT_EQ(c->seed, 1u);
  EXPECT_EQ(c->prior_alpha, 1.0);
  EXPECT_EQ(c->prior_beta, 1.0);
  EXPECT_EQ(c->schedule.burn_in, absl::Hours(24));
  EXPECT_EQ(c->schedule.min_units_per_arm, 100);
  EXPECT_EQ(c->schedule.interval, absl::Hours(6));
  EXPECT_EQ(c->schedule.conversion_window, absl::Hours(72));
  EXPECT_EQ(c->schedule.retention, std::nullopt);
  EXPECT_EQ(c->schedule.EffectiveRetention(), absl::Hours(72));
  EXPECT_EQ(c->estimate.half_life, absl::ZeroDuration());
  EXPECT_EQ(c->estimate.method, EstimateMethod::kEpochAdjusted);
  EXPECT_EQ(c->decision.rule, DecisionRule::kConfidenceSequence);
  EXPECT_EQ(c->decision.alpha, 0.05);
  EXPECT_EQ(c->decision.min_effect, 0);
  EXPECT_EQ(c->decision.horizon_units, 10000);
}

TEST(ExperimentFileTest, ParsesEveryShippedExample) {
  const std::filesystem::path dir =
      std::filesystem::path(ALLOT_SOURCE_DIR) / "examples" / "experiments";
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    absl::StatusOr<ExperimentConfig> c = LoadExperimentFile(entry.path().string());
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << c.status();
    ++parsed;
  }
  EXPECT_GE(parsed, 2);
}

TEST(ExperimentFileTest, ShippedSupportBotModelIsTheContractExample) {
  absl::StatusOr<ExperimentConfig> c =
      LoadExperimentFile(ALLOT_SOURCE_DIR "/examples/experiments/support-bot-model.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "support-bot-model");
  EXPECT_EQ(c->EffectiveSalt(), "support-bot-model");
  EXPECT_EQ(c->unit, "conversation");
  EXPECT_EQ(c->holdout, 0.05);
  EXPECT_EQ(c->baseline, "small");
  EXPECT_THAT(c->ArmIds(), ElementsAre("small", "large"));
  EXPECT_THAT(c->InitialWeights(), ElementsAre(1.0, 1.0));
  EXPECT_EQ(c->surface, "support-bot");
  EXPECT_EQ(c->arms[0].payload, R"({"model":"support-small-2","temperature":0.2})");
  EXPECT_EQ(c->arms[1].payload, R"({"model":"support-large-2","temperature":0.2})");
}

TEST(ExperimentFileTest, LoadMissingFileIsNotFound) {
  absl::StatusOr<ExperimentConfig> c =
      LoadExperimentFile(::testing::TempDir() + "/no/such/experiment.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("no/such/experiment.toml"));
}

TEST(ExperimentFileTest, LoadNamesThePathInErrors) {
  const std::string path = ::testing::TempDir() + "/experiment_file_test_bad.toml";
  {
    std::ofstream out(path);
    out << "id = \"x\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\nweight = 0\n";
  }
  absl::StatusOr<ExperimentConfig> c = LoadExperimentFile(path);
  std::remove(path.c_str());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), StartsWith(path + ":6: arms[1].weight"));
}

// A bad experiment file: its text, with the offending line marked "# <-"
// (none for errors that belong to the whole file, reported at line 1), and
// what the message must say after "exp.toml:LINE: ".
struct BadFile {
  std::string name;
  std::string text;
  std::string message;
};

// Names a case by its name alone in test output.
void PrintTo(const BadFile& bad, std::ostream* os) { *os << bad.name; }

int MarkedLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StrContains(lines[i], "# <-")) return static_cast<int>(i) + 1;
  }
  return 1;
}

// The minimal file with `top` after the id and `tail` at the end.
std::string With(const std::string& top, const std::string& tail = "") {
  return absl::StrCat("id = \"exp\"\n", top, "[[arms]]\nid = \"a\"\n",
                      "[[arms]]\nid = \"b\"\n", tail);
}

class BadExperimentFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadExperimentFileTest, NamesLineAndField) {
  const BadFile& bad = GetParam();
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(bad.text, kSource);
  ASSERT_FALSE(c.ok()) << bad.text;
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(c.status().message()),
      StartsWith(absl::StrCat(kSource, ":", MarkedLine(bad.text), ": ", bad.message)))
      << bad.text;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadExperimentFileTest,
    ::testing::Values(
        BadFile{"MissingId",
                "unit = \"user\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n",
                "id is required"},
        BadFile{"EmptyId",
                "id = \"\"  # <-\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n",
                "id must not be empty"},
        BadFile{"NegativeRetention", With("", "[schedule]\nretention = \"-1h\"  # <-\n"),
                "schedule.retention must be a duration in [0s, 8784h], got -1h"},
        BadFile{"HugeRetention", With("", "[schedule]\nretention = \"9000h\"  # <-\n"),
                "schedule.retention must be a duration in [0s, 8784h], got 9000h"},
        BadFile{"NegativeHalfLife", With("", "[estimate]\nhalf_life = \"-2h\"  # <-\n"),
                "estimate.half_life must be a finite duration >= 0, got -2h"},
        BadFile{"UnknownEstimateMethod",
                With("", "[estimate]\nmethod = \"simpson\"  # <-\n"),
                "estimate.method must be epoch_adjusted, period_weighted or pooled, got "
                "\"simpson\""},
        BadFile{"EstimateMethodNotAString", With("", "[estimate]\nmethod = 1  # <-\n"),
                "estimate.method"},
        BadFile{"UnknownEstimateField", With("", "[estimate]\nhalflife = \"2h\"  # <-\n"),
                "estimate.halflife"},
        BadFile{"UnknownDecisionRule", With("", "[decision]\nrule = \"bayes\"  # <-\n"),
                "decision.rule must be confidence_sequence or p_best, got \"bayes\""},
        BadFile{"AlphaZero", With("", "[decision]\nalpha = 0  # <-\n"),
                "decision.alpha must be in (0, 0.5], got 0"},
        BadFile{"AlphaAboveHalf", With("", "[decision]\nalpha = 0.6  # <-\n"),
                "decision.alpha must be in (0, 0.5], got 0.6"},
        BadFile{"AlphaNaN", With("", "[decision]\nalpha = nan  # <-\n"),
                "decision.alpha must be in (0, 0.5], got nan"},
        BadFile{"NegativeMinEffect", With("", "[decision]\nmin_effect = -0.1  # <-\n"),
                "decision.min_effect must be a finite number >= 0, got -0.1"},
        BadFile{"InfiniteMinEffect", With("", "[decision]\nmin_effect = inf  # <-\n"),
                "decision.min_effect must be a finite number >= 0, got inf"},
        BadFile{"HorizonUnitsZero", With("", "[decision]\nhorizon_units = 0  # <-\n"),
                "decision.horizon_units must be a finite number >= 1, got 0"},
        BadFile{"UnknownDecisionField", With("", "[decision]\nlevel = 0.1  # <-\n"),
                "decision.level"},
        BadFile{"OneArm", "id = \"exp\"\n[[arms]]  # <-\nid = \"a\"\n",
                "arms must list 2 to 256 arms, got 1"},
        BadFile{"DuplicateArmId",
                "id = \"exp\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"a\"  # <-\n",
                "arms[1].id \"a\" duplicates arms[0].id"},
        BadFile{"ArmWithoutId",
                "id = \"exp\"\n[[arms]]\nid = \"a\"\n[[arms]]  # <-\nweight = 2\n",
                "arms[1].id is required"},
        BadFile{"WeightZero", With("", "weight = 0  # <-\n"),
                "arms[1].weight must be a positive finite number, got 0"},
        BadFile{"WeightNegative", With("", "weight = -1  # <-\n"),
                "arms[1].weight must be a positive finite number, got -1"},
        BadFile{"WeightString", With("", "weight = \"x\"  # <-\n"),
                "arms[1].weight must be a number"},
        BadFile{"HoldoutOne", With("holdout = 1.0  # <-\nbaseline = \"a\"\n"),
                "holdout must be in [0, 1), got 1"},
        BadFile{"HoldoutNegative", With("holdout = -0.1  # <-\n"),
                "holdout must be in [0, 1), got -0.1"},
        BadFile{"HoldoutWithoutBaseline", With("holdout = 0.05  # <-\n"),
                "baseline is required when holdout > 0"},
        BadFile{"BaselineNotAnArm", With("holdout = 0.05\nbaseline = \"c\"  # <-\n"),
                "baseline must name an arm, got \"c\""},
        BadFile{"FallbackNotAnArm", With("fallback = \"z\"  # <-\n"),
                "fallback must name an arm, got \"z\""},
        BadFile{"MetricKind", With("", "[metric]\nkind = \"ternary\"  # <-\n"),
                "metric.kind must be \"binary\" or \"continuous\", got \"ternary\""},
        BadFile{"MetricDirection", With("", "[metric]\ndirection = \"up\"  # <-\n"),
                "metric.direction must be \"higher\" or \"lower\", got \"up\""},
        BadFile{"PolicyKind", With("", "[policy]\nkind = \"ucb\"  # <-\n"),
                "policy.kind must be thompson, top_two_thompson, "
                "epsilon_greedy or fixed, got \"ucb\""},
        BadFile{"PolicyEpsilon",
                With("",
                     "[policy]\nkind = \"epsilon_greedy\"\n"
                     "epsilon = 1.5  # <-\n"),
                "policy.epsilon must be in [0, 1], got 1.5"},
        BadFile{"PolicyTopTwoBeta", With("", "[policy]\ntop_two_beta = 2  # <-\n"),
                "policy.top_two_beta"},
        BadFile{"PolicyFloor", With("", "[policy]\nfloor = -0.1  # <-\n"),
                "policy.floor must be a finite number >= 0, got -0.1"},
        BadFile{"PolicyFloorTimesArms", With("", "[policy]\nfloor = 0.5  # <-\n"),
                "policy.floor 0.5 times 2 arms is 1, which must be below 1"},
        BadFile{"PolicyMaxShift", With("", "[policy]\nmax_shift = 1.5  # <-\n"),
                "policy.max_shift must be in [0, 1], got 1.5"},
        BadFile{"PolicySeed", With("", "[policy]\nseed = -1  # <-\n"),
                "policy.seed must be >= 0, got -1"},
        BadFile{"PolicyPriorAlpha", With("", "[policy]\nprior_alpha = 0  # <-\n"),
                "policy.prior_alpha must be in [0.001, 1e+06], got 0"},
        // Priors of 1e17 passed validation and then threw out of Boost.Math.
        BadFile{"PolicyPriorAlphaHuge", With("", "[policy]\nprior_alpha = 1e17  # <-\n"),
                "policy.prior_alpha must be in [0.001, 1e+06], got 1e+17"},
        BadFile{"PolicyPriorBetaHuge", With("", "[policy]\nprior_beta = 1e17  # <-\n"),
                "policy.prior_beta must be in [0.001, 1e+06], got 1e+17"},
        BadFile{"ScheduleInterval", With("", "[schedule]\ninterval = \"0s\"  # <-\n"),
                "schedule.interval must be a finite duration of at least 1s, got 0"},
        // A millisecond or nanosecond grid only multiplies reallocations.
        BadFile{"ScheduleIntervalMillisecond",
                With("", "[schedule]\ninterval = \"1ms\"  # <-\n"),
                "schedule.interval must be a finite duration of at least 1s, got 1ms"},
        BadFile{"ScheduleIntervalNanosecond",
                With("", "[schedule]\ninterval = \"1ns\"  # <-\n"),
                "schedule.interval must be a finite duration of at least 1s, got 1ns"},
        BadFile{"ScheduleConversionWindow",
                With("", "[schedule]\nconversion_window = \"-1h\"  # <-\n"),
                "schedule.conversion_window must be a finite duration of at least 1s, "
                "got -1h"},
        BadFile{"ScheduleConversionWindowSubSecond",
                With("", "[schedule]\nconversion_window = \"500ms\"  # <-\n"),
                "schedule.conversion_window must be a finite duration of at least 1s, "
                "got 500ms"},
        BadFile{"ScheduleBurnIn", With("", "[schedule]\nburn_in = \"soon\"  # <-\n"),
                "schedule.burn_in must be a duration like"},
        BadFile{"ScheduleMinUnits",
                With("", "[schedule]\nmin_units_per_arm = -5  # <-\n"),
                "schedule.min_units_per_arm must be >= 0, got -5"},
        BadFile{"ScheduleIntervalNotString", With("", "[schedule]\ninterval = 6  # <-\n"),
                "schedule.interval must be a string"},
        BadFile{"UnknownTopLevelKey", With("colour = \"blue\"  # <-\n"),
                "colour is not a known field"},
        BadFile{"UnknownPolicyKey",
                With("", "[policy]\nkind = \"thompson\"\nepslion = 0.2  # <-\n"),
                "policy.epslion is not a known field"},
        BadFile{"UnknownArmKey", With("", "label = \"B\"  # <-\n"),
                "arms[1].label is not a known field"},
        BadFile{"UnknownTable", With("", "[scheduel]  # <-\ninterval = \"1h\"\n"),
                "scheduel is not a known field"},
        BadFile{"ConfigNotATable", With("", "config = \"m-2\"  # <-\n"),
                "arms[1].config must be a table"},
        BadFile{"ConfigArrayOfTables", With("", "config = [{ model = \"m-2\" }]  # <-\n"),
                "arms[1].config must be a table"},
        BadFile{"ConfigNaN", With("", "config = { model = \"m\", t = nan }  # <-\n"),
                "arms[1].config.t must be a finite number (JSON has no nan or inf), "
                "got nan"},
        BadFile{"ConfigNestedInf",
                With("", "[arms.config]\nmodel = \"m\"\nlimits = [1.0, -inf]  # <-\n"),
                "arms[1].config.limits[1] must be a finite number (JSON has no nan or "
                "inf), got -inf"},
        BadFile{"ConfigTooLarge",
                With("", absl::StrCat("config = { p = \"", std::string(70000, 'x'),
                                      "\" }  # <-\n")),
                "arms[1].config must be at most 65536 bytes of JSON, got 70008"},
        BadFile{"SurfaceNotString", With("surface = 3  # <-\n"),
                "surface must be a string"},
        BadFile{"SurfaceBidiOverride", With("surface = \"\\u202e\"  # <-\n"),
                "surface must not contain control or bidirectional characters"},
        BadFile{"SurfaceTooLong",
                With(absl::StrCat("surface = \"", std::string(257, 's'), "\"  # <-\n")),
                "surface must be at most 256 bytes, got 257"},
        BadFile{"InitialShareNotInFiles", With("", "initial_share = 0.5  # <-\n"),
                "arms[1].initial_share is not a known field"},
        BadFile{"IdNotString",
                "id = 7  # <-\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n",
                "id must be a string"}),
    [](const ::testing::TestParamInfo<BadFile>& info) { return info.param.name; });

// An arm's `config` table becomes its payload: compact JSON, keys in byte
// order of their names, every TOML type.
TEST(ExperimentFileTest, ArmConfigBecomesCompactJsonPayload) {
  const std::string text = With(
      "",
      R"(config = { model = "m-2", temperature = 0.2, system_prompt = "Be \"brief\".\n", stop = ["\n", "END"], nested = { b = [1, -2], a = { deep = true } }, max_tokens = 512, big = 9223372036854775807, whole = 1.0, tiny = 1e-300, huge = 1e300, neg_zero = -0.0, off = false, empty = {}, none = [], mixed = [1, "x", 2.5, [true]], A = 1 }
)");
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(text, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arms[0].payload, "");
  EXPECT_EQ(c->arms[1].payload,
            R"({"A":1,"big":9223372036854775807,"empty":{},"huge":1e+300,)"
            R"("max_tokens":512,"mixed":[1,"x",2.5,[true]],"model":"m-2",)"
            R"("neg_zero":-0.0,"nested":{"a":{"deep":true},"b":[1,-2]},"none":[],)"
            R"("off":false,"stop":["\n","END"],"system_prompt":"Be \"brief\".\n",)"
            R"("temperature":0.2,"tiny":1e-300,"whole":1.0})");
}

TEST(ExperimentFileTest, ArmConfigAsTableAndDatesAsRfc3339) {
  const std::string text = absl::StrCat(With("", R"(
[arms.config]
model = "m-2"
utc = 1979-05-27T07:32:00Z
offset = 1979-05-27T00:32:00.999-07:00
east = 1979-05-27T00:32:00+05:30
local = 1979-05-27T07:32:00.5
day = 1979-05-27
clock = 07:32:00
precise = 00:32:00.123456789
unicode = "caf\u00e9 \u0000"
[arms.config.sampling]
top_p = 0.9
)"));
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(text, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arms[1].payload,
            "{\"clock\":\"07:32:00\",\"day\":\"1979-05-27\","
            "\"east\":\"1979-05-27T00:32:00+05:30\","
            "\"local\":\"1979-05-27T07:32:00.5\",\"model\":\"m-2\","
            "\"offset\":\"1979-05-27T00:32:00.999-07:00\","
            "\"precise\":\"00:32:00.123456789\",\"sampling\":{\"top_p\":0.9},"
            "\"unicode\":\"caf\xC3\xA9 \\u0000\",\"utc\":\"1979-05-27T07:32:00Z\"}");
}

TEST(ExperimentFileTest, ReadsSurface) {
  absl::StatusOr<ExperimentConfig> c =
      ParseExperimentToml(With("surface = \"support-bot\"\n"), kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->surface, "support-bot");
  c = ParseExperimentToml(kMinimal, kSource);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->surface, "");
}

TEST(ExperimentFileTest, ValidatesPayloadSurfaceAndInitialShare) {
  absl::StatusOr<ExperimentConfig> parsed = ParseExperimentToml(kMinimal, kSource);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const ExperimentConfig base = *parsed;
  auto field_error = [](const ExperimentConfig& c) {
    return std::string(ValidateExperimentConfig(c).message());
  };
  ExperimentConfig c = base;
  c.arms[1].payload = "[1, 2]";
  EXPECT_EQ(field_error(c), "arms[1].config must be a JSON object");
  c.arms[1].payload = "{\"a\": }";
  EXPECT_THAT(field_error(c), StartsWith("arms[1].config must be one JSON object: "));
  c.arms[1].payload = std::string(kMaxPayloadBytes + 1, ' ');
  EXPECT_THAT(field_error(c), StartsWith("arms[1].config must be at most 65536 bytes"));
  c.arms[1].payload = "{\"model\":\"m-2\"}";
  EXPECT_TRUE(ValidateExperimentConfig(c).ok());

  for (double share : {0.0, 1.0, -0.5, std::nan(""), HUGE_VAL}) {
    c = base;
    c.arms[0].initial_share = share;
    EXPECT_THAT(field_error(c),
                StartsWith(absl::StrCat("arms[0].initial_share must be in (0, 1), got ")))
        << share;
  }
  c.arms[0].initial_share = 0.25;
  EXPECT_TRUE(ValidateExperimentConfig(c).ok());

  c = base;
  c.surface = std::string(kMaxSurfaceBytes, 's');
  EXPECT_TRUE(ValidateExperimentConfig(c).ok());
  c.surface += "s";
  EXPECT_THAT(field_error(c), StartsWith("surface must be at most 256 bytes, got 257"));
  c.surface = "support\nbot";
  EXPECT_THAT(field_error(c),
              StartsWith("surface must not contain control or bidirectional characters"));
}

TEST(ExperimentFileTest, MalformedTomlGivesLineAndColumn) {
  const std::string text = "id = \"exp\"\n[[arms]]\nid = = \"a\"\n";
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(text, kSource);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()),
              ContainsRegex("^exp\\.toml:3:[0-9]+: malformed TOML: "));
}

TEST(ExperimentFileTest, MalformedTomlUnterminatedString) {
  const std::string text = "id = \"exp\"\nunit = \"user\n[[arms]]\n";
  absl::StatusOr<ExperimentConfig> c = ParseExperimentToml(text, kSource);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              ContainsRegex("^exp\\.toml:2:[0-9]+: malformed TOML: "));
}

}  // namespace
}  // namespace allot
