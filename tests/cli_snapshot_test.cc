// Copyright 2026 The allot Authors.
//
// End-to-end tests of `allot snapshot inspect`: a snapshot written by
// `allot replay --snapshot` is described as JSON; a corrupt, truncated or
// missing file gets a clear error and a non-zero exit.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/cli_run.h"
#include "tests/scratch_files.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Replays the shipped support-bot log with --snapshot; returns its path.
std::string ReplaySnapshot(const std::string& dir) {
  const std::string path = dir + "/replay.snapshot";
  const CliResult r =
      RunCli({"replay", "--experiment",
              SourcePath("examples/experiments/support-bot-model.toml"), "--events",
              SourcePath("examples/events/support-bot-model.csv"), "--out", dir + "/out",
              "--snapshot", path},
             dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

TEST(CliSnapshotTest, InspectDescribesAReplaySnapshot) {
  const ScratchDir scratch("cli_snapshot_test");
  const std::string path = ReplaySnapshot(scratch.path());
  const CliResult r = RunCli({"snapshot", "inspect", path}, scratch.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  EXPECT_STREQ(doc["kind"].GetString(), "snapshot");
  EXPECT_GT(doc["format"].GetUint(), 0u);
  // The payload is the file less its 32-byte header.
  EXPECT_EQ(doc["payload_bytes"].GetUint64() + 32, ReadBytes(path).size());
  EXPECT_STREQ(doc["clock"].GetString(), "2026-01-07T23:59:00Z");  // the last row
  EXPECT_EQ(doc["journal_sequence"].GetUint64(), 0u);
  ASSERT_TRUE(doc["experiments"].IsArray());
  ASSERT_EQ(doc["experiments"].Size(), 1u);
  const rapidjson::Value& e = doc["experiments"][0];
  EXPECT_STREQ(e["id"].GetString(), "support-bot-model");
  EXPECT_STREQ(e["state"].GetString(), "running");
  EXPECT_STREQ(e["surface"].GetString(), "support-bot");
  EXPECT_GT(e["epochs"].GetInt64(), 1);
  EXPECT_GT(e["reports"].GetInt64(), 1);
  EXPECT_GE(e["open_units"].GetInt64(), 0);
  EXPECT_EQ(doc["deleted_experiments"].Size(), 0u);
  // replay keeps its cursor in the application data.
  EXPECT_THAT(doc["application_data"].GetString(), StartsWith("allot-replay-cursor "));
}

TEST(CliSnapshotTest, ACorruptSnapshotIsAClearError) {
  const ScratchDir scratch("cli_snapshot_test");
  const std::string& dir = scratch.path();
  const std::string good = ReadBytes(ReplaySnapshot(dir));
  ASSERT_GT(good.size(), 100u);

  // A flipped payload byte: the checksum no longer matches.
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x01);
  WriteBytes(dir + "/flipped.snapshot", flipped);
  // Cut short, and not a snapshot at all.
  WriteBytes(dir + "/truncated.snapshot", good.substr(0, good.size() - 7));
  WriteBytes(dir + "/garbage.snapshot", "GARBAGE!not a snapshot, just text\n");
  for (const char* name :
       {"flipped.snapshot", "truncated.snapshot", "garbage.snapshot"}) {
    const std::string path = absl::StrCat(dir, "/", name);
    const CliResult r = RunCli({"snapshot", "inspect", path}, dir);
    EXPECT_EQ(r.exit_code, 1) << name;  // an error, not a crash (which is -1)
    EXPECT_EQ(r.out, "") << name;
    EXPECT_THAT(r.err, StartsWith("allot snapshot inspect: ")) << name;
    EXPECT_THAT(r.err, HasSubstr(path)) << name;
  }
}

TEST(CliSnapshotTest, AMissingFileIsAnError) {
  const ScratchDir scratch("cli_snapshot_test");
  const std::string path = scratch.path() + "/missing.snapshot";
  const CliResult r = RunCli({"snapshot", "inspect", path}, scratch.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot open " + path));
}

TEST(CliSnapshotTest, BadInputTable) {
  const std::vector<BadInputCase> cases = {
      {"no subcommand", {"snapshot"}, {}, "", 2, "subcommand"},
      {"no file", {"snapshot", "inspect"}, {}, "", 2, "FILE"},
      {"unknown option",
       {"snapshot", "inspect", "--bogus", "$DIR/f"},
       {},
       "",
       2,
       "--bogus"},
      {"missing file",
       {"snapshot", "inspect", "$DIR/f"},
       {},
       "",
       1,
       "No such file or directory"},
      {"a directory", {"snapshot", "inspect", "$DIR"}, {}, "", 1, "is a directory"},
      {"empty file",
       {"snapshot", "inspect", "$DIR/f"},
       {{"$DIR/f", ""}},
       "",
       1,
       "$DIR/f"},
      {"not a snapshot",
       {"snapshot", "inspect", "$DIR/f"},
       {{"$DIR/f", std::string(100000, '[')}},
       "",
       1,
       "$DIR/f"},
  };
  RunBadInputTable(cases);
}

}  // namespace
}  // namespace allot::test
