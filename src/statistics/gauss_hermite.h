// Copyright 2026 The allot Authors.
//
// Gauss-Hermite rules: N nodes and weights with
//   integral over R of exp(-x^2) f(x) dx ~= sum_m weight[m] f(node[m]),
// exact for polynomials f of degree < 2N. Used, centred and scaled at a
// posterior's mode, to integrate near-Gaussian integrands. Internal to
// statistics/.
//
//   const auto& rule = allot::internal::GaussHermite<24>();
//   // integral of exp(-(x - mu)^2 / (2 s^2)) g(x) over R, for smooth g:
//   //   sqrt(2) s sum_m rule.weight[m] g(mu + sqrt(2) s rule.node[m])

#ifndef ALLOT_SRC_STATISTICS_GAUSS_HERMITE_H_
#define ALLOT_SRC_STATISTICS_GAUSS_HERMITE_H_

#include <algorithm>
#include <cmath>
#include <numbers>

namespace allot::internal {

// Immutable; safe to share.
template <int N>
struct GaussHermiteRule {
  static_assert(N >= 2);
  double node[N];  // descending
  double weight[N];
};

// The roots by Newton's method on the orthonormal Hermite polynomials, from
// the asymptotic estimates of Press et al., "Numerical Recipes" (3rd ed.,
// 2007), section 4.6 (gauher); the weights from the derivative at each root.
template <int N>
GaussHermiteRule<N> MakeGaussHermiteRule() {
  GaussHermiteRule<N> rule;
  const double pi_m4 = 1.0 / std::sqrt(std::sqrt(std::numbers::pi));  // pi^(-1/4)
  double z = 0;
  for (int i = 0; i < (N + 1) / 2; ++i) {
    if (i == 0) {
      z = std::sqrt(2.0 * N + 1) - 1.85575 * std::pow(2.0 * N + 1, -1.0 / 6);
    } else if (i == 1) {
      z -= 1.14 * std::pow(static_cast<double>(N), 0.426) / z;
    } else if (i == 2) {
      z = 1.86 * z - 0.86 * rule.node[0];
    } else if (i == 3) {
      z = 1.91 * z - 0.91 * rule.node[1];
    } else {
      z = 2.0 * z - rule.node[i - 2];
    }
    double derivative = 1;
    for (int iteration = 0; iteration < 100; ++iteration) {
      // Orthonormal recurrence: h_{j+1} = x sqrt(2/(j+1)) h_j - sqrt(j/(j+1)) h_{j-1}.
      double p1 = pi_m4, p2 = 0;
      for (int j = 0; j < N; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = z * std::sqrt(2.0 / (j + 1)) * p2 -
             std::sqrt(static_cast<double>(j) / (j + 1)) * p3;
      }
      derivative = std::sqrt(2.0 * N) * p2;
      const double step = p1 / derivative;
      z -= step;
      if (std::fabs(step) <= 1e-15 * std::max(1.0, std::fabs(z))) break;
    }
    rule.node[i] = z;
    rule.node[N - 1 - i] = -z;
    rule.weight[i] = rule.weight[N - 1 - i] = 2.0 / (derivative * derivative);
  }
  if (N % 2 == 1) rule.node[N / 2] = 0;  // exactly
  return rule;
}

// The N-point rule, built once.
template <int N>
const GaussHermiteRule<N>& GaussHermite() {
  static const GaussHermiteRule<N> rule = MakeGaussHermiteRule<N>();
  return rule;
}

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_GAUSS_HERMITE_H_
