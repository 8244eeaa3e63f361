// Copyright 2026 The allot Authors.
//
// The epoch-adjusted least-squares estimate against closed forms (one epoch;
// two arms over two epochs, balanced by hand and unbalanced by the
// intra-block formula) and against a brute-force dense weighted
// least-squares fit of the full model, epoch effects and all.

#include "statistics/epoch_adjusted.h"

#include <cmath>
#include <random>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/status.h"
#include "allot/metric.h"
#include "boost/random/normal_distribution.hpp"
#include "gtest/gtest.h"
#include "statistics/arm_estimates.h"
#include "tests/aggregates.h"

namespace allot::internal {
namespace {

// Every figure is a short sum of products of O(1) numbers or a small
// well-conditioned solve, so 1e-12 absolute separates a right answer from a
// wrong weight by many orders of magnitude.
constexpr double kTol = 1e-12;

using test::Binary;
using test::Values;

TEST(EpochAdjustedTest, OneEpochGivesEachArmsMeanAndIndependentVariances) {
  const std::vector<std::vector<Aggregate>> agg = {
      {Values({1, 2, 3, 6}), Values({4, 4, 7}), Values({0, 10})}};
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted(agg, 3, MetricKind::kContinuous);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const std::vector<std::vector<double>> v =
      PerUnitVariances(agg, 3, MetricKind::kContinuous, {1}, {});
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(fit->mean[a], agg[0][a].Mean(), kTol);
    for (int b = 0; b < 3; ++b) {
      const double expected = a == b ? v[0][a] / static_cast<double>(agg[0][a].n) : 0.0;
      EXPECT_NEAR(fit->covariance[a][b], expected, kTol) << a << "," << b;
    }
  }
  EXPECT_NEAR(fit->arm_effect[1] - fit->arm_effect[0], 5.0 - 3.0, kTol);
}

TEST(EpochAdjustedTest, BalancedTwoByTwoByHand) {
  // 100 units in every cell. Epoch 0: a 0.1, b 0.2; epoch 1: a 0.3, b 0.5.
  // tau_b - tau_a = mean within-epoch difference (0.1 + 0.2) / 2 = 0.15;
  // shares 1/2, so m_a = (0.1 + 0.3) / 2 = 0.2 and m_b = (0.2 + 0.5) / 2 =
  // 0.35: m_a = (ybar_0a + ybar_1a) / 2 exactly, whose variance is
  // (t_0a (1 - t_0a) + t_1a (1 - t_1a)) / 100 / 4 at the modelled rates
  // t_ea = m_a r_e / r (r_0 = 0.15, r_1 = 0.4, r = 0.275); a's and b's cells
  // do not mix, covariance 0.
  absl::StatusOr<EpochAdjustedEstimate> fit = EstimateEpochAdjusted(
      {{Binary(100, 10), Binary(100, 20)}, {Binary(100, 30), Binary(100, 50)}}, 2,
      MetricKind::kBinary);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->mean[0], 0.2, kTol);
  EXPECT_NEAR(fit->mean[1], 0.35, kTol);
  EXPECT_NEAR(fit->arm_effect[0], 0, kTol);
  EXPECT_NEAR(fit->arm_effect[1], 0.15, kTol);
  auto var = [](double m) {
    const double t0 = m * 0.15 / 0.275, t1 = m * 0.4 / 0.275;
    return (t0 * (1 - t0) + t1 * (1 - t1)) / 100 / 4;
  };
  EXPECT_NEAR(fit->covariance[0][0], var(0.2), kTol);
  EXPECT_NEAR(fit->covariance[1][1], var(0.35), kTol);
  EXPECT_NEAR(fit->covariance[0][1], 0, kTol);
  EXPECT_NEAR(fit->covariance[1][0], 0, kTol);
}

TEST(EpochAdjustedTest, EqualCountsWithinEachEpochGiveThePeriodWeightedMean) {
  // Each epoch gives its arms equal counts (50, 200, 10 per arm): the fit's
  // means are the period-weighted means of EstimateArms.
  const std::vector<std::vector<Aggregate>> agg = {
      {Binary(50, 5), Binary(50, 9), Binary(50, 7)},
      {Binary(200, 60), Binary(200, 50), Binary(200, 80)},
      {Binary(10, 1), Binary(10, 4), Binary(10, 2)}};
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted(agg, 3, MetricKind::kBinary);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const std::vector<ArmEstimate> est = EstimateArms(agg, 3, MetricKind::kBinary);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(fit->mean[a], est[a].mean, kTol) << a;
}

TEST(EpochAdjustedTest, UnbalancedTwoArmsWeighEpochsByHarmonicCounts) {
  // Two arms: tau_b - tau_a = sum_e h_e d_e / sum_e h_e with
  // h_e = n_ea n_eb / (n_ea + n_eb) and d_e the within-epoch difference;
  // its variance sum_e h_e^2 (v_ea / n_ea + v_eb / n_eb) / (sum_e h_e)^2.
  // Epoch 0: a 20/100, b 66/300 (h 75, d 0.02); epoch 1: a 270/900, b 33/100
  // (h 90, d 0.03).
  const std::vector<std::vector<Aggregate>> agg = {{Binary(100, 20), Binary(300, 66)},
                                                   {Binary(900, 270), Binary(100, 33)}};
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted(agg, 2, MetricKind::kBinary);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const double h0 = 75, h1 = 90;
  const double diff = (h0 * 0.02 + h1 * 0.03) / (h0 + h1);
  EXPECT_NEAR(fit->mean[1] - fit->mean[0], diff, kTol);
  // The per-unit variances at the fit's own means and epoch mix.
  const std::vector<std::vector<double>> v = PerUnitVariances(
      agg, 2, MetricKind::kBinary, {400.0 / 1400, 1000.0 / 1400}, fit->mean);
  const double var = (h0 * h0 * (v[0][0] / 100 + v[0][1] / 300) +
                      h1 * h1 * (v[1][0] / 900 + v[1][1] / 100)) /
                     ((h0 + h1) * (h0 + h1));
  const auto& c = fit->covariance;
  EXPECT_NEAR(c[0][0] + c[1][1] - c[0][1] - c[1][0], var, kTol);
}

TEST(EpochAdjustedTest, AnArmMissingFromAnEpochIsComparedWhereItWas) {
  // The engine's reproducer: b alone in epoch 1 at half the base rate. The
  // arm effects come from epoch 0 alone; the difference stays 0.02.
  absl::StatusOr<EpochAdjustedEstimate> fit = EstimateEpochAdjusted(
      {{Binary(1000, 200), Binary(1000, 220)}, {Binary(0, 0), Binary(4000, 440)}}, 2,
      MetricKind::kBinary);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->mean[1] - fit->mean[0], 0.02, kTol);
  // At the experiment's mix (1/3, 2/3): b 0.22 / 3 + 0.11 * 2 / 3.
  EXPECT_NEAR(fit->mean[1], 0.22 / 3 + 0.11 * 2 / 3, kTol);
}

// The full model by brute force: unknowns mu_0..mu_{E-1}, tau_1..tau_{K-1}
// (tau_0 = 0), one row per cell with weight n_ea, solved by QR of the
// weighted dense design; the means and their sandwich covariance from the
// same linear map. `discount` weighs epoch e's units w_e each (half-life);
// the Welch-Satterthwaite degrees of freedom from the same map, each cell's
// variance on n_ea degrees of freedom.
void ExpectDenseFit(const std::vector<double>& discount) {
  constexpr int kArms = 3, kEpochs = 4;
  auto weight = [&](int e) { return discount.empty() ? 1.0 : discount[e]; };
  // Units per cell: a gap (arm 2 in epoch 1) and an epoch of arm 1 alone.
  const int units[kEpochs][kArms] = {{5, 7, 4}, {6, 3, 0}, {0, 9, 0}, {8, 2, 5}};
  std::mt19937_64 rng(20260102);
  boost::random::normal_distribution<double> noise(0, 1);
  std::vector<std::vector<Aggregate>> agg(kEpochs, std::vector<Aggregate>(kArms));
  for (int e = 0; e < kEpochs; ++e) {
    for (int a = 0; a < kArms; ++a) {
      for (int i = 0; i < units[e][a]; ++i) {
        agg[e][a].Add(1.0 * e + 0.5 * a + (1 + a) * noise(rng));
      }
    }
  }
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted(agg, kArms, MetricKind::kContinuous, discount);
  ASSERT_TRUE(fit.ok()) << fit.status();

  const std::vector<std::vector<double>> v =
      PerUnitVariances(agg, kArms, MetricKind::kContinuous, {}, {});
  std::vector<std::pair<int, int>> cells;
  for (int e = 0; e < kEpochs; ++e) {
    for (int a = 0; a < kArms; ++a) {
      if (units[e][a] > 0) cells.emplace_back(e, a);
    }
  }
  const int m = static_cast<int>(cells.size()), p = kEpochs + kArms - 1;
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(m, p);
  Eigen::VectorXd y(m), w(m), var_y(m);
  double total = 0;
  Eigen::VectorXd share = Eigen::VectorXd::Zero(kEpochs);
  for (int j = 0; j < m; ++j) {
    const auto [e, a] = cells[j];
    x(j, e) = 1;
    if (a > 0) x(j, kEpochs + a - 1) = 1;
    y(j) = agg[e][a].Mean();
    w(j) = weight(e) * units[e][a];
    var_y(j) = v[e][a] / w(j);
    share(e) += w(j);
    total += w(j);
  }
  share /= total;
  const Eigen::VectorXd sw = w.cwiseSqrt();
  const Eigen::MatrixXd xw = sw.asDiagonal() * x;
  // beta = solver(xw) applied to sqrt(W) y: the map from y is
  // (X'WX)^-1 X'W, built column by column from the QR solve.
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(xw);
  ASSERT_EQ(qr.rank(), p);
  const Eigen::MatrixXd beta_map = qr.solve(Eigen::MatrixXd(sw.asDiagonal()));
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(kArms, p);  // beta -> means
  for (int a = 0; a < kArms; ++a) {
    g.row(a).head(kEpochs) = share.transpose();
    if (a > 0) g(a, kEpochs + a - 1) = 1;
  }
  const Eigen::MatrixXd l = g * beta_map;
  const Eigen::VectorXd mean = l * y;
  const Eigen::MatrixXd cov = l * var_y.asDiagonal() * l.transpose();
  for (int a = 0; a < kArms; ++a) {
    EXPECT_NEAR(fit->mean[a], mean(a), 1e-10) << a;
    for (int b = 0; b < kArms; ++b) {
      EXPECT_NEAR(fit->covariance[a][b], cov(a, b), 1e-10) << a << "," << b;
    }
    double sum = 0, sum_sq = 0;
    for (int j = 0; j < m; ++j) {
      const double c = l(a, j) * l(a, j) * var_y(j);
      sum += c;
      sum_sq += c * c / units[cells[j].first][cells[j].second];
    }
    EXPECT_NEAR(fit->degrees_of_freedom[a], sum * sum / sum_sq, 1e-8) << a;
  }
}

TEST(EpochAdjustedTest, MatchesADenseWeightedLeastSquaresFit) { ExpectDenseFit({}); }

TEST(EpochAdjustedTest, DiscountedEpochsMatchADenseFitWithUnitWeights) {
  ExpectDenseFit({0.25, 0.5, 0.8, 1.0});
}

TEST(EpochAdjustedTest, BinaryMeansHaveNoDegreesOfFreedomLimit) {
  absl::StatusOr<EpochAdjustedEstimate> fit = EstimateEpochAdjusted(
      {{Binary(100, 20), Binary(300, 66)}, {Binary(900, 270), Binary(100, 33)}}, 2,
      MetricKind::kBinary);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_TRUE(std::isinf(fit->degrees_of_freedom[0]));
}

TEST(EpochAdjustedTest, RefusesArmsNotConnectedOrWithoutUnits) {
  // a and b share epoch 0; c is alone in epoch 1: c's effect is confounded
  // with epoch 1's.
  absl::StatusOr<EpochAdjustedEstimate> fit =
      EstimateEpochAdjusted({{Binary(10, 1), Binary(10, 2), Binary(0, 0)},
                             {Binary(0, 0), Binary(0, 0), Binary(10, 3)}},
                            3, MetricKind::kBinary);
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kFailedPrecondition);
  fit = EstimateEpochAdjusted({{Binary(10, 1), Binary(0, 0)}}, 2, MetricKind::kBinary);
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kFailedPrecondition);
  fit = EstimateEpochAdjusted({{Binary(10, 1)}}, 2, MetricKind::kBinary);
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace allot::internal
