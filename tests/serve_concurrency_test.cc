// Copyright 2026 The allot Authors.
//
// `allot serve` on several I/O threads: many clients at once, on the wall
// clock (the advance timer running) and with snapshots every 50 ms (each a
// checkpoint that swaps the journal while requests are in flight), then a
// crash. Every acknowledged exposure and conversion must come back. Run
// under ThreadSanitizer in CI (label concurrency).

#include <signal.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serve_client.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

class ServeConcurrencyTest : public ServeFixture {};

TEST_F(ServeConcurrencyTest, ManyClientsOnFourThreadsThroughCheckpointsAndACrash) {
  WriteConfig(
      "io_threads = 4\nsnapshot_interval = \"50ms\"\nadvance_interval = \"20ms\"\n");
  StartServer(/*manual_clock=*/false);
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  constexpr int kClients = 8;
  constexpr int kUnitsEach = 120;
  std::vector<std::vector<std::string>> arms(kClients);
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kUnitsEach; ++i) {
        const std::string unit = absl::StrCat("c", c, "-", i);
        const HttpResult a = Post("/v1/experiments/exp/assign",
                                  absl::StrCat(R"({"unit":")", unit, R"("})"));
        const HttpResult o = Post("/v1/experiments/exp/outcomes",
                                  absl::StrCat(R"({"unit":")", unit, R"(","value":1})"));
        if (a.status != 200 || o.body != R"({"disposition":"counted"})") {
          ++failures;
          continue;
        }
        rapidjson::Document d;
        d.Parse(a.body.c_str());
        arms[c].push_back(d["arm"].GetString());
      }
    });
  }
  for (std::thread& t : clients) t.join();
  ASSERT_EQ(failures.load(), 0);
  const HttpResult metrics = Get("/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("allot_last_snapshot_timestamp_seconds "));
  EXPECT_THAT(metrics.body,
              HasSubstr(absl::StrCat("allot_open_units{experiment=\"exp\"} ",
                                     kClients * kUnitsEach, "\n")));
  server_->Stop(SIGKILL);

  StartServer(/*manual_clock=*/false);
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kUnitsEach; ++i) {
      const std::string unit = absl::StrCat("c", c, "-", i);
      const HttpResult a =
          Post("/v1/experiments/exp/assign", absl::StrCat(R"({"unit":")", unit, R"("})"));
      ASSERT_EQ(a.status, 200) << a.body;
      rapidjson::Document d = Parse(a.body);
      EXPECT_FALSE(d["new_exposure"].GetBool()) << unit;
      EXPECT_EQ(d["arm"].GetString(), arms[c][i]) << unit;
      EXPECT_EQ(Post("/v1/experiments/exp/outcomes",
                     absl::StrCat(R"({"unit":")", unit, R"(","value":1})"))
                    .body,
                R"({"disposition":"duplicate"})")
          << unit;
    }
  }
}

}  // namespace
}  // namespace allot::test
