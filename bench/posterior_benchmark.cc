// Copyright 2026 The allot Authors.
//
// Probability of being best and expected loss by number of arms, all by
// quadrature (time linear in the arms). The arms model a real experiment:
// conversion rates close together (8-10%) after 1,000-5,000 units each, so
// every arm can still be best and none is pruned, the quadrature's worst
// case.
//
//   posterior_benchmark --benchmark_repetitions=5

#include <cstdint>
#include <random>
#include <vector>

#include "allot/metric.h"
#include "allot/posterior.h"
#include "benchmark/benchmark.h"

namespace allot {
namespace {

std::vector<ArmPosterior> BetaArms(int k) {
  std::mt19937_64 engine(20260101);
  std::uniform_real_distribution<double> units(1000.0, 5000.0);
  std::uniform_real_distribution<double> rate(0.08, 0.10);
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < k; ++i) {
    const double n = units(engine), p = rate(engine);
    // Beta(1, 1) prior.
    arms.push_back(ArmPosterior::Beta(1.0 + p * n, 1.0 + (1.0 - p) * n));
  }
  return arms;
}

std::vector<ArmPosterior> NormalArms(int k) {
  std::mt19937_64 engine(20260102);
  std::uniform_real_distribution<double> mean(9.9, 10.1);
  std::uniform_real_distribution<double> sd(0.05, 0.1);
  std::vector<ArmPosterior> arms;
  for (int i = 0; i < k; ++i) {
    arms.push_back(ArmPosterior::Normal(mean(engine), sd(engine)));
  }
  return arms;
}

void BM_ProbabilityBestBeta(benchmark::State& state) {
  const std::vector<ArmPosterior> arms = BetaArms(static_cast<int>(state.range(0)));
  uint64_t seed = 1;
  for (auto _ : state) {
    auto p_best = ProbabilityBest(arms, Direction::kHigherIsBetter, seed);
    benchmark::DoNotOptimize(p_best);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProbabilityBestBeta)->Arg(2)->Arg(4)->Arg(10)->Arg(32)->Arg(100)->Arg(256);

void BM_ProbabilityBestNormal(benchmark::State& state) {
  const std::vector<ArmPosterior> arms = NormalArms(static_cast<int>(state.range(0)));
  uint64_t seed = 1;
  for (auto _ : state) {
    auto p_best = ProbabilityBest(arms, Direction::kHigherIsBetter, seed);
    benchmark::DoNotOptimize(p_best);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProbabilityBestNormal)->Arg(2)->Arg(4)->Arg(10)->Arg(32)->Arg(100)->Arg(256);

void BM_ExpectedLossBeta(benchmark::State& state) {
  const std::vector<ArmPosterior> arms = BetaArms(static_cast<int>(state.range(0)));
  uint64_t seed = 1;
  for (auto _ : state) {
    auto loss = ExpectedLoss(arms, Direction::kHigherIsBetter, seed);
    benchmark::DoNotOptimize(loss);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExpectedLossBeta)->Arg(10)->Arg(100)->Arg(256);

}  // namespace
}  // namespace allot
