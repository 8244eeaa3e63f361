// Copyright 2026 The allot Authors.
//
// HistoryFollower against a real PostgreSQL 15: new epochs by NOTIFY, by
// polling when notifications are missed, after the connection drops, and
// with known epochs and a filter.

#include "store/history_follower.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "store/schema.h"
#include "tests/pg_database.h"

namespace allot::store {
namespace {

using ::allot::test::TestDatabase;
using ::testing::ElementsAre;
using ::testing::Gt;

void Exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

void InsertEpoch(const std::string& url, const std::string& experiment, int epoch) {
  Exec(url, absl::StrCat("INSERT INTO allot_epochs VALUES ('", experiment, "', ", epoch,
                         ", ", 1000 * epoch, ", '{\"epoch\":", epoch, "}')"));
}

// Collects the updates a follower delivers.
class Updates {
 public:
  HistoryFollower::Callback Callback() {
    return [this](const HistoryUpdate& u) {
      absl::MutexLock lock(&mu_);
      seen_.push_back(absl::StrCat(u.experiment, "@", u.epoch, "=", u.history_json));
    };
  }
  // Waits up to `timeout` for `n` updates in all; returns them.
  std::vector<std::string> WaitFor(size_t n, absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seen_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

// Waits until the follower has polled `n` times in all.
void WaitForPolls(const HistoryFollower& f, int64_t n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (f.Stats().polls < n && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_GE(f.Stats().polls, n);
}

TEST(HistoryFollowerTest, DeliversNewEpochsOnNotify) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  InsertEpoch(db.url(), "a", 0);
  Updates updates;
  HistoryFollowerOptions options;
  options.poll_interval = absl::Hours(1);  // only the first poll: the rest by NOTIFY
  absl::StatusOr<std::unique_ptr<HistoryFollower>> f =
      HistoryFollower::Start(db.url(), options, updates.Callback());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(updates.WaitFor(1), ElementsAre("a@0={\"epoch\":0}"));
  WaitForPolls(**f, 1);
  InsertEpoch(db.url(), "a", 1);
  InsertEpoch(db.url(), "b", 0);
  EXPECT_THAT(updates.WaitFor(3),
              ElementsAre("a@0={\"epoch\":0}", "a@1={\"epoch\":1}", "b@0={\"epoch\":0}"));
  const HistoryFollowerStats s = (*f)->Stats();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.notifications, 2);
  EXPECT_EQ(s.updates, 3);
}

TEST(HistoryFollowerTest, CatchesUpByPollingWhenNotificationsAreMissed) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  Exec(db.url(), "ALTER TABLE allot_epochs DISABLE TRIGGER allot_epochs_notify");
  Updates updates;
  HistoryFollowerOptions options;
  options.poll_interval = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<HistoryFollower>> f =
      HistoryFollower::Start(db.url(), options, updates.Callback());
  ASSERT_TRUE(f.ok()) << f.status();
  WaitForPolls(**f, 1);
  InsertEpoch(db.url(), "a", 0);
  InsertEpoch(db.url(), "a", 1);
  EXPECT_THAT(updates.WaitFor(1), ElementsAre("a@1={\"epoch\":1}"));
  EXPECT_EQ((*f)->Stats().notifications, 0);
}

TEST(HistoryFollowerTest, ReconnectsAndCatchesUpAfterTheConnectionDrops) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  Updates updates;
  HistoryFollowerOptions options;
  options.poll_interval = absl::Hours(1);
  options.retry_initial = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<HistoryFollower>> f =
      HistoryFollower::Start(db.url(), options, updates.Callback());
  ASSERT_TRUE(f.ok()) << f.status();
  WaitForPolls(**f, 1);
  // Cut the follower's connection; the epoch is inserted while it is away
  // (no one listens for its NOTIFY) and found by the poll on reconnecting.
  Exec(db.url(), absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                              " WHERE datname = '",
                              db.name(), "' AND pid <> pg_backend_pid()"));
  InsertEpoch(db.url(), "a", 0);
  EXPECT_THAT(updates.WaitFor(1), ElementsAre("a@0={\"epoch\":0}"));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*f)->Stats().reconnects < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT((*f)->Stats().reconnects, Gt(0));
  EXPECT_FALSE((*f)->Stats().last_error.empty());
  // Listening again.
  InsertEpoch(db.url(), "a", 1);
  EXPECT_THAT(updates.WaitFor(2), ElementsAre("a@0={\"epoch\":0}", "a@1={\"epoch\":1}"));
}

TEST(HistoryFollowerTest, SkipsKnownEpochsAndUnfollowedExperiments) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  InsertEpoch(db.url(), "a", 0);
  InsertEpoch(db.url(), "a", 1);
  InsertEpoch(db.url(), "b", 0);
  InsertEpoch(db.url(), "c", 0);
  Updates updates;
  HistoryFollowerOptions options;
  options.experiments = {"a", "b"};
  options.known_epochs = {{"a", 1}};
  options.poll_interval = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<HistoryFollower>> f =
      HistoryFollower::Start(db.url(), options, updates.Callback());
  ASSERT_TRUE(f.ok()) << f.status();
  WaitForPolls(**f, 1);
  InsertEpoch(db.url(), "c", 1);
  InsertEpoch(db.url(), "a", 2);
  EXPECT_THAT(updates.WaitFor(2), ElementsAre("b@0={\"epoch\":0}", "a@2={\"epoch\":2}"));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(updates.WaitFor(2, absl::ZeroDuration()).size(), 2u);
}

TEST(HistoryFollowerTest, ReportsADatabaseItCannotReach) {
  EXPECT_EQ(
      HistoryFollower::Start("nope://x", {}, [](const HistoryUpdate&) {}).status().code(),
      absl::StatusCode::kInvalidArgument);
  HistoryFollowerOptions options;
  options.poll_interval = absl::ZeroDuration();
  EXPECT_EQ(HistoryFollower::Start("postgresql://127.0.0.1:1/x", options,
                                   [](const HistoryUpdate&) {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options.poll_interval = absl::Seconds(1);
  options.retry_initial = absl::Milliseconds(10);
  absl::StatusOr<std::unique_ptr<HistoryFollower>> f = HistoryFollower::Start(
      "postgresql://127.0.0.1:1/x", options, [](const HistoryUpdate&) {});
  ASSERT_TRUE(f.ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*f)->Stats().last_error.empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE((*f)->Stats().connected);
  EXPECT_THAT((*f)->Stats().last_error, ::testing::HasSubstr("cannot connect"));
}

}  // namespace
}  // namespace allot::store
