// Copyright 2026 The allot Authors.
//
// A router fleet end to end, against a real PostgreSQL 15: two `allot serve`
// replicas append their exposures and outcomes to the store, `allot learn`
// reallocates at the grid points, and the replicas follow its epochs. The
// same traffic through one embedded engine must give the same assignment
// to every unit and the same allocation history: replicas, store and learner
// together are the engine, spread over processes. Also: a replica serves on
// while its database is down, says so, and loses none of what it buffered.

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/time_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "pqxx/pqxx"
#include "store/schema.h"
#include "tests/pg_database.h"
#include "tests/serve_client.h"

namespace allot::test {
namespace {

using ::testing::HasSubstr;

constexpr char kFleetExperiment[] = R"(id = "fleet"
[[arms]]
id = "small"
config = { model = "small" }
[[arms]]
id = "large"
config = { model = "large" }
[policy]
kind = "thompson"
[schedule]
burn_in = "10m"
interval = "10m"
min_units_per_arm = 20
conversion_window = "5m"
)";

// One replica: `allot serve --store URL --manual-clock` in its own directory.
class Replica {
 public:
  Replica(const std::string& dir, const std::string& name, const std::string& url,
          const std::string& extra = "") {
    WriteBytes(dir + "/exp.toml", kFleetExperiment);
    WriteBytes(dir + "/serve.toml",
               absl::StrCat("listen = \"127.0.0.1:0\"\nexperiments = [\"exp.toml\"]\n",
                            "[store]\nreplica = \"", name,
                            "\"\nflush_interval = \"50ms\"\npoll_interval = \"500ms\"\n",
                            extra));
    process_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"serve", "--config", dir + "/serve.toml", "--store", url,
                                 "--manual-clock"},
        dir, 0);
  }
  int port() const { return process_->port(); }
  ServeProcess& process() { return *process_; }
  HttpResult Post(const std::string& target, const std::string& body) {
    return Http(port(), "POST", target, body, {});
  }
  HttpResult Get(const std::string& target) {
    return Http(port(), "GET", target, "", {});
  }
  void SetClock(absl::Time t) {
    const HttpResult r =
        Post("/v1/clock", absl::StrCat(R"({"now":")", FormatRfc3339(t), R"("})"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // The value of a metric line "NAME VALUE" in /metrics, or -1.
  double Metric(const std::string& name) {
    const std::string body = Get("/metrics").body;
    const size_t at = body.find("\n" + name + " ");
    double v = -1;
    if (at == std::string::npos) return v;
    const size_t start = at + name.size() + 2;
    (void)absl::SimpleAtod(body.substr(start, body.find('\n', start) - start), &v);
    return v;
  }
  int64_t Epoch() {
    rapidjson::Document d = Parse(Get("/healthz").body);
    return d["history"]["epochs"]["fleet"].GetInt64();
  }
  // When the latest epoch reached this replica.
  absl::Time Received() {
    rapidjson::Document d = Parse(Get("/healthz").body);
    absl::Time t = absl::InfinitePast();
    if (d["history"]["received"].HasMember("fleet")) {
      (void)absl::ParseTime(absl::RFC3339_full,
                            d["history"]["received"]["fleet"].GetString(), &t, nullptr);
    }
    return t;
  }
  // Waits until nothing is buffered: every acknowledged event is in the store.
  bool Drained(absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      if (Metric("allot_store_buffered_events") == 0) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

 private:
  std::unique_ptr<ServeProcess> process_;
};

int64_t Scalar(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return tx.exec1(sql)[0].as<int64_t>();
}

std::string LatestHistoryJson(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  const pqxx::result r = tx.exec(
      "SELECT history_json FROM allot_epochs WHERE experiment = 'fleet' "
      "ORDER BY epoch DESC LIMIT 1");
  return r.empty() ? "" : r[0][0].as<std::string>();
}

// Whether the unit converts, for a conversion rate of 10% on "small" and
// 30% on "large" (a fixed function of the unit: the same in both runs).
bool Converts(const std::string& unit, const std::string& arm) {
  const uint64_t h = std::hash<std::string>{}(unit) % 100;
  return h < (arm == "large" ? 30u : 10u);
}

TEST(StoreFleetTest, TwoReplicasAndALearnerAreOneEngine) {
  const TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(store::InitSchema(db.url()).ok());
  ScratchDir dir_a("fleet_a"), dir_b("fleet_b");
  Replica a(dir_a.path(), "replica-a", db.url());
  ASSERT_GT(a.port(), 0) << a.process().start_line();
  Replica b(dir_b.path(), "replica-b", db.url());
  ASSERT_GT(b.port(), 0) << b.process().start_line();
  EXPECT_THAT(a.process().start_line(), HasSubstr("replica of the store"));

  // The first replica started the experiment; the embedded engine starts
  // it at the same time.
  const absl::Time start = absl::FromUnixMicros(Scalar(
      db.url(), "SELECT started_us FROM allot_experiments WHERE experiment='fleet'"));
  absl::StatusOr<ExperimentConfig> config =
      ParseExperimentToml(kFleetExperiment, "fleet.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(*config).ok());
  ASSERT_TRUE(engine.Start("fleet", start).ok());

  // 40 steps of 2 minutes, 50 new units each (even ones through replica a,
  // odd through b); the outcomes of a step's units come at the next step.
  constexpr int kSteps = 40, kUnitsPerStep = 50;
  std::vector<std::pair<std::string, std::string>> pending;  // unit, arm
  std::vector<double> follow_ms;
  int mismatches = 0;
  for (int step = 0; step < kSteps; ++step) {
    const absl::Time now = start + absl::Seconds(1) + absl::Minutes(2) * step;
    a.SetClock(now);
    b.SetClock(now);
    int i = 0;
    for (const auto& [unit, arm] : pending) {
      Replica& r = (i++ % 2 == 0) ? a : b;
      if (!Converts(unit, arm)) continue;
      const HttpResult o =
          r.Post("/v1/experiments/fleet/outcomes",
                 absl::StrCat(R"({"unit":")", unit, R"(","value":1,"time":")",
                              FormatRfc3339(now), R"("})"));
      ASSERT_EQ(o.body, R"({"disposition":"queued"})");
      ASSERT_TRUE(engine.RecordOutcome("fleet", unit, now, 1.0).ok());
    }
    pending.clear();
    // Every event in the store, then the learner's grid points up to now.
    ASSERT_TRUE(a.Drained());
    ASSERT_TRUE(b.Drained());
    std::string out;
    ASSERT_EQ(
        RunShell(absl::StrCat(ALLOT_CLI_PATH, " learn --store '", db.url(),
                              "' --experiment '", dir_a.path(),
                              "/exp.toml' --once-until ", FormatRfc3339(now), " 2>&1"),
                 &out),
        0)
        << out;
    absl::StatusOr<std::vector<ReallocationReport>> reports = engine.Advance(now);
    ASSERT_TRUE(reports.ok()) << reports.status();
    // Both replicas on the store's latest epoch before the next units.
    const int64_t latest =
        Scalar(db.url(), "SELECT max(epoch) FROM allot_epochs WHERE experiment='fleet'");
    const absl::Time learned = absl::Now();
    while ((a.Epoch() != latest || b.Epoch() != latest) &&
           absl::Now() - learned < absl::Seconds(10)) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(a.Epoch(), latest);
    ASSERT_EQ(b.Epoch(), latest);
    if (latest > 0 && std::any_of(reports->begin(), reports->end(),
                                  [](const auto& r) { return r.reallocated; })) {
      // From the learner's transaction (its start: now() in PostgreSQL) to
      // the later of the two replicas receiving the epoch.
      const absl::Time written = absl::FromUnixMicros(
          Scalar(db.url(),
                 "SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM "
                 "allot_learner_state WHERE experiment = 'fleet'"));
      follow_ms.push_back(
          absl::ToDoubleMilliseconds(std::max(a.Received(), b.Received()) - written));
    }
    for (int u = 0; u < kUnitsPerStep; ++u) {
      const std::string unit = absl::StrCat("conv-", step, "-", u);
      Replica& r = (u % 2 == 0) ? a : b;
      const HttpResult got = r.Post("/v1/experiments/fleet/assign",
                                    absl::StrCat(R"({"unit":")", unit, R"("})"));
      ASSERT_EQ(got.status, 200) << got.body;
      rapidjson::Document d = Parse(got.body);
      absl::StatusOr<Assignment> want = engine.Assign("fleet", unit, now);
      ASSERT_TRUE(want.ok()) << want.status();
      const std::string arm = d["arm"].GetString();
      if (arm != want->arm_info->id || d["epoch"].GetInt64() != want->epoch) ++mismatches;
      pending.emplace_back(unit, arm);
    }
  }
  EXPECT_EQ(mismatches, 0) << "units the fleet and the engine assigned differently";
  absl::StatusOr<AllocationHistory> history = engine.History("fleet");
  ASSERT_TRUE(history.ok());
  ASSERT_GE(history->epochs().size(), 3u) << "the engine never reallocated";
  EXPECT_EQ(LatestHistoryJson(db.url()), history->ToJson());
  EXPECT_EQ(a.Get("/v1/experiments/fleet/history").body, history->ToJson());
  EXPECT_EQ(b.Get("/v1/experiments/fleet/history").body, history->ToJson());
  ASSERT_TRUE(a.Drained());
  ASSERT_TRUE(b.Drained());
  EXPECT_EQ(Scalar(db.url(), "SELECT count(*) FROM allot_exposures"),
            kSteps * kUnitsPerStep);
  ASSERT_FALSE(follow_ms.empty());
  std::sort(follow_ms.begin(), follow_ms.end());
  // The issue's target: every replica on the new epoch within 2 s.
  EXPECT_LT(follow_ms.back(), 2000.0);
  std::cout << "replicas on the new epoch after " << follow_ms.size()
            << " reallocations: median " << follow_ms[follow_ms.size() / 2] << " ms, max "
            << follow_ms.back() << " ms\n";
}

TEST(StoreFleetTest, AReplicaServesOnWhileItsDatabaseIsDownAndLosesNothing) {
  PrivateServer server;
  ASSERT_FALSE(server.url().empty());
  const TestDatabase db(server.url());
  ASSERT_TRUE(store::InitSchema(db.url()).ok());
  ScratchDir dir("fleet_down");
  Replica r(dir.path(), "replica-a", db.url());
  ASSERT_GT(r.port(), 0) << r.process().start_line();
  const absl::Time start = absl::FromUnixMicros(Scalar(
      db.url(), "SELECT started_us FROM allot_experiments WHERE experiment='fleet'"));
  r.SetClock(start + absl::Seconds(1));
  const auto assign = [&](int i) {
    return r.Post("/v1/experiments/fleet/assign",
                  absl::StrCat(R"({"unit":"u)", i, R"("})"));
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(assign(i).status, 200);
  ASSERT_TRUE(r.Drained());
  ASSERT_TRUE(server.Stop());
  // Down: assignments go on from the history it has; health says so.
  for (int i = 200; i < 700; ++i) ASSERT_EQ(assign(i).status, 200) << i;
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (r.Metric("allot_store_healthy") != 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(r.Metric("allot_store_healthy"), 0);
  EXPECT_GT(r.Metric("allot_store_buffered_events"), 0);
  rapidjson::Document health = Parse(r.Get("/healthz").body);
  EXPECT_STREQ(health["status"].GetString(), "degraded");
  EXPECT_FALSE(health["store"]["writing"].GetBool());
  EXPECT_EQ(r.Get("/v1/experiments/fleet/history").status, 200);
  // Back up: what was buffered reaches the store, each exposure once.
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(r.Drained(absl::Seconds(30)));
  EXPECT_EQ(r.Metric("allot_store_healthy"), 1);
  EXPECT_EQ(Scalar(db.url(), "SELECT count(*) FROM allot_exposures"), 700);
  // The follower reconnects too: healthy again.
  const absl::Time back = absl::Now() + absl::Seconds(15);
  std::string status;
  do {
    absl::SleepFor(absl::Milliseconds(50));
    status = Parse(r.Get("/healthz").body)["status"].GetString();
  } while (status != "ok" && absl::Now() < back);
  EXPECT_EQ(status, "ok");
}

// A replica killed with SIGKILL while it has events buffered loses at most
// what it acknowledged in its last flush_interval (plus one write), never
// older events.
TEST(StoreFleetTest, AKilledReplicaLosesOnlyItsLastFlushInterval) {
  const TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(store::InitSchema(db.url()).ok());
  ScratchDir dir("fleet_kill");
  Replica r(dir.path(), "replica-a", db.url());
  ASSERT_GT(r.port(), 0) << r.process().start_line();
  const absl::Time start = absl::FromUnixMicros(Scalar(
      db.url(), "SELECT started_us FROM allot_experiments WHERE experiment='fleet'"));
  r.SetClock(start + absl::Seconds(1));
  // Assign for 1.5 s, noting when each answer came; then kill.
  std::vector<absl::Time> acknowledged;
  const absl::Time began = absl::Now();
  while (absl::Now() - began < absl::Milliseconds(1500)) {
    const HttpResult a =
        r.Post("/v1/experiments/fleet/assign",
               absl::StrCat(R"({"unit":"k)", acknowledged.size(), R"("})"));
    ASSERT_EQ(a.status, 200) << a.body;
    acknowledged.push_back(absl::Now());
  }
  const absl::Time killed = absl::Now();
  r.process().Stop(SIGKILL);
  // flush_interval is 50 ms: everything acknowledged a second before the
  // kill (twenty intervals, room for a slow write on a busy machine) must
  // be in the store, each once.
  const allot::internal::UnitFingerprint fingerprint("fleet");
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  size_t settled = 0, present = 0;
  absl::Duration oldest_lost = absl::ZeroDuration();
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    const allot::internal::UnitKey key = fingerprint.Of(absl::StrCat("k", i));
    const int64_t rows =
        tx.exec_params1(
              "SELECT count(*) FROM allot_exposures WHERE unit_hi = $1 AND "
              "unit_lo = $2",
              static_cast<int64_t>(key.hi), static_cast<int64_t>(key.lo))[0]
            .as<int64_t>();
    EXPECT_LE(rows, 1) << "k" << i;
    present += rows;
    if (rows == 0) oldest_lost = std::max(oldest_lost, killed - acknowledged[i]);
    if (acknowledged[i] < killed - absl::Seconds(1)) {
      ++settled;
      EXPECT_EQ(rows, 1) << "k" << i << " was acknowledged "
                         << absl::FormatDuration(killed - acknowledged[i])
                         << " before the kill";
    }
  }
  ASSERT_GT(settled, 50u);
  std::cout << acknowledged.size() << " assigns acknowledged, " << present
            << " exposures in the store after the kill, " << acknowledged.size() - present
            << " lost, the oldest acknowledged " << absl::FormatDuration(oldest_lost)
            << " before the kill\n";
}

// The learner inside the replicas ([store] learner = true): one leads, the
// other stands by; the leader is killed with SIGKILL and the standby takes
// over, and the epochs go on.
TEST(StoreFleetTest, ALearnerInEachReplicaOneLeadsAndTheOtherTakesOver) {
  const TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(store::InitSchema(db.url()).ok());
  constexpr char kFast[] = R"(id = "fleet"
[[arms]]
id = "small"
[[arms]]
id = "large"
[policy]
kind = "thompson"
[schedule]
burn_in = "2s"
interval = "1s"
min_units_per_arm = 5
conversion_window = "1s"
)";
  ScratchDir dir_a("learn_a"), dir_b("learn_b");
  std::vector<std::unique_ptr<ServeProcess>> replicas;
  for (const auto& [dir, name] :
       {std::pair{dir_a.path(), "replica-a"}, std::pair{dir_b.path(), "replica-b"}}) {
    WriteBytes(dir + "/exp.toml", kFast);
    WriteBytes(dir + "/serve.toml",
               absl::StrCat("listen = \"127.0.0.1:0\"\nexperiments = [\"exp.toml\"]\n",
                            "[store]\nreplica = \"", name,
                            "\"\nflush_interval = \"50ms\"\npoll_interval = \"200ms\"\n",
                            "learner = true\nlearner_lag = \"300ms\"\n"));
    replicas.push_back(std::make_unique<ServeProcess>(
        std::vector<std::string>{"serve", "--config", dir + "/serve.toml", "--store",
                                 db.url()},
        dir, 0));
    ASSERT_GT(replicas.back()->port(), 0) << replicas.back()->start_line();
  }
  const auto health = [&](size_t r) {
    return Parse(Http(replicas[r]->port(), "GET", "/healthz", "", {}).body);
  };
  const auto learner_state = [&](size_t r) {
    rapidjson::Document d = health(r);
    return std::string(d["learner"]["fleet"].GetString());
  };
  // Traffic on both replicas (the large model converts much more often)
  // until some epochs exist, about a second per epoch.
  int unit = 0;
  const auto traffic = [&](size_t r, int n) {
    for (int i = 0; i < n; ++i, ++unit) {
      const std::string id = absl::StrCat("u", unit);
      const HttpResult a =
          Http(replicas[r]->port(), "POST", "/v1/experiments/fleet/assign",
               absl::StrCat(R"({"unit":")", id, R"("})"), {});
      ASSERT_EQ(a.status, 200) << a.body;
      const std::string arm = Parse(a.body)["arm"].GetString();
      if (Converts(id, arm)) {
        Http(replicas[r]->port(), "POST", "/v1/experiments/fleet/outcomes",
             absl::StrCat(R"({"unit":")", id, R"(","value":1})"), {});
      }
    }
  };
  const auto epoch_of = [&](size_t r) {
    return health(r)["history"]["epochs"]["fleet"].GetInt64();
  };
  absl::Time until = absl::Now() + absl::Seconds(30);
  while (epoch_of(0) < 2 && absl::Now() < until) {
    traffic(0, 20);
    traffic(1, 20);
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(epoch_of(0), 2) << "no reallocation within 30 s";
  const std::string s0 = learner_state(0), s1 = learner_state(1);
  ASSERT_TRUE((s0 == "leading" && s1 == "standby") ||
              (s0 == "standby" && s1 == "leading"))
      << s0 << " / " << s1;
  const size_t leader = s0 == "leading" ? 0 : 1, standby = 1 - leader;
  const auto learned = [&](int64_t* reports) {
    pqxx::connection conn(db.url());
    pqxx::read_transaction tx(conn);
    const pqxx::row row = tx.exec1(
        "SELECT learner, reports_made FROM allot_learner_state WHERE experiment = "
        "'fleet'");
    *reports = row[1].as<int64_t>();
    return row[0].as<std::string>();
  };
  int64_t reports_before = 0;
  learned(&reports_before);
  replicas[leader]->Stop(SIGKILL);
  // The standby takes the lock (the dead leader's session ends with it),
  // restores from the store and runs the grid points on: the reports go on
  // under its name (the epochs may not: once one arm is surely best the
  // weights stay at the floor).
  const std::string standby_id = standby == 0 ? "replica-a" : "replica-b";
  int64_t reports_after = 0;
  until = absl::Now() + absl::Seconds(30);
  while ((learner_state(standby) != "leading" || learned(&reports_after) != standby_id ||
          reports_after < reports_before + 3) &&
         absl::Now() < until) {
    traffic(standby, 20);
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(learner_state(standby), "leading");
  EXPECT_EQ(learned(&reports_after), standby_id);
  EXPECT_GE(reports_after, reports_before + 3)
      << Http(replicas[standby]->port(), "GET", "/healthz", "", {}).body;
}

}  // namespace
}  // namespace allot::test
