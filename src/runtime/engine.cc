// Copyright 2026 The allot Authors.
//
// The engine: experiments by id, the ordering of state changes against
// snapshots and the journal, and the journal's sequence numbers.

#include "allot/engine.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/internal/mutex.h"
#include "allot/journal.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "runtime/engine_access.h"
#include "runtime/experiment_runtime.h"
#include "runtime/journal_record.h"

namespace allot {
namespace internal {
namespace {

JournalRecord Record(JournalRecord::Kind kind, absl::string_view experiment,
                     absl::Time time = absl::InfinitePast()) {
  JournalRecord record;
  record.kind = kind;
  record.experiment = std::string(experiment);
  record.time = time;
  return record;
}

// Holds the ordering lock shared, or exclusive while journaling (so that the
// journal's order is the order in which state changed). The analysis sees
// the weaker of the two, a shared hold.
class ABSL_SCOPED_LOCKABLE OrderLock {
 public:
  OrderLock(Mutex* mu, bool exclusive)
      ABSL_SHARED_LOCK_FUNCTION(mu) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : mu_(mu),
        exclusive_(exclusive) {
    if (exclusive_) {
      mu_->Lock();
    } else {
      mu_->ReaderLock();
    }
  }
  ~OrderLock() ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (exclusive_) {
      mu_->Unlock();
    } else {
      mu_->ReaderUnlock();
    }
  }
  OrderLock(const OrderLock&) = delete;
  OrderLock& operator=(const OrderLock&) = delete;

 private:
  Mutex* const mu_;
  const bool exclusive_;
};

absl::Status NotFound(absl::string_view experiment) {
  return absl::NotFoundError(absl::StrCat("unknown experiment ", QuoteId(experiment)));
}

}  // namespace

// What Engine holds. Thread-safe.
class EngineImpl {
 public:
  using RuntimePtr = std::shared_ptr<ExperimentRuntime>;

  EngineImpl(Journal* journal, int64_t reports_kept) : reports_kept_(reports_kept) {
    AttachJournal(journal);
  }

  void AttachJournal(Journal* journal) {
    MutexLock lock(&order_mu_);
    journal_ = journal != nullptr ? journal->sink() : nullptr;
    journaling_.store(journal_ != nullptr, std::memory_order_release);
  }

  absl::StatusOr<RuntimePtr> Find(absl::string_view experiment) const {
    ReaderMutexLock lock(&mu_);
    auto it = experiments_.find(experiment);
    if (it == experiments_.end()) return NotFound(experiment);
    return it->second;
  }

  absl::Status CreateExperiment(const ExperimentConfig& config) {
    ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<ExperimentRuntime> runtime,
                           ExperimentRuntime::Create(config, reports_kept_));
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    {
      MutexLock lock(&mu_);
      if (experiments_.contains(config.id) || final_reports_.contains(config.id)) {
        return absl::AlreadyExistsError(
            absl::StrCat("experiment ", QuoteId(config.id), " already exists"));
      }
      experiments_.emplace(config.id, std::move(runtime));
    }
    JournalRecord record = Record(JournalRecord::Kind::kCreate, config.id);
    record.config = config;
    return AppendToJournal(record);
  }

  absl::Status Start(absl::string_view experiment, absl::Time at) {
    // The schedule starts at `at`: an infinite start would never leave it.
    if (at == absl::InfiniteFuture() || at == absl::InfinitePast()) {
      return absl::InvalidArgumentError("start time must be finite");
    }
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    // Only Start makes an experiment run, so with Starts serialized the
    // surface found free stays free until this one runs. Stop and Delete
    // need not take start_mu_: they only ever free a surface.
    MutexLock start(&start_mu_);
    ALLOT_RETURN_IF_ERROR(CheckSurfaceFree(*runtime));
    ALLOT_RETURN_IF_ERROR(runtime->Start(at));
    JournalRecord record = Record(JournalRecord::Kind::kStart, experiment, at);
    return AppendToJournal(record);
  }

  absl::Status Stop(absl::string_view experiment, absl::Time at) {
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    ALLOT_RETURN_IF_ERROR(runtime->Stop(at));
    JournalRecord record = Record(JournalRecord::Kind::kStop, experiment, at);
    return AppendToJournal(record);
  }

  absl::Status AddArm(absl::string_view experiment, const ArmConfig& arm,
                      absl::Time now) {
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    ALLOT_RETURN_IF_ERROR(runtime->AddArm(arm, now));
    JournalRecord record = Record(JournalRecord::Kind::kAddArm, experiment, now);
    record.unit = arm.id;
    record.payload = arm.payload;
    record.value = arm.initial_share.value_or(std::nan(""));
    return AppendToJournal(record);
  }

  absl::Status RetireArm(absl::string_view experiment, absl::string_view arm,
                         absl::Time now, RetireMode mode) {
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    ALLOT_RETURN_IF_ERROR(runtime->RetireArm(arm, now, mode));
    JournalRecord record = Record(JournalRecord::Kind::kRetireArm, experiment, now);
    record.unit = std::string(arm);
    record.value = mode == RetireMode::kNow ? 1 : 0;
    return AppendToJournal(record);
  }

  absl::Status Delete(absl::string_view experiment) {
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    {
      MutexLock lock(&mu_);
      auto it = experiments_.find(experiment);
      if (it == experiments_.end()) return NotFound(experiment);
      final_reports_.emplace(it->first, it->second->FinalReport());
      it->second->MarkDeleted();
      experiments_.erase(it);
    }
    JournalRecord record = Record(JournalRecord::Kind::kDelete, experiment);
    return AppendToJournal(record);
  }

  absl::StatusOr<ExperimentHandle> Handle(absl::string_view experiment) {
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    return ExperimentHandle(this, std::move(runtime));
  }

  absl::StatusOr<Assignment> Assign(ExperimentRuntime& runtime, absl::string_view unit,
                                    absl::Time now,
                                    std::optional<absl::Time> unit_start) {
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckLive(runtime));
    bool new_exposure = false;
    ALLOT_ASSIGN_OR_RETURN(Assignment a,
                           runtime.Assign(unit, now, unit_start, &new_exposure));
    if (new_exposure && journal_ != nullptr) {
      JournalRecord record =
          Record(JournalRecord::Kind::kExposure, runtime.config().id, now);
      record.unit = std::string(unit);
      record.unit_start = unit_start;
      ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
    }
    return a;
  }

  absl::Status AssignBatch(ExperimentRuntime& runtime,
                           absl::Span<const AssignRequest> requests,
                           absl::Span<absl::StatusOr<Assignment>> results) {
    if (results.size() != requests.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("AssignBatch needs one result per request: ", requests.size(),
                       " requests, ", results.size(), " results"));
    }
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckLive(runtime));
    // The new exposures, journaled in order once the batch is served (the
    // order lock, exclusive while journaling, is held throughout).
    const bool journaled = journal_ != nullptr;
    absl::InlinedVector<size_t, 64> exposed;
    runtime.AssignBatch(requests, results, [&](size_t i) {
      if (journaled) exposed.push_back(i);
    });
    for (const size_t i : exposed) {
      JournalRecord record =
          Record(JournalRecord::Kind::kExposure, runtime.config().id, requests[i].now);
      record.unit = std::string(requests[i].unit);
      record.unit_start = requests[i].unit_start;
      if (absl::Status s = AppendToJournal(record); !s.ok()) results[i] = s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<OutcomeDisposition> RecordOutcome(ExperimentRuntime& runtime,
                                                   absl::string_view unit,
                                                   absl::Time time, double value,
                                                   absl::string_view metric) {
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckLive(runtime));
    ALLOT_ASSIGN_OR_RETURN(OutcomeDisposition d,
                           runtime.RecordOutcome(unit, time, value, metric));
    if (journal_ != nullptr) {
      JournalRecord record =
          Record(JournalRecord::Kind::kOutcome, runtime.config().id, time);
      record.unit = std::string(unit);
      record.value = value;
      record.metric = std::string(metric);
      ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
    }
    return d;
  }

  absl::StatusOr<std::vector<ReallocationReport>> Advance(absl::Time now) {
    // An infinite time would never leave the schedule loop: the grid time
    // saturates at infinity and stays due.
    if (now == absl::InfiniteFuture() || now == absl::InfinitePast()) {
      return absl::InvalidArgumentError("advance time must be finite");
    }
    OrderLock order(&order_mu_, journaling());
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    MutexLock advance(&advance_mu_);
    if (now < clock_) {
      return absl::InvalidArgumentError(
          absl::StrCat("time going backward: advance to ", FormatRfc3339(now),
                       " is before the previous advance to ", FormatRfc3339(clock_)));
    }
    std::vector<RuntimePtr> runtimes;
    {
      ReaderMutexLock lock(&mu_);
      for (const auto& [id, runtime] : experiments_) runtimes.push_back(runtime);
    }
    // Refused up front, before anything changes: schedules move only here,
    // under advance_mu_, so the counts hold for the loop below.
    for (const RuntimePtr& runtime : runtimes) {
      const int64_t points = runtime->GridPointsDue(now);
      if (points > kMaxGridPointsPerAdvance) {
        return absl::InvalidArgumentError(
            absl::StrCat("advance to ", FormatRfc3339(now), " would cross ", points,
                         " grid points of experiment ", QuoteId(runtime->config().id),
                         " (from ", FormatRfc3339(runtime->NextDue()), " every ",
                         absl::FormatDuration(runtime->config().schedule.interval),
                         "), more than the ", kMaxGridPointsPerAdvance,
                         " one advance may cross; advance in steps"));
      }
    }
    clock_ = now;
    std::vector<ReallocationReport> reports;
    for (const RuntimePtr& runtime : runtimes) {
      std::vector<ReallocationReport> r = runtime->AdvanceTo(now);
      reports.insert(reports.end(), std::make_move_iterator(r.begin()),
                     std::make_move_iterator(r.end()));
    }
    JournalRecord record = Record(JournalRecord::Kind::kAdvance, "", now);
    ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
    return reports;
  }

  absl::StatusOr<std::vector<ReallocationReport>> Reports(
      absl::string_view experiment) const {
    {
      ReaderMutexLock lock(&mu_);
      auto it = final_reports_.find(experiment);
      if (it != final_reports_.end()) {
        return std::vector<ReallocationReport>{it->second};
      }
    }
    ALLOT_ASSIGN_OR_RETURN(RuntimePtr runtime, Find(experiment));
    return runtime->Reports();
  }

 private:
  friend class EngineAccess;

  bool journaling() const { return journaling_.load(std::memory_order_acquire); }

  // OK unless an earlier journal write failed: then FailedPrecondition, so
  // the engine never holds state its journal cannot reproduce.
  absl::Status CheckWritable() const
      ABSL_SHARED_LOCKS_REQUIRED(order_mu_) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (ABSL_PREDICT_TRUE(!failed_.load(std::memory_order_acquire))) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "the engine refuses changes since a journal write failed (",
        journal_failure_.message(), "); recover from the snapshot and the journal"));
  }

  // CheckWritable, and NotFound for a deleted experiment (a handle's).
  absl::Status CheckLive(const ExperimentRuntime& runtime) const
      ABSL_SHARED_LOCKS_REQUIRED(order_mu_) {
    ALLOT_RETURN_IF_ERROR(CheckWritable());
    if (ABSL_PREDICT_FALSE(runtime.deleted())) return NotFound(runtime.config().id);
    return absl::OkStatus();
  }

  // OK unless `runtime` is about to start (created) on a non-empty surface
  // where another experiment runs: then FailedPrecondition naming both.
  // Another lifecycle state is left to ExperimentRuntime::Start to refuse.
  absl::Status CheckSurfaceFree(const ExperimentRuntime& runtime) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(start_mu_) {
    const std::string& surface = runtime.config().surface;
    if (surface.empty() || runtime.state() != ExperimentState::kCreated) {
      return absl::OkStatus();
    }
    ReaderMutexLock lock(&mu_);
    for (const auto& [id, other] : experiments_) {
      if (other.get() != &runtime && other->config().surface == surface &&
          other->state() == ExperimentState::kRunning) {
        return absl::FailedPreconditionError(
            absl::StrCat("surface ", QuoteId(surface), " already has running experiment ",
                         QuoteId(id), "; stop it first"));
      }
    }
    return absl::OkStatus();
  }

  // Appends a record when journaling; OK otherwise. On failure the engine
  // fails closed. REQUIRES: order_mu_ held exclusively when journal_ is set.
  absl::Status AppendToJournal(JournalRecord& record)
      ABSL_SHARED_LOCKS_REQUIRED(order_mu_) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (journal_ == nullptr) return absl::OkStatus();
    record.sequence = journal_sequence_ + 1;
    if (absl::Status s = journal_->Append(record); !s.ok()) {
      journal_failure_ = s;
      failed_.store(true, std::memory_order_release);
      return absl::DataLossError(
          absl::StrCat("the call took effect but its journal record was not written (",
                       s.message(), "); the engine now refuses changes until recovered"));
    }
    journal_sequence_ = record.sequence;
    return absl::OkStatus();
  }

  // Orders state changes against snapshots and the journal: shared by every
  // state-changing call, exclusive for a snapshot; with a journal attached,
  // exclusive for every state change, so records are in state order.
  mutable Mutex order_mu_;
  JournalSink* journal_ ABSL_GUARDED_BY(order_mu_) = nullptr;
  std::atomic<bool> journaling_{false};
  // The sequence number of the last journal record applied: the engine
  // numbers records, the journal writes them.
  uint64_t journal_sequence_ ABSL_GUARDED_BY(order_mu_) = 0;
  // Set, and never cleared, when a journal write fails.
  std::atomic<bool> failed_{false};
  absl::Status journal_failure_ ABSL_GUARDED_BY(order_mu_);

  // Serializes Start calls, so that two cannot both find a surface free
  // (CheckSurfaceFree). Never taken by Assign or RecordOutcome.
  Mutex start_mu_;

  // Serializes Advance calls; held across reallocations, which do not
  // block Assign or RecordOutcome.
  Mutex advance_mu_;
  absl::Time clock_ ABSL_GUARDED_BY(advance_mu_) = absl::InfinitePast();

  const int64_t reports_kept_;  // EngineOptions::reports_kept

  mutable Mutex mu_;
  absl::btree_map<std::string, RuntimePtr> experiments_ ABSL_GUARDED_BY(mu_);
  absl::btree_map<std::string, ReallocationReport> final_reports_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal

Engine::Engine(const EngineOptions& options)
    : impl_(std::make_unique<internal::EngineImpl>(options.journal,
                                                   options.reports_kept)) {}

Engine::~Engine() = default;

void Engine::AttachJournal(Journal* journal) { impl_->AttachJournal(journal); }

absl::Status Engine::CreateExperiment(const ExperimentConfig& config) {
  return impl_->CreateExperiment(config);
}

absl::Status Engine::Start(absl::string_view experiment, absl::Time at) {
  return impl_->Start(experiment, at);
}

absl::Status Engine::Stop(absl::string_view experiment, absl::Time at) {
  return impl_->Stop(experiment, at);
}

absl::Status Engine::AddArm(absl::string_view experiment, const ArmConfig& arm,
                            absl::Time now) {
  return impl_->AddArm(experiment, arm, now);
}

absl::Status Engine::RetireArm(absl::string_view experiment, absl::string_view arm,
                               absl::Time now, RetireMode mode) {
  return impl_->RetireArm(experiment, arm, now, mode);
}

absl::Status Engine::Delete(absl::string_view experiment) {
  return impl_->Delete(experiment);
}

absl::StatusOr<ExperimentHandle> Engine::Handle(absl::string_view experiment) const {
  return impl_->Handle(experiment);
}

absl::StatusOr<Assignment> Engine::Assign(absl::string_view experiment,
                                          absl::string_view unit, absl::Time now,
                                          std::optional<absl::Time> unit_start) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return impl_->Assign(*runtime, unit, now, unit_start);
}

absl::Status Engine::AssignBatch(absl::string_view experiment,
                                 absl::Span<const AssignRequest> requests,
                                 absl::Span<absl::StatusOr<Assignment>> results) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return impl_->AssignBatch(*runtime, requests, results);
}

absl::StatusOr<OutcomeDisposition> Engine::RecordOutcome(absl::string_view experiment,
                                                         absl::string_view unit,
                                                         absl::Time time, double value,
                                                         absl::string_view metric) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return impl_->RecordOutcome(*runtime, unit, time, value, metric);
}

absl::StatusOr<std::vector<ReallocationReport>> Engine::Advance(absl::Time now) {
  return impl_->Advance(now);
}

absl::StatusOr<std::vector<ReallocationReport>> Engine::Reports(
    absl::string_view experiment) const {
  return impl_->Reports(experiment);
}

absl::StatusOr<AllocationHistory> Engine::History(absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return runtime->History();
}

absl::StatusOr<int64_t> Engine::OpenUnits(absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return runtime->OpenUnits();
}

absl::StatusOr<ExperimentState> Engine::State(absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, impl_->Find(experiment));
  return runtime->state();
}

absl::StatusOr<Assignment> ExperimentHandle::Assign(
    absl::string_view unit, absl::Time now, std::optional<absl::Time> unit_start) const {
  return engine_->Assign(*runtime_, unit, now, unit_start);
}

absl::Status ExperimentHandle::AssignBatch(
    absl::Span<const AssignRequest> requests,
    absl::Span<absl::StatusOr<Assignment>> results) const {
  return engine_->AssignBatch(*runtime_, requests, results);
}

absl::StatusOr<OutcomeDisposition> ExperimentHandle::RecordOutcome(
    absl::string_view unit, absl::Time time, double value,
    absl::string_view metric) const {
  return engine_->RecordOutcome(*runtime_, unit, time, value, metric);
}

absl::string_view ExperimentHandle::id() const { return runtime_->config().id; }

namespace internal {

EngineState EngineAccess::Export(const Engine& engine) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  EngineImpl& impl = *engine.impl_;
  MutexLock order(&impl.order_mu_);
  EngineState state;
  state.journal_sequence = impl.journal_sequence_;
  {
    MutexLock advance(&impl.advance_mu_);
    state.clock = impl.clock_;
  }
  ReaderMutexLock lock(&impl.mu_);
  for (const auto& [id, runtime] : impl.experiments_) {
    state.experiments.push_back(runtime->Export());
  }
  for (const auto& [id, report] : impl.final_reports_) {
    state.final_reports.push_back(report);
  }
  return state;
}

uint64_t EngineAccess::JournalSequence(const Engine& engine) {
  EngineImpl& impl = *engine.impl_;
  ReaderMutexLock order(&impl.order_mu_);
  return impl.journal_sequence_;
}

absl::StatusOr<std::unique_ptr<Engine>> EngineAccess::Import(const EngineState& state)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto engine = std::make_unique<Engine>();
  EngineImpl& impl = *engine->impl_;
  impl.clock_ = state.clock;
  impl.journal_sequence_ = state.journal_sequence;
  for (const ExperimentRuntimeState& st : state.experiments) {
    absl::StatusOr<std::unique_ptr<ExperimentRuntime>> runtime =
        ExperimentRuntime::Import(st);
    if (!runtime.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("experiment ", QuoteId(st.config.id),
                                                     ": ", runtime.status().message()));
    }
    if (!impl.experiments_.emplace(st.config.id, *std::move(runtime)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("experiment ", QuoteId(st.config.id), " appears twice"));
    }
  }
  ALLOT_RETURN_IF_ERROR(ValidateSurfaces(state));
  for (const ReallocationReport& report : state.final_reports) {
    if (impl.experiments_.contains(report.experiment) ||
        !impl.final_reports_.emplace(report.experiment, report).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "deleted experiment ", QuoteId(report.experiment), " appears twice"));
    }
  }
  return engine;
}

absl::StatusOr<absl::Time> EngineAccess::NextDue(const Engine& engine,
                                                 absl::string_view experiment) {
  ALLOT_ASSIGN_OR_RETURN(EngineImpl::RuntimePtr runtime, engine.impl_->Find(experiment));
  return runtime->NextDue();
}

absl::StatusOr<std::vector<ReallocationReport>> EngineAccess::AdvanceWith(
    Engine& engine, absl::string_view experiment, absl::Time due,
    const MaturedAtGridPoint& figures) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  EngineImpl& impl = *engine.impl_;
  ALLOT_ASSIGN_OR_RETURN(EngineImpl::RuntimePtr runtime, impl.Find(experiment));
  MutexLock advance(&impl.advance_mu_);
  if (due < impl.clock_) {
    return absl::InvalidArgumentError(
        absl::StrCat("time going backward: grid point ", FormatRfc3339(due),
                     " is before the previous advance to ", FormatRfc3339(impl.clock_)));
  }
  ALLOT_ASSIGN_OR_RETURN(std::vector<ReallocationReport> reports,
                         runtime->AdvanceWith(due, figures));
  impl.clock_ = due;
  return reports;
}

absl::Status EngineAccess::Apply(Engine& engine, const JournalRecord& r) {
  absl::Status status;
  switch (r.kind) {
    case JournalRecord::Kind::kCreate:
      status = engine.CreateExperiment(r.config);
      break;
    case JournalRecord::Kind::kStart:
      status = engine.Start(r.experiment, r.time);
      break;
    case JournalRecord::Kind::kStop:
      status = engine.Stop(r.experiment, r.time);
      break;
    case JournalRecord::Kind::kDelete:
      status = engine.Delete(r.experiment);
      break;
    case JournalRecord::Kind::kExposure:
      status = engine.Assign(r.experiment, r.unit, r.time, r.unit_start).status();
      break;
    case JournalRecord::Kind::kOutcome:
      status =
          engine.RecordOutcome(r.experiment, r.unit, r.time, r.value, r.metric).status();
      break;
    case JournalRecord::Kind::kAdvance:
      status = engine.Advance(r.time).status();
      break;
    case JournalRecord::Kind::kAddArm: {
      ArmConfig arm(r.unit);
      arm.payload = r.payload;
      if (!std::isnan(r.value)) arm.initial_share = r.value;
      status = engine.AddArm(r.experiment, arm, r.time);
      break;
    }
    case JournalRecord::Kind::kRetireArm:
      status = engine.RetireArm(r.experiment, r.unit, r.time,
                                r.value == 1 ? RetireMode::kNow : RetireMode::kDrain);
      break;
  }
  MutexLock order(&engine.impl_->order_mu_);
  engine.impl_->journal_sequence_ = r.sequence;
  return status;
}

}  // namespace internal
}  // namespace allot
