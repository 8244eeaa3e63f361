// Copyright 2026 The allot Authors.
//
// Per-(epoch, arm) aggregates of matured units and the estimates built from
// them: the Simpson-safe mix of per-epoch means that policies use, and the
// pooled mean reported beside it.
//
// Simpson-safe: each unit belongs to the epoch of its first exposure. Epoch
// e's share is s_e = N_e / N, its matured units over all matured units (the
// same shares for every arm). Arm a's mean mixes its per-epoch means,
//   m_a = sum_e s_e m_ea / sum_e s_e        (over epochs where a has units)
// with variance sum_e s'_e^2 v_ea / n_ea (s' the renormalized shares, v_ea
// the per-unit variance), so a traffic shift between epochs with different
// base rates cannot flip the ranking the way pooling can.

#ifndef ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_
#define ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_

#include <cstdint>
#include <vector>

#include "allot/metric.h"
#include "allot/posterior.h"

namespace allot::internal {

// Count, sum and sum of squares of the outcomes of matured units.
struct Aggregate {
  int64_t n = 0;
  double sum = 0;
  double sum_sq = 0;
  void Add(double value) {
    ++n;
    sum += value;
    sum_sq += value * value;
  }
  double Mean() const { return n > 0 ? sum / static_cast<double>(n) : 0.0; }
  // Sample variance (n - 1 denominator); 0 below two units.
  double SampleVariance() const;
};

struct ArmEstimate {
  int64_t units = 0;
  double outcomes = 0;
  double mean = 0;              // Simpson-safe
  double variance_of_mean = 0;  // of the Simpson-safe mean
  double effective_units = 0;   // 1 / sum_e s'_e^2 / n_ea
  double pooled_mean = 0;
  double pooled_variance = 0;  // per-unit sample variance, all epochs
};

// Returns one estimate per arm from aggregates indexed [epoch][arm].
std::vector<ArmEstimate> EstimateArms(const std::vector<std::vector<Aggregate>>& by_epoch,
                                      int num_arms, MetricKind metric);

// Priors of the posteriors below.
struct Priors {
  double alpha = 1.0;  // binary: Beta(alpha, beta)
  double beta = 1.0;
  // continuous: Normal(0, sd) prior on the mean; near flat.
  double normal_sd = 1e6;
};

// Returns the posterior of an arm's mean from its Simpson-safe estimate.
// Binary: Beta(alpha + m n_eff, beta + (1 - m) n_eff), which is exactly
// Beta(alpha + conversions, beta + failures) with a single epoch. Continuous:
// the Normal prior combined with Normal(m, sqrt(variance_of_mean)); an arm
// with fewer than two units keeps the prior.
ArmPosterior PosteriorOf(const ArmEstimate& estimate, MetricKind metric,
                         const Priors& priors);

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_ARM_ESTIMATES_H_
