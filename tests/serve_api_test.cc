// Copyright 2026 The allot Authors.
//
// `allot serve`'s lifecycle routes, its roles and its answers to bad input:
// the real binary over HTTP, with a manual clock.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serve_client.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

constexpr char kAdmin[] = "Bearer admin-token";
constexpr char kRouter[] = "Bearer router-token";
constexpr char kViewer[] = "Bearer viewer-token";
// sha256sum of "admin-token", "router-token" and "viewer-token".
constexpr char kTokens[] = R"(
[[tokens]]
sha256 = "10a4c7c9fc5206d6f36dc6944a81bb6f4a3cb0e25014ae3b12e6c3e52712292a"
role = "admin"
[[tokens]]
sha256 = "4f4f140f0298591a6a1080b206fe60ae3a9de758888a744283b4fb78da95f3d4"
role = "router"
[[tokens]]
sha256 = "D036BD6D01A1CAE081D39A2F8DAB751DC042DE814FD60DF31FCB553170950F29"
role = "viewer"
)";

class ServeApiTest : public ServeFixture {};

HttpHeaders TomlBody() {
  HttpHeaders h;
  h.content_type = "application/toml";
  return h;
}

HttpHeaders Auth(const std::string& value) {
  HttpHeaders h;
  h.authorization = value;
  return h;
}

// Checks a JSON error answer.
void ExpectError(const HttpResult& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  rapidjson::Document doc = Parse(r.body);
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("error") && doc["error"].IsString())
      << r.body;
  EXPECT_THAT(doc["error"].GetString(), HasSubstr(message));
}

TEST_F(ServeApiTest, ManagesExperimentsAndArms) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  const std::string toml = R"(id = "exp2"
[[arms]]
id = "x"
[[arms]]
id = "y"
)";
  HttpResult r = Post("/v1/experiments", toml, TomlBody());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body, R"({"id":"exp2","state":"created"})");
  ExpectError(Post("/v1/experiments", toml, TomlBody()), 409, "exp2");
  ExpectError(Post("/v1/experiments", toml), 415, "application/toml");
  ExpectError(Post("/v1/experiments", "id = \"z\"\nbogus = 1\n", TomlBody()), 400,
              "bogus");
  // History before start: FailedPrecondition.
  ExpectError(Get("/v1/experiments/exp2/history"), 409, "");

  r = Post("/v1/experiments/exp2/start", R"({"at":"2026-01-01T00:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectError(Post("/v1/experiments/exp2/start", "{}"), 409, "");

  SetClock("2026-01-01T00:05:00Z");
  r = Post("/v1/experiments/exp2/arms",
           R"({"id":"z","config":{"model":"new","t":[1,2]},"initial_share":0.2})");
  ASSERT_EQ(r.status, 201) << r.body;
  // One arm change per epoch: the next one comes later.
  SetClock("2026-01-01T00:06:00Z");
  ExpectError(Post("/v1/experiments/exp2/arms", R"({"id":"x"})"), 400, "x");
  ExpectError(Post("/v1/experiments/exp2/arms", R"({"id":"w","config":5})"), 400,
              "\"config\" must be a JSON object");
  ExpectError(Post("/v1/experiments/exp2/arms", R"({"id":"w","initial_share":"big"})"),
              400, "\"initial_share\" must be a number");
  ExpectError(Post("/v1/experiments/nope/arms", R"({"id":"w"})"), 404, "nope");

  r = Post("/v1/experiments/exp2/assign", R"({"unit":"u"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Parse(r.body)["epoch"].GetInt(), 1);

  SetClock("2026-01-01T00:10:00Z");
  ExpectError(Post("/v1/experiments/exp2/arms/x/retire", R"({"mode":"later"})"), 400,
              "\"mode\" must be \"drain\" or \"now\"");
  ExpectError(Post("/v1/experiments/exp2/arms/nope/retire", R"({"mode":"now"})"), 404,
              "nope");
  r = Post("/v1/experiments/exp2/arms/x/retire", R"({"mode":"now"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("mode":"now")"));
  SetClock("2026-01-01T00:11:00Z");
  ExpectError(Post("/v1/experiments/exp2/arms/x/retire", "{}"), 409, "already retired");

  r = Get("/v1/experiments/exp2/history");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"z\""));

  r = Post("/v1/experiments/exp2/stop", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("state":"stopped")"));
  ExpectError(Post("/v1/experiments/exp2/stop", ""), 409, "");
  r = Delete("/v1/experiments/exp2");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectError(Delete("/v1/experiments/exp2"), 404, "exp2");
  ExpectError(Post("/v1/experiments/exp2/assign", R"({"unit":"u"})"), 404, "exp2");
  // The final report survives deletion.
  EXPECT_EQ(Get("/v1/experiments/exp2/reports").status, 200);
}

TEST_F(ServeApiTest, ClockRefusesGoingBackAndNeedsManualMode) {
  WriteConfig();
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ExpectError(Post("/v1/clock", R"({"now":"2025-01-01T00:00:00Z"})"), 400, "backward");
  ExpectError(Post("/v1/clock", R"({"now":"yesterday"})"), 400, "yesterday");
  ExpectError(Post("/v1/clock", "{}"), 400, "missing field \"now\"");
  StartServer(/*manual_clock=*/false);
  ExpectError(Post("/v1/clock", R"({"now":"2026-01-01T00:00:00Z"})"), 409,
              "--manual-clock");
  // On the wall clock, start defaults to now and assign works.
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  EXPECT_EQ(Post("/v1/experiments/exp/assign", R"({"unit":"u"})").status, 200);
}

TEST_F(ServeApiTest, RolesDecideWhoMayCallWhat) {
  WriteConfig(kTokens);
  StartServer();
  EXPECT_THAT(server_->start_line(), HasSubstr("with 3 token(s)"));
  // Health needs no token.
  EXPECT_EQ(Get("/healthz").status, 200);
  ExpectError(Get("/metrics"), 401, "missing bearer token");
  ExpectError(Get("/metrics", Auth("Basic YWRtaW4=")), 401, "missing bearer");
  ExpectError(Get("/metrics", Auth("Bearer wrong")), 401, "invalid bearer token");
  ExpectError(Post("/v1/clock", R"({"now":"2026-01-01T00:00:00Z"})", Auth(kRouter)), 403,
              "role router may not call POST /v1/clock");
  ASSERT_EQ(Post("/v1/clock", R"({"now":"2026-01-01T00:00:00Z"})", Auth(kAdmin)).status,
            200);
  ExpectError(Post("/v1/experiments/exp/start", "", Auth(kViewer)), 403, "viewer");
  ExpectError(Post("/v1/experiments/exp/start", "", Auth(kRouter)), 403, "router");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "", Auth(kAdmin)).status, 200);

  const std::string assign = "/v1/experiments/exp/assign";
  const std::string unit = R"({"unit":"u"})";
  ExpectError(Post(assign, unit), 401, "");
  ExpectError(Post(assign, unit, Auth(kViewer)), 403, "viewer");
  EXPECT_EQ(Post(assign, unit, Auth(kRouter)).status, 200);
  EXPECT_EQ(Post(assign, unit, Auth("bearer admin-token")).status, 200);
  EXPECT_EQ(
      Post("/v1/experiments/exp/assign_batch", R"({"units":[]})", Auth(kRouter)).status,
      200);
  const std::string outcome = "/v1/experiments/exp/outcomes";
  ExpectError(Post(outcome, R"({"unit":"u","value":1})", Auth(kViewer)), 403, "");
  EXPECT_EQ(Post(outcome, R"({"unit":"u","value":1})", Auth(kRouter)).status, 200);

  for (const std::string read :
       {"/metrics", "/v1/experiments/exp/reports", "/v1/experiments/exp/history"}) {
    SCOPED_TRACE(read);
    EXPECT_EQ(Get(read, Auth(kViewer)).status, 200);
    EXPECT_EQ(Get(read, Auth(kAdmin)).status, 200);
    ExpectError(Get(read, Auth(kRouter)), 403, "router");
    ExpectError(Get(read), 401, "");
  }
  ExpectError(Delete("/v1/experiments/exp", Auth(kRouter)), 403, "");
  EXPECT_EQ(Delete("/v1/experiments/exp", Auth(kAdmin)).status, 200);
}

TEST_F(ServeApiTest, AnswersBadInputWithJsonErrors) {
  WriteConfig("max_body_bytes = 2048\nmax_batch = 3\n");
  StartServer();
  SetClock("2026-01-01T00:00:00Z");
  ASSERT_EQ(Post("/v1/experiments/exp/start", "").status, 200);
  const std::string assign = "/v1/experiments/exp/assign";
  ExpectError(Post(assign, R"({"unit":)"), 400, "not valid JSON");
  ExpectError(Post(assign, "[1]"), 400, "must be a JSON object");
  ExpectError(Post(assign, ""), 400, "not valid JSON");
  ExpectError(Post(assign, R"({"unit":5})"), 400, "\"unit\" must be a string");
  ExpectError(Post(assign, R"({})"), 400, "missing field \"unit\"");
  ExpectError(Post(assign, R"({"unit":"u","extra":1})"), 400, "unknown field \"extra\"");
  ExpectError(Post(assign, R"({"unit":"u","unit_start":7})"), 400, "unit_start");
  ExpectError(Post(assign, R"({"unit":"u","unit_start":"noon"})"), 400, "noon");
  ExpectError(Post(assign, R"({"unit":""})"), 400, "");
  ExpectError(Post(assign, "{\"unit\":\"\xff\"}"), 400, "not valid JSON");
  ExpectError(Post("/v1/experiments/nope/assign", R"({"unit":"u"})"), 404, "nope");
  ExpectError(Post(assign, std::string(3000, ' ')), 413, "max_body_bytes (2048)");
  ExpectError(Post("/v1/experiments/exp/assign_batch",
                   R"({"units":[{"unit":"a"},{"unit":"b"},{"unit":"c"},{"unit":"d"}]})"),
              413, "more than max_batch (3)");
  ExpectError(Post("/v1/experiments/exp/assign_batch", R"({"units":{}})"), 400,
              "\"units\" must be an array");
  ExpectError(Post("/v1/experiments/exp/assign_batch", R"({})"), 400,
              "missing field \"units\"");
  ExpectError(Post("/v1/experiments/nope/assign_batch", R"({"units":[]})"), 404, "nope");
  const std::string outcomes = "/v1/experiments/exp/outcomes";
  ExpectError(Post(outcomes, R"({"outcomes":[1,2,3,4]})"), 413,
              "more than max_batch (3)");
  ExpectError(Post(outcomes, R"({"outcomes":5})"), 400, "\"outcomes\" must be an array");
  ExpectError(Post(outcomes, R"({"unit":"u","value":"one"})"), 400,
              "\"value\" must be a number");
  ExpectError(Post(outcomes, R"({"unit":"u","value":2})"), 400, "");
  ExpectError(Post(outcomes, R"({"unit":"u","value":1,"metric":"nope"})"), 404, "nope");
  ExpectError(Post(outcomes, R"({"unit":"u","value":1,"time":"2020-01-01T00:00:00Z"})"),
              400, "");
  ExpectError(Post("/v1/experiments/nope/outcomes", R"({"outcomes":[]})"), 404, "nope");
  ExpectError(Get("/v1/experiments/nope/reports"), 404, "nope");
  ExpectError(Get("/v1/experiments/exp/report"), 404, "no report yet");
  ExpectError(Get("/v1/nothing"), 404, "no route for /v1/nothing");
  ExpectError(Get("/v1/experiments/exp/assign/extra"), 404, "");
  const HttpResult wrong_method =
      Http(server_->port(), "PUT", "/v1/experiments/exp/assign");
  ExpectError(wrong_method, 405, "method PUT is not allowed");
  EXPECT_EQ(wrong_method.allow, "POST");
  ExpectError(Get("/v1/experiments/exp/assign"), 405, "allowed: POST");
  ExpectError(Delete("/healthz"), 405, "");
  // Percent-encoded path segments are decoded.
  EXPECT_EQ(Post("/v1/experiments/e%78p/assign", R"({"unit":"u"})").status, 200);
  // Still serving after all of that.
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ServeApiTest, RefusesConnectionsOverTheLimit) {
  WriteConfig("max_connections = 1\nread_timeout = \"2s\"\n");
  StartServer();
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket idle(io);
  idle.connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())});
  ExpectError(Get("/healthz"), 503, "too many connections");
  idle.close();
  // The idle connection is gone once the server notices; then it serves.
  HttpResult r;
  for (int i = 0; i < 100 && r.status != 200; ++i) {
    r = Get("/healthz");
    if (r.status != 200) usleep(20000);
  }
  EXPECT_EQ(r.status, 200);
}

}  // namespace
}  // namespace allot::test
