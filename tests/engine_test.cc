// Copyright 2026 The allot Authors.
//
// The engine's behaviour through its public API: lifecycle, assignment and
// stickiness, outcomes and windows, the schedule, estimates and reports.

#include "allot/engine.h"

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "durability/state_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine_access.h"
#include "runtime/engine_state.h"
#include "tests/started_engine.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

using test::At;
using test::kStart;
using test::SmallConfig;
using test::Started;

// Converts exactly a `rate` share of the units of each arm, in order.
class ExactConverter {
 public:
  bool Next(int arm, double rate) {
    const int64_t c = count_[arm]++;
    return std::floor((c + 1) * rate) > std::floor(c * rate);
  }

 private:
  std::map<int, int64_t> count_;
};

TEST(EngineTest, RefusesBadConfigsNamingTheField) {
  Engine engine;
  ExperimentConfig c = SmallConfig();
  c.policy.epsilon = 1.5;
  EXPECT_THAT(engine.CreateExperiment(c).message(),
              HasSubstr("policy.epsilon must be in [0, 1], got 1.5"));
  c = SmallConfig();
  c.arms = {{"a", 1}};
  EXPECT_THAT(engine.CreateExperiment(c).message(), HasSubstr("arms must list 2"));
  c = SmallConfig();
  c.arms = {{"a", 1}, {"a", 1}};
  EXPECT_THAT(engine.CreateExperiment(c).message(), HasSubstr("duplicates"));
  c = SmallConfig();
  c.arms[1].weight = NAN;
  EXPECT_THAT(engine.CreateExperiment(c).message(), HasSubstr("arms[1].weight"));
  c = SmallConfig();
  c.schedule.conversion_window = absl::ZeroDuration();
  EXPECT_THAT(engine.CreateExperiment(c).message(),
              HasSubstr("schedule.conversion_window"));
  c = SmallConfig();
  c.schedule.interval = -absl::Hours(1);
  EXPECT_THAT(engine.CreateExperiment(c).message(), HasSubstr("schedule.interval"));
  c = SmallConfig();
  c.fallback = "zzz";
  EXPECT_THAT(engine.CreateExperiment(c).message(), HasSubstr("fallback"));
  // 100 arms at the default floor 0.01: the floor alone would fill every
  // share and the weights would stay uniform forever.
  c = SmallConfig();
  c.arms.clear();
  for (int i = 0; i < 100; ++i) c.arms.push_back({absl::StrCat("arm", i), 1});
  EXPECT_THAT(engine.CreateExperiment(c).message(),
              HasSubstr("policy.floor 0.01 times 100 arms is 1, which must be "
                        "below 1"));
  c.floor = 0.0099;
  EXPECT_TRUE(Engine().CreateExperiment(c).ok());
  // Nothing was created by the refused calls.
  EXPECT_EQ(engine.State("exp").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(engine.CreateExperiment(SmallConfig()).ok());
  EXPECT_EQ(engine.CreateExperiment(SmallConfig()).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(EngineTest, LifecycleErrors) {
  Engine engine;
  EXPECT_EQ(engine.Start("nope", kStart).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine.Assign("nope", "u", kStart).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(engine.RecordOutcome("nope", "u", kStart, 1).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(engine.CreateExperiment(SmallConfig()).ok());
  EXPECT_EQ(engine.Assign("exp", "u", kStart).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Stop("exp", kStart).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  EXPECT_EQ(engine.Start("exp", kStart).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Assign("exp", "u", kStart - absl::Seconds(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Ids a caller sends are echoed cut to kMaxQuotedBytes, so a 1 MB id cannot
// make a 1 MB message.
TEST(EngineTest, UnknownExperimentMessageQuotesACutId) {
  Engine engine;
  const std::string huge(size_t{1} << 20, 'x');
  const absl::Status start = engine.Start(huge, kStart);
  EXPECT_EQ(start.code(), absl::StatusCode::kNotFound);
  EXPECT_LT(start.message().size(), 200u);
  EXPECT_THAT(start.message(), HasSubstr("unknown experiment \"xxx"));
  EXPECT_THAT(start.message(), HasSubstr("...\" (1048576 bytes)"));
  const absl::Status assign = engine.Assign(huge, "u", kStart).status();
  EXPECT_EQ(assign.code(), absl::StatusCode::kNotFound);
  EXPECT_LT(assign.message().size(), 200u);
  EXPECT_EQ(engine.Start("nope", kStart).message(), "unknown experiment \"nope\"");
}

TEST(EngineTest, RefusesBadEventsAndChangesNothing) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  ASSERT_TRUE(engine->Assign("exp", "u1", At(absl::Minutes(5))).ok());
  EXPECT_THAT(engine->Assign("exp", "", At(absl::Minutes(5))).status().message(),
              HasSubstr("unit must not be empty"));
  EXPECT_EQ(engine->Assign("exp", std::string(70000, 'x'), At(absl::Minutes(5)))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      engine->RecordOutcome("exp", "u1", At(absl::Minutes(6)), 0.5).status().message(),
      HasSubstr("must be 0 or 1, got 0.5"));
  EXPECT_THAT(
      engine->RecordOutcome("exp", "u1", At(absl::Minutes(6)), NAN).status().message(),
      HasSubstr("must be finite"));
  EXPECT_THAT(
      engine->RecordOutcome("exp", "u1", At(absl::Minutes(4)), 1).status().message(),
      HasSubstr("before the unit's exposure"));
  ASSERT_TRUE(engine->Advance(At(absl::Minutes(10))).ok());
  EXPECT_THAT(engine->Advance(At(absl::Minutes(9))).status().message(),
              HasSubstr("time going backward"));
  EXPECT_THAT(engine->Assign("exp", "u2", At(absl::Minutes(9))).status().message(),
              HasSubstr("time going backward"));
  EXPECT_THAT(
      engine->RecordOutcome("exp", "u1", At(absl::Minutes(9)), 1).status().message(),
      HasSubstr("time going backward"));
  // The refused outcomes changed nothing: u1 still converts once.
  EXPECT_EQ(*engine->RecordOutcome("exp", "u1", At(absl::Minutes(11)), 1),
            OutcomeDisposition::kCounted);
  EXPECT_EQ(*engine->RecordOutcome("exp", "u1", At(absl::Minutes(12)), 1),
            OutcomeDisposition::kDuplicate);
  EXPECT_EQ(*engine->OpenUnits("exp"), 1);
}

// A warehouse's 9999-12-31 sentinel after a 2026 row asked for one report
// per grid point until memory ran out; it is refused up front, naming the
// numbers, and nothing changes.
TEST(EngineTest, AdvanceRefusesMoreGridPointsThanTheLimitAndChangesNothing) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());  // 1h grid from 2h
  ASSERT_TRUE(engine->Advance(At(absl::Hours(3))).ok());
  const size_t reports = engine->Reports("exp")->size();
  absl::Time sentinel;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, "9999-12-31T00:00:00Z", &sentinel, nullptr));
  absl::StatusOr<std::vector<ReallocationReport>> r = engine->Advance(sentinel);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("9999-12-31"));
  EXPECT_THAT(r.status().message(), HasSubstr("grid points of experiment \"exp\""));
  EXPECT_THAT(r.status().message(), HasSubstr("every 1h"));
  EXPECT_THAT(r.status().message(), HasSubstr("more than the 100000"));
  // One grid point over the limit is refused too.
  const absl::Time next_due = At(absl::Hours(4));
  EXPECT_FALSE(engine->Advance(next_due + absl::Hours(kMaxGridPointsPerAdvance)).ok());
  EXPECT_EQ(engine->Reports("exp")->size(), reports);
  // The clock did not move: an earlier time is still accepted.
  ASSERT_TRUE(engine->Assign("exp", "u", At(absl::Hours(3) + absl::Minutes(1))).ok());
  absl::StatusOr<std::vector<ReallocationReport>> next = engine->Advance(next_due);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->size(), 1u);
}

// A start years before the first event does the same on a short interval.
TEST(EngineTest, AdvanceRefusesAStartYearsBeforeTheEvents) {
  ExperimentConfig c = SmallConfig();
  c.schedule.interval = absl::Minutes(1);
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(c).ok());
  ASSERT_TRUE(engine.Start("exp", kStart - absl::Hours(24 * 365 * 5)).ok());
  absl::StatusOr<std::vector<ReallocationReport>> r = engine.Advance(kStart);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("would cross 2627881 grid points"));
  EXPECT_TRUE(engine.Reports("exp")->empty());
}

// Outcomes of +-1e308 overflowed the sums of squares: the mean turned null
// and the weights froze. Values beyond 1e15 in magnitude are refused.
TEST(EngineTest, RefusesContinuousOutcomesBeyondTheMagnitudeLimit) {
  ExperimentConfig c = SmallConfig();
  c.metric = MetricKind::kContinuous;
  std::unique_ptr<Engine> engine = Started(c);
  ASSERT_TRUE(engine->Assign("exp", "u1", At(absl::Minutes(5))).ok());
  for (double v : {1e308, -1e308, 1.0000001e15}) {
    absl::StatusOr<OutcomeDisposition> d =
        engine->RecordOutcome("exp", "u1", At(absl::Minutes(6)), v);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << v;
    EXPECT_THAT(d.status().message(), HasSubstr("at most 1e+15 in magnitude")) << v;
  }
  EXPECT_EQ(*engine->RecordOutcome("exp", "u1", At(absl::Minutes(6)), -1e15),
            OutcomeDisposition::kCounted);
  EXPECT_EQ(*engine->RecordOutcome("exp", "u1", At(absl::Minutes(7)), 1e15),
            OutcomeDisposition::kCounted);
}

// Priors of 1e17 passed validation, then threw out of Boost.Math at the
// first report.
TEST(EngineTest, RefusesPriorsBeyondTheLimit) {
  Engine engine;
  ExperimentConfig c = SmallConfig();
  c.prior_beta = 1e17;
  absl::Status s = engine.CreateExperiment(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("policy.prior_beta must be in [0.001, 1e+06]"));
  c.prior_beta = kMaxPrior;
  c.prior_alpha = kMinPrior;
  ASSERT_TRUE(engine.CreateExperiment(c).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(engine.Assign("exp", absl::StrCat("u", i), At(absl::Minutes(1))).ok());
  }
  absl::StatusOr<std::vector<ReallocationReport>> r = engine.Advance(At(absl::Hours(5)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->empty());
}

TEST(EngineTest, ReturningUnitsKeepTheirArmInsideTheWindow) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  absl::StatusOr<Assignment> first = engine->Assign("exp", "u", At(absl::Minutes(1)));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->propensity, 0.5);
  for (int m = 2; m < 31; ++m) {
    absl::StatusOr<Assignment> again = engine->Assign("exp", "u", At(absl::Minutes(m)));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->arm, first->arm);
    EXPECT_EQ(again->epoch, first->epoch);
  }
  EXPECT_EQ(*engine->OpenUnits("exp"), 1);
}

TEST(EngineTest, OutcomesCountOnlyInsideTheWindow) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  ASSERT_TRUE(engine->Assign("exp", "u", At(absl::Minutes(0))).ok());
  EXPECT_EQ(*engine->RecordOutcome("exp", "u", At(absl::Minutes(29)), 1),
            OutcomeDisposition::kCounted);
  ASSERT_TRUE(engine->Assign("exp", "v", At(absl::Minutes(0))).ok());
  EXPECT_EQ(*engine->RecordOutcome("exp", "v", At(absl::Minutes(30)), 1),
            OutcomeDisposition::kLate);
  EXPECT_EQ(*engine->RecordOutcome("exp", "never-seen", At(absl::Minutes(30)), 1),
            OutcomeDisposition::kUnknownUnit);
  // Units whose window closed wait in the ledger until the next grid point.
  ASSERT_TRUE(engine->Advance(At(absl::Minutes(40))).ok());
  EXPECT_EQ(*engine->OpenUnits("exp"), 2);
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(2)));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(*engine->OpenUnits("exp"), 0);
  // Once folded, a late outcome is still told apart from an unknown unit.
  EXPECT_EQ(*engine->RecordOutcome("exp", "u", At(absl::Hours(2)), 1),
            OutcomeDisposition::kLate);
  EXPECT_EQ(engine->Reports("exp")->back().late_outcomes, 1);
  const ReallocationReport& r = (*reports)[0];
  EXPECT_EQ(r.late_outcomes, 1);
  EXPECT_EQ(r.unknown_outcomes, 1);
  int64_t units = 0;
  double outcomes = 0;
  for (const ArmReport& arm : r.arms) {
    units += arm.units;
    outcomes += arm.outcomes;
  }
  EXPECT_EQ(units, 2);
  EXPECT_EQ(outcomes, 1);
}

TEST(EngineTest, OnlyMaturedUnitsCountAsTrials) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  // Exposed 10 minutes before the due time: the window is still open then.
  ASSERT_TRUE(engine->Assign("exp", "late-comer", At(absl::Minutes(110))).ok());
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(2)));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].arms[0].units + (*reports)[0].arms[1].units, 0);
  EXPECT_EQ((*reports)[0].arms[0].exposures + (*reports)[0].arms[1].exposures, 1);
}

// Runs SmallConfig-like `config` on 2,000 units at 5% (a) and 25% (b);
// returns the engine and puts the report due at 2h in *report.
std::unique_ptr<Engine> RunClearDifference(const ExperimentConfig& config,
                                           ReallocationReport* report) {
  std::unique_ptr<Engine> engine = Started(config);
  ExactConverter converter;
  const std::vector<double> rate = {0.05, 0.25};
  for (int i = 0; i < 2000; ++i) {
    const absl::Time t = At(absl::Seconds(i));
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
    EXPECT_TRUE(a.ok());
    if (a.ok() && converter.Next(a->arm, rate[a->arm])) {
      EXPECT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
    }
  }
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(2)));
  EXPECT_TRUE(reports.ok() && reports->size() == 1u);
  if (reports.ok() && !reports->empty()) *report = reports->front();
  return engine;
}

ReallocationReport ReportOnAClearDifference(const ExperimentConfig& config) {
  ReallocationReport report;
  RunClearDifference(config, &report);
  return report;
}

TEST(EngineTest, MinEffectWithholdsTheWinnerButNotTheElimination) {
  // b leads a by 0.20; sure to exceed 0 but not 0.19.
  ExperimentConfig config = SmallConfig();
  config.decision.min_effect = 0.19;
  const ReallocationReport r = ReportOnAClearDifference(config);
  ASSERT_EQ(r.arms.size(), 2u);
  EXPECT_GT(r.arms[1].advantage_low, 0);
  EXPECT_LT(r.arms[1].advantage_low, 0.19);
  EXPECT_EQ(r.winner, -1);
  EXPECT_TRUE(r.arms[0].eliminated);
}

TEST(EngineTest, PBestRuleIsKeptForComparison) {
  // The same data under the old rule names the same winner (P(best) > 0.999
  // and the losses far apart) and still reports the bounds.
  ExperimentConfig config = SmallConfig();
  config.decision.rule = DecisionRule::kPBest;
  config.decision.min_effect = 0.19;  // not read by this rule
  const ReallocationReport r = ReportOnAClearDifference(config);
  ASSERT_EQ(r.arms.size(), 2u);
  EXPECT_EQ(r.winner, 1);
  EXPECT_GT(r.arms[1].advantage_low, 0);
}

TEST(EngineTest, BurnInHoldsUntilTimeAndUnits) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  // Nothing is due before start + burn_in.
  absl::StatusOr<std::vector<ReallocationReport>> none =
      engine->Advance(At(absl::Minutes(119)));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // Due at 2h, but no arm has 10 matured units: weights kept, reason given.
  absl::StatusOr<std::vector<ReallocationReport>> due =
      engine->Advance(At(absl::Hours(2)));
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_FALSE((*due)[0].reallocated);
  EXPECT_THAT((*due)[0].reason, HasSubstr("below the minimum of 10"));
  EXPECT_EQ((*due)[0].weights_after, (*due)[0].weights_before);
  EXPECT_EQ((*due)[0].epoch, 0);
  EXPECT_EQ((*due)[0].winner, -1);
  // No bounds in burn-in.
  EXPECT_TRUE(std::isnan((*due)[0].arms[0].advantage_low));
}

TEST(EngineTest, SampleRatioPValueIsARunningMinimumOverReports) {
  // Ten hours of healthy traffic, a unit a second, a report every hour: the
  // always-valid p-value never rises from one report to the next, nor in
  // the final report, and a sound run stays far from any alarm. With these
  // unit ids 1 / E dips to 0.35 at the sixth report and then rises to 0.43,
  // so a report that forgot the previous p-value fails here.
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  ExactConverter converter;
  const std::vector<double> rate = {0.10, 0.12};
  std::vector<ReallocationReport> reports;
  for (int i = 0; i < 10 * 3600; ++i) {
    const absl::Time t = At(absl::Seconds(i));
    absl::StatusOr<std::vector<ReallocationReport>> due = engine->Advance(t);
    ASSERT_TRUE(due.ok());
    reports.insert(reports.end(), due->begin(), due->end());
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
    ASSERT_TRUE(a.ok());
    if (converter.Next(a->arm, rate[a->arm])) {
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
    }
  }
  ASSERT_GE(reports.size(), 8u);
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_LE(reports[i].srm_p, reports[i - 1].srm_p) << i;
  }
  EXPECT_LT(reports.back().srm_p, 1.0);  // the check above is not vacuous
  EXPECT_GT(reports.back().srm_p, 1e-3);
  ASSERT_TRUE(engine->Delete("exp").ok());
  absl::StatusOr<std::vector<ReallocationReport>> final_report = engine->Reports("exp");
  ASSERT_TRUE(final_report.ok());
  ASSERT_EQ(final_report->size(), 1u);
  EXPECT_LE((*final_report)[0].srm_p, reports.back().srm_p);
}

TEST(EngineTest, ReallocationsFollowTheGrid) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  // One jump over many grid points reports each of them, in order, at its
  // grid time, never in between.
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(7) + absl::Minutes(59)));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ((*reports)[i].time, At(absl::Hours(2 + i)));
  }
}

TEST(EngineTest, ThompsonShiftsTrafficToTheBetterArm) {
  ReallocationReport r;
  std::unique_ptr<Engine> engine = RunClearDifference(SmallConfig(), &r);
  ASSERT_EQ(r.arms.size(), 2u);
  EXPECT_TRUE(r.reallocated) << r.reason;
  EXPECT_EQ(r.epoch, 1);
  EXPECT_GT(r.arms[1].p_best, 0.999);
  // Floor 0.01: w = 0.01 + 0.98 p.
  EXPECT_NEAR(r.weights_after[1], 0.01 + 0.98 * r.arms[1].p_best, 1e-12);
  EXPECT_EQ(r.winner, 1);
  // The anytime-valid bounds behind the winner: b's advantage over a is
  // surely positive, and a is eliminated. Their midpoint is the difference
  // of the means (the bounds are symmetric around it).
  EXPECT_GT(r.arms[1].advantage_low, 0);
  EXPECT_TRUE(r.arms[0].eliminated);
  EXPECT_FALSE(r.arms[1].eliminated);
  EXPECT_NEAR((r.arms[1].advantage_low + r.arms[1].advantage_high) / 2,
              r.arms[1].mean - r.arms[0].mean, 1e-12);
  EXPECT_NEAR(r.arms[0].advantage_high, -r.arms[1].advantage_low, 1e-12);
  EXPECT_NEAR(r.arms[1].mean, 0.25, 0.01);
  EXPECT_LT(r.arms[1].ci95_low, r.arms[1].mean);
  EXPECT_GT(r.arms[1].ci95_high, r.arms[1].mean);
  EXPECT_GT(r.srm_p, 1e-6);
  absl::StatusOr<AllocationHistory> history = engine->History("exp");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->epochs().size(), 2u);
  EXPECT_EQ(history->epochs()[1].start, At(absl::Hours(2)));
  // New units now mostly get arm b, with its new propensity.
  int b = 0;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", absl::StrCat("new", i), At(absl::Hours(2)));
    ASSERT_EQ(a->epoch, 1);
    b += a->arm == 1;
  }
  EXPECT_GT(b, 900);
}

TEST(EngineTest, FixedPolicyNeverMovesTraffic) {
  ExperimentConfig c = SmallConfig();
  c.policy.kind = PolicyKind::kFixed;
  c.arms[1].weight = 3;
  std::unique_ptr<Engine> engine = Started(c);
  for (int i = 0; i < 400; ++i) {
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", absl::StrCat("u", i), At(absl::Seconds(i)));
    if (a->arm == 0) {
      ASSERT_TRUE(
          engine->RecordOutcome("exp", absl::StrCat("u", i), At(absl::Seconds(i)), 1)
              .ok());
    }
  }
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(5)));
  ASSERT_EQ(reports->size(), 4u);
  for (const ReallocationReport& r : *reports) {
    EXPECT_FALSE(r.reallocated);
    EXPECT_EQ(r.weights_after, (std::vector<double>{0.25, 0.75}));
  }
  EXPECT_EQ(engine->History("exp")->epochs().size(), 1u);
}

TEST(EngineTest, LowerIsBetterPicksTheSmallestMean) {
  ExperimentConfig c = SmallConfig();
  c.metric = MetricKind::kContinuous;
  c.direction = Direction::kLowerIsBetter;
  std::unique_ptr<Engine> engine = Started(c);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 50);
  const std::vector<double> latency = {900, 700};
  for (int i = 0; i < 1000; ++i) {
    const std::string unit = absl::StrCat("req", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, At(absl::Seconds(i)));
    ASSERT_TRUE(engine
                    ->RecordOutcome("exp", unit, At(absl::Seconds(i)),
                                    latency[a->arm] + noise(rng))
                    .ok());
  }
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(2)));
  ASSERT_EQ(reports->size(), 1u);
  const ReallocationReport& r = (*reports)[0];
  EXPECT_NEAR(r.arms[1].mean, 700, 10);
  EXPECT_GT(r.arms[1].p_best, 0.999);
  EXPECT_GT(r.weights_after[1], r.weights_before[1]);
}

// A continuous arm's variance is estimated from its own few units, so its
// 95% interval is the Student t's, mean +- t_{0.975, n} s / sqrt(n) (one
// epoch: the moderated variance is the sample variance s^2, with d0 + n - 1
// = n df), wider than the Normal's +- 1.96 s / sqrt(n).
TEST(EngineTest, FewContinuousUnitsGetAStudentTInterval) {
  ExperimentConfig c = SmallConfig();
  c.metric = MetricKind::kContinuous;
  c.schedule.min_units_per_arm = 2;
  std::unique_ptr<Engine> engine = Started(c);
  // t_{0.975, n} (Abramowitz and Stegun, table 26.10).
  const std::map<int64_t, double> t975 = {
      {2, 4.302652730},  {3, 3.182446305},  {4, 2.776445105},  {5, 2.570581836},
      {6, 2.446911851},  {7, 2.364624252},  {8, 2.306004135},  {9, 2.262157163},
      {10, 2.228138852}, {11, 2.200985160}, {12, 2.178812830}, {13, 2.160368656}};
  std::vector<std::vector<double>> values(2);
  for (int i = 0; i < 14; ++i) {
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, At(absl::Seconds(i)));
    ASSERT_TRUE(a.ok());
    const double value = 10.0 * a->arm + (i % 5) + 0.25 * (i % 3);
    values[a->arm].push_back(value);
    ASSERT_TRUE(engine->RecordOutcome("exp", unit, At(absl::Seconds(i)), value).ok());
  }
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(2)));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  const ReallocationReport& r = (*reports)[0];
  for (int arm = 0; arm < 2; ++arm) {
    const std::vector<double>& x = values[arm];
    const int64_t n = static_cast<int64_t>(x.size());
    ASSERT_TRUE(t975.contains(n)) << n;
    double mean = 0, ss = 0;
    for (double v : x) mean += v / static_cast<double>(n);
    for (double v : x) ss += (v - mean) * (v - mean);
    const double se = std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n));
    const ArmReport& report = r.arms[arm];
    EXPECT_EQ(report.units, n);
    EXPECT_NEAR(report.mean, mean, 1e-12);
    // The near-flat Normal(0, 1e6) prior moves the interval by ~1e-11.
    EXPECT_NEAR(report.ci95_high, mean + t975.at(n) * se, 1e-8) << "arm " << arm;
    EXPECT_NEAR(report.ci95_low, mean - t975.at(n) * se, 1e-8) << "arm " << arm;
    EXPECT_GT(report.ci95_high - report.ci95_low, 1.05 * 2 * 1.959963984540054 * se);
  }
}

// An arm that is better in every epoch but worse pooled (traffic moved to it
// when the base rate fell) is ranked better by the Simpson-safe estimates:
// the period-weighted mix (checked here against its closed form) and the
// epoch-adjusted fit (below).
ReallocationReport SimpsonTrap(EstimateMethod method) {
  ExperimentConfig c = SmallConfig();
  c.schedule.interval = absl::Hours(2);
  c.floor = 0.0;
  c.estimate.method = method;
  std::unique_ptr<Engine> engine = Started(c);
  ExactConverter converter;
  // `count` units spread over the hour after `from`, converting at `rate`.
  auto feed = [&](absl::Duration from, int count, const std::vector<double>& rate) {
    for (int i = 0; i < count; ++i) {
      const absl::Time t = At(from + absl::Hours(1) * i / count);
      const std::string unit = absl::StrCat(absl::ToInt64Seconds(from), "-", i);
      absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
      EXPECT_TRUE(a.ok());
      if (converter.Next(a->arm, rate[a->arm])) {
        EXPECT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
      }
    }
  };
  // Epoch 0, high base rate, 50/50: b is better (0.34 vs 0.30).
  feed(absl::ZeroDuration(), 2000, {0.30, 0.34});
  absl::StatusOr<std::vector<ReallocationReport>> first =
      engine->Advance(At(absl::Hours(2)));
  EXPECT_EQ(first->size(), 1u);
  EXPECT_TRUE((*first)[0].reallocated);
  EXPECT_GT((*first)[0].weights_after[1], 0.9);
  // Epoch 1, low base rate, most traffic on b: b is still better.
  feed(absl::Hours(2), 4000, {0.05, 0.07});
  absl::StatusOr<std::vector<ReallocationReport>> second =
      engine->Advance(At(absl::Hours(4)));
  EXPECT_EQ(second->size(), 1u);
  return second->back();
}

TEST(EngineTest, SimpsonTrapRanksTheArmBetterInEveryEpoch) {
  const ReallocationReport r = SimpsonTrap(EstimateMethod::kPeriodWeighted);
  // Pooled, a looks better; Simpson-safe, b is better, as in each epoch.
  EXPECT_GT(r.arms[0].pooled_mean, r.arms[1].pooled_mean);
  EXPECT_GT(r.arms[1].mean, r.arms[0].mean);
  EXPECT_GT(r.arms[1].p_best, r.arms[0].p_best);
  // The mix uses each epoch's share of all units (1/3, 2/3) for both arms.
  EXPECT_NEAR(r.arms[1].mean, 0.34 / 3 + 0.07 * 2 / 3, 0.002);
  EXPECT_NEAR(r.arms[0].mean, 0.30 / 3 + 0.05 * 2 / 3, 0.01);
}

TEST(EngineTest, SimpsonTrapEpochAdjusted) {
  const ReallocationReport r = SimpsonTrap(EstimateMethod::kEpochAdjusted);
  EXPECT_GT(r.arms[0].pooled_mean, r.arms[1].pooled_mean);
  EXPECT_GT(r.arms[1].p_best, 0.9);
  // b - a is an information-weighted mean of the within-epoch differences
  // 0.04 and 0.02 (posterior means; a 1/1 prior moves them by < 0.002).
  const double diff = r.arms[1].mean - r.arms[0].mean;
  EXPECT_GT(diff, 0.02 - 0.004);
  EXPECT_LT(diff, 0.04 + 0.004);
  // b, the arm with most units in both epochs, sits near its own mix.
  EXPECT_NEAR(r.arms[1].mean, 0.34 / 3 + 0.07 * 2 / 3, 0.005);
}

// An arm missing from an epoch must not be mixed with other epoch shares
// than the arms it is compared with. With epsilon 0 and floor 0 all traffic
// goes to b after epoch 0 (b 0.22, a 0.20), and the base rate then halves.
// Mixing b over both epochs but a over epoch 0 alone made b look worse
// (0.22 / 3 + 0.11 * 2 / 3 = 0.147 against 0.20) and flipped the weights to
// a; over the one epoch both share, b stays ahead.
ReallocationReport ArmMissingFromAnEpoch(EstimateMethod method) {
  ExperimentConfig c = SmallConfig();
  c.estimate.method = method;
  c.schedule.interval = absl::Hours(2);
  c.policy.kind = PolicyKind::kEpsilonGreedy;
  c.policy.epsilon = 0.0;
  c.floor = 0.0;
  std::unique_ptr<Engine> engine = Started(c);
  ExactConverter converter;
  auto feed = [&](absl::Duration from, int count, const std::vector<double>& rate) {
    for (int i = 0; i < count; ++i) {
      const absl::Time t = At(from + absl::Hours(1) * i / count);
      const std::string unit = absl::StrCat(absl::ToInt64Seconds(from), "-", i);
      absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
      EXPECT_TRUE(a.ok());
      if (converter.Next(a->arm, rate[a->arm])) {
        EXPECT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
      }
    }
  };
  feed(absl::ZeroDuration(), 2000, {0.20, 0.22});
  absl::StatusOr<std::vector<ReallocationReport>> first =
      engine->Advance(At(absl::Hours(2)));
  EXPECT_EQ(first->size(), 1u);
  EXPECT_TRUE((*first)[0].reallocated);
  EXPECT_EQ((*first)[0].weights_after, (std::vector<double>{0, 1}));
  feed(absl::Hours(2), 4000, {0.10, 0.11});
  absl::StatusOr<std::vector<ReallocationReport>> second =
      engine->Advance(At(absl::Hours(4)));
  EXPECT_EQ(second->size(), 1u);
  const ReallocationReport& r = second->back();
  EXPECT_EQ(r.arms[0].units + r.arms[1].units, 6000);
  EXPECT_LT(r.arms[0].units, 1200);  // a had only epoch 0's share
  EXPECT_EQ(r.weights_after, (std::vector<double>{0, 1}));
  return r;
}

TEST(EngineTest, AnArmMissingFromAnEpochIsComparedOverSharedEpochs) {
  const ReallocationReport r = ArmMissingFromAnEpoch(EstimateMethod::kPeriodWeighted);
  EXPECT_GT(r.arms[1].mean, r.arms[0].mean);
  EXPECT_NEAR(r.arms[1].mean, 0.22, 0.01);
  EXPECT_NEAR(r.arms[0].mean, 0.20, 0.01);
}

// The fit compares a and b within epoch 0 only (b - a = 0.02) and uses b's
// epoch-1 units for the level: both at the experiment's mix (1/3, 2/3).
TEST(EngineTest, AnArmMissingFromAnEpochEpochAdjusted) {
  const ReallocationReport r = ArmMissingFromAnEpoch(EstimateMethod::kEpochAdjusted);
  EXPECT_NEAR(r.arms[1].mean - r.arms[0].mean, 0.02, 0.005);
  EXPECT_NEAR(r.arms[1].mean, 0.22 / 3 + 0.11 * 2 / 3, 0.01);
}

TEST(EngineTest, StopServesTheFallbackAndKeepsExposedUnits) {
  ExperimentConfig c = SmallConfig();
  c.fallback = "b";
  std::unique_ptr<Engine> engine = Started(c);
  std::map<std::string, int> arms;
  for (int i = 0; i < 200; ++i) {
    const std::string unit = absl::StrCat("u", i);
    arms[unit] = engine->Assign("exp", unit, At(absl::Minutes(1)))->arm;
  }
  ASSERT_TRUE(engine->Stop("exp", At(absl::Minutes(10))).ok());
  EXPECT_EQ(*engine->State("exp"), ExperimentState::kStopped);
  for (const auto& [unit, arm] : arms) {
    EXPECT_EQ(engine->Assign("exp", unit, At(absl::Minutes(20)))->arm, arm);
  }
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", absl::StrCat("new", i), At(absl::Minutes(20)));
    EXPECT_EQ(a->arm, 1);
    EXPECT_EQ(a->propensity, 1.0);
  }
  EXPECT_EQ(*engine->OpenUnits("exp"), 200);
  // Outcomes of exposed units still count; no reallocation happens.
  EXPECT_EQ(*engine->RecordOutcome("exp", "u1", At(absl::Minutes(25)), 1),
            OutcomeDisposition::kCounted);
  absl::StatusOr<std::vector<ReallocationReport>> reports =
      engine->Advance(At(absl::Hours(10)));
  EXPECT_TRUE(reports->empty());
  EXPECT_EQ(*engine->OpenUnits("exp"), 0);
  // Delete keeps the final report.
  ASSERT_TRUE(engine->Delete("exp").ok());
  EXPECT_EQ(engine->Assign("exp", "u1", At(absl::Hours(11))).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<ReallocationReport>> final_report = engine->Reports("exp");
  ASSERT_TRUE(final_report.ok());
  ASSERT_EQ(final_report->size(), 1u);
  EXPECT_EQ((*final_report)[0].reason, "final report");
  EXPECT_EQ((*final_report)[0].arms[0].units + (*final_report)[0].arms[1].units, 200);
  EXPECT_EQ((*final_report)[0].arms[0].outcomes + (*final_report)[0].arms[1].outcomes, 1);
  EXPECT_EQ(engine->Delete("exp").code(), absl::StatusCode::kNotFound);
}

TEST(EngineTest, PinnedUnitsNeverMove) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  ExactConverter converter;
  for (int i = 0; i < 2000; ++i) {
    const std::string unit = absl::StrCat("warm", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, At(absl::Seconds(i)));
    if (converter.Next(a->arm, a->arm == 0 ? 0.1 : 0.3)) {
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, At(absl::Seconds(i)), 1).ok());
    }
  }
  // Conversations that started in epoch 0 keep epoch 0's arm after epoch 1
  // begins, even on their first request.
  std::map<std::string, int> epoch0;
  for (int i = 0; i < 300; ++i) {
    const std::string unit = absl::StrCat("conv", i);
    epoch0[unit] = engine->Assign("exp", unit, At(absl::Minutes(60)))->arm;
  }
  ASSERT_TRUE(engine->Advance(At(absl::Hours(2)))->at(0).reallocated);
  for (int i = 300; i < 600; ++i) {
    const std::string unit = absl::StrCat("conv", i);
    absl::StatusOr<Assignment> pinned =
        engine->Assign("exp", unit, At(absl::Hours(3)), At(absl::Minutes(30)));
    ASSERT_TRUE(pinned.ok());
    EXPECT_EQ(pinned->epoch, 0);
    EXPECT_EQ(pinned->propensity, 0.5);
  }
}

// Over a long random stream of events, no exposed unit ever changes arm
// while its window is open.
TEST(EngineTest, StickinessOverALongRandomStream) {
  ExperimentConfig c = SmallConfig();
  c.schedule.conversion_window = absl::Hours(3);
  c.schedule.min_units_per_arm = 5;
  c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
  std::unique_ptr<Engine> engine = Started(c);
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> pick(0, 2999);
  std::uniform_real_distribution<double> u(0, 1);
  struct Seen {
    int arm;
    int64_t epoch;
    absl::Time exposure;
  };
  std::map<int, Seen> seen;
  // Close rates, so that P(best) keeps moving and the weights keep changing
  // (with 0.1, 0.2, 0.3 the best arm is certain after a few reports and the
  // weights stop at the floor).
  const std::vector<double> rate = {0.2, 0.23, 0.26};
  absl::Time t = kStart;
  int reallocations = 0;
  int checked = 0;
  for (int step = 0; step < 30000; ++step) {
    t += absl::Seconds(2);
    const int id = pick(rng);
    const std::string unit = absl::StrCat("u", id);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
    ASSERT_TRUE(a.ok());
    // Each unit's first exposure opens its window; every visit inside it
    // must get the same arm and epoch.
    auto it = seen.find(id);
    if (it == seen.end()) {
      seen[id] = {a->arm, a->epoch, t};
    } else if (t < it->second.exposure + absl::Hours(3)) {
      ASSERT_EQ(a->arm, it->second.arm) << unit;
      ASSERT_EQ(a->epoch, it->second.epoch) << unit;
      ++checked;
    }
    if (u(rng) < rate[a->arm]) {
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
    }
    if (step % 500 == 0) {
      absl::StatusOr<std::vector<ReallocationReport>> r = engine->Advance(t);
      ASSERT_TRUE(r.ok());
      for (const ReallocationReport& report : *r) reallocations += report.reallocated;
    }
  }
  EXPECT_GT(reallocations, 5);
  EXPECT_GT(checked, 1000);
}

// AssignBatch answers exactly what Assign called in order answers: new,
// returning and repeated units (also within one batch and across the
// batch's internal chunks of 64), pinned units, and requests that fail on
// their own (an empty unit, a time before the last Advance), with the same
// reports at the end.
TEST(EngineTest, AssignBatchAnswersAsAssignInOrder) {
  ExperimentConfig c = SmallConfig();
  c.arms = {{"a", 1}, {"b", 1}, {"c", 2}};
  c.schedule.min_units_per_arm = 0;
  c.schedule.burn_in = absl::Hours(1);
  std::unique_ptr<Engine> one_by_one = Started(c);
  std::unique_ptr<Engine> batched = Started(c);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  int64_t seconds = 0;
  int next_unit = 0;
  int64_t compared = 0;
  for (int hour = 1; hour <= 8; ++hour) {
    // The requests of one stretch between Advance calls, in batches of
    // 1 to 200.
    while (seconds < 3600 * hour) {
      const size_t size = 1 + static_cast<size_t>(u(rng) * 200);
      std::vector<std::string> units;
      std::vector<int64_t> times;  // non-decreasing across batches
      std::vector<AssignRequest> requests;
      units.reserve(size);
      for (size_t i = 0; i < size; ++i) {
        seconds += static_cast<int64_t>(u(rng) * 40);
        times.push_back(seconds);
        const double kind = u(rng);
        if (kind < 0.6 || next_unit == 0) {
          units.push_back(absl::StrCat("u", next_unit++));
        } else if (kind < 0.98) {
          units.push_back(absl::StrCat("u", static_cast<int>(u(rng) * next_unit)));
        } else {
          units.push_back("");  // refused on its own
        }
      }
      for (size_t i = 0; i < size; ++i) {
        AssignRequest r{units[i], At(absl::Seconds(times[i])), std::nullopt};
        if (u(rng) < 0.2) r.unit_start = r.now - absl::Minutes(u(rng) * 300);
        // Now and then a request from before the last Advance: refused.
        if (u(rng) < 0.01) r.now = At(absl::Hours(hour - 1) - absl::Seconds(1));
        requests.push_back(r);
      }
      std::vector<absl::StatusOr<Assignment>> results(size);
      ASSERT_TRUE(batched->AssignBatch("exp", requests, absl::MakeSpan(results)).ok());
      for (size_t i = 0; i < size; ++i) {
        const absl::StatusOr<Assignment> a = one_by_one->Assign(
            "exp", requests[i].unit, requests[i].now, requests[i].unit_start);
        ASSERT_EQ(a.status(), results[i].status()) << "request " << i;
        if (!a.ok()) continue;
        EXPECT_EQ(a->arm, results[i]->arm);
        EXPECT_EQ(a->epoch, results[i]->epoch);
        EXPECT_EQ(a->propensity, results[i]->propensity);
        EXPECT_EQ(a->holdout, results[i]->holdout);
        ++compared;
      }
      // Outcomes after the whole batch (a unit refused or not recorded
      // early in a batch may be exposed later in it), at the batch's end.
      const absl::Time end = At(absl::Seconds(times.back()));
      for (size_t i = 0; i < size; ++i) {
        if (!results[i].ok() || u(rng) >= 0.1 + 0.05 * results[i]->arm) continue;
        const absl::StatusOr<OutcomeDisposition> expected =
            one_by_one->RecordOutcome("exp", requests[i].unit, end, 1);
        const absl::StatusOr<OutcomeDisposition> got =
            batched->RecordOutcome("exp", requests[i].unit, end, 1);
        ASSERT_EQ(expected.status(), got.status());
        if (expected.ok()) {
          EXPECT_EQ(*expected, *got);
        }
      }
    }
    ASSERT_TRUE(one_by_one->Advance(At(absl::Hours(hour))).ok());
    ASSERT_TRUE(batched->Advance(At(absl::Hours(hour))).ok());
    EXPECT_EQ(*one_by_one->OpenUnits("exp"), *batched->OpenUnits("exp"));
  }
  EXPECT_GT(compared, 1000);
  const std::string reports = ReportsToJson(*one_by_one->Reports("exp"));
  EXPECT_THAT(reports, HasSubstr("\"reallocated\": true"));
  EXPECT_EQ(reports, ReportsToJson(*batched->Reports("exp")));
}

TEST(EngineTest, AssignBatchRefusesAWrongSizeOrExperimentAndChangesNothing) {
  std::unique_ptr<Engine> engine = Started(SmallConfig());
  const std::vector<AssignRequest> requests = {
      {"u1", At(absl::Minutes(1)), std::nullopt},
      {"u2", At(absl::Minutes(1)), std::nullopt}};
  std::vector<absl::StatusOr<Assignment>> one(1);
  absl::Status s = engine->AssignBatch("exp", requests, absl::MakeSpan(one));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("2 requests, 1 results"));
  std::vector<absl::StatusOr<Assignment>> two(2);
  s = engine->AssignBatch("nope", requests, absl::MakeSpan(two));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*engine->OpenUnits("exp"), 0);
  // An empty batch is fine and does nothing.
  EXPECT_TRUE(engine->AssignBatch("exp", {}, {}).ok());
  EXPECT_EQ(*engine->OpenUnits("exp"), 0);
}

TEST(EngineTest, SameEventsGiveBitIdenticalReports) {
  auto run = [] {
    ExperimentConfig c = SmallConfig();
    c.policy.kind = PolicyKind::kTopTwoThompson;
    c.arms = {{"a", 1}, {"b", 1}, {"c", 2}};
    std::unique_ptr<Engine> engine = Started(c);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 20000; ++i) {
      const absl::Time t = At(absl::Seconds(i));
      const std::string unit = absl::StrCat("u", i);
      absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
      if (u(rng) < 0.1 + 0.05 * a->arm) {
        (void)engine->RecordOutcome("exp", unit, t, 1);
      }
      if (i % 600 == 0) (void)engine->Advance(t);
    }
    (void)engine->Advance(At(absl::Hours(10)));
    return ReportsToJson(*engine->Reports("exp"));
  };
  const std::string first = run();
  EXPECT_EQ(first, run());
  EXPECT_THAT(first, HasSubstr("\"reallocated\": true"));
}

// EngineOptions::reports_kept: the same events give the same reports
// whatever is kept (each report's seed counts every report made, not the
// kept ones); Advance returns them all, Reports() and snapshots the last N.
TEST(EngineTest, ReportsKeptHoldsTheLastReportsOnly) {
  auto run = [](int64_t kept, std::vector<ReallocationReport>* advanced) {
    ExperimentConfig c = SmallConfig();
    c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
    auto engine = std::make_unique<Engine>(EngineOptions{.reports_kept = kept});
    EXPECT_TRUE(engine->CreateExperiment(c).ok());
    EXPECT_TRUE(engine->Start(c.id, kStart).ok());
    for (int i = 0; i < 12 * 3600; i += 10) {
      const absl::Time t = At(absl::Seconds(i));
      const std::string unit = absl::StrCat("u", i);
      absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
      EXPECT_TRUE(a.ok());
      if ((i / 10) % (3 + a->arm) == 0) {
        EXPECT_TRUE(engine->RecordOutcome("exp", unit, t, 1).ok());
      }
      if (i % 1800 == 0) {
        absl::StatusOr<std::vector<ReallocationReport>> r = engine->Advance(t);
        EXPECT_TRUE(r.ok());
        advanced->insert(advanced->end(), r->begin(), r->end());
      }
    }
    return engine;
  };
  std::vector<ReallocationReport> all_advanced, kept_advanced;
  std::unique_ptr<Engine> all = run(0, &all_advanced);
  std::unique_ptr<Engine> kept = run(3, &kept_advanced);
  ASSERT_EQ(all_advanced.size(), 10u);  // grid points 2h, 3h, ..., 11h
  EXPECT_EQ(ReportsToJson(kept_advanced), ReportsToJson(all_advanced));
  const std::vector<ReallocationReport> every = *all->Reports("exp");
  EXPECT_EQ(ReportsToJson(every), ReportsToJson(all_advanced));
  const std::vector<ReallocationReport> last = *kept->Reports("exp");
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(ReportsToJson(last),
            ReportsToJson(absl::MakeConstSpan(every).subspan(every.size() - 3)));
  // The snapshot state holds what is kept.
  const internal::EngineState state = internal::EngineAccess::Export(*kept);
  ASSERT_EQ(state.experiments.size(), 1u);
  EXPECT_EQ(state.experiments[0].reports.size(), 3u);
  EXPECT_EQ(state.experiments[0].reports_made, 10);
  // An engine restored from it goes on with the same seeds as the original.
  absl::StatusOr<std::unique_ptr<Engine>> restored = internal::EngineAccess::Import(
      *internal::DecodeEngineState(internal::EncodeEngineState(state)));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(internal::EngineAccess::Export(**restored).experiments[0].reports_made, 10);
  // Later reports and the final report do not depend on what was kept.
  absl::StatusOr<std::vector<ReallocationReport>> next_all =
      all->Advance(At(absl::Hours(14)));
  absl::StatusOr<std::vector<ReallocationReport>> next_kept =
      kept->Advance(At(absl::Hours(14)));
  ASSERT_TRUE(next_all.ok() && next_kept.ok());
  EXPECT_EQ(ReportsToJson(*next_kept), ReportsToJson(*next_all));
  EXPECT_EQ(kept->Reports("exp")->size(), 3u);
  ASSERT_TRUE(all->Delete("exp").ok());
  ASSERT_TRUE(kept->Delete("exp").ok());
  EXPECT_EQ(ReportsToJson(*kept->Reports("exp")), ReportsToJson(*all->Reports("exp")));
}

}  // namespace
}  // namespace allot
