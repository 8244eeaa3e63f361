// Copyright 2026 The allot Authors.

#include "store/learner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/allocation_history.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "pqxx/pqxx"
#include "runtime/engine_access.h"
#include "store/pg.h"

namespace allot::store {
namespace {

using internal::EngineAccess;

// One snapshot for every statement of a grid point.
using GridTransaction = pqxx::transaction<pqxx::isolation_level::repeatable_read>;

int64_t MicrosOrMin(absl::Time t) {
  return t == absl::InfinitePast() ? INT64_MIN : absl::ToUnixMicros(t);
}

}  // namespace

Learner::Learner(std::unique_ptr<pqxx::connection> conn, const ExperimentConfig& config,
                 std::string learner_id, WindowClock clock)
    : conn_(std::move(conn)),
      config_(config),
      learner_id_(std::move(learner_id)),
      clock_(clock) {}

Learner::~Learner() = default;

absl::StatusOr<std::unique_ptr<Learner>> Learner::Connect(absl::string_view url,
                                                          const ExperimentConfig& config,
                                                          std::string learner_id) {
  if (!config.composite.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("experiment ", config.id,
                     ": a composite primary metric is not supported by the store's "
                     "learner yet (it aggregates one metric per outcome row)"));
  }
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, ConnectStore(url));
  WindowClock clock;
  clock.window_us = absl::ToInt64Microseconds(config.schedule.conversion_window);
  try {
    pqxx::read_transaction tx(*conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT started_us FROM allot_experiments WHERE experiment = $1", config.id);
    if (rows.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "experiment ", QuoteId(config.id), " is not registered in the store"));
    }
    if (rows[0][0].is_null()) {
      return absl::FailedPreconditionError(absl::StrCat("experiment ", QuoteId(config.id),
                                                        " is not started in the store"));
    }
    clock.start_us = rows[0][0].as<int64_t>();
  } catch (const std::exception& e) {
    return StoreError("reading the experiment", e);
  }
  return std::unique_ptr<Learner>(
      new Learner(std::move(conn), config, std::move(learner_id), clock));
}

absl::Status Learner::Fail(absl::Status status) {
  // The connection goes, and the lock with it: a standby may lead now, and
  // this learner connects again to lead (restoring from the store).
  leading_ = false;
  engine_.reset();
  conn_.reset();
  return status;
}

absl::StatusOr<bool> Learner::TryLead() {
  if (leading_) return true;
  if (conn_ == nullptr) {
    return absl::FailedPreconditionError(
        "the learner's connection was closed by an "
        "error; connect again");
  }
  try {
    pqxx::nontransaction tx(*conn_);
    const pqxx::row got = tx.exec_params1(
        absl::StrCat("SELECT pg_try_advisory_lock(", kLearnerLockKeySql, ")"),
        config_.id);
    if (!got[0].as<bool>()) return false;
  } catch (const std::exception& e) {
    return Fail(StoreError("taking the learner's lock", e));
  }
  leading_ = true;
  if (absl::Status s = Restore(); !s.ok()) return Fail(s);
  return true;
}

absl::Time Learner::NextDue() const {
  if (engine_ == nullptr) return absl::InfiniteFuture();
  absl::StatusOr<absl::Time> due = EngineAccess::NextDue(*engine_, config_.id);
  return due.ok() ? *due : absl::InfiniteFuture();
}

absl::Status Learner::Restore() {
  engine_ = std::make_unique<Engine>();
  ALLOT_RETURN_IF_ERROR(engine_->CreateExperiment(config_));
  ALLOT_RETURN_IF_ERROR(
      engine_->Start(config_.id, absl::FromUnixMicros(clock_.start_us)));
  watermark_ = absl::InfinitePast();
  reports_made_ = 0;
  try {
    GridTransaction tx(*conn_);
    int64_t stored_reports = 0;
    const pqxx::result state = tx.exec_params(
        "SELECT watermark_us, reports_made FROM allot_learner_state WHERE experiment = "
        "$1",
        config_.id);
    absl::Time stored_watermark = absl::InfinitePast();
    if (!state.empty()) {
      stored_watermark = absl::FromUnixMicros(state[0][0].as<int64_t>());
      stored_reports = state[0][1].as<int64_t>();
    }
    // Every grid point done, again, from the same events: the engine's
    // state is a function of them.
    for (absl::Time due = NextDue(); due <= stored_watermark; due = NextDue()) {
      ALLOT_ASSIGN_OR_RETURN(internal::MaturedAtGridPoint figures,
                             ReadFigures(tx, config_, clock_, MicrosOrMin(watermark_),
                                         absl::ToUnixMicros(due)));
      ALLOT_ASSIGN_OR_RETURN(
          std::vector<ReallocationReport> reports,
          EngineAccess::AdvanceWith(*engine_, config_.id, due, figures));
      reports_made_ += static_cast<int64_t>(reports.size());
      watermark_ = due;
    }
    if (watermark_ != stored_watermark || reports_made_ != stored_reports) {
      return absl::FailedPreconditionError(absl::StrCat(
          "experiment ", QuoteId(config_.id), ": the store's learner state (watermark ",
          FormatRfc3339(stored_watermark), ", ", stored_reports,
          " reports) is not on the schedule recomputed from the events (",
          FormatRfc3339(watermark_), ", ", reports_made_, " reports)"));
    }
    ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, engine_->History(config_.id));
    const std::string history_json = history.ToJson();
    const int64_t epoch = static_cast<int64_t>(history.epochs().size()) - 1;
    const pqxx::result latest = tx.exec_params(
        "SELECT epoch, history_json FROM allot_epochs WHERE experiment = $1 "
        "ORDER BY epoch DESC LIMIT 1",
        config_.id);
    if (latest.empty()) {
      tx.exec_params(
          "INSERT INTO allot_epochs (experiment, epoch, start_us, history_json) "
          "VALUES ($1, 0, $2, $3) ON CONFLICT DO NOTHING",
          config_.id, clock_.start_us, history_json);
    } else if (latest[0][0].as<int64_t>() != epoch ||
               (epoch > 0 && latest[0][1].as<std::string>() != history_json)) {
      return absl::FailedPreconditionError(
          absl::StrCat("experiment ", QuoteId(config_.id), ": the store's latest epoch (",
                       latest[0][0].as<int64_t>(),
                       ") differs from the one recomputed from its events (", epoch,
                       "); did events before the watermark ", FormatRfc3339(watermark_),
                       " arrive after it was written?"));
    }
    tx.commit();
  } catch (const std::exception& e) {
    return StoreError("restoring the learner", e);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReallocationReport>> Learner::RunUntil(absl::Time until) {
  if (!leading_) {
    return absl::FailedPreconditionError(
        absl::StrCat("not the leader of experiment ", QuoteId(config_.id)));
  }
  std::vector<ReallocationReport> out;
  for (absl::Time due = NextDue(); due <= until; due = NextDue()) {
    // Fail closes the connection: only once the grid point's transaction
    // is gone (rolled back when it did not commit).
    if (absl::Status s = RunGridPoint(due, out); !s.ok()) return Fail(s);
  }
  return out;
}

absl::Status Learner::RunGridPoint(absl::Time due, std::vector<ReallocationReport>& out) {
  const int64_t due_us = absl::ToUnixMicros(due);
  try {
    GridTransaction tx(*conn_);
    // The lock makes this learner the only writer; the watermark read under
    // FOR UPDATE is the check that it is (a second writer fails here or at
    // commit).
    const pqxx::result state = tx.exec_params(
        "SELECT watermark_us FROM allot_learner_state WHERE experiment = $1 FOR UPDATE",
        config_.id);
    const absl::Time stored = state.empty()
                                  ? absl::InfinitePast()
                                  : absl::FromUnixMicros(state[0][0].as<int64_t>());
    if (stored != watermark_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "experiment ", QuoteId(config_.id), ": another learner moved the watermark to ",
          FormatRfc3339(stored), " (this one had ", FormatRfc3339(watermark_), ")"));
    }
    ALLOT_ASSIGN_OR_RETURN(
        internal::MaturedAtGridPoint figures,
        ReadFigures(tx, config_, clock_, MicrosOrMin(watermark_), due_us));
    ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                           EngineAccess::AdvanceWith(*engine_, config_.id, due, figures));
    int64_t index = reports_made_;
    for (const ReallocationReport& report : reports) {
      tx.exec_params(
          "INSERT INTO allot_reports (experiment, report_index, time_us, report_json) "
          "VALUES ($1, $2, $3, $4)",
          config_.id, index++, absl::ToUnixMicros(report.time), ReportsToJson({report}));
      if (report.reallocated) {
        ALLOT_ASSIGN_OR_RETURN(AllocationHistory history, engine_->History(config_.id));
        tx.exec_params(
            "INSERT INTO allot_epochs (experiment, epoch, start_us, history_json) "
            "VALUES ($1, $2, $3, $4)",
            config_.id, report.epoch, due_us, history.ToJson());
      }
    }
    tx.exec_params(
        "INSERT INTO allot_learner_state "
        "(experiment, watermark_us, reports_made, learner, updated_at) "
        "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (experiment) DO UPDATE SET "
        "watermark_us = EXCLUDED.watermark_us, reports_made = EXCLUDED.reports_made, "
        "learner = EXCLUDED.learner, updated_at = EXCLUDED.updated_at",
        config_.id, due_us, index, learner_id_);
    tx.commit();
    reports_made_ = index;
    watermark_ = due;
    out.insert(out.end(), reports.begin(), reports.end());
  } catch (const std::exception& e) {
    return StoreError(absl::StrCat("grid point ", FormatRfc3339(due)), e);
  }
  return absl::OkStatus();
}

}  // namespace allot::store
