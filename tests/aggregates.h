// Copyright 2026 The allot Authors.
//
// Per-(epoch, arm) aggregates for the estimator tests.

#ifndef ALLOT_TESTS_AGGREGATES_H_
#define ALLOT_TESTS_AGGREGATES_H_

#include <cstdint>
#include <initializer_list>

#include "statistics/arm_estimates.h"

namespace allot::internal::test {

// `n` binary units of which `conversions` converted.
inline Aggregate Binary(int64_t n, int64_t conversions) {
  Aggregate g;
  g.n = n;
  g.sum = static_cast<double>(conversions);
  g.sum_sq = static_cast<double>(conversions);
  return g;
}

// One unit per value.
inline Aggregate Values(std::initializer_list<double> values) {
  Aggregate g;
  for (double v : values) g.Add(v);
  return g;
}

}  // namespace allot::internal::test

#endif  // ALLOT_TESTS_AGGREGATES_H_
