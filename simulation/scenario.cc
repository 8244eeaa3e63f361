// Copyright 2026 The allot Authors.

#include "allot/simulation/scenario.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "allot/weights.h"

namespace allot::sim {
namespace {

const absl::Duration kMaxHorizon = absl::Hours(kMaxHorizonDays * 24);

absl::Status ValidateTruth(absl::string_view mean_path, absl::string_view sd_path,
                           double mean, double sd, MetricKind metric, double max_weekly) {
  if (metric == MetricKind::kBinary) {
    if (!(mean >= 0 && mean <= 1)) {
      return FieldError(mean_path, absl::StrCat("must be in [0, 1], got ", mean));
    }
    if (mean * max_weekly > 1) {
      return FieldError(
          mean_path,
          absl::StrCat("times the largest seasonality.weekly factor (", max_weekly,
                       ") must be at most 1, got ", mean * max_weekly));
    }
    return absl::OkStatus();
  }
  if (!std::isfinite(mean)) {
    return FieldError(mean_path, absl::StrCat("must be finite, got ", mean));
  }
  if (!std::isfinite(sd) || !(sd > 0)) {
    return FieldError(sd_path,
                      absl::StrCat("must be a positive finite number, got ", sd));
  }
  return absl::OkStatus();
}

// An arm's truth for guardrail `g`: a rate in [0, 1], or a Normal whose
// values the engine accepts (|mean| + 9 sd: the largest draw's magnitude).
absl::Status ValidateGuardrailTruth(absl::string_view prefix,
                                    const GuardrailConfig& guard,
                                    const GuardrailTruth& truth) {
  const std::string path = absl::StrCat(prefix, ".guardrails.", guard.id);
  if (guard.kind == MetricKind::kBinary) {
    if (!(truth.mean >= 0 && truth.mean <= 1)) {
      return FieldError(path, absl::StrCat("must be a rate in [0, 1], got ", truth.mean));
    }
    return absl::OkStatus();
  }
  if (!std::isfinite(truth.mean)) {
    return FieldError(absl::StrCat(path, ".mean"),
                      absl::StrCat("must be finite, got ", truth.mean));
  }
  if (!std::isfinite(truth.sd) || !(truth.sd > 0)) {
    return FieldError(absl::StrCat(path, ".sd"),
                      absl::StrCat("must be a positive finite number, got ", truth.sd));
  }
  if (!(std::abs(truth.mean) + 9 * truth.sd <= kMaxOutcomeMagnitude)) {
    return FieldError(path,
                      absl::StrCat("|mean| + 9 sd must be at most ", kMaxOutcomeMagnitude,
                                   " (the engine's "
                                   "largest outcome), got mean ",
                                   truth.mean, ", sd ", truth.sd));
  }
  return absl::OkStatus();
}

absl::Status ValidateArms(const Scenario& s) {
  const MetricKind metric = s.experiment.metric;
  const double max_weekly = *std::max_element(s.weekly.begin(), s.weekly.end());
  const bool binary = metric == MetricKind::kBinary;
  for (size_t i = 0; i < s.arms.size(); ++i) {
    const ArmTruth& arm = s.arms[i];
    const std::string prefix = absl::StrCat("arms[", i, "]");
    ALLOT_RETURN_IF_ERROR(ValidateTruth(absl::StrCat(prefix, binary ? ".rate" : ".mean"),
                                        absl::StrCat(prefix, ".sd"), arm.mean, arm.sd,
                                        metric, max_weekly));
    const std::vector<GuardrailConfig>& guards = s.experiment.guardrails;
    if (arm.guardrails.size() != guards.size()) {
      return FieldError(absl::StrCat(prefix, ".guardrails"),
                        absl::StrCat("has ", arm.guardrails.size(), " truths for ",
                                     guards.size(), " guardrails"));
    }
    for (size_t g = 0; g < guards.size(); ++g) {
      ALLOT_RETURN_IF_ERROR(ValidateGuardrailTruth(prefix, guards[g], arm.guardrails[g]));
    }
    absl::Duration previous = absl::ZeroDuration();
    for (size_t j = 0; j < arm.changes.size(); ++j) {
      const ArmChange& change = arm.changes[j];
      const std::string change_prefix = absl::StrCat(prefix, ".changes[", j, "]");
      if (change.at <= previous || change.at >= s.horizon) {
        return FieldError(
            absl::StrCat(change_prefix, ".at"),
            absl::StrCat("must be after ", allot::FormatDuration(previous),
                         " (the start or the previous change) and before the "
                         "horizon ",
                         allot::FormatDuration(s.horizon), ", got ",
                         allot::FormatDuration(change.at)));
      }
      previous = change.at;
      ALLOT_RETURN_IF_ERROR(
          ValidateTruth(absl::StrCat(change_prefix, binary ? ".rate" : ".mean"),
                        absl::StrCat(change_prefix, ".sd"), change.mean, change.sd,
                        metric, max_weekly));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateBeta(absl::string_view path, const BetaRate& beta) {
  if (!(std::isfinite(beta.alpha) && beta.alpha > 0 && std::isfinite(beta.beta) &&
        beta.beta > 0)) {
    return FieldError(path, absl::StrCat("parameters must be positive and finite, got [",
                                         beta.alpha, ", ", beta.beta, "]"));
  }
  return absl::OkStatus();
}

// Joins, retirements, drawn rates and churn (README "Arms that come and go").
absl::Status ValidateArmChanges(const Scenario& s) {
  const bool binary = s.experiment.metric == MetricKind::kBinary;
  const double max_weekly = *std::max_element(s.weekly.begin(), s.weekly.end());
  const bool changes = HasArmChanges(s);
  if (changes && !s.experiment.guardrails.empty()) {
    return FieldError("experiment.guardrails",
                      "are not supported with arms that come and go (joins_at, "
                      "retires_at, churn) in scenarios");
  }
  absl::flat_hash_set<absl::string_view> ids;
  for (size_t i = 0; i < s.arms.size(); ++i) {
    const ArmTruth& arm = s.arms[i];
    const std::string prefix = absl::StrCat("arms[", i, "]");
    if (!ids.insert(arm.id).second) {
      return FieldError(
          absl::StrCat(prefix, ".id"),
          absl::StrCat("\"", arm.id, "\" is already the id of another arm"));
    }
    if (!arm.payload.empty()) {
      ALLOT_RETURN_IF_ERROR(
          ValidatePayload(absl::StrCat(prefix, ".config"), arm.payload));
    }
    if (s.churn.replace_probability > 0 && absl::StartsWith(arm.id, "churn-")) {
      return FieldError(absl::StrCat(prefix, ".id"),
                        absl::StrCat("must not start with \"churn-\" (the ids of churned "
                                     "arms), got \"",
                                     arm.id, "\""));
    }
    if (arm.rate_draw.has_value()) {
      if (!binary) {
        return FieldError(absl::StrCat(prefix, ".rate"),
                          "= { beta = [a, b] } is for binary metrics");
      }
      ALLOT_RETURN_IF_ERROR(
          ValidateBeta(absl::StrCat(prefix, ".rate.beta"), *arm.rate_draw));
      if (!arm.changes.empty()) {
        return FieldError(absl::StrCat(prefix, ".changes"),
                          "cannot follow a rate drawn per replicate (rate = { beta })");
      }
      if (max_weekly > 1) {
        return FieldError(
            absl::StrCat(prefix, ".rate"),
            absl::StrCat("drawn from a Beta needs seasonality.weekly factors "
                         "of at most 1, got ",
                         max_weekly));
      }
    }
    absl::Duration from = absl::ZeroDuration();
    if (arm.joins_at.has_value()) {
      from = *arm.joins_at;
      if (from <= absl::ZeroDuration() || from >= s.horizon) {
        return FieldError(absl::StrCat(prefix, ".joins_at"),
                          absl::StrCat("must be after the start and before the horizon ",
                                       allot::FormatDuration(s.horizon), ", got ",
                                       allot::FormatDuration(from)));
      }
      if (arm.initial_share.has_value() &&
          !(*arm.initial_share > 0 && *arm.initial_share < 1)) {
        return FieldError(absl::StrCat(prefix, ".initial_share"),
                          absl::StrCat("must be in (0, 1), got ", *arm.initial_share));
      }
    } else if (arm.initial_share.has_value()) {
      return FieldError(absl::StrCat(prefix, ".initial_share"),
                        "is only used by an arm that joins (joins_at); arms present at "
                        "the start take weight");
    }
    if (arm.retires_at.has_value()) {
      const absl::Duration at = *arm.retires_at;
      if (at <= from || at >= s.horizon) {
        return FieldError(
            absl::StrCat(prefix, ".retires_at"),
            absl::StrCat("must be after ", arm.joins_at ? "joins_at " : "the start ",
                         allot::FormatDuration(from), " and before the horizon ",
                         allot::FormatDuration(s.horizon), ", got ",
                         allot::FormatDuration(at)));
      }
      if (s.experiment.holdout > 0 && arm.id == s.experiment.baseline) {
        return FieldError(
            absl::StrCat(prefix, ".retires_at"),
            absl::StrCat("cannot retire \"", arm.id, "\", the holdout's baseline"));
      }
    }
  }
  // Never zero active arms: joins before retirements at the same time.
  struct Event {
    absl::Duration at;
    int delta;
  };
  std::vector<Event> events;
  int active = 0;
  for (const ArmTruth& arm : s.arms) {
    if (arm.joins_at.has_value()) {
      events.push_back({*arm.joins_at, +1});
    } else {
      ++active;
    }
    if (arm.retires_at.has_value()) events.push_back({*arm.retires_at, -1});
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.at != b.at ? a.at < b.at : a.delta > b.delta;
  });
  for (const Event& e : events) {
    active += e.delta;
    if (active < 1) {
      return FieldError("arms", absl::StrCat("would have no active arm at ",
                                             allot::FormatDuration(e.at),
                                             ": every arm is retired by then"));
    }
  }
  const ChurnConfig& churn = s.churn;
  if (!(churn.replace_probability >= 0 && churn.replace_probability <= 1)) {
    return FieldError("churn.replace_probability",
                      absl::StrCat("must be in [0, 1], got ", churn.replace_probability));
  }
  if (churn.replace_probability == 0) return absl::OkStatus();
  if (!binary) return FieldError("churn", "is for binary metrics");
  ALLOT_RETURN_IF_ERROR(ValidateBeta("churn.new_arm_rate.beta", churn.new_arm_rate));
  if (max_weekly > 1) {
    return FieldError(
        "churn.new_arm_rate",
        absl::StrCat("drawn from a Beta needs seasonality.weekly factors of "
                     "at most 1, got ",
                     max_weekly));
  }
  if (churn.initial_share.has_value() &&
      !(*churn.initial_share > 0 && *churn.initial_share < 1)) {
    return FieldError("churn.initial_share",
                      absl::StrCat("must be in (0, 1), got ", *churn.initial_share));
  }
  const double room = kMaxArms - static_cast<double>(s.arms.size());
  const double mean = ExpectedChurnChanges(s);
  const double high = mean + kChurnCapSigmas * std::sqrt(mean);
  if (high > room) {
    return FieldError(
        "churn.replace_probability",
        absl::StrCat("x expected arrivals gives ", mean, " arm changes per replicate (",
                     mean, " + ", kChurnCapSigmas, " sd = ", high, "), beyond the ", room,
                     " new arms the engine's cap of ", kMaxArms,
                     " arms leaves; lower it or shorten the horizon"));
  }
  return absl::OkStatus();
}

}  // namespace

bool HasArmChanges(const Scenario& scenario) {
  if (scenario.churn.replace_probability > 0) return true;
  for (const ArmTruth& arm : scenario.arms) {
    if (arm.joins_at.has_value() || arm.retires_at.has_value()) return true;
  }
  return false;
}

std::vector<int> EngineArmOrder(const Scenario& scenario) {
  std::vector<int> order;
  std::vector<int> joining;
  for (size_t a = 0; a < scenario.arms.size(); ++a) {
    (scenario.arms[a].joins_at.has_value() ? joining : order)
        .push_back(static_cast<int>(a));
  }
  std::stable_sort(joining.begin(), joining.end(), [&](int a, int b) {
    return *scenario.arms[a].joins_at < *scenario.arms[b].joins_at;
  });
  order.insert(order.end(), joining.begin(), joining.end());
  return order;
}

double ExpectedChurnChanges(const Scenario& scenario) {
  return scenario.churn.replace_probability * scenario.traffic.units_per_hour *
         absl::ToDoubleHours(scenario.horizon);
}

bool HasGuardrailHarm(const Scenario& scenario) {
  for (const GuardrailConfig& g : scenario.experiment.guardrails) {
    if (g.harm != HarmKind::kNone) return true;
  }
  return false;
}

std::vector<char> HarmfulArms(const Scenario& scenario) {
  const size_t k = scenario.arms.size();
  std::vector<char> harmful(k, 0);
  const std::vector<GuardrailConfig>& guards = scenario.experiment.guardrails;
  for (size_t g = 0; g < guards.size(); ++g) {
    const GuardrailConfig& guard = guards[g];
    if (guard.harm == HarmKind::kNone) continue;
    // As ExcessHarm (src/statistics/confidence_sequence.cc): s = +1 when
    // lower is better, excess = s (m_arm - lambda m_best) - offset.
    const double sign = guard.direction == Direction::kLowerIsBetter ? 1.0 : -1.0;
    size_t best = 0;
    for (size_t a = 1; a < k; ++a) {
      if (sign * scenario.arms[a].guardrails[g].mean <
          sign * scenario.arms[best].guardrails[g].mean) {
        best = a;
      }
    }
    const bool relative = guard.harm == HarmKind::kRelative;
    const double lambda = relative ? 1 + sign * guard.max_harm : 1.0;
    const double offset = relative ? 0.0 : guard.max_harm;
    const double best_mean = scenario.arms[best].guardrails[g].mean;
    for (size_t a = 0; a < k; ++a) {
      const double m = scenario.arms[a].guardrails[g].mean;
      if (sign * (m - lambda * best_mean) - offset > 0) harmful[a] = 1;
    }
  }
  return harmful;
}

absl::Status ValidateScenario(const Scenario& s) {
  if (s.name.empty()) return FieldError("name", "must not be empty");
  if (s.replicates < 1 || s.replicates > kMaxReplicates) {
    return FieldError("replicates", absl::StrCat("must be in [1, ", kMaxReplicates,
                                                 "], got ", s.replicates));
  }
  if (s.horizon <= absl::ZeroDuration() || s.horizon > kMaxHorizon) {
    return FieldError(
        "horizon",
        absl::StrCat("must be > 0 and at most ", allot::FormatDuration(kMaxHorizon),
                     ", got ", allot::FormatDuration(s.horizon)));
  }
  const TrafficConfig& t = s.traffic;
  if (!(t.units_per_hour > 0 && t.units_per_hour <= kMaxUnitsPerHour)) {
    return FieldError("traffic.units_per_hour",
                      absl::StrCat("must be > 0 and at most ", kMaxUnitsPerHour, ", got ",
                                   t.units_per_hour));
  }
  const double hours = absl::ToDoubleHours(s.horizon);
  const double per_replicate = t.units_per_hour * hours;
  if (!(per_replicate <= kMaxUnitsPerReplicate)) {
    return FieldError(
        "traffic.units_per_hour",
        absl::StrCat("x horizon must be at most ", kMaxUnitsPerReplicate,
                     " simulated units per replicate, got ", t.units_per_hour, " x ",
                     hours, " h = ", per_replicate));
  }
  if (!(t.daily_amplitude >= 0 && t.daily_amplitude <= 1)) {
    return FieldError("traffic.daily_amplitude",
                      absl::StrCat("must be in [0, 1], got ", t.daily_amplitude));
  }
  if (!(t.peak_hour >= 0 && t.peak_hour < 24)) {
    return FieldError("traffic.peak_hour",
                      absl::StrCat("must be in [0, 24), got ", t.peak_hour));
  }
  if (!(t.returning_share >= 0 && t.returning_share < 1)) {
    return FieldError("traffic.returning_share",
                      absl::StrCat("must be in [0, 1), got ", t.returning_share));
  }
  const ConversionConfig& c = s.conversion;
  if (c.delay_mean < absl::ZeroDuration() || c.delay_mean > kMaxHorizon) {
    return FieldError(
        "conversion.delay_mean",
        absl::StrCat("must be >= 0 and at most ", allot::FormatDuration(kMaxHorizon),
                     ", got ", allot::FormatDuration(c.delay_mean)));
  }
  if (c.delay == DelayKind::kLognormal) {
    if (c.delay_mean <= absl::ZeroDuration()) {
      return FieldError("conversion.delay_mean",
                        absl::StrCat("must be > 0 with delay = \"lognormal\", got ",
                                     allot::FormatDuration(c.delay_mean)));
    }
    if (!(c.delay_sigma > 0 && c.delay_sigma <= 10)) {
      return FieldError("conversion.delay_sigma",
                        c.delay_sigma == 0
                            ? std::string("is required with delay = \"lognormal\"")
                            : absl::StrCat("must be in (0, 10], got ", c.delay_sigma));
    }
  } else if (c.delay_sigma != 0) {
    return FieldError(
        "conversion.delay_sigma",
        absl::StrCat("is only used with delay = \"lognormal\", got ", c.delay_sigma));
  }
  for (int d = 0; d < 7; ++d) {
    if (!std::isfinite(s.weekly[d]) || !(s.weekly[d] >= 0)) {
      return FieldError("seasonality.weekly",
                        absl::StrCat("factors must be finite and >= 0, got ", s.weekly[d],
                                     " at index ", d));
    }
  }
  size_t at_start = 0;
  for (const ArmTruth& arm : s.arms) at_start += !arm.joins_at.has_value();
  if (at_start != s.experiment.arms.size()) {
    return FieldError("arms", absl::StrCat("has ", at_start, " true rates for ",
                                           s.experiment.arms.size(), " arms"));
  }
  if (at_start < 2 && at_start != s.arms.size()) {
    return FieldError("arms", absl::StrCat("must have at least 2 arms at the start "
                                           "(without joins_at), got ",
                                           at_start));
  }
  if (!s.experiment.composite.empty()) {
    // Its value is computed from the guardrails by the engine; the world
    // draws the primary metric itself.
    return FieldError("experiment.metric.composite",
                      "is not supported in scenarios: give the arms a primary rate "
                      "or mean");
  }
  if (absl::Status e = ValidateExperimentConfig(s.experiment); !e.ok()) {
    // Arms are top-level tables; every other field is in [experiment].
    if (absl::StartsWith(ErrorField(e), "arms")) return e;
    return RenameField(e, "", "experiment.");
  }
  ALLOT_RETURN_IF_ERROR(ValidateArms(s));
  ALLOT_RETURN_IF_ERROR(ValidateArmChanges(s));
  if (s.policies.empty()) return FieldError("policies", "must not be empty");
  absl::flat_hash_set<absl::string_view> names;
  for (size_t i = 0; i < s.policies.size(); ++i) {
    const PolicySpec& p = s.policies[i];
    const std::string prefix = absl::StrCat("policies[", i, "]");
    if (p.name.empty())
      return FieldError(absl::StrCat(prefix, ".name"), "must not be empty");
    if (!names.insert(p.name).second) {
      return FieldError(
          absl::StrCat(prefix, ".name"),
          absl::StrCat("\"", p.name, "\" is already the name of another policy"));
    }
    const absl::Status valid = RenameField(ValidateExperimentConfig(p.config), "policy.",
                                           absl::StrCat(prefix, "."));
    const absl::Status estimate =
        RenameField(valid, "estimate.", absl::StrCat(prefix, ".estimate."));
    ALLOT_RETURN_IF_ERROR(
        RenameField(estimate, "decision.", absl::StrCat(prefix, ".decision.")));
  }
  const double total =
      per_replicate * s.replicates * static_cast<double>(s.policies.size());
  if (!(total <= kMaxSimulatedUnits)) {
    return FieldError(
        "replicates",
        absl::StrCat("x policies x units per replicate must be at most ",
                     kMaxSimulatedUnits, " simulated units, got ", s.replicates, " x ",
                     s.policies.size(), " x ", per_replicate, " = ", total));
  }
  if (s.baseline < 0 || s.baseline >= static_cast<int>(s.policies.size()) ||
      s.policies[s.baseline].config.policy.kind != PolicyKind::kFixed) {
    return FieldError("policies", "must include a fixed baseline");
  }
  return absl::OkStatus();
}

}  // namespace allot::sim
