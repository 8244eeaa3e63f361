// Copyright 2026 The allot Authors.
//
// Sockets, timers and the lifecycle of `allot serve`. config.io_threads
// threads run the connections, timers and handlers; each connection has a
// strand, reads requests with Beast's parser (body limit, read timeout) and
// answers them in order. A state-changing answer waits for a journal sync,
// which runs on a thread of its own while the I/O threads serve others
// (group commit).

#include "serve/server.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/experiment_config.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "boost/asio/ip/address.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "durability/file_io.h"
#include "runtime/engine_access.h"
#include "serve/api_json.h"
#include "serve/server_impl.h"

namespace allot::serve {
namespace internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// One client connection. Lives while an operation on it is pending.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server, bool reject)
      : stream_(std::move(socket)), server_(server), reject_(reject) {
    if (!reject_) ++server_.open_connections();
  }
  ~Session() {
    if (!reject_) --server_.open_connections();
  }

  void Start() {
    if (reject_) {
      Send(ErrorResponse(503, absl::StrCat("too many connections (max_connections is ",
                                           server_.config().max_connections, ")")),
           /*keep_alive=*/false, 11);
      return;
    }
    Read();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(server_.config().max_body_bytes));
    parser_->header_limit(64 * 1024);
    stream_.expires_after(ToChrono(server_.config().read_timeout));
    // The header first: a client that sent "Expect: 100-continue" (curl
    // does for bodies over 1 KiB) waits for an interim answer before its body.
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    if (!parser_->is_done() &&
        beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      auto interim = std::make_shared<http::response<http::empty_body>>(
          http::status::continue_, parser_->get().version());
      http::async_write(
          stream_, *interim,
          [self = shared_from_this(), interim](beast::error_code ec, size_t) {
            if (ec) return self->Close();
            self->ReadBody();
          });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Send(
          ErrorResponse(413, absl::StrCat("request body is larger than max_body_bytes (",
                                          server_.config().max_body_bytes, ")")),
          false, 11);
    }
    if (ec) {
      return Send(ErrorResponse(400, absl::StrCat("bad HTTP request: ", ec.message())),
                  false, 11);
    }
    const http::request<http::string_body>& req = parser_->get();
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.content_type = std::string(req[http::field::content_type]);
    request.authorization = std::string(req[http::field::authorization]);
    request.body = req.body();
    ApiResponse answer = server_.Handle(request);
    if (!answer.needs_sync)
      return Send(std::move(answer), req.keep_alive(), req.version());
    server_.AfterSync([self = shared_from_this(), answer = std::move(answer),
                       keep_alive = req.keep_alive(),
                       version = req.version()](const absl::Status& synced) mutable {
      // Back on this connection's strand.
      asio::post(self->stream_.get_executor(), [self, answer = std::move(answer),
                                                keep_alive, version, synced]() mutable {
        self->Send(synced.ok() ? std::move(answer) : StatusResponse(synced), keep_alive,
                   version);
      });
    });
  }

  void Send(ApiResponse answer, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(answer.status), version);
    res->set(http::field::server, "allot");
    res->set(http::field::content_type, answer.content_type);
    if (!answer.allow.empty()) res->set(http::field::allow, answer.allow);
    res->keep_alive(keep_alive);
    res->body() = std::move(answer.body);
    res->prepare_payload();
    stream_.expires_after(ToChrono(server_.config().read_timeout));
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
          if (ec || !keep_alive) return self->Close();
          self->Read();
        });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerImpl& server_;
  const bool reject_;
};

}  // namespace

ServerImpl::ServerImpl(const ServeConfig& config, const ServerOptions& options)
    : config_(config), options_(options) {}

JournalOptions ServerImpl::JournalOptionsInUse() const {
  // Batched either way. With flush = "sync" a state-changing answer waits
  // for a sync of the records before it (AfterSync: one fdatasync for every
  // answer waiting, not one per record), the promise of kEveryRecord; the
  // flusher's interval then only bounds what the timers' advances may lose.
  // With flush = "interval" answers go at once and the flusher syncs every
  // flush_interval.
  return {.flush = FlushPolicy::kBatched,
          .batch_interval = config_.durability == Durability::kSync
                                ? absl::Seconds(1)
                                : config_.flush_interval};
}

ServerImpl::~ServerImpl() = default;

absl::Status ServerImpl::InitReplica() {
  // A fleet's replica keeps no local state: the store has its events and
  // its history. The engine stays empty (the clock route advances nothing).
  engine_ = std::make_unique<Engine>();
  std::vector<ExperimentConfig> experiments;
  std::vector<std::string> sources;
  for (const std::string& path : config_.experiments) {
    ALLOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{1} << 20));
    ALLOT_ASSIGN_OR_RETURN(ExperimentConfig experiment, LoadExperimentFile(path));
    experiments.push_back(std::move(experiment));
    sources.push_back(std::move(text));
  }
  StoreConfig store = config_.store;
  if (store.replica.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    store.replica = absl::StrCat("serve-", host).substr(0, 64);
  }
  // The first replica to come up starts the experiment, on the wall clock.
  ALLOT_ASSIGN_OR_RETURN(replica_,
                         Replica::Start(store, experiments, sources, absl::Now()));
  allot::internal::MutexLock lock(&mu_);
  for (const ExperimentConfig& e : experiments) experiments_.insert(e.id);
  return absl::OkStatus();
}

absl::Status ServerImpl::Init() {
  if (!config_.store.url.empty()) {
    ALLOT_RETURN_IF_ERROR(InitReplica());
    return Listen();
  }
  std::error_code fs_error;
  std::filesystem::create_directories(config_.data_dir, fs_error);
  if (fs_error) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create data_dir ", config_.data_dir, ": ", fs_error.message()));
  }
  snapshot_path_ = absl::StrCat(config_.data_dir, "/allot.snapshot");
  journal_path_ = absl::StrCat(config_.data_dir, "/allot.journal");
  ALLOT_ASSIGN_OR_RETURN(Recovery recovery, Recover(snapshot_path_, journal_path_));
  engine_ = std::move(recovery.engine);
  // A checkpoint that stopped before its new journal took the old one's
  // place leaves this behind; the snapshot and the old journal are whole.
  std::filesystem::remove(absl::StrCat(journal_path_, ".next"), fs_error);
  ALLOT_ASSIGN_OR_RETURN(journal_, Journal::Open(journal_path_, JournalOptionsInUse()));
  engine_->AttachJournal(journal_.get());
  allot::internal::MutexLock lock(&mu_);
  {
    const allot::internal::EngineState state =
        allot::internal::EngineAccess::Export(*engine_);
    for (const auto& experiment : state.experiments)
      experiments_.insert(experiment.config.id);
    if (state.clock > now_ && state.clock != absl::InfiniteFuture()) now_ = state.clock;
  }
  for (const std::string& path : config_.experiments) {
    ALLOT_ASSIGN_OR_RETURN(ExperimentConfig experiment, LoadExperimentFile(path));
    const absl::Status created = engine_->CreateExperiment(experiment);
    if (created.ok()) {
      experiments_.insert(experiment.id);
    } else if (!absl::IsAlreadyExists(created)) {
      return created;
    }
  }
  return Listen();
}

absl::Status ServerImpl::Listen() {
  ALLOT_ASSIGN_OR_RETURN(const asio::ip::address address,
                         ResolveListenAddress(config_.listen_host, config_.listen_port));
  const tcp::endpoint endpoint(address, config_.listen_port);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen_host,
                                               ":", config_.listen_port, ": ",
                                               ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

std::string ServerImpl::StartLine() const {
  const bool v6 = config_.listen_host.find(':') != std::string::npos;
  std::string line = absl::StrCat("allot serve: listening on http://", v6 ? "[" : "",
                                  config_.listen_host, v6 ? "]" : "", ":", port_);
  if (config_.tokens.empty()) {
    absl::StrAppend(&line,
                    " without authentication (no tokens configured; loopback only)");
  } else {
    absl::StrAppend(&line, " with ", config_.tokens.size(), " token(s)");
  }
  if (options_.manual_clock) absl::StrAppend(&line, ", manual clock");
  if (replica_ != nullptr) absl::StrAppend(&line, ", replica of the store");
  return line;
}

absl::Time ServerImpl::Now() {
  allot::internal::MutexLock lock(&mu_);
  if (!options_.manual_clock) now_ = std::max(now_, absl::Now());
  return now_;
}

absl::Status ServerImpl::JournalError() const {
  allot::internal::MutexLock lock(&mu_);
  return journal_error_;
}

absl::Status ServerImpl::AdvanceTo(absl::Time now) {
  return engine_->Advance(now).status();
}

void ServerImpl::AfterSync(std::function<void(const absl::Status&)> done) {
  absl::Status error;
  {
    allot::internal::MutexLock lock(&mu_);
    if (journal_error_.ok() && journal_ != nullptr &&
        config_.durability == Durability::kSync) {
      waiting_.push_back(std::move(done));
      if (!sync_running_) StartSync();
      return;
    }
    error = journal_error_;
  }
  done(error);  // failed before, or flush = "interval": answered at once
}

void ServerImpl::StartSync() {
  // Every record of the answers now waiting is in the journal's buffer: the
  // sync about to start writes them all. A checkpoint does not swap the
  // journal while a sync runs.
  syncing_.swap(waiting_);
  sync_running_ = true;
  Journal* journal = journal_.get();
  asio::post(sync_thread_, [this, journal] { SyncDone(journal->Flush()); });
}

void ServerImpl::SyncDone(const absl::Status& s) {
  std::vector<std::function<void(const absl::Status&)>> done;
  absl::Status result;
  {
    allot::internal::MutexLock lock(&mu_);
    if (!s.ok() && journal_error_.ok()) {
      journal_error_ =
          absl::DataLossError(absl::StrCat("journal sync failed: ", s.message()));
    }
    result = s.ok() ? absl::OkStatus() : journal_error_;
    done.swap(syncing_);
    sync_running_ = false;
    if (!waiting_.empty()) {
      StartSync();
    } else if (checkpoint_pending_) {
      asio::post(control_, [this] { (void)Checkpoint(); });
    }
  }
  for (auto& callback : done) callback(result);
}

absl::Status ServerImpl::Checkpoint() {
  if (replica_ != nullptr) return absl::OkStatus();  // no local state
  allot::internal::MutexLock engine_lock(&engine_mu_);
  allot::internal::MutexLock lock(&mu_);
  if (sync_running_) {
    checkpoint_pending_ = true;
    return absl::OkStatus();
  }
  checkpoint_pending_ = false;
  if (!journal_error_.ok()) return journal_error_;
  // Every record is durable before the snapshot that holds it is cut, so
  // the snapshot's journal sequence is the journal's last record.
  absl::Status s = journal_->Flush();
  if (!s.ok()) {
    journal_error_ =
        absl::DataLossError(absl::StrCat("journal sync failed: ", s.message()));
    return journal_error_;
  }
  ALLOT_RETURN_IF_ERROR(WriteSnapshot(*engine_, snapshot_path_, FormatRfc3339(now_)));
  last_snapshot_ = absl::Now();
  // The new journal is made beside the old one and renamed over it: a crash
  // before the rename leaves the snapshot and the old journal (whose records
  // the snapshot holds), after it the snapshot and an empty journal.
  const std::string next = absl::StrCat(journal_path_, ".next");
  absl::StatusOr<std::unique_ptr<Journal>> fresh = Journal::Open(next, {});
  if (!fresh.ok()) return fresh.status();  // the old journal goes on
  fresh->reset();
  engine_->AttachJournal(nullptr);
  journal_.reset();
  s = allot::internal::RenameDurably(next, journal_path_);
  absl::StatusOr<std::unique_ptr<Journal>> reopened =
      s.ok() ? Journal::Open(journal_path_, JournalOptionsInUse())
             : absl::StatusOr<std::unique_ptr<Journal>>(s);
  if (!reopened.ok()) {
    // Nothing can be journaled now: refuse changes, as after a failed sync.
    journal_error_ = absl::DataLossError(
        absl::StrCat("journal sync failed: cannot start a new journal after the "
                     "snapshot: ",
                     reopened.status().message()));
    return journal_error_;
  }
  journal_ = *std::move(reopened);
  engine_->AttachJournal(journal_.get());
  return absl::OkStatus();
}

void ServerImpl::ScheduleAdvance() {
  advance_timer_.expires_after(ToChrono(config_.advance_interval));
  advance_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    {
      // Alone: a request that took its time before this advance's must
      // reach the engine first (the engine refuses times before an advance).
      allot::internal::MutexLock engine_lock(&engine_mu_);
      // A failure (a full disk) is visible to every later call as well.
      (void)AdvanceTo(Now());
    }
    // The advance's records (its reallocations) join the next group sync.
    AfterSync([](const absl::Status&) {});
    ScheduleAdvance();
  });
}

void ServerImpl::ScheduleSnapshot() {
  snapshot_timer_.expires_after(ToChrono(config_.snapshot_interval));
  snapshot_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    (void)Checkpoint();
    ScheduleSnapshot();
  });
}

void ServerImpl::Accept() {
  // Each connection gets a strand of its own: its handlers never run at once.
  acceptor_.async_accept(
      asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
          const bool reject = open_connections_.load() >= config_.max_connections;
          std::make_shared<Session>(std::move(socket), *this, reject)->Start();
        }
        Accept();
      });
}

absl::Status ServerImpl::Run() {
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (!ec) Shutdown();
    });
  }
  asio::post(control_, [this] {
    Accept();
    if (replica_ != nullptr) return;  // the learner advances; nothing to snapshot
    if (!options_.manual_clock) ScheduleAdvance();
    ScheduleSnapshot();
  });
  std::vector<std::thread> threads;
  for (int64_t i = 1; i < config_.io_threads; ++i) {
    threads.emplace_back([this] { io_.run(); });
  }
  // Sessions still open are destroyed with io_'s pending handlers.
  io_.run();
  for (std::thread& t : threads) t.join();
  // A sync still running finishes (its answers are not sent: the server
  // is stopping, and the journal is flushed below).
  sync_thread_.join();
  if (!options_.manual_clock) (void)AdvanceTo(Now());
  ALLOT_RETURN_IF_ERROR(Checkpoint());
  allot::internal::ReaderMutexLock engine_lock(&engine_mu_);
  return journal_ != nullptr ? journal_->Flush() : JournalError();
}

void ServerImpl::Shutdown() {
  asio::post(control_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    advance_timer_.cancel();
    snapshot_timer_.cancel();
    signals_.cancel(ec);
    io_.stop();
  });
}

}  // namespace internal

Server::Server(std::unique_ptr<internal::ServerImpl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServeConfig& config,
                                                       const ServerOptions& options) {
  auto impl = std::make_unique<internal::ServerImpl>(config, options);
  ALLOT_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port(); }
std::string Server::StartLine() const { return impl_->StartLine(); }
absl::Status Server::Run() { return impl_->Run(); }
void Server::Shutdown() { impl_->Shutdown(); }

}  // namespace allot::serve
