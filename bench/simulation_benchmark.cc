// Copyright 2026 The allot Authors.
//
// Simulation throughput: simulated units (arrivals, each an Engine::Assign)
// per second on one core, Thompson sampling reallocating every hour, three
// arms, one week, conversions after about two hours in a 24h window. Each
// iteration runs one policy on one replicate through a real Engine, with
// world generation, outcome delivery and reallocations included.
//
// The default size is a smoke run. The README's figure is the 10^7-unit case:
//
//   build/bench/simulation_benchmark --units=10000000
//
// which registers BM_SimulateThompsonHourly/10000000 with one iteration.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/world.h"
#include "benchmark/benchmark.h"

namespace allot::sim {
namespace {

constexpr int kDefaultUnits = 100000;

// The scenario for `units` expected arrivals over a week.
Scenario ThompsonHourly(int64_t units) {
  const std::string text = absl::StrCat(R"toml(
name = "throughput"
seed = 1
replicates = 1
horizon = "7d"
[traffic]
units_per_hour = )toml",
                                        static_cast<double>(units) / 168.0, R"toml(
daily_amplitude = 0.3
peak_hour = 15
[conversion]
delay = "exponential"
delay_mean = "2h"
[experiment.schedule]
burn_in = "1h"
interval = "1h"
conversion_window = "24h"
min_units_per_arm = 0
[[arms]]
id = "small"
rate = 0.10
[[arms]]
id = "medium"
rate = 0.11
[[arms]]
id = "large"
rate = 0.12
[[policies]]
name = "thompson"
kind = "thompson"
)toml");
  absl::StatusOr<Scenario> scenario = ParseScenarioToml(text, "throughput.toml");
  if (!scenario.ok()) std::abort();  // the text above is valid
  return *std::move(scenario);
}

void BM_SimulateThompsonHourly(benchmark::State& state) {
  const Scenario scenario = ThompsonHourly(state.range(0));
  const World world(scenario, 0);
  int64_t units = 0;
  for (auto _ : state) {
    absl::StatusOr<PolicyOutcome> outcome = RunPolicy(world, /*policy=*/0, 0);
    if (!outcome.ok()) {
      state.SkipWithError(std::string(outcome.status().message()).c_str());
      return;
    }
    units += outcome->arrivals;
    benchmark::DoNotOptimize(outcome->regret);
  }
  state.SetItemsProcessed(units);
  state.counters["units"] =
      static_cast<double>(units) / static_cast<double>(state.iterations());
}

}  // namespace
}  // namespace allot::sim

// Takes --units=N out of the arguments: the size of a single-iteration run.
int main(int argc, char** argv) {
  int64_t units = 0;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--units=")) {
      if (!absl::SimpleAtoi(arg, &units) || units <= 0) {
        std::fprintf(stderr, "--units must be a positive integer, got %s\n", argv[i]);
        return 1;
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  auto* bm = benchmark::RegisterBenchmark("BM_SimulateThompsonHourly",
                                          allot::sim::BM_SimulateThompsonHourly)
                 ->Unit(benchmark::kMillisecond);
  if (units > 0) {
    bm->Arg(units)->Iterations(1);
  } else {
    bm->Arg(allot::sim::kDefaultUnits);
  }
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
