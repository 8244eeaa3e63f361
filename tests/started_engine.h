// Copyright 2026 The allot Authors.
//
// A started engine at a fixed origin, for engine tests that drive time
// themselves.

#ifndef ALLOT_TESTS_STARTED_ENGINE_H_
#define ALLOT_TESTS_STARTED_ENGINE_H_

#include <memory>

#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "gtest/gtest.h"

namespace allot::test {

inline const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

inline absl::Time At(absl::Duration d) { return kStart + d; }

// Experiment "exp": arms a and b at 50/50, burn-in 2h, a reallocation
// every hour, a 30-minute window, 10 matured units per arm to leave burn-in.
inline ExperimentConfig SmallConfig() {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}};
  c.schedule.burn_in = absl::Hours(2);
  c.schedule.interval = absl::Hours(1);
  c.schedule.conversion_window = absl::Minutes(30);
  c.schedule.min_units_per_arm = 10;
  return c;
}

// Returns an engine with `config` created and started at kStart.
inline std::unique_ptr<Engine> Started(const ExperimentConfig& config) {
  auto engine = std::make_unique<Engine>();
  EXPECT_TRUE(engine->CreateExperiment(config).ok());
  EXPECT_TRUE(engine->Start(config.id, kStart).ok());
  return engine;
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_STARTED_ENGINE_H_
