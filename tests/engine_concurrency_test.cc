// Copyright 2026 The allot Authors.
//
// Several threads assign and record outcomes while another advances the
// engine; afterwards every total is exact. Run under ThreadSanitizer in CI.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

TEST(EngineConcurrencyTest, TotalsAreExactAfterParallelTraffic) {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
  c.schedule.burn_in = absl::Minutes(30);
  c.schedule.interval = absl::Minutes(10);
  c.schedule.conversion_window = absl::Minutes(5);
  c.schedule.min_units_per_arm = 5;
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(c).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());

  constexpr int kWorkers = 3;
  constexpr int kPhases = 12;
  constexpr int kUnitsPerPhase = 600;  // per worker
  std::atomic<int64_t> exposures{0}, conversions{0};
  for (int phase = 0; phase < kPhases; ++phase) {
    // Events of this phase are stamped in [phase start, +10 min); the
    // advancer moves the clock to the phase start meanwhile.
    const absl::Time phase_start = kStart + absl::Minutes(10) * phase;
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        if (w == 0) {
          // This worker's units go through AssignBatch, 30 at a time.
          constexpr int kBatch = 30;
          for (int first = 0; first < kUnitsPerPhase; first += kBatch) {
            std::vector<std::string> units;
            std::vector<AssignRequest> requests;
            for (int i = first; i < first + kBatch; ++i) {
              units.push_back(absl::StrCat(phase, "-", w, "-", i));
            }
            for (int i = first; i < first + kBatch; ++i) {
              requests.push_back({units[i - first],
                                  phase_start + absl::Milliseconds(i * 900),
                                  std::nullopt});
            }
            std::vector<absl::StatusOr<Assignment>> results(kBatch), again(kBatch);
            ASSERT_TRUE(
                engine.AssignBatch("exp", requests, absl::MakeSpan(results)).ok());
            // Returning visits are not new exposures.
            ASSERT_TRUE(engine.AssignBatch("exp", requests, absl::MakeSpan(again)).ok());
            for (int j = 0; j < kBatch; ++j) {
              ASSERT_TRUE(results[j].ok()) << results[j].status();
              ASSERT_EQ(again[j]->arm, results[j]->arm);
              exposures.fetch_add(1);
              if ((first + j + results[j]->arm) % 4 == 0) {
                absl::StatusOr<OutcomeDisposition> d = engine.RecordOutcome(
                    "exp", units[j], requests[j].now + absl::Seconds(1), 1);
                ASSERT_TRUE(d.ok()) << d.status();
                ASSERT_EQ(*d, OutcomeDisposition::kCounted);
                conversions.fetch_add(1);
              }
            }
          }
          return;
        }
        for (int i = 0; i < kUnitsPerPhase; ++i) {
          const std::string unit = absl::StrCat(phase, "-", w, "-", i);
          const absl::Time t = phase_start + absl::Milliseconds(i * 900);
          absl::StatusOr<Assignment> a = engine.Assign("exp", unit, t);
          ASSERT_TRUE(a.ok()) << a.status();
          exposures.fetch_add(1);
          // Returning visits are not new exposures.
          ASSERT_EQ(engine.Assign("exp", unit, t)->arm, a->arm);
          if ((i + a->arm) % 4 == 0) {
            absl::StatusOr<OutcomeDisposition> d =
                engine.RecordOutcome("exp", unit, t + absl::Seconds(1), 1);
            ASSERT_TRUE(d.ok()) << d.status();
            ASSERT_EQ(*d, OutcomeDisposition::kCounted);
            conversions.fetch_add(1);
          }
        }
      });
    }
    std::thread advancer([&] {
      for (int k = 0; k < 20; ++k) {
        ASSERT_TRUE(engine.Advance(phase_start).ok());
        ASSERT_TRUE(engine.Reports("exp").ok());
      }
    });
    for (std::thread& t : workers) t.join();
    advancer.join();
  }
  ASSERT_TRUE(engine.Advance(kStart + absl::Hours(10)).ok());
  EXPECT_EQ(*engine.OpenUnits("exp"), 0);
  std::vector<ReallocationReport> reports = *engine.Reports("exp");
  ASSERT_FALSE(reports.empty());
  const ReallocationReport& last = reports.back();
  int64_t units = 0, exposed = 0;
  double outcomes = 0;
  for (const ArmReport& arm : last.arms) {
    units += arm.units;
    exposed += arm.exposures;
    outcomes += arm.outcomes;
  }
  EXPECT_EQ(units, exposures.load());
  EXPECT_EQ(exposed, exposures.load());
  EXPECT_EQ(outcomes, static_cast<double>(conversions.load()));
  EXPECT_EQ(last.late_outcomes + last.unknown_outcomes + last.duplicate_outcomes, 0);
}

}  // namespace
}  // namespace allot
