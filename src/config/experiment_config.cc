// Copyright 2026 The allot Authors.

#include "allot/experiment_config.h"

#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/weights.h"

namespace allot {
namespace {

bool IsArm(const ExperimentConfig& config, absl::string_view id) {
  for (const ArmConfig& arm : config.arms) {
    if (arm.id == id) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> ExperimentConfig::ArmIds() const {
  std::vector<std::string> ids;
  ids.reserve(arms.size());
  for (const ArmConfig& arm : arms) ids.push_back(arm.id);
  return ids;
}

std::vector<double> ExperimentConfig::InitialWeights() const {
  std::vector<double> weights;
  weights.reserve(arms.size());
  for (const ArmConfig& arm : arms) weights.push_back(arm.weight);
  return weights;
}

absl::StatusOr<int> ExperimentConfig::MetricIndex(absl::string_view metric) const {
  if (metric.empty() || metric == metric_id) {
    if (!composite.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", QuoteId(metric_id),
                       " is composite: record its components (the guardrails it names)"));
    }
    return -1;
  }
  for (size_t g = 0; g < guardrails.size(); ++g) {
    if (guardrails[g].id == metric) return static_cast<int>(g);
  }
  std::string known = QuoteId(metric_id);
  for (const GuardrailConfig& g : guardrails)
    absl::StrAppend(&known, ", ", QuoteId(g.id));
  return absl::NotFoundError(absl::StrCat("metric ", QuoteId(metric),
                                          " is not one of this experiment's: ", known));
}

absl::string_view EstimateMethodName(EstimateMethod method) {
  switch (method) {
    case EstimateMethod::kEpochAdjusted:
      return "epoch_adjusted";
    case EstimateMethod::kPeriodWeighted:
      return "period_weighted";
    case EstimateMethod::kPooled:
      return "pooled";
  }
  return "unknown";
}

absl::StatusOr<EstimateMethod> ParseEstimateMethod(absl::string_view name) {
  for (EstimateMethod method :
       {EstimateMethod::kEpochAdjusted, EstimateMethod::kPeriodWeighted,
        EstimateMethod::kPooled}) {
    if (EstimateMethodName(method) == name) return method;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "must be epoch_adjusted, period_weighted or pooled, got ", QuoteId(name)));
}

absl::string_view DecisionRuleName(DecisionRule rule) {
  switch (rule) {
    case DecisionRule::kConfidenceSequence:
      return "confidence_sequence";
    case DecisionRule::kPBest:
      return "p_best";
  }
  return "unknown";
}

absl::StatusOr<DecisionRule> ParseDecisionRule(absl::string_view name) {
  for (DecisionRule rule : {DecisionRule::kConfidenceSequence, DecisionRule::kPBest}) {
    if (DecisionRuleName(rule) == name) return rule;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("must be confidence_sequence or p_best, got ", QuoteId(name)));
}

absl::Status ValidateExperimentConfig(const ExperimentConfig& config) {
  ALLOT_RETURN_IF_ERROR(ValidateId("id", config.id, kMaxExperimentIdBytes));
  if (absl::Status s = ValidateSalt(config.EffectiveSalt()); !s.ok()) {
    return FieldError(config.salt.empty() ? "id" : "salt",
                      absl::StrCat("(used as the salt): ", s.message()));
  }
  if (config.unit.empty()) return FieldError("unit", "must not be empty");
  if (!config.surface.empty()) {
    ALLOT_RETURN_IF_ERROR(ValidateId("surface", config.surface, kMaxSurfaceBytes));
  }
  if (config.arms.size() < 2 || config.arms.size() > size_t{kMaxArms}) {
    return FieldError("arms", absl::StrCat("must list 2 to ", kMaxArms, " arms, got ",
                                           config.arms.size()));
  }
  absl::flat_hash_map<absl::string_view, size_t> seen;
  for (size_t i = 0; i < config.arms.size(); ++i) {
    const ArmConfig& arm = config.arms[i];
    const std::string field = absl::StrCat("arms[", i, "]");
    ALLOT_RETURN_IF_ERROR(ValidateId(absl::StrCat(field, ".id"), arm.id, kMaxArmIdBytes));
    if (auto [it, inserted] = seen.emplace(arm.id, i); !inserted) {
      return FieldError(
          absl::StrCat(field, ".id"),
          absl::StrCat(QuoteId(arm.id), " duplicates arms[", it->second, "].id"));
    }
    if (!std::isfinite(arm.weight) || !(arm.weight > 0)) {
      return FieldError(
          absl::StrCat(field, ".weight"),
          absl::StrCat("must be a positive finite number, got ", arm.weight));
    }
    ALLOT_RETURN_IF_ERROR(ValidatePayload(absl::StrCat(field, ".config"), arm.payload));
    if (arm.initial_share.has_value() &&
        !(std::isfinite(*arm.initial_share) && *arm.initial_share > 0 &&
          *arm.initial_share < 1)) {
      return FieldError(absl::StrCat(field, ".initial_share"),
                        absl::StrCat("must be in (0, 1), got ", *arm.initial_share));
    }
  }
  if (!(config.holdout >= 0 && config.holdout < 1)) {
    return FieldError("holdout", absl::StrCat("must be in [0, 1), got ", config.holdout));
  }
  if (config.holdout > 0 && config.baseline.empty()) {
    return FieldError("baseline", "is required when holdout > 0");
  }
  if (!config.baseline.empty() && !IsArm(config, config.baseline)) {
    return FieldError("baseline",
                      absl::StrCat("must name an arm, got ", QuoteId(config.baseline)));
  }
  if (!config.fallback.empty() && !IsArm(config, config.fallback)) {
    return FieldError("fallback",
                      absl::StrCat("must name an arm, got ", QuoteId(config.fallback)));
  }
  if (absl::Status s = ValidatePolicyOptions(config.policy); !s.ok()) {
    return RenameField(s, "", "policy.");
  }
  if (!std::isfinite(config.floor) || !(config.floor >= 0)) {
    return FieldError("policy.floor",
                      absl::StrCat("must be a finite number >= 0, got ", config.floor));
  }
  // At K f >= 1 the floor alone fills every arm's share: ShapeWeights then
  // gives uniform weights forever and the bandit silently stops learning.
  const double floor_total = config.floor * static_cast<double>(config.arms.size());
  if (!(floor_total < 1)) {
    return FieldError("policy.floor",
                      absl::StrCat(config.floor, " times ", config.arms.size(),
                                   " arms is ", floor_total, ", which must be below 1"));
  }
  if (!(config.max_shift >= 0 && config.max_shift <= 1)) {
    return FieldError("policy.max_shift",
                      absl::StrCat("must be in [0, 1], got ", config.max_shift));
  }
  for (const auto& [field, value] : {std::pair{"policy.prior_alpha", config.prior_alpha},
                                     std::pair{"policy.prior_beta", config.prior_beta}}) {
    if (!(value >= kMinPrior && value <= kMaxPrior)) {
      return FieldError(field, absl::StrCat("must be in [", kMinPrior, ", ", kMaxPrior,
                                            "], got ", value));
    }
  }
  const ScheduleConfig& s = config.schedule;
  if (s.burn_in < absl::ZeroDuration() || s.burn_in == absl::InfiniteDuration()) {
    return FieldError("schedule.burn_in",
                      absl::StrCat("must be a finite duration >= 0, got ",
                                   absl::FormatDuration(s.burn_in)));
  }
  if (s.min_units_per_arm < 0) {
    return FieldError("schedule.min_units_per_arm",
                      absl::StrCat("must be >= 0, got ", s.min_units_per_arm));
  }
  if (s.interval < kMinScheduleInterval || s.interval == absl::InfiniteDuration()) {
    return FieldError("schedule.interval",
                      absl::StrCat("must be a finite duration of at least ",
                                   absl::FormatDuration(kMinScheduleInterval), ", got ",
                                   absl::FormatDuration(s.interval)));
  }
  if (s.conversion_window < kMinConversionWindow ||
      s.conversion_window == absl::InfiniteDuration()) {
    return FieldError("schedule.conversion_window",
                      absl::StrCat("must be a finite duration of at least ",
                                   absl::FormatDuration(kMinConversionWindow), ", got ",
                                   absl::FormatDuration(s.conversion_window)));
  }
  if (s.retention.has_value() &&
      (*s.retention < absl::ZeroDuration() || *s.retention > kMaxRetention)) {
    return FieldError(
        "schedule.retention",
        absl::StrCat("must be a duration in [0s, ", absl::FormatDuration(kMaxRetention),
                     "], got ", absl::FormatDuration(*s.retention)));
  }
  const absl::Duration half_life = config.estimate.half_life;
  if (half_life < absl::ZeroDuration() || half_life == absl::InfiniteDuration()) {
    return FieldError("estimate.half_life",
                      absl::StrCat("must be a finite duration >= 0, got ",
                                   absl::FormatDuration(half_life)));
  }
  ALLOT_RETURN_IF_ERROR(ValidateId("metric.id", config.metric_id, kMaxArmIdBytes));
  if (config.guardrails.size() > size_t{kMaxGuardrails}) {
    return FieldError("guardrails", absl::StrCat("must list at most ", kMaxGuardrails,
                                                 ", got ", config.guardrails.size()));
  }
  for (size_t g = 0; g < config.guardrails.size(); ++g) {
    const GuardrailConfig& guard = config.guardrails[g];
    const std::string field = absl::StrCat("guardrails[", g, "]");
    ALLOT_RETURN_IF_ERROR(
        ValidateId(absl::StrCat(field, ".id"), guard.id, kMaxArmIdBytes));
    if (guard.id == config.metric_id) {
      return FieldError(absl::StrCat(field, ".id"),
                        absl::StrCat(QuoteId(guard.id), " is the primary metric's id"));
    }
    for (size_t h = 0; h < g; ++h) {
      if (config.guardrails[h].id == guard.id) {
        return FieldError(
            absl::StrCat(field, ".id"),
            absl::StrCat(QuoteId(guard.id), " duplicates guardrails[", h, "].id"));
      }
    }
    if (guard.harm != HarmKind::kNone &&
        (!std::isfinite(guard.max_harm) || !(guard.max_harm >= 0))) {
      return FieldError(
          absl::StrCat(field, guard.harm == HarmKind::kRelative ? ".relative_harm"
                                                                : ".absolute_harm"),
          absl::StrCat("must be a finite number >= 0, got ", guard.max_harm));
    }
  }
  if (!config.composite.empty() && config.metric != MetricKind::kContinuous) {
    return FieldError("metric.composite",
                      "needs kind = \"continuous\" (a weighted sum of metrics)");
  }
  for (const CompositeTerm& term : config.composite) {
    const std::string field = absl::StrCat("metric.composite.", term.metric);
    bool known = false;
    for (const GuardrailConfig& g : config.guardrails)
      known = known || g.id == term.metric;
    if (!known) {
      return FieldError(
          field, absl::StrCat("must name a guardrail, got ", QuoteId(term.metric)));
    }
    if (!std::isfinite(term.weight) || term.weight == 0) {
      return FieldError(
          field, absl::StrCat("must be a finite non-zero weight, got ", term.weight));
    }
  }
  const DecisionConfig& d = config.decision;
  if (!(d.alpha > 0 && d.alpha <= 0.5)) {
    return FieldError("decision.alpha",
                      absl::StrCat("must be in (0, 0.5], got ", d.alpha));
  }
  if (!std::isfinite(d.min_effect) || !(d.min_effect >= 0)) {
    return FieldError("decision.min_effect",
                      absl::StrCat("must be a finite number >= 0, got ", d.min_effect));
  }
  if (!std::isfinite(d.horizon_units) || !(d.horizon_units >= 1)) {
    return FieldError(
        "decision.horizon_units",
        absl::StrCat("must be a finite number >= 1, got ", d.horizon_units));
  }
  return absl::OkStatus();
}

absl::Duration FirstReallocationDelay(const ScheduleConfig& schedule) {
  return schedule.burn_in > absl::ZeroDuration() ? schedule.burn_in : schedule.interval;
}

}  // namespace allot
