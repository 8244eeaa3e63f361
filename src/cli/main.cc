// Copyright 2026 The allot Authors.
//
// `allot`: the command line tool. See README.md for every subcommand.

#include <charconv>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/commands.h"

namespace allot::cli {

std::string FormatNumber(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

}  // namespace allot::cli

int main(int argc, char** argv) {
  CLI::App app{"allot: bandit traffic allocation between model variants"};
  app.require_subcommand(1);
  int exit_code = 0;
  allot::cli::AddAssignCommand(app, exit_code);
  allot::cli::AddReplayCommand(app, exit_code);
  allot::cli::AddWeightsCommand(app, exit_code);
  allot::cli::AddSnapshotCommand(app, exit_code);
  allot::cli::AddSimulateCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
