// Copyright 2026 The allot Authors.
//
// The store's learner against a real PostgreSQL 15 (the ctest fixture
// `postgres`): the same event log through the embedded engine (as `allot
// replay` runs it) and through the store (events inserted as replicas
// would, the learner at each grid point) gives the same reports and
// history; a learner restored midway, or a standby taking over from a
// leader killed with SIGKILL, loses and double counts no unit; the
// count of matured units reads the (experiment, exposed_us) index.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "allot/report.h"
#include "allot/time_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "pqxx/pqxx"
#include "store/event_store.h"
#include "store/learner.h"
#include "store/learner_sql.h"
#include "store/pg.h"
#include "store/schema.h"
#include "tests/learner_events.h"
#include "tests/pg_database.h"
#include "tests/scratch_files.h"

namespace allot::store {
namespace {

using test::EventLog;
using test::LogOptions;
using test::RunEmbedded;
using test::TestDatabase;

std::string Num(double v) { return absl::StrFormat("%.17g", v); }

// Registers and starts the log's experiment in the store and appends its
// events as replicas do, through two EventStores (the replicas' write path):
// each unit's events through one of them (so its first exposure arrives
// first; returning units' exposures are dropped by the primary key),
// outcomes with their log's event ids.
void LoadLog(const std::string& url, const EventLog& log, const std::string& toml) {
  ASSERT_TRUE(InitSchema(url).ok());
  const ExperimentConfig& config = log.config;
  std::vector<std::unique_ptr<EventStore>> replicas;
  for (const char* name : {"r1", "r2"}) {
    EventStoreOptions options;
    options.replica = name;
    absl::StatusOr<std::unique_ptr<EventStore>> replica =
        EventStore::Connect(url, options);
    ASSERT_TRUE(replica.ok()) << replica.status();
    ASSERT_TRUE((*replica)->RegisterExperiment(config.id, toml, log.start).ok());
    replicas.push_back(*std::move(replica));
  }
  const internal::UnitFingerprint fingerprint(config.EffectiveSalt());
  for (const test::LoggedEvent& e : log.events) {
    const internal::UnitKey key = fingerprint.Of(e.unit);
    EventStore& replica = *replicas[key.hi % 2];
    if (e.kind == test::LoggedEvent::kExposure) {
      ExposureEvent x;
      x.experiment = config.id;
      x.unit_hi = key.hi;
      x.unit_lo = key.lo;
      x.arm = e.arm;
      x.epoch = static_cast<int>(e.epoch);
      x.propensity = e.propensity;
      x.holdout = e.holdout;
      x.exposed = e.time;
      const absl::Status appended = replica.AppendExposure(x);
      ASSERT_TRUE(appended.ok()) << appended;
    } else {
      OutcomeEvent o;
      o.experiment = config.id;
      o.event_id = e.event_id;
      o.unit_hi = key.hi;
      o.unit_lo = key.lo;
      // The write path names every metric, the primary by its id.
      o.metric = e.metric.empty() ? config.metric_id : e.metric;
      o.value = e.value;
      o.time = e.time;
      const absl::Status appended = replica.AppendOutcome(o);
      ASSERT_TRUE(appended.ok()) << appended;
    }
  }
  for (auto& replica : replicas) ASSERT_TRUE(replica->Flush(absl::Seconds(60)).ok());
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec("ANALYZE allot_exposures");
  tx.exec("ANALYZE allot_outcomes");
}

std::vector<std::string> StoredReports(const std::string& url, const std::string& id) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  std::vector<std::string> out;
  for (const pqxx::row& row :
       tx.exec_params("SELECT report_index, report_json FROM allot_reports "
                      "WHERE experiment = $1 ORDER BY report_index",
                      id)) {
    EXPECT_EQ(row[0].as<int64_t>(), static_cast<int64_t>(out.size()));
    out.push_back(row[1].as<std::string>());
  }
  return out;
}

std::vector<std::string> EachReport(const std::vector<ReallocationReport>& reports) {
  std::vector<std::string> out;
  for (const ReallocationReport& r : reports) out.push_back(ReportsToJson({r}));
  return out;
}

// Checks what the store holds against the embedded run: one report row per
// report, identical; one epoch row per epoch, the last with the history.
void ExpectStoreHolds(const std::string& url, const EventLog& log) {
  EXPECT_EQ(StoredReports(url, log.config.id), EachReport(log.reports));
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  int reallocations = 0;
  for (const ReallocationReport& r : log.reports) reallocations += r.reallocated;
  const pqxx::row epochs = tx.exec_params1(
      "SELECT count(*), max(epoch) FROM allot_epochs WHERE experiment = $1",
      log.config.id);
  EXPECT_EQ(epochs[0].as<int64_t>(), reallocations + 1);
  EXPECT_EQ(epochs[1].as<int64_t>(), reallocations);
  const pqxx::row last = tx.exec_params1(
      "SELECT history_json FROM allot_epochs WHERE experiment = $1 "
      "ORDER BY epoch DESC LIMIT 1",
      log.config.id);
  EXPECT_EQ(last[0].as<std::string>(), log.history_json);
  const pqxx::row state = tx.exec_params1(
      "SELECT watermark_us, reports_made FROM allot_learner_state WHERE experiment = $1",
      log.config.id);
  EXPECT_EQ(state[0].as<int64_t>(), absl::ToUnixMicros(log.reports.back().time));
  EXPECT_EQ(state[1].as<int64_t>(), static_cast<int64_t>(log.reports.size()));
}

void ExpectSameAsEmbedded(const char* toml, uint64_t seed) {
  LogOptions options;
  // Binary outcomes, and continuous values on a 1/64 grid, sum exactly in
  // any order (engine_advance_with_test.cc shows real values agree within
  // rounding): the store must then give bit-identical reports.
  options.quantized = true;
  const EventLog log = RunEmbedded(test::ParsedConfig(toml), seed, options);
  ASSERT_GE(log.reports.size(), 7u);
  const TestDatabase db;
  LoadLog(db.url(), log, toml);
  absl::StatusOr<std::unique_ptr<Learner>> learner =
      Learner::Connect(db.url(), log.config);
  ASSERT_TRUE(learner.ok()) << learner.status();
  absl::StatusOr<bool> leading = (*learner)->TryLead();
  ASSERT_TRUE(leading.ok()) << leading.status();
  ASSERT_TRUE(*leading);
  absl::StatusOr<std::vector<ReallocationReport>> reports = (*learner)->RunUntil(log.end);
  ASSERT_TRUE(reports.ok()) << reports.status();
  EXPECT_EQ(ReportsToJson(*reports), ReportsToJson(log.reports));
  EXPECT_EQ((*learner)->engine().History(log.config.id)->ToJson(), log.history_json);
  ExpectStoreHolds(db.url(), log);
}

TEST(StoreLearnerTest, BinaryWithContinuousGuardrailGivesTheEmbeddedReports) {
  ExpectSameAsEmbedded(test::kBinaryWithLatencyToml, 7);
}

TEST(StoreLearnerTest, ContinuousWithBinaryGuardrailGivesTheEmbeddedReports) {
  ExpectSameAsEmbedded(test::kContinuousWithErrorsToml, 3);
}

// Real-valued outcomes: PostgreSQL sums a grid point's units (in its own
// order) and the engine adds those sums to its running ones, where the
// embedded engine adds unit by unit. The same numbers summed in another
// order differ by a few ulps (see engine_advance_with_test.cc), so the
// reports agree within 1e-9 and exactly in counts and decisions.
TEST(StoreLearnerTest, RealValuedOutcomesAgreeWithinRounding) {
  for (const char* toml :
       {test::kContinuousWithErrorsToml, test::kBinaryWithLatencyToml}) {
    const EventLog log = RunEmbedded(test::ParsedConfig(toml), 3, {});
    const TestDatabase db;
    LoadLog(db.url(), log, toml);
    auto learner = Learner::Connect(db.url(), log.config);
    ASSERT_TRUE(learner.ok()) << learner.status();
    ASSERT_TRUE(*(*learner)->TryLead());
    absl::StatusOr<std::vector<ReallocationReport>> reports =
        (*learner)->RunUntil(log.end);
    ASSERT_TRUE(reports.ok()) << reports.status();
    test::ExpectReportsAgree(*reports, log.reports, 1e-9);
    double max_difference = 0;
    for (size_t i = 0; i < reports->size() && i < log.reports.size(); ++i) {
      for (size_t a = 0; a < log.reports[i].weights_after.size(); ++a) {
        max_difference = std::max(
            max_difference,
            std::abs((*reports)[i].weights_after[a] - log.reports[i].weights_after[a]));
      }
    }
    std::cout << log.config.id << ": largest weight difference " << max_difference
              << "\n";
  }
}

TEST(StoreLearnerTest, SecondLearnerWaitsAndRestoredLearnerContinues) {
  LogOptions options;
  options.quantized = true;
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  const absl::Time midway = log.reports[3].time;
  {
    absl::StatusOr<std::unique_ptr<Learner>> first =
        Learner::Connect(db.url(), log.config);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE(*(*first)->TryLead());
    ASSERT_TRUE((*first)->RunUntil(midway).ok());
    // While the first leads, a second is a standby.
    absl::StatusOr<std::unique_ptr<Learner>> second =
        Learner::Connect(db.url(), log.config);
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE(*(*second)->TryLead());
    EXPECT_EQ((*second)->RunUntil(log.end).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }  // the first's connection closes, and its lock goes with it
  absl::StatusOr<std::unique_ptr<Learner>> next = Learner::Connect(db.url(), log.config);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(*(*next)->TryLead());
  EXPECT_EQ((*next)->watermark(), midway);
  absl::StatusOr<std::vector<ReallocationReport>> rest = (*next)->RunUntil(log.end);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->size(), log.reports.size() - 4);
  ExpectStoreHolds(db.url(), log);
}

TEST(StoreLearnerTest, RestoreRefusesAStoreThatDisagreesWithItsEvents) {
  LogOptions options;
  options.quantized = true;
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  {
    auto first = Learner::Connect(db.url(), log.config);
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(*(*first)->TryLead());
    ASSERT_TRUE((*first)->RunUntil(log.reports[4].time).ok());
  }
  {
    // Conversions appear, before the watermark, after it was written.
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO allot_outcomes SELECT experiment, 'late-' || unit_hi || unit_lo, "
        "unit_hi, unit_lo, '', 1, exposed_us, 'r9' FROM allot_exposures "
        "WHERE experiment = $1 AND NOT holdout LIMIT 100",
        log.config.id);
    tx.exec("ANALYZE allot_outcomes");
    tx.commit();
  }
  auto next = Learner::Connect(db.url(), log.config);
  ASSERT_TRUE(next.ok());
  absl::StatusOr<bool> leading = (*next)->TryLead();
  EXPECT_EQ(leading.status().code(), absl::StatusCode::kFailedPrecondition)
      << leading.status();
}

TEST(StoreLearnerTest, StopsLeadingWhenAnotherWriterMovedTheWatermark) {
  LogOptions options;
  options.quantized = true;
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  auto learner = Learner::Connect(db.url(), log.config);
  ASSERT_TRUE(learner.ok());
  ASSERT_TRUE(*(*learner)->TryLead());
  ASSERT_TRUE((*learner)->RunUntil(log.reports[2].time).ok());
  {
    // A writer that does not hold the lock (an operator, a learner of an
    // older allot) moves the watermark on.
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE allot_learner_state SET watermark_us = watermark_us + 3600000000 "
        "WHERE experiment = $1",
        log.config.id);
    tx.commit();
  }
  absl::StatusOr<std::vector<ReallocationReport>> rest = (*learner)->RunUntil(log.end);
  EXPECT_EQ(rest.status().code(), absl::StatusCode::kFailedPrecondition) << rest.status();
  EXPECT_FALSE((*learner)->leading());
  // Nothing of the refused grid point was written.
  EXPECT_EQ(StoredReports(db.url(), log.config.id).size(), 3u);
}

// A child process (`allot ARGS...`) with its output in files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& out_path)
      : out_path_(out_path) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      std::string exe = ALLOT_CLI_PATH;
      argv.push_back(exe.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !waited_) Kill();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Returns the exit code, or -signal; -1000 when it is still running after
  // `timeout` (it is then killed).
  int Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        Kill();
        return -1000;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  void Kill() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
  }
  std::string output() const { return test::ReadBytes(out_path_); }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  std::string out_path_;
};

int64_t Watermark(const std::string& url, const std::string& id) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  const pqxx::result r = tx.exec_params(
      "SELECT watermark_us FROM allot_learner_state WHERE experiment = $1", id);
  return r.empty() ? INT64_MIN : r[0][0].as<int64_t>();
}

TEST(StoreLearnerTest, StandbyTakesOverFromAKilledLeaderLosingNoUnit) {
  LogOptions options;
  options.quantized = true;
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  const test::ScratchDir dir;
  const std::string toml = dir.path() + "/experiment.toml";
  test::WriteBytes(toml, test::kBinaryWithLatencyToml);
  auto args = [&](const std::string& name) {
    // A pause after each grid point, so the leader dies with work left.
    return std::vector<std::string>{"learn",
                                    "--store",
                                    db.url(),
                                    "--experiment",
                                    toml,
                                    "--once-until",
                                    FormatRfc3339(log.end),
                                    "--poll",
                                    "50ms",
                                    "--pace",
                                    "250ms",
                                    "--learner-id",
                                    name};
  };
  Child leader(args("leader"), dir.path() + "/leader.txt");
  // The leader has done three grid points (of eight or more) ...
  const int64_t third = absl::ToUnixMicros(log.reports[2].time);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (Watermark(db.url(), log.config.id) < third && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(Watermark(db.url(), log.config.id), third) << leader.output();
  // ... when a standby starts, then the leader is killed mid-way.
  Child standby(args("standby"), dir.path() + "/standby.txt");
  absl::SleepFor(absl::Milliseconds(300));
  leader.Kill();
  const int64_t at_kill = Watermark(db.url(), log.config.id);
  EXPECT_LT(at_kill, absl::ToUnixMicros(log.reports.back().time));
  EXPECT_EQ(standby.Wait(absl::Seconds(120)), 0) << standby.output();
  std::cout << "leader:\n" << leader.output() << "standby:\n" << standby.output();
  EXPECT_THAT(standby.output(), testing::HasSubstr("standby: another learner leads"));
  EXPECT_THAT(standby.output(), testing::HasSubstr("leading"));
  ExpectStoreHolds(db.url(), log);
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(
      tx.exec_params1("SELECT learner FROM allot_learner_state WHERE experiment = $1",
                      log.config.id)[0]
          .as<std::string>(),
      "standby");
}

// The commands end to end: `allot replay` over the log as an events CSV,
// and `allot learn` over the same events in the store.
TEST(StoreLearnerTest, ReplayAndLearnCommandsGiveTheSameReportsAndHistory) {
  LogOptions options;
  options.quantized = true;
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const test::ScratchDir dir;
  const std::string toml = dir.path() + "/experiment.toml";
  test::WriteBytes(toml, test::kBinaryWithLatencyToml);
  std::string csv = "time,kind,unit,value,unit_start,metric\n";
  for (const test::LoggedEvent& e : log.events) {
    if (e.kind == test::LoggedEvent::kExposure) {
      absl::StrAppend(&csv, FormatRfc3339(e.time), ",assign,", e.unit, ",,,\n");
    } else {
      absl::StrAppend(&csv, FormatRfc3339(e.time), ",outcome,", e.unit, ",", Num(e.value),
                      ",,", e.metric, "\n");
    }
  }
  absl::StrAppend(&csv, FormatRfc3339(log.end), ",advance,,,,\n");
  test::WriteBytes(dir.path() + "/events.csv", csv);
  Child replay({"replay", "--experiment", toml, "--events", dir.path() + "/events.csv",
                "--out", dir.path() + "/replay", "--start", FormatRfc3339(log.start)},
               dir.path() + "/replay.txt");
  ASSERT_EQ(replay.Wait(absl::Seconds(120)), 0) << replay.output();
  EXPECT_EQ(test::ReadBytes(dir.path() + "/replay/reports.json"),
            ReportsToJson(log.reports));
  EXPECT_EQ(test::ReadBytes(dir.path() + "/replay/history.json"), log.history_json);

  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  Child learn({"learn", "--store", db.url(), "--experiment", toml, "--once-until",
               FormatRfc3339(log.end)},
              dir.path() + "/learn.txt");
  ASSERT_EQ(learn.Wait(absl::Seconds(120)), 0) << learn.output();
  ExpectStoreHolds(db.url(), log);
}

TEST(StoreLearnerTest, AggregationReadsTheExposureTimeIndex) {
  LogOptions options;
  options.units_per_hour = 4000;  // a table large enough for the planner to care
  const EventLog log =
      RunEmbedded(test::ParsedConfig(test::kBinaryWithLatencyToml), 7, options);
  const TestDatabase db;
  LoadLog(db.url(), log, test::kBinaryWithLatencyToml);
  WindowClock clock;
  clock.start_us = absl::ToUnixMicros(log.start);
  clock.window_us = absl::ToInt64Microseconds(log.config.schedule.conversion_window);
  const int64_t due = absl::ToUnixMicros(log.reports[4].time);
  const int64_t previous = absl::ToUnixMicros(log.reports[3].time);
  pqxx::connection conn(db.url());
  pqxx::work tx(conn);
  std::string plan;
  // As the learner runs it: on the experiment's partition.
  const EventTables tables = ExperimentTables(tx, log.config.id);
  EXPECT_NE(tables.exposures, "allot_exposures");
  for (const pqxx::row& row : tx.exec_params(
           absl::StrCat("EXPLAIN ", MaturedSql(log.config, clock, tables)), log.config.id,
           clock.MaturedFrom(previous), clock.MaturedFrom(due))) {
    absl::StrAppend(&plan, row[0].as<std::string>(), "\n");
  }
  // The partition's copy of allot_exposures_exposed (experiment, exposed_us).
  EXPECT_THAT(plan,
              testing::ContainsRegex(
                  "(Index (Only )?Scan using|Bitmap Index Scan on) [a-z0-9_]*exposed"))
      << plan;
  EXPECT_THAT(plan, testing::Not(testing::HasSubstr("Seq Scan on allot_exposures")))
      << plan;
}

TEST(StoreLearnerTest, MaturedFromIsTheLedgersWindowEnd) {
  WindowClock clock;
  clock.start_us = 1'000'000'000'000;
  clock.window_us = 30 * 60 * 1'000'000LL;
  // Exposed at start + 10.7 s: kept as 10 s, so its window closes at start
  // + 10 s + 30 min.
  const int64_t exposed = clock.start_us + 10'700'000;
  const int64_t closes = clock.start_us + 10'000'000 + clock.window_us;
  EXPECT_FALSE(exposed < clock.MaturedFrom(closes - 1));
  EXPECT_TRUE(exposed < clock.MaturedFrom(closes));
  EXPECT_EQ(clock.MaturedFrom(INT64_MIN), INT64_MIN);
  // Before the first window could close: nothing has matured.
  EXPECT_LE(clock.MaturedFrom(clock.start_us), clock.start_us);
}

}  // namespace
}  // namespace allot::store
