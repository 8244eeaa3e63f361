// Copyright 2026 The allot Authors.
//
// store_learner: how long the fleet's learner takes to reallocate over N
// matured units. One experiment (three arms, a binary primary, interval and
// burn-in 24h, conversion window 1h) gets N exposures spread over the 23 h
// before its first grid point, so all N mature at it, and about N/10
// conversions (8, 10 and 12% by arm) inside their windows plus N/100 late
// outcomes. The rows are made by the server (INSERT ... SELECT
// generate_series, fingerprints from hashint8extended: no client round
// trips), loaded into the experiment's partitions before their indexes are
// built and then attached, VACUUM ANALYZEd and checkpointed. The clock runs
// over Learner::Connect, TryLead and RunUntil(grid point): the learner's
// statements, the engine's evaluation and the grid point's transaction.
// Then, on another connection, each of the learner's statements is timed
// alone, the engine's step (AdvanceWith on a fresh engine) too, and with
// --explain each statement's EXPLAIN (ANALYZE, BUFFERS) is printed.
//
//   store_learner --store postgresql://postgres@127.0.0.1:5432/bench
//                 [--units 1000000] [--explain]
//
// Not a Google Benchmark binary (it needs a server); a ctest
// (store_learner_smoke) runs it on a few thousand units against the test
// fixture's server.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "pqxx/pqxx"
#include "runtime/engine_access.h"
#include "store/learner.h"
#include "store/learner_sql.h"
#include "store/schema.h"

namespace {

using allot::store::Learner;
using allot::store::WindowClock;

constexpr int64_t kHourUs = int64_t{3600} * 1000000;

std::string ConfigToml(const std::string& id) {
  return absl::StrCat("id = \"", id, R"toml("
[[arms]]
id = "a"
weight = 1
[[arms]]
id = "b"
weight = 1
[[arms]]
id = "c"
weight = 1
[metric]
kind = "binary"
id = "converted"
[policy]
seed = 7
[schedule]
burn_in = "24h"
interval = "24h"
conversion_window = "1h"
min_units_per_arm = 100
)toml");
}

double Seconds(absl::Time since) { return absl::ToDoubleSeconds(absl::Now() - since); }

// Registers experiment `id` started at `start_us` and loads `units` units
// into its partitions: tables made like the parents, filled, indexed as the
// parents are, then attached (the matching indexes are attached, not
// rebuilt).
void Load(pqxx::connection& conn, const std::string& id, int64_t start_us,
          int64_t units) {
  pqxx::nontransaction tx(conn);
  const std::string q = tx.quote(id);
  const std::string md5 =
      tx.exec1(absl::StrCat("SELECT md5(", q, ")"))[0].as<std::string>();
  const std::string xs = tx.quote_name(absl::StrCat("allot_exposures_", md5));
  const std::string os = tx.quote_name(absl::StrCat("allot_outcomes_", md5));
  tx.exec(absl::StrCat(
      "INSERT INTO allot_experiments (experiment, config_toml, started_us) VALUES (", q,
      ", ", tx.quote(ConfigToml(id)), ", ", start_us, ")"));
  tx.exec(absl::StrCat("CREATE TABLE ", xs, " (LIKE allot_exposures)"));
  tx.exec(absl::StrCat("CREATE TABLE ", os, " (LIKE allot_outcomes)"));
  // Unit i: fingerprint halves and arm from hashes of i, exposed at
  // start + i * 23h / units.
  const std::string units_sql = absl::StrCat(
      "SELECT i, hashint8extended(i, 1) AS hi, hashint8extended(i, 2) AS lo,\n"
      "       ((hashint8extended(i, 3) % 3 + 3) % 3)::smallint AS arm,\n"
      "       ",
      start_us, " + i * ", 23 * kHourUs, " / ", units,
      " AS exposed,\n"
      "       (hashint8extended(i, 4) % 1000 + 1000) % 1000 AS draw\n"
      "FROM generate_series(0::bigint, ",
      units - 1, ") AS i");
  absl::Time t = absl::Now();
  tx.exec(absl::StrCat("INSERT INTO ", xs, " SELECT ", q,
                       ", hi, lo, arm, 0, 1.0 / 3, false, exposed, NULL, "
                       "'bench' FROM (",
                       units_sql, ") u"));
  // Conversions 1 s to 50 min after the exposure (inside the window), and
  // 1% of units an outcome 2 h after (late).
  tx.exec(absl::StrCat("INSERT INTO ", os, " SELECT ", q,
                       ", 'c' || i, hi, lo, 'converted', 1, exposed + (1 + i % 3000) * "
                       "1000000, 'bench' FROM (",
                       units_sql, ") u WHERE draw < 80 + 20 * arm"));
  tx.exec(absl::StrCat("INSERT INTO ", os, " SELECT ", q,
                       ", 'l' || i, hi, lo, 'converted', 1, exposed + ", 2 * kHourUs,
                       ", 'bench' FROM (", units_sql, ") u WHERE i % 100 = 7"));
  const double insert_s = Seconds(t);
  t = absl::Now();
  tx.exec(absl::StrCat("ALTER TABLE ", xs,
                       " ADD PRIMARY KEY (experiment, unit_hi, unit_lo)"));
  tx.exec(absl::StrCat("CREATE INDEX ON ", xs, " (experiment, exposed_us)"));
  tx.exec(absl::StrCat("ALTER TABLE ", os, " ADD PRIMARY KEY (experiment, event_id)"));
  tx.exec(absl::StrCat("CREATE INDEX ON ", os, " (experiment, unit_hi, unit_lo)"));
  tx.exec(absl::StrCat("ALTER TABLE allot_exposures ATTACH PARTITION ", xs,
                       " FOR VALUES IN (", q, ")"));
  tx.exec(absl::StrCat("ALTER TABLE allot_outcomes ATTACH PARTITION ", os,
                       " FOR VALUES IN (", q, ")"));
  const double index_s = Seconds(t);
  t = absl::Now();
  tx.exec(absl::StrCat("VACUUM ANALYZE ", xs));
  tx.exec(absl::StrCat("VACUUM ANALYZE ", os));
  tx.exec("CHECKPOINT");
  const pqxx::row counts = tx.exec1(
      absl::StrCat("SELECT (SELECT count(*) FROM ", xs, "), (SELECT count(*) FROM ", os,
                   "), pg_size_pretty(pg_total_relation_size('", xs,
                   "')), pg_size_pretty(", "pg_total_relation_size('", os, "'))"));
  std::cout << absl::StrFormat(
      "loaded %d exposures (%s with indexes), %d outcomes (%s): insert %.1f s, "
      "indexes and attach %.1f s, vacuum analyze and checkpoint %.1f s\n",
      counts[0].as<int64_t>(), counts[2].as<std::string>(), counts[1].as<int64_t>(),
      counts[3].as<std::string>(), insert_s, index_s, Seconds(t));
}

int Run(const std::string& url, int64_t units, bool explain) {
  absl::StatusOr<allot::store::MigrateResult> schema = allot::store::MigrateSchema(url);
  if (!schema.ok()) {
    std::cerr << "store_learner: " << schema.status() << "\n";
    return 1;
  }
  const std::string id = absl::StrCat("learnbench-", ::getpid());
  absl::StatusOr<allot::ExperimentConfig> config =
      allot::ParseExperimentToml(ConfigToml(id), "store_learner");
  if (!config.ok()) {
    std::cerr << "store_learner: " << config.status() << "\n";
    return 1;
  }
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time due = start + absl::Hours(24);
  try {
    pqxx::connection conn{url};
    Load(conn, id, absl::ToUnixMicros(start), units);
  } catch (const std::exception& e) {
    std::cerr << "store_learner: loading: " << e.what() << "\n";
    return 1;
  }

  // The learner's grid point, as `allot learn` runs it.
  absl::Time t = absl::Now();
  absl::StatusOr<std::unique_ptr<Learner>> learner = Learner::Connect(url, *config);
  absl::StatusOr<bool> leading =
      learner.ok() ? (*learner)->TryLead() : absl::StatusOr<bool>(learner.status());
  const double lead_s = Seconds(t);
  t = absl::Now();
  absl::StatusOr<std::vector<allot::ReallocationReport>> reports =
      leading.ok() && *leading
          ? (*learner)->RunUntil(due)
          : absl::StatusOr<std::vector<allot::ReallocationReport>>(
                leading.ok() ? absl::InternalError("not leading") : leading.status());
  const double run_s = Seconds(t);
  if (!reports.ok()) {
    std::cerr << "store_learner: " << reports.status() << "\n";
    return 1;
  }
  if (reports->size() != 1 || !(*reports)[0].reallocated) {
    std::cerr << "store_learner: expected one reallocation at the grid point, got "
              << reports->size() << " reports\n";
    return 1;
  }
  int64_t matured = 0;
  for (const allot::ArmReport& arm : (*reports)[0].arms) matured += arm.units;
  std::cout << absl::StrFormat(
      "learner: %d matured units, connect and lead %.3f s, grid point (RunUntil) %.3f "
      "s\n",
      matured, lead_s, run_s);

  // The parts, again, alone: each statement in one REPEATABLE READ
  // transaction as the learner runs them, then the engine's step.
  try {
    pqxx::connection conn{url};
    WindowClock clock;
    clock.start_us = absl::ToUnixMicros(start);
    clock.window_us = absl::ToInt64Microseconds(config->schedule.conversion_window);
    const int64_t due_us = absl::ToUnixMicros(due);
    const int64_t from = clock.MaturedFrom(INT64_MIN);
    const int64_t to = clock.MaturedFrom(due_us);
    const char* const names[] = {"matured", "outcomes", "exposures"};
    pqxx::transaction<pqxx::isolation_level::repeatable_read> tx(conn);
    tx.exec("SET LOCAL jit = off");  // as ReadFigures
    const allot::store::EventTables tables = allot::store::ExperimentTables(tx, id);
    const std::string sqls[] = {allot::store::MaturedSql(*config, clock, tables),
                                allot::store::OutcomesSql(*config, clock, tables),
                                allot::store::ExposuresSql(tables)};
    // Statement i with `prefix` (EXPLAIN ...), with the learner's parameters.
    auto exec = [&](int i, const std::string& prefix) {
      const std::string sql = prefix + sqls[i];
      switch (i) {
        case 0:
          return tx.exec_params(sql, id, from, to);
        case 1:
          return tx.exec_params(sql, id, from, to, due_us);
        default:
          return tx.exec_params(sql, id, due_us);
      }
    };
    for (int i = 0; i < 3; ++i) {
      t = absl::Now();
      exec(i, "");
      std::cout << absl::StrFormat("  statement %-9s %.3f s\n", names[i], Seconds(t));
    }
    t = absl::Now();
    absl::StatusOr<allot::internal::MaturedAtGridPoint> figures =
        allot::store::ReadFigures(tx, *config, clock, INT64_MIN, due_us);
    const double figures_s = Seconds(t);
    allot::Engine engine;
    if (!figures.ok() || !engine.CreateExperiment(*config).ok() ||
        !engine.Start(id, start).ok()) {
      std::cerr << "store_learner: could not replay the engine's step\n";
      return 1;
    }
    t = absl::Now();
    absl::StatusOr<std::vector<allot::ReallocationReport>> again =
        allot::internal::EngineAccess::AdvanceWith(engine, id, due, *figures);
    const double engine_s = Seconds(t);
    if (!again.ok()) {
      std::cerr << "store_learner: " << again.status() << "\n";
      return 1;
    }
    // What RunUntil spent besides: the reports, the epoch, the watermark
    // and the commit.
    std::cout << absl::StrFormat(
        "  ReadFigures (all three) %.3f s, engine step %.2f ms, the rest of the grid "
        "point (writes, commit) about %.3f s\n",
        figures_s, engine_s * 1e3, std::max(0.0, run_s - figures_s - engine_s));
    if (explain) {
      for (int i = 0; i < 3; ++i) {
        const pqxx::result plan = exec(i, "EXPLAIN (ANALYZE, BUFFERS) ");
        std::cout << "\n-- " << names[i] << "\n";
        for (const pqxx::row& row : plan) std::cout << row[0].as<std::string>() << "\n";
      }
    }
    tx.commit();
  } catch (const std::exception& e) {
    std::cerr << "store_learner: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store_learner: the store's learner's reallocation time"};
  std::string url;
  int64_t units = 1000000;
  bool explain = false;
  app.add_option("--store", url, "PostgreSQL URL of a database to write to")->required();
  app.add_option("--units", units, "Units matured at the grid point")
      ->check(CLI::Range(int64_t{1000}, int64_t{1} << 31));
  app.add_flag("--explain", explain,
               "Print EXPLAIN (ANALYZE, BUFFERS) of each statement");
  CLI11_PARSE(app, argc, argv);
  return Run(url, units, explain);
}
