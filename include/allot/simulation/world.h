// Copyright 2026 The allot Authors.
//
// The simulated world of one replicate: when units arrive (a Poisson process
// with a daily cycle), which arrivals are earlier units coming back, each new
// unit's random draws, and every arm's true mean at every moment (piecewise
// changes times the weekly factor).
//
// Common random numbers: a unit's draws do not depend on the arm it gets. It
// converts under arm a iff its uniform draw is below a's rate when it is
// first exposed; a continuous value is mean_a + sd_a * z with its own normal
// draw z; its outcome arrives after its own delay. Every ArrivalStream of a
// World replays the same sequence, so each policy meets the same world and
// differences come from the policy alone. Guardrail metrics follow the same
// rule: each arrival carries a key (from the replicate's seed and the unit's
// number), and guardrail g's draws are hashes of (key, g), independent of
// the primary's draws and of each other: an event iff its uniform is below
// the arm's rate, a value mean + sd * z.
//
//   allot::sim::World world(scenario, /*replicate=*/3);
//   allot::sim::ArrivalStream arrivals = world.Arrivals();
//   allot::sim::Arrival a;
//   while (arrivals.Next(a)) { ... world.TruthAt(a.time_us) ... }
//
// Time is in microseconds since the start, SimulationStart(): a Monday at
// 00:00 UTC, so weekly factors start on Monday and the daily cycle is in UTC.

#ifndef ALLOT_SIMULATION_WORLD_H_
#define ALLOT_SIMULATION_WORLD_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "allot/hash.h"
#include "allot/simulation/scenario.h"

namespace allot::sim {

// 2026-01-05T00:00:00Z, a Monday.
inline constexpr int64_t kSimulationStartUnixSeconds = 1767571200;
inline absl::Time SimulationStart() {
  return absl::FromUnixSeconds(kSimulationStartUnixSeconds);
}

inline constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;

// One arrival, with its draws (the same under every policy). A returning
// arrival has draws of its own: they decide its outcome when the engine
// counts it as a new trial (its unit was forgotten, schedule.retention), so
// that every trial the engine counts has an outcome in the world.
struct Arrival {
  int64_t time_us = 0;
  // New units are numbered 0, 1, 2, ... in order of first arrival; a
  // returning arrival repeats an earlier number.
  int64_t unit = 0;
  bool returning = false;
  double convert_draw = 0;  // uniform in [0, 1)
  double value_draw = 0;    // standard normal (continuous metrics only)
  int64_t delay_us = 0;     // outcome delay after the exposure
  // Seeds the guardrail draws (GuardrailUniform, GuardrailNormal); 0 when
  // the scenario has no guardrails.
  uint64_t guardrail_key = 0;
  // Churn ([churn]): whether an arm is replaced at this arrival, which
  // active arm goes (the one at index floor(churn_pick x active arms)) and
  // the new arm's rate, drawn from churn.new_arm_rate. From a generator of
  // their own, so the other draws are what they are without churn.
  bool churn = false;
  double churn_pick = 0;  // uniform in [0, 1)
  double churn_rate = 0;
};

// Returns guardrail `g`'s uniform draw in [0, 1) for an arrival's key.
double GuardrailUniform(uint64_t key, int g);

// Returns guardrail `g`'s standard normal draw for an arrival's key
// (Box-Muller on two hashed uniforms; |z| < 8.6).
double GuardrailNormal(uint64_t key, int g);

// The true means over a stretch of time [from_us, until_us).
struct Truth {
  int64_t from_us = 0;
  int64_t until_us = 0;
  std::vector<double> mean;  // per arm, seasonality applied
  std::vector<double> sd;    // per arm (continuous metrics)
  double best_mean = 0;
  // The single best arm, or -1 when two or more arms tie for best.
  int best_arm = -1;
  std::vector<char> is_best;  // per arm: its mean equals the best mean
};

class World;

// The arrivals of one replicate in time order, up to the horizon.
// Thread-compatible.
class ArrivalStream {
 public:
  // Writes the next arrival to `out`; returns false past the horizon.
  bool Next(Arrival& out);

 private:
  friend class World;
  ArrivalStream(const World& world, uint64_t seed);
  // Draws an arrival's outcome (convert_draw, delay_us, value_draw).
  void Draw(std::mt19937_64& rng, Arrival& out) const;
  // Mixed with the seed: the returning arrivals' generator.
  static constexpr uint64_t kReturnStream = 0x72657475726e;  // "return"
  // Mixed with the seed: the churn draws' generator.
  static constexpr uint64_t kChurnStream = 0x636875726e;  // "churn"
  // Mixed with the seed: the guardrail keys of new units (by number) and of
  // returning arrivals (by their count).
  static constexpr uint64_t kGuardrailStream = 0x6775617264;          // "guard"
  static constexpr uint64_t kGuardrailReturnStream = 0x677265747572;  // "gretur"

  const World& world_;
  std::mt19937_64 rng_;
  std::mt19937_64 return_rng_;
  std::mt19937_64 churn_rng_;
  const bool guardrails_;
  const uint64_t guardrail_seed_;
  const uint64_t guardrail_return_seed_;
  double hours_ = 0;
  int64_t new_units_ = 0;
  int64_t returning_ = 0;
};

// Immutable; safe to share.
class World {
 public:
  // REQUIRES: ValidateScenario(scenario) is OK; `scenario` outlives the World.
  World(const Scenario& scenario, int replicate);

  // Returns a fresh stream of this replicate's arrivals (always the same).
  ArrivalStream Arrivals() const { return ArrivalStream(*this, seed_); }

  // Returns the truth in force at `t_us` (0 <= t_us), with the stretch of
  // time it holds for. Every arm of the scenario is in it, whether it has
  // joined or retired or not (the runner knows which are active).
  Truth TruthAt(int64_t t_us) const;

  // Returns arm `arm`'s base rate or mean at the start, before changes and
  // seasonality: its `rate`, or this replicate's draw from its
  // `rate = { beta = [a, b] }` (drawn in arm order from a generator seeded
  // by the replicate's seed, so every policy and every run sees the same).
  double BaseMean(int arm) const { return base_mean_[static_cast<size_t>(arm)]; }

  // Returns the seasonality factor (seasonality.weekly) in force at `t_us`.
  double WeeklyFactorAt(int64_t t_us) const;

  // Returns the expected regret of serving `arm` under `truth`: how much
  // worse its mean is than the best one (>= 0).
  double RegretOf(const Truth& truth, int arm) const {
    const double gap = truth.best_mean - truth.mean[arm];
    return higher_is_better_ ? gap : -gap;
  }

  int64_t horizon_us() const { return horizon_us_; }
  bool higher_is_better() const { return higher_is_better_; }
  // The expected number of arrivals over the horizon.
  double ExpectedArrivals() const;
  const Scenario& scenario() const { return scenario_; }

 private:
  friend class ArrivalStream;

  // The chance that a candidate arrival at the peak rate is kept, by
  // minute of the day (kMinutesPerDay + 1 points, interpolated linearly:
  // within 3e-6 of the cosine, and much cheaper than one per arrival).
  static constexpr int kMinutesPerDay = 24 * 60;
  // Mixed with the replicate's seed: the generator of drawn arm rates.
  static constexpr uint64_t kRateStream = 0x7261746573;  // "rates"
  double KeepAt(double hours) const;

  const Scenario& scenario_;
  const uint64_t seed_;
  const int64_t horizon_us_;
  const bool higher_is_better_;
  std::vector<double> keep_by_minute_;
  std::vector<double> base_mean_;  // per arm
};

}  // namespace allot::sim

#endif  // ALLOT_SIMULATION_WORLD_H_
