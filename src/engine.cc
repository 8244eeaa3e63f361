// Copyright 2026 The allot Authors.

#include "allot/engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "experiment_runtime.h"

namespace allot {

Engine::Engine() = default;
Engine::~Engine() = default;

absl::StatusOr<std::shared_ptr<internal::ExperimentRuntime>> Engine::Find(
    absl::string_view experiment) const {
  internal::ReaderMutexLock lock(&mu_);
  auto it = experiments_.find(experiment);
  if (it == experiments_.end()) {
    return absl::NotFoundError(
        absl::StrCat("unknown experiment \"", experiment, "\""));
  }
  return it->second;
}

absl::Status Engine::CreateExperiment(const ExperimentConfig& config) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<internal::ExperimentRuntime> runtime,
                         internal::ExperimentRuntime::Create(config));
  internal::MutexLock lock(&mu_);
  if (experiments_.contains(config.id) || final_reports_.contains(config.id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("experiment \"", config.id, "\" already exists"));
  }
  experiments_.emplace(config.id, std::move(runtime));
  return absl::OkStatus();
}

absl::Status Engine::Start(absl::string_view experiment, absl::Time at) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->Start(at);
}

absl::Status Engine::Stop(absl::string_view experiment, absl::Time at) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->Stop(at);
}

absl::Status Engine::Delete(absl::string_view experiment) {
  internal::MutexLock lock(&mu_);
  auto it = experiments_.find(experiment);
  if (it == experiments_.end()) {
    return absl::NotFoundError(
        absl::StrCat("unknown experiment \"", experiment, "\""));
  }
  final_reports_.emplace(it->first, it->second->FinalReport());
  experiments_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<Assignment> Engine::Assign(absl::string_view experiment,
                                          absl::string_view unit,
                                          absl::Time now,
                                          std::optional<absl::Time> unit_start) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->Assign(unit, now, unit_start);
}

absl::StatusOr<OutcomeDisposition> Engine::RecordOutcome(
    absl::string_view experiment, absl::string_view unit, absl::Time time,
    double value) {
  ALLOT_ASSIGN_OR_RETURN(auto runtime, Find(experiment));
  return runtime->RecordOutcome(unit, time, value);
}

absl::StatusOr<std::vector<ReallocationReport>> Engine::Advance(absl::Time now) {
  internal::MutexLock advance(&advance_mu_);
  if (now < clock_) {
    return absl::InvalidArgumentError(
        absl::StrCat("time going backward: advance to ", FormatRfc3339(now),
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

}  // namespace allot
