// Copyright 2026 The allot Authors.
//
// An experiment's configuration, and the experiment file (TOML) that holds
// it. Every field has a documented default; ValidateExperimentConfig names
// the field and value of anything wrong.
//
//   id = "support-bot-model"      # required
//   salt = "support-bot-model"    # optional, default: id
//   unit = "conversation"         # optional label
//   surface = "support-bot"       # optional; one running experiment per surface
//   holdout = 0.05                # optional share in [0, 1), default 0
//   baseline = "small"            # arm served to the holdout; required when holdout > 0
//   fallback = "small"            # arm for new units after Stop; default: the first arm
//   [[arms]]
//   id = "small"
//   weight = 1                    # positive; weights are normalized
//   config = { model = "m-2", temperature = 0.2 }  # optional payload, as JSON
//   [metric]   kind = "binary", direction = "higher"
//   [policy]   kind = "thompson", epsilon = 0.1, top_two_beta = 0.5, floor = 0.01,
//              max_shift = 1.0, seed = 1, prior_alpha = 1, prior_beta = 1
//   [schedule] burn_in = "24h", min_units_per_arm = 100, interval = "6h",
//              conversion_window = "72h", retention = "72h"
//   [estimate] method = "epoch_adjusted", half_life = "72h"
//   [decision] rule = "confidence_sequence", alpha = 0.05, min_effect = 0,
//              horizon_units = 10000
//   [[guardrails]]
//   id = "errors", kind = "binary", direction = "lower", relative_harm = 0.5
//   (or absolute_harm = 0.01; neither: tracked only)
//   [metric] id = "quality", composite = { quality_raw = 1.0, tokens = -0.001 }
//
//   absl::StatusOr<allot::ExperimentConfig> config =
//       allot::LoadExperimentFile("examples/experiments/support-bot-model.toml");

#ifndef ALLOT_EXPERIMENT_CONFIG_H_
#define ALLOT_EXPERIMENT_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/metric.h"
#include "allot/policy.h"
#include "allot/weights.h"

namespace allot {

struct ArmConfig {
  ArmConfig() = default;
  ArmConfig(std::string arm_id, double arm_weight = 1.0)  // NOLINT: {"a", 1} in lists
      : id(std::move(arm_id)), weight(arm_weight) {}

  std::string id;
  // Initial traffic weight; positive, normalized over the arms. Not used by
  // an arm added while running (Engine::AddArm): its share is
  // `initial_share` or the policy's.
  double weight = 1.0;
  // The variant's settings (model, temperature, prompt), returned with every
  // assignment of the arm: one JSON object as text, at most kMaxPayloadBytes
  // (ValidatePayload), or empty when the arm has none. An experiment file's
  // `config` table becomes this text (compact JSON; see README, "Arm
  // payloads"). Kept in snapshots and the journal.
  std::string payload;
  // Engine::AddArm only: the new arm's share of traffic, finite and in
  // (0, 1); unset, the share the policy gives it under its prior. Ignored
  // at creation (validated all the same). Not read from experiment files.
  std::optional<double> initial_share;
};

// Limits that bound the work a configuration can ask for (README.md,
// "Limits"). A shorter interval or window would only multiply reallocations
// and reports: exposures are kept to the second.
inline constexpr absl::Duration kMinScheduleInterval = absl::Seconds(1);
inline constexpr absl::Duration kMinConversionWindow = absl::Seconds(1);
// Beta prior parameters lie in [kMinPrior, kMaxPrior]: a prior worth a
// million pseudo-units already outweighs any experiment's data, and far
// larger ones (1e17) defeat the posterior's quantile and P(best) arithmetic.
// Below 1e-3 the prior is improper for all practical purposes.
inline constexpr double kMinPrior = 1e-3;
inline constexpr double kMaxPrior = 1e6;

struct ScheduleConfig {
  // Initial weights hold for at least this long after Start (>= 0).
  absl::Duration burn_in = absl::Hours(24);
  // ...and until every arm has this many matured units (>= 0).
  int64_t min_units_per_arm = 100;
  // Reallocations happen every interval after burn-in (>= kMinScheduleInterval).
  absl::Duration interval = absl::Hours(6);
  // Outcomes count for this long after a unit's exposure
  // (>= kMinConversionWindow).
  absl::Duration conversion_window = absl::Hours(72);
  // How long a matured unit's fingerprint is remembered (in [0, 366d]); unset:
  // one conversion window. A unit that returns while remembered keeps its
  // first exposure, and an outcome for it is tallied late; one returning
  // after it is forgotten is exposed again as a new trial. Fingerprints are
  // kept in two generations of `retention` each, so one is remembered for at
  // least `retention` and at most twice that after its window closes. Memory:
  // 16.5 to 32.5 bytes per remembered unit, 24 on average (README, "Late returns").
  std::optional<absl::Duration> retention;

  // The retention in force: `retention`, or the conversion window.
  absl::Duration EffectiveRetention() const {
    return retention.has_value() ? *retention : conversion_window;
  }
};

// Upper bound of ScheduleConfig::retention.
inline constexpr absl::Duration kMaxRetention = absl::Hours(366 * 24);

// How arms' means are estimated from the per-(epoch, arm) aggregates of
// matured units (README "Estimates"; each unit belongs to the epoch of its
// first exposure).
enum class EstimateMethod {
  // Least squares of outcome = epoch effect + arm effect: epoch effects
  // absorb changes of base rate, arms are compared within the epochs they
  // share, every unit counts. Means at the experiment's own epoch mix, with
  // their correlation. The default.
  kEpochAdjusted,
  // Each arm's per-epoch means mixed with the same shares over the epochs
  // every arm shares (post-stratification). Wastes units when epochs are
  // small or an arm misses some.
  kPeriodWeighted,
  // All of an arm's units together: efficient, but a traffic shift between
  // epochs with different base rates can reverse the ranking (Simpson).
  kPooled,
};

// "epoch_adjusted", "period_weighted" or "pooled".
absl::string_view EstimateMethodName(EstimateMethod method);
// Errors: InvalidArgument naming the three names.
absl::StatusOr<EstimateMethod> ParseEstimateMethod(absl::string_view name);

struct EstimateConfig {
  EstimateMethod method = EstimateMethod::kEpochAdjusted;
  // Discounts each epoch's aggregates by 0.5^(age / half_life), the age
  // measured from the epoch's midpoint to the report. Effective counts
  // shrink, so posteriors widen and the policy explores again after a
  // change; the price is noisier estimates when nothing changes. Zero (the
  // default): no discounting. Finite and >= 0.
  absl::Duration half_life = absl::ZeroDuration();
};

// How a report decides that an arm won (README "Decisions").
enum class DecisionRule {
  // Anytime-valid confidence sequences for every pair of arms
  // (statistics/confidence_sequence.h): a winner or an elimination is wrong
  // with probability at most alpha however often reports are read. The
  // default.
  kConfidenceSequence,
  // P(best) >= 0.999 with expected-loss thresholds: tuned by simulation for
  // one setting, no error guarantee. Kept for comparison.
  kPBest,
};

// "confidence_sequence" or "p_best".
absl::string_view DecisionRuleName(DecisionRule rule);
// Errors: InvalidArgument naming the two names.
absl::StatusOr<DecisionRule> ParseDecisionRule(absl::string_view name);

struct DecisionConfig {
  DecisionRule rule = DecisionRule::kConfidenceSequence;
  // The probability, over the whole experiment and every report read, of
  // naming a winner that is not best or eliminating the best arm. In
  // (0, 0.5].
  double alpha = 0.05;
  // A winner's advantage over every other arm must surely exceed this, in
  // metric units (absolute). Finite and >= 0.
  double min_effect = 0;
  // Matured units per arm at which the bounds are tightest (they are valid
  // at every size; this only trades early against late width). Finite and
  // >= 1.
  double horizon_units = 10000;
};

// How much worse than the best-guarded arm a guardrail lets an arm be.
enum class HarmKind {
  kNone,      // tracked and reported, never stops an arm
  kRelative,  // a fraction of the best-guarded arm's mean (0.5: 50% worse)
  kAbsolute,  // in the metric's units
};

// A metric recorded besides the primary, by its id: a guardrail (errors,
// latency, cost) that stops an arm shown to harm it beyond `max_harm`, or,
// with HarmKind::kNone, a metric that is only tracked (a component of a
// composite primary, say). Each is estimated like the primary
// (Simpson-safe, per epoch and arm) and reported per arm.
struct GuardrailConfig {
  std::string id;  // unique among the metrics; not the primary's id
  MetricKind kind = MetricKind::kBinary;
  // The good direction: errors, latency and cost are lower-is-better.
  Direction direction = Direction::kLowerIsBetter;
  HarmKind harm = HarmKind::kNone;
  double max_harm = 0;  // finite, >= 0; read when harm is not kNone
};

// An experiment has at most this many guardrails.
inline constexpr int kMaxGuardrails = 8;

// One term of a composite primary metric: weight x the unit's value of
// the guardrail (or tracked metric) `metric`.
struct CompositeTerm {
  std::string metric;
  double weight = 1;  // finite, non-zero
};

// Returns how long after Start the first reallocation is due: the burn-in,
// or one interval when there is none (epoch 0 needs some time). Later ones
// are due every interval after it: the schedule's grid.
absl::Duration FirstReallocationDelay(const ScheduleConfig& schedule);

struct ExperimentConfig {
  std::string id;             // required, non-empty
  std::string salt;           // default (empty): the id
  std::string unit = "unit";  // label of what is randomized
  // The route or agent the experiment serves ("support-bot"): empty, or an
  // id as ValidateId takes with kMaxSurfaceBytes. An engine runs at most one
  // experiment per non-empty surface (Engine::Start refuses a second);
  // experiments without one never conflict.
  std::string surface;
  std::vector<ArmConfig> arms;  // 2 to kMaxArms, unique ids
  double holdout = 0.0;         // share in [0, 1)
  std::string baseline;         // arm id; required when holdout > 0
  std::string fallback;         // arm id; default (empty): the first arm

  MetricKind metric = MetricKind::kBinary;
  Direction direction = Direction::kHigherIsBetter;
  // The primary metric's name, for outcomes that name their metric.
  std::string metric_id = "primary";
  // Non-empty: the primary is not recorded but computed for each matured
  // unit as the sum of weight x value over these terms (each names a
  // guardrail); `metric` must then be continuous.
  std::vector<CompositeTerm> composite;
  std::vector<GuardrailConfig> guardrails;  // at most kMaxGuardrails

  PolicyOptions policy;
  double floor = 0.01;       // additive floor, >= 0, floor x arms < 1
  double max_shift = 1.0;    // total variation cap per reallocation, in [0, 1]
  uint64_t seed = 1;         // seeds Monte Carlo in policies
  double prior_alpha = 1.0;  // Beta prior of binary metrics, in [kMinPrior, kMaxPrior]
  double prior_beta = 1.0;   // in [kMinPrior, kMaxPrior]

  ScheduleConfig schedule;
  EstimateConfig estimate;
  DecisionConfig decision;

  // The salt in force: `salt`, or the id when it is empty.
  const std::string& EffectiveSalt() const { return salt.empty() ? id : salt; }
  // The arm ids in order.
  std::vector<std::string> ArmIds() const;
  // The initial weights in arm order (not normalized).
  std::vector<double> InitialWeights() const;
  // Returns -1 for the primary metric (`metric_id`, or empty), else the
  // index of the guardrail with that id. Errors: NotFound naming the
  // metrics; InvalidArgument for the primary when it is composite (its
  // components are recorded instead).
  absl::StatusOr<int> MetricIndex(absl::string_view metric) const;
};

// Experiment ids longer than this are refused (arm ids: kMaxArmIdBytes).
inline constexpr size_t kMaxExperimentIdBytes = 256;
// Surfaces longer than this are refused.
inline constexpr size_t kMaxSurfaceBytes = 256;

// Returns OK, or InvalidArgument whose message starts with the field's path
// as the experiment file spells it and gives the value: "policy.epsilon must
// be in [0, 1], got 1.5", "arms[1].weight must be ...".
absl::Status ValidateExperimentConfig(const ExperimentConfig& config);

// Parses and validates an experiment file's text. `source` names it in
// errors, which read "SOURCE:LINE: FIELD ..." and name unknown fields too.
absl::StatusOr<ExperimentConfig> ParseExperimentToml(absl::string_view text,
                                                     absl::string_view source);

// Reads and parses the experiment file at `path`. Errors: NotFound when it
// cannot be read; otherwise as ParseExperimentToml.
absl::StatusOr<ExperimentConfig> LoadExperimentFile(absl::string_view path);

// Reads a whole file. Errors: NotFound naming the path; InvalidArgument when
// it is larger than `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(absl::string_view path,
                                             size_t max_bytes = size_t{256} << 20);

}  // namespace allot

#endif  // ALLOT_EXPERIMENT_CONFIG_H_
