// Copyright 2026 The allot Authors.
//
// Gauss-Legendre rules with their cumulative (indefinite-integral) matrix:
// from a function's values at the N nodes of a panel, both its integral over
// the panel and its integral from the panel's start to each node, the latter
// exact for polynomials of degree < N. Internal to policies/.
//
//   const auto& rule = allot::internal::GaussLegendre<10>();
//   // integral over [-1, 1]:    sum_m rule.weight[m] f(rule.node[m])
//   // integral to rule.node[k]: sum_m rule.cumulative[m][k] f(rule.node[m])

#ifndef ALLOT_SRC_STATISTICS_GAUSS_LEGENDRE_H_
#define ALLOT_SRC_STATISTICS_GAUSS_LEGENDRE_H_

#include <cmath>
#include <numbers>

namespace allot::internal {

// Immutable; safe to share.
template <int N>
struct GaussLegendreRule {
  static_assert(N >= 2);
  double node[N];  // ascending, in (-1, 1)
  double weight[N];
  // cumulative[m][k]: integral from -1 to node[k] of the Lagrange basis
  // polynomial of node m. Stored m-major so that accumulating over k
  // vectorizes.
  double cumulative[N][N];
};

// Fills p[0..n] with the Legendre polynomials P_0..P_n at x.
inline void LegendrePolynomials(double x, int n, double* p) {
  p[0] = 1.0;
  p[1] = x;
  for (int l = 1; l < n; ++l) {
    p[l + 1] = ((2.0 * l + 1.0) * x * p[l] - l * p[l - 1]) / (l + 1.0);
  }
}

template <int N>
GaussLegendreRule<N> MakeGaussLegendreRule() {
  GaussLegendreRule<N> rule;
  double p[N + 2];
  auto derivative = [&](double x) {  // P_N'(x), from P_N and P_{N-1}
    return N * (x * p[N] - p[N - 1]) / (x * x - 1.0);
  };
  for (int k = 0; k < N; ++k) {
    // Newton from the classic cosine estimate of the k-th root.
    double x = -std::cos(std::numbers::pi * (k + 0.75) / (N + 0.5));
    for (int iteration = 0; iteration < 100; ++iteration) {
      LegendrePolynomials(x, N, p);
      const double step = p[N] / derivative(x);
      x -= step;
      if (std::fabs(step) < 1e-16) break;
    }
    LegendrePolynomials(x, N, p);
    const double d = derivative(x);
    rule.node[k] = x;
    rule.weight[k] = 2.0 / ((1.0 - x * x) * d * d);
  }
  // The m-th Lagrange polynomial is w_m sum_l (2l+1)/2 P_l(x_m) P_l(x) (the
  // rule integrates the degree <= 2N-2 products exactly), and the integral
  // of P_l from -1 to y is (P_{l+1}(y) - P_{l-1}(y)) / (2l+1).
  double pm[N + 2], pk[N + 2];
  for (int k = 0; k < N; ++k) {
    LegendrePolynomials(rule.node[k], N, pk);
    for (int m = 0; m < N; ++m) {
      LegendrePolynomials(rule.node[m], N, pm);
      double sum = 0.5 * (rule.node[k] + 1.0);
      for (int l = 1; l < N; ++l) sum += 0.5 * pm[l] * (pk[l + 1] - pk[l - 1]);
      rule.cumulative[m][k] = rule.weight[m] * sum;
    }
  }
  return rule;
}

// The N-point rule, built once.
template <int N>
const GaussLegendreRule<N>& GaussLegendre() {
  static const GaussLegendreRule<N> rule = MakeGaussLegendreRule<N>();
  return rule;
}

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_GAUSS_LEGENDRE_H_
