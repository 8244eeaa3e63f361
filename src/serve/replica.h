// Copyright 2026 The allot Authors.
//
// A replica of a router fleet (`allot serve` with a [store]): it assigns
// from its own copy of each experiment's allocation history, appends every
// exposure and outcome to the PostgreSQL store (store::EventStore, buffered
// and flushed in batches), and follows the history the learner writes
// (store::HistoryFollower), publishing each new epoch to its assigner
// without a lock on the readers' side. It keeps no per-unit state: a unit
// gives the same answer on every replica that holds the same history, and
// with its start (`unit_start`) the same answer forever. The learner (`allot
// learn`, or `learner = true`) does the learning. Not API.

#ifndef ALLOT_SRC_SERVE_REPLICA_H_
#define ALLOT_SRC_SERVE_REPLICA_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/assigner.h"
#include "allot/experiment_config.h"
#include "allot/internal/mutex.h"
#include "ledger/ledger.h"
#include "serve/serve_config.h"
#include "store/event_store.h"
#include "store/history_follower.h"

namespace allot::serve::internal {

// One experiment as a replica serves it. Thread-safe: Assign runs on any
// thread while the follower publishes epochs.
class ReplicaExperiment {
 public:
  ReplicaExperiment(ExperimentConfig config, std::unique_ptr<Assigner> assigner);

  const ExperimentConfig& config() const { return config_; }
  const allot::internal::UnitFingerprint& fingerprint() const { return fingerprint_; }

  // The unit's arm: the table of the epoch in force at min(unit_start,
  // now), as the engine answers a new unit. Errors: InvalidArgument for a
  // bad unit or `now` before the start.
  absl::StatusOr<Assignment> Assign(absl::string_view unit, absl::Time now,
                                    std::optional<absl::Time> unit_start) const;

  // Publishes the epochs of `history` that this replica does not have yet.
  // Errors: FailedPrecondition when `history` is not a continuation of the
  // one served (another experiment's, or rewritten).
  absl::Status Follow(const AllocationHistory& history) ABSL_LOCKS_EXCLUDED(follow_mu_);

  int64_t epoch() const { return assigner_->current_epoch(); }
  absl::Time start() const { return start_; }
  // When the latest epoch reached this replica (InfinitePast: the one it
  // started with).
  absl::Time epoch_received() const {
    return absl::FromUnixMicros(received_us_.load(std::memory_order_relaxed));
  }
  std::string HistoryJson() const { return assigner_->history().ToJson(); }

 private:
  const ExperimentConfig config_;
  const allot::internal::UnitFingerprint fingerprint_;
  const absl::Time start_;
  std::unique_ptr<Assigner> assigner_;
  allot::internal::Mutex follow_mu_;  // one publisher at a time
  std::atomic<int64_t> received_us_{INT64_MIN};
};

// The store side of a replica: its experiments, the event appender and the
// history follower.
class Replica {
 public:
  // Registers each experiment in the store (the first replica to register
  // one sets its start to `now`), loads its latest epoch (or publishes
  // epoch 0 when the store has none yet) and starts following. `sources`
  // are the experiment files' texts, stored with the registration. Errors:
  // as store::EventStore::Connect and RegisterExperiment; InvalidArgument
  // for a history in the store that does not fit its experiment.
  static absl::StatusOr<std::unique_ptr<Replica>> Start(
      const StoreConfig& config, const std::vector<ExperimentConfig>& experiments,
      const std::vector<std::string>& sources, absl::Time now);
  ~Replica();

  // nullptr for an experiment this replica does not serve.
  const ReplicaExperiment* Find(absl::string_view id) const;
  std::vector<const ReplicaExperiment*> experiments() const;

  // Appends the exposure of a unit assigned `a` at `now` (unless its start
  // is a whole window ago: a returning unit, as the engine decides).
  // Errors: ResourceExhausted when the buffer is full (the store is down
  // too long); InvalidArgument as EventStore::AppendExposure.
  absl::Status RecordExposure(const ReplicaExperiment& experiment, absl::string_view unit,
                              const Assignment& a, absl::Time now,
                              std::optional<absl::Time> unit_start);
  // Appends an outcome; the learner classifies it (counted, late, unknown,
  // duplicate) at its grid point. Errors: as EventStore::AppendOutcome.
  absl::Status RecordOutcome(const ReplicaExperiment& experiment, absl::string_view unit,
                             absl::string_view metric, double value, absl::Time time);

  store::EventStoreStats events() const { return events_->Stats(); }
  store::HistoryFollowerStats follower() const { return follower_->Stats(); }
  // Whether the store takes this replica's events and the follower is
  // connected; when not, the replica still serves from the history it has.
  bool healthy() const;
  // Each experiment's learner in this process ([store] learner = true):
  // "leading", "standby", or "stopped: REASON"; empty without learners.
  std::vector<std::pair<std::string, std::string>> learner_states() const;

  // Histories the follower delivered that could not be published.
  int64_t follow_errors() const { return follow_errors_.load(); }
  std::string last_follow_error() const;

 private:
  Replica() = default;
  void OnUpdate(const store::HistoryUpdate& update);

  StoreConfig config_;
  std::unique_ptr<store::EventStore> events_;
  absl::flat_hash_map<std::string, std::unique_ptr<ReplicaExperiment>> experiments_;
  std::unique_ptr<store::HistoryFollower> follower_;
  // The learners' threads, stopped (and joined) first.
  struct LearnerThread {
    std::string experiment;
    std::thread thread;
    mutable allot::internal::Mutex mu;
    std::string state ABSL_GUARDED_BY(mu) = "standby";
  };
  void StartLearners(const std::vector<ExperimentConfig>& experiments);
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::vector<std::unique_ptr<LearnerThread>> learners_;
  std::atomic<int64_t> follow_errors_{0};
  mutable allot::internal::Mutex error_mu_;
  std::string last_follow_error_ ABSL_GUARDED_BY(error_mu_);
};

}  // namespace allot::serve::internal

#endif  // ALLOT_SRC_SERVE_REPLICA_H_
