// Copyright 2026 The allot Authors.
//
// The sample-ratio check: p-values against chi-square statistics computed
// by hand with the closed-form survival functions for 1 and 2 degrees of
// freedom, degrees of freedom summed over epochs, the edge cases, and power
// on a seeded stream that loses units of one arm.

#include "statistics/sample_ratio.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "boost/random/uniform_01.hpp"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

// Closed forms of the chi-square survival function: 1 df, P(X > x) =
// erfc(sqrt(x / 2)); 2 df, exp(-x / 2); 4 df, exp(-x / 2) (1 + x / 2).
double Chi2Sf1(double x) { return std::erfc(std::sqrt(x / 2)); }
double Chi2Sf2(double x) { return std::exp(-x / 2); }
double Chi2Sf4(double x) { return std::exp(-x / 2) * (1 + x / 2); }

// Relative tolerance for the closed forms: both sides are double-precision
// evaluations of the same function (Boost's incomplete gamma, libm's erfc
// and exp), which agree to a few ulps; 1e-12 leaves room and still catches
// any wrong statistic or df.
constexpr double kRel = 1e-12;

TEST(SampleRatioPValueTest, TwoArmsIsChiSquareWithOneDf) {
  // Expected 50/50 of 100; chi2 = 10^2/50 + 10^2/50 = 4.
  const double p = SampleRatioPValue({{60, 40}}, {{0.5, 0.5}});
  EXPECT_NEAR(p, Chi2Sf1(4.0), kRel * Chi2Sf1(4.0));
  EXPECT_NEAR(p, 0.0455, 1e-4);  // the textbook value for chi2 = 4, 1 df
}

TEST(SampleRatioPValueTest, ThreeArmsIsChiSquareWithTwoDf) {
  // Expected 50/25/25 of 100; chi2 = 0 + 5^2/25 + 5^2/25 = 2.
  const double p = SampleRatioPValue({{50, 30, 20}}, {{0.5, 0.25, 0.25}});
  EXPECT_NEAR(p, Chi2Sf2(2.0), kRel * Chi2Sf2(2.0));
}

TEST(SampleRatioPValueTest, UnequalSharesUseTheirExpectedCounts) {
  // Expected 250/750 of 1000; chi2 = 30^2/250 + 30^2/750 = 4.8.
  const double p = SampleRatioPValue({{280, 720}}, {{0.25, 0.75}});
  EXPECT_NEAR(p, Chi2Sf1(4.8), kRel * Chi2Sf1(4.8));
}

TEST(SampleRatioPValueTest, EpochsSumTheirStatisticsAndDegreesOfFreedom) {
  // Epoch 0: chi2 4 (1 df). Epoch 1: 25 vs 75 expected of 100, chi2 =
  // 5^2/25 + 5^2/75 = 4/3 (1 df). Together: 16/3 with 2 df.
  const double two = SampleRatioPValue({{60, 40}, {30, 70}}, {{0.5, 0.5}, {0.25, 0.75}});
  EXPECT_NEAR(two, Chi2Sf2(16.0 / 3), kRel * Chi2Sf2(16.0 / 3));
  // Adding a three-arm epoch (chi2 2, 2 df) gives 22/3 with 4 df.
  const double three = SampleRatioPValue({{60, 40}, {30, 70}, {50, 30, 20}},
                                         {{0.5, 0.5}, {0.25, 0.75}, {0.5, 0.25, 0.25}});
  EXPECT_NEAR(three, Chi2Sf4(22.0 / 3), kRel * Chi2Sf4(22.0 / 3));
}

TEST(SampleRatioPValueTest, EpochsWithoutExposuresAddNothing) {
  const double alone = SampleRatioPValue({{60, 40}}, {{0.5, 0.5}});
  EXPECT_EQ(
      SampleRatioPValue({{0, 0}, {60, 40}, {0, 0}}, {{0.3, 0.7}, {0.5, 0.5}, {0.9, 0.1}}),
      alone);
}

TEST(SampleRatioPValueTest, ArmsWithZeroShareAndNoExposuresAddNoDf) {
  // The retired arm (share 0, no exposures) is not a degree of freedom:
  // still chi2 4 with 1 df.
  const double p = SampleRatioPValue({{60, 0, 40}}, {{0.5, 0.0, 0.5}});
  EXPECT_NEAR(p, Chi2Sf1(4.0), kRel * Chi2Sf1(4.0));
}

TEST(SampleRatioPValueTest, ExposuresToAnArmWithZeroShareGiveZero) {
  EXPECT_EQ(SampleRatioPValue({{50, 1, 50}}, {{0.5, 0.0, 0.5}}), 0.0);
  // Even when an earlier epoch looks fine.
  EXPECT_EQ(SampleRatioPValue({{50, 50}, {10, 3}}, {{0.5, 0.5}, {1.0, 0.0}}), 0.0);
}

TEST(SampleRatioPValueTest, NothingToTestGivesOne) {
  EXPECT_EQ(SampleRatioPValue({}, {}), 1.0);
  EXPECT_EQ(SampleRatioPValue({{0, 0}}, {{0.5, 0.5}}), 1.0);
  // One arm holds all the traffic: no degree of freedom.
  EXPECT_EQ(SampleRatioPValue({{100, 0}}, {{1.0, 0.0}}), 1.0);
}

TEST(SampleRatioPValueTest, ExactMatchGivesOne) {
  EXPECT_DOUBLE_EQ(SampleRatioPValue({{25, 75}}, {{0.25, 0.75}}), 1.0);
}

// A seeded stream of units over `epochs` epochs of `units` each, with
// shares changing by epoch; each unit served arm 1 is lost (never logged)
// with probability `loss`.
void SimulateExposures(uint64_t seed, int epochs, int units, double loss,
                       std::vector<std::vector<int64_t>>& exposures,
                       std::vector<std::vector<double>>& shares) {
  std::mt19937_64 rng(seed);
  boost::random::uniform_01<double> uniform;
  for (int e = 0; e < epochs; ++e) {
    const double s1 = 0.2 + 0.6 * e / (epochs - 1);  // 0.2 up to 0.8
    shares.push_back({1 - s1, s1});
    std::vector<int64_t> counts(2, 0);
    for (int u = 0; u < units; ++u) {
      const int arm = uniform(rng) < s1 ? 1 : 0;
      if (arm == 1 && uniform(rng) < loss) continue;
      ++counts[arm];
    }
    exposures.push_back(counts);
  }
}

TEST(SampleRatioPValueTest, FivePercentLossOfOneArmIsDetected) {
  // 20 epochs of 10,000 units. Losing 5% of arm 1's units shifts its count
  // by about 0.05 s1 N - enough for a per-epoch chi2 of ~5 on average, ~100
  // over 20 df, far beyond 1e-6 (the chi2 for 1e-6 at 20 df is ~66).
  std::vector<std::vector<int64_t>> exposures;
  std::vector<std::vector<double>> shares;
  SimulateExposures(/*seed=*/20260101, 20, 10000, /*loss=*/0.05, exposures, shares);
  EXPECT_LT(SampleRatioPValue(exposures, shares), 1e-6);
}

TEST(SampleRatioPValueTest, AnUnbiasedStreamIsNotFlagged) {
  // Under no bias the p-value is uniform on [0, 1], so a threshold of 1e-6
  // would be crossed by one seed in a million; the seed is fixed, so the
  // test cannot flake. With the test above it shows the check separates a
  // 5% loss from none at this sample size (a function always returning 0
  // fails here, one always returning 1 fails above).
  std::vector<std::vector<int64_t>> exposures;
  std::vector<std::vector<double>> shares;
  SimulateExposures(/*seed=*/20260101, 20, 10000, /*loss=*/0.0, exposures, shares);
  EXPECT_GT(SampleRatioPValue(exposures, shares), 1e-6);
}

}  // namespace
}  // namespace allot::internal
