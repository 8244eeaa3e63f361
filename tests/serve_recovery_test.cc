// Copyright 2026 The allot Authors.
//
// `allot serve` across restarts: a clean stop (SIGTERM, snapshot) and a
// crash (SIGKILL while outcomes are being posted). With flush = "sync" (the
// default) the server syncs its journal before answering a state-changing
// request, so every acknowledged call survives a crash; with "interval",
// what was acknowledged within the last flush_interval (and one sync's
// time) may be lost, nothing older. Each snapshot empties the journal.

#include <signal.h>

#include <chrono>
#include <filesystem>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serve_client.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

// An assign_batch body of units u0 to u{n-1}.
std::string UnitsBatch(int n) {
  std::string batch = R"({"units":[)";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&batch, i > 0 ? "," : "", R"({"unit":"u)", i, R"("})");
  }
  return batch + "]}";
}

class ServeRecoveryTest : public ServeFixture {};

TEST_F(ServeRecoveryTest, RestartKeepsExperimentsAssignmentsAndReports) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  for (int i = 0; i < 40; ++i) {
    const std::string unit = absl::StrCat("early-", i);
    ASSERT_EQ(
        Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":")", unit, R"("})"))
            .status,
        200);
    if (i % 3 == 0) {
      ASSERT_EQ(Post("/v1/experiments/exp/outcomes",
                     absl::StrCat(R"({"unit":")", unit, R"(","value":1})"))
                    .status,
                200);
    }
  }
  // An experiment created over HTTP, not in the config, must come back too.
  ASSERT_EQ(Post("/v1/experiments",
                 "id = \"made-live\"\n[[arms]]\nid = \"p\"\n[[arms]]\nid = \"q\"\n",
                 [] {
                   HttpHeaders h;
                   h.content_type = "application/toml";
                   return h;
                 }())
                .status,
            201);
  SetClock("2026-01-01T02:30:00Z");
  std::vector<std::string> arms;
  for (int i = 0; i < 40; ++i) {
    const HttpResult r =
        Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":"late-)", i, R"("})"));
    ASSERT_EQ(r.status, 200);
    arms.push_back(Parse(r.body)["arm"].GetString());
  }
  const std::string reports = Get("/v1/experiments/exp/reports").body;
  const std::string history = Get("/v1/experiments/exp/history").body;
  ASSERT_THAT(reports, HasSubstr("\"epoch\""));
  ASSERT_EQ(server_->Stop(SIGTERM), 0) << server_->stderr_text();

  StartServer();
  EXPECT_EQ(Get("/v1/experiments/exp/reports").body, reports);
  EXPECT_EQ(Get("/v1/experiments/exp/history").body, history);
  EXPECT_EQ(Get("/v1/experiments/made-live/reports").status, 200);
  EXPECT_THAT(Get("/metrics").body,
              HasSubstr(R"(allot_open_units{experiment="made-live"} 0)"));
  SetClock("2026-01-01T02:35:00Z");
  for (int i = 0; i < 40; ++i) {
    const HttpResult r =
        Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":"late-)", i, R"("})"));
    ASSERT_EQ(r.status, 200);
    rapidjson::Document a = Parse(r.body);
    EXPECT_EQ(a["arm"].GetString(), arms[i]) << i;
    EXPECT_FALSE(a["new_exposure"].GetBool()) << i;
  }
  // And once more without the clean-stop snapshot: the journal alone.
  ASSERT_EQ(server_->Stop(SIGKILL), -SIGKILL);
  StartServer();
  EXPECT_EQ(Get("/v1/experiments/exp/reports").body, reports);
  SetClock("2026-01-01T02:36:00Z");
  const HttpResult r = Post("/v1/experiments/exp/assign", R"({"unit":"late-0"})");
  EXPECT_FALSE(Parse(r.body)["new_exposure"].GetBool());
}

TEST_F(ServeRecoveryTest, KillDuringOutcomesLosesNoAcknowledgedOutcome) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  constexpr int kUnits = 3000;
  ASSERT_EQ(Post("/v1/experiments/exp/assign_batch", UnitsBatch(kUnits)).status, 200);
  SetClock("2026-01-01T00:01:00Z");

  // Post outcomes one at a time; after the 200th acknowledgement another
  // thread kills the server while the stream goes on.
  std::vector<int> acknowledged;
  std::thread killer;
  bool killed_mid_stream = false;
  for (int i = 0; i < kUnits; ++i) {
    const HttpResult r = Post("/v1/experiments/exp/outcomes",
                              absl::StrCat(R"({"unit":"u)", i, R"(","value":1})"));
    if (r.status == -1) {
      killed_mid_stream = true;
      break;
    }
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.body, R"({"disposition":"counted"})");
    acknowledged.push_back(i);
    if (acknowledged.size() == 200) {
      killer = std::thread([this] { server_->Stop(SIGKILL); });
    }
  }
  killer.join();
  EXPECT_TRUE(killed_mid_stream) << "every outcome was posted before the kill";
  ASSERT_GE(acknowledged.size(), 200u);

  StartServer();
  // Each acknowledged conversion is known: posting it again is a duplicate.
  std::string again = R"({"outcomes":[)";
  for (size_t k = 0; k < acknowledged.size(); ++k) {
    absl::StrAppend(&again, k > 0 ? "," : "", R"({"unit":"u)", acknowledged[k],
                    R"(","value":1,"time":"2026-01-01T00:01:00Z"})");
  }
  again += "]}";
  const HttpResult r = Post("/v1/experiments/exp/outcomes", again);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document results = Parse(r.body);
  ASSERT_EQ(results["results"].Size(), acknowledged.size());
  for (rapidjson::SizeType k = 0; k < results["results"].Size(); ++k) {
    ASSERT_TRUE(results["results"][k].HasMember("disposition")) << r.body;
    EXPECT_STREQ(results["results"][k]["disposition"].GetString(), "duplicate")
        << "unit u" << acknowledged[k];
  }
}

TEST_F(ServeRecoveryTest, FailedJournalSyncRefusesLaterChanges) {
  WriteConfig();
  // 8 blocks: the journal's header and a few dozen records fit, then the
  // disk is "full".
  StartServer(/*manual_clock=*/true, /*file_size_blocks=*/8);
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  int acknowledged = 0;
  HttpResult r;
  for (int i = 0; i < 1000; ++i) {
    r = Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":"u)", i, R"("})"));
    if (r.status != 200) break;
    ++acknowledged;
  }
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_THAT(r.body, HasSubstr("journal sync failed"));
  EXPECT_GT(acknowledged, 0);
  r = Post("/v1/experiments/exp/outcomes", R"({"unit":"u0","value":1})");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("restart the server"));
  // Reads still work.
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/v1/experiments/exp/history").status, 200);
  server_->Stop(SIGKILL);

  // Restarted with room: every acknowledged exposure is back.
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  for (int i = 0; i < acknowledged; ++i) {
    r = Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":"u)", i, R"("})"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(Parse(r.body)["new_exposure"].GetBool()) << "unit u" << i;
  }
}

// The size of a journal file with no records: its header.
constexpr uintmax_t kJournalHeaderBytes = 16;

TEST_F(ServeRecoveryTest, EachSnapshotEmptiesTheJournalAndNothingIsLost) {
  WriteConfig("snapshot_interval = \"200ms\"\n");
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  const std::string journal = dir() + "/data/allot.journal";
  const auto journal_bytes = [&] { return std::filesystem::file_size(journal); };
  const auto wait_for_empty_journal = [&] {
    for (int i = 0; i < 200 && journal_bytes() != kJournalHeaderBytes; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return journal_bytes();
  };
  // Three rounds: exposures and conversions, then a snapshot takes them and
  // the journal starts again from its header.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) {
      const std::string unit = absl::StrCat(R"({"unit":"r)", round, "-", i, R"("})");
      ASSERT_EQ(Post("/v1/experiments/exp/assign", unit).status, 200);
      if (i % 2 == 0) {
        ASSERT_EQ(Post("/v1/experiments/exp/outcomes",
                       absl::StrCat(R"({"unit":"r)", round, "-", i, R"(","value":1})"))
                      .status,
                  200);
      }
    }
    EXPECT_EQ(wait_for_empty_journal(), kJournalHeaderBytes) << "round " << round;
  }
  const HttpResult metrics = Get("/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("allot_journal_bytes 16\n"));
  EXPECT_THAT(metrics.body, HasSubstr("allot_journal_lag_records 0\n"));
  EXPECT_THAT(metrics.body, HasSubstr("allot_last_snapshot_timestamp_seconds "));
  // Some records after the last snapshot, then a crash: the snapshot and
  // the new journal together hold everything acknowledged.
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(
        Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":"after-)", i, R"("})"))
            .status,
        200);
  }
  server_->Stop(SIGKILL);
  StartServer();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) {
      const HttpResult r = Post("/v1/experiments/exp/assign",
                                absl::StrCat(R"({"unit":"r)", round, "-", i, R"("})"));
      ASSERT_EQ(r.status, 200) << r.body;
      ASSERT_FALSE(Parse(r.body)["new_exposure"].GetBool()) << round << "-" << i;
    }
  }
  for (int i = 0; i < 50; ++i) {
    const HttpResult r = Post("/v1/experiments/exp/assign",
                              absl::StrCat(R"({"unit":"after-)", i, R"("})"));
    ASSERT_FALSE(Parse(r.body)["new_exposure"].GetBool()) << "after-" << i;
  }
  const HttpResult again =
      Post("/v1/experiments/exp/outcomes", R"({"unit":"r2-4","value":1})");
  EXPECT_EQ(again.body, R"({"disposition":"duplicate"})");
}

TEST_F(ServeRecoveryTest, IntervalFlushLosesNothingOlderThanTheInterval) {
  // 50 ms between syncs: a crash may lose what was acknowledged in the
  // last 50 ms plus one sync's time. Outcomes acknowledged a full second
  // before the kill (twenty intervals: room for a slow disk's sync on a
  // busy machine) must all be back.
  WriteConfig(
      "flush = \"interval\"\nflush_interval = \"50ms\"\nmax_batch = 100000\n"
      "max_body_bytes = 16777216\n");
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  constexpr int kUnits = 100000;
  ASSERT_EQ(Post("/v1/experiments/exp/assign_batch", UnitsBatch(kUnits)).status, 200);
  SetClock("2026-01-01T00:01:00Z");

  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> acknowledged_at;
  const Clock::time_point began = Clock::now();
  Clock::time_point killed_at{};
  std::thread killer;
  for (int i = 0; i < kUnits; ++i) {
    const HttpResult r = Post("/v1/experiments/exp/outcomes",
                              absl::StrCat(R"({"unit":"u)", i, R"(","value":1})"));
    if (r.status == -1) break;
    ASSERT_EQ(r.status, 200) << r.body;
    acknowledged_at.push_back(Clock::now());
    if (killer.joinable() || Clock::now() - began < std::chrono::milliseconds(1500)) {
      continue;
    }
    killer = std::thread([this, &killed_at] {
      killed_at = Clock::now();
      server_->Stop(SIGKILL);
    });
  }
  ASSERT_TRUE(killer.joinable()) << "every outcome was posted before the kill";
  killer.join();
  const Clock::time_point settled = killed_at - std::chrono::seconds(1);
  size_t must_survive = 0;
  while (must_survive < acknowledged_at.size() &&
         acknowledged_at[must_survive] < settled) {
    ++must_survive;
  }
  ASSERT_GT(must_survive, 100u) << "too few outcomes a second before the kill";

  StartServer();
  std::string again = R"({"outcomes":[)";
  for (size_t k = 0; k < must_survive; ++k) {
    absl::StrAppend(&again, k > 0 ? "," : "", R"({"unit":"u)", k,
                    R"(","value":1,"time":"2026-01-01T00:01:00Z"})");
  }
  again += "]}";
  const HttpResult r = Post("/v1/experiments/exp/outcomes", again);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document results = Parse(r.body);
  ASSERT_EQ(results["results"].Size(), must_survive);
  for (rapidjson::SizeType k = 0; k < results["results"].Size(); ++k) {
    ASSERT_STREQ(results["results"][k]["disposition"].GetString(), "duplicate")
        << "unit u" << k << " was acknowledged more than a second before the kill";
  }
}

}  // namespace
}  // namespace allot::test
