// Copyright 2026 The allot Authors.
//
// `allot replay`: runs the engine over a log of exposures, outcomes and
// advances, as a team would with events exported from its warehouse.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"

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

enum class EventKind { kAssign, kOutcome, kAdvance };

struct Event {
  int64_t line = 0;
  absl::Time time;
  EventKind kind = EventKind::kAdvance;
  std::string unit;
  double value = 0;
  std::optional<absl::Time> unit_start;
};

// Splits one CSV line (RFC 4180: fields may be quoted, "" escapes a quote).
absl::StatusOr<std::vector<std::string>> SplitCsv(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return absl::InvalidArgumentError("unterminated quoted field");
  return fields;
}

absl::StatusOr<Event> ParseEvent(absl::string_view line, int64_t number) {
  ALLOT_ASSIGN_OR_RETURN(std::vector<std::string> f, SplitCsv(line));
  if (f.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected 5 fields (time,kind,unit,value,unit_start), got ", f.size()));
  }
  Event e;
  e.line = number;
  ALLOT_ASSIGN_OR_RETURN(e.time, ParseTime("time", f[0]));
  e.unit = f[2];
  if (f[1] == "assign") {
    e.kind = EventKind::kAssign;
    if (!f[3].empty()) {
      return absl::InvalidArgumentError("value must be empty for an assign row");
    }
    if (!f[4].empty()) {
      ALLOT_ASSIGN_OR_RETURN(e.unit_start, ParseTime("unit_start", f[4]));
    }
  } else if (f[1] == "outcome") {
    e.kind = EventKind::kOutcome;
    if (!absl::SimpleAtod(f[3], &e.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("value must be a number, got \"", f[3], "\""));
    }
  } else if (f[1] == "advance") {
    e.kind = EventKind::kAdvance;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("kind must be assign, outcome or advance, got \"", f[1], "\""));
  }
  if (e.kind != EventKind::kAdvance && e.unit.empty()) {
    return absl::InvalidArgumentError("unit must not be empty");
  }
  return e;
}

absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  if (!std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != "time,kind,unit,value,unit_start") {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":1: header must be time,kind,unit,value,unit_start, got \"", line, "\""));
  }
  std::vector<Event> events;
  for (int64_t number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    absl::StatusOr<Event> e = ParseEvent(line, number);
    if (!e.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", e.status().message()));
    }
    if (!events.empty() && e->time < events.back().time) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": rows must be in time order; ",
                       FormatRfc3339(e->time), " is before line ", events.back().line,
                       "'s ", FormatRfc3339(events.back().time)));
    }
    events.push_back(*std::move(e));
  }
  if (events.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no events"));
  }
  return events;
}

absl::Status WriteFile(const std::filesystem::path& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
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
    if (!restored->State(config.id).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(args.restore, " holds no experiment \"", config.id, "\""));
    }
  } else {
    restored = std::make_unique<Engine>();
    ALLOT_RETURN_IF_ERROR(restored->CreateExperiment(config));
    ALLOT_RETURN_IF_ERROR(restored->Start(config.id, start));
  }
  Engine& engine = *restored;
  const std::vector<std::string> arms = config.ArmIds();
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
      absl::StrAppend(&assignments, e.unit, "\t", arms[a->arm], "\t", a->epoch, "\t",
                      FormatNumber(a->propensity), "\t", a->holdout ? 1 : 0, "\n");
    } else if (e.kind == EventKind::kOutcome) {
      absl::StatusOr<OutcomeDisposition> d =
          engine.RecordOutcome(config.id, e.unit, e.time, e.value);
      if (!d.ok()) return located(d.status());
    }
  }
  if (applied > 0) {
    ALLOT_RETURN_IF_ERROR(engine.Advance(events.back().time).status());
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                         engine.Reports(config.id));
  ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, engine.History(config.id));
  const std::filesystem::path out(args.out);
  ALLOT_RETURN_IF_ERROR(WriteFile(out / "reports.json", ReportsToJson(reports)));
  ALLOT_RETURN_IF_ERROR(WriteFile(out / "assignments.tsv", assignments));
  ALLOT_RETURN_IF_ERROR(WriteFile(out / "history.json", history.ToJson()));
  if (!args.snapshot.empty()) {
    ALLOT_RETURN_IF_ERROR(WriteSnapshot(engine, args.snapshot, FormatCursor(cursor)));
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
    if (!status.ok()) {
      std::cerr << "allot replay: " << status.message() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace allot::cli
