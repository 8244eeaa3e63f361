// Copyright 2026 The allot Authors.
//
// The per-(epoch, arm) aggregates and the estimates built from them, checked
// against figures worked out by hand: one epoch is the pooled estimate, two
// epochs mix per-epoch means with each epoch's share of all units (and undo
// a Simpson reversal that pooling shows), the variance of the mix and the
// effective units, and the posteriors built from an estimate.
// An arm missing from an epoch restricts every arm to the shared epochs.

#include "statistics/arm_estimates.h"

#include <cmath>
#include <vector>

#include "allot/metric.h"
#include "allot/posterior.h"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

// Every figure below is a handful of double operations on exact small
// numbers, so the code and the hand computation agree to a few ulps;
// 1e-12 absolute (all figures are O(1) or smaller) catches any wrong weight.
constexpr double kTol = 1e-12;

Aggregate Binary(int64_t n, int64_t conversions) {
  Aggregate g;
  g.n = n;
  g.sum = static_cast<double>(conversions);
  g.sum_sq = static_cast<double>(conversions);
  return g;
}

Aggregate Values(std::initializer_list<double> values) {
  Aggregate g;
  for (double v : values) g.Add(v);
  return g;
}

TEST(AggregateTest, CountsSumsAndVariance) {
  const Aggregate g = Values({1, 2, 3, 4});
  EXPECT_EQ(g.n, 4);
  EXPECT_EQ(g.sum, 10);
  EXPECT_EQ(g.sum_sq, 30);
  EXPECT_EQ(g.Mean(), 2.5);
  EXPECT_NEAR(g.SampleVariance(), 5.0 / 3, kTol);  // (2.25+.25+.25+2.25)/3
  EXPECT_EQ(Aggregate{}.Mean(), 0);
  EXPECT_EQ(Values({7}).SampleVariance(), 0);  // below two units
}

TEST(EstimateArmsTest, OneEpochIsThePooledEstimate) {
  const std::vector<ArmEstimate> est =
      EstimateArms({{Binary(50, 12), Binary(200, 30)}}, 2, MetricKind::kBinary);
  ASSERT_EQ(est.size(), 2u);
  EXPECT_EQ(est[0].units, 50);
  EXPECT_EQ(est[0].outcomes, 12);
  EXPECT_NEAR(est[0].mean, 0.24, kTol);
  EXPECT_NEAR(est[0].pooled_mean, 0.24, kTol);
  EXPECT_NEAR(est[0].variance_of_mean, 0.24 * 0.76 / 50, kTol);
  EXPECT_NEAR(est[0].effective_units, 50, 1e-9);
  EXPECT_EQ(est[1].units, 200);
  EXPECT_NEAR(est[1].mean, 0.15, kTol);
  EXPECT_NEAR(est[1].pooled_mean, 0.15, kTol);
  EXPECT_NEAR(est[1].variance_of_mean, 0.15 * 0.85 / 200, kTol);
  EXPECT_NEAR(est[1].effective_units, 200, 1e-9);
}

TEST(EstimateArmsTest, TwoEpochsMixPerEpochMeansAndUndoSimpsonsReversal) {
  // The base rate jumps from epoch 0 to epoch 1 while traffic moves from b
  // to a. Epoch 0: a 10/100, b 60/300; epoch 1: a 150/300, b 60/100. Each
  // epoch holds 400 of the 800 units, so both shares are 1/2.
  //   a: 0.5 * 0.1 + 0.5 * 0.5 = 0.3     pooled 160/400 = 0.4
  //   b: 0.5 * 0.2 + 0.5 * 0.6 = 0.4     pooled 120/400 = 0.3
  // b is better within each epoch; pooling says a.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(100, 10), Binary(300, 60)}, {Binary(300, 150), Binary(100, 60)}},
      2, MetricKind::kBinary);
  ASSERT_EQ(est.size(), 2u);
  EXPECT_NEAR(est[0].mean, 0.3, kTol);
  EXPECT_NEAR(est[1].mean, 0.4, kTol);
  EXPECT_NEAR(est[0].pooled_mean, 0.4, kTol);
  EXPECT_NEAR(est[1].pooled_mean, 0.3, kTol);
  EXPECT_EQ(est[0].units, 400);
  EXPECT_EQ(est[0].outcomes, 160);
  // variance_of_mean = sum_e s_e^2 p(1-p) / n_e:
  //   a: 0.25 * 0.09 / 100 + 0.25 * 0.25 / 300
  //   b: 0.25 * 0.16 / 300 + 0.25 * 0.24 / 100
  EXPECT_NEAR(est[0].variance_of_mean, 0.25 * 0.09 / 100 + 0.25 * 0.25 / 300, kTol);
  EXPECT_NEAR(est[1].variance_of_mean, 0.25 * 0.16 / 300 + 0.25 * 0.24 / 100, kTol);
  // effective_units = 1 / sum_e s_e^2 / n_e = 1 / (0.25/100 + 0.25/300) = 300
  // for both: fewer than the 400 units, the price of the reweighting.
  EXPECT_NEAR(est[0].effective_units, 300, 1e-9);
  EXPECT_NEAR(est[1].effective_units, 300, 1e-9);
}

TEST(EstimateArmsTest, EpochSharesFollowEpochSizes) {
  // Epoch 0 holds 100 units, epoch 1 300: shares 1/4 and 3/4.
  //   a: 0.25 * 0.2 + 0.75 * 0.4 = 0.35
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(50, 10), Binary(50, 5)}, {Binary(150, 60), Binary(150, 30)}}, 2,
      MetricKind::kBinary);
  EXPECT_NEAR(est[0].mean, 0.35, kTol);
  EXPECT_NEAR(est[1].mean, 0.25 * 0.1 + 0.75 * 0.2, kTol);
  EXPECT_NEAR(est[0].effective_units, 1 / (0.0625 / 50 + 0.5625 / 150), 1e-9);
  EXPECT_NEAR(est[0].variance_of_mean,
              0.0625 * 0.2 * 0.8 / 50 + 0.5625 * 0.4 * 0.6 / 150, kTol);
}

TEST(EstimateArmsTest, AnArmMissingFromAnEpochRestrictsAllArmsToSharedOnes) {
  // Epoch 0: a 20/100, b 22/100; epoch 1 (a got no traffic): b 110/1000 at
  // half the base rate; epoch 2: a 30/100, b 99/300. Shared epochs 0 and 2
  // hold 200 and 400 units: shares 1/3 and 2/3 for both arms.
  //   a: 0.2 / 3 + 0.3 * 2 / 3,   b: 0.22 / 3 + 0.33 * 2 / 3
  // Mixing b over its own three epochs (shares 200, 1000, 400 of 1600) gave
  // 0.0275 + 0.06875 + 0.0825 = 0.17875, below a's 0.26667 (a over its own
  // epochs 0 and 2): the reversal the shared epochs prevent.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(100, 20), Binary(100, 22)},
       {Binary(0, 0), Binary(1000, 110)},
       {Binary(100, 30), Binary(300, 99)}},
      2, MetricKind::kBinary);
  EXPECT_NEAR(est[0].mean, 0.2 / 3 + 0.3 * 2 / 3, kTol);
  EXPECT_NEAR(est[1].mean, 0.22 / 3 + 0.33 * 2 / 3, kTol);
  EXPECT_GT(est[1].mean, est[0].mean);
  EXPECT_EQ(est[0].shared_epochs, 2);
  EXPECT_EQ(est[1].shared_epochs, 2);
  // Every unit is still counted, and pooled as it was.
  EXPECT_EQ(est[1].units, 1400);
  EXPECT_NEAR(est[1].pooled_mean, 231.0 / 1400, kTol);
  EXPECT_NEAR(est[1].effective_units, 1 / (1.0 / 9 / 100 + 4.0 / 9 / 300), 1e-9);
  EXPECT_NEAR(est[1].variance_of_mean,
              1.0 / 9 * 0.22 * 0.78 / 100 + 4.0 / 9 * 0.33 * 0.67 / 300, kTol);
}

TEST(EstimateArmsTest, AnArmWithoutUnitsDoesNotRestrictTheSharedEpochs) {
  // c has no units at all: a and b still mix epochs 0 and 1 (1/2 each).
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(100, 10), Binary(100, 20), Binary(0, 0)},
       {Binary(100, 30), Binary(100, 40), Binary(0, 0)}},
      3, MetricKind::kBinary);
  EXPECT_NEAR(est[0].mean, 0.2, kTol);
  EXPECT_NEAR(est[1].mean, 0.3, kTol);
  EXPECT_EQ(est[0].shared_epochs, 2);
  EXPECT_EQ(est[2].units, 0);
  EXPECT_EQ(est[2].mean, 0);
  EXPECT_EQ(est[2].shared_epochs, 0);
}

TEST(EstimateArmsTest, WithoutAnEpochSharedByAllArmsFallsBackToPooled) {
  // a and b share epoch 0, b and c epoch 1: no epoch holds all three.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(100, 10), Binary(100, 20), Binary(0, 0)},
       {Binary(0, 0), Binary(300, 60), Binary(200, 50)}},
      3, MetricKind::kBinary);
  for (const ArmEstimate& e : est) {
    EXPECT_EQ(e.shared_epochs, 0);
    EXPECT_NEAR(e.mean, e.pooled_mean, kTol);
    EXPECT_NEAR(e.effective_units, static_cast<double>(e.units), 1e-9);
  }
  EXPECT_NEAR(est[1].mean, 80.0 / 400, kTol);
  EXPECT_NEAR(est[1].variance_of_mean, 0.2 * 0.8 / 400, kTol);
}

TEST(EstimateArmsTest, ContinuousUsesPerEpochSampleVariances) {
  // Epoch 0: a {1, 2, 3} (mean 2, var 1), b {2, 4} (mean 3, var 2).
  // Epoch 1: a {5, 7} (mean 6, var 2), b {4, 6, 8} (mean 6, var 4).
  // Five units each: shares 1/2.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Values({1, 2, 3}), Values({2, 4})}, {Values({5, 7}), Values({4, 6, 8})}},
      2, MetricKind::kContinuous);
  EXPECT_NEAR(est[0].mean, 4, kTol);
  EXPECT_NEAR(est[1].mean, 4.5, kTol);
  EXPECT_NEAR(est[0].variance_of_mean, 0.25 * 1 / 3 + 0.25 * 2 / 2, kTol);
  EXPECT_NEAR(est[1].variance_of_mean, 0.25 * 2 / 2 + 0.25 * 4 / 3, kTol);
  EXPECT_NEAR(est[0].effective_units, 1 / (0.25 / 3 + 0.25 / 2), 1e-9);
  // Pooled: a {1, 2, 3, 5, 7}: mean 3.6, variance (6.76+2.56+0.36+1.96+11.56)/4.
  EXPECT_NEAR(est[0].pooled_mean, 3.6, kTol);
  EXPECT_NEAR(est[0].pooled_variance, 23.2 / 4, 1e-9);
}

TEST(EstimateArmsTest, ALoneUnitInAnEpochBorrowsThePooledVariance) {
  // a: epoch 0 {10}, epoch 1 {2, 4, 6}; epoch units 2 and 4 (b {0} and {0}).
  // Pooled variance of a {10, 2, 4, 6}: mean 5.5, (20.25+12.25+2.25+.25)/3.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Values({10}), Values({0})}, {Values({2, 4, 6}), Values({0})}}, 2,
      MetricKind::kContinuous);
  const double pooled_var = 35.0 / 3;
  const double s0 = 2.0 / 6, s1 = 4.0 / 6;
  EXPECT_NEAR(est[0].pooled_variance, pooled_var, 1e-9);
  EXPECT_NEAR(est[0].mean, s0 * 10 + s1 * 4, kTol);
  EXPECT_NEAR(est[0].variance_of_mean, s0 * s0 * pooled_var / 1 + s1 * s1 * 4 / 3,
              1e-9);
}

TEST(PosteriorOfTest, BinaryWithOneEpochIsBetaOfConversionsAndFailures) {
  const std::vector<ArmEstimate> est =
      EstimateArms({{Binary(50, 12), Binary(200, 30)}}, 2, MetricKind::kBinary);
  // m n_eff is 12/50 * 50: the conversions up to the rounding of one
  // division and one product, hence DOUBLE_EQ (4 ulps) rather than EQ.
  ArmPosterior p = PosteriorOf(est[0], MetricKind::kBinary, Priors{});
  EXPECT_EQ(p.family, PosteriorFamily::kBeta);
  EXPECT_DOUBLE_EQ(p.a, 1 + 12);
  EXPECT_DOUBLE_EQ(p.b, 1 + 38);
  p = PosteriorOf(est[1], MetricKind::kBinary, {.alpha = 2, .beta = 5});
  EXPECT_DOUBLE_EQ(p.a, 2 + 30);
  EXPECT_DOUBLE_EQ(p.b, 5 + 170);
}

TEST(PosteriorOfTest, BinaryWithoutUnitsIsThePrior) {
  const ArmPosterior p =
      PosteriorOf(ArmEstimate{}, MetricKind::kBinary, {.alpha = 3, .beta = 4});
  EXPECT_EQ(p.family, PosteriorFamily::kBeta);
  EXPECT_EQ(p.a, 3);
  EXPECT_EQ(p.b, 4);
}

TEST(PosteriorOfTest, BinaryWithSeveralEpochsUsesEffectiveUnits) {
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Binary(100, 10), Binary(300, 60)}, {Binary(300, 150), Binary(100, 60)}},
      2, MetricKind::kBinary);
  // a: m = 0.3, n_eff = 300: Beta(1 + 90, 1 + 210).
  const ArmPosterior p = PosteriorOf(est[0], MetricKind::kBinary, Priors{});
  EXPECT_NEAR(p.a, 91, 1e-9);
  EXPECT_NEAR(p.b, 211, 1e-9);
}

TEST(PosteriorOfTest, ContinuousCombinesTheNormalPriorWithTheData) {
  // {1, 2, 3, 4}: m = 2.5, variance of the mean 5/3 / 4 = 5/12.
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Values({1, 2, 3, 4}), Values({0, 1})}}, 2, MetricKind::kContinuous);
  ASSERT_NEAR(est[0].variance_of_mean, 5.0 / 12, kTol);
  // Near-flat default prior: the data alone, to ~1e-12 relative.
  ArmPosterior p = PosteriorOf(est[0], MetricKind::kContinuous, Priors{});
  EXPECT_EQ(p.family, PosteriorFamily::kNormal);
  EXPECT_NEAR(p.a, 2.5, 1e-9);
  EXPECT_NEAR(p.b, std::sqrt(5.0 / 12), 1e-9);
  // Prior Normal(0, 1): precision 1 + 12/5 = 3.4, mean 2.5 * 2.4 / 3.4.
  p = PosteriorOf(est[0], MetricKind::kContinuous, {.normal_sd = 1});
  EXPECT_NEAR(p.a, 2.5 * 2.4 / 3.4, kTol);
  EXPECT_NEAR(p.b, std::sqrt(1 / 3.4), kTol);
}

TEST(PosteriorOfTest, ContinuousWithFewerThanTwoUnitsIsThePrior) {
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Values({42}), Values({1, 2})}}, 2, MetricKind::kContinuous);
  const ArmPosterior p =
      PosteriorOf(est[0], MetricKind::kContinuous, {.normal_sd = 7});
  EXPECT_EQ(p.family, PosteriorFamily::kNormal);
  EXPECT_EQ(p.a, 0);
  EXPECT_EQ(p.b, 7);
}

TEST(PosteriorOfTest, ContinuousWithEqualValuesIsTightButNotAPoint) {
  const std::vector<ArmEstimate> est = EstimateArms(
      {{Values({5, 5, 5}), Values({1, 2})}}, 2, MetricKind::kContinuous);
  const ArmPosterior p = PosteriorOf(est[0], MetricKind::kContinuous, Priors{});
  EXPECT_EQ(p.a, 5);
  EXPECT_GT(p.b, 0);
  EXPECT_LT(p.b, 1e-6);
}

}  // namespace
}  // namespace allot::internal
