// Copyright 2026 The allot Authors.

#include "store/history_follower.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/status_macros.h"
#include "pqxx/pqxx"
#include "store/migrations.h"
#include "store/pg.h"

namespace allot::store {

// A connection listening on allot_history; the experiments announced since
// the last look gather in `notified`. The receiver goes before the
// connection it is registered with.
class HistoryFollower::Session {
 public:
  explicit Session(std::unique_ptr<pqxx::connection> conn)
      : conn_(std::move(conn)), receiver_(std::make_unique<Receiver>(*conn_, this)) {}
  ~Session() { receiver_.reset(); }

  pqxx::connection& conn() { return *conn_; }
  absl::flat_hash_set<std::string> TakeNotified() { return std::exchange(notified_, {}); }
  int64_t TakeCount() { return std::exchange(count_, 0); }

 private:
  class Receiver : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection& conn, Session* session)
        : pqxx::notification_receiver(conn, kHistoryChannel), session_(session) {}
    void operator()(const std::string& payload, int) override {
      session_->notified_.insert(payload);
      ++session_->count_;
    }

   private:
    Session* const session_;
  };

  std::unique_ptr<pqxx::connection> conn_;
  absl::flat_hash_set<std::string> notified_;
  int64_t count_ = 0;
  std::unique_ptr<Receiver> receiver_;
};

HistoryFollower::HistoryFollower(std::string url, HistoryFollowerOptions options,
                                 Callback callback)
    : url_(std::move(url)),
      options_(std::move(options)),
      callback_(std::move(callback)),
      known_(options_.known_epochs) {}

absl::StatusOr<std::unique_ptr<HistoryFollower>> HistoryFollower::Start(
    absl::string_view url, HistoryFollowerOptions options, Callback callback) {
  ALLOT_RETURN_IF_ERROR(ValidateStoreUrl(url));
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "poll_interval must be > 0, got ", absl::FormatDuration(options.poll_interval)));
  }
  if (options.retry_initial <= absl::ZeroDuration() ||
      options.retry_max < options.retry_initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry_initial must be > 0 and retry_max >= retry_initial, got ",
                     absl::FormatDuration(options.retry_initial), " and ",
                     absl::FormatDuration(options.retry_max)));
  }
  if (!callback) return absl::InvalidArgumentError("callback must not be empty");
  std::unique_ptr<HistoryFollower> follower(
      new HistoryFollower(std::string(url), std::move(options), std::move(callback)));
  follower->thread_ = std::thread([f = follower.get()] { f->Run(); });
  return follower;
}

HistoryFollower::~HistoryFollower() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool HistoryFollower::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

HistoryFollowerStats HistoryFollower::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void HistoryFollower::Poll(Session& session,
                           const std::vector<std::string>& experiments) {
  std::vector<HistoryUpdate> updates;
  {
    pqxx::read_transaction tx(session.conn());
    std::string filter;
    if (!experiments.empty()) {
      std::vector<std::string> quoted;
      quoted.reserve(experiments.size());
      for (const std::string& e : experiments) quoted.push_back(tx.quote(e));
      filter = absl::StrCat(" WHERE experiment IN (", absl::StrJoin(quoted, ", "), ")");
    }
    const pqxx::result newest =
        tx.exec(absl::StrCat("SELECT experiment, max(epoch) FROM allot_epochs", filter,
                             " GROUP BY experiment"));
    for (const pqxx::row& row : newest) {
      const std::string experiment = row[0].as<std::string>();
      const int epoch = row[1].as<int>();
      const auto known = known_.find(experiment);
      if (known != known_.end() && known->second >= epoch) continue;
      const pqxx::row h = tx.exec1(absl::StrCat(
          "SELECT start_us, history_json FROM allot_epochs WHERE experiment = ",
          tx.quote(experiment), " AND epoch = ", epoch));
      updates.push_back({experiment, epoch, absl::FromUnixMicros(h[0].as<int64_t>()),
                         h[1].as<std::string>()});
    }
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.polls;
    stats_.last_poll = absl::Now();
  }
  for (HistoryUpdate& u : updates) {
    known_[u.experiment] = u.epoch;
    callback_(u);
    absl::MutexLock lock(&mu_);
    ++stats_.updates;
  }
}

void HistoryFollower::Run() {
  const absl::flat_hash_set<std::string> followed(options_.experiments.begin(),
                                                  options_.experiments.end());
  std::unique_ptr<Session> session;
  absl::Duration backoff = absl::ZeroDuration();
  absl::Time next_poll = absl::InfinitePast();
  bool connected_before = false;
  while (!Stopping()) {
    try {
      if (session == nullptr) {
        if (backoff > absl::ZeroDuration()) {
          // Sleep in slices, so that a stop is seen.
          const absl::Time wake = absl::Now() + backoff;
          while (absl::Now() < wake && !Stopping()) {
            absl::SleepFor(std::min(absl::Milliseconds(50), wake - absl::Now()));
          }
          if (Stopping()) break;
        }
        absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = ConnectStore(url_);
        if (!conn.ok()) throw std::runtime_error(std::string(conn.status().message()));
        session = std::make_unique<Session>(*std::move(conn));
        {
          absl::MutexLock lock(&mu_);
          stats_.connected = true;
          if (connected_before) ++stats_.reconnects;
        }
        connected_before = true;
        next_poll = absl::InfinitePast();  // catch up on what was missed
      }
      if (absl::Now() >= next_poll) {
        session->TakeNotified();  // covered by this poll
        Poll(*session, options_.experiments);
        next_poll = absl::Now() + options_.poll_interval;
        backoff = absl::ZeroDuration();
      }
      // Wait for notifications in slices of at most 100 ms, to see a stop.
      const absl::Duration wait = std::clamp(
          next_poll - absl::Now(), absl::ZeroDuration(), absl::Milliseconds(100));
      const int64_t us = absl::ToInt64Microseconds(wait);
      session->conn().await_notification(us / 1000000, us % 1000000);
      absl::flat_hash_set<std::string> notified = session->TakeNotified();
      const int64_t count = session->TakeCount();
      if (count > 0) {
        absl::MutexLock lock(&mu_);
        stats_.notifications += count;
      }
      std::vector<std::string> experiments;
      for (const std::string& e : notified) {
        if (followed.empty() || followed.contains(e)) experiments.push_back(e);
      }
      // In id order: notifications that came together are delivered in the
      // same order whatever the set's.
      std::sort(experiments.begin(), experiments.end());
      if (!experiments.empty()) Poll(*session, experiments);
    } catch (const std::exception& e) {
      session.reset();
      const absl::Status status = StoreError("following the history", e);
      absl::MutexLock lock(&mu_);
      stats_.connected = false;
      stats_.last_error = std::string(status.message());
      backoff = backoff == absl::ZeroDuration()
                    ? options_.retry_initial
                    : std::min(backoff * 2, options_.retry_max);
    }
  }
}

}  // namespace allot::store
