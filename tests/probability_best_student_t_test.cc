// Copyright 2026 The allot Authors.
//
// ProbabilityBest and ExpectedLoss for Student t posteriors (alone and mixed
// with Normal ones) against closed forms and a brute-force quadrature written
// here. Split from probability_best_test.cc, which covers Beta and Normal
// arms, to keep each file readable.
//
// The reference shares nothing with the library's integration: it maps the
// whole line onto (-pi/2, pi/2) by x = c + w tan(u), so nothing is cut off,
// takes the midpoint rule on a uniform grid of 100000 points in u, and gets
// every density and CDF from Boost.Math (the library integrates its own
// densities on graded Gauss-Legendre panels over truncated windows). In u
// the integrands f_i(x) prod_j F_j(x) w sec^2(u) are bounded for df >= 1
// and, times x (for E[max]), for df >= 2; the midpoint rule's error on them
// is then below ~1e-8 for the arms below (the reference sums to 1 within
// 6e-9), far inside the 1e-6 checked.

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include "absl/status/status.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "boost/math/distributions/normal.hpp"
#include "boost/math/distributions/students_t.hpp"
#include "gtest/gtest.h"
#include "tests/best_of.h"

namespace allot {
namespace {

constexpr Direction kHigher = Direction::kHigherIsBetter;
constexpr Direction kLower = Direction::kLowerIsBetter;
constexpr double kInf = std::numeric_limits<double>::infinity();
// What posterior.h promises for the quadrature path.
constexpr double kQuadratureTolerance = 1e-6;

struct Reference {
  std::vector<double> p_best;
  double expected_best = 0.0;  // E[max] (E[min] for lower-is-better)
};

// The density and CDF (survival function for lower-is-better) of a Normal
// or Student t arm at x, from Boost.Math.
void DensityAndCdf(const ArmPosterior& arm, double x, Direction direction, double* pdf,
                   double* g) {
  const double z = (x - arm.a) / arm.b;
  if (arm.family == PosteriorFamily::kNormal || arm.df == kInf) {
    const boost::math::normal_distribution<> d;
    *pdf = boost::math::pdf(d, z) / arm.b;
    *g = direction == kHigher ? boost::math::cdf(d, z)
                              : boost::math::cdf(boost::math::complement(d, z));
    return;
  }
  const boost::math::students_t_distribution<> d(arm.df);
  *pdf = boost::math::pdf(d, z) / arm.b;
  *g = direction == kHigher ? boost::math::cdf(d, z)
                            : boost::math::cdf(boost::math::complement(d, z));
}

Reference TangentReference(const std::vector<ArmPosterior>& arms, Direction direction) {
  const size_t k = arms.size();
  double c = 0.0, w = 0.0;
  for (const ArmPosterior& arm : arms) {
    c += arm.a / static_cast<double>(k);
    w = std::max(w, arm.b);
  }
  constexpr int kPoints = 100000;
  const double h = std::numbers::pi / kPoints;
  Reference ref;
  ref.p_best.assign(k, 0.0);
  std::vector<double> pdf(k), g(k);
  for (int n = 0; n < kPoints; ++n) {
    const double u = -0.5 * std::numbers::pi + (n + 0.5) * h;
    const double x = c + w * std::tan(u);
    const double weight = h * w / (std::cos(u) * std::cos(u));
    for (size_t j = 0; j < k; ++j) DensityAndCdf(arms[j], x, direction, &pdf[j], &g[j]);
    for (size_t i = 0; i < k; ++i) {
      double term = weight * pdf[i];
      for (size_t j = 0; j < k; ++j) {
        if (j != i) term *= g[j];
      }
      ref.p_best[i] += term;
      ref.expected_best += x * term;
    }
  }
  return ref;
}

using test::Best;
using test::Loss;

// Checks P(best), and when `check_loss` the expected losses, against the
// reference in both directions.
void ExpectMatchesReference(const std::vector<ArmPosterior>& arms, bool check_loss) {
  for (Direction direction : {kHigher, kLower}) {
    const Reference ref = TangentReference(arms, direction);
    const std::vector<double> p = Best(arms, direction);
    double total = 0.0;
    for (size_t i = 0; i < arms.size(); ++i) {
      EXPECT_NEAR(p[i], ref.p_best[i], kQuadratureTolerance)
          << "arm " << i << " df " << arms[i].df << " lower " << (direction == kLower);
      total += ref.p_best[i];
    }
    // The reference itself integrates to 1: nothing is cut off.
    EXPECT_NEAR(total, 1.0, 1e-7);
    if (!check_loss) continue;
    const std::vector<double> loss = Loss(arms, direction);
    for (size_t i = 0; i < arms.size(); ++i) {
      const double expected = direction == kHigher ? ref.expected_best - arms[i].a
                                                   : arms[i].a - ref.expected_best;
      EXPECT_NEAR(loss[i], expected, kQuadratureTolerance)
          << "arm " << i << " df " << arms[i].df << " lower " << (direction == kLower);
    }
  }
}

TEST(StudentTProbabilityBestTest, TwoArmsMatchBruteForce) {
  ExpectMatchesReference(
      {ArmPosterior::StudentT(0, 1, 3), ArmPosterior::StudentT(0.5, 1.5, 5)},
      /*check_loss=*/true);
  ExpectMatchesReference(
      {ArmPosterior::StudentT(0, 1, 2), ArmPosterior::StudentT(1, 0.5, 2)},
      /*check_loss=*/true);
  ExpectMatchesReference(
      {ArmPosterior::StudentT(-1, 2, 30), ArmPosterior::StudentT(0, 1, 4)},
      /*check_loss=*/true);
  // df below 2: the reference's E[max] integrand is unbounded in u, so only
  // P(best) is checked here (the loss has its closed-form test below).
  ExpectMatchesReference(
      {ArmPosterior::StudentT(0, 1, 1), ArmPosterior::StudentT(1, 0.5, 2)},
      /*check_loss=*/false);
  ExpectMatchesReference(
      {ArmPosterior::StudentT(-1, 2, 1.5), ArmPosterior::StudentT(0, 1, 1)},
      /*check_loss=*/false);
}

TEST(StudentTProbabilityBestTest, ThreeArmsMatchBruteForce) {
  ExpectMatchesReference(
      {ArmPosterior::StudentT(0, 1, 2), ArmPosterior::StudentT(0.3, 0.8, 4),
       ArmPosterior::StudentT(0.2, 0.5, 9)},
      /*check_loss=*/true);
  ExpectMatchesReference(
      {ArmPosterior::StudentT(0, 1, 1), ArmPosterior::StudentT(0.2, 1, 1),
       ArmPosterior::StudentT(0.1, 0.3, 7)},
      /*check_loss=*/false);
}

TEST(StudentTProbabilityBestTest, MixedNormalAndStudentTArmsMatchBruteForce) {
  ExpectMatchesReference({ArmPosterior::StudentT(0, 1, 2), ArmPosterior::Normal(0.3, 0.8),
                          ArmPosterior::StudentT(0.2, 0.5, 6)},
                         /*check_loss=*/true);
  ExpectMatchesReference(
      {ArmPosterior::Normal(0, 1), ArmPosterior::StudentT(0.5, 0.2, 1)},
      /*check_loss=*/false);
}

TEST(StudentTProbabilityBestTest, SixteenArmsMatchBruteForce) {
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < 16; ++i) {
    const double location = 0.05 * ((i * 7) % 16);
    const double scale = 0.3 + 0.05 * ((i * 5) % 16);
    const double df = 2.0 + (i % 6) * 1.5;
    arms.push_back(i % 4 == 3 ? ArmPosterior::Normal(location, scale)
                              : ArmPosterior::StudentT(location, scale, df));
  }
  ExpectMatchesReference(arms, /*check_loss=*/true);
}

TEST(StudentTProbabilityBestTest, HugeDfAgreesWithNormal) {
  const std::vector<ArmPosterior> normal = {ArmPosterior::Normal(0, 1),
                                            ArmPosterior::Normal(0.4, 0.7),
                                            ArmPosterior::Normal(-0.2, 1.5)};
  std::vector<ArmPosterior> student;
  for (const ArmPosterior& arm : normal) {
    student.push_back(ArmPosterior::StudentT(arm.a, arm.b, 1e6));
  }
  // t_df differs from the Normal by O(1 / df) in its CDF.
  const std::vector<double> p_normal = Best(normal), p_student = Best(student);
  const std::vector<double> loss_normal = Loss(normal), loss_student = Loss(student);
  for (size_t i = 0; i < normal.size(); ++i) {
    EXPECT_NEAR(p_student[i], p_normal[i], 1e-5) << i;
    EXPECT_NEAR(loss_student[i], loss_normal[i], 1e-5) << i;
  }
  // df = inf is the Normal exactly.
  std::vector<ArmPosterior> limit = student;
  for (ArmPosterior& arm : limit) arm.df = kInf;
  EXPECT_EQ(Best(limit), p_normal);
  EXPECT_EQ(Loss(limit), loss_normal);
}

// Against a point-like arm at the t's location the expected loss is
// E[X+] = f(0) df / (df - 1) (the integral of x f(x) over x > 0), and each
// arm is best with probability 1/2: closed forms that reach df near 1,
// where the tails decide the loss.
TEST(StudentTExpectedLossTest, AgainstAPointMatchesClosedForm) {
  for (double df : {1.05, 1.2, 1.5, 2.0, 3.0, 10.0}) {
    const std::vector<ArmPosterior> arms = {ArmPosterior::StudentT(0, 1, df),
                                            ArmPosterior::Normal(0, 1e-9)};
    const double f0 = std::exp(std::lgamma(0.5 * (df + 1)) - std::lgamma(0.5 * df) -
                               0.5 * std::log(df * std::numbers::pi));
    const double expected = f0 * df / (df - 1);
    for (Direction direction : {kHigher, kLower}) {
      const std::vector<double> loss = Loss(arms, direction);
      // The point has sd 1e-9, which moves the loss by less than that.
      EXPECT_NEAR(loss[0], expected, kQuadratureTolerance) << df;
      EXPECT_NEAR(loss[1], expected, kQuadratureTolerance) << df;
      const std::vector<double> p = Best(arms, direction);
      EXPECT_NEAR(p[0], 0.5, 1e-8) << df;
    }
  }
  // Closer to df = 1 the window stops at 1e150 scales and the loss falls
  // short by about 1e150^(1 - df) / (pi (df - 1)), 3.4e-4 at 1.03
  // (posterior.h).
  const double df = 1.03;
  const double f0 = std::exp(std::lgamma(0.5 * (df + 1)) - std::lgamma(0.5 * df) -
                             0.5 * std::log(df * std::numbers::pi));
  const double shortfall = f0 * df / (df - 1) - Loss({ArmPosterior::StudentT(0, 1, df),
                                                      ArmPosterior::Normal(0, 1e-9)})[0];
  EXPECT_GT(shortfall, 1e-4);
  EXPECT_LT(shortfall, 1e-3);
}

TEST(StudentTExpectedLossTest, InfiniteWhenADfIsAtMostOne) {
  const std::vector<ArmPosterior> arms = {ArmPosterior::Normal(0, 1),
                                          ArmPosterior::StudentT(5, 1, 1),
                                          ArmPosterior::StudentT(0, 1, 10)};
  for (double loss : Loss(arms)) EXPECT_EQ(loss, kInf);
  // P(best) exists all the same.
  // The Cauchy at 5 is below the others' ~0 with probability ~0.07.
  const std::vector<double> p = Best(arms);
  EXPECT_GT(p[1], 0.9);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
}

TEST(StudentTProbabilityBestTest, LowerIsBetterMirrorsHigherIsBetter) {
  const std::vector<ArmPosterior> arms = {ArmPosterior::StudentT(3, 1, 2.5),
                                          ArmPosterior::Normal(2, 0.5),
                                          ArmPosterior::StudentT(2.5, 2, 1)};
  std::vector<ArmPosterior> mirror = arms;
  for (ArmPosterior& arm : mirror) arm.a = -arm.a;
  const std::vector<double> lower = Best(arms, kLower), higher = Best(mirror, kHigher);
  for (size_t i = 0; i < arms.size(); ++i) EXPECT_NEAR(lower[i], higher[i], 1e-14) << i;
}

TEST(StudentTProbabilityBestTest, QuadratureIgnoresTheSeed) {
  const std::vector<ArmPosterior> arms = {ArmPosterior::StudentT(0, 1, 2),
                                          ArmPosterior::StudentT(0.1, 2, 1.3),
                                          ArmPosterior::Normal(0.2, 0.3)};
  EXPECT_EQ(Best(arms, kHigher, 1), Best(arms, kHigher, 99));
  EXPECT_EQ(Loss(arms, kHigher, 1), Loss(arms, kHigher, 99));
}

// Five binomial standard errors of a Monte Carlo estimate of 1/2: a correct
// implementation fails with probability ~6e-7; the seed is fixed.
TEST(StudentTProbabilityBestTest, TooExtremeToGridUsesMonteCarlo) {
  // Narrower than the doubles near 0 can resolve: Monte Carlo. Equal
  // locations make each arm best with probability 1/2 by symmetry.
  const std::vector<ArmPosterior> arms = {ArmPosterior::StudentT(0, 1e-310, 3),
                                          ArmPosterior::StudentT(0, 2e-310, 1.5)};
  const double five_sigma = 5.0 * std::sqrt(0.25 / kMonteCarloDraws);
  const std::vector<double> p = Best(arms);
  EXPECT_NEAR(p[0], 0.5, five_sigma);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
  for (double loss : Loss(arms)) EXPECT_TRUE(std::isfinite(loss) && loss >= 0) << loss;
}

TEST(StudentTProbabilityBestTest, RefusesBetaMixedWithStudentT) {
  const std::vector<ArmPosterior> arms = {ArmPosterior::Beta(2, 3),
                                          ArmPosterior::StudentT(0.5, 0.1, 4)};
  EXPECT_EQ(ProbabilityBest(arms, kHigher, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExpectedLoss(arms, kHigher, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace allot
