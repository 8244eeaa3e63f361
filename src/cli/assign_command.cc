// Copyright 2026 The allot Authors.
//
// `allot assign`: reads units from standard input, prints their arms, as
// TSV (the default) or as JSON lines that carry the arms' payloads too.

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
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace allot::cli {
namespace {

struct AssignArgs {
  std::string experiment;
  std::string history;
  std::string at;
  bool unit_start = false;
  std::string format = "tsv";
};

namespace rj = RAPIDJSON_NAMESPACE;

// Returns a payload (a valid JSON object) on one line: the whitespace between
// tokens removed, every other byte as it was, so a JSON line stays one line.
std::string OneLine(absl::string_view payload) {
  std::string out;
  out.reserve(payload.size());
  bool in_string = false;
  for (size_t i = 0; i < payload.size(); ++i) {
    const char c = payload[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < payload.size()) {
        out.push_back(payload[++i]);  // the escaped character cannot end it
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

// Appends one JSON line: the TSV columns under their header names, then the
// arm's payload as a JSON object, or null when it has none.
absl::Status AppendJsonLine(absl::string_view unit, const Assignment& a,
                            absl::string_view payload, std::string& buffer) {
  if (ValidUtf8(unit) != unit) {
    return absl::InvalidArgumentError(
        absl::StrCat("unit ", QuoteId(unit),
                     " is not valid UTF-8, which JSON cannot hold; use --format tsv"));
  }
  rj::StringBuffer text;
  rj::Writer<rj::StringBuffer> w(text);
  const std::string propensity = FormatNumber(a.propensity);
  w.StartObject();
  w.Key("unit");
  w.String(unit.data(), static_cast<rj::SizeType>(unit.size()));
  w.Key("arm");
  w.String(a.arm_info->id.data(), static_cast<rj::SizeType>(a.arm_info->id.size()));
  w.Key("epoch");
  w.Int64(a.epoch);
  w.Key("propensity");
  w.RawValue(propensity.data(), propensity.size(), rj::kNumberType);
  w.Key("holdout");
  w.Bool(a.holdout);
  w.Key("payload");
  if (payload.empty()) {
    w.Null();
  } else {
    w.RawValue(payload.data(), payload.size(), rj::kObjectType);
  }
  w.EndObject();
  absl::StrAppend(&buffer, absl::string_view(text.GetString(), text.GetSize()), "\n");
  return absl::OkStatus();
}

absl::StatusOr<AllocationHistory> LoadHistory(const AssignArgs& args,
                                              const ExperimentConfig& config) {
  if (args.history.empty()) {
    std::vector<std::string> payloads;
    for (const ArmConfig& arm : config.arms) payloads.push_back(arm.payload);
    return AllocationHistory::Create(config.id, config.EffectiveSalt(), config.ArmIds(),
                                     absl::InfinitePast(), config.InitialWeights(),
                                     std::move(payloads));
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
  if (args.format != "tsv" && args.format != "jsonl") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format must be tsv or jsonl, got ", QuoteId(args.format)));
  }
  const bool jsonl = args.format == "jsonl";
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
  // Each arm's payload on one line, for JSON lines.
  std::vector<std::string> payloads;
  if (jsonl) {
    for (int a = 0; a < assigner->num_arms(); ++a) {
      payloads.push_back(OneLine(assigner->arm(a).payload));
    }
  }
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
    if (jsonl) {
      if (absl::Status s = AppendJsonLine(unit, *a, payloads[a->arm], buffer); !s.ok()) {
        return fail(s);
      }
    } else {
      absl::StrAppend(&buffer, EscapeTsv(unit), "\t", a->arm_info->id, "\t", a->epoch,
                      "\t", FormatNumber(a->propensity), "\t", a->holdout ? 1 : 0, "\n");
    }
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
  cmd->add_option("--format", args->format,
                  "Output format: tsv (default), or jsonl: one JSON object per unit "
                  "with unit, arm, epoch, propensity, holdout and the arm's payload");
  cmd->callback([args, &exit_code] {
    absl::Status status = RunAssign(*args, std::cin, stdout);
    if (!status.ok()) ReportError("assign", status, exit_code);
  });
}

}  // namespace allot::cli
