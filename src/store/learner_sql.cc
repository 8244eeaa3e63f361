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

// The metrics an outcome row may name, as a VALUES list (name, idx, bin):
// the primary under "" and its id (idx -1), each guardrail under its id.
std::string MetricsCte(const ExperimentConfig& config) {
  auto row = [](absl::string_view name, int idx, MetricKind kind) {
    return absl::StrCat("(", Literal(name), ", ", idx, ", ",
                        kind == MetricKind::kBinary ? "true" : "false", ")");
  };
  std::string values = row("", -1, config.metric);
  if (!config.metric_id.empty()) {
    absl::StrAppend(&values, ", ", row(config.metric_id, -1, config.metric));
  }
  for (size_t g = 0; g < config.guardrails.size(); ++g) {
    absl::StrAppend(
        &values, ", ",
        row(config.guardrails[g].id, static_cast<int>(g), config.guardrails[g].kind));
  }
  return absl::StrCat("metrics(name, idx, bin) AS (VALUES ", values, ")");
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

std::string MaturedSql(const ExperimentConfig& config, const WindowClock& clock) {
  return absl::StrCat(
      "WITH ", MetricsCte(config),
      ",\n"
      "matured AS (\n"
      "  SELECT unit_hi, unit_lo, arm, epoch, holdout, exposed_us,\n"
      "         ",
      WindowEnd(clock, "exposed_us"),
      " AS window_end\n"
      "  FROM allot_exposures\n"
      "  WHERE experiment = $1 AND exposed_us >= $2 AND exposed_us < $3),\n"
      // Each matured unit's total per metric over the outcomes counted: from
      // its exposure to its window's end. A binary metric converts once.
      "totals AS (\n"
      "  SELECT m.unit_hi, m.unit_lo, k.idx,\n"
      "         CASE WHEN bool_or(k.bin)\n"
      "              THEN max(CASE WHEN o.value <> 0 THEN 1.0 ELSE 0.0 END)::float8\n"
      "              ELSE sum(o.value) END AS total\n"
      "  FROM matured m\n"
      "  JOIN allot_outcomes o ON o.experiment = $1 AND o.unit_hi = m.unit_hi\n"
      "   AND o.unit_lo = m.unit_lo AND o.time_us >= m.exposed_us\n"
      "   AND o.time_us < m.window_end\n"
      "  JOIN metrics k ON k.name = o.metric\n"
      "  GROUP BY m.unit_hi, m.unit_lo, k.idx)\n"
      // Every matured unit counts in each metric's cell, with 0 when it has
      // no outcome.
      "SELECT m.epoch, m.arm, m.holdout, k.idx, count(*),\n"
      "       coalesce(sum(t.total), 0)::float8,\n"
      "       coalesce(sum(t.total * t.total), 0)::float8\n"
      "FROM matured m\n"
      "CROSS JOIN (SELECT DISTINCT idx FROM metrics) k\n"
      "LEFT JOIN totals t ON t.unit_hi = m.unit_hi AND t.unit_lo = m.unit_lo\n"
      " AND t.idx = k.idx\n"
      "GROUP BY m.epoch, m.arm, m.holdout, k.idx");
}

std::string TalliesSql(const ExperimentConfig& config, const WindowClock& clock) {
  // As the engine tallies an outcome when it arrives (in time order): no
  // exposure of its unit yet, unknown; at or past the window's end, late;
  // a binary metric's conversion after the first, a duplicate. Outcomes
  // naming no metric of the experiment are refused by the engine and
  // counted nowhere.
  return absl::StrCat(
      "WITH ", MetricsCte(config),
      ",\n"
      "o AS (\n"
      "  SELECT o.unit_hi, o.unit_lo, o.time_us, o.value, k.idx, k.bin, x.exposed_us,\n"
      "         ",
      WindowEnd(clock, "x.exposed_us"),
      " AS window_end\n"
      "  FROM allot_outcomes o\n"
      "  JOIN metrics k ON k.name = o.metric\n"
      "  LEFT JOIN allot_exposures x ON x.experiment = $1 AND x.unit_hi = o.unit_hi\n"
      "   AND x.unit_lo = o.unit_lo\n"
      "  WHERE o.experiment = $1 AND o.time_us < $2),\n"
      "conversions AS (\n"
      "  SELECT count(*) AS c FROM o\n"
      "  WHERE bin AND value <> 0 AND time_us >= exposed_us AND time_us < window_end\n"
      "  GROUP BY unit_hi, unit_lo, idx)\n"
      "SELECT\n"
      "  (SELECT count(*) FROM o WHERE time_us >= exposed_us AND time_us >= "
      "window_end),\n"
      "  (SELECT count(*) FROM o WHERE exposed_us IS NULL OR time_us < exposed_us),\n"
      "  (SELECT coalesce(sum(c - 1), 0) FROM conversions)");
}

std::string ExposuresSql() {
  return "SELECT epoch, arm, count(*) FROM allot_exposures\n"
         "WHERE experiment = $1 AND NOT holdout AND exposed_us < $2\n"
         "GROUP BY epoch, arm";
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
    const pqxx::result matured =
        tx.exec_params(MaturedSql(config, clock), config.id,
                       clock.MaturedFrom(previous_us), clock.MaturedFrom(due_us));
    for (const pqxx::row& row : matured) {
      const int64_t epoch = row[0].as<int64_t>();
      const int64_t arm = row[1].as<int64_t>();
      if (absl::Status s = check(epoch, arm); !s.ok()) return s;
      const bool holdout = row[2].as<bool>();
      const int idx = row[3].as<int>();
      internal::Aggregate cell;
      cell.n = row[4].as<int64_t>();
      cell.sum = row[5].as<double>();
      cell.sum_sq = row[6].as<double>();
      if (holdout) {
        // Holdout units count for the primary only (as Fold).
        if (idx < 0) {
          figures.holdout.n += cell.n;
          figures.holdout.sum += cell.sum;
          figures.holdout.sum_sq += cell.sum_sq;
        }
      } else if (idx < 0) {
        Cell(figures.primary, epoch, arm) = cell;
      } else if (static_cast<size_t>(idx) < guards) {
        Cell(figures.guardrails[idx], epoch, arm) = cell;
      }
    }
    const pqxx::row tallies =
        tx.exec_params1(TalliesSql(config, clock), config.id, due_us);
    figures.tallies.late = tallies[0].as<int64_t>();
    figures.tallies.unknown = tallies[1].as<int64_t>();
    figures.tallies.duplicate = tallies[2].as<int64_t>();
    const pqxx::result exposures = tx.exec_params(ExposuresSql(), config.id, due_us);
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
