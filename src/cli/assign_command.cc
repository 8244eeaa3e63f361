// Copyright 2026 The allot Authors.
//
// `allot assign`: reads units from standard input, prints their arms.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "allot/allocation_history.h"
#include "allot/assigner.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "cli/commands.h"

namespace allot::cli {
namespace {

struct AssignArgs {
  std::string experiment;
  std::string history;
  std::string at;
  bool unit_start = false;
};

absl::StatusOr<AllocationHistory> LoadHistory(const AssignArgs& args,
                                              const ExperimentConfig& config) {
  if (args.history.empty()) {
    return AllocationHistory::Create(config.id, config.EffectiveSalt(), config.ArmIds(),
                                     absl::InfinitePast(), config.InitialWeights());
  }
  ALLOT_ASSIGN_OR_RETURN(std::string json, ReadFileToString(args.history));
  // Read it on its own first, so a history of another experiment is named
  // as such rather than by its first unknown arm.
  absl::StatusOr<AllocationHistory> history = AllocationHistory::FromJson(json);
  if (!history.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.history, ": ", history.status().message()));
  }
  if (history->experiment() != config.id) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.history, ": experiment ", QuoteId(history->experiment()),
                     " does not match ", args.experiment, "'s id ", QuoteId(config.id)));
  }
  if (history->salt() != config.EffectiveSalt()) {
    return absl::InvalidArgumentError(absl::StrCat(
        args.history, ": salt ", QuoteId(history->salt()), " does not match ",
        args.experiment, "'s salt ", QuoteId(config.EffectiveSalt())));
  }
  history = AllocationHistory::FromJson(json, config.ArmIds());
  if (!history.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.history, ": ", history.status().message()));
  }
  return history;
}

absl::Status RunAssign(const AssignArgs& args, std::istream& in, FILE* out) {
  ALLOT_ASSIGN_OR_RETURN(ExperimentConfig config, LoadExperimentFile(args.experiment));
  ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, LoadHistory(args, config));
  AssignerOptions options;
  options.holdout = config.holdout;
  options.baseline_arm = FindArm(config.ArmIds(), config.baseline);
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<Assigner> assigner,
                         Assigner::Create(history, options));
  std::optional<absl::Time> at;
  if (!args.at.empty()) {
    ALLOT_ASSIGN_OR_RETURN(at, ParseTime("--at", args.at));
  }
  const std::vector<std::string>& arms = assigner->arm_ids();
  // Output streams: a bad line stops the run after the lines before it were
  // printed (and flushed), never part of a line, and the error says so.
  std::string line, buffer;
  int64_t number = 1;
  auto fail = [&](const absl::Status& s) {
    std::fwrite(buffer.data(), 1, buffer.size(), out);
    std::fflush(out);
    return absl::InvalidArgumentError(
        absl::StrCat("stdin:", number, ": ", s.message(), " (stopped there: ", number - 1,
                     " line(s) before it were assigned and printed, none after)"));
  };
  for (; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    absl::string_view unit = line;
    std::optional<absl::Time> when = at;
    if (args.unit_start) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
      if (fields.size() != 2) {
        return fail(absl::InvalidArgumentError(
            absl::StrCat("with --unit-start each line is unit<TAB>RFC3339-start, got ",
                         fields.size(), " field(s)")));
      }
      unit = fields[0];
      absl::StatusOr<absl::Time> start = ParseTime("unit start", fields[1]);
      if (!start.ok()) return fail(start.status());
      when = at.has_value() ? std::min(*at, *start) : *start;
    }
    if (absl::Status s = CheckLineUnit(unit); !s.ok()) return fail(s);
    absl::StatusOr<Assignment> a =
        when.has_value() ? assigner->AssignAt(unit, *when) : assigner->Assign(unit);
    if (!a.ok()) return fail(a.status());
    absl::StrAppend(&buffer, EscapeTsv(unit), "\t", arms[a->arm], "\t", a->epoch, "\t",
                    FormatNumber(a->propensity), "\t", a->holdout ? 1 : 0, "\n");
    if (buffer.size() > (1 << 16)) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  std::fflush(out);
  if (std::ferror(out)) {
    return absl::DataLossError(
        absl::StrCat("cannot write standard output: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

void AddAssignCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AssignArgs>();
  CLI::App* cmd =
      app.add_subcommand("assign",
                         "Read unit ids from stdin, one per line; print "
                         "unit<TAB>arm<TAB>epoch<TAB>propensity<TAB>holdout for each");
  cmd->add_option("--experiment", args->experiment, "Experiment file (TOML)")->required();
  cmd->add_option("--history", args->history,
                  "Allocation history (JSON); overrides the initial weights");
  cmd->add_option("--at", args->at,
                  "Use the epoch in force at this RFC 3339 time (default: the latest)");
  cmd->add_flag("--unit-start", args->unit_start,
                "Input lines are unit<TAB>RFC3339-start; pin each unit to the "
                "epoch in force at its start");
  cmd->callback([args, &exit_code] {
    absl::Status status = RunAssign(*args, std::cin, stdout);
    if (!status.ok()) ReportError("assign", status, exit_code);
  });
}

}  // namespace allot::cli
