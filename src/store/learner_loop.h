// Copyright 2026 The allot Authors.
//
// The learner's life: wait as a standby until this process holds the
// experiment's lock, then run each grid point once its time (plus a lag,
// for replicas' events still in flight) has passed, reconnecting after a
// lost database and going back to standby when leadership is lost. `allot
// learn` runs it in the foreground; `allot serve` with `[store] learner =
// true` runs one per experiment on a thread of its own.
//
//   LearnerLoopOptions options{.learner_id = "serve-host-1"};
//   absl::Status s = RunLearnerLoop(url, config, options, callbacks);

#ifndef ALLOT_SRC_STORE_LEARNER_LOOP_H_
#define ALLOT_SRC_STORE_LEARNER_LOOP_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "allot/report.h"

namespace allot::store {

struct LearnerLoopOptions {
  // How often a standby tries the lock and a leader looks for due grid
  // points (and waits after a lost connection).
  absl::Duration poll = absl::Seconds(10);
  // A grid point runs this long after its time on the wall clock.
  absl::Duration lag = absl::Minutes(1);
  // With a value: run the grid points up to it once leading, then return.
  std::optional<absl::Time> once_until;
  // Pause this long after each grid point (demonstrations, failover tests).
  absl::Duration pace = absl::ZeroDuration();
  // Written with each watermark: who wrote it.
  std::string learner_id = "allot-learn";
};

struct LearnerLoopCallbacks {
  // Each report of a grid point run (and committed).
  std::function<void(const ReallocationReport&)> report = [](const auto&) {};
  // A change worth saying: "standby", "leading", "reconnecting: ...".
  std::function<void(absl::string_view)> say = [](absl::string_view) {};
  // Whether this process now leads the experiment (called on each change).
  std::function<void(bool)> leading = [](bool) {};
  // Waits up to the duration; returns true when the loop should end.
  std::function<bool(absl::Duration)> wait_or_stop;
};

// Runs until `once_until` is reached (OK) or wait_or_stop says stop (OK).
// An unreachable database is waited for. Errors: anything else the
// learner refuses (a store whose events changed under its watermark, a bad
// URL), as Learner::Connect, TryLead and RunUntil.
absl::Status RunLearnerLoop(absl::string_view url, const ExperimentConfig& config,
                            const LearnerLoopOptions& options,
                            const LearnerLoopCallbacks& callbacks);

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_LEARNER_LOOP_H_
