// Copyright 2026 The allot Authors.

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "allot/simulation/scenario.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "config/experiment_toml.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace allot::sim {
namespace {

using internal::FieldLines;
using internal::ReadBool;
using internal::ReadDuration;
using internal::ReadInteger;
using internal::ReadNumber;
using internal::ReadString;
using internal::ReadTable;

absl::string_view Key(const toml::key& key) {
  return absl::string_view(key.str().data(), key.str().size());
}

absl::Status Unknown(const toml::node& node, absl::string_view path,
                     const FieldLines& lines) {
  return lines.Error(node, path, "is not a known field");
}

// Puts "experiment." before the field of an already located message
// "SOURCE:LINE: FIELD ..." from the shared experiment-table reader, whose
// paths are relative to the table it reads.
absl::Status InExperiment(const absl::Status& status, absl::string_view source) {
  if (status.ok()) return status;
  absl::string_view message = status.message();
  if (!absl::StartsWith(message, source)) return status;
  const size_t field = message.find(": ", source.size());
  if (field == absl::string_view::npos) return status;
  return absl::Status(status.code(),
                      absl::StrCat(message.substr(0, field + 2), "experiment.",
                                   message.substr(field + 2)));
}

// Records the line of every field of the [experiment] tables under its full
// path, so validation messages naming "experiment.X" can be located.
void SetExperimentLines(const toml::table& table, FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat("experiment.", Key(key));
    lines.Set(path, node);
    if (const toml::table* sub = node.as_table()) {
      for (auto&& [sub_key, sub_node] : *sub) {
        lines.Set(absl::StrCat(path, ".", Key(sub_key)), sub_node);
      }
    }
    // [[experiment.guardrails]]: "experiment.guardrails[0].relative_harm".
    if (const toml::array* entries = node.as_array()) {
      for (size_t i = 0; i < entries->size(); ++i) {
        const std::string entry = absl::StrCat(path, "[", i, "]");
        lines.Set(entry, *entries->get(i));
        if (const toml::table* sub = entries->get(i)->as_table()) {
          for (auto&& [sub_key, sub_node] : *sub) {
            lines.Set(absl::StrCat(entry, ".", Key(sub_key)), sub_node);
          }
        }
      }
    }
  }
  if (!table.contains("baseline")) {
    if (const toml::node* holdout = table.get("holdout")) {
      lines.Set("experiment.baseline", *holdout);
    }
  }
}

absl::Status ReadTraffic(const toml::node& node, TrafficConfig& traffic,
                         FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, "traffic", lines));
  bool has_rate = false;
  for (auto&& [key, value] : *table) {
    const std::string path = absl::StrCat("traffic.", Key(key));
    lines.Set(path, value);
    if (key == "units_per_hour") {
      ALLOT_ASSIGN_OR_RETURN(traffic.units_per_hour, ReadNumber(value, path, lines));
      has_rate = true;
    } else if (key == "daily_amplitude") {
      ALLOT_ASSIGN_OR_RETURN(traffic.daily_amplitude, ReadNumber(value, path, lines));
    } else if (key == "peak_hour") {
      ALLOT_ASSIGN_OR_RETURN(traffic.peak_hour, ReadNumber(value, path, lines));
    } else if (key == "returning_share") {
      ALLOT_ASSIGN_OR_RETURN(traffic.returning_share, ReadNumber(value, path, lines));
    } else if (key == "pin_unit_start") {
      ALLOT_ASSIGN_OR_RETURN(traffic.pin_unit_start, ReadBool(value, path, lines));
    } else {
      return Unknown(value, path, lines);
    }
  }
  if (!has_rate) return lines.Error(node, "traffic.units_per_hour", "is required");
  return absl::OkStatus();
}

absl::Status ReadConversion(const toml::node& node, ConversionConfig& conversion,
                            FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, "conversion", lines));
  for (auto&& [key, value] : *table) {
    const std::string path = absl::StrCat("conversion.", Key(key));
    lines.Set(path, value);
    if (key == "delay") {
      ALLOT_ASSIGN_OR_RETURN(std::string kind, ReadString(value, path, lines));
      if (kind == "exponential") {
        conversion.delay = DelayKind::kExponential;
      } else if (kind == "lognormal") {
        conversion.delay = DelayKind::kLognormal;
      } else {
        return lines.Error(
            value, path,
            absl::StrCat("must be \"exponential\" or \"lognormal\", got \"", kind, "\""));
      }
    } else if (key == "delay_mean") {
      ALLOT_ASSIGN_OR_RETURN(conversion.delay_mean, ReadDuration(value, path, lines));
    } else if (key == "delay_sigma") {
      ALLOT_ASSIGN_OR_RETURN(conversion.delay_sigma, ReadNumber(value, path, lines));
    } else {
      return Unknown(value, path, lines);
    }
  }
  // A missing sigma is reported at the delay kind that needs it.
  if (!table->contains("delay_sigma")) {
    lines.Set("conversion.delay_sigma",
              table->contains("delay") ? *table->get("delay") : node);
  }
  return absl::OkStatus();
}

absl::Status ReadSeasonality(const toml::node& node, Scenario& scenario,
                             FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, "seasonality", lines));
  for (auto&& [key, value] : *table) {
    const std::string path = absl::StrCat("seasonality.", Key(key));
    lines.Set(path, value);
    if (key != "weekly") return Unknown(value, path, lines);
    const toml::array* weekly = value.as_array();
    if (weekly == nullptr || weekly->size() != 7) {
      return lines.Error(value, path,
                         absl::StrCat("must list 7 factors, Monday first, got ",
                                      weekly == nullptr ? std::string("a non-array")
                                                        : absl::StrCat(weekly->size())));
    }
    for (size_t d = 0; d < 7; ++d) {
      ALLOT_ASSIGN_OR_RETURN(scenario.weekly[d],
                             ReadNumber(*weekly->get(d), path, lines));
    }
  }
  return absl::OkStatus();
}

// Reads `rate` (binary) or `mean` and `sd` (continuous) from an arm or a
// change; `has_*` say which were present.
struct MeanFields {
  bool has_mean = false;
  bool has_sd = false;
};

absl::Status ReadMeanField(const toml::node& value, absl::string_view key,
                           absl::string_view path, MetricKind metric, double& mean,
                           double& sd, MeanFields& seen, const FieldLines& lines) {
  if (key == "rate") {
    if (metric != MetricKind::kBinary) {
      return lines.Error(value, path,
                         "is for binary metrics; continuous arms take mean and sd");
    }
    ALLOT_ASSIGN_OR_RETURN(mean, ReadNumber(value, path, lines));
    seen.has_mean = true;
    return absl::OkStatus();
  }
  if (metric != MetricKind::kContinuous) {
    return lines.Error(value, path,
                       "is for continuous metrics ([experiment.metric] kind = "
                       "\"continuous\"); binary arms take rate");
  }
  if (key == "mean") {
    ALLOT_ASSIGN_OR_RETURN(mean, ReadNumber(value, path, lines));
    seen.has_mean = true;
  } else {
    ALLOT_ASSIGN_OR_RETURN(sd, ReadNumber(value, path, lines));
    seen.has_sd = true;
  }
  return absl::OkStatus();
}

bool IsMeanKey(absl::string_view key) {
  return key == "rate" || key == "mean" || key == "sd";
}

absl::Status ReadChanges(const toml::node& node, absl::string_view prefix,
                         MetricKind metric, ArmTruth& arm, FieldLines& lines) {
  const toml::array* changes = node.as_array();
  if (changes == nullptr) {
    return lines.Error(node, prefix,
                       "must be an array of tables like [{ at = \"7d\", rate = 0.08 }]");
  }
  double mean = arm.mean;
  double sd = arm.sd;
  for (size_t j = 0; j < changes->size(); ++j) {
    const std::string change_prefix = absl::StrCat(prefix, "[", j, "]");
    const toml::node& change_node = *changes->get(j);
    ALLOT_ASSIGN_OR_RETURN(const toml::table* change,
                           ReadTable(change_node, change_prefix, lines));
    lines.Set(change_prefix, change_node);
    ArmChange parsed;
    bool has_at = false;
    MeanFields seen;
    for (auto&& [key, value] : *change) {
      const std::string path = absl::StrCat(change_prefix, ".", Key(key));
      lines.Set(path, value);
      if (key == "at") {
        ALLOT_ASSIGN_OR_RETURN(parsed.at, ReadDuration(value, path, lines));
        has_at = true;
      } else if (IsMeanKey(Key(key))) {
        ALLOT_RETURN_IF_ERROR(
            ReadMeanField(value, Key(key), path, metric, mean, sd, seen, lines));
      } else {
        return Unknown(value, path, lines);
      }
    }
    if (!has_at) {
      return lines.Error(change_node, absl::StrCat(change_prefix, ".at"), "is required");
    }
    if (!seen.has_mean && !seen.has_sd) {
      return lines.Error(
          change_node,
          absl::StrCat(change_prefix, metric == MetricKind::kBinary ? ".rate" : ".mean"),
          "is required");
    }
    parsed.mean = mean;
    parsed.sd = sd;
    arm.changes.push_back(parsed);
  }
  return absl::OkStatus();
}

// Names the guardrails of the experiment, for messages: "errors, latency_ms".
std::string GuardrailIds(const ExperimentConfig& experiment) {
  std::string ids;
  for (const GuardrailConfig& g : experiment.guardrails) {
    absl::StrAppend(&ids, ids.empty() ? "" : ", ", g.id);
  }
  return ids.empty() ? std::string("none") : ids;
}

// Reads an arm's `guardrails = { errors = 0.02, latency_ms = { mean = 800,
// sd = 200 } }`: a rate for each binary guardrail, a Normal for each
// continuous one. Every guardrail needs a truth on every arm: a left-out
// one would have to default to a rate of 0, which makes that arm the
// best-guarded one and silently changes which arms are harmful.
absl::Status ReadArmGuardrails(const toml::node& node, const toml::node& arm_node,
                               absl::string_view prefix,
                               const ExperimentConfig& experiment, ArmTruth& arm,
                               FieldLines& lines) {
  const std::string path = absl::StrCat(prefix, ".guardrails");
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, path, lines));
  const size_t count = experiment.guardrails.size();
  arm.guardrails.assign(count, GuardrailTruth{});
  std::vector<char> seen(count, 0);
  for (auto&& [key, value] : *table) {
    const std::string field = absl::StrCat(path, ".", Key(key));
    lines.Set(field, value);
    size_t g = 0;
    while (g < count && experiment.guardrails[g].id != Key(key)) ++g;
    if (g == count) {
      return lines.Error(value, field,
                         absl::StrCat("is not a guardrail of [[experiment.guardrails]] "
                                      "(they are: ",
                                      GuardrailIds(experiment), ")"));
    }
    seen[g] = 1;
    GuardrailTruth& truth = arm.guardrails[g];
    if (experiment.guardrails[g].kind == MetricKind::kBinary) {
      if (!value.is_number()) {
        return lines.Error(value, field,
                           "must be a number, the rate of a binary guardrail");
      }
      ALLOT_ASSIGN_OR_RETURN(truth.mean, ReadNumber(value, field, lines));
      continue;
    }
    const toml::table* normal = value.as_table();
    if (normal == nullptr) {
      return lines.Error(value, field,
                         "must be a table { mean = ..., sd = ... } for a continuous "
                         "guardrail");
    }
    bool has_mean = false;
    bool has_sd = false;
    for (auto&& [sub_key, sub_value] : *normal) {
      const std::string sub = absl::StrCat(field, ".", Key(sub_key));
      lines.Set(sub, sub_value);
      if (sub_key == "mean") {
        ALLOT_ASSIGN_OR_RETURN(truth.mean, ReadNumber(sub_value, sub, lines));
        has_mean = true;
      } else if (sub_key == "sd") {
        ALLOT_ASSIGN_OR_RETURN(truth.sd, ReadNumber(sub_value, sub, lines));
        has_sd = true;
      } else {
        return Unknown(sub_value, sub, lines);
      }
    }
    if (!has_mean) return lines.Error(value, absl::StrCat(field, ".mean"), "is required");
    if (!has_sd) return lines.Error(value, absl::StrCat(field, ".sd"), "is required");
  }
  for (size_t g = 0; g < count; ++g) {
    if (!seen[g]) {
      return lines.Error(arm_node, absl::StrCat(path, ".", experiment.guardrails[g].id),
                         "is required: every arm gives a truth for every guardrail");
    }
  }
  return absl::OkStatus();
}

void WriteJson(const toml::node& node, rapidjson::Writer<rapidjson::StringBuffer>& w) {
  if (const toml::table* table = node.as_table()) {
    w.StartObject();
    for (auto&& [key, value] : *table) {
      w.Key(key.str().data(), static_cast<rapidjson::SizeType>(key.str().size()));
      WriteJson(value, w);
    }
    w.EndObject();
  } else if (const toml::array* array = node.as_array()) {
    w.StartArray();
    for (const toml::node& value : *array) WriteJson(value, w);
    w.EndArray();
  } else if (const auto* text = node.as_string()) {
    const std::string& s = text->get();
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else if (const auto* integer = node.as_integer()) {
    w.Int64(integer->get());
  } else if (const auto* number = node.as_floating_point()) {
    if (std::isfinite(number->get())) {
      w.Double(number->get());
    } else {
      w.Null();
    }
  } else if (const auto* boolean = node.as_boolean()) {
    w.Bool(boolean->get());
  } else {
    // Dates and times: their TOML text.
    std::ostringstream out;
    node.visit([&](auto&& v) { out << v; });
    const std::string s = out.str();
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
}

// An arm's `config` table as compact JSON text (its payload).
std::string TomlToJson(const toml::table& table) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  WriteJson(table, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Reads `{ beta = [a, b] }` at `path` (a rate drawn per replicate).
absl::StatusOr<BetaRate> ReadBetaRate(const toml::node& node, absl::string_view path,
                                      FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, path, lines));
  const std::string beta_path = absl::StrCat(path, ".beta");
  const toml::node* beta = table->get("beta");
  for (auto&& [key, value] : *table) {
    if (key != "beta") return Unknown(value, absl::StrCat(path, ".", Key(key)), lines);
  }
  if (beta == nullptr) return lines.Error(node, beta_path, "is required");
  lines.Set(beta_path, *beta);
  const toml::array* pair = beta->as_array();
  if (pair == nullptr || pair->size() != 2) {
    return lines.Error(*beta, beta_path, "must be a pair of numbers [a, b]");
  }
  BetaRate rate;
  ALLOT_ASSIGN_OR_RETURN(rate.alpha, ReadNumber(*pair->get(0), beta_path, lines));
  ALLOT_ASSIGN_OR_RETURN(rate.beta, ReadNumber(*pair->get(1), beta_path, lines));
  return rate;
}

absl::StatusOr<RetireMode> ReadRetireMode(const toml::node& node, absl::string_view path,
                                          FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(std::string mode, ReadString(node, path, lines));
  if (mode == "drain") return RetireMode::kDrain;
  if (mode == "now") return RetireMode::kNow;
  return lines.Error(node, path,
                     absl::StrCat("must be \"drain\" or \"now\", got \"", mode, "\""));
}

// Reads [churn]: replace_probability, retire, new_arm_rate, initial_share.
absl::Status ReadChurn(const toml::node& node, ChurnConfig& churn, FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(node, "churn", lines));
  bool has_rate = false;
  for (auto&& [key, value] : *table) {
    const std::string path = absl::StrCat("churn.", Key(key));
    lines.Set(path, value);
    if (key == "replace_probability") {
      ALLOT_ASSIGN_OR_RETURN(churn.replace_probability, ReadNumber(value, path, lines));
    } else if (key == "retire") {
      ALLOT_ASSIGN_OR_RETURN(churn.retire, ReadRetireMode(value, path, lines));
    } else if (key == "new_arm_rate") {
      ALLOT_ASSIGN_OR_RETURN(churn.new_arm_rate, ReadBetaRate(value, path, lines));
      has_rate = true;
    } else if (key == "initial_share") {
      ALLOT_ASSIGN_OR_RETURN(churn.initial_share, ReadNumber(value, path, lines));
    } else {
      return Unknown(value, path, lines);
    }
  }
  if (!table->contains("replace_probability")) {
    return lines.Error(node, "churn.replace_probability", "is required");
  }
  if (!has_rate && churn.replace_probability > 0) {
    return lines.Error(node, "churn.new_arm_rate", "is required");
  }
  return absl::OkStatus();
}

absl::Status ReadArms(const toml::node& node, const ExperimentConfig& experiment,
                      Scenario& scenario, FieldLines& lines) {
  const MetricKind metric = experiment.metric;
  const toml::array* arms = node.as_array();
  if (arms == nullptr) {
    return lines.Error(node, "arms", "must be an array of tables ([[arms]])");
  }
  for (size_t i = 0; i < arms->size(); ++i) {
    const std::string prefix = absl::StrCat("arms[", i, "]");
    const toml::node& arm_node = *arms->get(i);
    ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(arm_node, prefix, lines));
    lines.Set(prefix, arm_node);
    ArmTruth arm;
    bool has_id = false;
    MeanFields seen;
    const toml::node* changes = nullptr;
    const toml::node* guardrails = nullptr;
    for (auto&& [key, value] : *table) {
      const std::string path = absl::StrCat(prefix, ".", Key(key));
      lines.Set(path, value);
      if (key == "id") {
        ALLOT_ASSIGN_OR_RETURN(arm.id, ReadString(value, path, lines));
        has_id = true;
      } else if (key == "weight") {
        ALLOT_ASSIGN_OR_RETURN(arm.weight, ReadNumber(value, path, lines));
      } else if (key == "rate" && value.is_table() && metric == MetricKind::kBinary) {
        ALLOT_ASSIGN_OR_RETURN(arm.rate_draw, ReadBetaRate(value, path, lines));
        seen.has_mean = true;
      } else if (key == "joins_at") {
        ALLOT_ASSIGN_OR_RETURN(arm.joins_at, ReadDuration(value, path, lines));
      } else if (key == "retires_at") {
        ALLOT_ASSIGN_OR_RETURN(arm.retires_at, ReadDuration(value, path, lines));
      } else if (key == "retire") {
        ALLOT_ASSIGN_OR_RETURN(arm.retire, ReadRetireMode(value, path, lines));
      } else if (key == "initial_share") {
        ALLOT_ASSIGN_OR_RETURN(arm.initial_share, ReadNumber(value, path, lines));
      } else if (key == "config") {
        // The payload, as JSON text for the engine (it validates it).
        ALLOT_ASSIGN_OR_RETURN(const toml::table* config, ReadTable(value, path, lines));
        arm.payload = TomlToJson(*config);
      } else if (IsMeanKey(Key(key))) {
        ALLOT_RETURN_IF_ERROR(
            ReadMeanField(value, Key(key), path, metric, arm.mean, arm.sd, seen, lines));
      } else if (key == "changes") {
        changes = &value;  // read after the arm's own mean, which it starts from
      } else if (key == "guardrails") {
        guardrails = &value;
      } else {
        return Unknown(value, path, lines);
      }
    }
    if (!has_id) return lines.Error(arm_node, absl::StrCat(prefix, ".id"), "is required");
    if (table->contains("retire") && !arm.retires_at.has_value()) {
      return lines.Error(*table->get("retire"), absl::StrCat(prefix, ".retire"),
                         "is only used with retires_at");
    }
    if (table->contains("weight") && arm.joins_at.has_value()) {
      return lines.Error(*table->get("weight"), absl::StrCat(prefix, ".weight"),
                         "is not used by an arm that joins (joins_at): give "
                         "initial_share, or leave the share to the policy");
    }
    if (!seen.has_mean) {
      return lines.Error(
          arm_node,
          absl::StrCat(prefix, metric == MetricKind::kBinary ? ".rate" : ".mean"),
          "is required");
    }
    if (metric == MetricKind::kContinuous && !seen.has_sd) {
      return lines.Error(arm_node, absl::StrCat(prefix, ".sd"), "is required");
    }
    if (changes != nullptr) {
      ALLOT_RETURN_IF_ERROR(
          ReadChanges(*changes, absl::StrCat(prefix, ".changes"), metric, arm, lines));
    }
    if (guardrails != nullptr) {
      ALLOT_RETURN_IF_ERROR(
          ReadArmGuardrails(*guardrails, arm_node, prefix, experiment, arm, lines));
    } else if (!experiment.guardrails.empty()) {
      return lines.Error(
          arm_node, absl::StrCat(prefix, ".guardrails"),
          absl::StrCat("is required: every arm gives a truth for every guardrail (",
                       GuardrailIds(experiment), ")"));
    }
    scenario.arms.push_back(std::move(arm));
  }
  return absl::OkStatus();
}

absl::Status ReadPolicies(const toml::node& node, Scenario& scenario, FieldLines& lines) {
  const toml::array* policies = node.as_array();
  if (policies == nullptr || policies->empty()) {
    return lines.Error(node, "policies",
                       "must be a non-empty array of tables ([[policies]])");
  }
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < policies->size(); ++i) {
    const std::string prefix = absl::StrCat("policies[", i, "]");
    const toml::node& policy_node = *policies->get(i);
    ALLOT_ASSIGN_OR_RETURN(const toml::table* table,
                           ReadTable(policy_node, prefix, lines));
    lines.Set(prefix, policy_node);
    PolicySpec spec;
    spec.config = scenario.experiment;
    const toml::node* name = table->get("name");
    if (name == nullptr) {
      return lines.Error(policy_node, absl::StrCat(prefix, ".name"), "is required");
    }
    const std::string name_path = absl::StrCat(prefix, ".name");
    lines.Set(name_path, *name);
    ALLOT_ASSIGN_OR_RETURN(spec.name, ReadString(*name, name_path, lines));
    if (!spec.name.empty() && !names.insert(spec.name).second) {
      return lines.Error(
          *name, name_path,
          absl::StrCat("\"", spec.name, "\" is already the name of another policy"));
    }
    // A policy may estimate on its own ([estimate] of the experiment, for
    // this policy only: `estimate = { method = "pooled", half_life = "6h" }`),
    // so estimators compare side by side. `half_life` alone is kept as a
    // shorthand for `estimate = { half_life = ... }`.
    if (const toml::node* half_life = table->get("half_life")) {
      const std::string path = absl::StrCat(prefix, ".half_life");
      lines.Set(path, *half_life);
      lines.Set(absl::StrCat(prefix, ".estimate.half_life"), *half_life);
      ALLOT_ASSIGN_OR_RETURN(spec.config.estimate.half_life,
                             ReadDuration(*half_life, path, lines));
    }
    if (const toml::node* estimate = table->get("estimate")) {
      const std::string path = absl::StrCat(prefix, ".estimate");
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(*estimate, path, lines));
      if (table->contains("half_life") && t->contains("half_life")) {
        return lines.Error(*estimate, path,
                           "and half_life both set a half-life; keep one");
      }
      ALLOT_RETURN_IF_ERROR(internal::ReadEstimateTable(*t, path, spec.config, lines));
    }
    // And decide by its own rule (`decision = { rule = "p_best" }`).
    if (const toml::node* decision = table->get("decision")) {
      const std::string path = absl::StrCat(prefix, ".decision");
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(*decision, path, lines));
      ALLOT_RETURN_IF_ERROR(internal::ReadDecisionTable(*t, path, spec.config, lines));
    }
    ALLOT_RETURN_IF_ERROR(internal::ReadPolicyTable(
        *table, prefix, {"name", "half_life", "estimate", "decision"}, spec.config,
        lines));
    scenario.policies.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

// Makes the first policy of kind fixed the baseline, or adds one last (so
// the file's policies keep their indices in messages).
void AddBaseline(Scenario& scenario) {
  for (size_t i = 0; i < scenario.policies.size(); ++i) {
    if (scenario.policies[i].config.policy.kind == PolicyKind::kFixed) {
      scenario.baseline = static_cast<int>(i);
      return;
    }
  }
  PolicySpec fixed;
  fixed.name = "fixed";
  for (const PolicySpec& p : scenario.policies) {
    if (p.name == fixed.name) fixed.name = "fixed-split";
  }
  fixed.config = scenario.experiment;
  fixed.config.policy.kind = PolicyKind::kFixed;
  scenario.policies.push_back(std::move(fixed));
  scenario.baseline = static_cast<int>(scenario.policies.size()) - 1;
}

}  // namespace

absl::StatusOr<Scenario> ParseScenarioToml(absl::string_view text,
                                           absl::string_view source) {
  ALLOT_ASSIGN_OR_RETURN(toml::table table, internal::ParseToml(text, source));
  FieldLines lines{std::string(source)};
  Scenario scenario;
  scenario.source = std::string(source);
  auto top_error = [&](absl::string_view field, absl::string_view what) {
    // An absent field has no line of its own; point at the top.
    return absl::InvalidArgumentError(absl::StrCat(source, ":1: ", field, " ", what));
  };
  static constexpr absl::string_view kKnown[] = {
      "name",        "seed",       "replicates", "horizon",  "traffic", "conversion",
      "seasonality", "experiment", "arms",       "policies", "churn"};
  for (auto&& [key, node] : table) {
    lines.Set(Key(key), node);
    if (std::find(std::begin(kKnown), std::end(kKnown), Key(key)) == std::end(kKnown)) {
      return Unknown(node, Key(key), lines);
    }
  }
  // Fixed order: the metric kind in [experiment] decides how arms read.
  if (const toml::node* n = table.get("name")) {
    ALLOT_ASSIGN_OR_RETURN(scenario.name, ReadString(*n, "name", lines));
  } else {
    return top_error("name", "is required");
  }
  if (const toml::node* n = table.get("seed")) {
    ALLOT_ASSIGN_OR_RETURN(int64_t seed, ReadInteger(*n, "seed", lines));
    if (seed < 0)
      return lines.Error(*n, "seed", absl::StrCat("must be >= 0, got ", seed));
    scenario.seed = static_cast<uint64_t>(seed);
  } else {
    return top_error("seed", "is required");
  }
  if (const toml::node* n = table.get("replicates")) {
    ALLOT_ASSIGN_OR_RETURN(int64_t replicates, ReadInteger(*n, "replicates", lines));
    scenario.replicates = static_cast<int>(
        std::clamp<int64_t>(replicates, -1, int64_t{kMaxReplicates} + 1));
  }
  if (const toml::node* n = table.get("horizon")) {
    ALLOT_ASSIGN_OR_RETURN(scenario.horizon, ReadDuration(*n, "horizon", lines));
  } else {
    return top_error("horizon", "is required");
  }
  if (const toml::node* n = table.get("traffic")) {
    ALLOT_RETURN_IF_ERROR(ReadTraffic(*n, scenario.traffic, lines));
  } else {
    return top_error("traffic.units_per_hour", "is required");
  }
  if (const toml::node* n = table.get("conversion")) {
    ALLOT_RETURN_IF_ERROR(ReadConversion(*n, scenario.conversion, lines));
  }
  if (const toml::node* n = table.get("seasonality")) {
    ALLOT_RETURN_IF_ERROR(ReadSeasonality(*n, scenario, lines));
  }
  scenario.experiment.id = scenario.name;
  if (const toml::node* n = table.get("experiment")) {
    ALLOT_ASSIGN_OR_RETURN(const toml::table* experiment,
                           ReadTable(*n, "experiment", lines));
    ALLOT_RETURN_IF_ERROR(InExperiment(
        internal::ReadExperimentTable(*experiment, internal::ArmsTable::kIgnore, {},
                                      scenario.experiment, lines),
        source));
    SetExperimentLines(*experiment, lines);
  }
  if (const toml::node* n = table.get("arms")) {
    ALLOT_RETURN_IF_ERROR(ReadArms(*n, scenario.experiment, scenario, lines));
  } else {
    return top_error("arms", "is required ([[arms]] tables)");
  }
  if (const toml::node* n = table.get("churn")) {
    ALLOT_RETURN_IF_ERROR(ReadChurn(*n, scenario.churn, lines));
  }
  for (const ArmTruth& arm : scenario.arms) {
    if (arm.joins_at.has_value()) continue;  // added while running
    ArmConfig config(arm.id, arm.weight);
    config.payload = arm.payload;
    scenario.experiment.arms.push_back(std::move(config));
  }
  if (const toml::node* n = table.get("policies")) {
    ALLOT_RETURN_IF_ERROR(ReadPolicies(*n, scenario, lines));
  } else {
    return top_error("policies", "is required ([[policies]] tables)");
  }
  AddBaseline(scenario);
  // Policies inherit the experiment's arms, already validated through it.
  ALLOT_RETURN_IF_ERROR(lines.Locate(ValidateScenario(scenario)));
  return scenario;
}

absl::StatusOr<Scenario> LoadScenarioFile(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{16} << 20));
  return ParseScenarioToml(text, path);
}

}  // namespace allot::sim
