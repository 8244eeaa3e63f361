// Copyright 2026 The allot Authors.
//
// End-to-end tests of `allot replay` on the shipped support-bot log: the
// three outputs, a snapshot part way and a restore giving exactly the
// uninterrupted run, and errors that name the line or file.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/cli_run.h"
#include "tests/scratch_files.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

const std::string kExperiment = SourcePath("examples/experiments/support-bot-model.toml");
const std::string kEvents = SourcePath("examples/events/support-bot-model.csv");

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Replays `events` into `out`, expecting success.
CliResult ReplayOk(const std::string& events, const std::string& out,
                   const std::vector<std::string>& extra, const std::string& dir) {
  std::vector<std::string> args = {"replay", "--experiment", kExperiment, "--events",
                                   events,   "--out",        out};
  args.insert(args.end(), extra.begin(), extra.end());
  CliResult r = RunCli(args, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  return r;
}

TEST(CliReplayTest, WritesReportsAssignmentsAndHistory) {
  const ScratchDir scratch("cli_replay_test");
  const std::string out = scratch.path() + "/out";
  const std::vector<std::string> rows = Lines(ReadBytes(kEvents));
  const int64_t num_rows = static_cast<int64_t>(rows.size()) - 1;  // header
  int64_t assign_rows = 0;
  for (const std::string& row : rows) assign_rows += absl::StrContains(row, ",assign,");
  ASSERT_GT(assign_rows, 1000);

  const CliResult r = ReplayOk(kEvents, out, {}, scratch.path());
  EXPECT_THAT(
      r.out, HasSubstr(absl::StrCat("replayed ", num_rows, " of ", num_rows, " events")));

  rapidjson::Document reports;
  reports.Parse(ReadBytes(out + "/reports.json").c_str());
  ASSERT_FALSE(reports.HasParseError());
  ASSERT_TRUE(reports.IsArray());
  ASSERT_GT(reports.Size(), 1u);
  int reallocated = 0;
  for (const rapidjson::Value& report : reports.GetArray()) {
    EXPECT_STREQ(report["experiment"].GetString(), "support-bot-model");
    for (const char* key :
         {"epoch", "time", "reallocated", "reason", "weights_before", "weights_after",
          "arms", "srm_p", "late_outcomes", "unknown_outcomes", "duplicate_outcomes",
          "holdout_units", "holdout_outcomes", "winner"}) {
      EXPECT_TRUE(report.HasMember(key)) << key;
    }
    reallocated += report["reallocated"].GetBool();
  }
  EXPECT_GT(reallocated, 0);

  // One line per assign row: unit, arm, epoch, propensity, holdout.
  const std::vector<std::string> assignments = Lines(ReadBytes(out + "/assignments.tsv"));
  ASSERT_EQ(static_cast<int64_t>(assignments.size()), assign_rows);
  for (const std::string& line : assignments) {
    ASSERT_EQ(std::vector<std::string>(absl::StrSplit(line, '\t')).size(), 5u) << line;
  }

  rapidjson::Document history;
  history.Parse(ReadBytes(out + "/history.json").c_str());
  ASSERT_FALSE(history.HasParseError());
  ASSERT_TRUE(history.HasMember("epochs"));
  EXPECT_EQ(history["epochs"].Size(), static_cast<rapidjson::SizeType>(reallocated + 1));
}

TEST(CliReplayTest, SnapshotThenRestoreEqualsOneUninterruptedRun) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  const std::string log = ReadBytes(kEvents);
  const std::vector<std::string> rows = Lines(log);
  // The header and the first half of the rows.
  std::string first_half;
  for (size_t i = 0; i <= (rows.size() - 1) / 2; ++i) {
    absl::StrAppend(&first_half, rows[i], "\n");
  }
  WriteBytes(dir + "/first.csv", first_half);

  ReplayOk(kEvents, dir + "/whole", {}, dir);
  ReplayOk(dir + "/first.csv", dir + "/first", {"--snapshot", dir + "/half.snapshot"},
           dir);
  const CliResult resumed =
      ReplayOk(kEvents, dir + "/rest", {"--restore", dir + "/half.snapshot"}, dir);
  const int64_t total = static_cast<int64_t>(rows.size()) - 1;
  const int64_t first = static_cast<int64_t>(Lines(first_half).size()) - 1;
  EXPECT_THAT(resumed.out,
              HasSubstr(absl::StrCat("replayed ", total - first, " of ", total)));

  const std::string whole_reports = ReadBytes(dir + "/whole/reports.json");
  ASSERT_GT(whole_reports.size(), 100u);
  EXPECT_TRUE(ReadBytes(dir + "/rest/reports.json") == whole_reports)
      << "reports.json differs from the uninterrupted run's";
  EXPECT_TRUE(ReadBytes(dir + "/rest/history.json") ==
              ReadBytes(dir + "/whole/history.json"))
      << "history.json differs from the uninterrupted run's";
  // The restored run writes the assignments of the rows after the snapshot:
  // with the first run's, exactly the uninterrupted run's.
  const std::string first_assignments = ReadBytes(dir + "/first/assignments.tsv");
  const std::string rest_assignments = ReadBytes(dir + "/rest/assignments.tsv");
  EXPECT_FALSE(first_assignments.empty());
  EXPECT_FALSE(rest_assignments.empty());
  EXPECT_TRUE(first_assignments + rest_assignments ==
              ReadBytes(dir + "/whole/assignments.tsv"))
      << "assignments of the two runs do not add up to the uninterrupted run's";
}

TEST(CliReplayTest, AMalformedRowIsRefusedNamingTheLine) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/bad.csv",
             "time,kind,unit,value,unit_start\n"
             "2026-01-01T00:00:00Z,assign,u1,,\n"
             "2026-01-01T00:01:00Z,teleport,u1,,\n");
  const CliResult r = RunCli({"replay", "--experiment", kExperiment, "--events",
                              dir + "/bad.csv", "--out", dir + "/out"},
                             dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("allot replay:"));
  EXPECT_THAT(r.err, HasSubstr(dir + "/bad.csv:3"));
}

TEST(CliReplayTest, RestoreFromAFileThatIsNotASnapshotIsRefused) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/junk.snapshot", "this is not a snapshot at all, not even close");
  const CliResult r = RunCli({"replay", "--experiment", kExperiment, "--events", kEvents,
                              "--out", dir + "/out", "--restore", dir + "/junk.snapshot"},
                             dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir + "/junk.snapshot"));
}

}  // namespace
}  // namespace allot::test
