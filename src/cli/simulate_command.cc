// Copyright 2026 The allot Authors.
//
// `allot simulate`: runs a scenario file's policies against the fixed split
// on simulated traffic and writes the summary, per-epoch weights and charts.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "allot/simulation/charts.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/summary.h"
#include "allot/simulation/world.h"
#include "allot/status_macros.h"
#include "cli/commands.h"

namespace allot::cli {
namespace {

struct SimulateArgs {
  std::string scenario;
  std::string out;
  std::optional<int> replicates;
  std::optional<std::string> seed;
  std::optional<int> threads;
};

std::string Count(double units) {
  if (units >= 1e6) return absl::StrFormat("%.1fM", units / 1e6);
  if (units >= 1e3) return absl::StrFormat("%.1fk", units / 1e3);
  return absl::StrFormat("%.0f", units);
}

// Prints "units done, rate, ETA" on one stderr line until `done` is
// notified. Only used when stderr is a terminal.
void ShowProgress(const std::atomic<int64_t>& units, double total,
                  const absl::Notification& done) {
  const auto start = std::chrono::steady_clock::now();
  bool printed = false;
  while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(250))) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double n = static_cast<double>(units.load(std::memory_order_relaxed));
    const double rate = seconds > 0 ? n / seconds : 0;
    const double eta = rate > 0 ? std::max(0.0, total - n) / rate : 0;
    std::fprintf(stderr, "\r\033[Ksimulating: %s of ~%s units, %s units/s, ETA %.0fs",
                 Count(n).c_str(), Count(total).c_str(), Count(rate).c_str(), eta);
    std::fflush(stderr);
    printed = true;
  }
  if (printed) std::fprintf(stderr, "\r\033[K");
}

absl::Status RunSimulate(const SimulateArgs& args) {
  ALLOT_ASSIGN_OR_RETURN(sim::Scenario scenario, sim::LoadScenarioFile(args.scenario));
  if (args.replicates.has_value()) {
    if (*args.replicates < 1 || *args.replicates > sim::kMaxReplicates) {
      return absl::InvalidArgumentError(absl::StrCat("--replicates must be in [1, ",
                                                     sim::kMaxReplicates, "], got ",
                                                     *args.replicates));
    }
    scenario.replicates = *args.replicates;
  }
  if (args.seed.has_value()) {
    ALLOT_ASSIGN_OR_RETURN(scenario.seed, ParseSeed("--seed", *args.seed));
  }
  const int threads = args.threads.value_or(
      std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  if (threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be >= 1, got ", threads));
  }
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", args.out, ": ", ec.message()));
  }

  std::atomic<int64_t> units{0};
  absl::Notification done;
  std::thread progress;
  if (isatty(STDERR_FILENO)) {
    const double total = sim::World(scenario, 0).ExpectedArrivals() *
                         scenario.replicates *
                         static_cast<double>(scenario.policies.size());
    progress = std::thread([&] { ShowProgress(units, total, done); });
  }
  absl::StatusOr<std::vector<sim::ReplicateOutcome>> outcomes =
      sim::RunScenario(scenario, {.threads = threads, .units_done = &units});
  done.Notify();
  if (progress.joinable()) progress.join();
  if (!outcomes.ok()) return outcomes.status();

  const sim::Summary summary = sim::Summarize(scenario, *outcomes);
  const std::string markdown = sim::SummaryMarkdown(summary);
  ALLOT_RETURN_IF_ERROR(WriteOutputs(
      args.out, {{"summary.json", sim::SummaryJson(summary)},
                 {"summary.md", markdown},
                 {"epochs.csv", sim::EpochsCsv(scenario, *outcomes)},
                 {"weights.svg", sim::WeightsChartSvg(scenario, outcomes->front())},
                 {"regret.svg", sim::RegretChartSvg(scenario, summary)}}));
  std::cout << markdown;
  return absl::OkStatus();
}

}  // namespace

void AddSimulateCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Compare policies with the fixed split on simulated traffic (a scenario file)");
  cmd->add_option("scenario", args->scenario, "Scenario file (TOML)")->required();
  cmd->add_option("--out", args->out,
                  "Output directory: summary.json, summary.md, epochs.csv, "
                  "weights.svg, regret.svg")
      ->required();
  cmd->add_option("--replicates", args->replicates,
                  "Replicates to run (default: the scenario's)");
  cmd->add_option("--seed", args->seed,
                  "Seed in [0, 2^63 - 1] (default: the scenario's)");
  cmd->add_option("--threads", args->threads,
                  "Worker threads (default: all cores); the output does not "
                  "depend on it");
  cmd->callback([args, &exit_code] {
    absl::Status status = RunSimulate(*args);
    if (!status.ok()) ReportError("simulate", status, exit_code);
  });
}

}  // namespace allot::cli
