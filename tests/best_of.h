// Copyright 2026 The allot Authors.
//
// P(best) and expected loss for the posterior tests: the library's result,
// or -1 per arm (and a test failure) when it refuses.

#ifndef ALLOT_TESTS_BEST_OF_H_
#define ALLOT_TESTS_BEST_OF_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "gtest/gtest.h"

namespace allot::test {

inline std::vector<double> Best(const std::vector<ArmPosterior>& arms,
                                Direction direction = Direction::kHigherIsBetter,
                                uint64_t seed = 1) {
  absl::StatusOr<std::vector<double>> p = ProbabilityBest(arms, direction, seed);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : std::vector<double>(arms.size(), -1.0);
}

inline std::vector<double> Loss(const std::vector<ArmPosterior>& arms,
                                Direction direction = Direction::kHigherIsBetter,
                                uint64_t seed = 1) {
  absl::StatusOr<std::vector<double>> loss = ExpectedLoss(arms, direction, seed);
  EXPECT_TRUE(loss.ok()) << loss.status();
  return loss.ok() ? *loss : std::vector<double>(arms.size(), -1.0);
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_BEST_OF_H_
