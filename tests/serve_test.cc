// Copyright 2026 The allot Authors.
//
// `allot serve` end to end: the real binary on an ephemeral loopback port,
// driven over HTTP with a manual clock.

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
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

// A value's JSON text, for comparing answers field by field.
std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

TEST_F(ServeTest, ABatchAnswersEachUnitAsASingleAssignWould) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  // 300 units, every third one given twice (its second answer is not a new
  // exposure): both arms, with and without a payload, in one batch.
  std::string batch = R"({"units":[)";
  std::vector<std::string> units;
  for (int i = 0; i < 300; ++i) {
    units.push_back(absl::StrCat("b", i));
    if (i % 3 == 0) units.push_back(absl::StrCat("b", i));
  }
  for (size_t k = 0; k < units.size(); ++k) {
    absl::StrAppend(&batch, k > 0 ? "," : "", R"({"unit":")", units[k], R"("})");
  }
  batch += "]}";
  const HttpResult r = Post("/v1/experiments/exp/assign_batch", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document answers = Parse(r.body);
  ASSERT_EQ(answers["results"].Size(), units.size());
  std::set<std::string> seen, arms;
  for (rapidjson::SizeType k = 0; k < answers["results"].Size(); ++k) {
    const rapidjson::Value& got = answers["results"][k];
    rapidjson::Document single =
        Parse(Post("/v1/experiments/exp/assign",
                   absl::StrCat(R"({"unit":")", units[k], R"("})"))
                  .body);
    for (const char* field :
         {"arm", "arm_index", "epoch", "propensity", "holdout", "payload"}) {
      EXPECT_EQ(JsonText(got[field]), JsonText(single[field]))
          << units[k] << " " << field;
    }
    EXPECT_EQ(got["new_exposure"].GetBool(), seen.insert(units[k]).second) << units[k];
    EXPECT_FALSE(single["new_exposure"].GetBool());
    arms.insert(got["arm"].GetString());
  }
  EXPECT_EQ(arms.size(), 2u);
}

TEST_F(ServeTest, WallClockTimersAdvanceAndSnapshot) {
  WriteBytes(dir() + "/fast.toml", R"(id = "fast"
[[arms]]
id = "a"
[[arms]]
id = "b"
[schedule]
burn_in = "1s"
min_units_per_arm = 1
interval = "1s"
conversion_window = "1s"
)");
  WriteBytes(
      dir() + "/serve.toml",
      "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nexperiments = [\"fast.toml\"]\n"
      "advance_interval = \"200ms\"\nsnapshot_interval = \"300ms\"\n");
  StartServer(/*manual_clock=*/false);
  ASSERT_EQ(Post("/v1/experiments/fast/start", "").status, 200);
  ASSERT_EQ(Post("/v1/experiments/fast/assign", R"({"unit":"u"})").status, 200);
  // The advance timer reaches the first grid point (1 s after start) and the
  // snapshot timer writes a snapshot, with no request asking for either.
  HttpResult r;
  for (int i = 0; i < 100; ++i) {
    r = Get("/v1/experiments/fast/report");
    if (r.status == 200 && std::filesystem::exists(dir() + "/data/allot.snapshot")) break;
    usleep(50000);
  }
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(std::filesystem::exists(dir() + "/data/allot.snapshot"));
}

TEST_F(ServeTest, ClosesIdleConnectionsAfterTheReadTimeout) {
  WriteConfig("read_timeout = \"300ms\"\n");
  StartServer();
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket idle(io);
  idle.connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())});
  // Send half a request, then nothing: the server hangs up.
  asio::write(idle, asio::buffer(std::string("POST /v1/clock HTTP/1.1\r\nHost: x\r\n")));
  char byte;
  boost::system::error_code ec;
  const absl::Time began = absl::Now();
  idle.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset)
      << ec.message();
  EXPECT_LT(absl::Now() - began, absl::Seconds(5));
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ServeTest, AnswersExpectContinueBeforeTheBody) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())});
  const std::string body = R"({"now":"2026-01-01T00:01:00Z"})";
  asio::write(socket, asio::buffer(absl::StrCat(
                          "POST /v1/clock HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Type: application/json\r\nContent-Length: ",
                          body.size(), "\r\n\r\n")));
  // The interim answer comes before any body byte is sent.
  std::string got;
  char buf[512];
  boost::system::error_code ec;
  while (got.find("\r\n\r\n") == std::string::npos && !ec) {
    got.append(buf, socket.read_some(asio::buffer(buf), ec));
  }
  EXPECT_EQ(got.substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  asio::write(socket, asio::buffer(body));
  got.clear();
  while (got.find("\"reallocations\"") == std::string::npos && !ec) {
    got.append(buf, socket.read_some(asio::buffer(buf), ec));
  }
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(got, HasSubstr(R"({"now":"2026-01-01T00:01:00Z")"));
}

}  // namespace
}  // namespace allot::test
