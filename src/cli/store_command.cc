// Copyright 2026 The allot Authors.
//
// `allot store init|migrate|status --store postgresql://...`: the PostgreSQL
// store's schema (src/store/). init creates it at the newest version,
// migrate applies the migrations a store lacks, status prints its version
// and, per experiment, its row counts as JSON.

#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/status_macros.h"
#include "cli/commands.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "store/schema.h"

namespace allot::cli {
namespace {

std::string Describe(const store::MigrateResult& r) {
  if (r.applied.empty()) {
    return absl::StrCat("schema version ", r.to_version,
                        " (up to date; nothing applied)");
  }
  return absl::StrCat("schema version ", r.from_version, " -> ", r.to_version,
                      " (applied ", absl::StrJoin(r.applied, ", "), ")");
}

absl::Status RunInit(const std::string& url) {
  ALLOT_ASSIGN_OR_RETURN(store::MigrateResult r, store::InitSchema(url));
  std::cout << "allot store init: " << Describe(r) << "\n";
  return absl::OkStatus();
}

absl::Status RunMigrate(const std::string& url) {
  ALLOT_ASSIGN_OR_RETURN(store::MigrateResult r, store::MigrateSchema(url));
  std::cout << "allot store migrate: " << Describe(r) << "\n";
  return absl::OkStatus();
}

absl::Status RunStatus(const std::string& url) {
  ALLOT_ASSIGN_OR_RETURN(store::StoreStatus s, store::GetStoreStatus(url));
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  auto str = [&w](const char* key, const std::string& value) {
    const std::string text = ValidUtf8(value);
    w.Key(key);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  };
  w.StartObject();
  w.Key("schema_version");
  w.Int(s.schema_version);
  w.Key("latest_version");
  w.Int(s.latest_version);
  w.Key("experiments");
  w.StartArray();
  for (const store::ExperimentStatus& e : s.experiments) {
    w.StartObject();
    str("experiment", e.experiment);
    w.Key("started_us");
    e.started_us ? w.Int64(*e.started_us) : w.Null();
    w.Key("exposures");
    w.Int64(e.exposures);
    w.Key("outcomes");
    w.Int64(e.outcomes);
    w.Key("epochs");
    w.Int64(e.epochs);
    w.Key("latest_epoch");
    e.latest_epoch ? w.Int(*e.latest_epoch) : w.Null();
    w.Key("reports");
    w.Int64(e.reports);
    w.Key("watermark_us");
    e.watermark_us ? w.Int64(*e.watermark_us) : w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::cout << buffer.GetString() << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddStoreCommand(CLI::App& app, int& exit_code) {
  CLI::App* store =
      app.add_subcommand("store", "The PostgreSQL store: create, upgrade, inspect");
  store->require_subcommand(1);
  auto url = std::make_shared<std::string>();
  constexpr char kStoreHelp[] = "PostgreSQL URL: postgresql://USER@HOST:PORT/DATABASE";

  CLI::App* init = store->add_subcommand(
      "init", "Create the schema at the newest version (refuses an older or newer one)");
  init->add_option("--store", *url, kStoreHelp)->required();
  init->callback([url, &exit_code] {
    absl::Status status = RunInit(*url);
    if (!status.ok()) ReportError("store init", status, exit_code);
  });

  CLI::App* migrate = store->add_subcommand(
      "migrate", "Apply the migrations the store lacks, one transaction each");
  migrate->add_option("--store", *url, kStoreHelp)->required();
  migrate->callback([url, &exit_code] {
    absl::Status status = RunMigrate(*url);
    if (!status.ok()) ReportError("store migrate", status, exit_code);
  });

  CLI::App* status_cmd = store->add_subcommand(
      "status", "Print the schema version and each experiment's row counts, as JSON");
  status_cmd->add_option("--store", *url, kStoreHelp)->required();
  status_cmd->callback([url, &exit_code] {
    absl::Status status = RunStatus(*url);
    if (!status.ok()) ReportError("store status", status, exit_code);
  });
}

}  // namespace allot::cli
