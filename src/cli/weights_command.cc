// Copyright 2026 The allot Authors.
//
// `allot weights`: what a policy does with given numbers, so a user can see
// P(best), the resulting weights and the credible intervals.

#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/field_error.h"
#include "allot/policy.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"
#include "allot/weights.h"
#include "cli/commands.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "statistics/arm_beliefs.h"

namespace allot::cli {
namespace {

struct WeightsArgs {
  std::string model = "beta";
  std::string policy = "thompson";
  std::string direction = "higher";
  double floor = 0.01;
  double epsilon = 0.1;
  double top_two_beta = 0.5;
  double prior_alpha = 1.0;
  double prior_beta = 1.0;
  std::string seed = "1";
  std::string method = "epoch_adjusted";
  std::vector<std::string> arms;
};

absl::StatusOr<double> Number(absl::string_view spec, absl::string_view field,
                              absl::string_view text) {
  double v = 0;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return absl::InvalidArgumentError(absl::StrCat("--arm ", QuoteId(spec), ": ", field,
                                                   " must be a finite number, got ",
                                                   QuoteId(text)));
  }
  return v;
}

// Parses ID:N:SUCCESSES (beta) or ID:N:MEAN:VARIANCE (normal), or one such
// group per epoch separated by commas (ID:N:S,N:S,...), into the arm's
// per-epoch aggregates (count, sum and sum of squares).
absl::StatusOr<std::vector<internal::Aggregate>> ParseArm(const std::string& spec,
                                                          bool beta,
                                                          const WeightsArgs& args,
                                                          std::string* id) {
  const size_t colon = spec.find(':');
  *id = spec.substr(0, colon);
  ALLOT_RETURN_IF_ERROR(
      ValidateId(absl::StrCat("--arm ", QuoteId(spec), ": ID"), *id, kMaxArmIdBytes));
  const std::string usage = beta ? "ID:N:SUCCESSES" : "ID:N:MEAN:VARIANCE";
  const std::vector<std::string> groups =
      colon == std::string::npos ? std::vector<std::string>()
                                 : absl::StrSplit(spec.substr(colon + 1), ',');
  if (groups.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--arm ", QuoteId(spec), ": expected ", usage, " for --model ",
                     args.model, " (or one group per epoch: ", usage, ",N:...)"));
  }
  std::vector<internal::Aggregate> epochs;
  for (const std::string& group : groups) {
    std::vector<std::string> parts = absl::StrSplit(group, ':');
    if (parts.size() != (beta ? 2u : 3u)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--arm ", QuoteId(spec), ": expected ", usage, " for --model ", args.model,
          " (or one group per epoch: ", usage, ",N:...), got ", QuoteId(group)));
    }
    ALLOT_ASSIGN_OR_RETURN(double n, Number(spec, "N", parts[0]));
    if (n < 0 || n != std::floor(n) || n > 1e15) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--arm ", QuoteId(spec), ": N must be a whole number in [0, 1e15], got ",
          QuoteId(parts[0])));
    }
    internal::Aggregate cell;
    cell.n = static_cast<int64_t>(n);
    if (beta) {
      ALLOT_ASSIGN_OR_RETURN(double s, Number(spec, "SUCCESSES", parts[1]));
      if (s < 0 || s > n || s != std::floor(s)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--arm ", QuoteId(spec), ": SUCCESSES must be a whole number in [0, N], got ",
            QuoteId(parts[1])));
      }
      cell.sum = cell.sum_sq = s;
    } else {
      ALLOT_ASSIGN_OR_RETURN(double mean, Number(spec, "MEAN", parts[1]));
      ALLOT_ASSIGN_OR_RETURN(double var, Number(spec, "VARIANCE", parts[2]));
      if (var < 0 || std::abs(mean) > kMaxOutcomeMagnitude ||
          var > kMaxOutcomeMagnitude) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--arm ", QuoteId(spec), ": MEAN must be within +-", kMaxOutcomeMagnitude,
            " and VARIANCE in [0, ", kMaxOutcomeMagnitude, "]"));
      }
      cell.sum = n * mean;
      cell.sum_sq = (n > 1 ? (n - 1) * var : 0.0) + n * mean * mean;
    }
    epochs.push_back(cell);
  }
  if (!beta) {
    int64_t n = 0;
    bool spread = false;
    for (const internal::Aggregate& cell : epochs) {
      n += cell.n;
      spread = spread || (cell.n > 1 && cell.SampleVariance() > 0);
    }
    if (n < 2 || !spread) {
      return absl::InvalidArgumentError(
          absl::StrCat("--arm ", QuoteId(spec),
                       ": a normal arm needs N >= 2 and VARIANCE > 0 (in some epoch)"));
    }
  }
  return epochs;
}

absl::Status RunWeights(const WeightsArgs& args) {
  if (args.model != "beta" && args.model != "normal") {
    return absl::InvalidArgumentError(
        absl::StrCat("--model must be beta or normal, got ", QuoteId(args.model)));
  }
  if (args.direction != "higher" && args.direction != "lower") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--direction must be higher or lower, got ", QuoteId(args.direction)));
  }
  if (!(args.floor >= 0) || !std::isfinite(args.floor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--floor must be a finite number >= 0, got ", args.floor));
  }
  // The bounds experiment files have (policy.prior_alpha, policy.prior_beta).
  const auto prior_ok = [](double p) { return p >= kMinPrior && p <= kMaxPrior; };
  if (!prior_ok(args.prior_alpha) || !prior_ok(args.prior_beta)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--prior-alpha and --prior-beta must be in [", kMinPrior, ", ",
                     kMaxPrior, "], got ", args.prior_alpha, " and ", args.prior_beta));
  }
  ALLOT_ASSIGN_OR_RETURN(const uint64_t seed, ParseSeed("--seed", args.seed));
  PolicyOptions options;
  ALLOT_ASSIGN_OR_RETURN(options.kind, ParsePolicyKind(args.policy));
  options.epsilon = args.epsilon;
  options.top_two_beta = args.top_two_beta;
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, NewPolicy(options));

  absl::StatusOr<EstimateMethod> method = ParseEstimateMethod(args.method);
  if (!method.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--method ", method.status().message()));
  }
  std::vector<std::string> ids;
  std::vector<std::vector<internal::Aggregate>> arms;  // [arm][epoch]
  for (const std::string& spec : args.arms) {
    std::string id;
    ALLOT_ASSIGN_OR_RETURN(std::vector<internal::Aggregate> epochs,
                           ParseArm(spec, args.model == "beta", args, &id));
    if (!arms.empty() && epochs.size() != arms.front().size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--arm ", QuoteId(spec), ": has ", epochs.size(), " epochs, but --arm ",
          QuoteId(args.arms.front()), " has ", arms.front().size(),
          "; give every arm the same epochs (N = 0 where it had no units)"));
    }
    ids.push_back(id);
    arms.push_back(std::move(epochs));
  }
  ALLOT_RETURN_IF_ERROR(ValidateArmIds(ids));
  // As ValidateExperimentConfig: at K f >= 1 the floor alone fills every
  // share and the weights are uniform whatever the data.
  if (!(args.floor * static_cast<double>(ids.size()) < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--floor ", args.floor, " times ", ids.size(), " arms is ",
        args.floor * static_cast<double>(ids.size()), ", which must be below 1"));
  }
  const Direction direction =
      args.direction == "higher" ? Direction::kHigherIsBetter : Direction::kLowerIsBetter;
  // The engine's own path from aggregates to beliefs.
  std::vector<std::vector<internal::Aggregate>> by_epoch(
      arms.front().size(), std::vector<internal::Aggregate>(ids.size()));
  for (size_t a = 0; a < arms.size(); ++a) {
    for (size_t e = 0; e < arms[a].size(); ++e) by_epoch[e][a] = arms[a][e];
  }
  internal::BeliefOptions belief_options;
  belief_options.metric =
      args.model == "beta" ? MetricKind::kBinary : MetricKind::kContinuous;
  belief_options.direction = direction;
  belief_options.priors = internal::Priors{args.prior_alpha, args.prior_beta};
  belief_options.seed = seed;
  internal::ArmBeliefs beliefs = internal::EstimateBeliefs(
      by_epoch, static_cast<int>(ids.size()), *method, belief_options);
  ALLOT_RETURN_IF_ERROR(beliefs.p_best.status());
  const std::vector<double>& p_best = *beliefs.p_best;
  const std::vector<ArmPosterior>& posteriors = beliefs.posteriors;
  const std::vector<double> uniform(ids.size(), 1.0 / ids.size());
  PolicyInput input;
  input.arms = posteriors;
  input.p_best = p_best;
  input.current_weights = uniform;
  input.initial_weights = uniform;
  input.direction = direction;
  ALLOT_ASSIGN_OR_RETURN(std::vector<double> target, policy->Target(input));
  const std::vector<double> weights =
      policy->shaped() ? ShapeWeights(target, uniform, args.floor, /*max_shift=*/1.0)
                       : target;

  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  w.StartObject();
  w.Key("method");
  w.String(std::string(EstimateMethodName(beliefs.method)).c_str());
  if (!beliefs.note.empty()) {
    w.Key("note");
    w.String(beliefs.note.c_str());
  }
  w.Key("arms");
  w.StartObject();
  for (size_t a = 0; a < ids.size(); ++a) {
    w.Key(ids[a].c_str());
    w.StartObject();
    w.Key("p_best");
    w.Double(p_best[a]);
    w.Key("weight");
    w.Double(weights[a]);
    w.Key("mean");
    w.Double(posteriors[a].Mean());
    w.Key("ci95");
    w.StartArray();
    // A quantile the statistics cannot give is NaN: JSON has no NaN, so null.
    for (const double q : {0.025, 0.975}) {
      const double x = posteriors[a].Quantile(q);
      if (std::isfinite(x)) {
        w.Double(x);
      } else {
        w.Null();
      }
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  if (!beliefs.correlation.empty()) {
    // The epoch-adjusted means are correlated: the correlation P(best) used,
    // rows and columns in --arm order.
    w.Key("correlation");
    w.StartArray();
    for (const std::vector<double>& row : beliefs.correlation) {
      w.StartArray();
      for (const double r : row) w.Double(r);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  std::cout << buffer.GetString() << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddWeightsCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<WeightsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "weights", "Show P(best), weights, means and 95% intervals for given arm data");
  cmd->add_option("--model", args->model, "beta (binary) or normal (continuous)")
      ->required();
  cmd->add_option("--policy", args->policy,
                  "thompson, top_two_thompson, epsilon_greedy or fixed")
      ->capture_default_str();
  cmd->add_option("--floor", args->floor, "Additive floor")->capture_default_str();
  cmd->add_option("--epsilon", args->epsilon, "epsilon_greedy's epsilon")
      ->capture_default_str();
  cmd->add_option("--top-two-beta", args->top_two_beta, "top_two_thompson's beta")
      ->capture_default_str();
  cmd->add_option("--direction", args->direction, "higher or lower is better")
      ->capture_default_str();
  cmd->add_option("--prior-alpha", args->prior_alpha, "Beta prior alpha")
      ->capture_default_str();
  cmd->add_option("--prior-beta", args->prior_beta, "Beta prior beta")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed,
                  "Monte Carlo seed (only for posteriors too extreme to grid)")
      ->capture_default_str();
  cmd->add_option("--method", args->method,
                  "estimate: epoch_adjusted, period_weighted or pooled")
      ->capture_default_str();
  cmd->add_option("--arm", args->arms,
                  "ID:N:SUCCESSES (beta) or ID:N:MEAN:VARIANCE (normal), or one "
                  "N:... group per epoch separated by commas; repeat")
      ->required()
      ->allow_extra_args(false);
  cmd->callback([args, &exit_code] {
    absl::Status status = RunWeights(*args);
    if (!status.ok()) ReportError("weights", status, exit_code);
  });
}

}  // namespace allot::cli
