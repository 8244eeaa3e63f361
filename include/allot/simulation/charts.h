// Copyright 2026 The allot Authors.
//
// Charts of a simulation as standalone SVG files that open in a browser:
// traffic weights over time (one panel per policy, for one replicate) and the
// mean cumulative regret of every policy over time. Hand-written SVG, no
// scripts or external resources.
//
//   std::string svg = allot::sim::WeightsChartSvg(scenario, outcomes[0]);
//   std::string regret = allot::sim::RegretChartSvg(scenario, summary);

#ifndef ALLOT_SIMULATION_CHARTS_H_
#define ALLOT_SIMULATION_CHARTS_H_

#include <string>

#include "allot/simulation/runner.h"
#include "allot/simulation/scenario.h"
#include "allot/simulation/summary.h"

namespace allot::sim {

// Returns an SVG document with one stacked-area panel per policy: the share
// of traffic each arm held over time in `replicate` (its epochs' weights).
// REQUIRES: `replicate` comes from RunScenario(scenario, ...).
std::string WeightsChartSvg(const Scenario& scenario, const ReplicateOutcome& replicate);

// Returns an SVG document with one line per policy: mean cumulative regret
// over replicates against time.
std::string RegretChartSvg(const Scenario& scenario, const Summary& summary);

}  // namespace allot::sim

#endif  // ALLOT_SIMULATION_CHARTS_H_
