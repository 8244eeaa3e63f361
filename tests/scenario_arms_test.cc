// Copyright 2026 The allot Authors.
//
// Tests of arms that come and go in scenario files (README "Arms that come
// and go"): joins_at, retires_at, retire, initial_share, config payloads,
// rates drawn per replicate from a Beta, [churn], and an error naming file,
// line and field for each bad input; the world's draws for them: Beta rates
// reproducible and distributed as the Beta, churn counts as the Binomial.

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/world.h"
#include "allot/types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] = "s.toml";

// Line numbers below count from this text's first line.
constexpr char kValid[] = R"toml(name = "arms"
seed = 7
replicates = 10
horizon = "14d"
[traffic]
units_per_hour = 100
[experiment.schedule]
burn_in = "24h"
interval = "6h"
conversion_window = "72h"
[[arms]]
id = "v1"
rate = 0.10
retires_at = "10d"
retire = "now"
[[arms]]
id = "v2"
rate = { beta = [4, 4] }
[[arms]]
id = "v3"
rate = 0.13
joins_at = "7d"
initial_share = 0.1
config = { model = "m3", temperature = 0.2 }
[[policies]]
name = "thompson"
kind = "thompson"
)toml";

std::string With(absl::string_view from, absl::string_view to) {
  std::string text(kValid);
  EXPECT_THAT(text, HasSubstr(std::string(from)));
  return absl::StrReplaceAll(text, {{from, to}});
}

absl::StatusOr<Scenario> Parse(absl::string_view text) {
  return ParseScenarioToml(text, kSource);
}

constexpr char kChurn[] = R"toml(
[churn]
replace_probability = 0.001
retire = "now"
new_arm_rate = { beta = [2, 5] }
initial_share = 0.2
)toml";

TEST(ScenarioArmsTest, ReadsEveryField) {
  absl::StatusOr<Scenario> s = Parse(kValid);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->arms.size(), 3u);
  EXPECT_EQ(s->arms[0].retires_at, absl::Hours(240));
  EXPECT_EQ(s->arms[0].retire, RetireMode::kNow);
  EXPECT_FALSE(s->arms[0].joins_at.has_value());
  ASSERT_TRUE(s->arms[1].rate_draw.has_value());
  EXPECT_EQ(s->arms[1].rate_draw->alpha, 4);
  EXPECT_EQ(s->arms[1].rate_draw->beta, 4);
  EXPECT_EQ(s->arms[1].retire, RetireMode::kDrain);  // the default
  EXPECT_EQ(s->arms[2].joins_at, absl::Hours(168));
  EXPECT_EQ(s->arms[2].initial_share, 0.1);
  EXPECT_EQ(s->arms[2].payload, R"({"model":"m3","temperature":0.2})");
  // The experiment starts with the arms present at the start only.
  ASSERT_EQ(s->experiment.arms.size(), 2u);
  EXPECT_EQ(s->experiment.arms[0].id, "v1");
  EXPECT_EQ(s->experiment.arms[1].id, "v2");
  EXPECT_EQ(s->policies[0].config.arms.size(), 2u);
  EXPECT_TRUE(HasArmChanges(*s));
  EXPECT_EQ(EngineArmOrder(*s), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s->churn.replace_probability, 0);
}

TEST(ScenarioArmsTest, ReadsChurn) {
  absl::StatusOr<Scenario> s = Parse(absl::StrCat(kValid, kChurn));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->churn.replace_probability, 0.001);
  EXPECT_EQ(s->churn.retire, RetireMode::kNow);
  EXPECT_EQ(s->churn.new_arm_rate.alpha, 2);
  EXPECT_EQ(s->churn.new_arm_rate.beta, 5);
  EXPECT_EQ(s->churn.initial_share, 0.2);
  // 100 units an hour for 336 hours.
  EXPECT_DOUBLE_EQ(ExpectedChurnChanges(*s), 0.001 * 100 * 336);
}

TEST(ScenarioArmsTest, EngineOrderPutsJoiningArmsLastByTime) {
  // v1, v2 (joins at 3d), v0, v3 (joins at 7d): the engine knows v1 and v0
  // at the start, then v2, then v3.
  absl::StatusOr<Scenario> s =
      Parse(With("id = \"v2\"\nrate = { beta = [4, 4] }",
                 "id = \"v2\"\nrate = 0.2\njoins_at = \"3d\"\n[[arms]]\nid = \"v0\"\n"
                 "rate = 0.1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(EngineArmOrder(*s), (std::vector<int>{0, 2, 1, 3}));
  ASSERT_EQ(s->experiment.arms.size(), 2u);
  EXPECT_EQ(s->experiment.arms[1].id, "v0");
}

TEST(ScenarioArmsTest, GuardrailsAreRefusedWithArmChanges) {
  absl::StatusOr<Scenario> s = Parse(kValid);
  ASSERT_TRUE(s.ok()) << s.status();
  GuardrailConfig errors;
  errors.id = "errors";
  s->experiment.guardrails.push_back(errors);
  for (ArmTruth& arm : s->arms) arm.guardrails.push_back({0.01, 0});
  EXPECT_THAT(std::string(ValidateScenario(*s).message()),
              StartsWith("experiment.guardrails are not supported with arms that come "
                         "and go"));
}

TEST(ScenarioArmsTest, ExistingScenariosHaveNoArmChanges) {
  for (const char* name : {"three-models", "aa", "drift", "guardrail"}) {
    absl::StatusOr<Scenario> s = LoadScenarioFile(
        absl::StrCat(ALLOT_SOURCE_DIR, "/examples/scenarios/", name, ".toml"));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(HasArmChanges(*s)) << name;
  }
}

TEST(ScenarioArmsTest, LoadsTheShippedScenarios) {
  for (const char* name : {"new-model", "drain", "churn"}) {
    absl::StatusOr<Scenario> s = LoadScenarioFile(
        absl::StrCat(ALLOT_SOURCE_DIR, "/examples/scenarios/", name, ".toml"));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(HasArmChanges(*s)) << name;
  }
}

struct BadCase {
  const char* name;
  std::string text;
  const char* error;  // the expected start of the message
};

class BadArmsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadArmsTest, NamesFileLineAndField) {
  const BadCase& c = GetParam();
  absl::Status status = Parse(c.text).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadArmsTest,
    ::testing::Values(
        BadCase{"JoinsAtZero", With("joins_at = \"7d\"", "joins_at = \"0s\""),
                "s.toml:22: arms[2].joins_at must be after the start and before the "
                "horizon 336h, got 0"},
        BadCase{"JoinsAtHorizon", With("joins_at = \"7d\"", "joins_at = \"14d\""),
                "s.toml:22: arms[2].joins_at must be after the start and before the "
                "horizon"},
        BadCase{"JoinsAtNotADuration", With("joins_at = \"7d\"", "joins_at = 7"),
                "s.toml:22: arms[2].joins_at must be a string"},
        BadCase{"RetiresAtBeforeJoinsAt",
                With("joins_at = \"7d\"", "joins_at = \"7d\"\nretires_at = \"6d\""),
                "s.toml:23: arms[2].retires_at must be after joins_at 168h"},
        BadCase{"RetiresAtEqualToJoinsAt",
                With("joins_at = \"7d\"", "joins_at = \"7d\"\nretires_at = \"7d\""),
                "s.toml:23: arms[2].retires_at must be after joins_at 168h"},
        BadCase{"RetiresAtPastTheHorizon",
                With("retires_at = \"10d\"", "retires_at = \"15d\""),
                "s.toml:14: arms[0].retires_at must be after the start 0 and before "
                "the horizon 336h, got 360h"},
        BadCase{"UnknownRetireMode", With("retire = \"now\"", "retire = \"later\""),
                "s.toml:15: arms[0].retire must be \"drain\" or \"now\", got \"later\""},
        BadCase{"RetireWithoutRetiresAt",
                With("retires_at = \"10d\"\nretire = \"now\"", "retire = \"now\""),
                "s.toml:14: arms[0].retire is only used with retires_at"},
        BadCase{"InitialShareOne", With("initial_share = 0.1", "initial_share = 1"),
                "s.toml:23: arms[2].initial_share must be in (0, 1), got 1"},
        BadCase{"InitialShareZero", With("initial_share = 0.1", "initial_share = 0"),
                "s.toml:23: arms[2].initial_share must be in (0, 1), got 0"},
        BadCase{"InitialShareWithoutJoinsAt",
                With("retire = \"now\"", "retire = \"now\"\ninitial_share = 0.5"),
                "s.toml:16: arms[0].initial_share is only used by an arm that joins"},
        BadCase{"WeightOnAJoiningArm",
                With("initial_share = 0.1", "initial_share = 0.1\nweight = 2"),
                "s.toml:24: arms[2].weight is not used by an arm that joins"},
        BadCase{"ConfigNotATable",
                With("config = { model = \"m3\", temperature = 0.2 }", "config = \"m3\""),
                "s.toml:24: arms[2].config must be a table"},
        BadCase{
            "ConfigBeyondThePayloadLimit",
            With("config = { model = \"m3\", temperature = 0.2 }",
                 absl::StrCat("config = { model = \"", std::string(70000, 'x'), "\" }")),
            "s.toml:24: arms[2].config "},
        BadCase{"OneArmAtStart",
                With("id = \"v2\"\nrate = { beta = [4, 4] }",
                     "id = \"v2\"\nrate = 0.1\njoins_at = \"1d\""),
                "s.toml:11: arms must have at least 2 arms at the start (without "
                "joins_at), got 1"},
        BadCase{"NoActiveArmLeft",
                absl::StrReplaceAll(kValid, {{"rate = { beta = [4, 4] }",
                                              "rate = 0.1\nretires_at = \"10d\""},
                                             {"joins_at = \"7d\"",
                                              "joins_at = \"7d\"\nretires_at = \"8d\""}}),
                "s.toml:11: arms would have no active arm at 240h"},
        BadCase{"DuplicateIdAcrossJoins", With("id = \"v3\"", "id = \"v1\""),
                "s.toml:20: arms[2].id \"v1\" is already the id of another arm"},
        BadCase{"BetaNotAPair", With("beta = [4, 4]", "beta = [4]"),
                "s.toml:18: arms[1].rate.beta must be a pair of numbers [a, b]"},
        BadCase{"BetaNonPositive", With("beta = [4, 4]", "beta = [0, 4]"),
                "s.toml:18: arms[1].rate.beta parameters must be positive and finite, "
                "got [0, 4]"},
        BadCase{"BetaUnknownKey", With("beta = [4, 4]", "gamma = [4, 4]"),
                "s.toml:18: arms[1].rate.gamma is not a known field"},
        BadCase{"BetaWithChanges",
                With("rate = { beta = [4, 4] }",
                     "rate = { beta = [4, 4] }\nchanges = [{ at = \"1d\", rate = 0.2 }]"),
                "s.toml:19: arms[1].changes cannot follow a rate drawn per replicate"},
        BadCase{"BetaWithWeeklyAboveOne",
                With("[traffic]",
                     "[seasonality]\nweekly = [1, 1, 1, 1, 1, 1.2, 1]\n"
                     "[traffic]"),
                "s.toml:20: arms[1].rate drawn from a Beta needs seasonality.weekly "
                "factors of at most 1, got 1.2"},
        BadCase{"ChurnProbabilityAboveOne",
                absl::StrCat(kValid, absl::StrReplaceAll(kChurn, {{"= 0.001", "= 1.5"}})),
                "s.toml:30: churn.replace_probability must be in [0, 1], got 1.5"},
        BadCase{
            "ChurnWithoutProbability",
            absl::StrCat(kValid, absl::StrReplaceAll(
                                     kChurn, {{"replace_probability = 0.001\n", ""}})),
            "s.toml:29: churn.replace_probability is required"},
        BadCase{"ChurnWithoutNewArmRate",
                absl::StrCat(kValid,
                             absl::StrReplaceAll(
                                 kChurn, {{"new_arm_rate = { beta = [2, 5] }\n", ""}})),
                "s.toml:29: churn.new_arm_rate is required"},
        BadCase{
            "ChurnBadRetire",
            absl::StrCat(kValid, absl::StrReplaceAll(kChurn, {{"\"now\"", "\"soon\""}})),
            "s.toml:31: churn.retire must be \"drain\" or \"now\""},
        BadCase{"ChurnBadInitialShare",
                absl::StrCat(kValid, absl::StrReplaceAll(kChurn, {{"= 0.2", "= 2"}})),
                "s.toml:33: churn.initial_share must be in (0, 1), got 2"},
        BadCase{"ChurnUnknownKey", absl::StrCat(kValid, kChurn, "colour = 1\n"),
                "s.toml:34: churn.colour is not a known field"},
        BadCase{
            "ChurnBadBeta",
            absl::StrCat(kValid, absl::StrReplaceAll(kChurn, {{"[2, 5]", "[2, -5]"}})),
            "s.toml:32: churn.new_arm_rate.beta parameters must be positive"},
        // 0.01 x 100 units/h x 336 h = 336 expected changes, beyond the 253
        // new arms the cap leaves.
        BadCase{
            "ChurnBeyondTheArmCap",
            absl::StrCat(kValid, absl::StrReplaceAll(kChurn, {{"= 0.001", "= 0.01"}})),
            "s.toml:30: churn.replace_probability x expected arrivals gives 336 arm "
            "changes per replicate"},
        BadCase{"ChurnIdPrefixIsReserved",
                absl::StrCat(With("id = \"v3\"", "id = \"churn-3\""), kChurn),
                "s.toml:20: arms[2].id must not start with \"churn-\""}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ScenarioArmsTest, ChurnCapIsMeanPlusFiveSd) {
  // Room: 256 - 3 arms = 253. Mean m with m + 5 sqrt(m) <= 253 passes:
  // m = 180 gives 247.1; m = 200 gives 270.7.
  absl::StatusOr<Scenario> s = Parse(absl::StrCat(kValid, kChurn));
  ASSERT_TRUE(s.ok()) << s.status();
  s->churn.replace_probability = 180.0 / 33600;
  EXPECT_TRUE(ValidateScenario(*s).ok());
  s->churn.replace_probability = 200.0 / 33600;
  EXPECT_THAT(std::string(ValidateScenario(*s).message()),
              HasSubstr("beyond the 253 new arms the engine's cap of 256 arms leaves"));
}

// Rates drawn per replicate: the same for a replicate whatever World is
// built, different across replicates, and distributed as the Beta.
TEST(ScenarioArmsTest, DrawnRatesAreReproducibleAndBetaDistributed) {
  absl::StatusOr<Scenario> parsed = Parse(With("beta = [4, 4]", "beta = [2, 5]"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Scenario& s = *parsed;
  EXPECT_EQ(World(s, 3).BaseMean(1), World(s, 3).BaseMean(1));
  EXPECT_NE(World(s, 3).BaseMean(1), World(s, 4).BaseMean(1));
  EXPECT_EQ(World(s, 3).BaseMean(0), 0.10);  // a fixed rate is itself
  // Beta(2, 5): mean a / (a + b) = 2/7, variance ab / ((a + b)^2 (a + b + 1))
  // = 10 / 392. Over n = 20,000 replicates the sample mean's sd is
  // sqrt(var / n) = 0.00113 and the sample variance's is about
  // var sqrt((kurtosis - 1) / n) with kurtosis 3 - 0.12 = 2.88 (excess
  // 6 [(a - b)^2 (a + b + 1) - ab (a + b + 2)] / (ab (a + b + 2) (a + b + 3))
  // = -0.12), i.e. 0.000247: tolerances of 5 sd.
  const int n = 20000;
  double sum = 0;
  double squares = 0;
  for (int r = 0; r < n; ++r) {
    const double x = World(s, r).BaseMean(1);
    ASSERT_GT(x, 0);
    ASSERT_LT(x, 1);
    sum += x;
    squares += x * x;
  }
  const double mean = sum / n;
  const double variance = (squares - n * mean * mean) / (n - 1);
  EXPECT_NEAR(mean, 2.0 / 7, 5 * 0.00113);
  EXPECT_NEAR(variance, 10.0 / 392, 5 * 0.000247);
  // The seed decides the draws: another scenario seed, other rates.
  Scenario other = s;
  other.seed = 8;
  EXPECT_NE(World(other, 3).BaseMean(1), World(s, 3).BaseMean(1));
}

// Churn draws come from a generator of their own: the arrivals and their
// outcome draws are what they are without churn, every stream of a world
// has the same churn, and the number of changes is Binomial(arrivals, p).
TEST(ScenarioArmsTest, ChurnDrawsAreTheWorldsAndBinomial) {
  absl::StatusOr<Scenario> with = Parse(absl::StrCat(kValid, kChurn));
  ASSERT_TRUE(with.ok()) << with.status();
  Scenario without = *with;
  without.churn = ChurnConfig{};
  const World churning(*with, 0);
  const World plain(without, 0);
  ArrivalStream a = churning.Arrivals();
  ArrivalStream b = plain.Arrivals();
  ArrivalStream again = churning.Arrivals();
  Arrival x, y, z;
  int64_t arrivals = 0;
  int64_t changes = 0;
  double rate_sum = 0;
  while (a.Next(x)) {
    ASSERT_TRUE(b.Next(y));
    ASSERT_TRUE(again.Next(z));
    ASSERT_EQ(x.time_us, y.time_us);
    ASSERT_EQ(x.convert_draw, y.convert_draw);
    ASSERT_EQ(x.delay_us, y.delay_us);
    ASSERT_FALSE(y.churn);
    ASSERT_EQ(x.churn, z.churn);
    ASSERT_EQ(x.churn_rate, z.churn_rate);
    ++arrivals;
    if (x.churn) {
      ++changes;
      rate_sum += x.churn_rate;
      ASSERT_GE(x.churn_pick, 0);
      ASSERT_LT(x.churn_pick, 1);
    }
  }
  EXPECT_FALSE(b.Next(y));
  // About 33,600 arrivals: 33.6 changes expected, sd sqrt(n p (1 - p)) =
  // 5.8; 5 sd either side.
  const double p = with->churn.replace_probability;
  const double n = static_cast<double>(arrivals);
  EXPECT_NEAR(static_cast<double>(changes), n * p, 5 * std::sqrt(n * p * (1 - p)));
  ASSERT_GT(changes, 0);
  // New arms' rates: Beta(2, 5), mean 2/7, sd 0.160; over ~34 draws the
  // mean's sd is 0.027; 5 sd.
  EXPECT_NEAR(rate_sum / static_cast<double>(changes), 2.0 / 7,
              5 * 0.160 / std::sqrt(changes));
}

// Over many replicates the total number of changes is Binomial(total
// arrivals, p): a tighter check of the rate than one replicate gives.
TEST(ScenarioArmsTest, ChurnCountOverReplicatesMatchesTheBinomial) {
  absl::StatusOr<Scenario> s = Parse(absl::StrCat(kValid, kChurn));
  ASSERT_TRUE(s.ok()) << s.status();
  s->horizon = absl::Hours(48);
  int64_t arrivals = 0;
  int64_t changes = 0;
  for (int r = 0; r < 200; ++r) {
    const World world(*s, r);
    ArrivalStream stream = world.Arrivals();
    Arrival a;
    while (stream.Next(a)) {
      ++arrivals;
      changes += a.churn;
    }
  }
  // About 960,000 arrivals x 0.001: 960 changes, sd 31; 5 sd.
  const double n = static_cast<double>(arrivals);
  const double p = s->churn.replace_probability;
  EXPECT_NEAR(static_cast<double>(changes), n * p, 5 * std::sqrt(n * p * (1 - p)));
}

}  // namespace
}  // namespace allot::sim
