// Copyright 2026 The allot Authors.
//
// `allot serve`: the engine behind HTTP/1.1 and JSON (Boost.Beast), with its
// journal and snapshots in a data directory. Create binds the listening
// socket and recovers the engine; Run serves until Shutdown or, with
// handle_signals, SIGTERM/SIGINT, then writes a snapshot.
//
//   absl::StatusOr<std::unique_ptr<allot::serve::Server>> server =
//       allot::serve::Server::Create(config, {.manual_clock = false});
//   std::cout << (*server)->StartLine() << "\n";
//   absl::Status s = (*server)->Run();

#ifndef ALLOT_SRC_SERVE_SERVER_H_
#define ALLOT_SRC_SERVE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "serve/serve_config.h"

namespace allot::serve {

struct ServerOptions {
  // Time comes from POST /v1/clock instead of the wall clock, and no
  // advance timer runs.
  bool manual_clock = false;
  // SIGTERM and SIGINT shut the server down cleanly.
  bool handle_signals = true;
};

namespace internal {
class ServerImpl;
}

// Thread-safe: Shutdown may be called from any thread.
class Server {
 public:
  // Recovers the engine from config.data_dir (snapshot, then journal),
  // creates the configured experiments that it does not know, and binds the
  // listening socket. Errors: as Recover, Journal::Open and
  // LoadExperimentFile; Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServeConfig& config,
                                                        const ServerOptions& options);
  ~Server();

  // The port actually bound (the ephemeral one when listen's port is 0).
  uint16_t port() const;
  // "allot serve: listening on http://ADDRESS:PORT ..." with the
  // authentication mode.
  std::string StartLine() const;

  // Serves until Shutdown (or a signal); then writes a snapshot and flushes
  // the journal. Errors: DataLoss when the final snapshot fails.
  absl::Status Run();
  void Shutdown();

 private:
  explicit Server(std::unique_ptr<internal::ServerImpl> impl);
  std::unique_ptr<internal::ServerImpl> impl_;
};

}  // namespace allot::serve

#endif  // ALLOT_SRC_SERVE_SERVER_H_
