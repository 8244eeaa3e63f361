// Copyright 2026 The allot Authors.
//
// End-to-end tests of `allot replay` on the shipped support-bot log: the
// three outputs, a snapshot part way and a restore giving exactly the
// uninterrupted run, and errors that name the line or file.

#include <filesystem>
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
          "holdout_units", "holdout_outcomes", "winner", "guardrails"}) {
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

// A three-arm experiment and a small log of it, for the restore checks.
constexpr char kThreeArms[] = R"toml(id = "three"
[[arms]]
id = "a"
[[arms]]
id = "b"
[[arms]]
id = "c"
)toml";

std::string SmallLog(int rows) {
  std::string log = "time,kind,unit,value,unit_start\n";
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&log, "2026-01-01T00:", i < 10 ? "0" : "", i, ":00Z,assign,u", i,
                    ",,\n");
  }
  return log;
}

// Before: fewer arms crashed (SIGSEGV), reordered arms exited 0 naming the
// wrong arm on every row.
TEST(CliReplayTest, RestoreRefusesAnExperimentFileThatDiffersFromTheSnapshot) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/three.toml", kThreeArms);
  WriteBytes(dir + "/first.csv", SmallLog(10));
  WriteBytes(dir + "/all.csv", SmallLog(20));
  CliResult r = RunCli(
      {"replay", "--experiment", dir + "/three.toml", "--events", dir + "/first.csv",
       "--out", dir + "/first", "--snapshot", dir + "/s.snapshot"},
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  struct Case {
    std::string toml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"id = \"three\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n",
       "the number of arms is 2 in the experiment file but 3 in the snapshot"},
      {"id = \"three\"\n[[arms]]\nid = \"c\"\n[[arms]]\nid = \"b\"\n[[arms]]\nid = "
       "\"a\"\n",
       "arms[0].id is \"c\" in the experiment file but \"a\" in the snapshot"},
      {absl::StrCat(kThreeArms, "[policy]\nfloor = 0.2\n"),
       "policy.floor is 0.2 in the experiment file but 0.01 in the snapshot"},
      {absl::StrCat(kThreeArms, "[estimate]\nmethod = \"pooled\"\n"),
       "estimate.method is pooled in the experiment file but epoch_adjusted in the "
       "snapshot"},
      {absl::StrCat(kThreeArms, "[estimate]\nhalf_life = \"3h\"\n"),
       "estimate.half_life is 3h in the experiment file but 0 in the snapshot"},
      {absl::StrCat(kThreeArms, "[schedule]\nretention = \"3h\"\n"),
       "schedule.retention is 3h in the experiment file but unset in the snapshot"},
      {absl::StrCat("surface = \"bot\"\n", kThreeArms),
       "surface is \"bot\" in the experiment file but \"\" in the snapshot"},
      {absl::StrCat(kThreeArms, "config = { model = \"m-2\" }\n"),
       R"(arms[2].config is "{\"model\":\"m-2\"}" in the experiment file but "" in )"
       R"(the snapshot)"},
  };
  for (const Case& c : cases) {
    WriteBytes(dir + "/other.toml", c.toml);
    r = RunCli(
        {"replay", "--experiment", dir + "/other.toml", "--events", dir + "/all.csv",
         "--out", dir + "/rest", "--restore", dir + "/s.snapshot"},
        dir);
    EXPECT_EQ(r.exit_code, 1) << c.toml << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_FALSE(std::filesystem::exists(dir + "/rest/assignments.tsv"));
  }
  // The same file restores, and rows name the snapshot's arms.
  r = RunCli({"replay", "--experiment", dir + "/three.toml", "--events", dir + "/all.csv",
              "--out", dir + "/rest", "--restore", dir + "/s.snapshot"},
             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& line : Lines(ReadBytes(dir + "/rest/assignments.tsv"))) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 5u);
    EXPECT_THAT(f[1], ::testing::AnyOf("a", "b", "c"));
  }
}

TEST(CliReplayTest, UnitsAreEscapedInAssignmentsAndRefusedWhenTheyHoldATab) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/three.toml", kThreeArms);
  WriteBytes(dir + "/e.csv",
             "time,kind,unit,value,unit_start\n"
             "2026-01-01T00:00:00Z,assign,u\x01x\\y\xff,,\n");
  CliResult r = RunCli({"replay", "--experiment", dir + "/three.toml", "--events",
                        dir + "/e.csv", "--out", dir + "/out"},
                       dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(ReadBytes(dir + "/out/assignments.tsv"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], ::testing::StartsWith("u\\x01x\\\\y\\xff\t"));
}

// A write that fails midway (the file size limit: EFBIG, as a full disk's
// ENOSPC) leaves no output, names the system's reason, and exits 1.
TEST(CliReplayTest, AFailedWriteLeavesNoOutputAndSaysWhy) {
  const ScratchDir scratch("cli_replay_test");
  const std::string& dir = scratch.path();
  const CliResult r = RunCli(
      {"replay", "--experiment", kExperiment, "--events", kEvents, "--out", dir + "/out"},
      dir, {.stdin_bytes = "", .file_size_blocks = 64});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("File too large"));
  EXPECT_THAT(r.err, HasSubstr("no output was written"));
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/out")) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

TEST(CliReplayTest, OutcomesOfGuardrailsReplayFromTheMetricColumn) {
  const ScratchDir scratch("cli_replay_metric_test");
  const std::string experiment = scratch.path() + "/exp.toml";
  WriteBytes(experiment,
             "id = \"exp\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n"
             "[schedule]\nburn_in = \"1h\"\ninterval = \"1h\"\n"
             "conversion_window = \"10m\"\nmin_units_per_arm = 0\n"
             "[[guardrails]]\nid = \"errors\"\nkind = \"binary\"\n"
             "direction = \"lower\"\nrelative_harm = 0.5\n");
  std::string events = "time,kind,unit,value,unit_start,metric\n";
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&events, "2026-01-01T00:", 10 + i, ":00Z,assign,u", i, ",,,\n");
    absl::StrAppend(&events, "2026-01-01T00:", 10 + i, ":30Z,outcome,u", i,
                    ",1,,errors\n");
    if (i % 2 == 0) {
      absl::StrAppend(&events, "2026-01-01T00:", 10 + i, ":40Z,outcome,u", i, ",1,,\n");
    }
  }
  absl::StrAppend(&events, "2026-01-01T01:20:00Z,advance,,,,\n");  // burn-in ends 01:10
  WriteBytes(scratch.path() + "/e.csv", events);
  const CliResult r =
      RunCli({"replay", "--experiment", experiment, "--events", scratch.path() + "/e.csv",
              "--out", scratch.path() + "/out"},
             scratch.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document reports;
  reports.Parse(ReadBytes(scratch.path() + "/out/reports.json").c_str());
  ASSERT_FALSE(reports.HasParseError());
  ASSERT_GE(reports.Size(), 1u);
  // Every unit erred and half converted: the guardrail's mean is 1 on both
  // arms, the primary's 0.5 over both.
  const rapidjson::Value& errors = reports[0]["guardrails"]["errors"]["arms"];
  EXPECT_EQ(errors["a"]["mean"].GetDouble(), 1.0);
  EXPECT_EQ(errors["b"]["mean"].GetDouble(), 1.0);
  const rapidjson::Value& arms = reports[0]["arms"];
  EXPECT_EQ(arms["a"]["outcomes"].GetDouble() + arms["b"]["outcomes"].GetDouble(), 20.0);
}

// A warehouse log with arm changes replays: add_arm (the arm in `unit`, an
// optional initial share in `value`) and retire_arm (the mode in `value`).
TEST(CliReplayTest, ArmChangesReplayFromTheLog) {
  const ScratchDir scratch("cli_replay_arms_test");
  const std::string experiment = scratch.path() + "/exp.toml";
  WriteBytes(experiment,
             "id = \"exp\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n"
             "[policy]\nkind = \"fixed\"\n"
             "[schedule]\nburn_in = \"1h\"\ninterval = \"1h\"\n"
             "conversion_window = \"10m\"\nmin_units_per_arm = 0\n");
  std::string events = "time,kind,unit,value,unit_start\n";
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(&events, "2026-01-01T00:", 10 + i, ":00Z,assign,u", i, ",,\n");
    if (i == 10) absl::StrAppend(&events, "2026-01-01T00:20:01Z,add_arm,c,0.5,\n");
    if (i == 20) absl::StrAppend(&events, "2026-01-01T00:30:01Z,retire_arm,a,now,\n");
  }
  WriteBytes(scratch.path() + "/e.csv", events);
  const std::string out = scratch.path() + "/out";
  const CliResult r = RunCli({"replay", "--experiment", experiment, "--events",
                              scratch.path() + "/e.csv", "--out", out},
                             scratch.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 epochs"));
  rapidjson::Document history;
  history.Parse(ReadBytes(out + "/history.json").c_str());
  ASSERT_FALSE(history.HasParseError());
  EXPECT_EQ(history["format"].GetInt(), 2);
  ASSERT_EQ(history["arms"].Size(), 3u);
  EXPECT_STREQ(history["arms"][2]["id"].GetString(), "c");
  EXPECT_STREQ(history["arms"][0]["retire"].GetString(), "now");
  // Units after the retirement never get a; some get the new arm c.
  int on_c = 0;
  for (const std::string& line : Lines(ReadBytes(out + "/assignments.tsv"))) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f[0] == "unit" || f[0].size() < 2) continue;
    const int i = std::stoi(f[0].substr(1));
    if (i > 20) {
      EXPECT_NE(f[1], "a") << line;
    }
    on_c += f[1] == "c";
  }
  EXPECT_GT(on_c, 0);
  // Bad rows name the line and the problem.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"2026-01-01T00:20:01Z,add_arm,c,1.5,\n", "initial share in (0, 1), got \"1.5\""},
      {"2026-01-01T00:20:01Z,retire_arm,a,later,\n",
       "must be drain or now, got \"later\""},
      {"2026-01-01T00:20:01Z,retire_arm,zz,now,\n", "unknown arm \"zz\""},
      {"2026-01-01T00:20:01Z,add_arm,a,,\n", "arm \"a\" already is in"},
      {"2026-01-01T00:20:01Z,add_arm,c,,2026-01-01T00:00:00Z\n",
       "unit_start must be empty for add_arm rows"},
  };
  for (const auto& [row, message] : bad) {
    WriteBytes(
        scratch.path() + "/bad.csv",
        "time,kind,unit,value,unit_start\n2026-01-01T00:10:00Z,assign,u1,,\n" + row);
    const CliResult b = RunCli({"replay", "--experiment", experiment, "--events",
                                scratch.path() + "/bad.csv", "--out", out + "2"},
                               scratch.path());
    EXPECT_NE(b.exit_code, 0) << row;
    EXPECT_THAT(b.err, HasSubstr(message)) << row;
    EXPECT_THAT(b.err, HasSubstr("bad.csv:3")) << row;
  }
}

TEST(CliReplayTest, BadInputTable) {
  const std::string kHeader = "time,kind,unit,value,unit_start\n";
  const std::string kRow = "2026-01-01T00:00:00Z,assign,u1,,\n";
  const std::vector<std::string> replay = {"replay",   "--experiment", kExperiment,
                                           "--events", "$DIR/e.csv",   "--out",
                                           "$DIR/out"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = replay;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  std::string cr_only = "time,kind,unit,value,unit_start\r";
  for (int i = 0; i < 100000; ++i) cr_only += "2026-01-01T00:00:00Z,assign,u1,,\r";
  std::string nested(150000, '[');
  const std::vector<BadInputCase> cases = {
      {"unknown option",
       with({"--bogus"}),
       {{"$DIR/e.csv", kHeader + kRow}},
       "",
       2,
       "--bogus"},
      {"missing --out",
       {"replay", "--experiment", kExperiment, "--events", "$DIR/e.csv"},
       {{"$DIR/e.csv", kHeader + kRow}},
       "",
       2,
       "--out"},
      {"events is a directory",
       with({}),
       {{"$DIR/e.csv/", ""}},
       "",
       1,
       "e.csv is a directory"},
      {"missing events", with({}), {}, "", 1, "No such file or directory"},
      {"empty events", with({}), {{"$DIR/e.csv", ""}}, "", 1, "empty file"},
      {"byte-order mark and a bad header",
       with({}),
       {{"$DIR/e.csv", "\xef\xbb\xbftime,kind\n"}},
       "",
       1,
       "got \"time,kind\""},
      {"CR-only line ends",
       with({}),
       {{"$DIR/e.csv", cr_only}},
       "",
       1,
       "lines seem to end with CR alone"},
      {"junk in value of assign",
       with({}),
       {{"$DIR/e.csv", kHeader + "2026-01-01T00:00:00Z,assign,u1,7,\n"}},
       "",
       1,
       "e.csv:2: value must be empty for assign rows, got \"7\""},
      {"junk in unit_start of outcome",
       with({}),
       {{"$DIR/e.csv", kHeader + kRow + "2026-01-01T00:01:00Z,outcome,u1,1,x\n"}},
       "",
       1,
       "e.csv:3: unit_start must be empty for outcome rows"},
      {"junk in unit of advance",
       with({}),
       {{"$DIR/e.csv", kHeader + kRow + "2026-01-01T00:01:00Z,advance,u1,,\n"}},
       "",
       1,
       "e.csv:3: unit must be empty for advance rows"},
      {"unit_start after the row",
       with({}),
       {{"$DIR/e.csv",
         kHeader + "2026-01-01T00:00:00Z,assign,u1,,2026-01-02T00:00:00Z\n"}},
       "",
       1,
       "unit_start 2026-01-02T00:00:00Z must not be after the row's time"},
      {"metric on an assign row",
       with({}),
       {{"$DIR/e.csv",
         "time,kind,unit,value,unit_start,metric\n"
         "2026-01-01T00:00:00Z,assign,u1,,,errors\n"}},
       "",
       1,
       "e.csv:2: metric must be empty for assign rows, got \"errors\""},
      {"row without the metric column",
       with({}),
       {{"$DIR/e.csv", "time,kind,unit,value,unit_start,metric\n" + kRow}},
       "",
       1,
       "e.csv:2: expected 6 fields (time,kind,unit,value,unit_start,metric), got 5"},
      {"unknown metric",
       with({}),
       {{"$DIR/e.csv",
         "time,kind,unit,value,unit_start,metric\n"
         "2026-01-01T00:00:00Z,assign,u1,,,\n"
         "2026-01-01T00:01:00Z,outcome,u1,1,,errors\n"}},
       "",
       1,
       "metric \"errors\" is not one of this experiment's"},
      {"hex value",
       with({}),
       {{"$DIR/e.csv", kHeader + kRow + "2026-01-01T00:01:00Z,outcome,u1,0x1,\n"}},
       "",
       1,
       "value must be a plain decimal number like 1 or 0.25, got \"0x1\""},
      {"nan value",
       with({}),
       {{"$DIR/e.csv", kHeader + kRow + "2026-01-01T00:01:00Z,outcome,u1,nan,\n"}},
       "",
       1,
       "got \"nan\""},
      {"tab in unit",
       with({}),
       {{"$DIR/e.csv", kHeader + "2026-01-01T00:00:00Z,assign,u\t1,,\n"}},
       "",
       1,
       "holds a tab at offset 1"},
      {"long kind is cut",
       with({}),
       {{"$DIR/e.csv",
         kHeader + "2026-01-01T00:00:00Z," + std::string(100000, 'k') + ",u1,,\n"}},
       "",
       1,
       "...\" (100000 bytes)"},
      {"restore from a directory",
       with({"--restore", "$DIR"}),
       {{"$DIR/e.csv", kHeader + kRow}},
       "",
       1,
       "$DIR"},
      {"nested JSON is not a snapshot either",
       with({"--restore", "$DIR/n.json"}),
       {{"$DIR/e.csv", kHeader + kRow}, {"$DIR/n.json", nested}},
       "",
       1,
       "n.json"},
  };
  RunBadInputTable(cases);
}

}  // namespace
}  // namespace allot::test
