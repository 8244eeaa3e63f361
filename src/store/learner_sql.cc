// Copyright 2026 The allot Authors.

#include "store/learner_sql.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "pqxx/pqxx"
#include "store/pg.h"

namespace allot::store {
namespace {

constexpr int64_t kSecondUs = 1000000;

std::string Literal(absl::string_view text) {
  // standard_conforming_strings is on (PostgreSQL's default since 9.1).
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

// The metrics an outcome row may name: the primary under "" and its id
// (index -1), each guardrail under its id (its index), with whether each
// is binary.
struct MetricName {
  std::string name;
  int idx;
  bool binary;
};

std::vector<MetricName> MetricNames(const ExperimentConfig& config) {
  const bool binary = config.metric == MetricKind::kBinary;
  std::vector<MetricName> names = {{"", -1, binary}};
  if (!config.metric_id.empty()) names.push_back({config.metric_id, -1, binary});
  for (size_t g = 0; g < config.guardrails.size(); ++g) {
    names.push_back({config.guardrails[g].id, static_cast<int>(g),
                     config.guardrails[g].kind == MetricKind::kBinary});
  }
  return names;
}

// `column IN (the metrics' names)`: outcomes naming no metric of the
// experiment are refused by the engine and counted nowhere. An IN list,
// not a join with a VALUES list, so that the planner estimates the rows
// from the column's statistics (a join's 0.5% guess made it choose nested
// loops over a million outcomes).
std::string NamesMetric(const ExperimentConfig& config, absl::string_view column) {
  std::string list;
  for (const MetricName& m : MetricNames(config)) {
    absl::StrAppend(&list, list.empty() ? "" : ", ", Literal(m.name));
  }
  return absl::StrCat(column, " IN (", list, ")");
}

// The metric index (idx) or whether it is binary (bin) of the metric named
// by `column`, as a CASE expression.
std::string MetricIdx(const ExperimentConfig& config, absl::string_view column) {
  std::string out = absl::StrCat("CASE ", column);
  for (const MetricName& m : MetricNames(config)) {
    absl::StrAppend(&out, " WHEN ", Literal(m.name), " THEN ", m.idx);
  }
  return absl::StrCat(out, " END");
}
std::string MetricBin(const ExperimentConfig& config, absl::string_view column) {
  std::string out = absl::StrCat("CASE ", column);
  for (const MetricName& m : MetricNames(config)) {
    absl::StrAppend(&out, " WHEN ", Literal(m.name), " THEN ",
                    m.binary ? "true" : "false");
  }
  return absl::StrCat(out, " END");
}

// The SQL of a unit's window end from its exposure time (column `exposed`):
// the exposure kept to the whole second after the start, as the ledger does.
std::string WindowEnd(const WindowClock& clock, absl::string_view exposed) {
  return absl::StrCat(clock.start_us, " + (", exposed, " - ", clock.start_us, ") / ",
                      kSecondUs, " * ", kSecondUs, " + ", clock.window_us);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

template <typename T>
T& Cell(std::vector<std::vector<T>>& cells, size_t epoch, size_t arm) {
  if (cells.size() <= epoch) cells.resize(epoch + 1);
  if (cells[epoch].size() <= arm) cells[epoch].resize(arm + 1);
  return cells[epoch][arm];
}

}  // namespace

int64_t WindowClock::MaturedFrom(int64_t t_us) const {
  if (t_us == INT64_MIN) return INT64_MIN;
  // Matured by t: start + floor((x - start) / 1s) s + window <= t, that is
  // floor((x - start) / 1s) <= floor((t - window - start) / 1s).
  return start_us + (FloorDiv(t_us - window_us - start_us, kSecondUs) + 1) * kSecondUs;
}

std::string MaturedSql(const ExperimentConfig& /*config*/, const WindowClock& /*clock*/,
                       const EventTables& tables) {
  // A range of the (experiment, exposed_us) index: only this grid point's
  // units.
  return absl::StrCat("SELECT epoch, arm, holdout, count(*) FROM ", tables.exposures,
                      "\n"
                      "WHERE experiment = $1 AND exposed_us >= $2 AND exposed_us < $3\n"
                      "GROUP BY epoch, arm, holdout");
}

std::string OutcomesSql(const ExperimentConfig& config, const WindowClock& clock,
                        const EventTables& tables) {
  // One join of the outcomes before `due` with their units' exposures gives
  // both the matured units' totals and the tallies. A matured unit's
  // outcomes counted end before its window does, which is at or before
  // `due`, so they are all in it.
  //
  // Per unit and metric: the total over the outcomes counted (from its
  // exposure to its window's end; a binary metric converts once; NULL with
  // none), and the tallies as the engine counts an outcome when it arrives
  // (in time order): no exposure of its unit yet, unknown; at or past the
  // window's end, late; a binary metric's conversion after the first, a
  // duplicate.
  const std::string window_end = WindowEnd(clock, "x.exposed_us");
  const std::string counted =
      absl::StrCat("o.time_us >= x.exposed_us AND o.time_us < ", window_end);
  return absl::StrCat(
      "SELECT epoch, arm, holdout, idx, count(total) FILTER (WHERE matured),\n"
      "       coalesce(sum(total) FILTER (WHERE matured), 0)::float8,\n"
      "       coalesce(sum(total * total) FILTER (WHERE matured), 0)::float8,\n"
      "       coalesce(sum(late), 0), coalesce(sum(unknown), 0),\n"
      "       coalesce(sum(greatest(conversions - 1, 0)), 0)\n"
      "FROM (\n"
      "  SELECT x.epoch, x.arm, x.holdout, ",
      MetricIdx(config, "o.metric"),
      " AS idx,\n"
      "         x.exposed_us >= $2 AND x.exposed_us < $3 AS matured,\n"
      "         CASE WHEN bool_or(",
      MetricBin(config, "o.metric"),
      ")\n"
      "              THEN (max(CASE WHEN o.value <> 0 THEN 1.0 ELSE 0.0 END)\n"
      "                    FILTER (WHERE ",
      counted,
      "))::float8\n"
      "              ELSE sum(o.value) FILTER (WHERE ",
      counted,
      ") END AS total,\n"
      "         count(*) FILTER (WHERE o.time_us >= x.exposed_us\n"
      "                          AND o.time_us >= ",
      window_end,
      ") AS late,\n"
      "         count(*) FILTER (WHERE x.exposed_us IS NULL OR o.time_us < "
      "x.exposed_us)\n"
      "           AS unknown,\n"
      "         count(*) FILTER (WHERE ",
      MetricBin(config, "o.metric"), " AND o.value <> 0 AND ", counted,
      ")\n"
      "           AS conversions\n"
      "  FROM ",
      tables.outcomes,
      " o\n"
      "  LEFT JOIN ",
      tables.exposures,
      " x ON x.experiment = $1 AND x.unit_hi = o.unit_hi\n"
      "   AND x.unit_lo = o.unit_lo\n"
      "  WHERE o.experiment = $1 AND o.time_us < $4 AND ",
      NamesMetric(config, "o.metric"),
      "\n"
      "  GROUP BY o.unit_hi, o.unit_lo, x.epoch, x.arm, x.holdout, x.exposed_us, 4) u\n"
      "GROUP BY epoch, arm, holdout, idx");
}

std::string ExposuresSql(const EventTables& tables) {
  return absl::StrCat("SELECT epoch, arm, count(*) FROM ", tables.exposures,
                      "\n"
                      "WHERE experiment = $1 AND NOT holdout AND exposed_us < $2\n"
                      "GROUP BY epoch, arm");
}

EventTables ExperimentTables(pqxx::transaction_base& tx, const std::string& experiment) {
  // The planner estimates the joins from the partitions' statistics, which
  // autovacuum keeps, only when the statements name the partitions. Through
  // the parents it uses theirs, which autovacuum never gathers on a
  // partitioned table: it expected 100 times the rows and chose nested
  // loops over a million outcomes.
  EventTables tables;
  const pqxx::row partitions = tx.exec_params1(
      "SELECT to_regclass(quote_ident('allot_exposures_' || md5($1)))::text, "
      "to_regclass(quote_ident('allot_outcomes_' || md5($1)))::text",
      experiment);
  if (!partitions[0].is_null() && !partitions[1].is_null()) {
    tables.exposures = partitions[0].as<std::string>();
    tables.outcomes = partitions[1].as<std::string>();
  }
  return tables;
}

absl::StatusOr<internal::MaturedAtGridPoint> ReadFigures(pqxx::transaction_base& tx,
                                                         const ExperimentConfig& config,
                                                         const WindowClock& clock,
                                                         int64_t previous_us,
                                                         int64_t due_us) {
  const size_t arms = config.arms.size();
  const size_t guards = config.guardrails.size();
  internal::MaturedAtGridPoint figures;
  figures.guardrails.resize(guards);
  auto check = [&](int64_t epoch, int64_t arm) -> absl::Status {
    if (epoch < 0 || arm < 0 || static_cast<size_t>(arm) >= arms) {
      return absl::InvalidArgumentError(
          absl::StrCat("the store holds an exposure of experiment ", config.id,
                       " with epoch ", epoch, " and arm ", arm, " out of range"));
    }
    return absl::OkStatus();
  };
  try {
    // The planner's estimates of the unit joins are far off (it expects
    // tens of millions of rows for a million), which made it compile the
    // statements (JIT) for longer than they run.
    tx.exec("SET LOCAL jit = off");
    const EventTables tables = ExperimentTables(tx, config.id);
    const int64_t from = clock.MaturedFrom(previous_us);
    const int64_t to = clock.MaturedFrom(due_us);
    // Every matured unit counts in each metric's cell, with 0 when it has no
    // outcome; holdout units count for the primary only (as Fold).
    for (const pqxx::row& row :
         tx.exec_params(MaturedSql(config, clock, tables), config.id, from, to)) {
      const int64_t epoch = row[0].as<int64_t>();
      const int64_t arm = row[1].as<int64_t>();
      if (absl::Status s = check(epoch, arm); !s.ok()) return s;
      const int64_t units = row[3].as<int64_t>();
      if (row[2].as<bool>()) {
        figures.holdout.n += units;
        continue;
      }
      Cell(figures.primary, epoch, arm).n = units;
      for (size_t g = 0; g < guards; ++g)
        Cell(figures.guardrails[g], epoch, arm).n = units;
    }
    for (const pqxx::row& row : tx.exec_params(OutcomesSql(config, clock, tables),
                                               config.id, from, to, due_us)) {
      figures.tallies.late += row[7].as<int64_t>();
      figures.tallies.unknown += row[8].as<int64_t>();
      figures.tallies.duplicate += row[9].as<int64_t>();
      // Rows of units with no exposure (epoch NULL) or none matured with an
      // outcome counted carry tallies only.
      if (row[0].is_null() || row[4].as<int64_t>() == 0) continue;
      const int64_t epoch = row[0].as<int64_t>();
      const int64_t arm = row[1].as<int64_t>();
      if (absl::Status s = check(epoch, arm); !s.ok()) return s;
      const int idx = row[3].as<int>();
      const double sum = row[5].as<double>();
      const double sum_sq = row[6].as<double>();
      internal::Aggregate* cell = nullptr;
      if (row[2].as<bool>()) {
        if (idx < 0) cell = &figures.holdout;
      } else if (idx < 0) {
        cell = &Cell(figures.primary, epoch, arm);
      } else if (static_cast<size_t>(idx) < guards) {
        cell = &Cell(figures.guardrails[idx], epoch, arm);
      }
      if (cell != nullptr) {
        cell->sum += sum;
        cell->sum_sq += sum_sq;
      }
    }
    const pqxx::result exposures =
        tx.exec_params(ExposuresSql(tables), config.id, due_us);
    for (const pqxx::row& row : exposures) {
      const int64_t epoch = row[0].as<int64_t>();
      const int64_t arm = row[1].as<int64_t>();
      if (absl::Status s = check(epoch, arm); !s.ok()) return s;
      Cell(figures.tallies.exposures, epoch, arm) = row[2].as<int64_t>();
    }
  } catch (const std::exception& e) {
    return StoreError("aggregating matured units", e);
  }
  return figures;
}

}  // namespace allot::store
