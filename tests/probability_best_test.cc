// Copyright 2026 The allot Authors.
//
// ProbabilityBest and ExpectedLoss against closed forms, independent
// quadratures and Monte Carlo references computed here, with code that shares
// nothing with the library's (different variable, different rule, Boost's
// incomplete beta and the standard library's samplers).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "boost/math/distributions/beta.hpp"
#include "boost/math/distributions/normal.hpp"
#include "boost/math/quadrature/gauss.hpp"
#include "gtest/gtest.h"
#include "tests/best_of.h"

namespace allot {
namespace {

constexpr Direction kHigher = Direction::kHigherIsBetter;
constexpr Direction kLower = Direction::kLowerIsBetter;
// What posterior.h promises for the quadrature path.
constexpr double kQuadratureTolerance = 1e-6;

double Sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

double LogBeta(double a, double b) {
  return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
}

// P(p_B > p_A) for p_A ~ Beta(aa, ba), p_B ~ Beta(ab, bb), integer ab
// (Evan Miller, "Formulas for Bayesian A/B testing", 2015).
double EvanMillerProbabilityBBeatsA(double aa, double ba, int ab, double bb) {
  double total = 0.0;
  for (int i = 0; i < ab; ++i) {
    total += std::exp(LogBeta(aa + i, ba + bb) - std::log(bb + i) - LogBeta(1.0 + i, bb) -
                      LogBeta(aa, ba));
  }
  return total;
}

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double PhiDensity(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
}

struct Reference {
  std::vector<double> p_best;
  double expected_best = 0.0;  // E[max] (E[min] for lower-is-better)
};

// Composite 20-point Gauss-Legendre (Boost's tables) in the original
// variable: every arm's central 1 - 2e-14 is cut into pieces of at most
// `sd_per_piece` of its standard deviations, the cuts of all arms merged, and
// P(i best) = integral of f_i prod_{j != i} G_j with G the CDF
// (higher-is-better) or survival function (lower), both from Boost. On pieces
// of two standard deviations the rule is exact to ~1e-13, so the error is the
// 2e-14 tail cut off per arm.
Reference GaussReference(const std::vector<ArmPosterior>& arms, Direction direction,
                         double sd_per_piece = 2.0) {
  using Rule = boost::math::quadrature::gauss<double, 20>;
  const size_t k = arms.size();
  const bool beta = arms[0].family == PosteriorFamily::kBeta;
  std::vector<double> cuts;
  for (const ArmPosterior& arm : arms) {
    double lo = arm.a - 9.5 * arm.b, hi = arm.a + 9.5 * arm.b;
    if (beta) {
      boost::math::beta_distribution<> d(arm.a, arm.b);
      lo = boost::math::quantile(d, 1e-14);
      hi = boost::math::quantile(complement(d, 1e-14));
    }
    const int pieces = static_cast<int>(
        std::ceil((hi - lo) / (sd_per_piece * std::sqrt(arm.Variance()))));
    for (int n = 0; n <= pieces; ++n) cuts.push_back(lo + (hi - lo) * n / pieces);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  Reference ref;
  ref.p_best.assign(k, 0.0);
  std::vector<double> pdf(k), g(k), prefix(k + 1), suffix(k + 1);
  auto add_node = [&](double x, double weight) {
    for (size_t j = 0; j < k; ++j) {
      if (beta) {
        boost::math::beta_distribution<> d(arms[j].a, arms[j].b);
        pdf[j] = boost::math::pdf(d, x);
        g[j] = direction == kHigher ? boost::math::cdf(d, x)
                                    : boost::math::cdf(complement(d, x));
      } else {
        const double z = (x - arms[j].a) / arms[j].b;
        pdf[j] = PhiDensity(z) / arms[j].b;
        g[j] = direction == kHigher ? Phi(z) : Phi(-z);
      }
    }
    prefix[0] = 1.0;
    for (size_t j = 0; j < k; ++j) prefix[j + 1] = prefix[j] * g[j];
    suffix[k] = 1.0;
    for (size_t j = k; j-- > 0;) suffix[j] = suffix[j + 1] * g[j];
    for (size_t i = 0; i < k; ++i) {
      const double c = weight * pdf[i] * prefix[i] * suffix[i + 1];
      ref.p_best[i] += c;
      ref.expected_best += x * c;
    }
  };
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    const double half = 0.5 * (cuts[c + 1] - cuts[c]);
    const double mid = 0.5 * (cuts[c + 1] + cuts[c]);
    for (size_t n = 0; n < Rule::abscissa().size(); ++n) {
      const double dx = half * Rule::abscissa()[n];
      const double w = half * Rule::weights()[n];
      add_node(mid - dx, w);
      if (dx != 0.0) add_node(mid + dx, w);
    }
  }
  return ref;
}

// Brute force in the original variable (the rate for Beta arms, the mean for
// Normal arms), for hundreds of arms: composite 20-point Gauss-Legendre on
// pieces one standard deviation wide of the narrowest arm whose central
// 1 - 2e-14 holds the piece, every arm's density and CDF (or survival
// function) from Boost.Math at every node, and each arm's product over the
// other arms formed term by term, O(K^2) per node. The library integrates in
// the logit, with 10 nodes on panels two local standard deviations wide, CDFs
// from its own integration and O(K) prefix and suffix products: nothing is
// shared. A one-sd piece is at least ~2.4 sd of the maximum of the arms
// (for 256 i.i.d. Normal arms the maximum's sd is 0.42 of an arm's), where
// the 20-point rule is exact to ~1e-15; the cut tails add <= 2e-14 per arm.
// REQUIRES: Beta shapes >= 1 (a bounded density in the rate).
Reference BruteForceReference(const std::vector<ArmPosterior>& arms,
                              Direction direction) {
  using Rule = boost::math::quadrature::gauss<double, 20>;
  const size_t k = arms.size();
  const bool beta = arms[0].family == PosteriorFamily::kBeta;
  std::vector<double> lo(k), hi(k), sd(k);
  for (size_t j = 0; j < k; ++j) {
    sd[j] = std::sqrt(arms[j].Variance());
    if (beta) {
      boost::math::beta_distribution<> d(arms[j].a, arms[j].b);
      lo[j] = boost::math::quantile(d, 1e-14);
      hi[j] = boost::math::quantile(complement(d, 1e-14));
    } else {
      boost::math::normal d(arms[j].a, arms[j].b);
      lo[j] = boost::math::quantile(d, 1e-14);
      hi[j] = boost::math::quantile(complement(d, 1e-14));
    }
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, double>> pieces;
  double x = *std::min_element(lo.begin(), lo.end());
  const double top = *std::max_element(hi.begin(), hi.end());
  while (x < top) {
    double step = kInf;
    for (size_t j = 0; j < k; ++j) {
      if (lo[j] <= x && x < hi[j]) step = std::min(step, sd[j]);
    }
    if (step == kInf) {  // between windows
      double next = kInf;
      for (size_t j = 0; j < k; ++j) {
        if (lo[j] > x) next = std::min(next, lo[j]);
      }
      x = next;
      continue;
    }
    double end = std::min(x + step, top);
    for (size_t j = 0; j < k; ++j) {  // a narrower arm starts inside
      if (lo[j] > x && lo[j] < end && sd[j] < end - x) end = lo[j];
    }
    pieces.emplace_back(x, end);
    x = end;
  }

  Reference ref;
  ref.p_best.assign(k, 0.0);
  std::vector<double> pdf(k), g(k);
  auto add_node = [&](double at, double weight) {
    for (size_t j = 0; j < k; ++j) {
      if (beta) {
        boost::math::beta_distribution<> d(arms[j].a, arms[j].b);
        pdf[j] = boost::math::pdf(d, at);
        g[j] = direction == kHigher ? boost::math::cdf(d, at)
                                    : boost::math::cdf(complement(d, at));
      } else {
        boost::math::normal d(arms[j].a, arms[j].b);
        pdf[j] = boost::math::pdf(d, at);
        g[j] = direction == kHigher ? boost::math::cdf(d, at)
                                    : boost::math::cdf(complement(d, at));
      }
    }
    for (size_t i = 0; i < k; ++i) {
      if (pdf[i] == 0.0) continue;
      double product = weight * pdf[i];
      for (size_t j = 0; j < k; ++j) {
        if (j != i) product *= g[j];
      }
      ref.p_best[i] += product;
      ref.expected_best += at * product;
    }
  };
  for (const auto& [a, b] : pieces) {
    const double half = 0.5 * (b - a), mid = 0.5 * (b + a);
    for (size_t n = 0; n < Rule::abscissa().size(); ++n) {
      const double dx = half * Rule::abscissa()[n];
      const double w = half * Rule::weights()[n];
      add_node(mid - dx, w);
      if (dx != 0.0) add_node(mid + dx, w);
    }
  }
  return ref;
}

struct MonteCarloReference {
  std::vector<double> p_best;
  std::vector<double> loss;  // E|best - mu_i|
  std::vector<double> loss_std_error;
  int draws = 0;
};

// Plain Monte Carlo with the standard library's samplers.
MonteCarloReference MonteCarlo(const std::vector<ArmPosterior>& arms, Direction direction,
                               int draws, uint64_t seed) {
  const size_t k = arms.size();
  std::mt19937_64 engine(seed);
  std::vector<std::gamma_distribution<double>> ga, gb;
  std::vector<std::normal_distribution<double>> normal;
  for (const ArmPosterior& arm : arms) {
    ga.emplace_back(arm.family == PosteriorFamily::kBeta ? arm.a : 1.0, 1.0);
    gb.emplace_back(arm.family == PosteriorFamily::kBeta ? arm.b : 1.0, 1.0);
    normal.emplace_back(arm.a, arm.b);
  }
  std::vector<double> x(k), wins(k, 0.0), sum(k, 0.0), sum_sq(k, 0.0);
  for (int n = 0; n < draws; ++n) {
    size_t best = 0;
    for (size_t j = 0; j < k; ++j) {
      if (arms[j].family == PosteriorFamily::kBeta) {
        const double u = ga[j](engine), v = gb[j](engine);
        x[j] = u / (u + v);
      } else {
        x[j] = normal[j](engine);
      }
      if (direction == kHigher ? x[j] > x[best] : x[j] < x[best]) best = j;
    }
    wins[best] += 1.0;
    for (size_t j = 0; j < k; ++j) {
      const double loss = std::fabs(x[best] - x[j]);
      sum[j] += loss;
      sum_sq[j] += loss * loss;
    }
  }
  MonteCarloReference ref;
  ref.draws = draws;
  for (size_t j = 0; j < k; ++j) {
    ref.p_best.push_back(wins[j] / draws);
    const double mean = sum[j] / draws;
    ref.loss.push_back(mean);
    ref.loss_std_error.push_back(
        std::sqrt(std::max(0.0, sum_sq[j] / draws - mean * mean) / draws));
  }
  return ref;
}

// Five binomial standard errors: a correct implementation fails such a
// check with probability ~6e-7 per arm; the seeds are fixed, so a pass is
// reproducible and never retried.
double FiveSigma(double p, double draws) {
  return 5.0 * std::sqrt(p * (1.0 - p) / draws);
}

using test::Best;
using test::Loss;

TEST(ProbabilityBestTest, TwoBetaArmsMatchClosedForm) {
  struct Case {
    double aa, ba;
    int ab;
    double bb;
  };
  const Case cases[] = {
      {11, 91, 21, 81},           // the header's example
      {2, 30, 5001, 45001},       // very unequal widths
      {500, 4500, 500, 4500.01},  // near-identical
      {1, 1, 2, 1},               // 2/3 exactly
      {1, 1, 1, 1000},            // zero conversions against the prior
      {3, 1000, 40, 1000},        // nearly certain
      {200, 800, 190, 810},
  };
  for (const Case& c : cases) {
    const std::vector<ArmPosterior> arms = {ArmPosterior::Beta(c.aa, c.ba),
                                            ArmPosterior::Beta(c.ab, c.bb)};
    const double b_wins = EvanMillerProbabilityBBeatsA(c.aa, c.ba, c.ab, c.bb);
    const std::vector<double> p = Best(arms);
    EXPECT_NEAR(p[1], b_wins, kQuadratureTolerance) << c.aa << " " << c.ab;
    EXPECT_NEAR(p[0], 1 - b_wins, kQuadratureTolerance) << c.aa << " " << c.ab;
    EXPECT_NEAR(Sum(p), 1.0, 1e-14);
  }
  EXPECT_NEAR(EvanMillerProbabilityBBeatsA(1, 1, 2, 1), 2.0 / 3.0, 1e-14);
}

TEST(ProbabilityBestTest, TwoNormalArmsMatchClosedForm) {
  struct Case {
    double m1, s1, m2, s2;
  };
  const Case cases[] = {{0, 1, 1, 2},         {0, 1, 0.001, 1e-3},
                        {5, 10, 5.5, 0.01},   {-3, 0.2, -2.9, 0.3},
                        {1e9, 1, 1e9 + 1, 2}, {0, 1e-8, 1e-8, 2e-8}};
  for (const Case& c : cases) {
    const std::vector<double> p =
        Best({ArmPosterior::Normal(c.m1, c.s1), ArmPosterior::Normal(c.m2, c.s2)});
    const double second = Phi((c.m2 - c.m1) / std::hypot(c.s1, c.s2));
    EXPECT_NEAR(p[1], second, kQuadratureTolerance) << c.m1 << " " << c.m2;
    EXPECT_NEAR(p[0], 1 - second, kQuadratureTolerance) << c.m1;
  }
}

TEST(ProbabilityBestTest, ManyArmsMatchIndependentQuadrature) {
  const std::vector<std::vector<ArmPosterior>> cases = {
      {ArmPosterior::Beta(2, 30), ArmPosterior::Beta(5001, 45001),
       ArmPosterior::Beta(12, 100)},
      {ArmPosterior::Beta(101, 1900), ArmPosterior::Beta(100, 1900),
       ArmPosterior::Beta(100, 1901), ArmPosterior::Beta(99, 1800),
       ArmPosterior::Beta(1, 50)},
      {ArmPosterior::Normal(0, 1), ArmPosterior::Normal(0.5, 0.001),
       ArmPosterior::Normal(-3, 10), ArmPosterior::Normal(0.4, 0.3)},
  };
  for (const std::vector<ArmPosterior>& arms : cases) {
    for (Direction direction : {kHigher, kLower}) {
      const Reference ref = GaussReference(arms, direction);
      ASSERT_NEAR(Sum(ref.p_best), 1.0, 1e-12);  // the reference is sound
      const std::vector<double> p = Best(arms, direction);
      for (size_t i = 0; i < arms.size(); ++i) {
        EXPECT_NEAR(p[i], ref.p_best[i], kQuadratureTolerance)
            << "arm " << i << " of " << arms.size();
      }
    }
  }
}

TEST(ProbabilityBestTest, TenAndThirtyTwoBetaArmsMatchIndependentQuadrature) {
  std::mt19937_64 engine(17);
  std::uniform_real_distribution<double> units(1000, 5000), rate(0.08, 0.1);
  for (int k : {10, 32}) {
    std::vector<ArmPosterior> arms;
    for (int i = 0; i < k; ++i) {
      const double n = units(engine), p = rate(engine);
      arms.push_back(ArmPosterior::Beta(1 + p * n, 1 + (1 - p) * n));
    }
    const Reference ref = GaussReference(arms, kHigher);
    ASSERT_NEAR(Sum(ref.p_best), 1.0, 1e-12);
    const std::vector<double> p = Best(arms);
    for (int i = 0; i < k; ++i) {
      EXPECT_NEAR(p[i], ref.p_best[i], kQuadratureTolerance) << i;
    }
  }
}

// Monte Carlo with 10^7 draws: five standard errors is at most 8e-4, so
// this catches gross errors (a wrong direction, a lost arm, a bad window)
// with an estimator that shares no assumptions with the quadrature.
TEST(ProbabilityBestTest, ThreeFiveAndTenArmsMatchMonteCarlo) {
  const std::vector<std::vector<ArmPosterior>> cases = {
      {ArmPosterior::Beta(30, 270), ArmPosterior::Beta(36, 264),
       ArmPosterior::Beta(8, 50)},
      {ArmPosterior::Normal(-0.2, 0.1), ArmPosterior::Normal(-0.1, 0.3),
       ArmPosterior::Normal(-0.15, 0.02), ArmPosterior::Normal(-1, 1),
       ArmPosterior::Normal(-0.12, 0.05)},
      {ArmPosterior::Normal(1.00, 0.10), ArmPosterior::Normal(1.05, 0.20),
       ArmPosterior::Normal(0.90, 0.05), ArmPosterior::Normal(1.10, 0.30),
       ArmPosterior::Normal(1.02, 0.02), ArmPosterior::Normal(0.50, 0.50),
       ArmPosterior::Normal(1.01, 0.11), ArmPosterior::Normal(0.99, 0.01),
       ArmPosterior::Normal(1.20, 0.40), ArmPosterior::Normal(1.04, 0.06)},
  };
  constexpr int kDraws = 10'000'000;
  uint64_t seed = 100;
  for (const std::vector<ArmPosterior>& arms : cases) {
    const MonteCarloReference mc = MonteCarlo(arms, kHigher, kDraws, ++seed);
    const std::vector<double> p = Best(arms);
    const std::vector<double> loss = Loss(arms);
    for (size_t i = 0; i < arms.size(); ++i) {
      EXPECT_NEAR(p[i], mc.p_best[i],
                  FiveSigma(mc.p_best[i], kDraws) + kQuadratureTolerance)
          << "arm " << i << " of " << arms.size();
      EXPECT_NEAR(loss[i], mc.loss[i], 5 * mc.loss_std_error[i] + kQuadratureTolerance)
          << "arm " << i << " of " << arms.size();
    }
  }
}

TEST(ProbabilityBestTest, LowerIsBetterMirrorsHigherIsBetter) {
  // 1 - Beta(a, b) ~ Beta(b, a) and -Normal(m, s) ~ Normal(-m, s).
  const std::vector<ArmPosterior> beta = {ArmPosterior::Beta(30, 270),
                                          ArmPosterior::Beta(36, 264),
                                          ArmPosterior::Beta(8, 50)};
  const std::vector<ArmPosterior> beta_mirror = {ArmPosterior::Beta(270, 30),
                                                 ArmPosterior::Beta(264, 36),
                                                 ArmPosterior::Beta(50, 8)};
  const std::vector<ArmPosterior> normal = {ArmPosterior::Normal(3, 1),
                                            ArmPosterior::Normal(2, 0.5),
                                            ArmPosterior::Normal(2.5, 2)};
  const std::vector<ArmPosterior> normal_mirror = {ArmPosterior::Normal(-3, 1),
                                                   ArmPosterior::Normal(-2, 0.5),
                                                   ArmPosterior::Normal(-2.5, 2)};
  for (const auto& [arms, mirror] :
       {std::pair{beta, beta_mirror}, std::pair{normal, normal_mirror}}) {
    const std::vector<double> lower = Best(arms, kLower);
    const std::vector<double> higher = Best(mirror, kHigher);
    const std::vector<double> lower_loss = Loss(arms, kLower);
    const std::vector<double> higher_loss = Loss(mirror, kHigher);
    for (size_t i = 0; i < arms.size(); ++i) {
      EXPECT_NEAR(lower[i], higher[i], 1e-12);
      EXPECT_NEAR(lower_loss[i], higher_loss[i], 1e-12);
    }
  }
  // And the smallest mean is the most likely best when lower is better.
  const std::vector<double> p = Best(normal, kLower);
  EXPECT_GT(p[1], p[0]);
}

TEST(ProbabilityBestTest, IdenticalArmsShareEvenly) {
  for (int k : {2, 3, 10, 32, 100, 256}) {
    const std::vector<ArmPosterior> beta(k, ArmPosterior::Beta(120, 880));
    const std::vector<ArmPosterior> normal(k, ArmPosterior::Normal(4, 0.5));
    for (const std::vector<ArmPosterior>* arms : {&beta, &normal}) {
      for (double p : Best(*arms)) EXPECT_NEAR(p, 1.0 / k, 1e-12) << k;
    }
  }
}

TEST(ProbabilityBestTest, ExtremePosteriorsStayFiniteAndSumToOne) {
  const std::vector<std::vector<ArmPosterior>> cases = {
      {ArmPosterior::Beta(1, 1), ArmPosterior::Beta(1, 1e6)},
      {ArmPosterior::Beta(0.5, 0.5), ArmPosterior::Beta(0.5, 3),
       ArmPosterior::Beta(3, 0.5)},
      {ArmPosterior::Beta(1e-3, 1), ArmPosterior::Beta(1, 1e-3)},
      {ArmPosterior::Beta(1e-300, 1), ArmPosterior::Beta(1e-300, 2)},
      {ArmPosterior::Beta(1e8, 9e8), ArmPosterior::Beta(1.0001e8, 9e8)},
      {ArmPosterior::Beta(1e15, 1e15), ArmPosterior::Beta(1e15, 1e15)},
      {ArmPosterior::Normal(0, 1e-300), ArmPosterior::Normal(1e-300, 1e-300)},
      {ArmPosterior::Normal(-1e300, 1e300), ArmPosterior::Normal(1e300, 1)},
      {ArmPosterior::Normal(0, 1), ArmPosterior::Normal(1e20, 1)},
      {ArmPosterior::Normal(0, 1e21), ArmPosterior::Normal(-1e20, 1)},
  };
  for (const std::vector<ArmPosterior>& arms : cases) {
    for (Direction direction : {kHigher, kLower}) {
      const std::vector<double> p = Best(arms, direction);
      const std::vector<double> loss = Loss(arms, direction);
      for (size_t i = 0; i < arms.size(); ++i) {
        EXPECT_TRUE(p[i] >= 0.0 && p[i] <= 1.0) << arms[i].a << " " << p[i];
        EXPECT_TRUE(std::isfinite(loss[i]) && loss[i] >= 0.0)
            << arms[i].a << " " << loss[i];
      }
      EXPECT_NEAR(Sum(p), 1.0, 1e-12) << arms[0].a;
    }
  }
}

TEST(ProbabilityBestTest, ExtremeTwoArmCasesMatchClosedForms) {
  // Huge counts, where the log density is a difference of terms near 1e8.
  {
    const std::vector<double> p =
        Best({ArmPosterior::Beta(1e8, 9e8), ArmPosterior::Beta(1.00005e8, 9e8)});
    // At this size Beta is Normal to ~1e-4 relative in the tails; the means
    // differ by ~1.6 sd of the difference.
    const ArmPosterior a = ArmPosterior::Beta(1e8, 9e8);
    const ArmPosterior b = ArmPosterior::Beta(1.00005e8, 9e8);
    const double z = (b.Mean() - a.Mean()) / std::sqrt(a.Variance() + b.Variance());
    EXPECT_NEAR(p[1], Phi(z), 1e-4);
  }
  // An arm far narrower than the spacing of doubles where it lies: best
  // when the wide arm falls below it, Phi(-0.1) (Monte Carlo, 5 sigma).
  {
    const std::vector<double> p =
        Best({ArmPosterior::Normal(0, 1e21), ArmPosterior::Normal(-1e20, 1)});
    EXPECT_NEAR(p[1], Phi(-0.1), FiveSigma(0.46, kMonteCarloDraws));
  }
  // A dominated arm is never best.
  const std::vector<double> p =
      Best({ArmPosterior::Beta(1, 1000), ArmPosterior::Beta(1000, 1)});
  EXPECT_LT(p[0], 1e-15);
  EXPECT_EQ(p[1], 1.0);
  // Jeffreys priors: P(Beta(1/2, 1/2) > Beta(1/2, 1/2)) = 1/2 exactly.
  const std::vector<double> jeffreys =
      Best({ArmPosterior::Beta(0.5, 0.5), ArmPosterior::Beta(0.5, 0.5)});
  EXPECT_NEAR(jeffreys[0], 0.5, 1e-12);
}

TEST(ExpectedLossTest, TwoNormalArmsMatchClosedForm) {
  // With D = X1 - X2 ~ N(d, t^2): loss_2 = E[D+] = d Phi(d/t) + t phi(d/t),
  // loss_1 = E[(-D)+] = -d Phi(-d/t) + t phi(d/t).
  struct Case {
    double m1, s1, m2, s2;
  };
  for (const Case& c : {Case{1, 1, 0, 2}, Case{0, 0.01, 0.001, 0.02}, Case{100, 3, 90, 4},
                        Case{5, 1, 5, 1}}) {
    const std::vector<ArmPosterior> arms = {ArmPosterior::Normal(c.m1, c.s1),
                                            ArmPosterior::Normal(c.m2, c.s2)};
    const double d = c.m1 - c.m2, t = std::hypot(c.s1, c.s2);
    const std::vector<double> loss = Loss(arms);
    const double scale = std::max(c.s1, c.s2);
    EXPECT_NEAR(loss[1], d * Phi(d / t) + t * PhiDensity(d / t), 1e-9 * scale);
    EXPECT_NEAR(loss[0], -d * Phi(-d / t) + t * PhiDensity(d / t), 1e-9 * scale);
    // Lower-is-better swaps the roles.
    const std::vector<double> lower = Loss(arms, kLower);
    EXPECT_NEAR(lower[0], loss[1], 1e-9 * scale);
    EXPECT_NEAR(lower[1], loss[0], 1e-9 * scale);
  }
}

TEST(ExpectedLossTest, ManyArmsMatchIndependentQuadrature) {
  const std::vector<ArmPosterior> arms = {
      ArmPosterior::Beta(101, 1900), ArmPosterior::Beta(100, 1900),
      ArmPosterior::Beta(2, 30), ArmPosterior::Beta(99, 1800), ArmPosterior::Beta(1, 50)};
  for (Direction direction : {kHigher, kLower}) {
    const Reference ref = GaussReference(arms, direction);
    const std::vector<double> loss = Loss(arms, direction);
    for (size_t i = 0; i < arms.size(); ++i) {
      const double expected = direction == kHigher ? ref.expected_best - arms[i].Mean()
                                                   : arms[i].Mean() - ref.expected_best;
      EXPECT_NEAR(loss[i], expected, 1e-8) << i;
    }
  }
}

// The rest is about many arms: the quadrature has no arm limit.

// Arms like a real experiment's (the benchmark's): rates of 8-10% after
// 1,000-5,000 units each, or means 9.9-10.1 with sds 0.05-0.1.
std::vector<ArmPosterior> OverlappingArms(PosteriorFamily family, int k, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> units(1000, 5000), rate(0.08, 0.1);
  std::uniform_real_distribution<double> mean(9.9, 10.1), sd(0.05, 0.1);
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < k; ++i) {
    if (family == PosteriorFamily::kBeta) {
      const double n = units(engine), p = rate(engine);
      arms.push_back(ArmPosterior::Beta(1 + p * n, 1 + (1 - p) * n));
    } else {
      const double m = mean(engine);
      arms.push_back(ArmPosterior::Normal(m, sd(engine)));
    }
  }
  return arms;
}

// Nearly i.i.d. arms, where the maximum of K arms is much narrower than any
// one arm (for 256 Normal arms, 0.42 of an arm's sd): the hardest case for
// panels sized by the arms' own widths.
std::vector<ArmPosterior> NearlyIdenticalArms(PosteriorFamily family, int k,
                                              uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> jitter(-1, 1);
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < k; ++i) {
    if (family == PosteriorFamily::kBeta) {
      const double n = 3000 + 30 * jitter(engine);
      const double p = 0.09 + 0.0005 * jitter(engine);
      arms.push_back(ArmPosterior::Beta(1 + p * n, 1 + (1 - p) * n));
    } else {
      const double m = 0.02 * jitter(engine);
      arms.push_back(ArmPosterior::Normal(m, 1 + 0.05 * jitter(engine)));
    }
  }
  return arms;
}

// Mostly very concentrated arms (Beta after 10^6 to 10^7 units, sd ~1e-4;
// Normal sd 1e-4 to 3e-4) packed close together, and every 20th arm very
// diffuse (Beta after 20 to 300 units or a Beta(1, 30) prior-like arm;
// Normal sd 1 to 2), placed lower so that both kinds keep a real chance of
// being best. Widths differ by up to ~2e4.
std::vector<ArmPosterior> MixedArms(PosteriorFamily family, int k, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < k; ++i) {
    const bool diffuse = i % 20 == 7;
    if (family == PosteriorFamily::kBeta) {
      if (i == 47) {
        arms.push_back(ArmPosterior::Beta(1, 30));
        continue;
      }
      const double n = diffuse ? 20 + 280 * u(engine) : std::pow(10, 6 + u(engine));
      const double p = diffuse ? 0.04 + 0.03 * u(engine) : 0.0895 + 0.001 * u(engine);
      arms.push_back(ArmPosterior::Beta(1 + p * n, 1 + (1 - p) * n));
    } else {
      const double m = diffuse ? 7 + u(engine) : 10 + 1e-3 * (u(engine) - 0.5);
      const double sd = diffuse ? 1 + u(engine) : 1e-4 * (1 + 2 * u(engine));
      arms.push_back(ArmPosterior::Normal(m, sd));
    }
  }
  return arms;
}

struct Errors {
  double p_best = 0.0;
  double loss = 0.0;
  double sum = 0.0;  // |sum of P(best) - 1|
};

// Compares ProbabilityBest and ExpectedLoss on `arms` with the brute-force
// reference: P(best) within kQuadratureTolerance, losses within 1e-8 of the
// arms' largest sd, P(best) summing to 1 within 1e-9. Returns the errors.
Errors CheckAgainstBruteForce(const std::vector<ArmPosterior>& arms, Direction direction,
                              const char* label) {
  const Reference ref = BruteForceReference(arms, direction);
  // The reference is sound: only the cut tails, <= 2e-14 per arm, are lost.
  EXPECT_NEAR(Sum(ref.p_best), 1.0, 2e-14 * arms.size() + 1e-13) << label;
  const std::vector<double> p = Best(arms, direction);
  const std::vector<double> loss = Loss(arms, direction);
  double scale = 0.0;
  for (const ArmPosterior& arm : arms) {
    scale = std::max(scale, std::sqrt(arm.Variance()));
  }
  Errors errors;
  errors.sum = std::fabs(Sum(p) - 1.0);
  EXPECT_LE(errors.sum, 1e-9) << label;
  for (size_t i = 0; i < arms.size(); ++i) {
    EXPECT_NEAR(p[i], ref.p_best[i], kQuadratureTolerance)
        << label << ": arm " << i << " of " << arms.size();
    const double expected = direction == kHigher ? ref.expected_best - arms[i].Mean()
                                                 : arms[i].Mean() - ref.expected_best;
    EXPECT_NEAR(loss[i], expected, 1e-8 * scale)
        << label << ": arm " << i << " of " << arms.size();
    errors.p_best = std::max(errors.p_best, std::fabs(p[i] - ref.p_best[i]));
    errors.loss = std::max(errors.loss, std::fabs(loss[i] - expected));
  }
  // Printed for the record (README's accuracy figures).
  std::printf(
      "%-28s K=%3zu %-6s max |P - ref| %.1e, max |loss - ref| %.1e, "
      "|sum P - 1| %.1e\n",
      label, arms.size(), direction == kHigher ? "higher" : "lower", errors.p_best,
      errors.loss, errors.sum);
  return errors;
}

TEST(ProbabilityBestTest, HundredsOfOverlappingArmsMatchBruteForce) {
  for (int k : {100, 256}) {
    for (PosteriorFamily family : {PosteriorFamily::kBeta, PosteriorFamily::kNormal}) {
      const char* label =
          family == PosteriorFamily::kBeta ? "overlapping Beta" : "overlapping Normal";
      for (Direction direction : {kHigher, kLower}) {
        CheckAgainstBruteForce(OverlappingArms(family, k, 41 + k), direction, label);
      }
    }
  }
}

TEST(ProbabilityBestTest, HundredsOfNearlyIdenticalArmsMatchBruteForce) {
  for (int k : {100, 256}) {
    for (PosteriorFamily family : {PosteriorFamily::kBeta, PosteriorFamily::kNormal}) {
      const char* label = family == PosteriorFamily::kBeta ? "nearly identical Beta"
                                                           : "nearly identical Normal";
      CheckAgainstBruteForce(NearlyIdenticalArms(family, k, 43 + k), kHigher, label);
    }
  }
}

TEST(ProbabilityBestTest, ConcentratedAndDiffuseArmsMatchBruteForce) {
  for (int k : {100, 256}) {
    for (PosteriorFamily family : {PosteriorFamily::kBeta, PosteriorFamily::kNormal}) {
      const char* label =
          family == PosteriorFamily::kBeta ? "mixed Beta" : "mixed Normal";
      for (Direction direction : {kHigher, kLower}) {
        CheckAgainstBruteForce(MixedArms(family, k, 47 + k), direction, label);
      }
    }
  }
}

// K i.i.d. arms: P(best) = 1/K exactly, and for N(0, 1) arms
// E[max] = integral of x K phi(x) Phi(x)^(K-1) dx, here by Simpson's rule on
// [-12, 12] with 24,000 steps (error ~h^4, below 1e-12).
TEST(ExpectedLossTest, IdenticalNormalArmsMatchExpectedMaximum) {
  for (int k : {2, 32, 100, 256}) {
    const std::vector<ArmPosterior> arms(k, ArmPosterior::Normal(0, 1));
    constexpr int kSteps = 24000;
    const double h = 24.0 / kSteps;
    double expected_max = 0.0;
    for (int n = 0; n <= kSteps; ++n) {
      const double x = -12 + n * h;
      const double weight = n == 0 || n == kSteps ? 1 : (n % 2 == 1 ? 4 : 2);
      expected_max += weight * x * k * PhiDensity(x) * std::pow(Phi(x), k - 1) * h / 3;
    }
    const std::vector<double> loss = Loss(arms);
    const std::vector<double> p = Best(arms);
    for (int i = 0; i < k; ++i) {
      EXPECT_NEAR(loss[i], expected_max, 1e-8) << k;
      EXPECT_NEAR(p[i], 1.0 / k, 1e-12) << k;
    }
    std::printf("iid N(0,1) K=%3d E[max] %.12f, loss error %.1e\n", k, expected_max,
                std::fabs(loss[0] - expected_max));
  }
}

// 40 arms, once Monte Carlo, now quadrature: the seed changes nothing, and
// the results match the merged-cut reference.
TEST(ProbabilityBestTest, FortyArmsIgnoreTheSeed) {
  std::mt19937_64 engine(29);
  std::uniform_real_distribution<double> mean(0.9, 1.1), sd(0.05, 0.15);
  std::uniform_real_distribution<double> units(1000, 5000), rate(0.08, 0.1);
  std::vector<ArmPosterior> normal, beta;
  for (int i = 0; i < 40; ++i) {
    normal.push_back(ArmPosterior::Normal(mean(engine), sd(engine)));
    const double n = units(engine), p = rate(engine);
    beta.push_back(ArmPosterior::Beta(1 + p * n, 1 + (1 - p) * n));
  }
  for (const std::vector<ArmPosterior>* arms : {&normal, &beta}) {
    const Reference ref = GaussReference(*arms, kHigher);
    ASSERT_NEAR(Sum(ref.p_best), 1.0, 1e-12);
    const std::vector<double> p = Best(*arms, kHigher, /*seed=*/5);
    const std::vector<double> loss = Loss(*arms, kHigher, /*seed=*/5);
    EXPECT_NEAR(Sum(p), 1.0, 1e-12);
    for (size_t i = 0; i < arms->size(); ++i) {
      EXPECT_NEAR(p[i], ref.p_best[i], kQuadratureTolerance) << i;
      EXPECT_NEAR(loss[i], ref.expected_best - (*arms)[i].Mean(), 1e-8) << i;
    }
    EXPECT_EQ(p, Best(*arms, kHigher, 6));
    EXPECT_EQ(loss, Loss(*arms, kHigher, 6));
  }
}

// Posteriors too extreme to grid (here Beta shapes of 1e-12, whose logit
// spreads over ~1e12) still fall back to seeded Monte Carlo: bit-identical
// for a seed, other draws for another seed.
TEST(ProbabilityBestTest, TooExtremeToGridUsesSeededMonteCarlo) {
  const std::vector<ArmPosterior> arms = {ArmPosterior::Beta(1e-12, 1),
                                          ArmPosterior::Beta(1e-12, 2)};
  const std::vector<double> p = Best(arms, kHigher, 5);
  EXPECT_NEAR(Sum(p), 1.0, 1e-12);
  EXPECT_EQ(p, Best(arms, kHigher, 5));
  EXPECT_EQ(Loss(arms, kHigher, 5), Loss(arms, kHigher, 5));
  EXPECT_NE(p, Best(arms, kHigher, 6));
}

// Shapes below 1 (infinite densities at 0 and 1 in the rate). For K arms of
// Beta(1/2, 1/2) (arcsine: F(x) = (2/pi) asin(sqrt(x))), each is best with
// probability 1/K and E[max] = integral over [0, pi/2] of
// (1 - (2u/pi)^K) sin(2u) du, taken here by the midpoint rule (error
// ~h^2 K^2 / 24, below 1e-9 for 10^6 steps and K = 256).
TEST(ProbabilityBestTest, ShapesBelowOneMatchArcsineClosedForm) {
  for (int k : {33, 256}) {
    const std::vector<ArmPosterior> arms(k, ArmPosterior::Beta(0.5, 0.5));
    for (double p : Best(arms)) EXPECT_NEAR(p, 1.0 / k, 1e-12);
    constexpr int kSteps = 1000000;
    const double h = std::numbers::pi / 2 / kSteps;
    double expected_max = 0.0;
    for (int n = 0; n < kSteps; ++n) {
      const double u = (n + 0.5) * h;
      expected_max += h * (1 - std::pow(2 * u / std::numbers::pi, k)) * std::sin(2 * u);
    }
    for (double loss : Loss(arms)) {
      EXPECT_NEAR(loss, expected_max - 0.5, 1e-8) << k;
    }
  }
}

TEST(ProbabilityBestTest, QuadratureIsDeterministic) {
  const std::vector<ArmPosterior> arms = {
      ArmPosterior::Beta(30, 270), ArmPosterior::Beta(36, 264), ArmPosterior::Beta(8, 50),
      ArmPosterior::Beta(31, 250)};
  EXPECT_EQ(Best(arms, kHigher, 1), Best(arms, kHigher, 1));
  // The seed is not used by the quadrature.
  EXPECT_EQ(Best(arms, kHigher, 1), Best(arms, kHigher, 99));
  EXPECT_EQ(Loss(arms, kHigher, 1), Loss(arms, kHigher, 1));
}

TEST(ProbabilityBestTest, RejectsBadPosteriors) {
  const std::vector<ArmPosterior> one = {ArmPosterior::Beta(1, 1)};
  EXPECT_EQ(ProbabilityBest(one, kHigher, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<ArmPosterior> bad = {ArmPosterior::Beta(1, 1),
                                         ArmPosterior::Beta(0, 1)};
  EXPECT_EQ(ProbabilityBest(bad, kHigher, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExpectedLoss(bad, kHigher, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace allot
