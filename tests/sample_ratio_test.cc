// Copyright 2026 The allot Authors.
//
// The sequential sample-ratio check: the e-value against a brute-force
// fine-grid integral of the mixture (one epoch and many, extreme shares,
// E beyond 1e300), the way arms combine, the edge cases, the running
// minimum, and the error rates it is for: the A/A false-alarm rate over runs
// with a look at every epoch (shares fixed in advance and shares that chase
// the data) and the power against a 5% loss of one arm's units.

#include "statistics/sample_ratio.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "boost/random/binomial_distribution.hpp"
#include "boost/random/uniform_int_distribution.hpp"
#include "gtest/gtest.h"

namespace allot::internal {
namespace {

using Counts = std::vector<std::vector<int64_t>>;
using Shares = std::vector<std::vector<double>>;

// The simulator's alarm level (kSrmAlarmP in allot/simulation/runner.h).
constexpr double kAlarm = 0.01;

// log of the integral of LR_a(delta) phi_tau(delta) for one arm, by the
// trapezoid rule on a fine grid in long double, written independently of
// the library: log(1 - p + p e^delta) directly, no mode, no Newton, no
// series. A coarse scan (steps of 1e-3, under a third of the smallest
// posterior sd here) finds where the log integrand is within 80 of its
// maximum (e^-80 is far below double precision); 10,000 trapezoids there
// (that range spans ~25 posterior sds) put ~400 points per sd, where the
// trapezoid rule on a smooth, rapidly decaying integrand is accurate to
// rounding.
double BruteForceArmLogE(const Counts& exposures, const Shares& shares, size_t arm) {
  const long double tau = kSampleRatioTau;
  long double m = 0;
  std::vector<long double> n, p;
  for (size_t e = 0; e < exposures.size(); ++e) {
    int64_t total = 0;
    for (int64_t x : exposures[e]) total += x;
    if (total == 0 || !(shares[e][arm] > 0) || !(shares[e][arm] < 1)) continue;
    n.push_back(total);
    p.push_back(shares[e][arm]);
    m += exposures[e][arm];
  }
  auto log_integrand = [&](long double d) {
    long double l =
        d * m - d * d / (2 * tau * tau) - std::log(tau * std::sqrt(2 * M_PIl));
    for (size_t i = 0; i < n.size(); ++i)
      l -= n[i] * std::log(1 - p[i] + p[i] * std::exp(d));
    return l;
  };
  const long double coarse = 1e-3L;
  long double top = -INFINITY;
  for (long double d = -6; d <= 6; d += coarse) top = std::max(top, log_integrand(d));
  long double lo = 6, hi = -6;
  for (long double d = -6; d <= 6; d += coarse) {
    if (log_integrand(d) > top - 80) {
      lo = std::min(lo, d - 2 * coarse);
      hi = std::max(hi, d + 2 * coarse);
    }
  }
  const int steps = 10000;
  const long double h = (hi - lo) / steps;
  long double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const long double w = (i == 0 || i == steps) ? 0.5L : 1.0L;
    sum += w * std::exp(log_integrand(lo + i * h) - top);
  }
  return static_cast<double>(top + std::log(sum * h));
}

// log of the mean over arms of the brute-force E_a.
double BruteForceLogE(const Counts& exposures, const Shares& shares) {
  const size_t arms = exposures[0].size();
  long double sum = 0;
  std::vector<double> logs;
  for (size_t a = 0; a < arms; ++a)
    logs.push_back(BruteForceArmLogE(exposures, shares, a));
  const double top = *std::max_element(logs.begin(), logs.end());
  for (double l : logs) sum += std::exp(static_cast<long double>(l - top));
  return top + static_cast<double>(std::log(sum / arms));
}

// The library's quadrature (24 Gauss-Hermite nodes at the mode) is accurate
// to ~1e-12 relative on E and the brute force to rounding; the log
// integrand's terms (delta times the counts) are at most ~1e3 here, so
// double rounding costs ~1e-13 absolute. 1e-9 on log E (relative on E for
// log E up to 1, relative on log E beyond) leaves a wide margin and still
// catches a wrong normalizing constant, node or sign.
void ExpectMatchesBruteForce(const Counts& exposures, const Shares& shares) {
  const double expected = BruteForceLogE(exposures, shares);
  const double got = SampleRatioLogEValue(exposures, shares);
  EXPECT_NEAR(got, expected, 1e-9 * std::max(1.0, std::fabs(expected)));
}

TEST(SampleRatioLogEValueTest, OneEpochTwoArmsMatchesAFineGridIntegral) {
  ExpectMatchesBruteForce({{60, 40}}, {{0.5, 0.5}});        // prior-dominated, E < 1
  ExpectMatchesBruteForce({{5300, 4700}}, {{0.5, 0.5}});    // z = 6
  ExpectMatchesBruteForce({{280, 720}}, {{0.25, 0.75}});    // unequal shares
  ExpectMatchesBruteForce({{25, 75}}, {{0.25, 0.75}});      // exact match
  ExpectMatchesBruteForce({{3, 99997}}, {{0.001, 0.999}});  // extreme share
  // The likelihood dominates the prior at an extreme share (z = 10).
  ExpectMatchesBruteForce({{11000, 989000}}, {{0.01, 0.99}});
  // No unit in one arm: the mode sits far out (delta ~ -2.5), where the
  // integrand is most skewed.
  ExpectMatchesBruteForce({{0, 20000}}, {{0.5, 0.5}});
}

TEST(SampleRatioLogEValueTest, ManyEpochsAndArmsMatchAFineGridIntegral) {
  // Shares changing by epoch, with an extreme one and a million units.
  ExpectMatchesBruteForce({{450, 550}, {90, 910}, {1990, 10}, {500000, 500000}},
                          {{0.5, 0.5}, {0.1, 0.9}, {0.995, 0.005}, {0.5, 0.5}});
  // Tilted shares on both sides of 1/2 in one arm, ten million units.
  ExpectMatchesBruteForce({{1000, 9000}, {9000, 1000}, {4200000, 5800000}, {10, 90}},
                          {{0.1, 0.9}, {0.9, 0.1}, {0.42, 0.58}, {0.2, 0.8}});
  // Five arms over twenty epochs of random shares, a bandit's reweighting.
  {
    std::mt19937_64 rng(20260117);
    Counts exposures;
    Shares shares;
    for (int e = 0; e < 20; ++e) {
      std::vector<double> s(5);
      double total = 0;
      for (double& x : s)
        total += x = 0.05 + std::uniform_real_distribution<double>()(rng);
      for (double& x : s) x /= total;
      std::vector<int64_t> counts(5);
      for (int a = 0; a < 5; ++a) {
        counts[a] = boost::random::binomial_distribution<int>(1000, s[a])(rng);
      }
      exposures.push_back(counts);
      shares.push_back(s);
    }
    ExpectMatchesBruteForce(exposures, shares);
  }
  // Three arms, one of which has no share in the first epoch.
  ExpectMatchesBruteForce({{300, 0, 700}, {210, 390, 400}, {100, 250, 650}},
                          {{0.3, 0.0, 0.7}, {0.2, 0.4, 0.4}, {0.1, 0.25, 0.65}});
}

TEST(SampleRatioLogEValueTest, HugeEValuesStayFinite) {
  // z ~ 63: E ~ e^1990, far beyond double's range; log E is still exact.
  const Counts exposures = {{60000, 40000}};
  const Shares shares = {{0.5, 0.5}};
  const double log_e = SampleRatioLogEValue(exposures, shares);
  EXPECT_GT(log_e, 700);
  EXPECT_TRUE(std::isfinite(log_e));
  ExpectMatchesBruteForce(exposures, shares);
  EXPECT_EQ(SampleRatioPValue(exposures, shares), 0.0);  // 1 / E underflows to 0
}

TEST(SampleRatioLogEValueTest, TwoArmsGiveEqualEValues) {
  // For two arms, arm 0's likelihood ratio at delta is arm 1's at -delta and
  // the prior is symmetric, so the mean of the two is either one.
  const Counts exposures = {{5300, 4700}};
  const Shares shares = {{0.5, 0.5}};
  EXPECT_NEAR(SampleRatioLogEValue(exposures, shares),
              BruteForceArmLogE(exposures, shares, 1), 1e-9);
}

TEST(SampleRatioLogEValueTest, ArmsWithZeroShareAndNoExposuresHoldEOne) {
  // The arm without a share carries no information: its E is 1, and E is
  // the mean over all three arms, (2 E2 + 1) / 3 with E2 the two-arm one.
  // (The mean runs over a fixed set of arms so that it is a martingale.)
  const double two = std::exp(SampleRatioLogEValue({{5300, 4700}}, {{0.5, 0.5}}));
  const double three =
      std::exp(SampleRatioLogEValue({{5300, 0, 4700}}, {{0.5, 0.0, 0.5}}));
  EXPECT_NEAR(three, (2 * two + 1) / 3, 1e-12 * three);
}

TEST(SampleRatioPValueTest, ExposuresToAnArmWithZeroShareGiveZero) {
  EXPECT_EQ(SampleRatioPValue({{50, 1, 50}}, {{0.5, 0.0, 0.5}}), 0.0);
  // Even when an earlier epoch looks fine.
  EXPECT_EQ(SampleRatioPValue({{50, 50}, {10, 3}}, {{0.5, 0.5}, {1.0, 0.0}}), 0.0);
}

TEST(SampleRatioPValueTest, NothingToTestGivesOne) {
  EXPECT_EQ(SampleRatioPValue({}, {}), 1.0);
  EXPECT_EQ(SampleRatioPValue({{0, 0}}, {{0.5, 0.5}}), 1.0);
  // One arm holds all the traffic: no information.
  EXPECT_EQ(SampleRatioPValue({{100, 0}}, {{1.0, 0.0}}), 1.0);
  EXPECT_EQ(SampleRatioLogEValue({{100, 0}}, {{1.0, 0.0}}), 0.0);
}

TEST(SampleRatioPValueTest, EpochsWithoutExposuresAddNothing) {
  const double alone = SampleRatioPValue({{5300, 4700}}, {{0.5, 0.5}});
  EXPECT_LT(alone, 1.0);
  EXPECT_EQ(SampleRatioPValue({{0, 0}, {5300, 4700}, {0, 0}},
                              {{0.3, 0.7}, {0.5, 0.5}, {0.9, 0.1}}),
            alone);
}

TEST(SampleRatioPValueTest, ExactMatchGivesOne) {
  // The likelihood ratio peaks at delta = 0 where it is 1, so E < 1.
  EXPECT_EQ(SampleRatioPValue({{25, 75}}, {{0.25, 0.75}}), 1.0);
}

TEST(SampleRatioPValueTest, IsTheRunningMinimumOfOneOverE) {
  const Counts exposures = {{5300, 4700}};
  const Shares shares = {{0.5, 0.5}};
  const double fresh = SampleRatioPValue(exposures, shares);
  EXPECT_NEAR(fresh, std::exp(-SampleRatioLogEValue(exposures, shares)), 1e-15);
  EXPECT_EQ(SampleRatioPValue(exposures, shares, 1.0), fresh);
  EXPECT_EQ(SampleRatioPValue(exposures, shares, fresh / 2), fresh / 2);
  EXPECT_EQ(SampleRatioPValue(exposures, shares, std::nan("")), fresh);
  EXPECT_EQ(SampleRatioPValue({{25, 75}}, {{0.25, 0.75}}, 0.2), 0.2);
}

// Wilson score interval for a binomial proportion, z = 1.96 (95%).
struct Interval {
  double low, high;
};
Interval Wilson(int64_t hits, int64_t runs) {
  const double z = 1.959963984540054, n = static_cast<double>(runs);
  const double phat = hits / n, denominator = 1 + z * z / n;
  const double centre = (phat + z * z / (2 * n)) / denominator;
  const double half =
      z * std::sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denominator;
  return {centre - half, centre + half};
}

// One run: `epochs` epochs of `units` units over two arms, arm 1's share
// moving from 0.2 to 0.8 (or 0.5 throughout), each unit served arm 1 lost
// with probability `loss`; a look after every epoch. Returns the running
// p-value after the last look (the minimum over all looks); *last, if given,
// gets the last look's 1 / E alone.
double TwoArmRun(std::mt19937_64& rng, int epochs, int units, double loss, bool moving,
                 double* last = nullptr) {
  Counts exposures;
  Shares shares;
  double p = 1.0;
  for (int e = 0; e < epochs; ++e) {
    const double s1 = moving ? 0.2 + 0.6 * e / (epochs - 1) : 0.5;
    const int served = boost::random::binomial_distribution<int>(units, s1)(rng);
    const int kept = boost::random::binomial_distribution<int>(served, 1 - loss)(rng);
    exposures.push_back({units - served, kept});
    shares.push_back({1 - s1, s1});
    p = SampleRatioPValue(exposures, shares, p);
  }
  if (last != nullptr) *last = SampleRatioPValue(exposures, shares);
  return p;
}

// One A/A run over three arms whose shares chase the data, as a bandit's
// would: each epoch's shares favour the arm with the largest excess of
// exposures over expectation so far (the very noise the test looks at), and
// each epoch has 200 to 1,600 units. Returns the running p-value.
double AdaptiveThreeArmRun(std::mt19937_64& rng, int epochs) {
  Counts exposures;
  Shares shares;
  std::vector<double> excess(3, 0.0);
  double p = 1.0;
  for (int e = 0; e < epochs; ++e) {
    const int leader =
        static_cast<int>(std::max_element(excess.begin(), excess.end()) - excess.begin());
    std::vector<double> s(3, 0.15);
    s[leader] = 0.7;
    const int units = boost::random::uniform_int_distribution<int>(200, 1600)(rng);
    // A multinomial draw as successive binomials.
    std::vector<int64_t> counts(3);
    int left = units;
    double rest = 1.0;
    for (int a = 0; a < 2; ++a) {
      counts[a] = boost::random::binomial_distribution<int>(left, s[a] / rest)(rng);
      left -= static_cast<int>(counts[a]);
      rest -= s[a];
    }
    counts[2] = left;
    for (int a = 0; a < 3; ++a) excess[a] += counts[a] - s[a] * units;
    exposures.push_back(counts);
    shares.push_back(s);
    p = SampleRatioPValue(exposures, shares, p);
  }
  return p;
}

// Ville's inequality bounds the chance that the running p-value ever falls
// below the alarm level by the level itself; in practice the rate is well
// below it (a finite horizon and looks between units). 2,000 runs of 50
// looks each: with ~0.4% alarms the Wilson upper bound is ~0.7%, below 1%.
// The seeds are fixed, so the test cannot flake; it fails if the e-value
// is not a supermartingale (e.g. a wrong normalizing constant, or shares
// taken from the wrong epoch, which the adaptive shares would punish).
TEST(SampleRatioPValueTest, AAFalseAlarmsOverFiftyLooksStayBelowTheLevel) {
  constexpr int kRuns = 2000;
  std::mt19937_64 rng(20260114);
  int64_t alarms = 0;
  for (int run = 0; run < kRuns; ++run) {
    alarms += TwoArmRun(rng, 50, 900, /*loss=*/0.0, /*moving=*/true) < kAlarm;
  }
  const Interval rate = Wilson(alarms, kRuns);
  std::printf("A/A moving shares: %lld / %d alarms, Wilson 95%% [%.4f, %.4f]\n",
              static_cast<long long>(alarms), kRuns, rate.low, rate.high);
  EXPECT_LT(rate.high, kAlarm);
}

TEST(SampleRatioPValueTest, AAFalseAlarmsWithDataDependentSharesStayBelowTheLevel) {
  constexpr int kRuns = 2000;
  std::mt19937_64 rng(20260115);
  int64_t alarms = 0;
  for (int run = 0; run < kRuns; ++run) alarms += AdaptiveThreeArmRun(rng, 50) < kAlarm;
  const Interval rate = Wilson(alarms, kRuns);
  std::printf("A/A adaptive shares: %lld / %d alarms, Wilson 95%% [%.4f, %.4f]\n",
              static_cast<long long>(alarms), kRuns, rate.low, rate.high);
  EXPECT_LT(rate.high, kAlarm);
}

// Issue 14's power target: 50 epochs of 900 units, arm 1's share from 0.2
// to 0.8, 5% of arm 1's units lost; caught (the running p-value below the
// alarm level by the last look) in at least 90% of runs. The normal
// approximation gives ~93%; with 1,000 runs the Wilson lower bound sits
// ~1.6 points under the observed rate.
TEST(SampleRatioPValueTest, AFivePercentLossOfOneArmIsCaught) {
  constexpr int kRuns = 1000;
  std::mt19937_64 rng(20260116);
  int64_t caught = 0;
  for (int run = 0; run < kRuns; ++run) {
    caught += TwoArmRun(rng, 50, 900, /*loss=*/0.05, /*moving=*/true) < kAlarm;
  }
  const Interval rate = Wilson(caught, kRuns);
  std::printf("power at %.3g: %lld / %d caught, Wilson 95%% [%.4f, %.4f]\n", kAlarm,
              static_cast<long long>(caught), kRuns, rate.low, rate.high);
  EXPECT_GT(rate.low, 0.90);
}

// The figures in README.md, with more runs: run with
//   sample_ratio_test --gtest_also_run_disabled_tests --gtest_filter='*Measure*'
TEST(SampleRatioPValueTest, DISABLED_MeasureErrorRates) {
  constexpr int kRuns = 10000;
  for (double level : {0.001, 0.01}) {
    for (bool moving : {true, false}) {
      std::mt19937_64 rng(1);
      int64_t caught = 0, caught_last = 0;
      for (int run = 0; run < kRuns; ++run) {
        double last;
        caught += TwoArmRun(rng, 50, 900, 0.05, moving, &last) < level;
        caught_last += last < level;
      }
      const Interval rate = Wilson(caught, kRuns), at_last = Wilson(caught_last, kRuns);
      std::printf(
          "power at %g, %s shares: ever %.4f [%.4f, %.4f], last look %.4f "
          "[%.4f, %.4f]\n",
          level, moving ? "moving" : "50/50", caught / double(kRuns), rate.low, rate.high,
          caught_last / double(kRuns), at_last.low, at_last.high);
    }
    std::mt19937_64 rng(2);
    int64_t alarms = 0, adaptive_alarms = 0;
    for (int run = 0; run < kRuns; ++run) {
      alarms += TwoArmRun(rng, 50, 900, 0.0, true) < level;
      adaptive_alarms += AdaptiveThreeArmRun(rng, 50) < level;
    }
    const Interval a = Wilson(alarms, kRuns), b = Wilson(adaptive_alarms, kRuns);
    std::printf("A/A at %g: moving %.4f [%.4f, %.4f], adaptive %.4f [%.4f, %.4f]\n",
                level, alarms / double(kRuns), a.low, a.high,
                adaptive_alarms / double(kRuns), b.low, b.high);
  }
}

}  // namespace
}  // namespace allot::internal
