// Copyright 2026 The allot Authors.
//
// EventStore against a real PostgreSQL 15: writes, idempotency (batches
// delivered twice, out of order, two replicas exposing one unit), the
// flusher across a database stopped and restarted mid-stream, the bounded
// buffer, the acknowledged-loss window under SIGKILL, epochs, and errors.

#include "store/event_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "pqxx/pqxx"
#include "store/schema.h"
#include "tests/pg_database.h"

namespace allot::store {
namespace {

using ::allot::test::PrivateServer;
using ::allot::test::TestDatabase;
using ::testing::HasSubstr;

constexpr char kExp[] = "exp-a";
const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::string Query(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

EventStoreOptions Options(const std::string& replica) {
  EventStoreOptions o;
  o.replica = replica;
  o.incarnation = 7;
  o.flush_interval = absl::Milliseconds(50);
  o.retry_initial = absl::Milliseconds(20);
  o.retry_max = absl::Milliseconds(200);
  return o;
}

// A database with the schema, and a store on it with kExp registered.
struct Fixture {
  explicit Fixture(const std::string& server = "") : db(server) {
    EXPECT_TRUE(InitSchema(db.url()).ok());
  }
  std::unique_ptr<EventStore> Open(const std::string& replica,
                                   EventStoreOptions options = {}) {
    if (options.replica.empty()) options = Options(replica);
    absl::StatusOr<std::unique_ptr<EventStore>> s =
        EventStore::Connect(db.url(), options);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return nullptr;
    EXPECT_TRUE((*s)->RegisterExperiment(kExp, "id = \"exp-a\"", kT0).ok());
    return *std::move(s);
  }
  TestDatabase db;
};

ExposureEvent Exposure(uint64_t unit, int arm = 0, absl::Time t = kT0) {
  return {.experiment = kExp,
          .unit_hi = unit ^ 0x8000000000000000ull,  // the high bit set: a negative bigint
          .unit_lo = unit,
          .arm = arm,
          .epoch = 0,
          .propensity = 0.5,
          .holdout = false,
          .exposed = t,
          .unit_start = std::nullopt};
}

OutcomeEvent Outcome(const std::string& id, uint64_t unit, double value) {
  return {.experiment = kExp,
          .event_id = id,
          .unit_hi = unit ^ 0x8000000000000000ull,
          .unit_lo = unit,
          .metric = "converted",
          .value = value,
          .time = kT0 + absl::Seconds(1)};
}

TEST(EventStoreTest, WritesExposuresAndOutcomes) {
  Fixture f;
  std::unique_ptr<EventStore> store = f.Open("r1");
  ASSERT_NE(store, nullptr);
  // A unit fingerprinted as the ledger does.
  const internal::UnitKey key = internal::UnitFingerprint("salt").Of("user-17");
  ExposureEvent e = Exposure(0, 1, kT0 + absl::Microseconds(3));
  e.unit_hi = key.hi;
  e.unit_lo = key.lo;
  e.propensity = 0.3;
  e.holdout = true;
  e.unit_start = kT0 - absl::Seconds(5);
  ASSERT_TRUE(store->AppendExposure(e).ok());
  for (uint64_t u = 1; u <= 999; ++u)
    ASSERT_TRUE(store->AppendExposure(Exposure(u)).ok());
  for (uint64_t u = 1; u <= 500; ++u) {
    ASSERT_TRUE(store->AppendOutcome(Outcome("", u, 1.25)).ok());
  }
  ASSERT_TRUE(store->Flush(absl::Seconds(30)).ok());
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), "1000");
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_outcomes"), "500");
  EXPECT_EQ(Query(f.db.url(),
                  absl::StrCat("SELECT concat_ws(',', arm, epoch, propensity, holdout,"
                               " exposed_us, unit_start_us, replica) FROM allot_exposures"
                               " WHERE unit_hi = ",
                               static_cast<int64_t>(key.hi),
                               " AND unit_lo = ", static_cast<int64_t>(key.lo))),
            absl::StrCat("1,0,0.3,t,", absl::ToUnixMicros(kT0) + 3, ",",
                         absl::ToUnixMicros(kT0 - absl::Seconds(5)), ",r1"));
  EXPECT_EQ(Query(f.db.url(),
                  "SELECT count(*) FROM allot_exposures"
                  " WHERE unit_start_us IS NULL"),
            "999");
  EXPECT_EQ(Query(f.db.url(), "SELECT min(event_id) FROM allot_outcomes"), "r1:7:1001");
  EXPECT_EQ(Query(f.db.url(), "SELECT sum(value) FROM allot_outcomes"), "625");
  const EventStoreStats s = store->Stats();
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.appended, 1500);
  EXPECT_EQ(s.exposures_written, 1000);
  EXPECT_EQ(s.outcomes_written, 500);
  EXPECT_EQ(s.duplicates_dropped, 0);
  EXPECT_EQ(s.buffered, 0u);
}

// Waits up to 20 s for `sql` to return `want`; returns what it last returned.
std::string WaitForQuery(const std::string& url, const std::string& sql,
                         const std::string& want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string got = Query(url, sql);
  while (got != want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
    got = Query(url, sql);
  }
  return got;
}

TEST(EventStoreTest, FlushesEveryIntervalWithoutBeingAsked) {
  Fixture f;
  EventStoreOptions options = Options("r1");
  options.flush_interval = absl::Milliseconds(50);
  std::unique_ptr<EventStore> store = f.Open("r1", options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AppendExposure(Exposure(1)).ok());
  EXPECT_EQ(WaitForQuery(f.db.url(), "SELECT count(*) FROM allot_exposures", "1"), "1");
}

TEST(EventStoreTest, FlushesAsSoonAsFlushEventsAreBuffered) {
  Fixture f;
  EventStoreOptions options = Options("r1");
  options.flush_interval = absl::Hours(1);
  options.flush_events = 100;
  std::unique_ptr<EventStore> store = f.Open("r1", options);
  ASSERT_NE(store, nullptr);
  for (uint64_t u = 0; u < 99; ++u) ASSERT_TRUE(store->AppendExposure(Exposure(u)).ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), "0");
  ASSERT_TRUE(store->AppendExposure(Exposure(99)).ok());
  EXPECT_EQ(WaitForQuery(f.db.url(), "SELECT count(*) FROM allot_exposures", "100"),
            "100");
}

TEST(EventStoreTest, ABatchDeliveredTwiceAndOutOfOrderIsWrittenOnce) {
  Fixture f;
  std::unique_ptr<EventStore> store = f.Open("r1");
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->AppendOutcome(Outcome(absl::StrCat("r9:1:", i), i, i)).ok());
  }
  ASSERT_TRUE(store->Flush(absl::Seconds(30)).ok());
  // Redelivered, reversed, with the second half repeated in the same flush.
  for (int i = 99; i >= 0; --i) {
    ASSERT_TRUE(store->AppendOutcome(Outcome(absl::StrCat("r9:1:", i), i, -1)).ok());
  }
  for (int i = 50; i < 100; ++i) {
    ASSERT_TRUE(store->AppendOutcome(Outcome(absl::StrCat("r9:1:", i), i, -2)).ok());
  }
  ASSERT_TRUE(store->Flush(absl::Seconds(30)).ok());
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_outcomes"), "100");
  EXPECT_EQ(Query(f.db.url(), "SELECT sum(value) FROM allot_outcomes"), "4950");
  EXPECT_EQ(store->Stats().duplicates_dropped, 150);
}

TEST(EventStoreTest, TheFirstExposureOfAUnitWins) {
  Fixture f;
  std::unique_ptr<EventStore> a = f.Open("replica-a");
  std::unique_ptr<EventStore> b = f.Open("replica-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Two replicas expose unit 1: a's write arrives first.
  ASSERT_TRUE(a->AppendExposure(Exposure(1, 0)).ok());
  ASSERT_TRUE(a->Flush(absl::Seconds(30)).ok());
  ASSERT_TRUE(b->AppendExposure(Exposure(1, 1, kT0 - absl::Seconds(1))).ok());
  ASSERT_TRUE(b->Flush(absl::Seconds(30)).ok());
  // Within one flush, the first appended wins.
  ASSERT_TRUE(b->AppendExposure(Exposure(2, 1)).ok());
  ASSERT_TRUE(b->AppendExposure(Exposure(2, 0)).ok());
  ASSERT_TRUE(b->AppendExposure(Exposure(2, 0)).ok());
  ASSERT_TRUE(b->Flush(absl::Seconds(30)).ok());
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), "2");
  EXPECT_EQ(
      Query(f.db.url(), "SELECT arm || replica FROM allot_exposures WHERE unit_lo = 1"),
      "0replica-a");
  EXPECT_EQ(
      Query(f.db.url(), "SELECT arm || replica FROM allot_exposures WHERE unit_lo = 2"),
      "1replica-b");
  EXPECT_EQ(b->Stats().duplicates_dropped, 3);
}

TEST(EventStoreTest, RefusesBadEventsAndUnregisteredExperiments) {
  Fixture f;
  std::unique_ptr<EventStore> store = f.Open("r1");
  ASSERT_NE(store, nullptr);
  ExposureEvent e = Exposure(1);
  e.experiment = "nope";
  absl::Status s = store->AppendExposure(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("\"nope\" is not registered"));
  e = Exposure(1);
  e.propensity = 0;
  EXPECT_THAT(store->AppendExposure(e).message(),
              HasSubstr("propensity must be in (0, 1]"));
  e = Exposure(1, 40000);
  EXPECT_THAT(store->AppendExposure(e).message(), HasSubstr("arm must be in [0, 32767]"));
  OutcomeEvent o = Outcome("x", 1, std::nan(""));
  EXPECT_THAT(store->AppendOutcome(o).message(), HasSubstr("value must be finite"));
  o = Outcome("bad\xff", 1, 1);
  EXPECT_THAT(store->AppendOutcome(o).message(), HasSubstr("event_id must be UTF-8"));
  o = Outcome("x", 1, 1);
  o.metric = "";
  EXPECT_THAT(store->AppendOutcome(o).message(), HasSubstr("metric must not be empty"));
  EXPECT_EQ(store->Stats().appended, 0);

  EventStoreOptions options = Options("");
  EXPECT_THAT(EventStore::Connect(f.db.url(), options).status().message(),
              HasSubstr("replica must be 1 to 64 bytes"));
  options = Options("r");
  options.max_buffered_events = 10;
  EXPECT_THAT(EventStore::Connect(f.db.url(), options).status().message(),
              HasSubstr("max_buffered_events must be >= flush_events"));
}

TEST(EventStoreTest, ConnectGivesClearErrors) {
  absl::Status s = EventStore::Connect("http://x", Options("r")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = EventStore::Connect("postgresql://127.0.0.1:1/x", Options("r")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("cannot connect"));

  const TestDatabase empty;
  s = EventStore::Connect(empty.url(), Options("r")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("allot store init"));

  const TestDatabase old;
  ASSERT_TRUE(MigrateSchema(old.url(), 1).ok());
  s = EventStore::Connect(old.url(), Options("r")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("allot store migrate"));

  Fixture newer;
  Query(newer.db.url(),
        "INSERT INTO allot_schema_migrations VALUES (3, 'future', now())");
  s = EventStore::Connect(newer.db.url(), Options("r")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("schema version 3, newer than this allot's 2"));
}

TEST(EventStoreTest, EpochsArePublishedOnceAndReadBack) {
  Fixture f;
  std::unique_ptr<EventStore> store = f.Open("r1");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->LatestHistory(kExp).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store->PublishEpoch(kExp, 0, kT0, "{\"epochs\":0}").ok());
  ASSERT_TRUE(store->PublishEpoch(kExp, 1, kT0 + absl::Hours(1), "{\"epochs\":1}").ok());
  ASSERT_TRUE(store->PublishEpoch(kExp, 1, kT0 + absl::Hours(1), "{\"epochs\":1}").ok());
  const absl::Status s = store->PublishEpoch(kExp, 1, kT0, "{\"other\":1}");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  const absl::StatusOr<StoredHistory> h = store->LatestHistory(kExp);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->epoch, 1);
  EXPECT_EQ(h->start, kT0 + absl::Hours(1));
  EXPECT_EQ(h->history_json, "{\"epochs\":1}");
}

TEST(EventStoreTest, AFullBufferRefusesAppendsWhileTheDatabaseIsDown) {
  PrivateServer server;
  ASSERT_FALSE(server.url().empty());
  Fixture f(server.url());
  EventStoreOptions options = Options("r1");
  options.flush_events = 10;
  options.max_buffered_events = 100;
  options.close_timeout = absl::ZeroDuration();
  std::unique_ptr<EventStore> store = f.Open("r1", options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(server.Stop());
  int accepted = 0;
  absl::Status last;
  for (uint64_t u = 0; u < 200 && last.ok(); ++u) {
    last = store->AppendExposure(Exposure(u));
    if (last.ok()) ++accepted;
  }
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(last.message(), HasSubstr("buffer is full (100 events)"));
  EXPECT_EQ(store->Stats().rejected, 1);
  EXPECT_EQ(store->Flush(absl::Milliseconds(300)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(store->healthy());
  EXPECT_THAT(store->Stats().last_error, HasSubstr("writing"));
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(store->Flush(absl::Seconds(30)).ok());
  EXPECT_TRUE(store->healthy());
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), "100");
}

TEST(EventStoreTest, ClosingGivesUpOnAnUnreachableDatabaseAfterCloseTimeout) {
  PrivateServer server;
  ASSERT_FALSE(server.url().empty());
  Fixture f(server.url());
  EventStoreOptions options = Options("r1");
  options.close_timeout = absl::Milliseconds(300);
  std::unique_ptr<EventStore> store = f.Open("r1", options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AppendExposure(Exposure(1)).ok());
  ASSERT_TRUE(store->Flush(absl::Seconds(30)).ok());
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(store->AppendExposure(Exposure(2)).ok());
  const absl::Time start = absl::Now();
  store.reset();
  // close_timeout, plus one refused connection attempt and a backoff step.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), "1");
}

TEST(EventStoreTest, TheFlusherRidesOutADatabaseRestartMidStream) {
  PrivateServer server;
  ASSERT_FALSE(server.url().empty());
  Fixture f(server.url());
  std::unique_ptr<EventStore> store = f.Open("r1");
  ASSERT_NE(store, nullptr);
  // One thread appends exposures and outcomes steadily (about 20,000 events
  // a second) while the server is stopped and started again.
  std::atomic<bool> done{false};
  std::atomic<int64_t> appended{0};
  std::thread writer([&] {
    for (uint64_t u = 0; !done.load(); ++u) {
      EXPECT_TRUE(store->AppendExposure(Exposure(u)).ok());
      EXPECT_TRUE(store->AppendOutcome(Outcome("", u, 1)).ok());
      appended.store(static_cast<int64_t>(u) + 1);
      if (u % 20 == 19) absl::SleepFor(absl::Milliseconds(2));
    }
  });
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(server.Stop());
  absl::SleepFor(absl::Milliseconds(800));
  EXPECT_FALSE(store->healthy());
  const EventStoreStats down = store->Stats();
  EXPECT_GT(down.failed_flushes, 0);
  EXPECT_GT(down.buffered, 0u);
  ASSERT_TRUE(server.Start());
  absl::SleepFor(absl::Milliseconds(500));
  done.store(true);
  writer.join();
  ASSERT_TRUE(store->Flush(absl::Seconds(120)).ok());
  EXPECT_TRUE(store->healthy());
  const int64_t n = appended.load();
  EXPECT_GT(n, 1000);
  // Every event once: nothing lost, nothing twice.
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_exposures"), absl::StrCat(n));
  EXPECT_EQ(Query(f.db.url(), "SELECT count(DISTINCT unit_lo) FROM allot_exposures"),
            absl::StrCat(n));
  EXPECT_EQ(Query(f.db.url(), "SELECT max(unit_lo) FROM allot_exposures"),
            absl::StrCat(n - 1));
  EXPECT_EQ(Query(f.db.url(), "SELECT count(*) FROM allot_outcomes"), absl::StrCat(n));
  EXPECT_EQ(store->Stats().duplicates_dropped, 0);
}

// The loss window: a writer killed with SIGKILL loses only what it appended
// within flush_interval plus one flush of the kill.
TEST(EventStoreTest, AKilledWriterLosesOnlyTheAcknowledgedLossWindow) {
  // A server of its own: the shared one pauses for the checkpoints that the
  // other tests' DROP DATABASE forces, which would stretch "one flush".
  PrivateServer server;
  ASSERT_FALSE(server.url().empty());
  Fixture f(server.url());
  const absl::Duration interval = absl::Milliseconds(100);
  // One flush of the events of one interval (2,000 here) takes a few
  // milliseconds on an idle loopback server; 1 s leaves room for a loaded
  // two-core CI machine (other builds, AddressSanitizer).
  const absl::Duration flush_time = absl::Seconds(1);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child appends unit u at wall time exposed_us, about 20,000 a
    // second, until killed.
    EventStoreOptions options = Options("child");
    options.flush_interval = interval;
    absl::StatusOr<std::unique_ptr<EventStore>> store =
        EventStore::Connect(f.db.url(), options);
    if (!store.ok() || !(*store)->RegisterExperiment(kExp, "", kT0).ok()) ::_exit(3);
    for (uint64_t u = 0;; ++u) {
      if (!(*store)->AppendExposure(Exposure(u, 0, absl::Now())).ok()) ::_exit(4);
      if (u % 20 == 19) absl::SleepFor(absl::Milliseconds(1));
    }
  }
  absl::SleepFor(absl::Seconds(3));
  const absl::Time kill_time = absl::Now();
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  const int64_t cutoff = absl::ToUnixMicros(kill_time - interval - flush_time);
  // Written: a prefix of the units (flushes go in order), each once.
  const std::string written = Query(f.db.url(), "SELECT count(*) FROM allot_exposures");
  EXPECT_EQ(Query(f.db.url(), "SELECT max(unit_lo) + 1 FROM allot_exposures"), written);
  EXPECT_GT(std::stoll(written), 5000);
  // Units were appended in order of time, so with the written ones a prefix,
  // every unit appended before the cutoff is written when the last written
  // one was appended at or after it.
  const int64_t last_written =
      std::stoll(Query(f.db.url(), "SELECT max(exposed_us) FROM allot_exposures"));
  EXPECT_GE(last_written, cutoff);
}

}  // namespace
}  // namespace allot::store
