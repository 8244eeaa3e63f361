// Copyright 2026 The allot Authors.
//
// Probability of being best and expected loss by number of arms, all by
// quadrature (time linear in the arms). The arms model a real experiment:
// conversion rates close together (8-10%) after 1,000-5,000 units each, so
// every arm can still be best and none is pruned, the quadrature's worst
// case.
//
//   posterior_benchmark --benchmark_repetitions=5

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "allot/metric.h"
#include "allot/posterior.h"
#include "benchmark/benchmark.h"
#include "statistics/correlated_best.h"

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

// Arm means and covariance shaped like an epoch-adjusted fit of a binary
// experiment midway: two leaders (10.0% and 9.95%) and the rest 0.8 to 1.4
// points behind, standard errors 0.25% to 0.35%, and three epochs whose
// estimated effects the arms share in overlapping sets, which correlates
// the means positively (0.1 to 0.5).
struct Fit {
  std::vector<double> mean;
  std::vector<std::vector<double>> covariance;
};

Fit EpochAdjustedFit(int k) {
  constexpr int kEpochs = 3;
  std::vector<std::vector<double>> loading(k, std::vector<double>(kEpochs, 0.0));
  Fit fit;
  for (int i = 0; i < k; ++i) {
    fit.mean.push_back(i == 0 ? 0.100 : i == 1 ? 0.0995 : 0.092 - 0.002 * (i % 4));
    for (int e = 0; e < kEpochs; ++e) {
      if ((i + e) % 3 != 2) loading[i][e] = 0.0015 * (1.0 + 0.2 * e);
    }
  }
  fit.covariance.assign(k, std::vector<double>(k, 0.0));
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      for (int e = 0; e < kEpochs; ++e) {
        fit.covariance[i][j] += loading[i][e] * loading[j][e];
      }
    }
    const double own = 0.0025 * (1.0 + 0.2 * (i % 3));
    fit.covariance[i][i] += own * own;
  }
  return fit;
}

void BM_CorrelatedProbabilityBest(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  const Fit fit = EpochAdjustedFit(k);
  double rho_min = 1.0, rho_max = -1.0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < i; ++j) {
      const double rho =
          fit.covariance[i][j] / std::sqrt(fit.covariance[i][i] * fit.covariance[j][j]);
      rho_min = std::min(rho_min, rho);
      rho_max = std::max(rho_max, rho);
    }
  }
  double p_leader = 0.0;
  for (auto _ : state) {
    auto best = internal::CorrelatedProbabilityBest(fit.mean, fit.covariance,
                                                    Direction::kHigherIsBetter);
    benchmark::DoNotOptimize(best);
    p_leader = best->p_best[0];
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rho_min"] = rho_min;
  state.counters["rho_max"] = rho_max;
  state.counters["p_best_0"] = p_leader;
}
BENCHMARK(BM_CorrelatedProbabilityBest)
    ->Arg(3)
    ->Arg(10)
    ->Arg(30)
    ->Unit(benchmark::kMicrosecond);

// The hard case: all arms within about one standard error of each other,
// so every arm can be best and no constraint is dropped.
void BM_CorrelatedProbabilityBestClose(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  Fit fit = EpochAdjustedFit(k);
  for (int i = 0; i < k; ++i) fit.mean[i] = 0.100 - 0.0004 * i;
  for (auto _ : state) {
    auto best = internal::CorrelatedProbabilityBest(fit.mean, fit.covariance,
                                                    Direction::kHigherIsBetter);
    benchmark::DoNotOptimize(best);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CorrelatedProbabilityBestClose)
    ->Arg(3)
    ->Arg(10)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace allot
