// Copyright 2026 The allot Authors.
//
// One experiment's arms coming and going while it runs: a new arm takes its
// share from every other arm in proportion to its weight, a retired arm's
// share goes back to the others the same way, so the bucket table moves
// exactly the changed arm's share (the least any table can move). Each
// change begins an epoch of its own and is reported like a reallocation.

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"
#include "runtime/experiment_runtime.h"

namespace allot::internal {

std::vector<std::vector<Aggregate>> ArmColumns(
    const std::vector<std::vector<Aggregate>>& by_epoch, const std::vector<int>& arms,
    int empty) {
  std::vector<std::vector<Aggregate>> columns(by_epoch.size());
  for (size_t e = 0; e < by_epoch.size(); ++e) {
    columns[e].reserve(arms.size() + empty);
    for (int a : arms) columns[e].push_back(by_epoch[e][a]);
    columns[e].resize(arms.size() + empty);
  }
  return columns;
}

std::vector<int> ExperimentRuntime::ActiveArms() const {
  std::vector<int> active;
  for (size_t a = 0; a < retired_.size(); ++a) {
    if (!retired_[a]) active.push_back(static_cast<int>(a));
  }
  return active;
}

absl::Status ExperimentRuntime::CheckArmChange(absl::Time now) const {
  if (state() != ExperimentState::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment ", QuoteId(config_.id),
                     " is not running: arms change only while it runs"));
  }
  ALLOT_RETURN_IF_ERROR(CheckClock("arm change time", now));
  if (!(now > last_epoch_start_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arm change time ", FormatRfc3339(now), " must be after the start of epoch ",
        assigner_->current_epoch(), " at ", FormatRfc3339(last_epoch_start_),
        ": each arm change begins an epoch of its own"));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> ExperimentRuntime::NewArmShare(const ArmConfig& arm,
                                                      absl::Time now) const {
  if (arm.initial_share.has_value()) return *arm.initial_share;
  const std::vector<int> active = ActiveArms();
  const int n = static_cast<int>(active.size()) + 1;
  if (policy_->kind() == PolicyKind::kFixed) return 1.0 / n;
  // The policy's target with the new arm as an arm with no units: its
  // posterior is its prior.
  const ArmBeliefs beliefs =
      EstimateBeliefs(ArmColumns(aggregates_, active, 1), n, config_.estimate.method,
                      BeliefOptionsAt(now));
  if (!beliefs.p_best.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the policy's share for new arm ", QuoteId(arm.id), " cannot be computed (",
        beliefs.p_best.status().message(), "); give it an initial_share"));
  }
  const absl::Span<const double> current =
      assigner_->WeightsOf(assigner_->current_epoch());
  std::vector<double> current_n, split_n;
  for (int a : active) {
    current_n.push_back(current[a]);
    split_n.push_back(split_[a]);
  }
  current_n.push_back(0);
  split_n.push_back(0);
  PolicyInput input;
  input.arms = beliefs.posteriors;
  input.p_best = *beliefs.p_best;
  input.current_weights = current_n;
  input.initial_weights = split_n;
  input.direction = config_.direction;
  absl::StatusOr<std::vector<double>> target = policy_->Target(input);
  if (!target.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the policy's share for new arm ", QuoteId(arm.id), " cannot be computed (",
        target.status().message(), "); give it an initial_share"));
  }
  double share = target->back();
  if (policy_->shaped()) {
    // The floor and the cap on movement hold as at any reallocation: the
    // share moved is the new arm's.
    share = std::min(std::max(share, config_.floor), config_.max_shift);
    share = std::min(share, 1 - config_.floor * (n - 1));
  }
  // At least one bucket: an arm added with no traffic would learn nothing.
  return std::max(share, 1.0 / kNumBuckets);
}

void ExperimentRuntime::NoteArmAdded(const std::string& id, int64_t epoch,
                                     absl::Span<const double> weights) {
  const size_t k = arm_ids_.size();
  const double share = weights[k];
  arm_ids_.push_back(id);
  retired_.push_back(false);
  added_epoch_.push_back(epoch);
  stopped_by_.emplace_back();
  for (double& w : split_) w *= 1 - share;
  split_.push_back(share);
  for (std::vector<Aggregate>& row : aggregates_) row.resize(k + 1);
  for (auto& by_epoch : guardrail_aggregates_) {
    for (std::vector<Aggregate>& row : by_epoch) row.resize(k + 1);
  }
}

void ExperimentRuntime::NoteArmRetired(int arm, absl::Span<const double> weights) {
  retired_[arm] = true;
  split_[arm] = 0;
  const std::vector<int> active = ActiveArms();
  // As RetireArm shares out the weights (the same sums in the same order),
  // so a fixed split that equalled the weights still does.
  double rest = 0;
  for (int a : active) rest += split_[a];
  for (int a : active) split_[a] = rest > 0 ? split_[a] / rest : 1.0 / active.size();
  if (fallback_arm_.load(std::memory_order_relaxed) == arm) {
    // New units of a stopped experiment go to the arm with the most weight.
    int best = active.front();
    for (int a : active) best = weights[a] > weights[best] ? a : best;
    fallback_arm_.store(best, std::memory_order_relaxed);
  }
}

void ExperimentRuntime::ReportArmChange(absl::Time now, std::vector<double> before,
                                        std::string reason) {
  ReallocationReport report = Evaluate(now, /*reallocate=*/false, CurrentTallies());
  // Guardrail stops take effect at grid points only.
  for (size_t a = 0; a < report.arms.size(); ++a) {
    report.arms[a].stopped_by = stopped_by_[a];
  }
  report.epoch = assigner_->current_epoch();
  report.weights_before = std::move(before);
  const absl::Span<const double> after = assigner_->WeightsOf(report.epoch);
  report.weights_after.assign(after.begin(), after.end());
  report.reallocated = true;
  report.reason = std::move(reason);
  KeepReport(std::move(report));
}

absl::Status ExperimentRuntime::AddArm(const ArmConfig& arm, absl::Time now) {
  MutexLock lifecycle(&lifecycle_mu_);
  MutexLock lock(&learn_mu_);
  ALLOT_RETURN_IF_ERROR(CheckArmChange(now));
  ALLOT_RETURN_IF_ERROR(ValidateId("arm.id", arm.id, kMaxArmIdBytes));
  if (const int taken = FindArm(arm_ids_, arm.id); taken >= 0) {
    return FieldError(
        "arm.id", absl::StrCat("arm ", QuoteId(arm.id), " already ",
                               retired_[taken] ? "was in" : "is in", " experiment ",
                               QuoteId(config_.id),
                               retired_[taken] ? " and was retired: a retired id never "
                                                 "comes back, add the arm under a new id"
                                               : ""));
  }
  ALLOT_RETURN_IF_ERROR(ValidatePayload("arm.config", arm.payload));
  if (arm.initial_share.has_value() &&
      !(*arm.initial_share > 0 && *arm.initial_share < 1)) {
    return FieldError("arm.initial_share",
                      absl::StrCat("must be in (0, 1), got ", *arm.initial_share));
  }
  if (arm_ids_.size() >= static_cast<size_t>(kMaxArms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("experiment ", QuoteId(config_.id), " has had ", arm_ids_.size(),
                     " arms, the most an experiment can have (retired arms count)"));
  }
  const size_t active = ActiveArms().size() + 1;
  if (!(config_.floor * static_cast<double>(active) < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the floor ", config_.floor, " cannot hold for ", active,
                     " active arms (floor x arms must be below 1)"));
  }
  ALLOT_ASSIGN_OR_RETURN(const double share, NewArmShare(arm, now));
  const int64_t epoch = assigner_->current_epoch();
  const absl::Span<const double> current = assigner_->WeightsOf(epoch);
  std::vector<double> before(current.begin(), current.end());
  std::vector<double> weights;
  for (double w : before) weights.push_back(w * (1 - share));
  weights.push_back(share);
  ALLOT_RETURN_IF_ERROR(
      assigner_->PublishAddedArm(now, ArmInfo{arm.id, arm.payload}, weights));
  last_epoch_start_ = now;
  NoteArmAdded(arm.id, epoch + 1, assigner_->WeightsOf(epoch + 1));
  before.push_back(0);
  ReportArmChange(
      now, std::move(before),
      absl::StrCat("arm added: ", QuoteId(arm.id), " with share ", share,
                   arm.initial_share.has_value() ? " (its initial_share)"
                                                 : " (the policy's under its prior)"));
  return absl::OkStatus();
}

absl::Status ExperimentRuntime::RetireArm(absl::string_view id, absl::Time now,
                                          RetireMode mode) {
  MutexLock lifecycle(&lifecycle_mu_);
  MutexLock lock(&learn_mu_);
  ALLOT_RETURN_IF_ERROR(CheckArmChange(now));
  const int arm = FindArm(arm_ids_, id);
  if (arm < 0) {
    return absl::NotFoundError(absl::StrCat("unknown arm ", QuoteId(id),
                                            " in experiment ", QuoteId(config_.id)));
  }
  if (retired_[arm]) {
    return absl::FailedPreconditionError(
        absl::StrCat("arm ", QuoteId(id), " is already retired"));
  }
  if (config_.holdout > 0 && arm == baseline_arm_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "arm ", QuoteId(id), " is the holdout's baseline: it cannot retire"));
  }
  std::vector<int> remaining = ActiveArms();
  remaining.erase(std::find(remaining.begin(), remaining.end(), arm));
  if (remaining.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "arm ", QuoteId(id), " is the last active arm: stop the experiment"));
  }
  const int64_t epoch = assigner_->current_epoch();
  const absl::Span<const double> current = assigner_->WeightsOf(epoch);
  std::vector<double> before(current.begin(), current.end());
  // Its share goes to the others in proportion to their weights (evenly when
  // it held all the traffic).
  std::vector<double> weights(before.size(), 0.0);
  double rest = 0;
  for (int a : remaining) rest += before[a];
  for (int a : remaining)
    weights[a] = rest > 0 ? before[a] / rest : 1.0 / remaining.size();
  ALLOT_RETURN_IF_ERROR(assigner_->PublishRetiredArm(now, arm, mode, weights));
  last_epoch_start_ = now;
  NoteArmRetired(arm, assigner_->WeightsOf(epoch + 1));
  ReportArmChange(
      now, std::move(before),
      absl::StrCat("arm retired: ", QuoteId(id), " (", RetireModeName(mode), ")"));
  return absl::OkStatus();
}

}  // namespace allot::internal
