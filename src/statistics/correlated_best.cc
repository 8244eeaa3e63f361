// Copyright 2026 The allot Authors.
//
// P(best) and expected loss under a correlated Normal posterior; the method
// is described in correlated_best.h.

#include "statistics/correlated_best.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allot/posterior.h"
#include "boost/math/special_functions/erf.hpp"
#include "statistics/gauss_legendre.h"
#include "statistics/math_policy.h"

namespace allot::internal {
namespace {

// Randomized QMC: kShifts independent shifts give the standard error.
constexpr int kShifts = 8;
constexpr int64_t kFirstPoints = 8;                  // per shift
constexpr int64_t kMaxPoints = 1 << 14;              // per shift: the work cap
constexpr double kTargetError = 1e-4;                // standard error to stop at
constexpr uint64_t kShiftSeed = 0x616c6c6f74636f72;  // "allotcor"
// An arm with min_j P(X_i > X_j) below this gets p_best 0.
constexpr double kPruneBelow = 1e-9;
// A constraint j of arm i with P(X_j > X_i) below this is dropped: it
// changes P(i best) by less than that, far below kTargetError.
constexpr double kDropBelow = 1e-8;
// A (conditional) variance at most this times the largest |covariance|
// entry is rounding: the difference is a point mass given earlier ones.
constexpr double kDegenerate = 1e-10;
// Input checks: relative asymmetry, and the most negative eigenvalue
// allowed relative to the largest in magnitude.
constexpr double kSymmetryTolerance = 1e-9;
constexpr double kPsdTolerance = 1e-8;

double Phi(double t) { return 0.5 * std::erfc(-t * std::numbers::sqrt2 / 2.0); }
double PhiDensity(double t) {
  return std::exp(-0.5 * t * t) * (std::numbers::inv_sqrtpi / std::numbers::sqrt2);
}
// The standard Normal quantile; p in (0, 1).
double PhiInverse(double p) {
  return -std::numbers::sqrt2 * boost::math::erfc_inv(2.0 * p, NoThrowPolicy());
}
// P(D >= 0) for a point mass D = d: an exact tie counts one half.
double PointMass(double d) { return d > 0.0 ? 1.0 : (d < 0.0 ? 0.0 : 0.5); }

// The constraints D = mu + L y >= 0 of one arm, rows in integration order.
struct Orthant {
  int m = 0;               // constraints
  int rank = 0;            // rows 0..rank-1 have L_kk > 0; the rest are point masses
  std::vector<double> mu;  // m
  std::vector<double> l;   // m x m, row-major, lower triangular
  int target = -1;         // row of X_i - X_r, or -1 when i == r
  int dim = 0;             // QMC dimension
  // When target is row 0: the integrand's g is reported minus the control
  // q_0 (mu_0 + L_00 y_0), whose exact mean is control_mean. The control
  // carries the unbounded part of g (y_0 large, all other constraints met),
  // which otherwise dominates its variance.
  bool control = false;
  double control_q = 0.0;  // q_0
  double control_mean = 0.0;
};

// Builds arm i's orthant over the constraints `others`, ordering them as
// the factor is built (Genz and Bretz 2009): at each step
// the constraint with the smallest probability given the truncated means
// of the variables so far comes next. Constraints with no conditional
// variance left (at most `tol`) go last, as point masses.
Orthant BuildOrthant(int i, const std::vector<int>& others, int r,
                     const std::vector<double>& mean,
                     const std::vector<std::vector<double>>& cov, double tol) {
  Orthant o;
  const int m = static_cast<int>(others.size());
  o.m = m;
  std::vector<double> s(static_cast<size_t>(m) * m), mu(m);
  for (int a = 0; a < m; ++a) {
    const int ja = others[a];
    mu[a] = mean[i] - mean[ja];
    for (int b = 0; b < m; ++b) {
      const int jb = others[b];
      s[a * m + b] = cov[i][i] - cov[i][jb] - cov[ja][i] + cov[ja][jb];
    }
  }
  std::vector<int> perm(m);
  for (int a = 0; a < m; ++a) perm[a] = a;
  o.l.assign(static_cast<size_t>(m) * m, 0.0);
  std::vector<double> ybar(m, 0.0);
  int rank = 0;
  for (int k = 0; k < m; ++k) {
    int best = -1;
    double best_prob = std::numeric_limits<double>::infinity(), best_var = 0.0,
           best_t = 0.0;
    for (int a = k; a < m; ++a) {
      const double* row = &o.l[a * m];
      double var = s[perm[a] * m + perm[a]], shift = mu[perm[a]];
      for (int j = 0; j < k; ++j) {
        var -= row[j] * row[j];
        shift += row[j] * ybar[j];
      }
      if (!(var > tol)) continue;
      const double t = shift / std::sqrt(var);
      // X_i - X_r goes first when it has variance: its own expectation is
      // then the control variate of E[(X_i - X_r) 1{i best}] (Evaluate).
      const double prob = k == 0 && others[perm[a]] == r ? -1.0 : Phi(t);
      if (prob < best_prob) {
        best = a;
        best_prob = prob;
        best_var = var;
        best_t = t;
      }
    }
    if (best < 0) break;
    std::swap(perm[k], perm[best]);
    for (int j = 0; j < k; ++j) std::swap(o.l[k * m + j], o.l[best * m + j]);
    const double diag = std::sqrt(best_var);
    o.l[k * m + k] = diag;
    for (int a = k + 1; a < m; ++a) {
      double v = s[perm[a] * m + perm[k]];
      for (int j = 0; j < k; ++j) v -= o.l[a * m + j] * o.l[k * m + j];
      o.l[a * m + k] = v / diag;
    }
    // E[y | y >= -t], y standard Normal; for tiny Phi(t) it tends to -t.
    const double below = Phi(best_t);
    ybar[k] = below > 1e-300 ? PhiDensity(best_t) / below : -best_t;
    rank = k + 1;
  }
  o.rank = rank;
  o.mu.resize(m);
  for (int a = 0; a < m; ++a) {
    o.mu[a] = mu[perm[a]];
    if (others[perm[a]] == r) o.target = a;
    // A difference with no variance of its own is a constant.
    if (a >= rank && !(s[perm[a] * m + perm[a]] > tol)) {
      std::fill(o.l.begin() + a * m, o.l.begin() + (a + 1) * m, 0.0);
    }
  }
  // The last variable is integrated in closed form unless point-mass rows
  // after it depend on it.
  o.dim = rank < m ? rank : std::max(rank - 1, 0);
  if (o.target == 0 && rank > 0 && o.dim > 0 && Phi(o.mu[0] / o.l[0]) > 0.0) {
    // C = q_0 (mu_0 + L_00 y_0) has the known mean E[D_0 1{D_0 >= 0}].
    o.control = true;
    const double z = o.mu[0] / o.l[0];
    o.control_q = Phi(z);
    o.control_mean = o.mu[0] * Phi(z) + o.l[0] * PhiDensity(z);
  }
  return o;
}

// The integrand at u (o.dim coordinates in [0, 1]): *p the probability
// product, *g the same times the expected X_i - X_r.
void EvaluateRaw(const Orthant& o, const double* u, double* y, double* p, double* g) {
  const int m = o.m;
  const int analytic = o.rank < m ? -1 : o.rank - 1;
  double f = 1.0;
  for (int k = 0; k < o.rank; ++k) {
    const double* row = &o.l[k * m];
    double shift = o.mu[k];
    for (int j = 0; j < k; ++j) shift += row[j] * y[j];
    const double t = shift / row[k];
    const double q = Phi(t);
    if (k == analytic) {
      *p = f * q;
      *g = 0.0;
      if (o.target >= 0) {
        const double* target = &o.l[o.target * m];
        double d = o.mu[o.target];
        for (int j = 0; j < k; ++j) d += target[j] * y[j];
        *g = f * (d * q + target[k] * PhiDensity(t));
      }
      return;
    }
    f *= q;
    if (f == 0.0) {
      *p = 0.0;
      *g = 0.0;
      return;
    }
    // y_k from the Normal truncated to y_k >= -t.
    const double w = std::clamp((1.0 - u[k]) * q, DBL_MIN, 1.0 - DBL_EPSILON / 2);
    y[k] = -PhiInverse(w);
  }
  for (int k = o.rank; k < m; ++k) {
    const double* row = &o.l[k * m];
    double d = o.mu[k];
    for (int j = 0; j < o.rank; ++j) d += row[j] * y[j];
    f *= PointMass(d);
  }
  *p = f;
  *g = 0.0;
  if (o.target >= 0) {
    const double* target = &o.l[o.target * m];
    double d = o.mu[o.target];
    for (int j = 0; j < o.rank; ++j) d += target[j] * y[j];
    *g = f * d;
  }
}

// The integrand with the control subtracted (see Orthant::control).
void Evaluate(const Orthant& o, const double* u, double* y, double* p, double* g) {
  EvaluateRaw(o, u, y, p, g);
  // y[0] is set: row 0 is not the closed-form one (dim > 0), and q_0 > 0.
  if (o.control) *g -= o.control_q * (o.mu[0] + o.l[0] * y[0]);
}

struct Integral {
  double p = 0.0;
  double g = 0.0;
};

// Gauss-Legendre nodes per panel for one-dimensional integrals; the panel
// width is at most kLinePanel standard deviations of y and of the
// remaining constraint's transition, the tuning of probability_best.cc
// (worst error ~1e-11 with 10 nodes on 2-sd panels).
constexpr int kLineNodes = 10;
constexpr double kLinePanel = 2.0;
constexpr int kMaxLinePanels = 4096;

// Two constraints, both with variance: the QMC dimension is 1, and the
// integral over y_0 (with its Normal density, from the first constraint's
// limit) is smooth in y_0, so composite Gauss-Legendre in y_0 gives it to
// ~1e-11 with far fewer evaluations than QMC. Returns false when the
// second constraint's transition is too narrow for kMaxLinePanels panels.
bool IntegrateLine(const Orthant& o, Integral* out) {
  const GaussLegendreRule<kLineNodes>& rule = GaussLegendre<kLineNodes>();
  const double l00 = o.l[0], l10 = o.l[2], l11 = o.l[3];
  // y_0 >= -mu_0 / L_00; below -9 and 9 above max(lo, 0) the Normal
  // density holds under 1e-18.
  const double lo = std::max(-o.mu[0] / l00, -9.0);
  const double hi = std::max(lo, 0.0) + 9.0;
  double width = kLinePanel;
  if (l10 != 0.0) width = std::min(width, kLinePanel * l11 / std::fabs(l10));
  const double panels_real = std::ceil((hi - lo) / width);
  if (!(panels_real <= kMaxLinePanels)) return false;
  const int panels = std::max(1, static_cast<int>(panels_real));
  const double h = (hi - lo) / panels;
  double p = 0.0, g = 0.0;
  for (int panel = 0; panel < panels; ++panel) {
    const double mid = lo + (panel + 0.5) * h;
    for (int n = 0; n < kLineNodes; ++n) {
      const double y = mid + 0.5 * h * rule.node[n];
      const double w = 0.5 * h * rule.weight[n] * PhiDensity(y);
      const double t = (o.mu[1] + l10 * y) / l11;
      const double q = Phi(t);
      p += w * q;
      if (o.target == 0) {
        g += w * (o.mu[0] + l00 * y) * q;
      } else if (o.target == 1) {
        g += w * ((o.mu[1] + l10 * y) * q + l11 * PhiDensity(t));
      }
    }
  }
  out->p = p;
  out->g = g;
  return true;
}

// The QMC rule shared by all arms: generators and fixed-seed shifts.
struct Rule {
  std::vector<double> alpha;   // frac(sqrt(p_k))
  std::vector<double> shifts;  // kShifts rows of `stride`
  int stride = 0;
};

// One arm's integral, advanced round by round by the shifted Richtmyer
// rule (see the header).
struct Integration {
  Orthant o;
  double g_scale = 0.0;  // sd of X_i - X_r (or |m_i - m_r| if a point mass)
  Integral result;
  bool exact = false;  // dimension 0, or the Gauss-Legendre line
  double sum_p[kShifts] = {}, sum_g[kShifts] = {};
  int64_t done = 0;  // points per shift so far
  double se_p = 0.0, se_g = 0.0;

  bool Final() const { return exact || done >= kMaxPoints; }
};

void Start(Integration* it) {
  const Orthant& o = it->o;
  if (o.dim == 0) {
    std::vector<double> y(std::max(o.rank, 1));
    Evaluate(o, nullptr, y.data(), &it->result.p, &it->result.g);
    it->exact = true;
  } else if (o.m == 2 && o.rank == 2 && IntegrateLine(o, &it->result)) {
    it->exact = true;
  }
}

// Adds points up to 8 per shift in the first round, then half as many
// again each round (up to kMaxPoints), and updates the estimates.
void Round(const Rule& rule, Integration* it) {
  const Orthant& o = it->o;
  const int64_t done = it->done;
  const int64_t points = done == 0 ? kFirstPoints : std::min(done + done / 2, kMaxPoints);
  std::vector<double> x(o.dim), u(o.dim), y(std::max(o.rank, 1));
  for (int s = 0; s < kShifts; ++s) {
    const double* shift = &rule.shifts[s * rule.stride];
    // x_n = n alpha + shift mod 1, stepped by alpha from point `done`.
    for (int k = 0; k < o.dim; ++k) {
      x[k] = static_cast<double>(done) * rule.alpha[k] + shift[k];
      x[k] -= std::floor(x[k]);
    }
    for (int64_t n = done + 1; n <= points; ++n) {
      for (int k = 0; k < o.dim; ++k) {
        x[k] += rule.alpha[k];
        if (x[k] >= 1.0) x[k] -= 1.0;
        u[k] = 1.0 - std::fabs(2.0 * x[k] - 1.0);  // baker's transformation
      }
      double p = 0.0, g = 0.0;
      Evaluate(o, u.data(), y.data(), &p, &g);
      it->sum_p[s] += p;
      it->sum_g[s] += g;
    }
  }
  it->done = points;
  const double n = static_cast<double>(points);
  double mean_p = 0.0, mean_g = 0.0;
  for (int s = 0; s < kShifts; ++s) {
    mean_p += it->sum_p[s] / n;
    mean_g += it->sum_g[s] / n;
  }
  mean_p /= kShifts;
  mean_g /= kShifts;
  double var_p = 0.0, var_g = 0.0;
  for (int s = 0; s < kShifts; ++s) {
    const double dp = it->sum_p[s] / n - mean_p;
    const double dg = it->sum_g[s] / n - mean_g;
    var_p += dp * dp;
    var_g += dg * dg;
  }
  // Standard errors of the mean of kShifts independent estimates.
  it->se_p = std::sqrt(var_p / (kShifts * (kShifts - 1)));
  it->se_g = std::sqrt(var_g / (kShifts * (kShifts - 1)));
  it->result.p = mean_p;
  it->result.g = mean_g + o.control_mean;
}

// The first n primes.
std::vector<int> Primes(int n) {
  std::vector<int> primes;
  for (int c = 2; static_cast<int>(primes.size()) < n; ++c) {
    bool prime = true;
    for (int p : primes) {
      if (p * p > c) break;
      if (c % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes.push_back(c);
  }
  return primes;
}

absl::Status Validate(const std::vector<double>& mean,
                      const std::vector<std::vector<double>>& cov) {
  const size_t k = mean.size();
  if (k < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("mean must have at least 2 arms, got ", k));
  }
  if (cov.size() != k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "covariance must have ", k, " rows (one per arm), got ", cov.size()));
  }
  for (size_t i = 0; i < k; ++i) {
    if (!std::isfinite(mean[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("mean[", i, "] must be finite, got ", mean[i]));
    }
    if (cov[i].size() != k) {
      return absl::InvalidArgumentError(absl::StrCat("covariance row ", i, " must have ",
                                                     k, " entries, got ", cov[i].size()));
    }
    for (size_t j = 0; j < k; ++j) {
      if (!std::isfinite(cov[i][j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("covariance[", i, "][", j, "] must be finite, got ", cov[i][j]));
      }
    }
  }
  for (size_t i = 0; i < k; ++i) {
    if (cov[i][i] < 0.0) {
      return absl::InvalidArgumentError(
          absl::StrCat("covariance[", i, "][", i,
                       "] is a variance and must be >= 0, got ", cov[i][i]));
    }
  }
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = i + 1; j < k; ++j) {
      const double scale = std::max(
          {std::fabs(cov[i][j]), std::fabs(cov[j][i]), std::sqrt(cov[i][i] * cov[j][j])});
      if (std::fabs(cov[i][j] - cov[j][i]) > kSymmetryTolerance * scale) {
        return absl::InvalidArgumentError(absl::StrCat(
            "covariance must be symmetric: covariance[", i, "][", j, "] = ", cov[i][j],
            " but covariance[", j, "][", i, "] = ", cov[j][i]));
      }
    }
  }
  Eigen::MatrixXd matrix(k, k);
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) matrix(i, j) = 0.5 * (cov[i][j] + cov[j][i]);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(matrix, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) {
    return absl::InvalidArgumentError("covariance eigenvalues could not be computed");
  }
  const double smallest = solver.eigenvalues().minCoeff();
  const double largest = solver.eigenvalues().cwiseAbs().maxCoeff();
  if (smallest < -kPsdTolerance * largest) {
    return absl::InvalidArgumentError(
        absl::StrCat("covariance must be positive semi-definite: its smallest "
                     "eigenvalue is ",
                     smallest, " (largest in magnitude ", largest, ")"));
  }
  return absl::OkStatus();
}

// Whether every off-diagonal is exactly 0 (the independent path, when the
// variances also make valid Normal posteriors).
bool IsDiagonal(const std::vector<std::vector<double>>& cov) {
  for (size_t i = 0; i < cov.size(); ++i) {
    for (size_t j = 0; j < cov.size(); ++j) {
      if (i != j && cov[i][j] != 0.0) return false;
    }
  }
  return true;
}

CorrelatedBest TwoArms(const std::vector<double>& mean,
                       const std::vector<std::vector<double>>& cov, double tol) {
  CorrelatedBest out;
  const double d = mean[0] - mean[1];
  const double var = cov[0][0] + cov[1][1] - 2.0 * cov[0][1];
  if (var > tol) {
    const double sd = std::sqrt(var), z = d / sd;
    out.p_best = {Phi(z), Phi(-z)};
    // E[max(X1 - X0, 0)] and E[max(X0 - X1, 0)] for X0 - X1 ~ N(d, var).
    out.expected_loss = {std::max(0.0, -d * Phi(-z) + sd * PhiDensity(z)),
                         std::max(0.0, d * Phi(z) + sd * PhiDensity(z))};
  } else {
    out.p_best = {PointMass(d), PointMass(-d)};
    out.expected_loss = {std::max(0.0, -d), std::max(0.0, d)};
  }
  return out;
}

}  // namespace

absl::StatusOr<CorrelatedBest> CorrelatedProbabilityBest(
    const std::vector<double>& mean, const std::vector<std::vector<double>>& covariance,
    Direction direction) {
  if (absl::Status status = Validate(mean, covariance); !status.ok()) return status;
  const int k = static_cast<int>(mean.size());

  if (IsDiagonal(covariance)) {
    std::vector<ArmPosterior> arms;
    for (int i = 0; i < k; ++i) {
      arms.push_back(ArmPosterior::Normal(mean[i], std::sqrt(covariance[i][i])));
    }
    if (ValidatePosteriors(arms).ok()) {
      // Normal arms never fall back to Monte Carlo unless narrower than the
      // doubles at their mean; the seed is then fixed for reproducibility.
      absl::StatusOr<std::vector<double>> p_best = ProbabilityBest(arms, direction, 0);
      if (!p_best.ok()) return p_best.status();
      absl::StatusOr<std::vector<double>> loss = ExpectedLoss(arms, direction, 0);
      if (!loss.ok()) return loss.status();
      return CorrelatedBest{*std::move(p_best), *std::move(loss)};
    }
  }

  // Larger is better from here on; symmetrized covariance.
  std::vector<double> m(mean);
  if (direction == Direction::kLowerIsBetter) {
    for (double& x : m) x = -x;
  }
  std::vector<std::vector<double>> cov(covariance);
  double scale = 0.0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      cov[i][j] = 0.5 * (covariance[i][j] + covariance[j][i]);
      scale = std::max(scale, std::fabs(cov[i][j]));
    }
  }
  const double tol = kDegenerate * scale;
  if (k == 2) return TwoArms(m, cov, tol);

  // Pairwise P(X_i > X_j), for pruning arms and dropping constraints.
  std::vector<std::vector<double>> pair(k, std::vector<double>(k, 1.0));
  std::vector<std::vector<double>> pair_var(k, std::vector<double>(k, 0.0));
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      if (i == j) continue;
      const double var = cov[i][i] + cov[j][j] - 2.0 * cov[i][j];
      pair_var[i][j] = var;
      pair[i][j] =
          var > tol ? Phi((m[i] - m[j]) / std::sqrt(var)) : PointMass(m[i] - m[j]);
    }
  }
  const int r = static_cast<int>(std::max_element(m.begin(), m.end()) - m.begin());

  // The rule: sqrt of the first primes, and fixed-seed shifts.
  Rule rule;
  rule.stride = k - 1;
  const std::vector<int> primes = Primes(rule.stride);
  for (int p : primes) {
    const double root = std::sqrt(static_cast<double>(p));
    rule.alpha.push_back(root - std::floor(root));
  }
  std::mt19937_64 engine(kShiftSeed);
  rule.shifts.resize(static_cast<size_t>(kShifts) * rule.stride);
  for (double& x : rule.shifts) x = static_cast<double>(engine() >> 11) * 0x1.0p-53;

  // Each live arm (min_j P(X_i > X_j) >= kPruneBelow) is integrated until
  // its P(best) and its term of E[max] meet the target on their own.
  std::vector<Integration> runs;
  std::vector<int> arm_of_run;
  double g_scale_max = 0.0;
  for (int i = 0; i < k; ++i) {
    bool alive = true;
    for (int j = 0; j < k; ++j) {
      if (j != i && pair[i][j] < kPruneBelow) alive = false;
    }
    if (!alive) continue;
    std::vector<int> others;
    for (int j = 0; j < k; ++j) {
      if (j != i && (j == r || pair[j][i] >= kDropBelow)) others.push_back(j);
    }
    Integration& it = runs.emplace_back();
    arm_of_run.push_back(i);
    it.o = BuildOrthant(i, others, r, m, cov, tol);
    it.g_scale = i == r ? 0.0
                        : (pair_var[i][r] > tol ? std::sqrt(pair_var[i][r])
                                                : std::fabs(m[i] - m[r]));
    g_scale_max = std::max(g_scale_max, it.g_scale);
    Start(&it);
    while (!it.Final() && (it.done == 0 || it.se_p > kTargetError ||
                           it.se_g > kTargetError * it.g_scale)) {
      Round(rule, &it);
    }
  }
  // E[max] sums one term per live arm: the arm with the largest standard
  // error gets more points until the sum's is within the target too.
  while (true) {
    double var = 0.0;
    int worst = -1;
    for (size_t n = 0; n < runs.size(); ++n) {
      var += runs[n].se_g * runs[n].se_g;
      if (!runs[n].Final() && (worst < 0 || runs[n].se_g > runs[worst].se_g)) {
        worst = static_cast<int>(n);
      }
    }
    if (std::sqrt(var) <= kTargetError * g_scale_max || worst < 0) break;
    Round(rule, &runs[worst]);
  }

  std::vector<double> p_best(k, 0.0);
  double e_max = m[r];  // E[max] = m_r + sum_i E[(X_i - X_r) 1{i best}]
  double total = 0.0;
  for (size_t n = 0; n < runs.size(); ++n) {
    const int i = arm_of_run[n];
    p_best[i] = std::max(0.0, runs[n].result.p);
    total += p_best[i];
    e_max += runs[n].result.g;
  }
  CorrelatedBest out;
  out.p_best = std::move(p_best);
  if (total > 0.0) {
    for (double& p : out.p_best) p /= total;
  }
  out.expected_loss.resize(k);
  for (int i = 0; i < k; ++i) out.expected_loss[i] = std::max(0.0, e_max - m[i]);
  return out;
}

}  // namespace allot::internal
