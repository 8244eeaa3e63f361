// Copyright 2026 The allot Authors.
//
// The configuration of `allot serve` (README.md, "`allot serve`"): where it
// listens, its data directory, the experiments it creates at start, its
// timers, its limits and its tokens, read from a TOML file.
//
//   absl::StatusOr<allot::serve::ServeConfig> config =
//       allot::serve::LoadServeConfig("/etc/allot/serve.toml");

#ifndef ALLOT_SRC_SERVE_SERVE_CONFIG_H_
#define ALLOT_SRC_SERVE_SERVE_CONFIG_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/ip/address.hpp"

namespace allot::serve {

// Who a token speaks for. Admin may call every route; router only assign
// and outcomes; viewer only reads (reports, history, metrics).
enum class Role { kAdmin, kRouter, kViewer };

// "admin", "router" or "viewer".
absl::string_view RoleName(Role role);

struct TokenConfig {
  std::array<unsigned char, 32> sha256{};  // SHA-256 digest of the token
  Role role = Role::kViewer;
};

// When an answer to a state-changing request is sent, against the journal.
enum class Durability {
  // After the journal sync that holds its records: nothing acknowledged is
  // ever lost (group commit: one fdatasync for every answer waiting).
  kSync,
  // At once; the journal is synced every flush_interval, so a crash (kill -9,
  // power loss) can lose what was acknowledged in the last flush_interval
  // plus the time of one sync. A clean stop loses nothing.
  kInterval,
};

// A replica of a router fleet: events go to a PostgreSQL store and the
// allocation history comes from it (README.md, "A fleet").
struct StoreConfig {
  // postgresql://USER@HOST:PORT/DB; empty: no store (the local engine and
  // its journal).
  std::string url;
  // This replica's id in the events it writes; default "serve-HOST".
  std::string replica;
  // Events are written every flush_interval or at flush_events, whichever
  // comes first: the acknowledged-loss window of a crash.
  absl::Duration flush_interval = absl::Milliseconds(200);
  int64_t flush_events = 10000;
  // The history is followed by LISTEN/NOTIFY and polled this often too.
  absl::Duration poll_interval = absl::Seconds(5);
  // Also run the learner of each experiment in this process (one leads
  // per experiment across the fleet, by an advisory lock; the others stand
  // by), each grid point learner_lag after its time.
  bool learner = false;
  absl::Duration learner_lag = absl::Seconds(30);
};

// Plain struct; every field has its default.
struct ServeConfig {
  // An IP address or a host name (resolved when the config is read and
  // again at start; the first address is bound), and a port; port 0 binds
  // an ephemeral port.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8470;
  // Holds allot.journal and allot.snapshot; required unless store.url is
  // set (a replica keeps no local state).
  std::string data_dir;
  // Experiment files created at start unless already known (paths resolved
  // against the config file's directory).
  std::vector<std::string> experiments;
  absl::Duration snapshot_interval = absl::Minutes(5);
  absl::Duration advance_interval = absl::Seconds(10);
  int64_t max_body_bytes = int64_t{1} << 20;
  int64_t max_batch = 10000;
  int64_t max_connections = 1024;
  // Threads serving connections (each connection is served by one at a
  // time); in [1, 64].
  int64_t io_threads = 1;
  absl::Duration read_timeout = absl::Seconds(10);
  // `flush = "sync"` (the default) or `"interval"`, with its flush_interval
  // in (0, 1m].
  Durability durability = Durability::kSync;
  absl::Duration flush_interval = absl::Milliseconds(10);
  StoreConfig store;
  // Empty: every route is open, and only a loopback address may be used.
  std::vector<TokenConfig> tokens;
};

// Parses a serve config's text; `source` names it in errors and
// `base_dir` resolves relative paths. Errors: InvalidArgument naming the
// field ("SOURCE:LINE: max_batch must be positive, got 0"), unknown keys
// included, and a non-loopback listen address without tokens.
// A non-empty `store_url` (`allot serve --store`) replaces [store] url.
absl::StatusOr<ServeConfig> ParseServeConfig(absl::string_view text,
                                             absl::string_view source,
                                             absl::string_view base_dir,
                                             absl::string_view store_url = "");

// The address `host` (an IP literal or a name) binds: the first the
// resolver gives. Errors: Unavailable naming the host.
absl::StatusOr<boost::asio::ip::address> ResolveListenAddress(const std::string& host,
                                                              uint16_t port);

// Reads and parses the file at `path`. Errors: NotFound when it cannot be
// read; otherwise as ParseServeConfig.
absl::StatusOr<ServeConfig> LoadServeConfig(absl::string_view path,
                                            absl::string_view store_url = "");

}  // namespace allot::serve

#endif  // ALLOT_SRC_SERVE_SERVE_CONFIG_H_
