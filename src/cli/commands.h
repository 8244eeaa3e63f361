// Copyright 2026 The allot Authors.
//
// The subcommands of the `allot` tool. Each Add*Command registers one
// subcommand on the app; when it runs, it stores its exit code in
// `exit_code`.

#ifndef ALLOT_SRC_CLI_COMMANDS_H_
#define ALLOT_SRC_CLI_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"

namespace allot::cli {

void AddAssignCommand(CLI::App& app, int& exit_code);
void AddReplayCommand(CLI::App& app, int& exit_code);
void AddWeightsCommand(CLI::App& app, int& exit_code);
void AddSnapshotCommand(CLI::App& app, int& exit_code);
void AddSimulateCommand(CLI::App& app, int& exit_code);

// Returns `value` in its shortest form that reads back to the same double.
std::string FormatNumber(double value);

}  // namespace allot::cli

#endif  // ALLOT_SRC_CLI_COMMANDS_H_
