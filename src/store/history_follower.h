// Copyright 2026 The allot Authors.
//
// HistoryFollower: how a replica follows the allocation history that the
// learner writes to allot_epochs. It LISTENs on allot_history (an insert
// into allot_epochs announces its experiment) and also polls every
// poll_interval, so a notification that is missed (the connection dropped,
// a trigger disabled, a listener that started late) costs at most one poll
// interval. After a lost connection it reconnects with backoff and polls at
// once. The callback gets each experiment's newest epoch when it is newer
// than the last one delivered (or than `known_epochs`).
//
//   HistoryFollowerOptions options;
//   options.known_epochs["support-bot-model"] = local_history.epochs() - 1;
//   absl::StatusOr<std::unique_ptr<HistoryFollower>> f = HistoryFollower::Start(
//       url, options, [&](const HistoryUpdate& u) { Install(u.history_json); });

#ifndef ALLOT_SRC_STORE_HISTORY_FOLLOWER_H_
#define ALLOT_SRC_STORE_HISTORY_FOLLOWER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace allot::store {

struct HistoryFollowerOptions {
  // The experiments to follow; empty: every experiment in the store.
  std::vector<std::string> experiments;
  // The epoch of each experiment the replica already has: only newer ones
  // are delivered. Default: none, so the first poll delivers every
  // followed experiment's newest epoch.
  absl::flat_hash_map<std::string, int> known_epochs;
  // How often to poll whatever the notifications say. REQUIRES: > 0.
  absl::Duration poll_interval = absl::Seconds(5);
  // Reconnection backoff: retry_initial, doubling up to retry_max.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
};

// One new epoch of an experiment: the whole allocation history as of it.
struct HistoryUpdate {
  std::string experiment;
  int epoch = 0;
  absl::Time start;
  std::string history_json;
};

// What the follower has done, for /healthz and /metrics.
struct HistoryFollowerStats {
  bool connected = false;                       // listening now
  std::string last_error;                       // "" if none yet
  absl::Time last_poll = absl::InfinitePast();  // the last successful poll
  int64_t polls = 0;
  int64_t notifications = 0;
  int64_t updates = 0;     // callbacks made
  int64_t reconnects = 0;  // connections made after the first
};

// Follows allot_epochs on a thread of its own, calling back with each new
// epoch. Thread-safe.
class HistoryFollower {
 public:
  // Called on the follower's thread, one update at a time, no lock held.
  using Callback = std::function<void(const HistoryUpdate&)>;

  // Starts following `url`; the connection is made on the follower's thread
  // (so a database down at start is retried, and reported in Stats()).
  // Errors: InvalidArgument for a URL that is not PostgreSQL's or options
  // out of range (naming the field).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HistoryFollower>> Start(
      absl::string_view url, HistoryFollowerOptions options, Callback callback);

  // Stops following (within about 100 ms, or a connection attempt).
  ~HistoryFollower();
  HistoryFollower(const HistoryFollower&) = delete;
  HistoryFollower& operator=(const HistoryFollower&) = delete;

  HistoryFollowerStats Stats() const;

 private:
  class Session;
  HistoryFollower(std::string url, HistoryFollowerOptions options, Callback callback);
  void Run();
  bool Stopping() const;
  // Delivers the newest epochs of `experiments` (empty: all followed)
  // newer than known. Throws what libpqxx throws.
  void Poll(Session& session, const std::vector<std::string>& experiments);

  const std::string url_;
  const HistoryFollowerOptions options_;
  const Callback callback_;
  absl::flat_hash_map<std::string, int> known_;  // only the follower thread

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  HistoryFollowerStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_HISTORY_FOLLOWER_H_
