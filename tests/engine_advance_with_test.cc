// Copyright 2026 The allot Authors.
//
// EngineAccess::AdvanceWith: one grid point's learning from figures computed
// outside the engine gives the embedded engine's reports and history. The
// same seeded log runs through an engine (exposures, outcomes, Advance as a
// replay does); the figures of each grid point are computed from the log
// alone (tests/learner_events.h) and fed to a second engine that saw no
// event.

#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine_access.h"
#include "tests/learner_events.h"

namespace allot {
namespace {

using internal::EngineAccess;
using test::EventLog;
using test::FigureBook;
using test::LogOptions;
using test::RunEmbedded;

struct External {
  std::vector<ReallocationReport> reports;
  std::string history_json;
};

// Feeds a fresh engine the figures of each grid point the log's engine
// reported at.
External RunExternal(const EventLog& log) {
  Engine engine;
  EXPECT_TRUE(engine.CreateExperiment(log.config).ok());
  EXPECT_TRUE(engine.Start(log.config.id, log.start).ok());
  FigureBook book(log);
  External out;
  for (const ReallocationReport& r : log.reports) {
    absl::StatusOr<std::vector<ReallocationReport>> reports =
        EngineAccess::AdvanceWith(engine, log.config.id, r.time, book.At(r.time));
    EXPECT_TRUE(reports.ok()) << reports.status();
    if (!reports.ok()) break;
    out.reports.insert(out.reports.end(), reports->begin(), reports->end());
  }
  out.history_json = engine.History(log.config.id)->ToJson();
  return out;
}

int Reallocations(const std::vector<ReallocationReport>& reports) {
  int n = 0;
  for (const ReallocationReport& r : reports) n += r.reallocated;
  return n;
}

TEST(EngineAdvanceWithTest, BinaryWithContinuousGuardrailIsIdentical) {
  // Binary outcomes are 0/1 per unit and the quantized latencies (1/64
  // steps) sum exactly in any order, so every figure must be bit-identical.
  LogOptions options;
  options.quantized = true;
  const EventLog log = RunEmbedded(test::BinaryWithLatency(), /*seed=*/7, options);
  ASSERT_GE(log.reports.size(), 7u);
  ASSERT_GE(Reallocations(log.reports), 5);
  const ReallocationReport& last = log.reports.back();
  EXPECT_GT(last.late_outcomes, 0);
  EXPECT_GT(last.unknown_outcomes, 0);
  EXPECT_GT(last.duplicate_outcomes, 0);
  EXPECT_GT(last.holdout_units, 0);
  const External external = RunExternal(log);
  EXPECT_EQ(ReportsToJson(external.reports), ReportsToJson(log.reports));
  EXPECT_EQ(external.history_json, log.history_json);
  std::cout << log.events.size() << " events, " << log.reports.size() << " reports, "
            << Reallocations(log.reports) << " reallocations\n";
}

TEST(EngineAdvanceWithTest, ContinuousWithBinaryGuardrailIsIdentical) {
  LogOptions options;
  options.quantized = true;
  const EventLog log = RunEmbedded(test::ContinuousWithErrors(), /*seed=*/3, options);
  ASSERT_GE(Reallocations(log.reports), 5);
  EXPECT_GT(log.reports.back().late_outcomes, 0);
  EXPECT_GT(log.reports.back().duplicate_outcomes, 0);
  const External external = RunExternal(log);
  EXPECT_EQ(ReportsToJson(external.reports), ReportsToJson(log.reports));
  EXPECT_EQ(external.history_json, log.history_json);
}

// With real-valued outcomes the external figures are per-grid-point sums
// added to the running ones, where the ledger adds unit by unit: the same
// numbers summed in another order. Each sum then differs by at most a few
// ulps times the number of terms (under 1e-12 relative for these few
// thousand units), and every figure is a smooth function of the sums (no
// decision sits within 1e-9 of its threshold here), so weights, P(best)
// and means agree within 1e-9 and every count and decision exactly.
TEST(EngineAdvanceWithTest, ContinuousRealValuesAgreeWithinRounding) {
  const EventLog log = RunEmbedded(test::ContinuousWithErrors(), /*seed=*/3, {});
  const External external = RunExternal(log);
  ASSERT_GE(Reallocations(log.reports), 5);
  test::ExpectReportsAgree(external.reports, log.reports, 1e-9);
}

TEST(EngineAdvanceWithTest, RefusesAnotherGridPointAndUnknownExperiments) {
  Engine engine;
  const ExperimentConfig config = test::BinaryWithLatency();
  ASSERT_TRUE(engine.CreateExperiment(config).ok());
  ASSERT_TRUE(engine.Start(config.id, test::kLogStart).ok());
  internal::MaturedAtGridPoint figures;
  // The first grid point is burn-in's end, two hours in.
  EXPECT_EQ(EngineAccess::AdvanceWith(engine, config.id, test::kLogStart + absl::Hours(1),
                                      figures)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      EngineAccess::AdvanceWith(engine, "nope", test::kLogStart + absl::Hours(2), figures)
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  figures.primary = {{}, {internal::Aggregate{1, 1, 1}}};  // epoch 1 is not begun
  EXPECT_EQ(EngineAccess::AdvanceWith(engine, config.id, test::kLogStart + absl::Hours(2),
                                      figures)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  figures.primary.clear();
  absl::StatusOr<std::vector<ReallocationReport>> reports = EngineAccess::AdvanceWith(
      engine, config.id, test::kLogStart + absl::Hours(2), figures);
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_FALSE((*reports)[0].reallocated);  // no units: burn-in holds
}

}  // namespace
}  // namespace allot
