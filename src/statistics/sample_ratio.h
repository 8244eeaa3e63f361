// Copyright 2026 The allot Authors.
//
// The sample-ratio check: do exposures per arm match the traffic shares the
// bucket tables were built to give? A mismatch means units are lost,
// duplicated or assigned outside allot, and every estimate is suspect.

#ifndef ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_
#define ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_

#include <cstdint>
#include <vector>

namespace allot::internal {

// Returns the p-value of Pearson's chi-square test of exposures[e][a]
// against shares[e][a] (each epoch's shares sum to 1), summed over epochs
// with at least one exposure; each contributes (arms with a positive share
// - 1) degrees of freedom. Exposures to an arm whose share is 0 give p = 0.
// Returns 1 when there is nothing to test.
double SampleRatioPValue(const std::vector<std::vector<int64_t>>& exposures,
                         const std::vector<std::vector<double>>& shares);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_SAMPLE_RATIO_H_
