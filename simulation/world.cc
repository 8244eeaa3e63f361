// Copyright 2026 The allot Authors.

#include "allot/simulation/world.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "boost/random/beta_distribution.hpp"
#include "boost/random/exponential_distribution.hpp"
#include "boost/random/normal_distribution.hpp"
#include "boost/random/uniform_01.hpp"

namespace allot::sim {
namespace {

constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// The arm's base mean and sd at `t_us` (before seasonality), and when the
// next change is due (INT64_MAX when none).
void BaseTruth(const ArmTruth& arm, double base_mean, int64_t t_us, double& mean,
               double& sd, int64_t& next_change_us) {
  mean = base_mean;
  sd = arm.sd;
  next_change_us = std::numeric_limits<int64_t>::max();
  for (const ArmChange& change : arm.changes) {
    const int64_t at_us = absl::ToInt64Microseconds(change.at);
    if (at_us > t_us) {
      next_change_us = at_us;
      break;
    }
    mean = change.mean;
    sd = change.sd;
  }
}

}  // namespace

World::World(const Scenario& scenario, int replicate)
    : scenario_(scenario),
      seed_(MixSeed(scenario.seed, static_cast<uint64_t>(replicate))),
      horizon_us_(absl::ToInt64Microseconds(scenario.horizon)),
      higher_is_better_(scenario.experiment.direction == Direction::kHigherIsBetter) {
  const TrafficConfig& t = scenario.traffic;
  keep_by_minute_.resize(kMinutesPerDay + 1);
  for (int m = 0; m <= kMinutesPerDay; ++m) {
    const double phase = 2 * std::numbers::pi * (m / 60.0 - t.peak_hour) / 24;
    keep_by_minute_[m] =
        (1 + t.daily_amplitude * std::cos(phase)) / (1 + t.daily_amplitude);
  }
  std::mt19937_64 rates(MixSeed(seed_, kRateStream));
  for (const ArmTruth& arm : scenario.arms) {
    if (arm.rate_draw.has_value()) {
      boost::random::beta_distribution<double> beta(arm.rate_draw->alpha,
                                                    arm.rate_draw->beta);
      base_mean_.push_back(beta(rates));
    } else {
      base_mean_.push_back(arm.mean);
    }
  }
}

double World::WeeklyFactorAt(int64_t t_us) const {
  return scenario_.weekly[static_cast<size_t>((t_us / kMicrosPerDay) % 7)];
}

double World::KeepAt(double hours) const {
  const double minute = std::fmod(hours, 24.0) * 60;
  const int m = std::min(static_cast<int>(minute), kMinutesPerDay - 1);
  const double f = minute - m;
  return keep_by_minute_[m] * (1 - f) + keep_by_minute_[m + 1] * f;
}

double World::ExpectedArrivals() const {
  // The daily cycle averages out over whole days; close enough for progress.
  return scenario_.traffic.units_per_hour *
         (static_cast<double>(horizon_us_) / kMicrosPerHour);
}

Truth World::TruthAt(int64_t t_us) const {
  const size_t k = scenario_.arms.size();
  Truth truth;
  // Seasonality changes at midnight; a stretch never spans one.
  const int64_t day = t_us / kMicrosPerDay;
  truth.from_us = std::max<int64_t>(0, day * kMicrosPerDay);
  truth.until_us = std::min(horizon_us_ + 1, (day + 1) * kMicrosPerDay);
  const double factor = scenario_.weekly[static_cast<size_t>(day % 7)];
  const bool scale_sd = scenario_.experiment.metric == MetricKind::kContinuous;
  truth.mean.resize(k);
  truth.sd.resize(k);
  for (size_t a = 0; a < k; ++a) {
    double mean = 0;
    double sd = 0;
    int64_t next_change = 0;
    BaseTruth(scenario_.arms[a], base_mean_[a], t_us, mean, sd, next_change);
    truth.mean[a] = mean * factor;
    truth.sd[a] = scale_sd ? sd * factor : sd;
    truth.until_us = std::min(truth.until_us, next_change);
    // A change inside this day starts the stretch later.
    for (const ArmChange& change : scenario_.arms[a].changes) {
      const int64_t at_us = absl::ToInt64Microseconds(change.at);
      if (at_us <= t_us) truth.from_us = std::max(truth.from_us, at_us);
    }
  }
  truth.best_mean = truth.mean[0];
  for (size_t a = 1; a < k; ++a) {
    truth.best_mean = higher_is_better_ ? std::max(truth.best_mean, truth.mean[a])
                                        : std::min(truth.best_mean, truth.mean[a]);
  }
  truth.is_best.resize(k);
  int best_count = 0;
  for (size_t a = 0; a < k; ++a) {
    truth.is_best[a] = truth.mean[a] == truth.best_mean;
    if (truth.is_best[a]) {
      truth.best_arm = static_cast<int>(a);
      ++best_count;
    }
  }
  if (best_count > 1) truth.best_arm = -1;
  return truth;
}

double GuardrailUniform(uint64_t key, int g) {
  // The top 53 bits of a SplitMix64 output: uniform on a 2^-53 grid.
  return static_cast<double>(MixSeed(key, 2 * static_cast<uint64_t>(g)) >> 11) * 0x1p-53;
}

double GuardrailNormal(uint64_t key, int g) {
  // u1 in (0, 1] keeps the log finite: |z| <= sqrt(-2 ln 2^-53) < 8.6.
  const double u1 = GuardrailUniform(key, g) + 0x1p-53;
  const double u2 =
      static_cast<double>(MixSeed(key, 2 * static_cast<uint64_t>(g) + 1) >> 11) * 0x1p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

ArrivalStream::ArrivalStream(const World& world, uint64_t seed)
    : world_(world),
      rng_(seed),
      return_rng_(MixSeed(seed, kReturnStream)),
      churn_rng_(MixSeed(seed, kChurnStream)),
      guardrails_(!world.scenario_.experiment.guardrails.empty()),
      guardrail_seed_(MixSeed(seed, kGuardrailStream)),
      guardrail_return_seed_(MixSeed(seed, kGuardrailReturnStream)) {}

bool ArrivalStream::Next(Arrival& out) {
  const Scenario& s = world_.scenario_;
  const TrafficConfig& traffic = s.traffic;
  const double peak_rate = traffic.units_per_hour * (1 + traffic.daily_amplitude);
  const double horizon_hours = static_cast<double>(world_.horizon_us_) / kMicrosPerHour;
  boost::random::exponential_distribution<double> gap(peak_rate);
  boost::random::uniform_01<double> uniform;
  // Thinning: candidates at the peak rate, each kept with the ratio of the
  // rate at its hour to the peak rate.
  while (true) {
    hours_ += gap(rng_);
    if (hours_ >= horizon_hours) return false;
    if (traffic.daily_amplitude == 0) break;
    if (uniform(rng_) < world_.KeepAt(hours_)) break;
  }
  out.time_us =
      std::min(world_.horizon_us_ - 1, static_cast<int64_t>(hours_ * kMicrosPerHour));
  const ChurnConfig& churn = s.churn;
  if (churn.replace_probability > 0) {
    out.churn = uniform(churn_rng_) < churn.replace_probability;
    if (out.churn) {
      out.churn_pick = uniform(churn_rng_);
      boost::random::beta_distribution<double> beta(churn.new_arm_rate.alpha,
                                                    churn.new_arm_rate.beta);
      out.churn_rate = beta(churn_rng_);
    }
  }
  if (traffic.returning_share > 0 && new_units_ > 0 &&
      uniform(rng_) < traffic.returning_share) {
    out.returning = true;
    out.unit =
        std::min(new_units_ - 1,
                 static_cast<int64_t>(uniform(rng_) * static_cast<double>(new_units_)));
    // Draws of its own, from a generator of their own so that new units'
    // draws are what they were before returning arrivals had any.
    Draw(return_rng_, out);
    if (guardrails_) {
      out.guardrail_key =
          MixSeed(guardrail_return_seed_, static_cast<uint64_t>(returning_++));
    }
    return true;
  }
  out.returning = false;
  out.unit = new_units_++;
  Draw(rng_, out);
  if (guardrails_) {
    out.guardrail_key = MixSeed(guardrail_seed_, static_cast<uint64_t>(out.unit));
  }
  return true;
}

void ArrivalStream::Draw(std::mt19937_64& rng, Arrival& out) const {
  const Scenario& s = world_.scenario_;
  boost::random::uniform_01<double> uniform;
  out.convert_draw = uniform(rng);
  const ConversionConfig& c = s.conversion;
  const double mean_us = static_cast<double>(absl::ToInt64Microseconds(c.delay_mean));
  double delay_us = 0;
  if (c.delay == DelayKind::kExponential) {
    if (mean_us > 0) {
      boost::random::exponential_distribution<double> delay(1.0);
      delay_us = mean_us * delay(rng);
    }
  } else {
    // exp(N(mu, sigma)) has mean exp(mu + sigma^2 / 2).
    boost::random::normal_distribution<double> normal(0.0, 1.0);
    const double mu = std::log(mean_us) - c.delay_sigma * c.delay_sigma / 2;
    delay_us = std::exp(mu + c.delay_sigma * normal(rng));
  }
  // Delays past the horizon never arrive; cap so the sum cannot overflow.
  out.delay_us = static_cast<int64_t>(
      std::min(delay_us, static_cast<double>(world_.horizon_us_) + 1));
  if (s.experiment.metric == MetricKind::kContinuous) {
    boost::random::normal_distribution<double> normal(0.0, 1.0);
    out.value_draw = normal(rng);
  }
}

}  // namespace allot::sim
