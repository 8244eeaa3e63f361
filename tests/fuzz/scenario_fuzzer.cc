// Copyright 2026 The allot Authors.
//
// A libFuzzer target for the scenario file reader: the input is the TOML
// text given to ParseScenarioToml. A small scenario that parses (a few
// thousand expected units and grid points) is also simulated, one
// replicate of its first policy, so the world and the runner meet every
// field the reader lets through. Every input must end in a Status.
//
//   mkdir -p build-fuzz/corpus/scenario  # new inputs go here
//   build-fuzz/scenario_fuzzer -runs=20000 -max_len=4096 \
//     build-fuzz/corpus/scenario tests/fuzz/corpus/scenario

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/world.h"

namespace {

// What a fuzz input may simulate: enough to reach every code path, little
// enough that an input runs in milliseconds.
constexpr double kMaxUnits = 2000;
constexpr double kMaxGridPoints = 200;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<allot::sim::Scenario> scenario =
      allot::sim::ParseScenarioToml(text, "fuzz.toml");
  if (!scenario.ok()) return 0;
  if (!allot::sim::ValidateScenario(*scenario).ok()) {
    std::fprintf(stderr, "scenario_fuzzer: a parsed scenario does not validate\n");
    ::abort();
  }
  const double units = scenario->traffic.units_per_hour *
                       absl::ToDoubleHours(scenario->horizon) *
                       (1 + scenario->traffic.daily_amplitude);
  const double grid_points = absl::FDivDuration(
      scenario->horizon, scenario->policies[0].config.schedule.interval);
  if (units > kMaxUnits || grid_points > kMaxGridPoints) return 0;
  const allot::sim::World world(*scenario, 0);
  absl::StatusOr<allot::sim::PolicyOutcome> outcome = allot::sim::RunPolicy(world, 0, 0);
  if (!outcome.ok()) {
    // RunPolicy fails only on an engine error: a bug, since the scenario
    // validated.
    std::fprintf(stderr, "scenario_fuzzer: %s\n",
                 std::string(outcome.status().message()).c_str());
    ::abort();
  }
  return 0;
}
