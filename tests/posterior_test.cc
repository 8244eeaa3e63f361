// Copyright 2026 The allot Authors.

#include "allot/posterior.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ArmPosteriorTest, BetaMeanAndVariance) {
  const ArmPosterior arm = ArmPosterior::Beta(2, 3);
  EXPECT_DOUBLE_EQ(arm.Mean(), 0.4);
  // ab / ((a+b)^2 (a+b+1)) = 6 / (25 * 6).
  EXPECT_DOUBLE_EQ(arm.Variance(), 0.04);
}

TEST(ArmPosteriorTest, BetaVarianceDoesNotOverflowForHugeCounts) {
  const ArmPosterior arm = ArmPosterior::Beta(1e200, 1e200);
  EXPECT_DOUBLE_EQ(arm.Mean(), 0.5);
  EXPECT_NEAR(arm.Variance() / (0.25 / 2e200), 1.0, 1e-12);
}

TEST(ArmPosteriorTest, NormalMeanAndVariance) {
  const ArmPosterior arm = ArmPosterior::Normal(-3.5, 2.0);
  EXPECT_DOUBLE_EQ(arm.Mean(), -3.5);
  EXPECT_DOUBLE_EQ(arm.Variance(), 4.0);
}

TEST(ArmPosteriorTest, DefaultIsUniformBeta) {
  const ArmPosterior arm;
  EXPECT_EQ(arm.family, PosteriorFamily::kBeta);
  EXPECT_DOUBLE_EQ(arm.Mean(), 0.5);
  EXPECT_DOUBLE_EQ(arm.Variance(), 1.0 / 12.0);
}

TEST(ArmPosteriorTest, BetaQuantilesMatchClosedForms) {
  // Beta(1, 1) is uniform; Beta(a, 1) has CDF x^a; Beta(1, b) has CDF
  // 1 - (1 - x)^b.
  for (double q : {0.001, 0.025, 0.5, 0.975, 0.999}) {
    EXPECT_NEAR(ArmPosterior::Beta(1, 1).Quantile(q), q, 1e-14) << q;
    EXPECT_NEAR(ArmPosterior::Beta(3.5, 1).Quantile(q), std::pow(q, 1 / 3.5), 1e-14) << q;
    EXPECT_NEAR(ArmPosterior::Beta(1, 40).Quantile(q), 1 - std::pow(1 - q, 1 / 40.0),
                1e-14)
        << q;
  }
  // A symmetric Beta has median 1/2.
  EXPECT_NEAR(ArmPosterior::Beta(5001, 5001).Quantile(0.5), 0.5, 1e-14);
}

TEST(ArmPosteriorTest, NormalQuantiles) {
  const ArmPosterior arm = ArmPosterior::Normal(10, 2);
  EXPECT_NEAR(arm.Quantile(0.5), 10.0, 1e-12);
  // z_{0.975} = 1.959963984540054 (Abramowitz and Stegun, table 26.5).
  EXPECT_NEAR(arm.Quantile(0.975), 10 + 2 * 1.959963984540054, 1e-12);
  EXPECT_NEAR(arm.Quantile(0.025), 10 - 2 * 1.959963984540054, 1e-12);
}

TEST(ArmPosteriorTest, StudentTMeanAndVariance) {
  const ArmPosterior arm = ArmPosterior::StudentT(2.0, 3.0, 5.0);
  EXPECT_EQ(arm.family, PosteriorFamily::kStudentT);
  EXPECT_DOUBLE_EQ(arm.Mean(), 2.0);
  // scale^2 df / (df - 2) = 9 * 5 / 3.
  EXPECT_DOUBLE_EQ(arm.Variance(), 15.0);
  // No finite variance at df <= 2; the location stands for the mean (the
  // median) even where the mean does not exist.
  EXPECT_EQ(ArmPosterior::StudentT(2, 3, 2).Variance(), kInf);
  EXPECT_EQ(ArmPosterior::StudentT(2, 3, 1.5).Variance(), kInf);
  EXPECT_EQ(ArmPosterior::StudentT(2, 3, 1).Variance(), kInf);
  EXPECT_DOUBLE_EQ(ArmPosterior::StudentT(2, 3, 1).Mean(), 2.0);
  // df = inf is the Normal.
  EXPECT_DOUBLE_EQ(ArmPosterior::StudentT(2, 3, kInf).Variance(), 9.0);
}

TEST(ArmPosteriorTest, ThreeFieldAggregatesStillBuildAndLeaveDfUnused) {
  const ArmPosterior normal = {PosteriorFamily::kNormal, 1.0, 2.0};
  EXPECT_EQ(normal.df, kInf);
  EXPECT_DOUBLE_EQ(normal.Variance(), 4.0);
  EXPECT_EQ(ArmPosterior::Beta(2, 3).df, kInf);
}

TEST(ArmPosteriorTest, StudentTQuantilesMatchClosedFormsAndTables) {
  for (double q : {0.001, 0.025, 0.3, 0.5, 0.975, 0.999}) {
    // df = 1 is the Cauchy: tan(pi (q - 1/2)).
    const double cauchy = std::tan(std::numbers::pi * (q - 0.5));
    EXPECT_NEAR(ArmPosterior::StudentT(0, 1, 1).Quantile(q), cauchy,
                1e-10 * (1 + std::fabs(cauchy)))
        << q;
    // df = 2: (2q - 1) / sqrt(2 q (1 - q)).
    EXPECT_NEAR(ArmPosterior::StudentT(0, 1, 2).Quantile(q),
                (2 * q - 1) / std::sqrt(2 * q * (1 - q)), 1e-10)
        << q;
  }
  // Abramowitz and Stegun, table 26.10: t_{0.975} for 5 and 10 df, t_{0.995}
  // for 3 df.
  const ArmPosterior t5 = ArmPosterior::StudentT(10, 2, 5);
  EXPECT_NEAR(t5.Quantile(0.975), 10 + 2 * 2.570581836, 1e-8);
  EXPECT_NEAR(t5.Quantile(0.025), 10 - 2 * 2.570581836, 1e-8);
  EXPECT_NEAR(t5.Quantile(0.5), 10.0, 1e-12);
  EXPECT_NEAR(ArmPosterior::StudentT(0, 1, 10).Quantile(0.975), 2.228138852, 1e-8);
  EXPECT_NEAR(ArmPosterior::StudentT(-1, 0.5, 3).Quantile(0.995), -1 + 0.5 * 5.840909310,
              1e-8);
  // df = inf is the Normal; a huge df is the Normal to O(1 / df).
  EXPECT_NEAR(ArmPosterior::StudentT(10, 2, kInf).Quantile(0.975),
              10 + 2 * 1.959963984540054, 1e-12);
  EXPECT_NEAR(ArmPosterior::StudentT(10, 2, 1e8).Quantile(0.975),
              10 + 2 * 1.959963984540054, 1e-7);
}

// The t CDF at x by brute force, independent of Boost: the density
// integrated with the midpoint rule in u, x = tan(u), from -pi/2, where the
// integrand f(tan u) sec^2 u is bounded for df >= 1.
double StudentTCdfByQuadrature(double x, double df) {
  const double log_norm = std::lgamma(0.5 * (df + 1)) - std::lgamma(0.5 * df) -
                          0.5 * std::log(df * std::numbers::pi);
  const double top = std::atan(x);
  const int n = 200000;
  const double h = (top + 0.5 * std::numbers::pi) / n;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double u = -0.5 * std::numbers::pi + (i + 0.5) * h;
    const double t = std::tan(u);
    const double c = std::cos(u);
    sum += std::exp(log_norm - 0.5 * (df + 1) * std::log1p(t * t / df)) / (c * c);
  }
  return sum * h;
}

TEST(ArmPosteriorTest, StudentTQuantilesInvertBruteForceCdf) {
  for (double df : {1.5, 3.7, 12.0}) {
    for (double q : {0.01, 0.2, 0.9, 0.975}) {
      const double x = ArmPosterior::StudentT(0, 1, df).Quantile(q);
      EXPECT_NEAR(StudentTCdfByQuadrature(x, df), q, 1e-8) << df << " " << q;
    }
  }
}

TEST(ArmPosteriorTest, QuantileOutsideOpenIntervalIsNaN) {
  EXPECT_TRUE(std::isnan(ArmPosterior::Beta(2, 3).Quantile(0.0)));
  EXPECT_TRUE(std::isnan(ArmPosterior::Beta(2, 3).Quantile(1.0)));
  EXPECT_TRUE(std::isnan(ArmPosterior::Normal(0, 1).Quantile(-0.5)));
  EXPECT_TRUE(std::isnan(ArmPosterior::Normal(0, 1).Quantile(kNaN)));
  EXPECT_TRUE(std::isnan(ArmPosterior::StudentT(0, 1, 3).Quantile(0.0)));
  EXPECT_TRUE(std::isnan(ArmPosterior::StudentT(0, 1, 3).Quantile(1.0)));
  EXPECT_TRUE(std::isnan(ArmPosterior::StudentT(0, 1, 3).Quantile(kNaN)));
  EXPECT_TRUE(std::isnan(ArmPosterior::StudentT(0, 1, 0.5).Quantile(0.5)));
  // A malformed posterior gets NaN too, not an exception.
  EXPECT_TRUE(std::isnan(ArmPosterior::Beta(-1, 3).Quantile(0.5)));
}

// Boost 1.74's inverse incomplete beta throws from a root finder for
// Beta(2, 1e17) at 0.025 whatever the policy: the quantile must return, not
// throw (a prior_beta of 1e17 aborted `allot weights` this way).
TEST(ArmPosteriorTest, QuantileNeverThrows) {
  double q = 0;
  ASSERT_NO_THROW(q = ArmPosterior::Beta(2, 1e17).Quantile(0.025));
  EXPECT_TRUE(std::isnan(q) || (q >= 0 && q <= 1)) << q;
  ASSERT_NO_THROW(q = ArmPosterior::Beta(1e17, 2).Quantile(0.975));
  EXPECT_TRUE(std::isnan(q) || (q >= 0 && q <= 1)) << q;
}

TEST(ValidatePosteriorsTest, AcceptsWellFormedArms) {
  const std::vector<ArmPosterior> beta = {ArmPosterior::Beta(1, 1),
                                          ArmPosterior::Beta(0.5, 1e9)};
  EXPECT_TRUE(ValidatePosteriors(beta).ok());
  const std::vector<ArmPosterior> normal = {ArmPosterior::Normal(-1e12, 1e-9),
                                            ArmPosterior::Normal(0, 3)};
  EXPECT_TRUE(ValidatePosteriors(normal).ok());
  const std::vector<ArmPosterior> student = {ArmPosterior::StudentT(0, 1, 1),
                                             ArmPosterior::StudentT(0, 3, kInf)};
  EXPECT_TRUE(ValidatePosteriors(student).ok());
  // A Normal is the df = inf limit of a t: the two mix.
  const std::vector<ArmPosterior> mixed = {ArmPosterior::Normal(0, 1),
                                           ArmPosterior::StudentT(1, 2, 4.5)};
  EXPECT_TRUE(ValidatePosteriors(mixed).ok());
}

// Expects InvalidArgument whose message contains every one of `parts`.
void ExpectRejected(const std::vector<ArmPosterior>& arms,
                    const std::vector<const char*>& parts) {
  const absl::Status status = ValidatePosteriors(arms);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (const char* part : parts) {
    EXPECT_THAT(status.message(), HasSubstr(part));
  }
}

TEST(ValidatePosteriorsTest, RejectsBadBetaParameters) {
  const ArmPosterior ok = ArmPosterior::Beta(1, 1);
  ExpectRejected({ok, ArmPosterior::Beta(0, 1)}, {"arm 1", "alpha", "got 0"});
  ExpectRejected({ok, ArmPosterior::Beta(-2.5, 1)}, {"arm 1", "alpha", "got -2.5"});
  ExpectRejected({ArmPosterior::Beta(kNaN, 1), ok}, {"arm 0", "alpha", "got nan"});
  ExpectRejected({ok, ok, ArmPosterior::Beta(1, kInf)}, {"arm 2", "beta", "got inf"});
  ExpectRejected({ok, ArmPosterior::Beta(1, -0.5)}, {"arm 1", "beta", "got -0.5"});
}

TEST(ValidatePosteriorsTest, RejectsBadNormalParameters) {
  const ArmPosterior ok = ArmPosterior::Normal(0, 1);
  ExpectRejected({ok, ArmPosterior::Normal(0, 0)}, {"arm 1", "sd", "got 0"});
  ExpectRejected({ok, ArmPosterior::Normal(0, -1)}, {"arm 1", "sd", "got -1"});
  ExpectRejected({ok, ArmPosterior::Normal(0, kNaN)}, {"arm 1", "sd", "got nan"});
  ExpectRejected({ok, ArmPosterior::Normal(0, kInf)}, {"arm 1", "sd", "got inf"});
  ExpectRejected({ArmPosterior::Normal(kNaN, 1), ok}, {"arm 0", "mean", "got nan"});
  ExpectRejected({ok, ArmPosterior::Normal(-kInf, 1)}, {"arm 1", "mean", "got -inf"});
}

TEST(ValidatePosteriorsTest, RejectsBadStudentTParameters) {
  const ArmPosterior ok = ArmPosterior::StudentT(0, 1, 3);
  ExpectRejected({ok, ArmPosterior::StudentT(0, 1, 0.5)}, {"arm 1", "df", "got 0.5"});
  ExpectRejected({ok, ArmPosterior::StudentT(0, 1, 0)}, {"arm 1", "df", "got 0"});
  ExpectRejected({ArmPosterior::StudentT(0, 1, -3), ok}, {"arm 0", "df", "got -3"});
  ExpectRejected({ok, ArmPosterior::StudentT(0, 1, kNaN)}, {"arm 1", "df", "got nan"});
  ExpectRejected({ok, ArmPosterior::StudentT(0, 0, 3)}, {"arm 1", "scale", "got 0"});
  ExpectRejected({ok, ArmPosterior::StudentT(0, kInf, 3)}, {"arm 1", "scale", "got inf"});
  ExpectRejected({ok, ok, ArmPosterior::StudentT(kNaN, 1, 3)},
                 {"arm 2", "location", "got nan"});
}

TEST(ValidatePosteriorsTest, RejectsMixedFamilies) {
  ExpectRejected({ArmPosterior::Beta(1, 1), ArmPosterior::Normal(0, 1)},
                 {"arm 1", "normal", "beta"});
  ExpectRejected({ArmPosterior::Beta(1, 1), ArmPosterior::StudentT(0, 1, 3)},
                 {"arm 1", "student t", "beta"});
  ExpectRejected({ArmPosterior::StudentT(0, 1, 3), ArmPosterior::Beta(1, 1)},
                 {"arm 1", "beta", "student t"});
}

TEST(ValidatePosteriorsTest, RejectsFewerThanTwoArms) {
  ExpectRejected({}, {"at least 2 arms", "got 0"});
  ExpectRejected({ArmPosterior::Beta(1, 1)}, {"at least 2 arms", "got 1"});
}

TEST(ValidatePosteriorsTest, RejectsUnknownFamily) {
  ArmPosterior odd;
  odd.family = static_cast<PosteriorFamily>(7);
  ExpectRejected({ArmPosterior::Beta(1, 1), odd}, {"arm 1", "family 7"});
}

}  // namespace
}  // namespace allot
