// Copyright 2026 The allot Authors.
//
// A seeded event log run through the embedded engine, and the figures of
// each grid point computed from that log alone, as an external learner
// would compute them: the equivalence tests of the learner (in process and
// against PostgreSQL) feed these to a second engine and compare.
//
//   const EventLog log = RunEmbedded(BinaryWithLatency(), /*seed=*/7, {});
//   FigureBook book(log);
//   for (const ReallocationReport& r : log.reports) {
//     MaturedAtGridPoint figures = book.At(r.time);
//     ...
//   }

#ifndef ALLOT_TESTS_LEARNER_EVENTS_H_
#define ALLOT_TESTS_LEARNER_EVENTS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "gtest/gtest.h"
#include "runtime/experiment_runtime.h"

namespace allot::test {

// One event the embedded engine was sent, with its answer.
struct LoggedEvent {
  enum Kind { kExposure, kOutcome };
  Kind kind = kExposure;
  std::string unit;
  absl::Time time;
  // kExposure: the engine's answer.
  int arm = 0;
  int64_t epoch = 0;
  double propensity = 1;
  bool holdout = false;
  bool new_exposure = false;
  // kOutcome: metric ("" the primary), value, the engine's disposition.
  std::string metric;
  double value = 0;
  std::string event_id;
  OutcomeDisposition disposition = OutcomeDisposition::kCounted;
};

struct EventLog {
  ExperimentConfig config;
  absl::Time start;
  absl::Time end;
  std::vector<LoggedEvent> events;  // in the order sent (time order)
  std::vector<ReallocationReport> reports;
  std::string history_json;
};

struct LogOptions {
  absl::Duration horizon = absl::Hours(9);
  double units_per_hour = 1200;
  double returning = 0.1;   // share of arrivals that are a unit seen within its window
  double unknown = 0.02;    // outcomes for never-exposed units, per arrival
  double duplicate = 0.05;  // a binary conversion sent twice
  double late = 0.15;       // the primary's outcome sent past the window
  bool quantized = false;   // continuous values on a 1/64 grid: sums exact in any order
};

inline const absl::Time kLogStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// Binary primary, three arms, a 10% holdout on arm a, a continuous
// lower-is-better guardrail "latency" with a relative harm.
inline constexpr char kBinaryWithLatencyToml[] = R"toml(
id = "learn-bin"
holdout = 0.1
baseline = "a"
[[arms]]
id = "a"
weight = 1
[[arms]]
id = "b"
weight = 1
[[arms]]
id = "c"
weight = 1
[metric]
kind = "binary"
[policy]
seed = 11
[schedule]
burn_in = "2h"
interval = "1h"
conversion_window = "30m"
min_units_per_arm = 20
[[guardrails]]
id = "latency"
kind = "continuous"
direction = "lower"
relative_harm = 0.2
)toml";

// Continuous primary "revenue" (higher is better) with a binary guardrail
// "error" (lower is better, absolute harm), a 5% holdout.
inline constexpr char kContinuousWithErrorsToml[] = R"toml(
id = "learn-cont"
holdout = 0.05
baseline = "x"
[[arms]]
id = "x"
weight = 1
[[arms]]
id = "y"
weight = 1
[metric]
id = "revenue"
kind = "continuous"
direction = "higher"
[policy]
seed = 5
[schedule]
burn_in = "2h"
interval = "1h"
conversion_window = "30m"
min_units_per_arm = 20
[[guardrails]]
id = "error"
kind = "binary"
direction = "lower"
absolute_harm = 0.05
)toml";

inline ExperimentConfig ParsedConfig(const char* toml) {
  absl::StatusOr<ExperimentConfig> config = ParseExperimentToml(toml, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ExperimentConfig();
}
inline ExperimentConfig BinaryWithLatency() {
  return ParsedConfig(kBinaryWithLatencyToml);
}
inline ExperimentConfig ContinuousWithErrors() {
  return ParsedConfig(kContinuousWithErrorsToml);
}

// Drives an engine with `config` from kLogStart over options.horizon:
// arrivals, returning units, outcomes inside and past the window,
// duplicates and outcomes for unknown units; Advance before each event as
// `allot replay` does. Outcomes depend on the arm served.
inline EventLog RunEmbedded(const ExperimentConfig& config, uint64_t seed,
                            const LogOptions& options) {
  EventLog log;
  log.config = config;
  log.start = kLogStart;
  log.end = kLogStart + options.horizon;
  Engine engine;
  EXPECT_TRUE(engine.CreateExperiment(config).ok());
  EXPECT_TRUE(engine.Start(config.id, log.start).ok());
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::exponential_distribution<double> gap(options.units_per_hour / 3600.0);
  const bool binary = config.metric == MetricKind::kBinary;
  const std::string guard = config.guardrails.empty() ? "" : config.guardrails[0].id;
  const double window_s = absl::ToDoubleSeconds(config.schedule.conversion_window);
  auto continuous_value = [&](double mean) {
    double v = mean * std::exp(0.5 * (uniform(rng) - 0.5));
    if (options.quantized) v = std::round(v * 64) / 64;
    return v;
  };
  // Outcomes waiting for their time (ties in the order scheduled).
  std::multimap<absl::Time, LoggedEvent> pending;
  std::vector<std::pair<std::string, absl::Time>> recent;  // units and exposure times
  int64_t next_unit = 0, next_event = 0;
  auto send = [&](LoggedEvent e) {
    EXPECT_TRUE(engine.Advance(e.time).ok());
    if (e.kind == LoggedEvent::kExposure) {
      absl::StatusOr<Assignment> a = engine.Assign(config.id, e.unit, e.time);
      EXPECT_TRUE(a.ok()) << a.status();
      e.arm = a->arm;
      e.epoch = a->epoch;
      e.propensity = a->propensity;
      e.holdout = a->holdout;
      e.new_exposure = a->new_exposure;
    } else {
      e.event_id = absl::StrCat("ev", next_event++);
      absl::StatusOr<OutcomeDisposition> d =
          engine.RecordOutcome(config.id, e.unit, e.time, e.value, e.metric);
      EXPECT_TRUE(d.ok()) << d.status();
      e.disposition = *d;
    }
    log.events.push_back(e);
    return log.events.back();
  };
  auto outcome = [&](const std::string& unit, absl::Time t, const std::string& metric,
                     double value) {
    LoggedEvent e;
    e.kind = LoggedEvent::kOutcome;
    e.unit = unit;
    e.time = t;
    e.metric = metric;
    e.value = value;
    pending.emplace(t, e);
  };
  absl::Time t = log.start;
  while (true) {
    t += absl::Microseconds(static_cast<int64_t>(gap(rng) * 1e6) + 1);
    while (!pending.empty() && pending.begin()->first <= t) {
      send(pending.begin()->second);
      pending.erase(pending.begin());
    }
    if (t >= log.end) break;
    if (uniform(rng) < options.unknown) {
      outcome(absl::StrCat("ghost", next_unit++), t + absl::Seconds(1), "", 1);
    }
    if (!recent.empty() && uniform(rng) < options.returning) {
      const auto& [unit, exposed] =
          recent[static_cast<size_t>(uniform(rng) * recent.size())];
      if (t - exposed < absl::Seconds(window_s / 2)) {
        LoggedEvent e;
        e.unit = unit;
        e.time = t;
        send(e);
        continue;
      }
    }
    LoggedEvent e;
    e.unit = absl::StrCat("u", next_unit++);
    e.time = t;
    const LoggedEvent sent = send(e);
    recent.emplace_back(sent.unit, t);
    if (recent.size() > 50) recent.erase(recent.begin());
    const int arm = sent.arm;
    // Delays within the window, or past it for a share of the primary's.
    const bool late = uniform(rng) < options.late;
    const absl::Duration delay = absl::Seconds(late ? window_s * (1 + 0.3 * uniform(rng))
                                                    : window_s * 0.95 * uniform(rng));
    if (binary) {
      const double p = 0.08 + 0.04 * arm;
      if (uniform(rng) < p) {
        outcome(sent.unit, t + delay, "", 1);
        if (uniform(rng) < options.duplicate) {
          outcome(sent.unit, t + delay + absl::Seconds(30), "", 1);
        }
      } else if (uniform(rng) < 0.2) {
        outcome(sent.unit, t + delay, "", 0);
      }
      // Latency, sometimes in two parts (summed per unit).
      outcome(sent.unit, t + absl::Seconds(5), guard, continuous_value(200 + 30 * arm));
      if (uniform(rng) < 0.2) {
        outcome(sent.unit, t + absl::Seconds(60), guard, continuous_value(20));
      }
    } else {
      if (uniform(rng) < 0.7) {
        outcome(sent.unit, t + delay, "", continuous_value(10 + 2 * arm));
        if (uniform(rng) < 0.3) {
          outcome(sent.unit, t + delay + absl::Seconds(40), "", continuous_value(3));
        }
      }
      if (uniform(rng) < 0.05 + 0.02 * arm) {
        outcome(sent.unit, t + absl::Seconds(10), guard, 1);
        if (uniform(rng) < options.duplicate) {
          outcome(sent.unit, t + absl::Seconds(20), guard, 1);
        }
      }
    }
  }
  log.end = std::max(log.end, log.events.back().time);
  absl::StatusOr<std::vector<ReallocationReport>> last = engine.Advance(log.end);
  EXPECT_TRUE(last.ok()) << last.status();
  log.reports = *engine.Reports(config.id);
  log.history_json = engine.History(config.id)->ToJson();
  return log;
}

// The figures of each grid point computed from a log alone: a unit matures
// at grid point `due` when its exposure (whole seconds after the start) plus
// the window is at most `due`; the tallies count the events before `due`
// (what the engine had been sent when it reached the grid point). Outcomes
// are counted as the engine counts them: for a unit not exposed, unknown; at
// or past the unit's window end, late; a binary metric's second conversion,
// a duplicate. Thread-compatible.
class FigureBook {
 public:
  explicit FigureBook(const EventLog& log) : log_(log) {}

  // Returns the figures of grid point `due`. REQUIRES: called with
  // increasing grid points, each reached in turn.
  internal::MaturedAtGridPoint At(absl::Time due) {
    const ExperimentConfig& config = log_.config;
    const size_t guards = config.guardrails.size();
    const int64_t window_us =
        absl::ToInt64Microseconds(config.schedule.conversion_window);
    const int64_t start_us = absl::ToUnixMicros(log_.start);
    const int64_t due_us = absl::ToUnixMicros(due);
    for (; next_ < log_.events.size() && log_.events[next_].time < due; ++next_) {
      const LoggedEvent& e = log_.events[next_];
      const int64_t t_us = absl::ToUnixMicros(e.time);
      if (e.kind == LoggedEvent::kExposure) {
        if (units_.contains(e.unit)) continue;  // returning: not a new exposure
        EXPECT_TRUE(e.new_exposure) << e.unit;
        Unit& u = units_[e.unit];
        u.window_end_us = start_us + (t_us - start_us) / 1000000 * 1000000 + window_us;
        u.arm = e.arm;
        u.epoch = e.epoch;
        u.holdout = e.holdout;
        u.guard.assign(guards, 0.0);
        u.guard_converted.assign(guards, 0);
        order_.push_back(e.unit);
        if (!e.holdout) {
          if (exposures_.size() <= static_cast<size_t>(e.epoch))
            exposures_.resize(e.epoch + 1);
          auto& row = exposures_[e.epoch];
          if (row.size() <= static_cast<size_t>(e.arm)) row.resize(e.arm + 1);
          ++row[e.arm];
        }
        continue;
      }
      OutcomeDisposition d = OutcomeDisposition::kCounted;
      auto it = units_.find(e.unit);
      int g = -1;
      for (size_t i = 0; i < guards; ++i) {
        if (config.guardrails[i].id == e.metric) g = static_cast<int>(i);
      }
      const MetricKind kind = g < 0 ? config.metric : config.guardrails[g].kind;
      if (it == units_.end()) {
        d = OutcomeDisposition::kUnknownUnit;
      } else if (t_us >= it->second.window_end_us) {
        d = OutcomeDisposition::kLate;
      } else {
        Unit& u = it->second;
        double& total = g < 0 ? u.outcome : u.guard[g];
        if (kind == MetricKind::kBinary) {
          if (e.value != 0) {
            char& converted = g < 0 ? u.converted : u.guard_converted[g];
            if (converted) {
              d = OutcomeDisposition::kDuplicate;
            } else {
              converted = 1;
              total = 1;
            }
          }
        } else {
          total += e.value;
        }
      }
      EXPECT_EQ(static_cast<int>(d), static_cast<int>(e.disposition)) << e.event_id;
      late_ += d == OutcomeDisposition::kLate;
      unknown_ += d == OutcomeDisposition::kUnknownUnit;
      duplicate_ += d == OutcomeDisposition::kDuplicate;
    }
    internal::MaturedAtGridPoint figures;
    figures.guardrails.resize(guards);
    std::vector<std::string> still_open;
    for (const std::string& id : order_) {
      const Unit& u = units_[id];
      if (u.matured || u.window_end_us > due_us) {
        if (!u.matured) still_open.push_back(id);
        continue;
      }
      units_[id].matured = true;
      if (u.holdout) {
        figures.holdout.Add(u.outcome);
        continue;
      }
      auto cell = [&](std::vector<std::vector<internal::Aggregate>> & cells) -> auto& {
        if (cells.size() <= static_cast<size_t>(u.epoch)) cells.resize(u.epoch + 1);
        auto& row = cells[u.epoch];
        if (row.size() <= static_cast<size_t>(u.arm)) row.resize(u.arm + 1);
        return row[u.arm];
      };
      cell(figures.primary).Add(u.outcome);
      for (size_t g = 0; g < guards; ++g) cell(figures.guardrails[g]).Add(u.guard[g]);
    }
    order_ = std::move(still_open);
    figures.tallies.exposures = exposures_;
    figures.tallies.late = late_;
    figures.tallies.unknown = unknown_;
    figures.tallies.duplicate = duplicate_;
    return figures;
  }

 private:
  struct Unit {
    int64_t window_end_us = 0;
    int arm = 0;
    int64_t epoch = 0;
    bool holdout = false;
    bool matured = false;
    double outcome = 0;
    char converted = 0;
    std::vector<double> guard;
    std::vector<char> guard_converted;
  };
  const EventLog& log_;
  size_t next_ = 0;
  absl::flat_hash_map<std::string, Unit> units_;
  std::vector<std::string> order_;  // open units, in exposure order
  std::vector<std::vector<int64_t>> exposures_;
  int64_t late_ = 0, unknown_ = 0, duplicate_ = 0;
};

// Expects reports that agree with `want_reports` up to the rounding of
// sums taken in another order: counts, epochs and decisions exactly,
// weights and P(best) within `tolerance`, means within it relatively.
inline void ExpectReportsAgree(const std::vector<ReallocationReport>& got_reports,
                               const std::vector<ReallocationReport>& want_reports,
                               double tolerance) {
  ASSERT_EQ(got_reports.size(), want_reports.size());
  for (size_t i = 0; i < want_reports.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("report ", i));
    const ReallocationReport& want = want_reports[i];
    const ReallocationReport& got = got_reports[i];
    EXPECT_EQ(got.time, want.time);
    EXPECT_EQ(got.epoch, want.epoch);
    EXPECT_EQ(got.reallocated, want.reallocated);
    EXPECT_EQ(got.winner, want.winner);
    EXPECT_EQ(got.late_outcomes, want.late_outcomes);
    EXPECT_EQ(got.unknown_outcomes, want.unknown_outcomes);
    EXPECT_EQ(got.duplicate_outcomes, want.duplicate_outcomes);
    EXPECT_EQ(got.holdout_units, want.holdout_units);
    ASSERT_EQ(got.weights_after.size(), want.weights_after.size());
    for (size_t a = 0; a < want.weights_after.size(); ++a) {
      EXPECT_NEAR(got.weights_after[a], want.weights_after[a], tolerance);
    }
    ASSERT_EQ(got.arms.size(), want.arms.size());
    for (size_t a = 0; a < want.arms.size(); ++a) {
      EXPECT_EQ(got.arms[a].units, want.arms[a].units);
      EXPECT_EQ(got.arms[a].exposures, want.arms[a].exposures);
      EXPECT_EQ(got.arms[a].stopped_by, want.arms[a].stopped_by);
      EXPECT_NEAR(got.arms[a].p_best, want.arms[a].p_best, tolerance);
      EXPECT_NEAR(got.arms[a].mean, want.arms[a].mean,
                  tolerance * std::abs(want.arms[a].mean));
    }
  }
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_LEARNER_EVENTS_H_
