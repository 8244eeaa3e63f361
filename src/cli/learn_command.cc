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

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"
#include "store/learner.h"
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
  ALLOT_ASSIGN_OR_RETURN(absl::Duration poll, ParseDuration("--poll", args.poll));
  ALLOT_ASSIGN_OR_RETURN(absl::Duration lag, ParseDuration("--lag", args.lag));
  ALLOT_ASSIGN_OR_RETURN(absl::Duration pace, ParseDuration("--pace", args.pace));
  if (poll <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--poll must be positive, got ", args.poll));
  }
  std::optional<absl::Time> until;
  if (!args.once_until.empty()) {
    ALLOT_ASSIGN_OR_RETURN(until, ParseTime("--once-until", args.once_until));
  }
  ALLOT_RETURN_IF_ERROR(store::ValidateStoreUrl(args.store));
  std::unique_ptr<store::Learner> learner;
  bool said_standby = false;
  while (true) {
    if (learner == nullptr) {
      absl::StatusOr<std::unique_ptr<store::Learner>> connected =
          store::Learner::Connect(args.store, config, args.learner_id);
      if (!connected.ok()) {
        // An unreachable server is waited for; anything else is an error.
        if (!absl::IsUnavailable(connected.status())) return connected.status();
        std::cerr << "allot learn: " << connected.status().message() << "; retrying\n";
        absl::SleepFor(poll);
        continue;
      }
      learner = *std::move(connected);
    }
    absl::StatusOr<bool> leading = learner->TryLead();
    if (!leading.ok()) {
      if (!absl::IsUnavailable(leading.status())) return leading.status();
      std::cerr << "allot learn: " << leading.status().message() << "; reconnecting\n";
      learner.reset();
      absl::SleepFor(poll);
      continue;
    }
    if (!*leading) {
      if (!said_standby) {
        std::cout << "standby: another learner leads " << QuoteId(config.id) << std::endl;
        said_standby = true;
      }
      absl::SleepFor(poll);
      continue;
    }
    if (said_standby) {
      std::cout << "leading " << QuoteId(config.id) << " from "
                << FormatRfc3339(learner->watermark()) << std::endl;
      said_standby = false;
    }
    const absl::Time target = until.has_value() ? *until : absl::Now() - lag;
    absl::Status failed;
    while (failed.ok() && learner->NextDue() <= target) {
      // With --pace, one grid point at a time with a pause after each.
      absl::StatusOr<std::vector<ReallocationReport>> reports =
          learner->RunUntil(pace > absl::ZeroDuration() ? learner->NextDue() : target);
      if (!reports.ok()) {
        failed = reports.status();
        break;
      }
      for (const ReallocationReport& r : *reports) Print(r);
      if (pace > absl::ZeroDuration()) absl::SleepFor(pace);
    }
    if (!failed.ok()) {
      if (!absl::IsUnavailable(failed)) return failed;
      std::cerr << "allot learn: " << failed.message() << "; reconnecting\n";
      learner.reset();
      continue;
    }
    if (until.has_value()) {
      std::cout << "learned " << QuoteId(config.id) << " up to "
                << FormatRfc3339(learner->watermark()) << std::endl;
      return absl::OkStatus();
    }
    absl::SleepFor(poll);
  }
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
