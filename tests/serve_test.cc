// Copyright 2026 The allot Authors.
//
// `allot serve` end to end: the real binary on an ephemeral loopback port,
// driven over HTTP with a manual clock.

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_run.h"
#include "tests/serve_client.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

class ServeTest : public ServeFixture {};

TEST_F(ServeTest, PrintsItsAddressAndServesHealth) {
  WriteConfig();
  StartServer();
  EXPECT_THAT(server_->start_line(), HasSubstr("listening on http://127.0.0.1:"));
  EXPECT_THAT(server_->start_line(), HasSubstr("without authentication"));
  const HttpResult r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->stderr_text();
  EXPECT_TRUE(std::filesystem::exists(dir() + "/data/allot.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(dir() + "/data/allot.journal"));
}

TEST_F(ServeTest, RefusesBadConfigWithTheFieldNamed) {
  WriteBytes(dir() + "/serve.toml", "data_dir = \"d\"\nlisten_addr = \"x\"\n");
  const CliResult r = RunCli({"serve", "--config", dir() + "/serve.toml"}, dir());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("listen_addr is not a known field"));
  WriteBytes(dir() + "/serve.toml", "data_dir = \"d\"\nlisten = \"10.1.2.3:80\"\n");
  const CliResult r2 = RunCli({"serve", "--config", dir() + "/serve.toml"}, dir());
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_THAT(r2.err, HasSubstr("not a loopback address"));
}

TEST_F(ServeTest, AssignsRecordsOutcomesAndReports) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  HttpResult r = Post("/v1/experiments/exp/start", "");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Post("/v1/experiments/exp/assign", R"({"unit":"u1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document a = Parse(r.body);
  EXPECT_TRUE(a["new_exposure"].GetBool());
  EXPECT_EQ(a["epoch"].GetInt(), 0);
  EXPECT_DOUBLE_EQ(a["propensity"].GetDouble(), 0.5);
  EXPECT_FALSE(a["holdout"].GetBool());
  const std::string arm = a["arm"].GetString();
  if (arm == "a") {
    EXPECT_EQ(a["arm_index"].GetInt(), 0);
    EXPECT_STREQ(a["payload"]["model"].GetString(), "small");
  } else {
    EXPECT_EQ(a["arm_index"].GetInt(), 1);
    EXPECT_TRUE(a["payload"].IsNull());
  }
  // The same unit again: same arm, not a new exposure.
  rapidjson::Document again =
      Parse(Post("/v1/experiments/exp/assign", R"({"unit":"u1"})").body);
  EXPECT_EQ(again["arm"].GetString(), arm);
  EXPECT_FALSE(again["new_exposure"].GetBool());

  r = Post("/v1/experiments/exp/assign_batch",
           R"({"units":[{"unit":"u1"},{"unit":"u2","unit_start":"2026-01-01T00:00:00Z"},)"
           R"({"unit":""},{"nounit":1}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document batch = Parse(r.body);
  ASSERT_EQ(batch["results"].Size(), 4u);
  EXPECT_EQ(batch["results"][0]["arm"].GetString(), arm);
  EXPECT_TRUE(batch["results"][1]["new_exposure"].GetBool());
  EXPECT_TRUE(batch["results"][2].HasMember("error"));
  EXPECT_THAT(batch["results"][3]["error"].GetString(), HasSubstr("nounit"));

  SetClock("2026-01-01T00:10:00Z");
  r = Post("/v1/experiments/exp/outcomes", R"({"unit":"u1","value":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"disposition":"counted"})");
  r = Post("/v1/experiments/exp/outcomes", R"({"unit":"u1","value":1})");
  EXPECT_EQ(r.body, R"({"disposition":"duplicate"})");
  r = Post(
      "/v1/experiments/exp/outcomes",
      R"({"outcomes":[{"unit":"nobody","value":1},{"unit":"u2","value":1,"metric":"",)"
      R"("time":"2026-01-01T00:10:00Z"},{"unit":"u2"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document outcomes = Parse(r.body);
  EXPECT_STREQ(outcomes["results"][0]["disposition"].GetString(), "unknown_unit");
  EXPECT_STREQ(outcomes["results"][1]["disposition"].GetString(), "counted");
  EXPECT_THAT(outcomes["results"][2]["error"].GetString(),
              HasSubstr("missing field \"value\""));

  // Past burn-in and one interval: reports exist; a late outcome is tallied.
  SetClock("2026-01-01T02:30:00Z");
  r = Post("/v1/experiments/exp/outcomes", R"({"unit":"u1","value":1})");
  EXPECT_EQ(r.body, R"({"disposition":"late"})");
  r = Get("/v1/experiments/exp/reports");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document reports = Parse(r.body);
  ASSERT_TRUE(reports.IsArray());
  ASSERT_EQ(reports.Size(), 2u);
  r = Get("/v1/experiments/exp/report");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document latest = Parse(r.body);
  EXPECT_STREQ(latest["time"].GetString(), "2026-01-01T02:00:00Z");
  r = Get("/v1/experiments/exp/history");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Parse(r.body)["experiment"].GetString(), "exp");

  r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("text/plain"));
  EXPECT_THAT(
      r.body,
      HasSubstr(
          R"(allot_http_requests_total{route="/v1/experiments/{id}/assign",status="200"} 2)"));
  EXPECT_THAT(
      r.body,
      HasSubstr(
          R"(allot_http_request_duration_seconds_count{route="/v1/experiments/{id}/assign"} 2)"));
  EXPECT_THAT(r.body, HasSubstr(R"(allot_open_units{experiment="exp"})"));
  EXPECT_THAT(r.body, HasSubstr(R"(allot_reallocations_total{experiment="exp"})"));
}

}  // namespace
}  // namespace allot::test
