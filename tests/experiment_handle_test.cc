// Copyright 2026 The allot Authors.
//
// ExperimentHandle: a router's handle answers, journals and fails exactly as
// the engine's calls by id, and answers NotFound once its experiment is
// deleted.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

ExperimentConfig Config() {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 2}, {"c", 1}};
  c.schedule.burn_in = absl::Hours(1);
  c.schedule.interval = absl::Minutes(30);
  c.schedule.conversion_window = absl::Minutes(10);
  c.schedule.min_units_per_arm = 5;
  return c;
}

// Drives two engines with the same events, one by id and one through a
// handle, and compares every answer, and the reports at the end.
TEST(ExperimentHandleTest, AnswersAsTheEngineByIdOverAStream) {
  Engine by_id;
  Engine by_handle;
  for (Engine* e : {&by_id, &by_handle}) {
    ASSERT_TRUE(e->CreateExperiment(Config()).ok());
    ASSERT_TRUE(e->Start("exp", kStart).ok());
  }
  absl::StatusOr<ExperimentHandle> handle = by_handle.Handle("exp");
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_EQ(handle->id(), "exp");
  for (int i = 0; i < 3000; ++i) {
    const absl::Time now = kStart + absl::Seconds(3 * i);
    const std::string unit = absl::StrCat("u", i % 700);
    const std::optional<absl::Time> start =
        i % 5 == 0 ? std::optional<absl::Time>(now - absl::Minutes(i % 40))
                   : std::nullopt;
    absl::StatusOr<Assignment> a = by_id.Assign("exp", unit, now, start);
    absl::StatusOr<Assignment> b = handle->Assign(unit, now, start);
    ASSERT_EQ(a.ok(), b.ok()) << i;
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->arm, b->arm) << i;
    EXPECT_EQ(a->epoch, b->epoch) << i;
    EXPECT_EQ(a->propensity, b->propensity) << i;
    if (i % 3 == 0) {
      const double value = (a->arm == 1) == (i % 2 == 0) ? 1 : 0;
      absl::StatusOr<OutcomeDisposition> x = by_id.RecordOutcome("exp", unit, now, value);
      absl::StatusOr<OutcomeDisposition> y = handle->RecordOutcome(unit, now, value);
      ASSERT_TRUE(x.ok() && y.ok());
      EXPECT_EQ(*x, *y) << i;
    }
    if (i % 200 == 0) {
      ASSERT_TRUE(by_id.Advance(now).ok());
      ASSERT_TRUE(by_handle.Advance(now).ok());
    }
  }
  // A batch through the handle answers as one through the engine.
  std::vector<std::string> units;
  for (int i = 0; i < 50; ++i) units.push_back(absl::StrCat("batch-", i % 40));
  std::vector<AssignRequest> requests;
  for (const std::string& u : units) {
    requests.push_back({u, kStart + absl::Hours(3), std::nullopt});
  }
  std::vector<absl::StatusOr<Assignment>> r1(requests.size()), r2(requests.size());
  ASSERT_TRUE(by_id.AssignBatch("exp", requests, absl::MakeSpan(r1)).ok());
  ASSERT_TRUE(handle->AssignBatch(requests, absl::MakeSpan(r2)).ok());
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(r1[i].ok() && r2[i].ok());
    EXPECT_EQ(r1[i]->arm, r2[i]->arm);
  }
  ASSERT_TRUE(by_id.Advance(kStart + absl::Hours(4)).ok());
  ASSERT_TRUE(by_handle.Advance(kStart + absl::Hours(4)).ok());
  EXPECT_EQ(ReportsToJson(*by_id.Reports("exp")),
            ReportsToJson(*by_handle.Reports("exp")));
  EXPECT_GT(by_id.Reports("exp")->size(), 4u);
}

TEST(ExperimentHandleTest, GivesTheEnginesErrors) {
  Engine engine;
  EXPECT_EQ(engine.Handle("nope").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(engine.CreateExperiment(Config()).ok());
  absl::StatusOr<ExperimentHandle> handle = engine.Handle("exp");
  ASSERT_TRUE(handle.ok());
  // Not started yet: as Engine::Assign.
  EXPECT_EQ(handle->Assign("u", kStart).status(),
            engine.Assign("exp", "u", kStart).status());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  EXPECT_EQ(handle->Assign("", kStart).status(),
            engine.Assign("exp", "", kStart).status());
  EXPECT_EQ(handle->RecordOutcome("u", kStart, 2).status(),
            engine.RecordOutcome("exp", "u", kStart, 2).status());
  EXPECT_EQ(*engine.OpenUnits("exp"), 0);
}

TEST(ExperimentHandleTest, AnswersNotFoundOnceDeletedAndChangesNothing) {
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(Config()).ok());
  ASSERT_TRUE(engine.Start("exp", kStart).ok());
  absl::StatusOr<ExperimentHandle> handle = engine.Handle("exp");
  ASSERT_TRUE(handle.ok());
  ExperimentHandle copy = *handle;  // handles are values
  ASSERT_TRUE(copy.Assign("u1", kStart).ok());
  ASSERT_TRUE(engine.Delete("exp").ok());
  const std::string final_report = ReportsToJson(*engine.Reports("exp"));
  for (const absl::Status& s : {handle->Assign("u2", kStart).status(),
                                handle->RecordOutcome("u1", kStart, 1).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(s.message(), HasSubstr("\"exp\""));
  }
  std::vector<AssignRequest> requests = {{"u3", kStart, std::nullopt}};
  std::vector<absl::StatusOr<Assignment>> results(1);
  EXPECT_EQ(handle->AssignBatch(requests, absl::MakeSpan(results)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReportsToJson(*engine.Reports("exp")), final_report);
  // A new experiment of the same id is refused (the final report keeps it).
  EXPECT_EQ(engine.CreateExperiment(Config()).code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace allot
