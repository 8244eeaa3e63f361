// Copyright 2026 The allot Authors.

#include "allot/engine.h"

#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "allot/journal.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "engine_access.h"
#include "experiment_runtime.h"
#include "state_codec.h"

namespace allot {
namespace {

using internal::JournalRecord;

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
  OrderLock(internal::Mutex* mu, bool exclusive) ABSL_SHARED_LOCK_FUNCTION(mu)
      ABSL_NO_THREAD_SAFETY_ANALYSIS : mu_(mu), exclusive_(exclusive) {
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
  internal::Mutex* const mu_;
  const bool exclusive_;
};

absl::Status NotFound(absl::string_view experiment) {
  return absl::NotFoundError(
      absl::StrCat("unknown experiment \"", experiment, "\""));
}

}  // namespace

Engine::Engine(const EngineOptions& options) { AttachJournal(options.journal); }

Engine::~Engine() = default;

void Engine::AttachJournal(Journal* journal) {
  internal::MutexLock lock(&order_mu_);
  journal_ = journal;
  if (journal_ != nullptr) journal_->set_next_sequence(journal_sequence_ + 1);
  journaling_.store(journal_ != nullptr, std::memory_order_release);
}

absl::Status Engine::AppendToJournal(JournalRecord& record)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (journal_ == nullptr) return absl::OkStatus();
  record.sequence = journal_sequence_ + 1;
  absl::Status s = journal_->Append(internal::EncodeJournalRecord(record));
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the call took effect but its journal record was not written: ",
        s.message()));
  }
  journal_sequence_ = record.sequence;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<internal::ExperimentRuntime>> Engine::Find(
    absl::string_view experiment) const {
  internal::ReaderMutexLock lock(&mu_);
  auto it = experiments_.find(experiment);
  if (it == experiments_.end()) return NotFound(experiment);
  return it->second;
}

absl::Status Engine::CreateExperiment(const ExperimentConfig& config) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<internal::ExperimentRuntime> runtime,
                         internal::ExperimentRuntime::Create(config));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  {
    internal::MutexLock lock(&mu_);
    if (experiments_.contains(config.id) || final_reports_.contains(config.id)) {
      return absl::AlreadyExistsError(
          absl::StrCat("experiment \"", config.id, "\" already exists"));
    }
    experiments_.emplace(config.id, std::move(runtime));
  }
  JournalRecord record = Record(JournalRecord::Kind::kCreate, config.id);
  record.config = config;
  return AppendToJournal(record);
}

absl::Status Engine::Start(absl::string_view experiment, absl::Time at) {
  // The schedule starts at `at`: an infinite start would never leave it.
  if (at == absl::InfiniteFuture() || at == absl::InfinitePast()) {
    return absl::InvalidArgumentError("start time must be finite");
  }
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  ALLOT_RETURN_IF_ERROR(runtime->Start(at));
  JournalRecord record = Record(JournalRecord::Kind::kStart, experiment, at);
  return AppendToJournal(record);
}

absl::Status Engine::Stop(absl::string_view experiment, absl::Time at) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  ALLOT_RETURN_IF_ERROR(runtime->Stop(at));
  JournalRecord record = Record(JournalRecord::Kind::kStop, experiment, at);
  return AppendToJournal(record);
}

absl::Status Engine::Delete(absl::string_view experiment) {
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  {
    internal::MutexLock lock(&mu_);
    auto it = experiments_.find(experiment);
    if (it == experiments_.end()) return NotFound(experiment);
    final_reports_.emplace(it->first, it->second->FinalReport());
    experiments_.erase(it);
  }
  JournalRecord record = Record(JournalRecord::Kind::kDelete, experiment);
  return AppendToJournal(record);
}

absl::StatusOr<Assignment> Engine::Assign(absl::string_view experiment,
                                          absl::string_view unit,
                                          absl::Time now,
                                          std::optional<absl::Time> unit_start) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  bool new_exposure = false;
  ALLOT_ASSIGN_OR_RETURN(Assignment a,
                         runtime->Assign(unit, now, unit_start, &new_exposure));
  if (new_exposure && journal_ != nullptr) {
    JournalRecord record = Record(JournalRecord::Kind::kExposure, experiment, now);
    record.unit = std::string(unit);
    record.unit_start = unit_start;
    ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
  }
  return a;
}

absl::Status Engine::AssignBatch(absl::string_view experiment,
                                 absl::Span<const AssignRequest> requests,
                                 absl::Span<absl::StatusOr<Assignment>> results) {
  if (results.size() != requests.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AssignBatch needs one result per request: ", requests.size(),
        " requests, ", results.size(), " results"));
  }
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  // The new exposures, journaled in order once the batch is served (the
  // order lock, exclusive while journaling, is held throughout).
  const bool journaling = journal_ != nullptr;
  absl::InlinedVector<size_t, 64> exposed;
  runtime->AssignBatch(requests, results, [&](size_t i) {
    if (journaling) exposed.push_back(i);
  });
  for (const size_t i : exposed) {
    JournalRecord record =
        Record(JournalRecord::Kind::kExposure, experiment, requests[i].now);
    record.unit = std::string(requests[i].unit);
    record.unit_start = requests[i].unit_start;
    if (absl::Status s = AppendToJournal(record); !s.ok()) results[i] = s;
  }
  return absl::OkStatus();
}

absl::StatusOr<OutcomeDisposition> Engine::RecordOutcome(
    absl::string_view experiment, absl::string_view unit, absl::Time time,
    double value) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  ALLOT_ASSIGN_OR_RETURN(OutcomeDisposition d,
                         runtime->RecordOutcome(unit, time, value));
  if (journal_ != nullptr) {
    JournalRecord record = Record(JournalRecord::Kind::kOutcome, experiment, time);
    record.unit = std::string(unit);
    record.value = value;
    ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
  }
  return d;
}

absl::StatusOr<std::vector<ReallocationReport>> Engine::Advance(absl::Time now) {
  // An infinite time would never leave the schedule loop: the grid time
  // saturates at infinity and stays due.
  if (now == absl::InfiniteFuture() || now == absl::InfinitePast()) {
    return absl::InvalidArgumentError("advance time must be finite");
  }
  OrderLock order(&order_mu_, journaling_.load(std::memory_order_acquire));
  internal::MutexLock advance(&advance_mu_);
  if (now < clock_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time going backward: advance to ", FormatRfc3339(now),
        " is before the previous advance to ", FormatRfc3339(clock_)));
  }
  clock_ = now;
  std::vector<std::shared_ptr<internal::ExperimentRuntime>> runtimes;
  {
    internal::ReaderMutexLock lock(&mu_);
    for (const auto& [id, runtime] : experiments_) runtimes.push_back(runtime);
  }
  std::vector<ReallocationReport> reports;
  for (const auto& runtime : runtimes) {
    std::vector<ReallocationReport> r = runtime->AdvanceTo(now);
    reports.insert(reports.end(), std::make_move_iterator(r.begin()),
                   std::make_move_iterator(r.end()));
  }
  JournalRecord record = Record(JournalRecord::Kind::kAdvance, "", now);
  ALLOT_RETURN_IF_ERROR(AppendToJournal(record));
  return reports;
}

absl::StatusOr<std::vector<ReallocationReport>> Engine::Reports(
    absl::string_view experiment) const {
  {
    internal::ReaderMutexLock lock(&mu_);
    auto it = final_reports_.find(experiment);
    if (it != final_reports_.end()) {
      return std::vector<ReallocationReport>{it->second};
    }
  }
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->Reports();
}

absl::StatusOr<AllocationHistory> Engine::History(
    absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->History();
}

absl::StatusOr<int64_t> Engine::OpenUnits(absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->OpenUnits();
}

absl::StatusOr<ExperimentState> Engine::State(
    absl::string_view experiment) const {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->state();
}

namespace internal {

EngineState EngineAccess::Export(const Engine& engine)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  MutexLock order(&engine.order_mu_);
  EngineState state;
  state.journal_sequence = engine.journal_sequence_;
  {
    MutexLock advance(&const_cast<Engine&>(engine).advance_mu_);
    state.clock = engine.clock_;
  }
  ReaderMutexLock lock(&engine.mu_);
  for (const auto& [id, runtime] : engine.experiments_) {
    state.experiments.push_back(runtime->Export());
  }
  for (const auto& [id, report] : engine.final_reports_) {
    state.final_reports.push_back(report);
  }
  return state;
}

absl::StatusOr<std::unique_ptr<Engine>> EngineAccess::Import(
    const EngineState& state) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto engine = std::make_unique<Engine>();
  engine->clock_ = state.clock;
  engine->journal_sequence_ = state.journal_sequence;
  for (const ExperimentRuntimeState& st : state.experiments) {
    absl::StatusOr<std::unique_ptr<ExperimentRuntime>> runtime =
        ExperimentRuntime::Import(st);
    if (!runtime.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "experiment \"", st.config.id, "\": ", runtime.status().message()));
    }
    if (!engine->experiments_.emplace(st.config.id, *std::move(runtime)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("experiment \"", st.config.id, "\" appears twice"));
    }
  }
  for (const ReallocationReport& report : state.final_reports) {
    if (engine->experiments_.contains(report.experiment) ||
        !engine->final_reports_.emplace(report.experiment, report).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "deleted experiment \"", report.experiment, "\" appears twice"));
    }
  }
  return engine;
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
      status = engine.RecordOutcome(r.experiment, r.unit, r.time, r.value).status();
      break;
    case JournalRecord::Kind::kAdvance:
      status = engine.Advance(r.time).status();
      break;
  }
  MutexLock order(&engine.order_mu_);
  engine.journal_sequence_ = r.sequence;
  return status;
}

}  // namespace internal
}  // namespace allot
