// Copyright 2026 The allot Authors.
//
// One running experiment per surface: Engine::Start refuses a second one on
// the same surface and changes nothing (state, journal); Stop and Delete
// free the surface; experiments without a surface never conflict; of
// concurrent Starts on one surface exactly one wins; a restore refuses a
// state with two running on one surface.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/journal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine_access.h"
#include "tests/scratch_files.h"
#include "tests/started_engine.h"

namespace allot {
namespace {

using test::kStart;

// Experiment `id` on `surface` (test::SmallConfig otherwise), its arm b
// with a payload.
ExperimentConfig OnSurface(const std::string& id, const std::string& surface) {
  ExperimentConfig c = test::SmallConfig();
  c.id = id;
  c.surface = surface;
  c.arms[1].payload = R"({"model":"m-2","temperature":0.2})";
  return c;
}

constexpr char kRefused[] =
    "surface \"support-bot\" already has running experiment \"exp-a\"; stop it first";

int64_t RecordsOfKind(const std::string& path, const std::string& kind) {
  absl::StatusOr<JournalContents> c = InspectJournal(path);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return -1;
  for (const auto& [name, n] : c->records_by_kind) {
    if (name == kind) return n;
  }
  return 0;
}

TEST(EngineSurfaceTest, SecondStartOnASurfaceIsRefusedAndChangesNothing) {
  const test::ScratchDir scratch("engine_surface_test");
  const std::string path = scratch.path() + "/journal";
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path);
  ASSERT_TRUE(journal.ok()) << journal.status();
  Engine engine({.journal = journal->get()});
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "support-bot")).ok());
  ASSERT_TRUE(engine.Start("exp-a", kStart).ok());
  const uint64_t next = (*journal)->next_sequence();

  absl::Status s = engine.Start("exp-b", kStart + absl::Minutes(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), kRefused);
  EXPECT_EQ(*engine.State("exp-b"), ExperimentState::kCreated);
  EXPECT_EQ(*engine.State("exp-a"), ExperimentState::kRunning);
  EXPECT_EQ(engine.History("exp-b").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*journal)->next_sequence(), next);
  ASSERT_TRUE((*journal)->Flush().ok());
  EXPECT_EQ(RecordsOfKind(path, "start"), 1);
  // Refused again, the same way; the engine is still writable.
  EXPECT_EQ(engine.Start("exp-b", kStart + absl::Minutes(6)).message(), kRefused);
  EXPECT_TRUE(engine.Assign("exp-a", "u1", kStart + absl::Minutes(7)).ok());
}

TEST(EngineSurfaceTest, StopFreesTheSurface) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "support-bot")).ok());
  ASSERT_TRUE(engine.Start("exp-a", kStart).ok());
  ASSERT_EQ(engine.Start("exp-b", kStart).message(), kRefused);
  ASSERT_TRUE(engine.Stop("exp-a", kStart + absl::Hours(1)).ok());
  EXPECT_TRUE(engine.Start("exp-b", kStart + absl::Hours(1)).ok());
  EXPECT_EQ(*engine.State("exp-b"), ExperimentState::kRunning);
  // The stopped one cannot start again (its own lifecycle error, not the
  // surface's).
  absl::Status s = engine.Start("exp-a", kStart + absl::Hours(2));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), ::testing::Not(::testing::HasSubstr("surface")));
}

TEST(EngineSurfaceTest, DeleteFreesTheSurface) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "support-bot")).ok());
  ASSERT_TRUE(engine.Start("exp-a", kStart).ok());
  ASSERT_EQ(engine.Start("exp-b", kStart).message(), kRefused);
  ASSERT_TRUE(engine.Delete("exp-a").ok());
  EXPECT_TRUE(engine.Start("exp-b", kStart).ok());
}

TEST(EngineSurfaceTest, CreatedOrStoppedExperimentsDoNotHoldTheSurface) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-c", "support-bot")).ok());
  // exp-a is only created: exp-b may start.
  ASSERT_TRUE(engine.Start("exp-b", kStart).ok());
  ASSERT_TRUE(engine.Stop("exp-b", kStart + absl::Hours(1)).ok());
  EXPECT_TRUE(engine.Start("exp-c", kStart + absl::Hours(1)).ok());
}

TEST(EngineSurfaceTest, DifferentSurfacesAndNoSurfaceNeverConflict) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "checkout")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-c", "")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-d", "")).ok());
  // Surfaces are compared byte for byte.
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-e", "Support-bot")).ok());
  for (const char* id : {"exp-a", "exp-b", "exp-c", "exp-d", "exp-e"}) {
    EXPECT_TRUE(engine.Start(id, kStart).ok()) << id;
  }
}

TEST(EngineSurfaceTest, ConcurrentStartsOnOneSurfaceHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    Engine engine;
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_TRUE(
          engine.CreateExperiment(OnSurface(absl::StrCat("exp-", t), "support-bot"))
              .ok());
    }
    std::atomic<bool> go{false};
    std::vector<absl::Status> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        results[t] = engine.Start(absl::StrCat("exp-", t), kStart);
      });
    }
    go.store(true, std::memory_order_release);
    for (std::thread& th : threads) th.join();
    int winners = 0, running = 0;
    for (int t = 0; t < kThreads; ++t) {
      if (results[t].ok()) {
        ++winners;
      } else {
        EXPECT_EQ(results[t].code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_THAT(std::string(results[t].message()),
                    ::testing::StartsWith("surface \"support-bot\" already has running"));
      }
      running += *engine.State(absl::StrCat("exp-", t)) == ExperimentState::kRunning;
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    EXPECT_EQ(running, 1) << "round " << round;
  }
}

TEST(EngineSurfaceTest, ReplayingTheJournalKeepsTheRule) {
  const test::ScratchDir scratch("engine_surface_test");
  const std::string path = scratch.path() + "/journal";
  {
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path);
    ASSERT_TRUE(journal.ok()) << journal.status();
    Engine engine({.journal = journal->get()});
    ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
    ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "support-bot")).ok());
    ASSERT_TRUE(engine.Start("exp-a", kStart).ok());
    ASSERT_FALSE(engine.Start("exp-b", kStart).ok());
  }
  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->engine->State("exp-a"), ExperimentState::kRunning);
  EXPECT_EQ(*r->engine->State("exp-b"), ExperimentState::kCreated);
  EXPECT_EQ(r->engine->Start("exp-b", kStart).message(), kRefused);
  // The surface and the arms' payloads came back with the configs.
  const internal::EngineState state = internal::EngineAccess::Export(*r->engine);
  ASSERT_EQ(state.experiments.size(), 2u);
  EXPECT_EQ(state.experiments[1].config.surface, "support-bot");
  EXPECT_EQ(state.experiments[1].config.arms[0].payload, "");
  EXPECT_EQ(state.experiments[1].config.arms[1].payload,
            R"({"model":"m-2","temperature":0.2})");
}

TEST(EngineSurfaceTest, RestoreRefusesTwoRunningExperimentsOnOneSurface) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-a", "support-bot")).ok());
  ASSERT_TRUE(engine.CreateExperiment(OnSurface("exp-b", "checkout")).ok());
  ASSERT_TRUE(engine.Start("exp-a", kStart).ok());
  ASSERT_TRUE(engine.Start("exp-b", kStart).ok());
  internal::EngineState state = internal::EngineAccess::Export(engine);
  ASSERT_TRUE(internal::EngineAccess::Import(state).ok());
  state.experiments[1].config.surface = "support-bot";
  absl::StatusOr<std::unique_ptr<Engine>> imported =
      internal::EngineAccess::Import(state);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(imported.status().message(),
            "surface \"support-bot\" has two running experiments, \"exp-a\" and "
            "\"exp-b\"; an engine runs at most one per surface");
}

}  // namespace
}  // namespace allot
