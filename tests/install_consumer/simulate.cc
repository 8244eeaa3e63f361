// Simulates a small scenario through the installed allot::simulation.
#include <iostream>

#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"

int main() {
  absl::StatusOr<allot::sim::Scenario> scenario =
      allot::sim::ParseScenarioToml(R"(
name = "consumer"
seed = 1
replicates = 2
horizon = "2d"
[traffic]
units_per_hour = 50
[conversion]
delay_mean = "1h"
[experiment.schedule]
burn_in = "6h"
interval = "6h"
conversion_window = "12h"
[[arms]]
id = "small"
rate = 0.1
[[arms]]
id = "large"
rate = 0.2
[[policies]]
name = "thompson"
kind = "thompson"
)",
                                    "consumer.toml");
  if (!scenario.ok()) {
    std::cerr << scenario.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<allot::sim::ReplicateOutcome>> outcomes =
      allot::sim::RunScenario(*scenario, {.threads = 1});
  if (!outcomes.ok()) {
    std::cerr << outcomes.status() << "\n";
    return 1;
  }
  std::cout << "replicates=" << outcomes->size()
            << " policies=" << outcomes->front().policies.size() << "\n";
  return 0;
}
