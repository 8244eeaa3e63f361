// Copyright 2026 The allot Authors.
//
// The journaled engine under concurrent traffic: worker threads Assign,
// AssignBatch and RecordOutcome while another thread advances the engine and
// flushes the journal, with the batched flush policy so the journal's
// background flusher runs all along. Recovery from the journal must then
// give exactly the live engine's state: the journal's order is the order in
// which state changed. Run under ThreadSanitizer in CI (label concurrency).

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/report.h"
#include "allot/snapshot.h"
#include "gtest/gtest.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using test::ReadBytes;
using test::ScratchDir;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

ExperimentConfig Config() {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
  c.schedule.burn_in = absl::Minutes(20);
  c.schedule.interval = absl::Minutes(10);
  c.schedule.conversion_window = absl::Minutes(5);
  c.schedule.min_units_per_arm = 5;
  return c;
}

std::string SnapshotBytes(const Engine& engine, const std::string& path) {
  EXPECT_TRUE(WriteSnapshot(engine, path).ok());
  return ReadBytes(path);
}

TEST(JournalConcurrencyTest, RecoveryEqualsTheLiveEngineAfterParallelTraffic) {
  const ScratchDir scratch("journal_concurrency_test");
  const std::string path = scratch.path() + "/journal";
  // A 1 ms batch interval: the flusher wakes thousands of times during the
  // run, racing the appending threads.
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(
      path, {.flush = FlushPolicy::kBatched, .batch_interval = absl::Milliseconds(1)});
  ASSERT_TRUE(journal.ok()) << journal.status();
  Engine engine({.journal = journal->get()});
  ASSERT_TRUE(engine.CreateExperiment(Config()).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());

  constexpr int kWorkers = 3;
  constexpr int kPhases = 8;
  constexpr int kUnitsPerPhase = 240;  // per worker
  constexpr int kBatch = 24;
  std::atomic<int64_t> exposures{0}, outcomes{0};
  for (int phase = 0; phase < kPhases; ++phase) {
    // Events of a phase are stamped in [phase start, +10 min); the advancer
    // moves the clock to the phase start meanwhile.
    const absl::Time phase_start = kStart + absl::Minutes(10) * phase;
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&, w] {
        auto stamp = [&](int i) { return phase_start + absl::Milliseconds(i * 2400); };
        if (w == 0) {  // AssignBatch, then outcomes for a quarter of the units
          for (int first = 0; first < kUnitsPerPhase; first += kBatch) {
            std::vector<std::string> units;
            for (int i = first; i < first + kBatch; ++i) {
              units.push_back(absl::StrCat(phase, "-", w, "-", i));
            }
            std::vector<AssignRequest> requests;
            for (int i = first; i < first + kBatch; ++i) {
              requests.push_back({units[i - first], stamp(i), std::nullopt});
            }
            std::vector<absl::StatusOr<Assignment>> results(kBatch);
            ASSERT_TRUE(
                engine.AssignBatch("exp", requests, absl::MakeSpan(results)).ok());
            for (int j = 0; j < kBatch; ++j) {
              ASSERT_TRUE(results[j].ok()) << results[j].status();
              exposures.fetch_add(1);
              if ((first + j) % 4 == 0) {
                ASSERT_TRUE(engine
                                .RecordOutcome("exp", units[j],
                                               requests[j].now + absl::Seconds(1), 1)
                                .ok());
                outcomes.fetch_add(1);
              }
            }
          }
          return;
        }
        for (int i = 0; i < kUnitsPerPhase; ++i) {
          const std::string unit = absl::StrCat(phase, "-", w, "-", i);
          absl::StatusOr<Assignment> a = engine.Assign("exp", unit, stamp(i));
          ASSERT_TRUE(a.ok()) << a.status();
          exposures.fetch_add(1);
          if ((i + a->arm) % 3 == 0) {
            ASSERT_TRUE(
                engine.RecordOutcome("exp", unit, stamp(i) + absl::Seconds(2), 1).ok());
            outcomes.fetch_add(1);
          }
        }
      });
    }
    threads.emplace_back([&] {
      for (int k = 0; k < 10; ++k) {
        ASSERT_TRUE(engine.Advance(phase_start).ok());
        ASSERT_TRUE(engine.OpenUnits("exp").ok());
        ASSERT_TRUE((*journal)->Flush().ok());
      }
    });
    for (std::thread& t : threads) t.join();
  }
  // Past the last grid point (every unit is stamped before it), so the last
  // report counts every exposure.
  ASSERT_TRUE(engine.Advance(kStart + absl::Minutes(10 * kPhases + 1)).ok());
  ASSERT_TRUE((*journal)->Flush().ok());
  // Create, start, one exposure per unit, the outcomes, and the advances
  // that changed the clock: every call was journaled.
  const int64_t records = static_cast<int64_t>((*journal)->next_sequence()) - 1;
  EXPECT_GE(records, 2 + exposures.load() + outcomes.load() + kPhases);

  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records_replayed, records);
  EXPECT_EQ(r->records_dropped, 0);
  const Engine& recovered = *r->engine;
  const std::vector<ReallocationReport> reports = *engine.Reports("exp");
  ASSERT_GE(reports.size(), 3u);  // reallocations happened under traffic
  EXPECT_EQ(ReportsToJson(*recovered.Reports("exp")), ReportsToJson(reports));
  EXPECT_EQ(recovered.History("exp")->ToJson(), engine.History("exp")->ToJson());
  EXPECT_EQ(*recovered.OpenUnits("exp"), *engine.OpenUnits("exp"));
  EXPECT_GT(*engine.OpenUnits("exp"), 0);
  // And byte for byte, journal sequence included.
  EXPECT_TRUE(SnapshotBytes(recovered, scratch.path() + "/recovered.snapshot") ==
              SnapshotBytes(engine, scratch.path() + "/live.snapshot"));

  // The totals are the traffic's: nothing lost between threads.
  int64_t exposed = 0;
  for (const ArmReport& arm : reports.back().arms) exposed += arm.exposures;
  EXPECT_EQ(exposed, exposures.load());
}

}  // namespace
}  // namespace allot
