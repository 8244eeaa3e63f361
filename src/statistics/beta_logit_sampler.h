// Copyright 2026 The allot Authors.
//
// Draws logit(X) for X ~ Beta(a, b) as log(G_a / G_b) with G_a, G_b
// independent Gamma variates. The logit orders draws like X itself but does
// not round to 0 or 1 for extreme parameters. Internal to policies/.
//
//   std::mt19937_64 engine(seed);
//   boost::random::normal_distribution<double> normal;
//   boost::random::uniform_01<double> uniform;
//   allot::internal::BetaLogitSampler sampler(a, b);
//   double logit = sampler(engine, normal, uniform);

#ifndef ALLOT_SRC_STATISTICS_BETA_LOGIT_SAMPLER_H_
#define ALLOT_SRC_STATISTICS_BETA_LOGIT_SAMPLER_H_

#include <cmath>

#include "boost/random/normal_distribution.hpp"
#include "boost/random/uniform_01.hpp"

namespace allot::internal {

// Gamma variates by Marsaglia and Tsang's method (ACM TOMS 26(3), 2000) on
// Boost.Random's normal and uniform draws; for a shape alpha < 1, a
// Gamma(alpha + 1) variate times U^(1/alpha), the factor kept as a log so
// that tiny shapes cannot underflow a draw to 0 / 0. Boost's own
// gamma_distribution (a tangent rejection with tan, log and exp per try) is
// about three times slower, which matters at 10^5 draws per arm.
// Immutable; safe to share, but each thread needs its own engine and
// distributions.
class BetaLogitSampler {
 public:
  // REQUIRES: a, b > 0 and finite.
  BetaLogitSampler(double a, double b) : a_(a), b_(b) {}

  template <typename Engine>
  double operator()(Engine& engine, boost::random::normal_distribution<double>& normal,
                    boost::random::uniform_01<double>& uniform) const {
    const double ga = a_.Draw(engine, normal, uniform);
    const double gb = b_.Draw(engine, normal, uniform);
    // One log per draw: the ratio of two Gamma(>= 1) variates stays in range.
    double logit = std::log(ga / gb);
    if (a_.small) logit += std::log1p(-uniform(engine)) * a_.inv_alpha;
    if (b_.small) logit -= std::log1p(-uniform(engine)) * b_.inv_alpha;
    return logit;
  }

 private:
  struct Shape {
    explicit Shape(double alpha)
        : small(alpha < 1.0),
          inv_alpha(1.0 / alpha),
          d((alpha < 1.0 ? alpha + 1.0 : alpha) - 1.0 / 3.0),
          c(1.0 / std::sqrt(9.0 * d)) {}

    // A Gamma(alpha) variate, or Gamma(alpha + 1) when `small`.
    template <typename Engine>
    double Draw(Engine& engine, boost::random::normal_distribution<double>& normal,
                boost::random::uniform_01<double>& uniform) const {
      for (;;) {
        const double x = normal(engine);
        double v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        const double u = uniform(engine);
        const double x2 = x * x;
        // The squeeze accepts ~98% of tries without a log.
        if (u < 1.0 - 0.0331 * x2 * x2 ||
            std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) {
          return d * v;
        }
      }
    }

    bool small;
    double inv_alpha;
    double d;
    double c;
  };

  Shape a_;
  Shape b_;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_BETA_LOGIT_SAMPLER_H_
