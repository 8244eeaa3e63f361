// Copyright 2026 The allot Authors.

#include "statistics/confidence_sequence.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace allot::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Howard et al. (2021), eq. (3.12): the mixture precision for which the
// normal-mixture boundary is tightest at a chosen intrinsic time is
// tau^2 = c / I* with this c.
double TightestAt(double alpha) {
  const double l = 2 * std::log(1 / alpha);
  return l + std::log(1 + l);
}

}  // namespace

double MixtureRadius(double variance, double mixture_variance, double alpha) {
  if (!(variance > 0) || !std::isfinite(variance)) return kInf;
  const double ratio = mixture_variance / variance;  // tau^2 I
  return std::sqrt(variance * (1 + 1 / ratio) *
                   (std::log1p(ratio) + 2 * std::log(1 / alpha)));
}

ArmContrasts ConfidenceSequences(const std::vector<double>& means,
                                 const std::vector<double>& variance_of_mean,
                                 const std::vector<std::vector<double>>& correlation,
                                 double unit_variance, const ContrastOptions& options) {
  const int k = static_cast<int>(means.size());
  const double sign = options.direction == Direction::kHigherIsBetter ? 1.0 : -1.0;
  const double pairs = 0.5 * k * (k - 1);
  const double alpha = options.alpha / pairs;
  // tau^2 = c / I* where I* is the information of a difference of two arms
  // with horizon_units each: 1 / (2 sigma^2 / n*).
  const double mixture_variance =
      TightestAt(alpha) * 2 * unit_variance / options.horizon_units;

  ArmContrasts out;
  out.low.assign(k, std::vector<double>(k, 0.0));
  out.high.assign(k, std::vector<double>(k, 0.0));
  for (int a = 0; a < k; ++a) {
    for (int b = a + 1; b < k; ++b) {
      const double rho = correlation.empty() ? 0.0 : correlation[a][b];
      const double variance =
          variance_of_mean[a] + variance_of_mean[b] -
          2 * rho * std::sqrt(variance_of_mean[a] * variance_of_mean[b]);
      const double radius = mixture_variance > 0 && std::isfinite(mixture_variance)
                                ? MixtureRadius(variance, mixture_variance, alpha)
                                : kInf;
      const double d = sign * (means[a] - means[b]);
      if (std::isfinite(radius) && std::isfinite(d)) {
        out.low[a][b] = d - radius;
        out.high[a][b] = d + radius;
      } else {
        out.low[a][b] = -kInf;
        out.high[a][b] = kInf;
      }
      out.low[b][a] = -out.high[a][b];
      out.high[b][a] = -out.low[a][b];
    }
  }
  for (int a = 0; a < k; ++a) {
    double low = kInf, high = kInf;
    for (int b = 0; b < k; ++b) {
      if (b == a) continue;
      low = std::min(low, out.low[a][b]);
      high = std::min(high, out.high[a][b]);
    }
    out.advantage_low.push_back(low);
    out.advantage_high.push_back(high);
    out.eliminated.push_back(high < 0);
    if (low > options.min_effect) out.winner = a;
  }
  return out;
}

GuardrailExcess ExcessHarm(const std::vector<double>& means,
                           const std::vector<double>& variance_of_mean,
                           const std::vector<std::vector<double>>& correlation,
                           double unit_variance, const HarmOptions& options) {
  const int k = static_cast<int>(means.size());
  const double s = options.direction == Direction::kLowerIsBetter ? 1.0 : -1.0;
  GuardrailExcess out;
  out.best = 0;
  for (int a = 1; a < k; ++a) {
    if (s * means[a] < s * means[out.best]) out.best = a;
  }
  const int b = out.best;
  const double lambda = options.relative ? 1 + s * options.max_harm : 1.0;
  const double offset = options.relative ? 0.0 : options.max_harm;
  const double mixture_variance = TightestAt(options.alpha) * (1 + lambda * lambda) *
                                  unit_variance / options.horizon_units;
  for (int j = 0; j < k; ++j) {
    double low = std::nan(""), high = std::nan("");
    if (j != b) {
      const double rho = correlation.empty() ? 0.0 : correlation[j][b];
      const double variance =
          variance_of_mean[j] + lambda * lambda * variance_of_mean[b] -
          2 * lambda * rho * std::sqrt(variance_of_mean[j] * variance_of_mean[b]);
      const double radius = mixture_variance > 0 && std::isfinite(mixture_variance)
                                ? MixtureRadius(variance, mixture_variance, options.alpha)
                                : kInf;
      const double excess = s * (means[j] - lambda * means[b]) - offset;
      if (std::isfinite(radius) && std::isfinite(excess)) {
        low = excess - radius;
        high = excess + radius;
      } else {
        low = -kInf;
        high = kInf;
      }
    }
    out.excess_low.push_back(low);
    out.excess_high.push_back(high);
    out.harmful.push_back(low > 0);
  }
  return out;
}

}  // namespace allot::internal
