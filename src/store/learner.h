// Copyright 2026 The allot Authors.
//
// The fleet's learner: for one experiment whose events replicas append to
// the PostgreSQL store, at each grid point it aggregates the units matured
// since the last one in SQL (store/learner_sql.h), runs the embedded
// engine's fold, estimates, policy and decisions on those figures
// (EngineAccess::AdvanceWith), and writes the new epoch, the report and its
// watermark in one transaction. One learner leads an experiment at a time:
// it holds a session advisory lock keyed by the experiment; a standby polls
// for the lock and, once it has it, restores itself from the store.
//
//   ALLOT_ASSIGN_OR_RETURN(auto learner, Learner::Connect(url, config));
//   ALLOT_ASSIGN_OR_RETURN(bool leading, learner->TryLead());
//   if (leading) ALLOT_RETURN_IF_ERROR(learner->RunUntil(now).status());
//
// Restoring recomputes every grid point up to the watermark from the event
// tables and checks the result against the epochs and the report count the
// store holds, so a crash at any point neither loses nor double counts a
// unit: a grid point is done exactly when its transaction committed.

#ifndef ALLOT_SRC_STORE_LEARNER_H_
#define ALLOT_SRC_STORE_LEARNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "pqxx/connection"
#include "store/learner_sql.h"

namespace allot::store {

// The SQL of the advisory lock key of the learner of experiment $1: the
// server's 64-bit hash of "allot-learner:" and the id, the same in every
// process.
inline constexpr char kLearnerLockKeySql[] =
    "hashtextextended('allot-learner:' || $1, 0)";

// Thread-compatible.
class Learner {
 public:
  // Connects to `url` for the experiment of `config`, which must be
  // registered in allot_experiments. `learner_id` is written with each
  // watermark (who wrote it). Does not take the lock. Errors: as
  // ConnectStore; InvalidArgument for a composite primary (the store
  // aggregates one metric per column); FailedPrecondition when the
  // experiment is not registered or has no start.
  static absl::StatusOr<std::unique_ptr<Learner>> Connect(
      absl::string_view url, const ExperimentConfig& config,
      std::string learner_id = "learner");
  ~Learner();

  // Returns whether this learner leads: takes the experiment's lock when it
  // is free (pg_try_advisory_lock) and, on becoming leader, restores the
  // state the store holds. Errors: as StoreError; FailedPrecondition when
  // the store's epochs or reports differ from the recomputation (events
  // before the watermark changed after it was written).
  absl::StatusOr<bool> TryLead();
  bool leading() const { return leading_; }

  // Runs every grid point due at or before `until`, each in its own
  // transaction (the epoch when it reallocates, the report, the
  // watermark), and returns their reports. REQUIRES: leading(). Errors:
  // as StoreError (the grid point that failed is not done, and the learner
  // stops leading: the caller connects again); FailedPrecondition when
  // another learner moved the watermark.
  absl::StatusOr<std::vector<ReallocationReport>> RunUntil(absl::Time until);

  // The next grid point to run, and the last one done (the watermark;
  // InfinitePast before the first).
  absl::Time NextDue() const;
  absl::Time watermark() const { return watermark_; }
  const Engine& engine() const { return *engine_; }

 private:
  Learner(std::unique_ptr<pqxx::connection> conn, const ExperimentConfig& config,
          std::string learner_id, WindowClock clock);
  // Rebuilds the engine from the store's events up to the watermark.
  absl::Status Restore();
  // Runs grid point `due` in one transaction, appending its reports to
  // `out` once committed. On error the engine may be ahead of the store:
  // the caller must Fail.
  absl::Status RunGridPoint(absl::Time due, std::vector<ReallocationReport>& out);
  // Stops leading: drops the engine and closes the connection (releasing
  // the lock). Returns `status`. REQUIRES: no transaction of conn_ open.
  absl::Status Fail(absl::Status status);

  std::unique_ptr<pqxx::connection> conn_;
  const ExperimentConfig config_;
  const std::string learner_id_;
  const WindowClock clock_;
  std::unique_ptr<Engine> engine_;
  bool leading_ = false;
  absl::Time watermark_ = absl::InfinitePast();
  int64_t reports_made_ = 0;
};

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_LEARNER_H_
