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
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/experiment_config.h"

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

// One arm's truth. Binary metrics: `mean` is the conversion rate, in [0, 1].
// Continuous metrics: each unit's value is Normal(mean, sd), sd > 0.
struct ArmTruth {
  std::string id;
  double weight = 1;  // initial traffic weight, > 0
  double mean = 0;
  double sd = 0;
  std::vector<ArmChange> changes;  // strictly increasing `at` in (0, horizon)
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
  // The [experiment] tables with the arms' ids and weights filled in.
  ExperimentConfig experiment;
  std::vector<ArmTruth> arms;
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
