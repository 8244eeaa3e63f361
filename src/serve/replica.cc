// Copyright 2026 The allot Authors.

#include "serve/replica.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "store/learner_loop.h"

namespace allot::serve::internal {
namespace {

// The allocation history an engine starts `config` with at `start`: epoch
// 0, computed exactly as the learner's engine computes it.
absl::StatusOr<AllocationHistory> FirstEpoch(const ExperimentConfig& config,
                                             absl::Time start) {
  Engine engine;
  ALLOT_RETURN_IF_ERROR(engine.CreateExperiment(config));
  ALLOT_RETURN_IF_ERROR(engine.Start(config.id, start));
  return engine.History(config.id);
}

int BaselineArm(const ExperimentConfig& config) {
  for (size_t a = 0; a < config.arms.size(); ++a) {
    if (config.arms[a].id == config.baseline) return static_cast<int>(a);
  }
  return -1;
}

}  // namespace

ReplicaExperiment::ReplicaExperiment(ExperimentConfig config,
                                     std::unique_ptr<Assigner> assigner)
    : config_(std::move(config)),
      fingerprint_(config_.EffectiveSalt()),
      start_(assigner->history().epochs().front().start),
      assigner_(std::move(assigner)) {}

absl::StatusOr<Assignment> ReplicaExperiment::Assign(
    absl::string_view unit, absl::Time now, std::optional<absl::Time> unit_start) const {
  if (now < start_) {
    return absl::InvalidArgumentError(
        absl::StrCat("assignment time ", FormatRfc3339(now), " is before experiment ",
                     QuoteId(config_.id), " started at ", FormatRfc3339(start_)));
  }
  const absl::Time at = unit_start.has_value() ? std::min(*unit_start, now) : now;
  return assigner_->AssignAt(unit, at);
}

absl::Status ReplicaExperiment::Follow(const AllocationHistory& history) {
  allot::internal::MutexLock lock(&follow_mu_);
  const int64_t have = assigner_->current_epoch();
  const std::vector<Epoch>& epochs = history.epochs();
  if (history.experiment() != config_.id || epochs.empty() ||
      epochs.front().start != start_) {
    return absl::FailedPreconditionError(
        absl::StrCat("the history of ", QuoteId(history.experiment()), " starting at ",
                     epochs.empty() ? "-" : FormatRfc3339(epochs.front().start),
                     " does not continue the one served"));
  }
  for (int64_t e = have + 1; e < static_cast<int64_t>(epochs.size()); ++e) {
    const Epoch& epoch = epochs[e];
    absl::Status s;
    int added = -1, retired = -1;
    for (size_t a = 0; a < history.arms().size(); ++a) {
      if (history.arms()[a].added_epoch == e) added = static_cast<int>(a);
      if (history.arms()[a].retired_epoch == e) retired = static_cast<int>(a);
    }
    if (added >= 0) {
      const HistoryArm& arm = history.arms()[added];
      s = assigner_->PublishAddedArm(epoch.start, ArmInfo{arm.id, arm.payload},
                                     epoch.weights);
    } else if (retired >= 0) {
      s = assigner_->PublishRetiredArm(
          epoch.start, retired, history.arms()[retired].retire_mode, epoch.weights);
    } else {
      s = assigner_->Publish(epoch.start, epoch.weights);
    }
    if (!s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("epoch ", e, " of ", QuoteId(config_.id),
                       " cannot be published: ", s.message()));
    }
  }
  if (static_cast<int64_t>(epochs.size()) - 1 > have) {
    received_us_.store(absl::ToUnixMicros(absl::Now()), std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Replica>> Replica::Start(
    const StoreConfig& config, const std::vector<ExperimentConfig>& experiments,
    const std::vector<std::string>& sources, absl::Time now) {
  std::unique_ptr<Replica> replica(new Replica());
  replica->config_ = config;
  store::EventStoreOptions options;
  options.replica = config.replica;
  options.incarnation = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
  options.flush_interval = config.flush_interval;
  options.flush_events = static_cast<size_t>(config.flush_events);
  options.max_buffered_events =
      std::max(options.max_buffered_events, options.flush_events);
  ALLOT_ASSIGN_OR_RETURN(replica->events_,
                         store::EventStore::Connect(config.url, std::move(options)));
  store::HistoryFollowerOptions follow;
  follow.poll_interval = config.poll_interval;
  for (size_t i = 0; i < experiments.size(); ++i) {
    const ExperimentConfig& experiment = experiments[i];
    ALLOT_RETURN_IF_ERROR(
        replica->events_->RegisterExperiment(experiment.id, sources[i], now));
    absl::StatusOr<store::StoredHistory> latest =
        replica->events_->LatestHistory(experiment.id);
    absl::StatusOr<AllocationHistory> history = absl::UnknownError("unset");
    if (latest.ok()) {
      history = AllocationHistory::FromJson(latest->history_json);
    } else if (absl::IsNotFound(latest.status())) {
      // No learner has run yet: epoch 0 is the experiment's own, from the
      // start the store holds (the first replica's).
      ALLOT_ASSIGN_OR_RETURN(const absl::Time start,
                             replica->events_->StartedAt(experiment.id));
      history = FirstEpoch(experiment, start);
      if (history.ok()) {
        ALLOT_RETURN_IF_ERROR(
            replica->events_->PublishEpoch(experiment.id, 0, start, history->ToJson()));
      }
    } else {
      return latest.status();
    }
    if (!history.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "experiment ", QuoteId(experiment.id),
          ": the store's history does not fit: ", history.status().message()));
    }
    ALLOT_ASSIGN_OR_RETURN(
        std::unique_ptr<Assigner> assigner,
        Assigner::Create(*history, {.holdout = experiment.holdout,
                                    .baseline_arm = BaselineArm(experiment)}));
    follow.experiments.push_back(experiment.id);
    follow.known_epochs[experiment.id] = static_cast<int>(assigner->current_epoch());
    replica->experiments_[experiment.id] =
        std::make_unique<ReplicaExperiment>(experiment, std::move(assigner));
  }
  if (config.learner) replica->StartLearners(experiments);
  Replica* self = replica.get();
  ALLOT_ASSIGN_OR_RETURN(replica->follower_, store::HistoryFollower::Start(
                                                 config.url, std::move(follow),
                                                 [self](const store::HistoryUpdate& u) {
                                                   self->OnUpdate(u);
                                                 }));
  return replica;
}

Replica::~Replica() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& learner : learners_) learner->thread.join();
  follower_.reset();  // no callback after this
}

void Replica::StartLearners(const std::vector<ExperimentConfig>& experiments) {
  for (const ExperimentConfig& experiment : experiments) {
    auto learner = std::make_unique<LearnerThread>();
    learner->experiment = experiment.id;
    LearnerThread* self = learner.get();
    learner->thread = std::thread([this, self, experiment] {
      store::LearnerLoopOptions options;
      options.poll = config_.poll_interval;
      options.lag = config_.learner_lag;
      options.learner_id = config_.replica;
      store::LearnerLoopCallbacks callbacks;
      callbacks.leading = [self](bool leading) {
        allot::internal::MutexLock lock(&self->mu);
        self->state = leading ? "leading" : "standby";
      };
      callbacks.wait_or_stop = [this](absl::Duration d) {
        std::unique_lock<std::mutex> lock(stop_mu_);
        return stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(d),
                                 [this] { return stopping_; });
      };
      const absl::Status s =
          store::RunLearnerLoop(config_.url, experiment, options, callbacks);
      allot::internal::MutexLock lock(&self->mu);
      self->state = s.ok() ? "stopped" : absl::StrCat("stopped: ", s.message());
    });
    learners_.push_back(std::move(learner));
  }
}

std::vector<std::pair<std::string, std::string>> Replica::learner_states() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& learner : learners_) {
    allot::internal::MutexLock lock(&learner->mu);
    out.emplace_back(learner->experiment, learner->state);
  }
  return out;
}

void Replica::OnUpdate(const store::HistoryUpdate& update) {
  auto it = experiments_.find(update.experiment);
  if (it == experiments_.end()) return;
  absl::StatusOr<AllocationHistory> history =
      AllocationHistory::FromJson(update.history_json);
  absl::Status s = history.ok() ? it->second->Follow(*history) : history.status();
  if (!s.ok()) {
    ++follow_errors_;
    allot::internal::MutexLock lock(&error_mu_);
    last_follow_error_ = std::string(s.message());
  }
}

const ReplicaExperiment* Replica::Find(absl::string_view id) const {
  auto it = experiments_.find(id);
  return it == experiments_.end() ? nullptr : it->second.get();
}

std::vector<const ReplicaExperiment*> Replica::experiments() const {
  std::vector<const ReplicaExperiment*> out;
  for (const auto& [id, experiment] : experiments_) out.push_back(experiment.get());
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->config().id < b->config().id; });
  return out;
}

absl::Status Replica::RecordExposure(const ReplicaExperiment& experiment,
                                     absl::string_view unit, const Assignment& a,
                                     absl::Time now,
                                     std::optional<absl::Time> unit_start) {
  // A unit whose start is a whole window ago is a returning unit, not a new
  // trial (the engine's rule).
  if (unit_start.has_value() &&
      *unit_start + experiment.config().schedule.conversion_window <= now) {
    return absl::OkStatus();
  }
  const allot::internal::UnitKey key = experiment.fingerprint().Of(unit);
  store::ExposureEvent event;
  event.experiment = experiment.config().id;
  event.unit_hi = key.hi;
  event.unit_lo = key.lo;
  event.arm = a.arm;
  event.epoch = static_cast<int>(a.epoch);
  event.propensity = a.propensity;
  event.holdout = a.holdout;
  event.exposed = now;
  event.unit_start = unit_start;
  return events_->AppendExposure(event);
}

absl::Status Replica::RecordOutcome(const ReplicaExperiment& experiment,
                                    absl::string_view unit, absl::string_view metric,
                                    double value, absl::Time time) {
  // The engine's checks, so that what the learner reads is what the engine
  // would have taken.
  ALLOT_RETURN_IF_ERROR(ValidateUnit(unit));
  const ExperimentConfig& config = experiment.config();
  ALLOT_ASSIGN_OR_RETURN(const int index, config.MetricIndex(metric));
  const MetricKind kind = index < 0 ? config.metric : config.guardrails[index].kind;
  if (!std::isfinite(value) || std::abs(value) > kMaxOutcomeMagnitude) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome value must be finite and at most ", kMaxOutcomeMagnitude,
                     ", got ", value));
  }
  if (kind == MetricKind::kBinary && value != 0 && value != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a binary metric's value must be 0 or 1, got ", value));
  }
  if (kind == MetricKind::kBinary && value == 0) return absl::OkStatus();  // no change
  if (time < experiment.start()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome time ", FormatRfc3339(time), " is before experiment ",
        QuoteId(config.id), " started at ", FormatRfc3339(experiment.start())));
  }
  const allot::internal::UnitKey key = experiment.fingerprint().Of(unit);
  store::OutcomeEvent event;
  event.experiment = experiment.config().id;
  event.unit_hi = key.hi;
  event.unit_lo = key.lo;
  // The primary under its id (the store names every outcome's metric).
  event.metric = metric.empty() ? config.metric_id : std::string(metric);
  event.value = value;
  event.time = time;
  return events_->AppendOutcome(std::move(event));
}

bool Replica::healthy() const {
  return events_->healthy() && follower_->Stats().connected;
}

std::string Replica::last_follow_error() const {
  allot::internal::MutexLock lock(&error_mu_);
  return last_follow_error_;
}

}  // namespace allot::serve::internal
