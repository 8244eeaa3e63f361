// Copyright 2026 The allot Authors.
//
// `allot serve --config SERVE.toml [--manual-clock]`: the HTTP sidecar
// (src/serve/). Prints one line with its address, serves until SIGTERM or
// SIGINT, then writes a snapshot and exits 0.

#include <iostream>
#include <memory>
#include <string>

#include "allot/status_macros.h"
#include "cli/commands.h"
#include "serve/serve_config.h"
#include "serve/server.h"

namespace allot::cli {
namespace {

struct ServeFlags {
  std::string config;
  std::string store;
  bool manual_clock = false;
};

absl::Status RunServe(const ServeFlags& flags) {
  ALLOT_ASSIGN_OR_RETURN(serve::ServeConfig config,
                         serve::LoadServeConfig(flags.config, flags.store));
  ALLOT_ASSIGN_OR_RETURN(
      std::unique_ptr<serve::Server> server,
      serve::Server::Create(
          config, {.manual_clock = flags.manual_clock, .handle_signals = true}));
  std::cout << server->StartLine() << std::endl;
  return server->Run();
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Serve the engine over HTTP/JSON");
  serve->add_option("--config", flags->config, "Serve config (TOML)")->required();
  serve->add_option(
      "--store", flags->store,
      "Serve as a replica of a fleet: events to this PostgreSQL store "
      "(postgresql://USER@HOST:PORT/DB), the history from it ([store] url)");
  serve->add_flag("--manual-clock", flags->manual_clock,
                  "Take the time from POST /v1/clock instead of the wall clock");
  serve->callback([flags, &exit_code] {
    absl::Status status = RunServe(*flags);
    if (!status.ok()) ReportError("serve", status, exit_code);
  });
}

}  // namespace allot::cli
