// Copyright 2026 The allot Authors.
//
// `allot`: the command line tool. See README.md for every subcommand.

#include "CLI/CLI.hpp"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"allot: bandit traffic allocation between model variants"};
  app.require_subcommand(1);
  int exit_code = 0;
  allot::cli::AddAssignCommand(app, exit_code);
  allot::cli::AddReplayCommand(app, exit_code);
  allot::cli::AddWeightsCommand(app, exit_code);
  allot::cli::AddSnapshotCommand(app, exit_code);
  allot::cli::AddSimulateCommand(app, exit_code);
  allot::cli::AddServeCommand(app, exit_code);
  allot::cli::AddStoreCommand(app, exit_code);
  allot::cli::AddLearnCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed; every other command line
    // CLI11 refuses is a usage error, exit 2 (README: exit codes).
    const int code = app.exit(e);
    return code == 0 ? 0 : allot::cli::kExitUsage;
  }
  return exit_code;
}
