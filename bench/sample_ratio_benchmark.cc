// Copyright 2026 The allot Authors.
//
// The sequential sample-ratio check by number of epochs and arms: what one
// report pays for it. Each epoch gets new shares (a bandit reweighting at
// every report, the worst case) and ~900 units; the exposures are drawn
// under the null, so each arm's mixture integral has an ordinary mode.
//
//   sample_ratio_benchmark --benchmark_repetitions=5

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "boost/random/binomial_distribution.hpp"
#include "boost/random/uniform_real_distribution.hpp"
#include "statistics/sample_ratio.h"

namespace allot::internal {
namespace {

void BM_SampleRatioPValue(benchmark::State& state) {
  const int epochs = static_cast<int>(state.range(0));
  const int arms = static_cast<int>(state.range(1));
  std::mt19937_64 rng(20260114);
  boost::random::uniform_real_distribution<double> weight(0.2, 1.0);
  std::vector<std::vector<int64_t>> exposures;
  std::vector<std::vector<double>> shares;
  for (int e = 0; e < epochs; ++e) {
    std::vector<double> s(arms);
    double total = 0;
    for (double& x : s) total += x = weight(rng);
    for (double& x : s) x /= total;
    // A multinomial draw of 900 units as successive binomials.
    std::vector<int64_t> counts(arms);
    int left = 900;
    double rest = 1.0;
    for (int a = 0; a + 1 < arms; ++a) {
      const double p = std::min(1.0, s[a] / rest);
      counts[a] = boost::random::binomial_distribution<int>(left, p)(rng);
      left -= static_cast<int>(counts[a]);
      rest -= s[a];
    }
    counts[arms - 1] = left;
    exposures.push_back(counts);
    shares.push_back(s);
  }
  for (auto _ : state) {
    double p = SampleRatioPValue(exposures, shares);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * epochs * arms);
}
BENCHMARK(BM_SampleRatioPValue)
    ->Args({50, 2})
    ->Args({100, 10})
    ->Args({1000, 2})
    ->Args({1000, 10})
    ->Args({10000, 10})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace allot::internal
