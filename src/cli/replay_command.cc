// Copyright 2026 The allot Authors.
//
// `allot replay`: runs the engine over a log of exposures, outcomes and
// advances, as a team would with events exported from its warehouse.

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/report.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"
#include "cli/events_csv.h"
#include "runtime/engine_access.h"
#include "runtime/engine_state.h"

namespace allot::cli {
namespace {

struct ReplayArgs {
  std::string experiment;
  std::string events;
  std::string out;
  std::string start;
  std::string snapshot;  // write a snapshot here when the run ends
  std::string restore;   // start from this snapshot
};

// Where a replay stopped, kept in its snapshot's application data: the time
// of the last row applied and how many rows at exactly that time were
// applied, so a restore skips exactly those rows even when a time repeats.
struct ReplayCursor {
  absl::Time time = absl::InfinitePast();
  int64_t rows_at_time = 0;
};

std::string FormatCursor(const ReplayCursor& c) {
  return absl::StrCat("allot-replay-cursor ", FormatRfc3339(c.time), " ", c.rows_at_time);
}

absl::StatusOr<ReplayCursor> ParseCursor(absl::string_view text, absl::string_view path) {
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  ReplayCursor c;
  if (parts.size() != 3 || parts[0] != "allot-replay-cursor" ||
      !ParseTime("cursor", parts[1]).ok() ||
      !absl::SimpleAtoi(parts[2], &c.rows_at_time)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " was not written by allot replay --snapshot (no replay cursor)"));
  }
  c.time = *ParseTime("cursor", parts[1]);
  return c;
}

template <typename T>
std::string Show(const T& value) {
  return absl::StrCat(value);
}
std::string Show(const std::string& value) { return QuoteId(value); }
std::string Show(absl::Duration value) { return absl::FormatDuration(value); }
std::string Show(const std::optional<absl::Duration>& value) {
  return value.has_value() ? absl::FormatDuration(*value) : "unset";
}
std::string Show(EstimateMethod value) { return std::string(EstimateMethodName(value)); }
std::string Show(DecisionRule value) { return std::string(DecisionRuleName(value)); }
std::string Show(PolicyKind value) { return std::string(PolicyKindName(value)); }
std::string Show(MetricKind value) {
  return value == MetricKind::kBinary ? "binary" : "continuous";
}
std::string Show(Direction value) {
  return value == Direction::kHigherIsBetter ? "higher" : "lower";
}

// Returns "" when the experiment file's config is the snapshot's, else the
// first field that differs with both values: a restore must continue the
// same experiment (its arms, in the same order, index the snapshot's state).
std::string ConfigDifference(const ExperimentConfig& file,
                             const ExperimentConfig& snapshot) {
  std::string diff;
  auto check = [&](absl::string_view field, const auto& in_file,
                   const auto& in_snapshot) {
    if (diff.empty() && !(in_file == in_snapshot)) {
      diff = absl::StrCat(field, " is ", Show(in_file), " in the experiment file but ",
                          Show(in_snapshot), " in the snapshot");
    }
  };
  check("salt", file.EffectiveSalt(), snapshot.EffectiveSalt());
  check("the number of arms", file.arms.size(), snapshot.arms.size());
  for (size_t a = 0; a < file.arms.size() && a < snapshot.arms.size(); ++a) {
    check(absl::StrCat("arms[", a, "].id"), file.arms[a].id, snapshot.arms[a].id);
    check(absl::StrCat("arms[", a, "].weight"), file.arms[a].weight,
          snapshot.arms[a].weight);
    // The payload is what assignments of the arm return.
    check(absl::StrCat("arms[", a, "].config"), file.arms[a].payload,
          snapshot.arms[a].payload);
  }
  check("unit", file.unit, snapshot.unit);
  check("surface", file.surface, snapshot.surface);
  check("holdout", file.holdout, snapshot.holdout);
  check("baseline", file.baseline, snapshot.baseline);
  check("fallback", file.fallback, snapshot.fallback);
  check("metric.kind", file.metric, snapshot.metric);
  check("metric.direction", file.direction, snapshot.direction);
  check("policy.kind", file.policy.kind, snapshot.policy.kind);
  check("policy.epsilon", file.policy.epsilon, snapshot.policy.epsilon);
  check("policy.top_two_beta", file.policy.top_two_beta, snapshot.policy.top_two_beta);
  check("policy.floor", file.floor, snapshot.floor);
  check("policy.max_shift", file.max_shift, snapshot.max_shift);
  check("policy.seed", file.seed, snapshot.seed);
  check("policy.prior_alpha", file.prior_alpha, snapshot.prior_alpha);
  check("policy.prior_beta", file.prior_beta, snapshot.prior_beta);
  check("schedule.burn_in", file.schedule.burn_in, snapshot.schedule.burn_in);
  check("schedule.min_units_per_arm", file.schedule.min_units_per_arm,
        snapshot.schedule.min_units_per_arm);
  check("schedule.interval", file.schedule.interval, snapshot.schedule.interval);
  check("schedule.conversion_window", file.schedule.conversion_window,
        snapshot.schedule.conversion_window);
  check("schedule.retention", file.schedule.retention, snapshot.schedule.retention);
  check("estimate.method", file.estimate.method, snapshot.estimate.method);
  check("estimate.half_life", file.estimate.half_life, snapshot.estimate.half_life);
  check("decision.rule", file.decision.rule, snapshot.decision.rule);
  check("decision.alpha", file.decision.alpha, snapshot.decision.alpha);
  check("decision.min_effect", file.decision.min_effect, snapshot.decision.min_effect);
  check("decision.horizon_units", file.decision.horizon_units,
        snapshot.decision.horizon_units);
  return diff;
}

// Checks that `engine` (restored from `path`) holds the experiment of
// `config`, configured the same.
absl::Status CheckRestoredExperiment(const Engine& engine, const ExperimentConfig& config,
                                     const std::string& path,
                                     const std::string& experiment_path) {
  const internal::EngineState state = internal::EngineAccess::Export(engine);
  for (const internal::ExperimentRuntimeState& e : state.experiments) {
    if (e.config.id != config.id) continue;
    const std::string diff = ConfigDifference(config, e.config);
    if (diff.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(experiment_path, " does not match the experiment ",
                     QuoteId(config.id), " in ", path, ": ", diff,
                     "; restore with the experiment file the snapshot was made with"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, " holds no experiment ", QuoteId(config.id)));
}

absl::Status RunReplay(const ReplayArgs& args) {
  ALLOT_ASSIGN_OR_RETURN(ExperimentConfig config, LoadExperimentFile(args.experiment));
  ALLOT_ASSIGN_OR_RETURN(std::vector<Event> events, ReadEvents(args.events));
  absl::Time start = events.front().time;
  if (!args.start.empty()) {
    ALLOT_ASSIGN_OR_RETURN(start, ParseTime("--start", args.start));
  }
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", args.out, ": ", ec.message()));
  }
  std::unique_ptr<Engine> restored;
  ReplayCursor cursor;
  if (!args.restore.empty()) {
    std::string data;
    ALLOT_ASSIGN_OR_RETURN(restored, ReadSnapshot(args.restore, &data));
    ALLOT_ASSIGN_OR_RETURN(cursor, ParseCursor(data, args.restore));
    ALLOT_RETURN_IF_ERROR(
        CheckRestoredExperiment(*restored, config, args.restore, args.experiment));
  } else {
    restored = std::make_unique<Engine>();
    ALLOT_RETURN_IF_ERROR(restored->CreateExperiment(config));
    ALLOT_RETURN_IF_ERROR(restored->Start(config.id, start));
  }
  Engine& engine = *restored;
  std::string assignments;
  int64_t skip_at_time = cursor.rows_at_time;
  int64_t applied = 0;
  for (const Event& e : events) {
    // With --restore, rows up to the snapshot's cursor were applied already.
    if (e.time < cursor.time) continue;
    if (e.time == cursor.time && skip_at_time > 0) {
      --skip_at_time;
      continue;
    }
    cursor.rows_at_time = e.time == cursor.time ? cursor.rows_at_time + 1 : 1;
    cursor.time = e.time;
    ++applied;
    auto located = [&](const absl::Status& s) {
      return absl::Status(s.code(),
                          absl::StrCat(args.events, ":", e.line, ": ", s.message()));
    };
    if (e.time >= start) {
      absl::Status advanced = engine.Advance(e.time).status();
      if (!advanced.ok()) return located(advanced);
    }
    if (e.kind == EventKind::kAssign) {
      absl::StatusOr<Assignment> a =
          engine.Assign(config.id, e.unit, e.time, e.unit_start);
      if (!a.ok()) return located(a.status());
      absl::StrAppend(&assignments, EscapeTsv(e.unit), "\t", a->arm_info->id, "\t",
                      a->epoch, "\t", FormatNumber(a->propensity), "\t",
                      a->holdout ? 1 : 0, "\n");
    } else if (e.kind == EventKind::kOutcome) {
      absl::StatusOr<OutcomeDisposition> d =
          engine.RecordOutcome(config.id, e.unit, e.time, e.value, e.metric);
      if (!d.ok()) return located(d.status());
    } else if (e.kind == EventKind::kAddArm) {
      ArmConfig arm(e.unit);
      arm.initial_share = e.initial_share;
      absl::Status s = engine.AddArm(config.id, arm, e.time);
      if (!s.ok()) return located(s);
    } else if (e.kind == EventKind::kRetireArm) {
      absl::Status s = engine.RetireArm(config.id, e.unit, e.time, e.retire_mode);
      if (!s.ok()) return located(s);
    }
  }
  if (applied > 0) {
    ALLOT_RETURN_IF_ERROR(engine.Advance(events.back().time).status());
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                         engine.Reports(config.id));
  ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, engine.History(config.id));
  ALLOT_RETURN_IF_ERROR(WriteOutputs(args.out, {{"reports.json", ReportsToJson(reports)},
                                                {"assignments.tsv", assignments},
                                                {"history.json", history.ToJson()}}));
  if (!args.snapshot.empty()) {
    // Written after the outputs (a complete set of this run) and atomically,
    // so a failure here leaves the snapshot given to --restore, if it is the
    // same file, as it was.
    absl::Status s = WriteSnapshot(engine, args.snapshot, FormatCursor(cursor));
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(s.message(), " (the outputs in ", args.out,
                                       " were written; the snapshot was not)"));
    }
  }
  int reallocated = 0;
  for (const ReallocationReport& r : reports) reallocated += r.reallocated;
  std::cout << "replayed " << applied << " of " << events.size()
            << " events: " << reports.size() << " reports, " << reallocated
            << " reallocations, " << history.epochs().size() << " epochs; wrote "
            << args.out << "/{reports.json,assignments.tsv,history.json}\n";
  return absl::OkStatus();
}

}  // namespace

void AddReplayCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "Run the engine over a CSV log of assign, outcome and advance events");
  cmd->add_option("--experiment", args->experiment, "Experiment file (TOML)")->required();
  cmd->add_option("--events", args->events, "Events CSV: time,kind,unit,value,unit_start")
      ->required();
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->add_option("--start", args->start,
                  "Experiment start, RFC 3339 (default: the first row's time)");
  cmd->add_option("--snapshot", args->snapshot,
                  "Write a snapshot of the engine here when the run ends");
  cmd->add_option("--restore", args->restore,
                  "Start from this snapshot (written by --snapshot) and apply "
                  "only the events after it");
  cmd->callback([args, &exit_code] {
    absl::Status status = RunReplay(*args);
    if (!status.ok()) ReportError("replay", status, exit_code);
  });
}

}  // namespace allot::cli
