// Copyright 2026 The allot Authors.
//
// Arms that come and go in a running experiment, through the public API:
// the least movement at an add or a retire, pinned units, "now" retirement,
// payloads on assignments, reports, the journal and snapshots, and every
// bad input refused with nothing changed.

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/assigner.h"
#include "allot/engine.h"
#include "allot/hash.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "durability/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_files.h"
#include "tests/started_engine.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

using test::At;
using test::kStart;
using test::SmallConfig;
using test::Started;

// Three arms on a fixed split with payloads, so shares are exact.
ExperimentConfig FixedConfig() {
  ExperimentConfig c = SmallConfig();
  c.arms = {{"a", 5}, {"b", 3}, {"c", 2}};
  c.arms[0].payload = R"({"model":"m-1","temperature":0.2})";
  c.arms[1].payload = R"({"model":"m-2"})";
  c.policy.kind = PolicyKind::kFixed;
  return c;
}

std::unique_ptr<Assigner> AssignerOf(const Engine& engine) {
  absl::StatusOr<AllocationHistory> history = engine.History("exp");
  EXPECT_TRUE(history.ok()) << history.status();
  absl::StatusOr<std::unique_ptr<Assigner>> assigner = Assigner::Create(*history);
  EXPECT_TRUE(assigner.ok()) << assigner.status();
  return *std::move(assigner);
}

// The share of buckets whose arm differs between epochs `from` and `to`,
// and whether every moved bucket went to `to_arm` (or, with to_arm < 0,
// came from `from_arm`).
struct Movement {
  double moved = 0;
  bool only_expected = true;
};
Movement Moved(const Assigner& assigner, int64_t from, int64_t to, int from_arm,
               int to_arm) {
  Movement m;
  int64_t moved = 0;
  for (uint32_t b = 0; b < kNumBuckets; ++b) {
    const int before = assigner.ArmOf(from, b);
    const int after = assigner.ArmOf(to, b);
    if (before == after) continue;
    ++moved;
    if (to_arm >= 0 && after != to_arm) m.only_expected = false;
    if (from_arm >= 0 && before != from_arm) m.only_expected = false;
  }
  m.moved = static_cast<double>(moved) / kNumBuckets;
  return m;
}

// Total variation distance between two epochs' weights (the shorter padded
// with zeros): the least share of units any table change can move.
double TotalVariation(absl::Span<const double> p, absl::Span<const double> q) {
  double tv = 0;
  for (size_t i = 0; i < std::max(p.size(), q.size()); ++i) {
    tv += std::abs((i < p.size() ? p[i] : 0.0) - (i < q.size() ? q[i] : 0.0));
  }
  return tv / 2;
}

TEST(EngineArmsTest, AnAddedArmTakesExactlyItsShareFromTheOthersInProportion) {
  auto engine = Started(FixedConfig());
  ArmConfig d("d");
  d.initial_share = 0.2;
  d.payload = R"({"model":"m-3"})";
  ASSERT_TRUE(engine->AddArm("exp", d, At(absl::Minutes(10))).ok());
  std::unique_ptr<Assigner> assigner = AssignerOf(*engine);
  ASSERT_EQ(assigner->current_epoch(), 1);
  const absl::Span<const double> w = assigner->WeightsOf(1);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_NEAR(w[0], 0.5 * 0.8, 1e-12);
  EXPECT_NEAR(w[1], 0.3 * 0.8, 1e-12);
  EXPECT_NEAR(w[2], 0.2 * 0.8, 1e-12);
  EXPECT_NEAR(w[3], 0.2, 1e-12);
  const Movement m = Moved(*assigner, 0, 1, -1, /*to_arm=*/3);
  EXPECT_TRUE(m.only_expected) << "a bucket moved to an arm other than the new one";
  // Rounding to buckets costs at most one bucket per arm.
  EXPECT_NEAR(m.moved, TotalVariation(assigner->WeightsOf(0), w), 4.0 / kNumBuckets);
  EXPECT_NEAR(m.moved, 0.2, 4.0 / kNumBuckets);
}

TEST(EngineArmsTest, ARetiredArmsBucketsAloneMoveToTheOthersInProportion) {
  for (RetireMode mode : {RetireMode::kDrain, RetireMode::kNow}) {
    SCOPED_TRACE(RetireModeName(mode));
    auto engine = Started(FixedConfig());
    ASSERT_TRUE(engine->RetireArm("exp", "a", At(absl::Minutes(10)), mode).ok());
    std::unique_ptr<Assigner> assigner = AssignerOf(*engine);
    const absl::Span<const double> w = assigner->WeightsOf(1);
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0], 0.0);
    EXPECT_NEAR(w[1], 0.6, 1e-12);
    EXPECT_NEAR(w[2], 0.4, 1e-12);
    const Movement m = Moved(*assigner, 0, 1, /*from_arm=*/0, -1);
    EXPECT_TRUE(m.only_expected) << "a bucket of a remaining arm moved";
    EXPECT_NEAR(m.moved, TotalVariation(assigner->WeightsOf(0), w), 3.0 / kNumBuckets);
    EXPECT_EQ(assigner->CountsOf(1)[0], 0u);
  }
}

TEST(EngineArmsTest, PinnedUnitsKeepTheirArmAcrossAnAddAndADrain) {
  auto engine = Started(FixedConfig());
  std::unique_ptr<Assigner> before = AssignerOf(*engine);
  ArmConfig d("d");
  d.initial_share = 0.25;
  ASSERT_TRUE(engine->AddArm("exp", d, At(absl::Minutes(10))).ok());
  ASSERT_TRUE(
      engine->RetireArm("exp", "b", At(absl::Minutes(20)), RetireMode::kDrain).ok());
  // Units that started at kStart, first seen after both changes.
  int on_b = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string unit = absl::StrCat("conv-", i);
    const int want = before->AssignAt(unit, kStart)->arm;
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", unit, At(absl::Minutes(25)), kStart);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->arm, want) << unit;
    EXPECT_EQ(a->epoch, 0);
    ASSERT_NE(a->arm_info, nullptr);
    EXPECT_EQ(a->arm_info->id, FixedConfig().arms[want].id);
    on_b += a->arm == 1;
  }
  EXPECT_GT(on_b, 700);  // the drained arm still serves its pinned units
  // A new unit never gets the drained arm.
  for (int i = 0; i < 3000; ++i) {
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", absl::StrCat("new-", i), At(absl::Minutes(25)));
    ASSERT_TRUE(a.ok());
    EXPECT_NE(a->arm, 1);
  }
}

TEST(EngineArmsTest, RetiringNowMovesExactlyTheRetiredArmsUnits) {
  auto engine = Started(FixedConfig());
  std::unique_ptr<Assigner> before = AssignerOf(*engine);
  // Units exposed before the change, still in their windows.
  std::vector<int> first(4000);
  for (int i = 0; i < 4000; ++i) {
    first[i] = engine->Assign("exp", absl::StrCat("u", i), At(absl::Minutes(1)))->arm;
  }
  ASSERT_TRUE(engine->RetireArm("exp", "a", At(absl::Minutes(5)), RetireMode::kNow).ok());
  int moved = 0, on_a = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> returning =
        engine->Assign("exp", unit, At(absl::Minutes(6)));
    ASSERT_TRUE(returning.ok());
    // Pinned to the start, a first-seen unit is reassigned too.
    absl::StatusOr<Assignment> pinned =
        engine->Assign("exp", absl::StrCat("p", i), At(absl::Minutes(6)), kStart);
    ASSERT_TRUE(pinned.ok());
    EXPECT_NE(pinned->arm, 0);
    if (before->AssignAt(absl::StrCat("p", i), kStart)->arm != 0) {
      EXPECT_EQ(pinned->arm, before->AssignAt(absl::StrCat("p", i), kStart)->arm);
    }
    EXPECT_NE(returning->arm, 0);
    EXPECT_EQ(returning->arm_info->id, FixedConfig().arms[returning->arm].id);
    on_a += first[i] == 0;
    if (first[i] != returning->arm) {
      ++moved;
      EXPECT_EQ(first[i], 0) << "unit " << unit << " of a remaining arm moved";
    }
  }
  EXPECT_EQ(moved, on_a);
  EXPECT_GT(on_a, 1800);
}

TEST(EngineArmsTest, AssignmentsCarryTheArmsPayload) {
  auto engine = Started(FixedConfig());
  ArmConfig d("d");
  d.initial_share = 0.5;
  d.payload = R"({"model":"m-3","stop":["\n"]})";
  ASSERT_TRUE(engine->AddArm("exp", d, At(absl::Minutes(1))).ok());
  bool seen[4] = {};
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<Assignment> a =
        engine->Assign("exp", absl::StrCat("u", i), At(absl::Minutes(2)));
    ASSERT_TRUE(a.ok());
    ASSERT_NE(a->arm_info, nullptr);
    const std::string want =
        a->arm == 3 ? d.payload : (a->arm < 2 ? FixedConfig().arms[a->arm].payload : "");
    EXPECT_EQ(a->arm_info->payload, want);
    seen[a->arm] = true;
  }
  EXPECT_TRUE(seen[0] && seen[1] && seen[2] && seen[3]);
  // The history carries them to other replicas.
  absl::StatusOr<AllocationHistory> history = engine->History("exp");
  ASSERT_TRUE(history.ok());
  absl::StatusOr<AllocationHistory> read = AllocationHistory::FromJson(history->ToJson());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->arms().size(), 4u);
  EXPECT_EQ(read->arms()[3].payload, d.payload);
  EXPECT_EQ(read->arms()[0].payload, FixedConfig().arms[0].payload);
  EXPECT_EQ(read->ToJson(), history->ToJson());
}

TEST(EngineArmsTest, ReportsMarkRetiredArmsAndKeepTheirFigures) {
  ExperimentConfig c = SmallConfig();
  c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
  auto engine = Started(c);
  std::mt19937_64 rng(7);
  // Two hours of traffic: c converts best, a worst.
  for (int i = 0; i < 3000; ++i) {
    const absl::Time t = At(absl::Seconds(i * 2));
    ASSERT_TRUE(engine->Advance(t).ok());
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
    ASSERT_TRUE(a.ok());
    const double rate = 0.1 + 0.1 * a->arm;
    if (std::uniform_real_distribution<double>(0, 1)(rng) < rate) {
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, t + absl::Seconds(1), 1).ok());
    }
  }
  ASSERT_TRUE(engine->Advance(At(absl::Hours(2) + absl::Minutes(1))).ok());
  ASSERT_TRUE(engine
                  ->RetireArm("exp", "c", At(absl::Hours(2) + absl::Minutes(2)),
                              RetireMode::kDrain)
                  .ok());
  std::vector<ReallocationReport> reports = *engine->Reports("exp");
  const ReallocationReport& change = reports.back();
  EXPECT_THAT(change.reason, HasSubstr("arm retired: \"c\" (drain)"));
  EXPECT_TRUE(change.reallocated);
  EXPECT_EQ(change.weights_after[2], 0.0);
  ASSERT_TRUE(engine->Advance(At(absl::Hours(4))).ok());
  reports = *engine->Reports("exp");
  const ReallocationReport& last = reports.back();
  ASSERT_EQ(last.arms.size(), 3u);
  EXPECT_TRUE(last.arms[2].retired);
  EXPECT_FALSE(last.arms[0].retired);
  EXPECT_EQ(last.arms[2].p_best, 0.0);
  EXPECT_NEAR(last.arms[0].p_best + last.arms[1].p_best, 1.0, 1e-9);
  EXPECT_GT(last.arms[2].units, 500);  // its data stays
  EXPECT_EQ(last.weights_after[2], 0.0);
  EXPECT_NE(last.winner, 2);
}

// The share a new arm gets from Thompson sampling is its probability of
// being best with its prior beside the others' posteriors: checked against
// a seeded Monte Carlo of Beta draws written here.
TEST(EngineArmsTest, ThompsonGivesANewArmItsPriorProbabilityOfBeingBest) {
  ExperimentConfig c = SmallConfig();
  c.floor = 0;
  c.max_shift = 1;
  c.estimate.method = EstimateMethod::kPooled;
  auto engine = Started(c);
  // In epoch 0: the first 30 units of a and the first 40 of b convert.
  int conv[2] = {};
  for (int i = 0; i < 400; ++i) {
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, At(absl::Seconds(i)));
    ASSERT_TRUE(a.ok());
    if (conv[a->arm] < (a->arm == 0 ? 30 : 40)) {
      ++conv[a->arm];
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, At(absl::Seconds(i + 1)), 1).ok());
    }
  }
  // All matured and folded at the end of burn-in.
  ASSERT_TRUE(engine->Advance(At(absl::Hours(2))).ok());
  ASSERT_TRUE(
      engine->AddArm("exp", ArmConfig("d"), At(absl::Hours(2) + absl::Minutes(1))).ok());
  const ReallocationReport change = engine->Reports("exp")->back();
  ASSERT_THAT(change.reason, HasSubstr("the policy's under its prior"));
  const ReallocationReport& r = change;
  ASSERT_EQ(r.arms[0].outcomes, 30);
  ASSERT_EQ(r.arms[1].outcomes, 40);
  std::mt19937_64 rng(12345);
  auto beta = [&](double x, double y) {
    const double g = std::gamma_distribution<double>(x, 1)(rng);
    return g / (g + std::gamma_distribution<double>(y, 1)(rng));
  };
  const int draws = 1000000;
  int wins = 0;
  for (int i = 0; i < draws; ++i) {
    const double pa =
        beta(1 + r.arms[0].outcomes, 1 + r.arms[0].units - r.arms[0].outcomes);
    const double pb =
        beta(1 + r.arms[1].outcomes, 1 + r.arms[1].units - r.arms[1].outcomes);
    const double pd = beta(1, 1);
    wins += pd > pa && pd > pb;
  }
  const double want = static_cast<double>(wins) / draws;
  // Monte Carlo standard error below 5e-4; the engine's quadrature is exact
  // to 1e-6.
  EXPECT_NEAR(r.weights_after[2], want, 0.003);
  EXPECT_GT(want, 0.3);
}

TEST(EngineArmsTest, ANewArmHoldsItsShareThroughItsBurnInWhileTheOthersLearn) {
  ExperimentConfig c = SmallConfig();
  c.schedule.min_units_per_arm = 300;
  auto engine = Started(c);
  std::mt19937_64 rng(3);
  ArmConfig d("d");
  d.initial_share = 0.1;
  ASSERT_TRUE(engine->AddArm("exp", d, At(absl::Minutes(1))).ok());
  for (int i = 0; i < 8000; ++i) {
    const absl::Time t = At(absl::Minutes(1) + absl::Seconds(i * 3));
    ASSERT_TRUE(engine->Advance(t).ok());
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine->Assign("exp", unit, t);
    ASSERT_TRUE(a.ok());
    if (std::uniform_real_distribution<double>(0, 1)(rng) < (a->arm == 1 ? 0.3 : 0.1)) {
      ASSERT_TRUE(engine->RecordOutcome("exp", unit, t + absl::Seconds(1), 1).ok());
    }
  }
  int held = 0, learned = 0;
  const std::vector<ReallocationReport> reports = *engine->Reports("exp");
  for (const ReallocationReport& r : reports) {
    if (!r.reallocated || r.arms.size() != 3 || r.reason.find("arm added") == 0) continue;
    if (r.arms[2].units < 300) {
      // a and b left burn-in: they move, d's share stands.
      EXPECT_EQ(r.weights_after[2], r.weights_before[2]) << r.reason;
      EXPECT_NE(r.weights_after[1], r.weights_before[1]);
      ++held;
    } else {
      learned += r.weights_after[2] != r.weights_before[2];
    }
  }
  EXPECT_GE(held, 1);
  EXPECT_GE(learned, 1);
}

TEST(EngineArmsTest, BadArmChangesAreRefusedAndChangeNothing) {
  ExperimentConfig c = FixedConfig();
  c.holdout = 0.1;
  c.baseline = "c";
  auto engine = Started(c);
  ASSERT_TRUE(engine->Advance(At(absl::Minutes(30))).ok());
  const std::string history = engine->History("exp")->ToJson();
  const size_t reports = engine->Reports("exp")->size();
  auto unchanged = [&] {
    EXPECT_EQ(engine->History("exp")->ToJson(), history);
    EXPECT_EQ(engine->Reports("exp")->size(), reports);
  };
  const absl::Time now = At(absl::Minutes(31));
  auto add = [&](ArmConfig arm, absl::Time t) { return engine->AddArm("exp", arm, t); };
  EXPECT_EQ(engine->AddArm("nope", ArmConfig("d"), now).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(add(ArmConfig("a"), now).message(), HasSubstr("arm \"a\" already is in"));
  EXPECT_THAT(add(ArmConfig(""), now).message(), HasSubstr("arm.id"));
  EXPECT_THAT(add(ArmConfig("x\xff"), now).message(), HasSubstr("UTF-8"));
  ArmConfig bad("d");
  bad.payload = "[1]";
  EXPECT_THAT(add(bad, now).message(), HasSubstr("arm.config must be a JSON object"));
  for (double share : {0.0, 1.0, -0.5, std::nan("")}) {
    bad = ArmConfig("d");
    bad.initial_share = share;
    EXPECT_THAT(add(bad, now).message(),
                HasSubstr("arm.initial_share must be in (0, 1)"));
  }
  EXPECT_THAT(add(ArmConfig("d"), At(absl::Minutes(29))).message(),
              HasSubstr("time going backward"));
  EXPECT_EQ(engine->RetireArm("exp", "zz", now, RetireMode::kDrain).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(engine->RetireArm("exp", "c", now, RetireMode::kDrain).message(),
              HasSubstr("holdout's baseline"));
  unchanged();
  // One change per epoch: a second at the same time is refused.
  ASSERT_TRUE(engine->RetireArm("exp", "a", now, RetireMode::kDrain).ok());
  const std::string after_retire = engine->History("exp")->ToJson();
  EXPECT_THAT(add(ArmConfig("d"), now).message(), HasSubstr("an epoch of its own"));
  EXPECT_THAT(
      engine->RetireArm("exp", "a", At(absl::Minutes(32)), RetireMode::kNow).message(),
      HasSubstr("already retired"));
  EXPECT_THAT(add(ArmConfig("a"), At(absl::Minutes(32))).message(),
              HasSubstr("a retired id never comes back"));
  ASSERT_TRUE(
      engine->RetireArm("exp", "b", At(absl::Minutes(33)), RetireMode::kDrain).ok());
  EXPECT_THAT(
      engine->RetireArm("exp", "c", At(absl::Minutes(34)), RetireMode::kDrain).message(),
      HasSubstr("holdout's baseline"));
  // A stopped experiment's arms do not change.
  ASSERT_TRUE(engine->Stop("exp", At(absl::Minutes(40))).ok());
  const std::string stopped = engine->History("exp")->ToJson();
  EXPECT_EQ(add(ArmConfig("e"), At(absl::Minutes(41))).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine->History("exp")->ToJson(), stopped);
  EXPECT_NE(after_retire, history);
}

TEST(EngineArmsTest, TheLastActiveArmCannotRetireAndTheFloorMustStayFeasible) {
  ExperimentConfig c = SmallConfig();
  c.floor = 0.3;
  auto engine = Started(c);
  ASSERT_TRUE(engine->AddArm("exp", ArmConfig("c"), At(absl::Minutes(1))).ok());
  EXPECT_THAT(engine->AddArm("exp", ArmConfig("d"), At(absl::Minutes(2))).message(),
              HasSubstr("the floor 0.3 cannot hold for 4 active arms"));
  ASSERT_TRUE(engine->RetireArm("exp", "a", At(absl::Minutes(2)), RetireMode::kNow).ok());
  ASSERT_TRUE(engine->RetireArm("exp", "b", At(absl::Minutes(3)), RetireMode::kNow).ok());
  EXPECT_THAT(
      engine->RetireArm("exp", "c", At(absl::Minutes(4)), RetireMode::kNow).message(),
      HasSubstr("last active arm"));
  // The fallback moved off the retired arm: a stopped experiment serves c.
  ASSERT_TRUE(engine->Stop("exp", At(absl::Minutes(5))).ok());
  absl::StatusOr<Assignment> a = engine->Assign("exp", "late", At(absl::Minutes(6)));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->arm_info->id, "c");
}

TEST(EngineArmsTest, ArmChangesSurviveTheJournalAndSnapshots) {
  const test::ScratchDir scratch("engine_arms_test");
  const std::string journal_path = scratch.path() + "/j";
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(journal_path);
  ASSERT_TRUE(journal.ok());
  Engine engine({.journal = journal->get()});
  ExperimentConfig c = FixedConfig();
  c.policy.kind = PolicyKind::kThompson;
  ASSERT_TRUE(engine.CreateExperiment(c).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  std::mt19937_64 rng(11);
  for (int i = 0; i < 4000; ++i) {
    const absl::Time t = At(absl::Seconds(i * 5));
    ASSERT_TRUE(engine.Advance(t).ok());
    if (i == 1000) {
      ArmConfig d("d");
      d.payload = R"({"model":"m-4"})";
      ASSERT_TRUE(engine.AddArm("exp", d, t).ok());
    }
    if (i == 2000) {
      ASSERT_TRUE(engine.RetireArm("exp", "b", t, RetireMode::kNow).ok());
    }
    if (i == 2500) {
      ASSERT_TRUE(engine.RetireArm("exp", "a", t, RetireMode::kDrain).ok());
    }
    const std::string unit = absl::StrCat("u", i);
    absl::StatusOr<Assignment> a = engine.Assign("exp", unit, t);
    ASSERT_TRUE(a.ok());
    if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.1 + 0.05 * a->arm) {
      ASSERT_TRUE(engine.RecordOutcome("exp", unit, t + absl::Seconds(2), 1).ok());
    }
  }
  const std::string snapshot = scratch.path() + "/s";
  ASSERT_TRUE(WriteSnapshot(engine, snapshot).ok());
  absl::StatusOr<Recovery> replayed = Recover("", journal_path);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  absl::StatusOr<std::unique_ptr<Engine>> restored = ReadSnapshot(snapshot);
  ASSERT_TRUE(restored.ok()) << restored.status();
  for (const Engine* other : {replayed->engine.get(), restored->get()}) {
    EXPECT_EQ(other->History("exp")->ToJson(), engine.History("exp")->ToJson());
    const std::vector<ReallocationReport> want = *engine.Reports("exp");
    const std::vector<ReallocationReport> got = *other->Reports("exp");
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].reason, want[i].reason);
      EXPECT_EQ(got[i].weights_after, want[i].weights_after);
      for (size_t a = 0; a < got[i].arms.size(); ++a) {
        EXPECT_EQ(got[i].arms[a].retired, want[i].arms[a].retired);
      }
    }
  }
  // The restored engine goes on exactly as the original.
  for (Engine* e : {&engine, restored->get()}) {
    absl::StatusOr<Assignment> a = e->Assign("exp", "after", At(absl::Hours(6)));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->arm_info->id,
              engine.Assign("exp", "after", At(absl::Hours(6)))->arm_info->id);
    ASSERT_TRUE(
        e->AddArm("exp", ArmConfig("e"), At(absl::Hours(6) + absl::Seconds(1))).ok());
  }
  EXPECT_EQ((*restored)->History("exp")->ToJson(), engine.History("exp")->ToJson());
  EXPECT_EQ((*restored)->History("exp")->arms()[3].payload, R"({"model":"m-4"})");
}

}  // namespace
}  // namespace allot
