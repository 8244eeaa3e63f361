// Copyright 2026 The allot Authors.
//
// `allot snapshot inspect FILE`: what a snapshot or journal file holds, as
// JSON.

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "cli/commands.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace allot::cli {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, absl::string_view value) {
  const std::string text = ValidUtf8(value);
  w.Key(key);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

absl::Status InspectSnapshotFile(const std::string& path, Writer& w) {
  ALLOT_ASSIGN_OR_RETURN(SnapshotContents c, InspectSnapshot(path));
  w.StartObject();
  Str(w, "kind", "snapshot");
  w.Key("format");
  w.Uint(c.format);
  w.Key("payload_bytes");
  w.Uint64(c.payload_bytes);
  Str(w, "clock", c.clock == absl::InfinitePast() ? "" : FormatRfc3339(c.clock));
  w.Key("journal_sequence");
  w.Uint64(c.journal_sequence);
  w.Key("experiments");
  w.StartArray();
  for (const SnapshotExperimentSummary& e : c.experiments) {
    w.StartObject();
    Str(w, "id", e.id);
    Str(w, "state", e.state);
    Str(w, "surface", e.surface);
    w.Key("epochs");
    w.Int64(e.epochs);
    w.Key("open_units");
    w.Int64(e.open_units);
    w.Key("reports");
    w.Int64(e.reports);
    w.EndObject();
  }
  w.EndArray();
  w.Key("deleted_experiments");
  w.StartArray();
  for (const std::string& id : c.deleted_experiments) {
    const std::string text = ValidUtf8(id);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  }
  w.EndArray();
  Str(w, "application_data", c.application_data);
  w.EndObject();
  return absl::OkStatus();
}

absl::Status InspectJournalFile(const std::string& path, Writer& w) {
  ALLOT_ASSIGN_OR_RETURN(JournalContents c, InspectJournal(path));
  w.StartObject();
  Str(w, "kind", "journal");
  w.Key("format");
  w.Uint(c.format);
  w.Key("records");
  w.Int64(c.records);
  w.Key("records_by_kind");
  w.StartObject();
  for (const auto& [kind, n] : c.records_by_kind) {
    const std::string text = ValidUtf8(kind);
    w.Key(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    w.Int64(n);
  }
  w.EndObject();
  w.Key("first_sequence");
  w.Uint64(c.first_sequence);
  w.Key("last_sequence");
  w.Uint64(c.last_sequence);
  w.Key("dropped_records");
  w.Int64(c.dropped_records);
  w.Key("dropped_bytes");
  w.Int64(c.dropped_bytes);
  Str(w, "dropped_reason", c.dropped_reason);
  w.EndObject();
  return absl::OkStatus();
}

absl::Status RunInspect(const std::string& path) {
  ALLOT_RETURN_IF_ERROR(CheckReadableFile(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  char magic[8] = {};
  in.read(magic, 8);
  const std::string head(magic, static_cast<size_t>(in.gcount()));
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  if (head == "ALLOTJNL") {
    ALLOT_RETURN_IF_ERROR(InspectJournalFile(path, w));
  } else {
    // Anything else is read as a snapshot, which names what is wrong.
    ALLOT_RETURN_IF_ERROR(InspectSnapshotFile(path, w));
  }
  std::cout << buffer.GetString() << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddSnapshotCommand(CLI::App& app, int& exit_code) {
  CLI::App* snapshot = app.add_subcommand("snapshot", "Snapshot and journal tools");
  snapshot->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* inspect = snapshot->add_subcommand(
      "inspect", "Print what a snapshot or journal file holds, as JSON");
  inspect->add_option("FILE", *path, "Snapshot or journal file")->required();
  inspect->callback([path, &exit_code] {
    absl::Status status = RunInspect(*path);
    if (!status.ok()) ReportError("snapshot inspect", status, exit_code);
  });
}

}  // namespace allot::cli
