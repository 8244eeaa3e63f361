// Copyright 2026 The allot Authors.
//
// A simulation scenario: the simulated world (traffic, true rates and their
// changes, conversion delays, seasonality), the experiment every policy runs
// under, the policies to compare and how many replicates to run. Scenario
// files are TOML; README.md documents every field.
//
//   absl::StatusOr<allot::sim::Scenario> scenario =
//       allot::sim::LoadScenarioFile("examples/scenarios/three-models.toml");
//   // scenario->policies[scenario->baseline] is the fixed split.
//
// Errors from files read "FILE:LINE: FIELD WHAT", e.g.
// "s.toml:12: traffic.units_per_hour must be > 0, got -5".

#ifndef ALLOT_SIMULATION_SCENARIO_H_
#define ALLOT_SIMULATION_SCENARIO_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"
#include "allot/types.h"

namespace allot::sim {

// Arrivals: a Poisson process whose rate follows a daily cycle,
//   units_per_hour * (1 + daily_amplitude * cos(2 pi (hour - peak_hour) / 24)),
// hour being the UTC hour of day (the simulation starts on a Monday at 00:00
// UTC).
struct TrafficConfig {
  double units_per_hour = 0;   // required, > 0
  double daily_amplitude = 0;  // in [0, 1]
  double peak_hour = 0;        // in [0, 24)
  // Share of arrivals, in [0, 1), that are earlier units coming back (drawn
  // uniformly among the units seen so far).
  double returning_share = 0;
  // Pass each unit's first-arrival time to Assign, pinning it to that epoch.
  bool pin_unit_start = false;
};

enum class DelayKind { kExponential, kLognormal };

// When a unit's outcome arrives after its first exposure.
struct ConversionConfig {
  DelayKind delay = DelayKind::kExponential;
  absl::Duration delay_mean = absl::ZeroDuration();  // >= 0; > 0 for lognormal
  double delay_sigma = 0;  // lognormal only: sigma of the log, > 0
};

// From `at` after the start on, an arm's true mean (and sd) are these.
struct ArmChange {
  absl::Duration at;
  double mean = 0;
  double sd = 0;
};

// An arm's truth for one guardrail metric, constant over the horizon (no
// changes, no seasonality). Binary guardrails: `mean` is the rate of the
// event (an error, say) per exposed unit, in [0, 1]. Continuous ones: each
// exposed unit's value is Normal(mean, sd), sd > 0.
struct GuardrailTruth {
  double mean = 0;
  double sd = 0;
};

// A rate drawn afresh for each replicate from Beta(alpha, beta) (scenario
// `rate = { beta = [alpha, beta] }`); alpha, beta > 0 and finite.
struct BetaRate {
  double alpha = 0;
  double beta = 0;
};

// One arm's truth. Binary metrics: `mean` is the conversion rate, in [0, 1].
// Continuous metrics: each unit's value is Normal(mean, sd), sd > 0.
struct ArmTruth {
  std::string id;
  double weight = 1;  // initial traffic weight, > 0
  double mean = 0;
  double sd = 0;
  // Binary metrics only: the rate is drawn per replicate from this Beta
  // (World::BaseRate), and `mean` is unused. Excludes `changes`.
  std::optional<BetaRate> rate_draw;
  std::vector<ArmChange> changes;  // strictly increasing `at` in (0, horizon)
  // Set: the arm is not in the experiment at the start; Engine::AddArm adds
  // it at this time after the start, in (0, horizon), with `initial_share`
  // (in (0, 1)) or the policy's share.
  std::optional<absl::Duration> joins_at;
  std::optional<double> initial_share;
  // Set: Engine::RetireArm retires it at this time, after joins_at (or the
  // start) and before the horizon, in this mode.
  std::optional<absl::Duration> retires_at;
  RetireMode retire = RetireMode::kDrain;
  // The arm's payload (its `config` table as JSON text), passed through to
  // the engine; empty when none.
  std::string payload;
  // One per experiment.guardrails entry, in its order: every arm gives a
  // truth for every guardrail.
  std::vector<GuardrailTruth> guardrails;
};

// A policy to compare: a name and the experiment it runs as.
struct PolicySpec {
  std::string name;
  ExperimentConfig config;  // the scenario's experiment with this policy's fields
};

// Limits that keep time arithmetic from overflowing and runs finite.
inline constexpr int kMaxReplicates = 1000000;
inline constexpr int kMaxHorizonDays = 3650;
inline constexpr double kMaxUnitsPerHour = 1e9;
// Expected arrivals of one replicate (units_per_hour x horizon in hours):
// each is assigned, may convert and sits in the ledger for its window, so
// this bounds a replicate's memory (about 3 GB of ledger at most) and time
// (about 40 s of one core at the measured 2.5M units a second).
inline constexpr double kMaxUnitsPerReplicate = 1e8;
// Expected arrivals of a whole run: per replicate x replicates x policies.
// About an hour of one core; beyond it a scenario is refused up front.
inline constexpr double kMaxSimulatedUnits = 1e10;

// Churn: with probability `replace_probability` per arrival (every Assign
// call), a uniformly chosen active arm (never the holdout's baseline) is
// retired in mode `retire` and a new arm "churn-N" joins, its rate drawn
// from `new_arm_rate`. Binary metrics only. The draws are the world's, the
// same for every policy (World: Arrival::churn).
struct ChurnConfig {
  double replace_probability = 0;  // in [0, 1]; 0: no churn
  RetireMode retire = RetireMode::kDrain;
  BetaRate new_arm_rate;                // required when replace_probability > 0
  std::optional<double> initial_share;  // of each new arm, in (0, 1)
};

// Churn whose expected number of arm changes over a replicate plus 5
// standard deviations exceeds the room under kMaxArms is refused (the
// count is Poisson: arrivals are a Poisson process thinned by p). The room
// is kMaxArms minus the arms ever known otherwise (each change adds one;
// retired arms keep their index).
inline constexpr double kChurnCapSigmas = 5;

struct Scenario {
  std::string name;                               // required, non-empty
  std::string source;                             // the file it came from (for messages)
  uint64_t seed = 0;                              // required
  int replicates = 100;                           // > 0
  absl::Duration horizon = absl::ZeroDuration();  // required, > 0
  TrafficConfig traffic;
  ConversionConfig conversion;
  // Factor on every arm's mean by day of week, Monday first; each >= 0.
  std::array<double, 7> weekly = {1, 1, 1, 1, 1, 1, 1};
  // The [experiment] tables with the ids and weights of the arms present at
  // the start (those without joins_at) filled in, in file order.
  ExperimentConfig experiment;
  std::vector<ArmTruth> arms;
  ChurnConfig churn;
  // Every policy to run; the fixed baseline is among them.
  std::vector<PolicySpec> policies;
  int baseline = 0;  // index of the fixed baseline in `policies`
};

// Returns, per arm, whether its truth harms some guardrail with a harm set
// (README "Guardrails"): against the arm with the best true mean of that
// guardrail, relative harm r makes an arm harmful iff m_arm > (1 + r) m_best
// (lower is better) or m_arm < (1 - r) m_best (higher is better); absolute
// harm h iff it is worse by more than h. The engine's definition, on the
// truths. All false without guardrails.
// REQUIRES: ValidateScenario(scenario) is OK.
std::vector<char> HarmfulArms(const Scenario& scenario);

// Returns whether arms come and go: some arm joins or retires, or churn.
bool HasArmChanges(const Scenario& scenario);

// Returns the indices into scenario.arms in the engine's arm order: the
// arms present at the start in file order, then the joining arms by
// joins_at (file order on ties). Churned arms come after these.
std::vector<int> EngineArmOrder(const Scenario& scenario);

// Returns the expected number of churn changes in one replicate: expected
// arrivals x replace_probability.
double ExpectedChurnChanges(const Scenario& scenario);

// Returns whether some guardrail of the scenario's experiment has a harm
// set (can stop an arm).
bool HasGuardrailHarm(const Scenario& scenario);

// Returns OK, or InvalidArgument whose message starts with the field's path
// as the scenario file spells it and gives the value
// ("traffic.daily_amplitude must be in [0, 1], got 1.5"). Checks every
// policy's experiment with ValidateExperimentConfig too, and refuses work
// beyond kMaxUnitsPerReplicate or kMaxSimulatedUnits with the numbers.
absl::Status ValidateScenario(const Scenario& scenario);

// Parses and validates a scenario file's text; appends a fixed-split
// baseline policy (named "fixed", or "fixed-split" when that name is taken)
// unless a policy of kind fixed is listed. `source` names the file in errors.
// Errors: InvalidArgument "SOURCE:LINE: FIELD ...".
absl::StatusOr<Scenario> ParseScenarioToml(absl::string_view text,
                                           absl::string_view source);

// Reads and parses the scenario file at `path`. Errors: NotFound when it
// cannot be read; otherwise as ParseScenarioToml.
absl::StatusOr<Scenario> LoadScenarioFile(absl::string_view path);

}  // namespace allot::sim

#endif  // ALLOT_SIMULATION_SCENARIO_H_
