// Copyright 2026 The allot Authors.
//
// Probability of being best and expected loss.
//
// For any number of arms these are integrals,
//   P(i best) = integral of f_i(t) prod_{j != i} F_j(t) dt,
//   E[max]    = sum_i integral of x(t) f_i(t) prod_{j != i} F_j(t) dt,
// taken in a variable t where every posterior density is smooth: the mean
// itself for Normal and Student t arms, and for Beta arms the logit of the
// rate. The logit
// of a Beta(a, b) variable has density proportional to s(t)^a (1 - s(t))^b
// (s the logistic function): log-concave with exponential tails and no
// endpoint singularity for any a, b > 0, where the Beta density itself can be
// infinite at 0 or 1. Being best is unchanged by a common increasing map.
// Lower-is-better is higher-is-better on mirrored arms: 1 - X ~ Beta(b, a)
// and -X ~ Normal(-m, sd) (or the mirrored t).
//
// Student t arms are not log-concave: their tails fall like |x|^-(df+1), so
// a density drop of e^-36 can leave 5e-9 of a Cauchy's mass outside. Their
// windows reach at least as far as 1e-17 of tail mass on each side, and for
// expected losses as far as the tail's part of the mean, the integral of x
// f(x) beyond the window, is below 1e-10 of the scale (it is finite only for
// df > 1, and for df near 1 reaches 1e150 scales; see posterior.h). Graded
// panels (kGrading) make the panel count logarithmic in the window's span,
// and on a panel of 0.3 |x| the power-law tail is a smooth function: its
// nearest singularities, at location +- i scale sqrt(df), are at least
// |x| away.
//
// The quadrature, in order:
//  1. Each arm gets a window where its log density is within kTailLogDrop of
//     its peak (log-concavity puts under ~1e-16 of its mass outside) and
//     panel edges sized to its local curvature.
//  2. Arms whose window ends below the start of another arm's window cannot
//     be best (P < 1e-15): they are dropped.
//  3. The remaining arms' panels merge into one grid whose width at each
//     point is the smallest any active arm asks for; the union of all edges
//     would multiply the panel count by K for overlapping arms.
//  4. On every panel, kNodes Gauss-Legendre nodes. Each arm's density costs
//     one exp per node; its CDF at the nodes comes from integrating the
//     density's interpolating polynomial (a fixed kNodes x kNodes matrix),
//     summed from the window's start. Densities and CDFs are divided by the
//     arm's computed total mass, so every CDF ends at exactly 1 and no
//     incomplete-beta or lgamma call is needed.
//  5. At each node, every arm's f_i prod_{j != i} F_j comes from running
//     prefix and suffix products of the CDFs of the arms still below 1
//     there: O(K) per node and O(K x nodes) in all, with no division, so an
//     arm whose own CDF is 0 (or underflows) is handled exactly. E[max], for
//     the expected losses, is the sum of the same terms times the mean
//     variable; each arm's loss is then E[max] minus its own mean.
// The work is O(K x panels x kNodes) for the densities, CDFs and products,
// in one thread and a fixed order, so results are bit-reproducible.
// Posteriors too extreme to grid (an arm narrower than the doubles near it
// can resolve, or a grid beyond kMaxPanels per arm) fall back to seeded
// Monte Carlo over the same surviving arms.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"
#include "boost/math/distributions/students_t.hpp"
#include "boost/random/normal_distribution.hpp"
#include "boost/random/student_t_distribution.hpp"
#include "boost/random/uniform_01.hpp"
#include "statistics/beta_logit_sampler.h"
#include "statistics/gauss_legendre.h"
#include "statistics/math_policy.h"

namespace allot {
namespace {

// Nodes per panel and panel width were tuned against closed forms and
// independent quadrature: with 10 nodes on panels of 2 local standard
// deviations the worst error seen is ~1e-11, far inside the promised 1e-6
// (8 nodes: 2e-9 at 15% less time; 12 nodes on 1.5: 1e-15 at 25% more).
constexpr int kNodes = 10;
// Panel width in local standard deviations of the narrowest active arm, for
// two arms; more arms get narrower panels (PanelScale).
constexpr double kPanelScale = 2.0;
// Far from the mode panels may also grow to this fraction of the distance.
constexpr double kGrading = 0.15;
// Windows end where the density falls to e^-36 of its peak.
constexpr double kTailLogDrop = 36.0;
// Bounds windows of extreme Beta arms (alpha or beta < ~1e-10) in logit
// units, keeping every quantity finite.
constexpr double kMaxSpan = 1e12;
// Beyond this |log peak| the fast Beta log density (a difference of large
// terms) loses more than ~1e-10 relative accuracy; a slower exact form is
// used instead.
constexpr double kPreciseLogPeak = 1e6;
// An arm needing more panels than this is left to Monte Carlo.
constexpr size_t kMaxPanels = 20000;
// Student t windows: at least this tail mass is left out on each side, and
// for expected losses at most this much of the tail's part of the mean (in
// scales), but the window ends within kMaxTailSpan scales of the location
// (beyond it the density relative to its peak nears the smallest doubles
// even at df = 1).
constexpr double kTailMass = 1e-17;
constexpr double kTailMoment = 1e-10;
constexpr double kMaxTailSpan = 1e150;

constexpr double kInf = std::numeric_limits<double>::infinity();

double Sigmoid(double t) { return 1.0 / (1.0 + std::exp(-t)); }
// log(1 + e^t) without overflow.
double Softplus(double t) {
  return t > 0.0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
}

// One arm, oriented so that larger is better, in the integration variable.
struct Arm {
  size_t index = 0;  // position in the caller's span
  bool beta = true;
  bool student = false;   // a Student t with finite df
  double a = 1.0;         // Beta alpha, or Normal (t) mean minus the reference
  double b = 1.0;         // Beta beta, or Normal sd (t scale)
  double df = kInf;       // Student t degrees of freedom
  double mean_rel = 0.0;  // posterior mean minus the reference
  double mode = 0.0;
  double scale = 1.0;         // 1 / sqrt(-(log density)'') at the mode
  double lo = 0.0, hi = 0.0;  // window
  double log_peak = 0.0;      // Beta: a log(a / (a+b)) + b log(b / (a+b))
  bool precise = false;
};

// log(1 + z^2 / df), also where z^2 would overflow.
double LogOnePlusSquare(double z, double df) {
  const double abs_z = std::fabs(z);
  if (abs_z < 1e100) return std::log1p(abs_z * abs_z / df);
  return 2.0 * std::log(abs_z) - std::log(df);  // log1p(df / z^2) is below 1e-190
}

// Log density at t minus its peak value.
double LogDensityRel(const Arm& arm, double t) {
  const double d = t - arm.mode;
  if (arm.student) return -0.5 * (arm.df + 1.0) * LogOnePlusSquare(d / arm.b, arm.df);
  if (!arm.beta) return -0.5 * (d / arm.b) * (d / arm.b);
  if (arm.precise && std::fabs(d) < 30.0) {
    // log(s(t) / s(mode)) = log1p((1 - s(t)) expm1(d)), and its mirror:
    // no cancellation between terms of size |log_peak|.
    return arm.a * std::log1p(Sigmoid(-t) * std::expm1(d)) +
           arm.b * std::log1p(Sigmoid(t) * std::expm1(-d));
  }
  return -arm.a * Softplus(-t) - arm.b * Softplus(t) - arm.log_peak;
}

double LocalScale(const Arm& arm, double t) {
  // A t's log density has curvature (df + 1) / (df scale^2) at its mode, and
  // further out varies on the scale of the distance to its singularities at
  // mode +- i scale sqrt(df): this is both, and tends to the Normal's sd as
  // df grows.
  if (arm.student) {
    return std::hypot(std::sqrt(arm.df) * arm.b, t - arm.mode) / std::sqrt(arm.df + 1.0);
  }
  if (!arm.beta) return arm.b;
  const double e = std::exp(-std::fabs(t));
  const double curvature = (arm.a + arm.b) * e / ((1.0 + e) * (1.0 + e));
  return curvature > 0.0 ? 1.0 / std::sqrt(curvature) : kInf;
}

// For a Beta arm, solves LogDensityRel = -kTailLogDrop on one side (dir = +1
// or -1) of the mode by Newton's method. The function is concave, so after
// the first step the iterates approach the root from outside the window;
// stopping within 0.25 of it changes the tail cut off by e^-36 immaterially.
double WindowEdge(const Arm& arm, int dir) {
  double t = arm.mode + dir * std::sqrt(2.0 * kTailLogDrop) * arm.scale;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double g = LogDensityRel(arm, t) + kTailLogDrop;
    const double slope = arm.a * Sigmoid(-t) - arm.b * Sigmoid(t);
    if (std::fabs(g) < 0.25 || !(slope * dir < 0.0)) break;
    const double next = t - g / slope;
    if (!std::isfinite(next) || std::fabs(next - arm.mode) > kMaxSpan) {
      return arm.mode + dir * kMaxSpan;
    }
    t = next;
  }
  return t;
}

// The half-width, in scales, of a standard t window (see kTailMass): the
// density drop of kTailLogDrop (enough for large df, where the t is nearly
// Normal), the point leaving kTailMass in the tail, and for expected losses
// (df > 1) the point where the tail's part of the mean,
//   integral from z to inf of x f(x) dx = f(z) (df + z^2) / (df - 1),
// falls to kTailMoment; never beyond kMaxTailSpan.
double StudentHalfWidth(double df, bool want_loss) {
  double z = std::sqrt(df * std::expm1(2.0 * kTailLogDrop / (df + 1.0)));
  const double z_mass = boost::math::quantile(boost::math::complement(
      boost::math::students_t_distribution<double, internal::NoThrowPolicy>(df),
      kTailMass));
  if (z_mass > z) z = z_mass;  // false for NaN
  if (want_loss && df > 1.0) {
    const double log_norm = std::lgamma(0.5 * (df + 1.0)) - std::lgamma(0.5 * df) -
                            0.5 * std::log(df * std::numbers::pi);
    auto log_moment = [&](double x) {
      return log_norm - 0.5 * (df + 1.0) * LogOnePlusSquare(x, df) + std::log(df) +
             LogOnePlusSquare(x, df) - std::log(df - 1.0);
    };
    const double target = std::log(kTailMoment);
    if (log_moment(kMaxTailSpan) > target) return kMaxTailSpan;
    if (log_moment(z) > target) {
      // The moment decreases beyond the mode; bisect on log z.
      double lo = std::log(z), hi = std::log(kMaxTailSpan);
      for (int iteration = 0; iteration < 200 && hi - lo > 1e-3; ++iteration) {
        const double mid = 0.5 * (lo + hi);
        (log_moment(std::exp(mid)) > target ? lo : hi) = mid;
      }
      z = std::exp(hi);
    }
  }
  return std::min(z, kMaxTailSpan);
}

Arm MakeArm(const ArmPosterior& posterior, size_t index, Direction direction,
            double reference, bool want_loss) {
  Arm arm;
  arm.index = index;
  arm.beta = posterior.family == PosteriorFamily::kBeta;
  const bool mirror = direction == Direction::kLowerIsBetter;
  if (posterior.family == PosteriorFamily::kStudentT && posterior.df < kInf) {
    arm.student = true;
    arm.df = posterior.df;
    arm.a = (mirror ? -posterior.a : posterior.a) - reference;
    arm.b = posterior.b;
    arm.mean_rel = arm.a;
    arm.mode = arm.a;
    arm.scale = arm.b * std::sqrt(arm.df / (arm.df + 1.0));
    const double half = StudentHalfWidth(arm.df, want_loss) * arm.b;
    arm.lo = arm.mode - half;
    arm.hi = arm.mode + half;
    return arm;
  }
  if (!arm.beta) {
    arm.a = (mirror ? -posterior.a : posterior.a) - reference;
    arm.b = posterior.b;
    arm.mean_rel = arm.a;
    arm.mode = arm.a;
    arm.scale = arm.b;
    const double half = std::sqrt(2.0 * kTailLogDrop) * arm.b;
    arm.lo = arm.mode - half;
    arm.hi = arm.mode + half;
    return arm;
  }
  arm.a = mirror ? posterior.b : posterior.a;
  arm.b = mirror ? posterior.a : posterior.b;
  const double a = arm.a, b = arm.b;
  arm.mean_rel = a / (a + b) - reference;
  arm.mode = std::log(a) - std::log(b);
  arm.scale = std::sqrt(1.0 / a + 1.0 / b);
  arm.log_peak = -a * std::log1p(b / a) - b * std::log1p(a / b);
  arm.precise = std::fabs(arm.log_peak) > kPreciseLogPeak;
  arm.lo = WindowEdge(arm, -1);
  arm.hi = WindowEdge(arm, +1);
  return arm;
}

// An arm narrower than the spacing of doubles at its mode would get an empty
// window; one ulp on each side keeps it a (point-like) arm with panels.
void KeepWindowOpen(Arm* arm) {
  arm->lo = std::min(arm->lo, std::nextafter(arm->mode, -kInf));
  arm->hi = std::max(arm->hi, std::nextafter(arm->mode, kInf));
}

// Panel width in local standard deviations for k_arms arms. Each integrand
// carries the product of the other arms' CDFs, the CDF of their maximum,
// which for similar arms is narrower than one arm by about sqrt(2 ln K)
// (its Gumbel limit: sd pi / sqrt(6) / sqrt(2 ln K) of an arm's, 0.42 at
// K = 256, against 0.83 for the maximum of two). Panels shrink with it, so
// that they span as many of the maximum's sds as at K = 2, where kNodes and
// kPanelScale were tuned; with 2-sd panels at K = 256 E[max] of i.i.d. arms
// was off by 1.5e-5.
double PanelScale(size_t k_arms) {
  if (k_arms < 3) return kPanelScale;
  const double log_k = std::log(static_cast<double>(k_arms));
  const double gumbel_sd = std::numbers::pi / std::sqrt(6.0) / std::sqrt(2.0 * log_k);
  const double two_arm_sd = std::sqrt(1.0 - 1.0 / std::numbers::pi);
  return kPanelScale * std::min(1.0, gumbel_sd / two_arm_sd);
}

// The width of the panel starting at p and extending in direction dir.
double PanelWidth(const Arm& arm, double p, int dir, double panel_scale) {
  const double grade = std::max(arm.scale, kGrading * std::fabs(p - arm.mode));
  double width = panel_scale * std::min(LocalScale(arm, p), grade);
  if (arm.beta && dir * p < 0.0) {
    // Heading toward t = 0, where a Beta arm is most curved: size the panel
    // by its far end.
    double q = p + dir * width;
    if (dir * q > 0.0) q = 0.0;
    width = panel_scale * std::min(LocalScale(arm, q), grade);
  }
  return width;
}

// Appends the arm's panel edges, lo to hi, to *edges. Returns false when
// there would be more than kMaxPanels.
bool AppendEdges(const Arm& arm, double panel_scale, std::vector<double>* edges) {
  const size_t start = edges->size();
  for (int dir : {-1, +1}) {
    if (dir == +1) {
      std::reverse(edges->begin() + start, edges->end());
      edges->push_back(arm.mode);
    }
    const double end = dir < 0 ? arm.lo : arm.hi;
    double p = arm.mode;
    while (dir * (end - p) > 0.0) {
      const double width = PanelWidth(arm, p, dir, panel_scale);
      double q = p + dir * width;
      if (q == p) q = std::nextafter(p, dir * kInf);  // below resolution
      // A sliver at the window's end would make the merged grid step by it.
      if (dir * (end - q) < 0.5 * width) q = end;
      p = dir < 0 ? std::max(q, end) : std::min(q, end);
      edges->push_back(p);
      if (edges->size() - start > kMaxPanels) return false;
    }
  }
  return true;
}

struct Estimates {
  std::vector<double> p_best;  // per arm of the caller's span
  std::vector<double> loss;    // per arm; filled only when asked for
};

// Quadrature over `arms` (all can be best). Writes raw P(best) per arm into
// p_best (indexed like `arms`) and returns E[max - reference] (0 unless
// want_mean), or nullopt when the grid would be too large.
std::optional<double> Quadrature(absl::Span<const Arm> arms, double reference,
                                 bool want_mean, std::vector<double>* p_best) {
  const internal::GaussLegendreRule<kNodes>& rule = internal::GaussLegendre<kNodes>();
  const size_t k_arms = arms.size();
  std::vector<double> edges;
  std::vector<size_t> edge_begin(k_arms + 1, 0);
  const double panel_scale = PanelScale(k_arms);
  for (size_t j = 0; j < k_arms; ++j) {
    if (!AppendEdges(arms[j], panel_scale, &edges)) return std::nullopt;
    edge_begin[j + 1] = edges.size();
  }

  // Merge into one grid. A panel at t is as wide as the narrowest arm whose
  // window holds t asks for (looking one panel ahead). An arm whose window
  // starts inside the panel joins it if content with that width; otherwise
  // the panel ends where that window starts. Cutting at every window edge
  // instead would add 2K slivers, and nodes on them for every arm.
  std::vector<size_t> cursor(edge_begin.begin(), edge_begin.end() - 1);
  auto width_at = [&](size_t j, double at) {
    size_t& c = cursor[j];
    while (c + 2 < edge_begin[j + 1] && edges[c + 1] <= at) ++c;
    double width = edges[c + 1] - edges[c];
    if (c + 2 < edge_begin[j + 1]) {
      width = std::min(width, edges[c + 2] - edges[c + 1]);
    }
    return width;
  };
  const size_t max_merged = kMaxPanels + 2 * edges.size() + 2 * k_arms;
  std::vector<double> panel_lo, panel_hi;
  std::vector<size_t> first_panel(k_arms, 0), end_panel(k_arms, 0);
  std::vector<bool> seen(k_arms, false);
  double t = kInf;
  for (const Arm& arm : arms) t = std::min(t, arm.lo);
  while (true) {
    double step = kInf;
    for (size_t j = 0; j < k_arms; ++j) {
      if (arms[j].lo <= t && t < arms[j].hi) {
        step = std::min(step, width_at(j, t));
      }
    }
    if (step == kInf) {  // a gap between windows: nothing to integrate
      double next = kInf;
      for (const Arm& arm : arms) {
        if (arm.lo > t) next = std::min(next, arm.lo);
      }
      if (next == kInf) break;
      t = next;
      continue;
    }
    double end = t + step;
    for (bool cut = true; cut;) {  // each cut can only shorten the panel
      cut = false;
      for (size_t j = 0; j < k_arms; ++j) {
        if (arms[j].lo > t && arms[j].lo < end && width_at(j, arms[j].lo) < end - t) {
          end = arms[j].lo;
          cut = true;
        }
      }
    }
    if (end <= t) end = std::nextafter(t, kInf);  // below resolution
    for (size_t j = 0; j < k_arms; ++j) {
      if (arms[j].lo < end && arms[j].hi > t) {
        if (!seen[j]) first_panel[j] = panel_lo.size();
        seen[j] = true;
        end_panel[j] = panel_lo.size() + 1;
      }
    }
    panel_lo.push_back(t);
    panel_hi.push_back(end);
    // A merged panel is as wide as the narrowest active arm's current or
    // next panel, or ends at a window start, so the merged grid is of the
    // order of the arms' own panels: this cap guards against a runaway
    // loop, not against many arms.
    if (panel_lo.size() > max_merged) return std::nullopt;
    t = end;
  }

  const size_t panels = panel_lo.size();
  const size_t nodes = panels * kNodes;
  std::vector<double> node_t(nodes), node_w(nodes);
  for (size_t p = 0; p < panels; ++p) {
    const double half = 0.5 * (panel_hi[p] - panel_lo[p]);
    const double mid = 0.5 * (panel_hi[p] + panel_lo[p]);
    for (int m = 0; m < kNodes; ++m) {
      node_t[p * kNodes + m] = mid + half * rule.node[m];
      node_w[p * kNodes + m] = half * rule.weight[m];
    }
  }
  // Beta arms share log s(t) = -softplus(-t) and log(1 - s(t)) = -softplus(t)
  // per node, so each arm then costs one exp per node.
  const bool beta = arms[0].beta;
  std::vector<double> softplus_pos, softplus_neg;
  if (beta) {
    softplus_pos.resize(nodes);
    softplus_neg.resize(nodes);
    for (size_t k = 0; k < nodes; ++k) {
      const double e = std::log1p(std::exp(-std::fabs(node_t[k])));
      softplus_pos[k] = node_t[k] > 0.0 ? node_t[k] + e : e;
      softplus_neg[k] = node_t[k] > 0.0 ? e : e - node_t[k];
    }
  }

  // Below the last window start some CDF is 0: the products start there, and
  // earlier panels only add to each arm's running mass.
  size_t start_panel = 0;
  for (size_t j = 0; j < k_arms; ++j) {
    start_panel = std::max(start_panel, first_panel[j]);
  }

  // Densities and unnormalized CDFs at each arm's nodes from start_panel on
  // (every arm's window reaches it); earlier panels only add to the mass.
  std::vector<size_t> value_begin(k_arms + 1, 0);
  for (size_t j = 0; j < k_arms; ++j) {
    value_begin[j + 1] = value_begin[j] + (end_panel[j] - start_panel) * kNodes;
  }
  std::vector<double> density(value_begin[k_arms]), cdf(value_begin[k_arms]);
  for (size_t j = 0; j < k_arms; ++j) {
    const Arm& arm = arms[j];
    const bool fast = arm.beta && !arm.precise;
    double running = 0.0;
    double below[kNodes];  // densities on panels before start_panel
    for (size_t p = first_panel[j]; p < end_panel[j]; ++p) {
      const size_t stored = value_begin[j] + (p - start_panel) * kNodes;
      double* f = p < start_panel ? below : &density[stored];
      double* cum = p < start_panel ? nullptr : &cdf[stored];
      const size_t k0 = p * kNodes;
      for (int m = 0; m < kNodes; ++m) {
        const size_t k = k0 + m;
        f[m] = std::exp(fast ? -arm.a * softplus_neg[k] - arm.b * softplus_pos[k] -
                                   arm.log_peak
                             : LogDensityRel(arm, node_t[k]));
      }
      const double half = 0.5 * (panel_hi[p] - panel_lo[p]);
      double total = 0.0;
      for (int m = 0; m < kNodes; ++m) total += rule.weight[m] * f[m];
      if (p >= start_panel) {
        double sum[kNodes] = {};
        for (int m = 0; m < kNodes; ++m) {
          for (int k = 0; k < kNodes; ++k) {
            sum[k] += rule.cumulative[m][k] * f[m];
          }
        }
        for (int k = 0; k < kNodes; ++k) cum[k] = running + half * sum[k];
      }
      running += half * total;
    }
    // No mass on the nodes: an arm narrower than the doubles near it can
    // resolve. Monte Carlo draws it exactly.
    if (!(running > 0.0 && std::isfinite(running))) return std::nullopt;
    // Normalize.
    const double inv_mass = 1.0 / running;
    for (size_t v = value_begin[j]; v < value_begin[j + 1]; ++v) {
      density[v] *= inv_mass;
      cdf[v] = std::clamp(cdf[v] * inv_mass, 0.0, 1.0);
    }
  }

  p_best->assign(k_arms, 0.0);
  std::vector<size_t> active, offset(k_arms);
  std::vector<double> prefix(k_arms + 1);
  double mass = 0.0, max_rel = 0.0;
  for (size_t p = start_panel; p < panels; ++p) {
    active.clear();
    for (size_t j = 0; j < k_arms; ++j) {
      if (end_panel[j] > p) active.push_back(j);  // others have F = 1 here
    }
    const size_t n = active.size();
    for (size_t q = 0; q < n; ++q) {
      const size_t j = active[q];
      offset[q] = value_begin[j] + (p - start_panel) * kNodes;
    }
    for (int m = 0; m < kNodes; ++m) {
      prefix[0] = 1.0;
      for (size_t q = 0; q < n; ++q) {
        prefix[q + 1] = prefix[q] * cdf[offset[q] + m];
      }
      double suffix = 1.0;
      double node_sum = 0.0;
      const size_t k = p * kNodes + m;
      for (size_t q = n; q-- > 0;) {
        const double c = node_w[k] * density[offset[q] + m] * prefix[q] * suffix;
        (*p_best)[active[q]] += c;
        node_sum += c;
        suffix *= cdf[offset[q] + m];
      }
      mass += node_sum;
      if (want_mean) {
        const double x_rel = beta ? Sigmoid(node_t[k]) - reference : node_t[k];
        max_rel += x_rel * node_sum;
      }
    }
  }
  return mass > 0.0 ? max_rel / mass : 0.0;
}

// Seeded Monte Carlo over `arms`: writes P(best) per arm (indexed like
// `arms`), and when `loss` is non-null E[max - mu_i] per arm, from the same
// draws so that near-zero losses are estimated precisely; returns
// E[max - reference].
double MonteCarlo(absl::Span<const Arm> arms, double reference, uint64_t seed,
                  std::vector<double>* p_best, std::vector<double>* loss) {
  const size_t k_arms = arms.size();
  std::mt19937_64 engine(seed);
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_01<double> uniform;
  std::vector<internal::BetaLogitSampler> beta_logit;
  std::vector<boost::random::student_t_distribution<double>> student;
  for (const Arm& arm : arms) {
    beta_logit.emplace_back(arm.beta ? arm.a : 1.0, arm.beta ? arm.b : 1.0);
    student.emplace_back(arm.student ? arm.df : 1.0);
  }
  std::vector<uint64_t> wins(k_arms, 0);
  std::vector<double> value(k_arms), loss_sum(k_arms, 0.0);
  double max_sum = 0.0;
  for (int draw = 0; draw < kMonteCarloDraws; ++draw) {
    size_t best = 0;
    for (size_t j = 0; j < k_arms; ++j) {
      const Arm& arm = arms[j];
      // Beta draws stay on the logit scale (ordered like the rate).
      value[j] = arm.beta      ? beta_logit[j](engine, normal, uniform)
                 : arm.student ? arm.a + arm.b * student[j](engine)
                               : arm.a + arm.b * normal(engine);
      // -inf + inf (alpha and beta both below ~1e-300): no order to keep,
      // so the middle.
      if (std::isnan(value[j])) value[j] = 0.0;
      if (value[j] > value[best]) best = j;
    }
    ++wins[best];
    const bool beta_family = arms[best].beta;
    const double top = beta_family ? Sigmoid(value[best]) - reference : value[best];
    max_sum += top;
    if (loss != nullptr) {
      for (size_t j = 0; j < k_arms; ++j) {
        loss_sum[j] += top - (beta_family ? Sigmoid(value[j]) - reference : value[j]);
      }
    }
  }
  p_best->assign(k_arms, 0.0);
  for (size_t j = 0; j < k_arms; ++j) {
    (*p_best)[j] = static_cast<double>(wins[j]) / kMonteCarloDraws;
  }
  if (loss != nullptr) {
    loss->assign(k_arms, 0.0);
    for (size_t j = 0; j < k_arms; ++j) {
      (*loss)[j] = loss_sum[j] / kMonteCarloDraws;
    }
  }
  return max_sum / kMonteCarloDraws;
}

absl::StatusOr<Estimates> Estimate(absl::Span<const ArmPosterior> posteriors,
                                   Direction direction, uint64_t seed, bool want_loss) {
  ALLOT_RETURN_IF_ERROR(ValidatePosteriors(posteriors));
  if (want_loss) {
    // With a t of df <= 1 among the arms, E[max] (and every E[max - mu_i])
    // is infinite.
    for (const ArmPosterior& posterior : posteriors) {
      if (posterior.family == PosteriorFamily::kStudentT && posterior.df <= 1.0) {
        Estimates out;
        out.loss.assign(posteriors.size(), kInf);
        return out;
      }
    }
  }
  // The reference (the best oriented mean) keeps Normal means of any size
  // near 0 and losses free of cancellation.
  const bool mirror = direction == Direction::kLowerIsBetter;
  double reference = -kInf;
  for (const ArmPosterior& posterior : posteriors) {
    double mean = posterior.Mean();
    if (posterior.family == PosteriorFamily::kBeta) {
      mean = mirror ? posterior.b / (posterior.a + posterior.b) : mean;
    } else if (mirror) {
      mean = -mean;
    }
    reference = std::max(reference, mean);
  }
  std::vector<Arm> all;
  all.reserve(posteriors.size());
  double top_start = -kInf;
  for (size_t i = 0; i < posteriors.size(); ++i) {
    all.push_back(MakeArm(posteriors[i], i, direction, reference, want_loss));
    KeepWindowOpen(&all.back());
    top_start = std::max(top_start, all.back().lo);
  }
  std::vector<Arm> contenders;
  for (const Arm& arm : all) {
    if (arm.hi > top_start) contenders.push_back(arm);
  }

  std::vector<double> p_best, loss;
  double max_rel = 0.0;
  std::optional<double> quadrature;
  if (contenders.size() == 1) {
    p_best.assign(1, 1.0);
    quadrature = contenders[0].mean_rel;
  } else {
    quadrature = Quadrature(contenders, reference, want_loss, &p_best);
  }
  double total = 0.0;
  for (double p : p_best) total += p;
  if (quadrature.has_value() && total > 0.0 && std::isfinite(total)) {
    max_rel = *quadrature;
  } else {
    quadrature.reset();
    max_rel =
        MonteCarlo(contenders, reference, seed, &p_best, want_loss ? &loss : nullptr);
    total = 0.0;
    for (double p : p_best) total += p;
  }

  Estimates out;
  out.p_best.assign(posteriors.size(), 0.0);
  for (size_t q = 0; q < contenders.size(); ++q) {
    out.p_best[contenders[q].index] = p_best[q] / total;
  }
  if (want_loss) {
    out.loss.resize(posteriors.size());
    for (const Arm& arm : all) {
      out.loss[arm.index] = std::max(0.0, max_rel - arm.mean_rel);
    }
    if (!quadrature.has_value()) {
      for (size_t q = 0; q < contenders.size(); ++q) {
        out.loss[contenders[q].index] = std::max(0.0, loss[q]);
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<double>> ProbabilityBest(absl::Span<const ArmPosterior> arms,
                                                    Direction direction, uint64_t seed) {
  ALLOT_ASSIGN_OR_RETURN(Estimates estimates,
                         Estimate(arms, direction, seed, /*want_loss=*/false));
  return std::move(estimates.p_best);
}

absl::StatusOr<std::vector<double>> ExpectedLoss(absl::Span<const ArmPosterior> arms,
                                                 Direction direction, uint64_t seed) {
  ALLOT_ASSIGN_OR_RETURN(Estimates estimates,
                         Estimate(arms, direction, seed, /*want_loss=*/true));
  return std::move(estimates.loss);
}

}  // namespace allot
