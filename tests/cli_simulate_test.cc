// Copyright 2026 The allot Authors.
//
// End-to-end test of `allot simulate` on a small scenario written by the
// test: every output is written, and the outputs are the same for a seed
// whatever the thread count.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/cli_run.h"
#include "tests/scratch_files.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

// Two days, 60 units an hour, four replicates: a few thousand units per
// policy and replicate, seconds on a loaded machine.
constexpr char kScenario[] = R"toml(name = "tiny"
seed = 11
replicates = 4
horizon = "2d"

[traffic]
units_per_hour = 60
returning_share = 0.2

[conversion]
delay = "exponential"
delay_mean = "1h"

[experiment.schedule]
burn_in = "6h"
interval = "3h"
conversion_window = "6h"
min_units_per_arm = 10

[[arms]]
id = "a"
rate = 0.10

[[arms]]
id = "b"
rate = 0.20

[[policies]]
name = "thompson"
kind = "thompson"
)toml";

const char* const kOutputs[] = {"summary.json", "summary.md", "epochs.csv", "weights.svg",
                                "regret.svg"};

TEST(CliSimulateTest, WritesEveryOutputTheSameForOneAndTwoThreads) {
  const ScratchDir scratch("cli_simulate_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/tiny.toml", kScenario);
  std::string stdout_by_threads[2];
  for (int threads : {1, 2}) {
    const CliResult r = RunCli(
        {"simulate", dir + "/tiny.toml", "--out", dir + "/t" + std::to_string(threads),
         "--seed", "5", "--threads", std::to_string(threads)},
        dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    stdout_by_threads[threads - 1] = r.out;
  }
  for (const char* name : kOutputs) {
    const std::string one = ReadBytes(dir + "/t1/" + name);
    EXPECT_FALSE(one.empty()) << name;
    EXPECT_TRUE(one == ReadBytes(dir + "/t2/" + name)) << name << " depends on --threads";
  }
  EXPECT_EQ(stdout_by_threads[0], stdout_by_threads[1]);
  EXPECT_EQ(stdout_by_threads[0], ReadBytes(dir + "/t1/summary.md"));

  rapidjson::Document summary;
  summary.Parse(ReadBytes(dir + "/t1/summary.json").c_str());
  EXPECT_FALSE(summary.HasParseError());
  EXPECT_THAT(ReadBytes(dir + "/t1/summary.md"), HasSubstr("thompson"));
  EXPECT_THAT(ReadBytes(dir + "/t1/weights.svg"), HasSubstr("<svg"));
}

TEST(CliSimulateTest, TheSeedChangesTheRun) {
  // Determinism above must not come from ignoring the seed.
  const ScratchDir scratch("cli_simulate_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/tiny.toml", kScenario);
  for (const char* seed : {"5", "6"}) {
    const CliResult r =
        RunCli({"simulate", dir + "/tiny.toml", "--out", dir + "/s" + seed, "--seed",
                seed, "--threads", "2", "--replicates", "2"},
               dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_NE(ReadBytes(dir + "/s5/epochs.csv"), ReadBytes(dir + "/s6/epochs.csv"));
}

TEST(CliSimulateTest, BadArgumentsFailWithAMessage) {
  const ScratchDir scratch("cli_simulate_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/tiny.toml", kScenario);
  CliResult r = RunCli(
      {"simulate", dir + "/tiny.toml", "--out", dir + "/o", "--threads", "0"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--threads must be >= 1, got 0"));
  r = RunCli({"simulate", dir + "/missing.toml", "--out", dir + "/o"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir + "/missing.toml"));
}

TEST(CliSimulateTest, BadInputTable) {
  const std::vector<std::pair<std::string, std::string>> scenario = {
      {"$DIR/s.toml", kScenario}};
  auto simulate = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {"simulate", "$DIR/s.toml", "--out", "$DIR/out"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::vector<BadInputCase> cases = {
      {"unknown option", simulate({"--bogus"}), scenario, "", 2, "--bogus"},
      {"no --out", {"simulate", "$DIR/s.toml"}, scenario, "", 2, "--out"},
      {"--threads not a number", simulate({"--threads", "x"}), scenario, "", 2,
       "--threads"},
      {"zero threads", simulate({"--threads", "0"}), scenario, "", 1,
       "--threads must be >= 1, got 0"},
      {"zero replicates", simulate({"--replicates", "0"}), scenario, "", 1,
       "--replicates must be in [1, "},
      // Before: -1 silently became 2^64 - 1 (the file refuses it).
      {"negative seed", simulate({"--seed", "-1"}), scenario, "", 1,
       "--seed must be an integer in [0, 9223372036854775807], got \"-1\""},
      {"seed past 2^63 - 1", simulate({"--seed", "18446744073709551615"}), scenario, "",
       1, "--seed must be an integer in [0, 9223372036854775807]"},
      {"missing scenario", simulate({}), {}, "", 1, "s.toml"},
      {"scenario is a directory", simulate({}), {{"$DIR/s.toml/", ""}}, "", 1, "s.toml"},
  };
  RunBadInputTable(cases);
}

// A write that fails midway (the file size limit: EFBIG, as a full disk's
// ENOSPC) leaves no output, names the system's reason, and exits 1.
TEST(CliSimulateTest, AFailedWriteLeavesNoOutputAndSaysWhy) {
  const ScratchDir scratch("cli_simulate_test");
  const std::string& dir = scratch.path();
  WriteBytes(dir + "/tiny.toml", kScenario);
  const CliResult r = RunCli({"simulate", dir + "/tiny.toml", "--out", dir + "/out"}, dir,
                             {.stdin_bytes = "", .file_size_blocks = 1});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("File too large"));
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/out")) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace allot::test
