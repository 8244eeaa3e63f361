// Copyright 2026 The allot Authors.
//
// The server's insides, shared by server.cc (sockets, timers, lifecycle)
// and api.cc (the routes' handlers). Not API.

#ifndef ALLOT_SRC_SERVE_SERVER_IMPL_H_
#define ALLOT_SRC_SERVE_SERVER_IMPL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/internal/mutex.h"
#include "allot/journal.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "serve/metrics.h"
#include "serve/replica.h"
#include "serve/routes.h"
#include "serve/serve_config.h"
#include "serve/server.h"

namespace allot::serve::internal {

// A request as the handlers see it.
struct ApiRequest {
  std::string method;
  std::string target;  // path and query
  std::string content_type;
  std::string authorization;
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // for 405
  // The request changed state: its answer waits for the journal sync that
  // makes its records durable (ServerImpl::AfterSync).
  bool needs_sync = false;
};

// Returns {"error": message} with `status`.
ApiResponse ErrorResponse(int status, absl::string_view message);

// Handlers run on config.io_threads I/O threads (each connection on a strand
// of its own, so its requests are handled one at a time and in order); the
// engine is thread-safe and the server's own state is behind mu_.
class ServerImpl {
 public:
  ServerImpl(const ServeConfig& config, const ServerOptions& options);
  ~ServerImpl();

  absl::Status Init();
  // Init of a fleet's replica (config.store.url set).
  absl::Status InitReplica();
  // Binds and listens on config.listen.
  absl::Status Listen();
  // The journal's options for config_.durability.
  JournalOptions JournalOptionsInUse() const;
  absl::Status Run();
  void Shutdown();
  uint16_t port() const { return port_; }
  std::string StartLine() const;

  // Answers one request (api.cc); also counts it in metrics_.
  ApiResponse Handle(const ApiRequest& request);

  // Group commit: calls `done` (on an I/O thread; post to a connection's
  // strand from it) once a journal sync that began after this call has
  // finished, with its status. One sync runs at a time, on its own thread,
  // while the I/O threads go on serving; every answer that waited while it
  // ran shares the next one.
  void AfterSync(std::function<void(const absl::Status&)> done);

  const ServeConfig& config() const { return config_; }
  std::atomic<int64_t>& open_connections() { return open_connections_; }

 private:
  ApiResponse Dispatch(const Route& route, const std::vector<std::string>& params,
                       const ApiRequest& request);
  // Returns the role's verdict: 0 allowed, else 401 or 403 with a message.
  ApiResponse Authorize(const Route& route, const ApiRequest& request, bool& ok) const;
  absl::Time Now() ABSL_LOCKS_EXCLUDED(mu_);
  // The first journal failure, or OK.
  absl::Status JournalError() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AdvanceTo(absl::Time now);
  // Writes a snapshot and starts the journal afresh: the journal's records
  // are all in the snapshot once it is written, so the journal file is
  // replaced by an empty one (it would otherwise grow with every request
  // for as long as the server runs). A sync under way finishes first. On a
  // failure to reopen the journal every later change is refused (503).
  // Errors: as WriteSnapshot; DataLoss naming the journal.
  absl::Status Checkpoint() ABSL_LOCKS_EXCLUDED(engine_mu_, mu_);
  // Runs the next sync for the answers waiting. REQUIRES: none is running.
  void StartSync() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a sync's result and answers those that waited for it.
  void SyncDone(const absl::Status& s) ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleAdvance();
  void ScheduleSnapshot();
  void Accept();
  std::string Metrics();

  ApiResponse Clock(const ApiRequest& request);
  ApiResponse CreateExperiment(const ApiRequest& request);
  ApiResponse StartStop(const std::string& id, const ApiRequest& request, bool start);
  ApiResponse Delete(const std::string& id);
  ApiResponse AddArm(const std::string& id, const ApiRequest& request);
  ApiResponse RetireArm(const std::string& id, const std::string& arm,
                        const ApiRequest& request);
  ApiResponse Assign(const std::string& id, const ApiRequest& request);
  ApiResponse AssignBatch(const std::string& id, const ApiRequest& request);
  ApiResponse Outcomes(const std::string& id, const ApiRequest& request);
  ApiResponse Reports(const std::string& id, bool latest);
  // A fleet's replica: assignments from its history, events to the store.
  absl::StatusOr<Assignment> ReplicaAssign(absl::string_view id, absl::string_view unit,
                                           absl::Time now,
                                           std::optional<absl::Time> unit_start);
  absl::Status ReplicaOutcome(absl::string_view id, absl::string_view unit,
                              absl::Time time, double value, absl::string_view metric);
  absl::Status NotServed(absl::string_view id) const;
  // /healthz: the store's and the follower's state in a replica.
  ApiResponse Health();
  ApiResponse History(const std::string& id);

  const ServeConfig config_;
  const ServerOptions options_;
  std::string snapshot_path_, journal_path_;
  // Held shared by every request and timer that uses the engine, exclusive
  // by a checkpoint: a snapshot and the swap of journals see no change
  // between them, and journal_ changes only then.
  mutable allot::internal::Mutex engine_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Declared before engine_: the engine must not outlive its journal.
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Engine> engine_;
  // Set in a fleet's replica ([store]): it serves assign, assign_batch,
  // outcomes, history, /healthz and /metrics; the engine is then empty.
  std::unique_ptr<Replica> replica_;
  mutable allot::internal::Mutex mu_;
  // Experiments the engine holds (for /metrics).
  std::set<std::string> experiments_ ABSL_GUARDED_BY(mu_);
  // The manual clock, or the latest wall-clock time handed out (kept
  // monotone so the engine never sees time going backward).
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::UnixEpoch();
  // The first journal sync failure, if any.
  absl::Status journal_error_ ABSL_GUARDED_BY(mu_);
  // A checkpoint waits for the sync under way (its thread holds journal_).
  bool checkpoint_pending_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_snapshot_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  RequestMetrics metrics_;
  std::atomic<int64_t> open_connections_{0};
  uint16_t port_ = 0;

  boost::asio::io_context io_;
  // The acceptor, timers and signals run on one strand, one at a time.
  boost::asio::strand<boost::asio::io_context::executor_type> control_ =
      boost::asio::make_strand(io_);
  boost::asio::ip::tcp::acceptor acceptor_{control_};
  boost::asio::steady_timer advance_timer_{control_};
  boost::asio::steady_timer snapshot_timer_{control_};
  boost::asio::signal_set signals_{control_};
  // Answers waiting for the next sync, and those of the sync running.
  std::vector<std::function<void(const absl::Status&)>> waiting_ ABSL_GUARDED_BY(mu_),
      syncing_ ABSL_GUARDED_BY(mu_);
  bool sync_running_ ABSL_GUARDED_BY(mu_) = false;
  // The thread journal syncs run on (Journal is thread-safe).
  boost::asio::thread_pool sync_thread_{1};
};

}  // namespace allot::serve::internal

#endif  // ALLOT_SRC_SERVE_SERVER_IMPL_H_
