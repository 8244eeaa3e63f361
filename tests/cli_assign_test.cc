// Copyright 2026 The allot Authors.
//
// End-to-end tests of `allot assign`: the real binary, real files, real
// standard input and output.

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/cli_run.h"

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kExperiment[] = R"toml(id = "cli-exp"
unit = "user"
[[arms]]
id = "small"
weight = 1
[[arms]]
id = "large"
weight = 1
)toml";

// Epoch 0 splits evenly; epoch 1 moves 40% of all units from small to large.
constexpr char kHistory[] =
    R"json({"format": 1, "experiment": "cli-exp", "salt": "cli-exp",
 "epochs": [
   {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large": 0.5}},
   {"epoch": 1, "start": "2026-01-02T06:00:00Z", "weights": {"small": 0.1, "large": 0.9}}]}
)json";

constexpr char kInEpoch0[] = "2026-01-01T12:00:00Z";
constexpr char kInEpoch1[] = "2026-01-03T00:00:00Z";
constexpr char kBeforeEpoch0[] = "2025-06-01T00:00:00+02:00";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// One output line of `allot assign`.
struct Line {
  std::string unit;
  std::string arm;
  int64_t epoch = -1;
  double propensity = -1;
  int holdout = -1;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Parses `allot assign` output, failing the test on any malformed line.
std::vector<Line> ParseOutput(const std::string& out) {
  std::vector<Line> lines;
  EXPECT_TRUE(out.empty() || out.back() == '\n');
  for (absl::string_view text : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(text, '\t');
    EXPECT_EQ(f.size(), 5u) << text;
    if (f.size() != 5) continue;
    Line line;
    line.unit = f[0];
    line.arm = f[1];
    EXPECT_TRUE(absl::SimpleAtoi(f[2], &line.epoch)) << text;
    EXPECT_TRUE(absl::SimpleAtod(f[3], &line.propensity)) << text;
    EXPECT_TRUE(f[4] == "0" || f[4] == "1") << text;
    line.holdout = f[4] == "1" ? 1 : 0;
    lines.push_back(line);
  }
  return lines;
}

std::string Units(int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) absl::StrAppend(&text, "user-", i, "\n");
  return text;
}

class CliAssignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(::testing::TempDir(), "/cli_assign_test/",
                        info->test_suite_name(), ".", info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `contents` to a file in this test's directory; returns its path.
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream out(path, std::ios::binary);
    out << contents;
    return path;
  }

  // Runs `allot assign ARGS` with `input` on standard input.
  CliResult Assign(const std::vector<std::string>& args, const std::string& input) {
    const std::string in = Write("stdin.txt", input);
    const std::string out = absl::StrCat(dir_, "/stdout.txt");
    const std::string err = absl::StrCat(dir_, "/stderr.txt");
    std::string command = absl::StrCat("'", ALLOT_CLI_PATH, "' assign");
    for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
    absl::StrAppend(&command, " < '", in, "' > '", out, "' 2> '", err, "'");
    const int status = std::system(command.c_str());
    CliResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadAll(out);
    result.err = ReadAll(err);
    return result;
  }

  // Runs and expects success with one output line per input line.
  std::vector<Line> AssignOk(const std::vector<std::string>& args,
                             const std::string& input) {
    CliResult r = Assign(args, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, IsEmpty());
    std::vector<Line> lines = ParseOutput(r.out);
    EXPECT_EQ(lines.size(),
              static_cast<size_t>(std::count(input.begin(), input.end(), '\n')));
    return lines;
  }

  // Runs and expects a failure with a message on stderr containing `what`.
  void ExpectFailure(const std::vector<std::string>& args, const std::string& input,
                     const std::string& what) {
    CliResult r = Assign(args, input);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr(what));
  }

  std::string ExperimentFile() { return Write("exp.toml", kExperiment); }
  std::string HistoryFile() { return Write("history.json", kHistory); }

  std::string dir_;
};

TEST_F(CliAssignTest, PrintsOneTabSeparatedLinePerUnit) {
  const std::string input = "user-1\nuser-2\nconv-7f3a9c\nuser-1\n";
  CliResult r = Assign({"--experiment", ExperimentFile()}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Line> lines = ParseOutput(r.out);
  ASSERT_EQ(lines.size(), 4u);
  const std::vector<std::string> units = {"user-1", "user-2", "conv-7f3a9c", "user-1"};
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].unit, units[i]);
    EXPECT_THAT(lines[i].arm, ::testing::AnyOf("small", "large"));
    EXPECT_EQ(lines[i].epoch, 0);
    EXPECT_EQ(lines[i].propensity, 0.5);
    EXPECT_EQ(lines[i].holdout, 0);
  }
  EXPECT_EQ(lines[0].arm, lines[3].arm);
  // The exact text: unit<TAB>arm<TAB>epoch<TAB>propensity<TAB>holdout.
  EXPECT_THAT(r.out, ::testing::StartsWith(
                         absl::StrCat("user-1\t", lines[0].arm, "\t0\t0.5\t0\n")));
}

TEST_F(CliAssignTest, AcceptsCrLfLineEnds) {
  const std::string exp = ExperimentFile();
  std::vector<Line> unix_ends = AssignOk({"--experiment", exp}, "user-1\nuser-2\n");
  std::vector<Line> crlf = AssignOk({"--experiment", exp}, "user-1\r\nuser-2\r\n");
  ASSERT_EQ(crlf.size(), 2u);
  ASSERT_EQ(unix_ends.size(), 2u);
  for (size_t i = 0; i < crlf.size(); ++i) {
    EXPECT_EQ(crlf[i].unit, unix_ends[i].unit);
    EXPECT_EQ(crlf[i].arm, unix_ends[i].arm);
  }
}

TEST_F(CliAssignTest, SameInputGivesIdenticalOutput) {
  const std::string exp = ExperimentFile();
  const std::string history = HistoryFile();
  const std::string input = Units(0, 2000);
  CliResult first = Assign({"--experiment", exp, "--history", history}, input);
  CliResult second = Assign({"--experiment", exp, "--history", history}, input);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
  // Each line depends on its unit alone, not on what came before it.
  CliResult alone = Assign({"--experiment", exp, "--history", history}, "user-1999\n");
  EXPECT_TRUE(absl::EndsWith(first.out, alone.out)) << alone.out;
}

TEST_F(CliAssignTest, SplitsRoughlyByWeight) {
  std::vector<Line> lines = AssignOk({"--experiment", ExperimentFile()}, Units(0, 10000));
  int small = 0;
  for (const Line& l : lines) small += l.arm == "small";
  // Binomial(10000, 0.5): sd = 50; 5 sigma = 250.
  EXPECT_NEAR(small, 5000, 250);
}

TEST_F(CliAssignTest, HistoryUsesTheLatestEpoch) {
  std::vector<Line> lines = AssignOk(
      {"--experiment", ExperimentFile(), "--history", HistoryFile()}, Units(0, 1000));
  int small = 0;
  for (const Line& l : lines) {
    EXPECT_EQ(l.epoch, 1);
    EXPECT_EQ(l.propensity, l.arm == "small" ? 0.1 : 0.9) << l.unit;
    small += l.arm == "small";
  }
  // Binomial(1000, 0.1): sd = 9.5; 5 sigma < 48.
  EXPECT_NEAR(small, 100, 48);
}

TEST_F(CliAssignTest, AtUsesTheEpochInForceThen) {
  const std::string exp = ExperimentFile();
  const std::string history = HistoryFile();
  const std::string input = Units(0, 200);
  const std::vector<Line> latest =
      AssignOk({"--experiment", exp, "--history", history}, input);
  for (const char* at : {kInEpoch0, "2026-01-01T00:00:00Z", kBeforeEpoch0}) {
    SCOPED_TRACE(at);
    for (const Line& l :
         AssignOk({"--experiment", exp, "--history", history, "--at", at}, input)) {
      EXPECT_EQ(l.epoch, 0);
      EXPECT_EQ(l.propensity, 0.5);
    }
  }
  const std::vector<Line> at_start = AssignOk(
      {"--experiment", exp, "--history", history, "--at", "2026-01-02T06:00:00Z"}, input);
  const std::vector<Line> later =
      AssignOk({"--experiment", exp, "--history", history, "--at", kInEpoch1}, input);
  ASSERT_EQ(at_start.size(), latest.size());
  ASSERT_EQ(later.size(), latest.size());
  for (size_t i = 0; i < latest.size(); ++i) {
    EXPECT_EQ(at_start[i].epoch, 1);
    EXPECT_EQ(at_start[i].arm, latest[i].arm);
    EXPECT_EQ(later[i].arm, latest[i].arm);
  }
}

TEST_F(CliAssignTest, UnitStartPinsUnitsToTheirEpoch) {
  const std::string exp = ExperimentFile();
  const std::string history = HistoryFile();
  const std::string input = Units(0, 200);
  const std::vector<Line> epoch0 =
      AssignOk({"--experiment", exp, "--history", history, "--at", kInEpoch0}, input);
  const std::vector<Line> epoch1 =
      AssignOk({"--experiment", exp, "--history", history}, input);
  ASSERT_EQ(epoch0.size(), 200u);
  ASSERT_EQ(epoch1.size(), 200u);
  // A unit whose bucket moved at epoch 1 (40% of units do).
  std::string moved;
  for (size_t i = 0; i < epoch0.size() && moved.empty(); ++i) {
    if (epoch0[i].arm != epoch1[i].arm) moved = epoch0[i].unit;
  }
  ASSERT_FALSE(moved.empty()) << "no unit of 200 moved; 40% should";
  const auto arm_in = [&](const std::vector<Line>& lines) {
    for (const Line& l : lines) {
      if (l.unit == moved) return l.arm;
    }
    return std::string();
  };

  const std::string starts =
      absl::StrCat(moved, "\t", kInEpoch0, "\n", moved, "\t", kInEpoch1, "\n", moved,
                   "\t", kBeforeEpoch0, "\n");
  std::vector<Line> pinned =
      AssignOk({"--experiment", exp, "--history", history, "--unit-start"}, starts);
  ASSERT_EQ(pinned.size(), 3u);
  // Started in epoch 0: keeps its epoch-0 arm although its bucket moved.
  EXPECT_EQ(pinned[0].unit, moved);
  EXPECT_EQ(pinned[0].arm, arm_in(epoch0));
  EXPECT_EQ(pinned[0].epoch, 0);
  EXPECT_EQ(pinned[0].propensity, 0.5);
  // Started in epoch 1: the epoch-1 arm.
  EXPECT_EQ(pinned[1].arm, arm_in(epoch1));
  EXPECT_NE(pinned[1].arm, pinned[0].arm);
  EXPECT_EQ(pinned[1].epoch, 1);
  // Started before the first epoch: epoch 0.
  EXPECT_EQ(pinned[2].arm, arm_in(epoch0));
  EXPECT_EQ(pinned[2].epoch, 0);

  // Every unit started in epoch 0 gets exactly its epoch-0 answer.
  std::string all;
  for (const Line& l : epoch0) absl::StrAppend(&all, l.unit, "\t", kInEpoch0, "\n");
  std::vector<Line> all_pinned =
      AssignOk({"--experiment", exp, "--history", history, "--unit-start"}, all);
  ASSERT_EQ(all_pinned.size(), epoch0.size());
  for (size_t i = 0; i < epoch0.size(); ++i) {
    EXPECT_EQ(all_pinned[i].arm, epoch0[i].arm) << epoch0[i].unit;
    EXPECT_EQ(all_pinned[i].epoch, 0);
  }
}

TEST_F(CliAssignTest, HoldoutShareAndBaseline) {
  const std::string exp = Write("holdout.toml", R"toml(id = "cli-holdout"
holdout = 0.2
baseline = "large"
[[arms]]
id = "small"
[[arms]]
id = "large"
)toml");
  constexpr int kUnits = 20000;
  std::vector<Line> lines = AssignOk({"--experiment", exp}, Units(0, kUnits));
  ASSERT_EQ(lines.size(), static_cast<size_t>(kUnits));
  int held = 0, small = 0;
  for (const Line& l : lines) {
    if (l.holdout == 1) {
      ++held;
      EXPECT_EQ(l.arm, "large") << l.unit;
      EXPECT_EQ(l.propensity, 1.0) << l.unit;
    } else {
      EXPECT_EQ(l.propensity, 0.5) << l.unit;
      small += l.arm == "small";
    }
    EXPECT_EQ(l.epoch, 0);
  }
  // Holdout count ~ Binomial(20000, 0.2): mean 4000, sd = sqrt(20000 * 0.2 *
  // 0.8) = 56.6; a fixed input and a 5-sigma bound (283) make a false failure
  // practically impossible while a wrong share (e.g. 0.18 or 0.22) fails.
  EXPECT_NEAR(held, 4000, 283);
  // The bandit's units still split evenly: Binomial(~16000, 0.5), sd ~ 63.
  EXPECT_NEAR(small, (kUnits - held) / 2.0, 5 * 64);
}

TEST_F(CliAssignTest, ShippedExamplesWork) {
  const std::string root = ALLOT_SOURCE_DIR;
  const std::string exp = root + "/examples/experiments/support-bot-model.toml";
  const std::string history = root + "/examples/histories/support-bot-model.json";
  const std::string starts = ReadAll(root + "/examples/units/sample-starts.tsv");
  ASSERT_FALSE(starts.empty());
  std::vector<Line> lines =
      AssignOk({"--experiment", exp, "--history", history, "--unit-start"}, starts);
  std::map<int64_t, int> per_epoch;
  for (const Line& l : lines) {
    ++per_epoch[l.epoch];
    EXPECT_THAT(l.arm, ::testing::AnyOf("small", "large"));
    if (l.holdout == 1) {
      EXPECT_EQ(l.arm, "small");
    }
  }
  EXPECT_GE(lines.size(), 10u);
  EXPECT_EQ(per_epoch.size(), 3u) << "sample starts should cover all 3 epochs";
  // And the plain form with the shipped prompt-variants experiment.
  std::vector<Line> plain =
      AssignOk({"--experiment", root + "/examples/experiments/prompt-variants.toml"},
               Units(0, 30));
  for (const Line& l : plain) EXPECT_NEAR(l.propensity, 1.0 / 3, 1e-15);
}

// --- Errors -------------------------------------------------------------------

TEST_F(CliAssignTest, MissingExperimentFile) {
  ExpectFailure({"--experiment", dir_ + "/nope.toml"}, "user-1\n", "nope.toml");
}

TEST_F(CliAssignTest, MissingExperimentFlag) {
  CliResult r = Assign({}, "user-1\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--experiment"));
}

TEST_F(CliAssignTest, BadToml) {
  const std::string exp = Write("bad.toml", "id = \"x\"\n[[arms]\nid = \"a\"\n");
  ExpectFailure({"--experiment", exp}, "user-1\n", "bad.toml:2:");
  const std::string invalid =
      Write("invalid.toml", "id = \"x\"\n[[arms]]\nid = \"a\"\nweight = -2\n");
  ExpectFailure({"--experiment", invalid}, "user-1\n", "invalid.toml:");
}

TEST_F(CliAssignTest, HistoryOfAnotherExperiment) {
  std::string other = kHistory;
  other.replace(other.find("\"experiment\": \"cli-exp\""),
                std::string("\"experiment\": \"cli-exp\"").size(),
                "\"experiment\": \"other-exp\"");
  ExpectFailure(
      {"--experiment", ExperimentFile(), "--history", Write("other.json", other)},
      "user-1\n", "experiment \"other-exp\" does not match");
}

TEST_F(CliAssignTest, HistoryWithOtherArms) {
  std::string other = kHistory;
  for (size_t at; (at = other.find("\"large\"")) != std::string::npos;) {
    other.replace(at, 7, "\"huge\"");
  }
  ExpectFailure(
      {"--experiment", ExperimentFile(), "--history", Write("arms.json", other)},
      "user-1\n", "unknown arm \"huge\"");
}

TEST_F(CliAssignTest, HistoryWithMismatchedSalt) {
  std::string salted = kHistory;
  salted.replace(salted.find("\"salt\": \"cli-exp\""),
                 std::string("\"salt\": \"cli-exp\"").size(), "\"salt\": \"cli-exp-v2\"");
  ExpectFailure(
      {"--experiment", ExperimentFile(), "--history", Write("salted.json", salted)},
      "user-1\n", "salt \"cli-exp-v2\" does not match");
}

TEST_F(CliAssignTest, MalformedHistoryJson) {
  const std::string history = Write("broken.json", "{\"format\": 1, \"epochs\": [");
  ExpectFailure({"--experiment", ExperimentFile(), "--history", history}, "user-1\n",
                "broken.json: allocation history: malformed JSON");
}

TEST_F(CliAssignTest, MissingHistoryFile) {
  ExpectFailure({"--experiment", ExperimentFile(), "--history", dir_ + "/absent.json"},
                "user-1\n", "absent.json");
}

TEST_F(CliAssignTest, EmptyUnitLineNamesIt) {
  ExpectFailure({"--experiment", ExperimentFile()}, "user-1\n\nuser-3\n",
                "stdin:2: unit must not be empty");
}

TEST_F(CliAssignTest, BadUnitStartLine) {
  const std::string exp = ExperimentFile();
  const std::string history = HistoryFile();
  ExpectFailure({"--experiment", exp, "--history", history, "--unit-start"}, "user-1\n",
                "stdin:1:");
  ExpectFailure({"--experiment", exp, "--history", history, "--unit-start"},
                absl::StrCat("user-1\t", kInEpoch0, "\nuser-2\tlast tuesday\n"),
                "stdin:2: unit start must be an RFC 3339 time");
  ExpectFailure({"--experiment", exp, "--history", history, "--unit-start"},
                absl::StrCat("user-1\t", kInEpoch0, "\textra\n"), "stdin:1:");
  ExpectFailure({"--experiment", exp, "--history", history, "--unit-start"},
                absl::StrCat("\t", kInEpoch0, "\n"), "stdin:1: unit must not be empty");
}

TEST_F(CliAssignTest, BadAt) {
  ExpectFailure({"--experiment", ExperimentFile(), "--at", "tomorrow"}, "user-1\n",
                "--at must be an RFC 3339 time");
}

// A bad line stops the run; the lines before it were printed whole, and the
// error says so.
TEST_F(CliAssignTest, ABadLineStopsTheRunAndSaysWhatWasPrinted) {
  CliResult r =
      Assign({"--experiment", ExperimentFile()}, "user-1\nuser-2\nu\t3\nuser-4\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ParseOutput(r.out).size(), 2u);
  EXPECT_THAT(r.err, HasSubstr("stdin:3: unit \"u\\x093\" holds a tab at offset 1"));
  EXPECT_THAT(r.err, HasSubstr("2 line(s) before it were assigned and printed"));
}

// Units are opaque bytes, but what TSV cannot hold is escaped: a control
// byte, a backslash and a byte that is not UTF-8.
TEST_F(CliAssignTest, UnitsAreEscapedInTheOutput) {
  CliResult r = Assign({"--experiment", ExperimentFile()},
                       "a\x01"
                       "b\\c\xff\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("a\\x01b\\\\c\\xff\t"));
}

// A format-2 history of kExperiment: "large" carries a payload from the
// start; "huge" joins in epoch 1 with a payload written over several lines.
constexpr char kHistoryWithPayloads[] = R"json({"format": 2, "experiment": "cli-exp",
 "salt": "cli-exp",
 "arms": [{"id": "small", "added": 0},
          {"id": "large", "added": 0, "payload": "{\"model\":\"m-2\",\"note\":\"caf\u00e9 \\\"q\\\"\"}"},
          {"id": "huge", "added": 1, "payload": "{\n  \"model\": \"m-3\",\n  \"tags\": [\"a b\", 1.50]\n}"}],
 "epochs": [
   {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large": 0.5}},
   {"epoch": 1, "start": "2026-01-02T06:00:00Z",
    "weights": {"small": 0.25, "large": 0.25, "huge": 0.5}}]}
)json";

TEST_F(CliAssignTest, FormatTsvIsTheDefault) {
  const std::string exp = ExperimentFile();
  const std::string history = HistoryFile();
  CliResult plain = Assign({"--experiment", exp, "--history", history}, Units(0, 300));
  CliResult tsv = Assign({"--experiment", exp, "--history", history, "--format", "tsv"},
                         Units(0, 300));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(tsv.out, plain.out);
  // What releases before --format printed, byte for byte.
  CliResult one = Assign({"--experiment", exp, "--history", history}, "user-1\nuser-2\n");
  EXPECT_EQ(one.out, "user-1\tlarge\t1\t0.9\t0\nuser-2\tsmall\t1\t0.1\t0\n");
}

TEST_F(CliAssignTest, JsonLinesCarryTheTsvFieldsAndThePayload) {
  const std::string exp = ExperimentFile();
  const std::string history = Write("history2.json", kHistoryWithPayloads);
  const std::string input = Units(0, 400);
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--at", kInEpoch0}}) {
    std::vector<std::string> args = {"--experiment", exp, "--history", history};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::vector<Line> tsv = AssignOk(args, input);
    args.insert(args.end(), {"--format", "jsonl"});
    CliResult r = Assign(args, input);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), tsv.size());
    std::map<std::string, int> arms;
    for (size_t i = 0; i < lines.size(); ++i) {
      SCOPED_TRACE(lines[i]);
      rapidjson::Document d;
      d.Parse(lines[i].data(), lines[i].size());
      ASSERT_FALSE(d.HasParseError());
      ASSERT_TRUE(d.IsObject());
      EXPECT_EQ(d.MemberCount(), 6u);
      EXPECT_EQ(d["unit"].GetString(), tsv[i].unit);
      EXPECT_EQ(d["arm"].GetString(), tsv[i].arm);
      EXPECT_EQ(d["epoch"].GetInt64(), tsv[i].epoch);
      EXPECT_EQ(d["propensity"].GetDouble(), tsv[i].propensity);
      EXPECT_EQ(d["holdout"].GetBool(), tsv[i].holdout == 1);
      ++arms[tsv[i].arm];
      // The payload is embedded as an object: its bytes as in the history,
      // with the whitespace between tokens dropped so the line stays one.
      const std::string prefix =
          absl::StrCat(R"({"unit":")", tsv[i].unit, R"(","arm":")", tsv[i].arm,
                       R"(","epoch":)", tsv[i].epoch, R"(,"propensity":)");
      EXPECT_TRUE(absl::StartsWith(lines[i], prefix));
      if (tsv[i].arm == "small") {
        EXPECT_TRUE(d["payload"].IsNull());
        EXPECT_TRUE(absl::EndsWith(lines[i], R"(,"payload":null})"));
      } else if (tsv[i].arm == "large") {
        EXPECT_TRUE(absl::EndsWith(lines[i],
                                   R"(,"payload":{"model":"m-2","note":"café \"q\""}})"));
        EXPECT_STREQ(d["payload"]["note"].GetString(), "caf\u00e9 \"q\"");
      } else {
        EXPECT_TRUE(absl::EndsWith(lines[i],
                                   R"(,"payload":{"model":"m-3","tags":["a b",1.50]}})"));
      }
    }
    EXPECT_EQ(arms.count("huge"), extra.empty() ? 1u : 0u);
    EXPECT_GT(arms["large"], 0);
  }
}

TEST_F(CliAssignTest, JsonLinesRefuseBadFormatAndNonUtf8Units) {
  const std::string exp = ExperimentFile();
  ExpectFailure({"--experiment", exp, "--format", "csv"}, "user-1\n",
                "--format must be tsv or jsonl, got \"csv\"");
  CliResult r = Assign({"--experiment", exp, "--format", "jsonl"}, "ok\nb\xff\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(r.out, R"({"unit":"ok",)")) << r.out;
  EXPECT_THAT(r.err, HasSubstr("stdin:2: unit \"b\\xff\" is not valid UTF-8"));
  // Control bytes are escaped in JSON.
  CliResult c = Assign({"--experiment", exp, "--format", "jsonl"}, "a\x01\\\n");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(absl::StartsWith(c.out, R"({"unit":"a\u0001\\",)")) << c.out;
}

TEST(CliAssignTableTest, BadInputTable) {
  const std::string experiment =
      "id = \"cli-exp\"\n[[arms]]\nid = \"small\"\n[[arms]]\nid = \"large\"\n";
  auto history = [](const std::string& extra_top, const std::string& extra_epoch) {
    return absl::StrCat(R"({"format": 1, "experiment": "cli-exp", "salt": "cli-exp", )",
                        extra_top, R"("epochs": [{"epoch": 0, )", extra_epoch,
                        R"("start": "2026-01-01T00:00:00Z", )",
                        R"("weights": {"small": 0.5, "large": 0.5}}]})");
  };
  const std::vector<std::string> assign = {"assign", "--experiment", "$DIR/e.toml"};
  const std::vector<std::string> with_history = {"assign", "--experiment", "$DIR/e.toml",
                                                 "--history", "$DIR/h.json"};
  using Files = std::vector<std::pair<std::string, std::string>>;
  const Files exp = {{"$DIR/e.toml", experiment}};
  auto exp_and = [&](const std::string& h) {
    return Files{{"$DIR/e.toml", experiment}, {"$DIR/h.json", h}};
  };
  const std::string deep = std::string(150000, '[') + std::string(150000, ']');
  const std::vector<allot::test::BadInputCase> cases = {
      {"unknown option",
       {"assign", "--experiment", "$DIR/e.toml", "--bogus"},
       exp,
       "u\n",
       2,
       "--bogus"},
      {"no --experiment", {"assign"}, {}, "u\n", 2, "--experiment"},
      {"tab in a unit", assign, exp, "u\t1\n", 1,
       "stdin:1: unit \"u\\x091\" holds a tab"},
      {"NUL in a unit", assign, exp, std::string("u\0001\n", 4), 1, "holds a NUL"},
      {"CR in a unit", assign, exp, "u\r1\n", 1, "holds a CR"},
      {"long unit is cut", assign, exp, std::string(70000, 'u') + "\n", 1,
       "unit must be at most 65536 bytes, got 70000"},
      // Before: the recursive parser overflowed the stack.
      {"150,000 levels of nesting", with_history, exp_and(deep), "u\n", 1,
       "the document must be an object"},
      {"duplicate key", with_history, exp_and(history(R"("format": 1, )", "")), "u\n", 1,
       "document has field \"format\" twice"},
      {"unknown top-level field", with_history, exp_and(history(R"("note": "x", )", "")),
       "u\n", 1, "document has unknown field \"note\""},
      {"unknown epoch field", with_history, exp_and(history("", R"("end": 3, )")), "u\n",
       1, "epochs[0] has unknown field \"end\""},
      {"invalid UTF-8 in the history", with_history,
       exp_and(history("", "\"\xff\": 3, ")), "u\n", 1, "malformed JSON"},
      {"bidi override in an arm id",
       assign,
       {{"$DIR/e.toml",
         "id = \"x\"\n[[arms]]\nid = \"a\xe2\x80\xae\"\n[[arms]]\nid = \"b\"\n"}},
       "u\n",
       1,
       "arms[0].id must not contain control or bidirectional characters"},
      {"control character in the experiment id",
       assign,
       {{"$DIR/e.toml",
         "id = \"x\\u0007\"\n[[arms]]\nid = \"a\"\n[[arms]]\nid = \"b\"\n"}},
       "u\n",
       1,
       "id must not contain control or bidirectional characters, got \"x\\x07\""},
      {"a 1 MB experiment id is cut",
       assign,
       {{"$DIR/e.toml", absl::StrCat("id = \"", std::string(1 << 20, 'x'),
                                     "\"\nsalt = \"s\"\n[[arms]]\nid = \"a\"\n[[arms]]\n"
                                     "id = \"b\"\n")}},
       "u\n",
       1,
       "id must be at most 256 bytes, got 1048576"},
      {"experiment is a directory",
       {"assign", "--experiment", "$DIR"},
       {},
       "u\n",
       1,
       "$DIR"},
  };
  allot::test::RunBadInputTable(cases);
}

}  // namespace
