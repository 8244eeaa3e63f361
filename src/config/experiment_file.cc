// Copyright 2026 The allot Authors.

#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "config/experiment_toml.h"

namespace allot {
namespace internal {
namespace {

absl::string_view Key(const toml::key& key) {
  return absl::string_view(key.str().data(), key.str().size());
}

bool IsOtherKey(absl::Span<const absl::string_view> other_keys, absl::string_view key) {
  return absl::c_linear_search(other_keys, key);
}

absl::Status UnknownField(const toml::node& node, absl::string_view path,
                          const FieldLines& lines) {
  return lines.Error(node, path, "is not a known field");
}

absl::StatusOr<MetricKind> ReadMetricKind(const toml::node& node, absl::string_view path,
                                          const FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(std::string kind, ReadString(node, path, lines));
  if (kind == "binary") return MetricKind::kBinary;
  if (kind == "continuous") return MetricKind::kContinuous;
  return lines.Error(
      node, path,
      absl::StrCat("must be \"binary\" or \"continuous\", got \"", kind, "\""));
}

absl::StatusOr<Direction> ReadDirection(const toml::node& node, absl::string_view path,
                                        const FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(std::string dir, ReadString(node, path, lines));
  if (dir == "higher") return Direction::kHigherIsBetter;
  if (dir == "lower") return Direction::kLowerIsBetter;
  return lines.Error(node, path,
                     absl::StrCat("must be \"higher\" or \"lower\", got \"", dir, "\""));
}

absl::Status ReadGuardrails(const toml::node& node, ExperimentConfig& config,
                            FieldLines& lines) {
  const toml::array* list = node.as_array();
  if (list == nullptr)
    return lines.Error(node, "guardrails", "must be an array of tables");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string prefix = absl::StrCat("guardrails[", i, "]");
    const toml::node& entry = *list->get(i);
    ALLOT_ASSIGN_OR_RETURN(const toml::table* table, ReadTable(entry, prefix, lines));
    lines.Set(prefix, entry);
    GuardrailConfig guard;
    bool has_id = false;
    for (auto&& [key, value] : *table) {
      const std::string path = absl::StrCat(prefix, ".", Key(key));
      lines.Set(path, value);
      if (key == "id") {
        ALLOT_ASSIGN_OR_RETURN(guard.id, ReadString(value, path, lines));
        has_id = true;
      } else if (key == "kind") {
        ALLOT_ASSIGN_OR_RETURN(guard.kind, ReadMetricKind(value, path, lines));
      } else if (key == "direction") {
        ALLOT_ASSIGN_OR_RETURN(guard.direction, ReadDirection(value, path, lines));
      } else if (key == "relative_harm" || key == "absolute_harm") {
        if (guard.harm != HarmKind::kNone) {
          return lines.Error(value, path,
                             "and the other harm are both set; a guardrail has one");
        }
        guard.harm = key == "relative_harm" ? HarmKind::kRelative : HarmKind::kAbsolute;
        ALLOT_ASSIGN_OR_RETURN(guard.max_harm, ReadNumber(value, path, lines));
      } else {
        return UnknownField(value, path, lines);
      }
    }
    if (!has_id) return lines.Error(entry, absl::StrCat(prefix, ".id"), "is required");
    config.guardrails.push_back(std::move(guard));
  }
  return absl::OkStatus();
}

absl::Status ReadMetric(const toml::table& table, ExperimentConfig& config,
                        FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat("metric.", Key(key));
    lines.Set(path, node);
    if (key == "kind") {
      ALLOT_ASSIGN_OR_RETURN(config.metric, ReadMetricKind(node, path, lines));
    } else if (key == "direction") {
      ALLOT_ASSIGN_OR_RETURN(config.direction, ReadDirection(node, path, lines));
    } else if (key == "id") {
      ALLOT_ASSIGN_OR_RETURN(config.metric_id, ReadString(node, path, lines));
    } else if (key == "composite") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* terms, ReadTable(node, path, lines));
      for (auto&& [name, weight] : *terms) {
        const std::string term_path = absl::StrCat(path, ".", Key(name));
        lines.Set(term_path, weight);
        ALLOT_ASSIGN_OR_RETURN(double w, ReadNumber(weight, term_path, lines));
        config.composite.push_back({std::string(Key(name)), w});
      }
    } else {
      return UnknownField(node, path, lines);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadSchedule(const toml::table& table, ExperimentConfig& config,
                          FieldLines& lines) {
  ScheduleConfig& s = config.schedule;
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat("schedule.", Key(key));
    lines.Set(path, node);
    if (key == "burn_in") {
      ALLOT_ASSIGN_OR_RETURN(s.burn_in, ReadDuration(node, path, lines));
    } else if (key == "min_units_per_arm") {
      ALLOT_ASSIGN_OR_RETURN(s.min_units_per_arm, ReadInteger(node, path, lines));
    } else if (key == "interval") {
      ALLOT_ASSIGN_OR_RETURN(s.interval, ReadDuration(node, path, lines));
    } else if (key == "conversion_window") {
      ALLOT_ASSIGN_OR_RETURN(s.conversion_window, ReadDuration(node, path, lines));
    } else if (key == "retention") {
      ALLOT_ASSIGN_OR_RETURN(s.retention, ReadDuration(node, path, lines));
    } else {
      return UnknownField(node, path, lines);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadArms(const toml::node& node, ExperimentConfig& config,
                      FieldLines& lines) {
  const toml::array* arms = node.as_array();
  if (arms == nullptr) {
    return lines.Error(node, "arms", "must be an array of tables ([[arms]])");
  }
  config.arms.clear();
  for (size_t i = 0; i < arms->size(); ++i) {
    const std::string prefix = absl::StrCat("arms[", i, "]");
    const toml::node& arm_node = *arms->get(i);
    ALLOT_ASSIGN_OR_RETURN(const toml::table* arm, ReadTable(arm_node, prefix, lines));
    lines.Set(prefix, arm_node);
    ArmConfig parsed;
    bool has_id = false;
    for (auto&& [key, value] : *arm) {
      const std::string path = absl::StrCat(prefix, ".", Key(key));
      lines.Set(path, value);
      if (key == "id") {
        ALLOT_ASSIGN_OR_RETURN(parsed.id, ReadString(value, path, lines));
        has_id = true;
      } else if (key == "weight") {
        ALLOT_ASSIGN_OR_RETURN(parsed.weight, ReadNumber(value, path, lines));
      } else if (key == "config") {
        ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(value, path, lines));
        ALLOT_ASSIGN_OR_RETURN(parsed.payload, TomlTableToJson(*t, path, lines));
      } else {
        return UnknownField(value, path, lines);
      }
    }
    if (!has_id) return lines.Error(arm_node, absl::StrCat(prefix, ".id"), "is required");
    config.arms.push_back(std::move(parsed));
  }
  return absl::OkStatus();
}

}  // namespace

void FieldLines::Set(absl::string_view path, const toml::node& node) {
  Set(path, static_cast<int64_t>(node.source().begin.line));
}

void FieldLines::Set(absl::string_view path, int64_t line) {
  lines_[std::string(path)] = line;
}

absl::Status FieldLines::Locate(const absl::Status& status) const {
  if (status.ok()) return status;
  absl::string_view message = status.message();
  auto it = lines_.find(ErrorField(status));
  if (it == lines_.end()) {
    return absl::Status(status.code(), absl::StrCat(source_, ": ", message));
  }
  return absl::Status(status.code(),
                      absl::StrCat(source_, ":", it->second, ": ", message));
}

absl::Status FieldLines::Error(const toml::node& node, absl::string_view path,
                               absl::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ":", node.source().begin.line, ": ", path, " ", what));
}

absl::StatusOr<double> ReadNumber(const toml::node& node, absl::string_view path,
                                  const FieldLines& lines) {
  if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
  if (const auto* f = node.as_floating_point()) return f->get();
  return lines.Error(node, path, "must be a number");
}

absl::StatusOr<int64_t> ReadInteger(const toml::node& node, absl::string_view path,
                                    const FieldLines& lines) {
  if (const auto* i = node.as_integer()) return i->get();
  return lines.Error(node, path, "must be an integer");
}

absl::StatusOr<std::string> ReadString(const toml::node& node, absl::string_view path,
                                       const FieldLines& lines) {
  if (const auto* s = node.as_string()) return s->get();
  return lines.Error(node, path, "must be a string");
}

absl::StatusOr<bool> ReadBool(const toml::node& node, absl::string_view path,
                              const FieldLines& lines) {
  if (const auto* b = node.as_boolean()) return b->get();
  return lines.Error(node, path, "must be true or false");
}

absl::StatusOr<absl::Duration> ReadDuration(const toml::node& node,
                                            absl::string_view path,
                                            const FieldLines& lines) {
  ALLOT_ASSIGN_OR_RETURN(std::string text, ReadString(node, path, lines));
  absl::StatusOr<absl::Duration> d = allot::ParseDuration(path, text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        lines.source(), ":", node.source().begin.line, ": ", d.status().message()));
  }
  return d;
}

absl::StatusOr<const toml::table*> ReadTable(const toml::node& node,
                                             absl::string_view path,
                                             const FieldLines& lines) {
  if (const auto* t = node.as_table()) return t;
  return lines.Error(node, path, "must be a table");
}

absl::StatusOr<toml::table> ParseToml(absl::string_view text, absl::string_view source) {
  try {
    return toml::parse(std::string_view(text.data(), text.size()),
                       std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", e.source().begin.line, ":", e.source().begin.column,
                     ": malformed TOML: ", std::string(e.description())));
  }
}

absl::Status ReadEstimateTable(const toml::table& table, absl::string_view prefix,
                               ExperimentConfig& config, FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat(prefix, ".", Key(key));
    // Validation messages say "estimate.FIELD"; map them to this table too.
    lines.Set(path, node);
    lines.Set(absl::StrCat("estimate.", Key(key)), node);
    if (key == "method") {
      ALLOT_ASSIGN_OR_RETURN(std::string method, ReadString(node, path, lines));
      absl::StatusOr<EstimateMethod> parsed = ParseEstimateMethod(method);
      if (!parsed.ok()) return lines.Error(node, path, parsed.status().message());
      config.estimate.method = *parsed;
    } else if (key == "half_life") {
      ALLOT_ASSIGN_OR_RETURN(config.estimate.half_life, ReadDuration(node, path, lines));
    } else {
      return UnknownField(node, path, lines);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadDecisionTable(const toml::table& table, absl::string_view prefix,
                               ExperimentConfig& config, FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat(prefix, ".", Key(key));
    // Validation messages say "decision.FIELD"; map them to this table too.
    lines.Set(path, node);
    lines.Set(absl::StrCat("decision.", Key(key)), node);
    if (key == "rule") {
      ALLOT_ASSIGN_OR_RETURN(std::string rule, ReadString(node, path, lines));
      absl::StatusOr<DecisionRule> parsed = ParseDecisionRule(rule);
      if (!parsed.ok()) return lines.Error(node, path, parsed.status().message());
      config.decision.rule = *parsed;
    } else if (key == "alpha") {
      ALLOT_ASSIGN_OR_RETURN(config.decision.alpha, ReadNumber(node, path, lines));
    } else if (key == "min_effect") {
      ALLOT_ASSIGN_OR_RETURN(config.decision.min_effect, ReadNumber(node, path, lines));
    } else if (key == "horizon_units") {
      ALLOT_ASSIGN_OR_RETURN(config.decision.horizon_units,
                             ReadNumber(node, path, lines));
    } else {
      return UnknownField(node, path, lines);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadPolicyTable(const toml::table& table, absl::string_view prefix,
                             absl::Span<const absl::string_view> other_keys,
                             ExperimentConfig& config, FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path = absl::StrCat(prefix, ".", Key(key));
    if (IsOtherKey(other_keys, Key(key))) continue;
    // Validation messages say "policy.FIELD"; map them to this table too.
    lines.Set(path, node);
    lines.Set(absl::StrCat("policy.", Key(key)), node);
    if (key == "kind") {
      ALLOT_ASSIGN_OR_RETURN(std::string kind, ReadString(node, path, lines));
      absl::StatusOr<PolicyKind> parsed = ParsePolicyKind(kind);
      if (!parsed.ok()) {
        return lines.Error(node, path,
                           absl::StrCat("must be thompson, top_two_thompson, "
                                        "epsilon_greedy or fixed, got \"",
                                        kind, "\""));
      }
      config.policy.kind = *parsed;
    } else if (key == "epsilon") {
      ALLOT_ASSIGN_OR_RETURN(config.policy.epsilon, ReadNumber(node, path, lines));
    } else if (key == "top_two_beta") {
      ALLOT_ASSIGN_OR_RETURN(config.policy.top_two_beta, ReadNumber(node, path, lines));
    } else if (key == "floor") {
      ALLOT_ASSIGN_OR_RETURN(config.floor, ReadNumber(node, path, lines));
    } else if (key == "max_shift") {
      ALLOT_ASSIGN_OR_RETURN(config.max_shift, ReadNumber(node, path, lines));
    } else if (key == "seed") {
      ALLOT_ASSIGN_OR_RETURN(int64_t seed, ReadInteger(node, path, lines));
      if (seed < 0)
        return lines.Error(node, path, absl::StrCat("must be >= 0, got ", seed));
      config.seed = static_cast<uint64_t>(seed);
    } else if (key == "prior_alpha") {
      ALLOT_ASSIGN_OR_RETURN(config.prior_alpha, ReadNumber(node, path, lines));
    } else if (key == "prior_beta") {
      ALLOT_ASSIGN_OR_RETURN(config.prior_beta, ReadNumber(node, path, lines));
    } else {
      return UnknownField(node, path, lines);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadExperimentTable(const toml::table& table, ArmsTable arms,
                                 absl::Span<const absl::string_view> other_keys,
                                 ExperimentConfig& config, FieldLines& lines) {
  for (auto&& [key, node] : table) {
    const std::string path(Key(key));
    if (IsOtherKey(other_keys, path)) continue;
    lines.Set(path, node);
    if (key == "id") {
      ALLOT_ASSIGN_OR_RETURN(config.id, ReadString(node, path, lines));
    } else if (key == "salt") {
      ALLOT_ASSIGN_OR_RETURN(config.salt, ReadString(node, path, lines));
    } else if (key == "unit") {
      ALLOT_ASSIGN_OR_RETURN(config.unit, ReadString(node, path, lines));
    } else if (key == "surface") {
      ALLOT_ASSIGN_OR_RETURN(config.surface, ReadString(node, path, lines));
    } else if (key == "holdout") {
      ALLOT_ASSIGN_OR_RETURN(config.holdout, ReadNumber(node, path, lines));
    } else if (key == "baseline") {
      ALLOT_ASSIGN_OR_RETURN(config.baseline, ReadString(node, path, lines));
    } else if (key == "fallback") {
      ALLOT_ASSIGN_OR_RETURN(config.fallback, ReadString(node, path, lines));
    } else if (key == "metric") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(node, path, lines));
      ALLOT_RETURN_IF_ERROR(ReadMetric(*t, config, lines));
    } else if (key == "policy") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(node, path, lines));
      ALLOT_RETURN_IF_ERROR(ReadPolicyTable(*t, "policy", {}, config, lines));
    } else if (key == "schedule") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(node, path, lines));
      ALLOT_RETURN_IF_ERROR(ReadSchedule(*t, config, lines));
    } else if (key == "estimate") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(node, path, lines));
      ALLOT_RETURN_IF_ERROR(ReadEstimateTable(*t, "estimate", config, lines));
    } else if (key == "decision") {
      ALLOT_ASSIGN_OR_RETURN(const toml::table* t, ReadTable(node, path, lines));
      ALLOT_RETURN_IF_ERROR(ReadDecisionTable(*t, "decision", config, lines));
    } else if (key == "guardrails") {
      ALLOT_RETURN_IF_ERROR(ReadGuardrails(node, config, lines));
    } else if (key == "arms" && arms == ArmsTable::kRead) {
      ALLOT_RETURN_IF_ERROR(ReadArms(node, config, lines));
    } else {
      return UnknownField(node, path, lines);
    }
  }
  // A missing baseline is reported at the holdout that requires it.
  if (!table.contains("baseline")) {
    if (const toml::node* holdout = table.get("holdout")) {
      lines.Set("baseline", *holdout);
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<ExperimentConfig> ParseExperimentToml(absl::string_view text,
                                                     absl::string_view source) {
  ALLOT_ASSIGN_OR_RETURN(toml::table table, internal::ParseToml(text, source));
  internal::FieldLines lines{std::string(source)};
  ExperimentConfig config;
  ALLOT_RETURN_IF_ERROR(internal::ReadExperimentTable(table, internal::ArmsTable::kRead,
                                                      {}, config, lines));
  if (!table.contains("id")) {
    // A field that is absent has no line of its own; point at the top.
    return absl::InvalidArgumentError(absl::StrCat(source, ":1: id is required"));
  }
  ALLOT_RETURN_IF_ERROR(lines.Locate(ValidateExperimentConfig(config)));
  return config;
}

absl::StatusOr<std::string> ReadFileToString(absl::string_view path, size_t max_bytes) {
  std::ifstream in(std::string(path), std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return text;
}

absl::StatusOr<ExperimentConfig> LoadExperimentFile(absl::string_view path) {
  ALLOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{16} << 20));
  return ParseExperimentToml(text, path);
}

}  // namespace allot
