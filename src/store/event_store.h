// Copyright 2026 The allot Authors.
//
// EventStore: a replica's write path into the PostgreSQL store. Exposures
// and outcomes are appended to an in-memory buffer and written by a
// background flusher with COPY into a temporary staging table, then
// `INSERT ... SELECT ... ON CONFLICT DO NOTHING` into the event tables, one
// transaction per flush; so duplicates and redelivered batches are dropped,
// and the first exposure of a unit (by arrival at the database) wins.
//
//   EventStoreOptions options;
//   options.replica = "router-3";
//   options.incarnation = start_us;  // differs at each start of the replica
//   absl::StatusOr<std::unique_ptr<EventStore>> store =
//       EventStore::Connect("postgresql://db/allot", options);
//   absl::Status s = (*store)->RegisterExperiment("support-bot-model", toml, start);
//   s = (*store)->AppendExposure({.experiment = "support-bot-model", ...});
//
// The acknowledged-loss window. An append returns OK once the event is in
// the buffer, not in the database. Events acknowledged that way and still
// buffered when the process dies are lost: at most the events of one
// flush_interval (or flush_events of them, whichever comes first) plus one
// flush's time; and while the database is unreachable, everything appended
// since the last successful flush (bounded by max_buffered_events; the
// flusher retries with backoff up to retry_max, so a recovered database is
// written to within one retry cycle). Events are never written twice: every
// row has a unique key (the unit for exposures, the event id for outcomes),
// so a flush retried after a commit whose outcome was unknown is harmless.
// tests/store_event_store_test.cc kills a writer with SIGKILL and checks it.
//
// A database error never fails an append: the batch is kept and retried,
// healthy() turns false and Stats() names the error, for /healthz and
// /metrics. Only a full buffer fails appends (ResourceExhausted), so memory
// stays bounded.

#ifndef ALLOT_SRC_STORE_EVENT_STORE_H_
#define ALLOT_SRC_STORE_EVENT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/connection"

namespace allot::store {

// How an EventStore buffers, flushes and retries. Every field has a default
// but `replica`.
struct EventStoreOptions {
  // This replica's id: stored with every event and the first part of the
  // outcome event ids it makes. Required; at most 64 bytes.
  std::string replica;
  // Differs each time the replica starts (the start time in microseconds,
  // say), so the event ids of two runs of one replica never collide.
  uint64_t incarnation = 0;
  // A flush starts this long after the previous one...
  absl::Duration flush_interval = absl::Milliseconds(200);
  // ...or as soon as this many events are buffered.
  size_t flush_events = 10000;
  // Appends fail with ResourceExhausted while this many events wait
  // (buffered or being written). REQUIRES: >= flush_events.
  size_t max_buffered_events = 1000000;
  // After a failed flush, the next try waits retry_initial, doubling up to
  // retry_max.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
  // The destructor tries to write what is buffered for at most this long.
  absl::Duration close_timeout = absl::Seconds(5);
};

// A unit's first exposure in an experiment. unit_hi and unit_lo are the
// unit's 128-bit fingerprint, internal::UnitFingerprint(salt).Of(unit) as
// the ledger computes it (the raw unit id is never stored).
struct ExposureEvent {
  std::string experiment;
  uint64_t unit_hi = 0;
  uint64_t unit_lo = 0;
  int arm = 0;  // in [0, 32767]
  int epoch = 0;
  double propensity = 0;  // in (0, 1]
  bool holdout = false;
  absl::Time exposed;
  std::optional<absl::Time> unit_start;
};

// An outcome of a unit. An empty event_id is filled with
// "<replica>:<incarnation>:<sequence>"; a caller that may deliver the same
// outcome twice (a redelivered batch) passes its own stable id.
struct OutcomeEvent {
  std::string experiment;
  std::string event_id;
  uint64_t unit_hi = 0;
  uint64_t unit_lo = 0;
  std::string metric;
  double value = 0;
  absl::Time time;
};

// What the write path has done, for /healthz and /metrics.
struct EventStoreStats {
  bool healthy = true;     // the last flush (if any) succeeded
  std::string last_error;  // of the last failed flush, "" if none yet
  absl::Time last_error_time = absl::InfinitePast();
  absl::Time last_flush = absl::InfinitePast();  // the last successful one
  size_t buffered = 0;                           // appended, not yet written
  int64_t appended = 0;
  int64_t exposures_written = 0;  // rows inserted
  int64_t outcomes_written = 0;
  int64_t duplicates_dropped = 0;  // staged rows whose key was already there
  int64_t flushes = 0;             // successful
  int64_t failed_flushes = 0;
  int64_t rejected = 0;   // appends refused: buffer full
  int64_t abandoned = 0;  // buffered events given up at close
};

// The latest allocation history of an experiment in the store.
struct StoredHistory {
  int epoch = 0;
  absl::Time start;
  std::string history_json;
};

// A replica's connection to the store: buffered event appends and a
// background flusher, plus the experiment and epoch tables. Thread-safe.
class EventStore {
 public:
  // Connects to `url`, checks that it holds this allot's schema version and
  // starts the flusher. Errors: InvalidArgument for bad options (naming the
  // field) or a URL that is not PostgreSQL's; Unavailable when the server
  // cannot be reached; FailedPrecondition when the database has no schema,
  // an older one (run allot store migrate) or a newer one.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<EventStore>> Connect(
      absl::string_view url, EventStoreOptions options);

  // Stops the flusher after trying to write what is buffered for at most
  // close_timeout; what is still buffered then is lost (Stats().abandoned).
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Adds an experiment to allot_experiments and creates its partitions of
  // the event tables; idempotent (an existing row keeps its config, and
  // gets `started` when it had none). Appends for an experiment need it
  // first. Errors: InvalidArgument for an empty id; as StoreError (the
  // database is reached synchronously).
  [[nodiscard]] absl::Status RegisterExperiment(absl::string_view experiment,
                                                absl::string_view config_toml,
                                                std::optional<absl::Time> started);

  // Returns the experiment's start as the store holds it (set by the first
  // registration that gave one). Errors: NotFound when it is not
  // registered; FailedPrecondition when it has no start; as StoreError.
  [[nodiscard]] absl::StatusOr<absl::Time> StartedAt(absl::string_view experiment);

  // Buffers an event; OK means acknowledged (see the loss window above).
  // Errors: InvalidArgument for a field out of range (naming it);
  // FailedPrecondition for an experiment not registered through this
  // store; ResourceExhausted when max_buffered_events wait.
  [[nodiscard]] absl::Status AppendExposure(const ExposureEvent& event);
  [[nodiscard]] absl::Status AppendOutcome(OutcomeEvent event);

  // Waits until every event appended before the call is written. Errors:
  // DeadlineExceeded after `timeout`, with the last database error.
  [[nodiscard]] absl::Status Flush(absl::Duration timeout);

  // Inserts epoch `epoch` of `experiment` with the whole allocation history
  // JSON as of it (AllocationHistory::ToJson); the insert announces it on
  // allot_history. Publishing the same epoch with the same JSON again is OK.
  // Errors: AlreadyExists when that epoch holds another history; as
  // StoreError.
  [[nodiscard]] absl::Status PublishEpoch(absl::string_view experiment, int epoch,
                                          absl::Time start,
                                          absl::string_view history_json);

  // Returns the newest epoch of `experiment`. Errors: NotFound when it has
  // none; as StoreError.
  [[nodiscard]] absl::StatusOr<StoredHistory> LatestHistory(absl::string_view experiment);

  // Whether the last flush succeeded (true before the first).
  bool healthy() const;
  EventStoreStats Stats() const;

 private:
  struct StagedExposure;
  struct StagedOutcome;
  struct Batch;

  explicit EventStore(std::string url, EventStoreOptions options);
  void FlushLoop();
  bool FlushDue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FailedPrecondition for an experiment not registered here;
  // ResourceExhausted (counted as rejected) when the buffer is full.
  absl::Status CheckRoomFor(const std::string& experiment)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `batch` in one transaction, (re)connecting when needed.
  absl::Status WriteBatch(const Batch& batch, int64_t* exposures, int64_t* outcomes);
  absl::Status WithAdmin(absl::string_view doing,
                         const std::function<void(pqxx::connection&)>& body);

  const std::string url_;
  const EventStoreOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> registered_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Batch> buffer_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;     // events the flusher holds
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;     // the next event's arrival number
  int64_t written_seq_ ABSL_GUARDED_BY(mu_) = 0;  // every event up to it is written
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  EventStoreStats stats_ ABSL_GUARDED_BY(mu_);

  // The flusher's connection; only the flusher thread touches it.
  std::unique_ptr<pqxx::connection> flush_conn_;
  absl::Mutex admin_mu_;
  std::unique_ptr<pqxx::connection> admin_conn_ ABSL_GUARDED_BY(admin_mu_);

  std::thread flusher_;
};

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_EVENT_STORE_H_
