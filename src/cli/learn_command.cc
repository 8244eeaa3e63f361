// Copyright 2026 The allot Authors.
//
// `allot learn --store URL --experiment EXP.toml`: the fleet's learner for
// one experiment (store/learner.h). It waits as a standby until it holds the
// experiment's lock, then runs each grid point once its time (plus --lag,
// for replicas' events still in flight) has passed. With --once-until it
// runs the grid points up to that time and exits.

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"
#include "store/learner_loop.h"
#include "store/pg.h"

namespace allot::cli {
namespace {

struct LearnArgs {
  std::string store;
  std::string experiment;
  std::string once_until;
  std::string poll = "10s";
  std::string lag = "1m";
  std::string pace = "0s";
  std::string learner_id = "allot-learn";
};

void Print(const ReallocationReport& r) {
  std::cout << "grid point " << FormatRfc3339(r.time) << ": epoch " << r.epoch
            << (r.reallocated ? ", reallocated to [" : ", weights kept [")
            << absl::StrJoin(r.weights_after, ", ") << "]: " << r.reason << std::endl;
}

absl::Status RunLearn(const LearnArgs& args) {
  ALLOT_ASSIGN_OR_RETURN(ExperimentConfig config, LoadExperimentFile(args.experiment));
  store::LearnerLoopOptions options;
  ALLOT_ASSIGN_OR_RETURN(options.poll, ParseDuration("--poll", args.poll));
  ALLOT_ASSIGN_OR_RETURN(options.lag, ParseDuration("--lag", args.lag));
  ALLOT_ASSIGN_OR_RETURN(options.pace, ParseDuration("--pace", args.pace));
  if (!args.once_until.empty()) {
    ALLOT_ASSIGN_OR_RETURN(options.once_until,
                           ParseTime("--once-until", args.once_until));
  }
  options.learner_id = args.learner_id;
  store::LearnerLoopCallbacks callbacks;
  callbacks.report = Print;
  callbacks.say = [](absl::string_view line) {
    // Problems go to stderr, the learner's changes of state to stdout.
    const bool problem =
        absl::EndsWith(line, "retrying") || absl::EndsWith(line, "reconnecting");
    (problem ? std::cerr : std::cout)
        << (problem ? "allot learn: " : "") << line << std::endl;
  };
  callbacks.wait_or_stop = [](absl::Duration d) {
    absl::SleepFor(d);
    return false;  // runs until killed
  };
  return store::RunLearnerLoop(args.store, config, options, callbacks);
}

}  // namespace

void AddLearnCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<LearnArgs>();
  CLI::App* cmd = app.add_subcommand(
      "learn", "The fleet's learner of one experiment whose events are in the store");
  cmd->add_option("--store", args->store,
                  "PostgreSQL URL: postgresql://USER@HOST:PORT/DB")
      ->required();
  cmd->add_option("--experiment", args->experiment, "Experiment file (TOML)")->required();
  cmd->add_option(
      "--once-until", args->once_until,
      "Run the grid points up to this time (RFC 3339) once leading, then exit");
  cmd->add_option("--poll", args->poll,
                  "How often a standby tries the lock and a leader looks for due grid "
                  "points (default 10s)");
  cmd->add_option("--lag", args->lag,
                  "Run a grid point this long after its time, for events in flight "
                  "(default 1m; not with --once-until)");
  cmd->add_option(
      "--pace", args->pace,
      "Pause this long after each grid point (demonstrations, failover tests)");
  cmd->add_option("--learner-id", args->learner_id,
                  "Written with each watermark: who wrote it (default allot-learn)");
  cmd->callback([args, &exit_code] {
    absl::Status status = RunLearn(*args);
    if (!status.ok()) ReportError("learn", status, exit_code);
  });
}

}  // namespace allot::cli
