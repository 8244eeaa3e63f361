// Copyright 2026 The allot Authors.
//
// What an experiment measures: the kind of outcome and which way is better.

#ifndef ALLOT_METRIC_H_
#define ALLOT_METRIC_H_

namespace allot {

// A binary metric counts conversions (each unit converts or not); a
// continuous metric sums a value per unit (revenue, latency, tokens).
enum class MetricKind { kBinary, kContinuous };

// Higher-is-better metrics pick the arm with the largest mean; lower-is-better
// metrics (latency, cost) the smallest.
enum class Direction { kHigherIsBetter, kLowerIsBetter };

}  // namespace allot

#endif  // ALLOT_METRIC_H_
