// Copyright 2026 The allot Authors.
//
// The SQL of the learner (store/learner.h): what one grid point's figures
// are, computed by PostgreSQL from the event tables. Private to src/store
// and its tests (which EXPLAIN these statements).
//
// A unit's window closes at start + whole seconds of its exposure after the
// start + the window (the ledger's OpenUnit::exposure_s and WindowEndUs), so
// "closed in (a, b]" is a range of exposure times, [MaturedFrom(a),
// MaturedFrom(b)): the count of matured units reads only this grid point's
// units through the (experiment, exposed_us) index. Their outcomes' sums
// come from the join that also gives the tallies (OutcomesSql), so the
// outcomes are joined with their exposures once per grid point.

#ifndef ALLOT_SRC_STORE_LEARNER_SQL_H_
#define ALLOT_SRC_STORE_LEARNER_SQL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "allot/experiment_config.h"
#include "pqxx/transaction_base"
#include "runtime/experiment_runtime.h"

namespace allot::store {

// The timing of one experiment's windows, in microseconds.
struct WindowClock {
  int64_t start_us = 0;   // the experiment's start (the ledger's origin)
  int64_t window_us = 0;  // the conversion window

  // The first exposure time whose window closes after `t_us`: a unit
  // exposed at x has matured by t exactly when x < MaturedFrom(t).
  int64_t MaturedFrom(int64_t t_us) const;
};

// The tables the statements read: the event tables, or one experiment's
// partitions of them.
struct EventTables {
  std::string exposures = "allot_exposures";
  std::string outcomes = "allot_outcomes";
};

// Returns the tables to read for `experiment`: its partitions when they
// have the names allot_create_partitions gives them (allot_exposures_<md5
// of the id>, allot_outcomes_<md5>), else the parents. Throws as libpqxx.
EventTables ExperimentTables(pqxx::transaction_base& tx, const std::string& experiment);

// The statement that counts the units whose windows closed in (previous,
// due] per (epoch, arm, holdout), with parameters $1 experiment, $2 first
// exposure time, $3 end of exposure times (exclusive): rows of epoch, arm,
// holdout, units. It reads a range of the (experiment, exposed_us) index.
std::string MaturedSql(const ExperimentConfig& config, const WindowClock& clock,
                       const EventTables& tables = EventTables());

// The statement of the outcomes as of `due`, in one join of the outcomes
// before `due` with their units' exposures ($1 experiment, $2 and $3 as
// MaturedSql's, $4 due). Its rows, per (epoch, arm, holdout, metric index:
// -1 the primary, else the guardrail's; epoch, arm and holdout NULL for
// outcomes of units with no exposure): the matured units with an outcome
// counted, the sum and the sum of squares of their totals, and the late,
// unknown and duplicate outcomes among the row's (summed over the rows,
// the tallies).
std::string OutcomesSql(const ExperimentConfig& config, const WindowClock& clock,
                        const EventTables& tables = EventTables());

// The statement of exposures outside the holdout before `due` ($1
// experiment, $2 due): rows of epoch, arm, count.
std::string ExposuresSql(const EventTables& tables = EventTables());

// Returns the figures of grid point `due`, the units whose windows closed
// after `previous_us` (INT64_MIN: none before) folded in, read in `tx`
// from ExperimentTables.
// Errors: as StoreError; InvalidArgument for an epoch or arm out of range.
absl::StatusOr<internal::MaturedAtGridPoint> ReadFigures(pqxx::transaction_base& tx,
                                                         const ExperimentConfig& config,
                                                         const WindowClock& clock,
                                                         int64_t previous_us,
                                                         int64_t due_us);

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_LEARNER_SQL_H_
