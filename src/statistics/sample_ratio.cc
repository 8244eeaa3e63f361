// Copyright 2026 The allot Authors.

#include "statistics/sample_ratio.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "statistics/gauss_hermite.h"

namespace allot::internal {
namespace {

// Gauss-Hermite nodes for each arm's mixture integral. The integrand is the
// prior times the likelihood ratio, log-concave in delta with a curvature of
// at least 1 / tau^2; centred at its mode and scaled by its curvature there
// (the Laplace approximation), it is a Gaussian times a slowly varying
// factor: the standardized third derivative of its log, sum n q (1 - q)
// (1 - 2q) sigma^3, is at most sigma <= tau, and the higher ones smaller
// still. A rule exact for polynomials of degree < 24 leaves an error far
// below double rounding; with 8 nodes the test's cases already match the
// brute-force integral to ~1e-13 on log E, so 12 is a margin, not a need.
constexpr int kNodes = 12;

// Terms of the Taylor series in eps of each epoch's log(1 - q + q e^eps)
// around the mode (below). It is analytic for |eps| < pi whatever q (its
// singularities are at log((1 - q) / q) + i pi (2k + 1)), so on the circle
// |eps| = 2 it is bounded by a few times q (1 - q), and by Cauchy's estimate
// the terms past order kOrder, at the nodes' |eps| <= sqrt(2) 3.9 sigma <=
// 5.5 tau = 0.22, sum to ~(0.22 / 2)^17 ~ 1e-16 of the epoch's information:
// far below rounding.
constexpr int kOrder = 16;

// coefficient[m][i]: the coefficient of q^i in the m-th derivative at 0 of
// log(1 - q + q e^eps), divided by m!. The derivatives are the Bernoulli
// cumulants, P_1 = q, P_{m+1} = q (1 - q) dP_m/dq; their integer
// coefficients (at most 1.1e14 for m = 16, below 2^53) are exact in double.
struct TaylorTable {
  double coefficient[kOrder + 1][kOrder + 1] = {};
};
const TaylorTable& Taylor() {
  static const TaylorTable table = [] {
    TaylorTable t;
    double a[kOrder + 2][kOrder + 2] = {};
    a[1][1] = 1;
    for (int m = 1; m < kOrder; ++m) {
      for (int i = 1; i <= m + 1; ++i) a[m + 1][i] = i * a[m][i] - (i - 1) * a[m][i - 1];
    }
    double factorial = 1;
    for (int m = 1; m <= kOrder; ++m) {
      factorial *= m;
      for (int i = 1; i <= m; ++i) t.coefficient[m][i] = a[m][i] / factorial;
    }
    return t;
  }();
  return table;
}

// One arm's informative epochs: n_e units in all, of which the arm was to get
// a share p in (0, 1). Structure of arrays, so that the Newton sums vectorize.
struct ArmCells {
  std::vector<double> n, p;
  std::vector<double> q, r;  // the tilted share at the mode and 1 - q
  void clear() {
    n.clear();
    p.clear();
    q.clear();
    r.clear();
  }
};

// log(1 - p + p e^delta) without overflow or cancellation for any delta.
double LogNormalizer(double p, double delta) {
  if (delta < 0) return std::log1p(p * std::expm1(delta));
  return delta + std::log1p((1 - p) * std::expm1(-delta));
}

// Fills q with the tilted shares p e^delta / (1 - p + p e^delta) and r with
// 1 - q (each from its own formula, so neither loses digits near 0), and
// returns the sum of n q; *information gets the sum of n q r.
double TiltedShares(ArmCells& cells, double delta, double* information) {
  const double u = std::exp(-std::fabs(delta));  // in (0, 1]: no overflow
  const size_t size = cells.n.size();
  const double* n = cells.n.data();
  const double* p = cells.p.data();
  double* q = cells.q.data();
  double* r = cells.r.data();
  double mass = 0, info = 0;
  if (delta >= 0) {
    for (size_t i = 0; i < size; ++i) {
      const double d = 1 / (p[i] + (1 - p[i]) * u);
      q[i] = p[i] * d;
      r[i] = (1 - p[i]) * u * d;
    }
  } else {
    for (size_t i = 0; i < size; ++i) {
      const double d = 1 / ((1 - p[i]) + p[i] * u);
      q[i] = p[i] * u * d;
      r[i] = (1 - p[i]) * d;
    }
  }
  for (size_t i = 0; i < size; ++i) {
    mass += n[i] * q[i];
    info += n[i] * q[i] * r[i];
  }
  *information = info;
  return mass;
}

// log E_a: the log of the integral over delta of LR_a(delta) times the
// Normal(0, tau^2) density, for an arm with `arm_units` exposures over the
// cells' epochs.
double ArmLogEValue(double arm_units, ArmCells& cells, double tau) {
  const double tau2 = tau * tau;
  double units = 0;
  for (double n : cells.n) units += n;
  cells.q.resize(cells.n.size());
  cells.r.resize(cells.n.size());

  // The mode of l(delta) = delta m - sum n A(delta) - delta^2 / (2 tau^2), by
  // Newton's method safeguarded by bisection. l is strictly concave and
  // l'(delta) = m - sum n q(delta) - delta / tau^2 with 0 < sum n q < units,
  // so the mode lies in [tau^2 (m - units), tau^2 m].
  double lo = tau2 * (arm_units - units), hi = tau2 * arm_units;
  double delta = std::clamp(0.0, lo, hi);
  double curvature = 1 / tau2;
  for (int iteration = 0;; ++iteration) {
    double information;
    const double gradient =
        arm_units - TiltedShares(cells, delta, &information) - delta / tau2;
    curvature = information + 1 / tau2;
    if (gradient > 0) lo = delta;
    if (gradient < 0) hi = delta;
    double next = delta + gradient / curvature;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    // A shift of the centre by 1e-9 posterior sds changes the integral by
    // nothing measurable; the last q and curvature are those at `delta`.
    if (std::fabs(next - delta) * std::sqrt(curvature) < 1e-9 || gradient == 0 ||
        iteration == 200) {
      break;
    }
    delta = next;
  }

  // l at the mode.
  double log_mode = delta * arm_units - delta * delta / (2 * tau2);
  for (size_t i = 0; i < cells.n.size(); ++i) {
    log_mode -= cells.n[i] * LogNormalizer(cells.p[i], delta);
  }

  // sum_e n_e (A_e(delta + eps) - A_e(delta)) = sum_e n_e log(1 - q_e + q_e
  // e^eps) as a polynomial in eps, from the power sums of q (epochs with
  // q <= 1/2) and of r = 1 - q (the others, by log(1 - q + q e^eps) = eps +
  // log(1 - r + r e^-eps)): every series is then in a variable <= 1/2, and
  // a node costs O(kOrder) instead of a log1p per epoch.
  double power_q[kOrder + 1] = {}, power_r[kOrder + 1] = {};
  double units_high = 0;
  for (size_t i = 0; i < cells.n.size(); ++i) {
    const bool high = cells.q[i] > 0.5;
    const double x = high ? cells.r[i] : cells.q[i];
    double* power = high ? power_r : power_q;
    if (high) units_high += cells.n[i];
    double w = cells.n[i];
    for (int k = 1; k <= kOrder; ++k) {
      w *= x;
      power[k] += w;
    }
  }
  const TaylorTable& taylor = Taylor();
  double series[kOrder + 1] = {};  // series[m]: the coefficient of eps^m
  for (int m = 1; m <= kOrder; ++m) {
    const double sign = m % 2 == 0 ? 1.0 : -1.0;
    for (int k = 1; k <= m; ++k) {
      series[m] += taylor.coefficient[m][k] * (power_q[k] + sign * power_r[k]);
    }
  }
  series[1] += units_high;

  // Gauss-Hermite around the mode with the Laplace scale sigma: the
  // integral of exp(l) is sqrt(2) sigma sum_j w_j exp(x_j^2 + l(delta +
  // sqrt(2) sigma x_j)). Summed in log space (log-sum-exp).
  const GaussHermiteRule<kNodes>& rule = GaussHermite<kNodes>();
  const double scale = std::numbers::sqrt2 / std::sqrt(curvature);
  double terms[kNodes];
  double largest = -std::numeric_limits<double>::infinity();
  for (int j = 0; j < kNodes; ++j) {
    const double eps = scale * rule.node[j];
    double normalizer = 0;
    for (int m = kOrder; m >= 1; --m) normalizer = (normalizer + series[m]) * eps;
    const double l_diff =
        eps * arm_units - normalizer - (2 * delta * eps + eps * eps) / (2 * tau2);
    terms[j] = std::log(rule.weight[j]) + rule.node[j] * rule.node[j] + l_diff;
    largest = std::max(largest, terms[j]);
  }
  double sum = 0;
  for (double term : terms) sum += std::exp(term - largest);
  const double log_integral = log_mode + std::log(scale) + largest + std::log(sum);
  // Minus the log of the prior's normalizing constant, tau sqrt(2 pi).
  return log_integral - std::log(tau * std::sqrt(2 * std::numbers::pi));
}

}  // namespace

double SampleRatioLogEValue(const std::vector<std::vector<int64_t>>& exposures,
                            const std::vector<std::vector<double>>& shares) {
  const size_t epochs = std::min(exposures.size(), shares.size());
  size_t arms = 0;
  std::vector<int64_t> totals(epochs, 0);
  for (size_t e = 0; e < epochs; ++e) {
    const size_t width = std::min(exposures[e].size(), shares[e].size());
    arms = std::max(arms, width);
    for (size_t a = 0; a < width; ++a) {
      const int64_t n = exposures[e][a];
      // Exposures to an arm the table gives no bucket: broken for certain.
      if (n > 0 && !(shares[e][a] > 0)) return std::numeric_limits<double>::infinity();
      totals[e] += n;
    }
  }
  if (arms == 0) return 0;

  // log E = log(mean_a E_a); arms without an informative epoch have E_a = 1.
  std::vector<double> log_e(arms, 0.0);
  ArmCells cells;
  for (size_t a = 0; a < arms; ++a) {
    cells.clear();
    double arm_units = 0;
    for (size_t e = 0; e < epochs; ++e) {
      if (totals[e] == 0 || a >= exposures[e].size() || a >= shares[e].size()) continue;
      const double p = shares[e][a];
      // A share of 0 (with no exposures, checked above) or 1 fixes every
      // unit's arm under both hypotheses: no information.
      if (!(p > 0) || !(p < 1)) continue;
      cells.n.push_back(static_cast<double>(totals[e]));
      cells.p.push_back(p);
      arm_units += static_cast<double>(exposures[e][a]);
    }
    if (!cells.n.empty()) log_e[a] = ArmLogEValue(arm_units, cells, kSampleRatioTau);
  }
  const double largest = *std::max_element(log_e.begin(), log_e.end());
  double sum = 0;
  for (double value : log_e) sum += std::exp(value - largest);
  return largest + std::log(sum / static_cast<double>(arms));
}

double SampleRatioPValue(const std::vector<std::vector<int64_t>>& exposures,
                         const std::vector<std::vector<double>>& shares,
                         double previous) {
  if (std::isnan(previous)) previous = 1.0;
  const double log_e = SampleRatioLogEValue(exposures, shares);
  // 1 / E, capped at 1; exp(-inf) = 0 for a certain mismatch.
  const double p = log_e <= 0 ? 1.0 : std::exp(-log_e);
  return std::min(previous, p);
}

}  // namespace allot::internal
