// Copyright 2026 The allot Authors.
//
// A seeded stream of engine calls for the durability tests (snapshots, the
// journal, recovery after SIGKILL): the experiments' creates and starts,
// then new, returning and pinned units, outcomes inside and after the
// window, duplicates, outcomes for unknown units, a few invalid calls,
// regular advances through many reallocations, a stop and optionally a
// delete. Outcomes depend on the arm served, so the generator drives its own
// engine while it writes the stream.
//
//   const std::vector<EngineEvent> events = MakeEventStream(
//       /*seed=*/1, 2000, {.experiments = {BinaryConfig(), LatencyConfig()},
//                          .start = kStart});
//   for (const EngineEvent& e : events) (void)ApplyEvent(engine, e);

#ifndef ALLOT_TESTS_EVENT_STREAM_H_
#define ALLOT_TESTS_EVENT_STREAM_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "gtest/gtest.h"

namespace allot::test {

// One engine call.
struct EngineEvent {
  enum Kind { kCreate, kStart, kAssign, kOutcome, kAdvance, kStop, kDelete };
  EngineEvent(Kind kind, std::string experiment, std::string unit = "",
              absl::Time time = absl::InfinitePast(),
              std::optional<absl::Time> unit_start = std::nullopt, double value = 0)
      : kind(kind),
        experiment(std::move(experiment)),
        unit(std::move(unit)),
        time(time),
        unit_start(unit_start),
        value(value) {}
  Kind kind;
  std::string experiment;
  std::string unit;
  absl::Time time;
  std::optional<absl::Time> unit_start;
  double value;
  ExperimentConfig config;  // kCreate only
};

// "latency": a continuous, lower-is-better experiment under epsilon-greedy
// with a short schedule (burn-in 30 min, interval 15 min, window 10 min,
// 3 units per arm), the second experiment of the journal tests' streams.
inline ExperimentConfig LatencyConfig() {
  ExperimentConfig c;
  c.id = "latency";
  c.arms = {{"fast", 1}, {"slow", 1}};
  c.metric = MetricKind::kContinuous;
  c.direction = Direction::kLowerIsBetter;
  c.policy.kind = PolicyKind::kEpsilonGreedy;
  c.schedule.burn_in = absl::Minutes(30);
  c.schedule.interval = absl::Minutes(15);
  c.schedule.conversion_window = absl::Minutes(10);
  c.schedule.min_units_per_arm = 3;
  return c;
}

// Applies `e` and returns the engine's status (refused calls, which streams
// have on purpose, change nothing).
inline absl::Status ApplyEvent(Engine& engine, const EngineEvent& e) {
  switch (e.kind) {
    case EngineEvent::kCreate:
      return engine.CreateExperiment(e.config);
    case EngineEvent::kStart:
      return engine.Start(e.experiment, e.time);
    case EngineEvent::kAssign:
      return engine.Assign(e.experiment, e.unit, e.time, e.unit_start).status();
    case EngineEvent::kOutcome:
      return engine.RecordOutcome(e.experiment, e.unit, e.time, e.value).status();
    case EngineEvent::kAdvance:
      return engine.Advance(e.time).status();
    case EngineEvent::kStop:
      return engine.Stop(e.experiment, e.time);
    case EngineEvent::kDelete:
      return engine.Delete(e.experiment);
  }
  return absl::InternalError("unknown event kind");
}

// Applies `e` and describes the answer exactly (doubles by their bits), so
// two engines can be compared call by call.
inline std::string ApplyAndDescribe(Engine& engine, const EngineEvent& e) {
  switch (e.kind) {
    case EngineEvent::kAssign: {
      absl::StatusOr<Assignment> a =
          engine.Assign(e.experiment, e.unit, e.time, e.unit_start);
      if (!a.ok()) return a.status().ToString();
      return absl::StrCat("arm=", a->arm, " epoch=", a->epoch,
                          " p=", std::bit_cast<uint64_t>(a->propensity),
                          " holdout=", a->holdout);
    }
    case EngineEvent::kOutcome: {
      absl::StatusOr<OutcomeDisposition> d =
          engine.RecordOutcome(e.experiment, e.unit, e.time, e.value);
      if (!d.ok()) return d.status().ToString();
      return absl::StrCat("disposition=", static_cast<int>(*d));
    }
    case EngineEvent::kAdvance: {
      absl::StatusOr<std::vector<ReallocationReport>> r = engine.Advance(e.time);
      if (!r.ok()) return r.status().ToString();
      return ReportsToJson(*r);
    }
    default:
      return ApplyEvent(engine, e).ToString();
  }
}

// Applies events [from, to) and returns their answers.
inline std::vector<std::string> RunEvents(Engine& engine,
                                          const std::vector<EngineEvent>& events,
                                          size_t from, size_t to) {
  std::vector<std::string> answers;
  for (size_t i = from; i < to; ++i) {
    answers.push_back(ApplyAndDescribe(engine, events[i]));
  }
  return answers;
}

// The shape of a stream. Traffic: 60% to the first experiment, the rest to
// the second, and a tenth to the third while it lives. The first
// experiment takes the deliberately invalid outcomes.
struct StreamOptions {
  // Two or three experiments, created and started at `start` by the first
  // events of the stream.
  std::vector<ExperimentConfig> experiments;
  absl::Time start;
  // Event time steps by a whole number of seconds drawn from
  // [0, max_step_seconds).
  double max_step_seconds = 30;
  absl::Duration advance_every = absl::Minutes(7);
  // The second experiment is stopped, and the third (if any) deleted, once
  // this fraction of the events is written; a fraction above 1 never.
  double stop_second_at = 0.7;
  double delete_third_at = 0.3;
};

// Returns the setup events (create and start of each experiment) followed
// by `n` seeded events.
inline std::vector<EngineEvent> MakeEventStream(uint64_t seed, int n,
                                                const StreamOptions& options) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  const std::vector<ExperimentConfig>& configs = options.experiments;
  EXPECT_GE(configs.size(), 2u);
  EXPECT_LE(configs.size(), 3u);
  std::vector<EngineEvent> events;
  for (const ExperimentConfig& c : configs) {
    EngineEvent create(EngineEvent::kCreate, c.id);
    create.config = c;
    events.push_back(std::move(create));
    events.emplace_back(EngineEvent::kStart, c.id, "", options.start);
  }
  Engine scratch;
  for (const EngineEvent& e : events) EXPECT_TRUE(ApplyEvent(scratch, e).ok());
  auto continuous = [&configs](const std::string& id) {
    return std::any_of(configs.begin(), configs.end(), [&](const ExperimentConfig& c) {
      return c.id == id && c.metric == MetricKind::kContinuous;
    });
  };
  struct Unit {
    std::string experiment, id;
    int arm;
    bool converted = false;
  };
  std::vector<Unit> units;
  const size_t setup = events.size();
  auto emit = [&](EngineEvent e) {
    if (e.kind == EngineEvent::kAssign) {
      absl::StatusOr<Assignment> a =
          scratch.Assign(e.experiment, e.unit, e.time, e.unit_start);
      if (a.ok()) units.push_back({e.experiment, e.unit, a->arm});
    } else {
      (void)ApplyEvent(scratch, e);
    }
    events.push_back(std::move(e));
  };
  const std::string& first = configs[0].id;
  const std::string& second = configs[1].id;
  const std::string third = configs.size() > 2 ? configs[2].id : "";
  absl::Time t = options.start;
  absl::Time next_advance = options.start + options.advance_every;
  bool third_alive = !third.empty();
  bool second_running = true;
  int next_unit = 0;
  while (static_cast<int>(events.size() - setup) < n) {
    const int i = static_cast<int>(events.size() - setup);
    t += absl::Seconds(static_cast<int64_t>(uniform(0, options.max_step_seconds)));
    if (t >= next_advance) {
      emit({EngineEvent::kAdvance, "", "", t});
      next_advance += options.advance_every;
      continue;
    }
    if (third_alive && i >= n * options.delete_third_at) {
      emit({EngineEvent::kDelete, third, "", t});
      third_alive = false;
      continue;
    }
    if (second_running && i >= n * options.stop_second_at) {
      emit({EngineEvent::kStop, second, "", t});
      second_running = false;
      continue;
    }
    const double r = uniform(0, 1);
    const double which = uniform(0, 1);
    std::string experiment = which < 0.6 ? first : second;
    if (third_alive && which > 0.9) experiment = third;
    if (r < 0.40) {  // a new unit, sometimes pinned to an earlier start
      EngineEvent e{EngineEvent::kAssign, experiment, absl::StrCat("u", next_unit++), t};
      if (uniform(0, 1) < 0.1) {
        e.unit_start = t - absl::Seconds(static_cast<int64_t>(uniform(0, 7200)));
      }
      emit(std::move(e));
    } else if (r < 0.55 && !units.empty()) {  // a returning unit
      const Unit& u = units[rng() % units.size()];
      emit({EngineEvent::kAssign, u.experiment, u.id, t});
    } else if (r < 0.93 && !units.empty()) {  // an outcome, maybe late
      // Mostly a recent unit (inside its window), sometimes any unit.
      const size_t recent = std::min<size_t>(units.size(), 100);
      Unit& u = uniform(0, 1) < 0.8 ? units[units.size() - 1 - rng() % recent]
                                    : units[rng() % units.size()];
      EngineEvent e{EngineEvent::kOutcome, u.experiment, u.id, t};
      if (continuous(u.experiment)) {
        e.value = (u.arm == 0 ? 80.0 : 100.0) + uniform(-20, 20);
      } else {
        const double rate = 0.15 + 0.1 * u.arm;
        e.value = (u.converted || uniform(0, 1) < rate) ? 1 : 0;  // duplicates
        u.converted = u.converted || e.value == 1;
      }
      emit(std::move(e));
    } else if (r < 0.97) {  // an outcome for a unit never exposed
      emit({EngineEvent::kOutcome, experiment, absl::StrCat("ghost", i), t, {}, 1});
    } else if (r < 0.985) {  // invalid: refused, changes nothing
      emit({EngineEvent::kAssign, experiment, "", t});
    } else {  // invalid: a binary value of 2, or time before the last advance
      emit({EngineEvent::kOutcome, first, "u0", r < 0.99 ? t : options.start, {}, 2});
    }
  }
  return events;
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_EVENT_STREAM_H_
