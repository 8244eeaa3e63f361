// Copyright 2026 The allot Authors.
//
// The engine's costs: Assign for a new and for a returning unit, an outcome,
// and an Advance that folds and reallocates with many open units.
//
//   build/bench/engine_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "allot/engine.h"
#include "benchmark/benchmark.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

ExperimentConfig Config(int arms) {
  ExperimentConfig c;
  c.id = "exp";
  for (int a = 0; a < arms; ++a) c.arms.push_back({absl::StrCat("arm", a), 1});
  c.schedule.burn_in = absl::Hours(1);
  c.schedule.interval = absl::Hours(1);
  c.schedule.conversion_window = absl::Hours(72);
  c.schedule.min_units_per_arm = 0;
  return c;
}

std::vector<std::string> Units(int n, absl::string_view prefix) {
  std::vector<std::string> units;
  units.reserve(n);
  for (int i = 0; i < n; ++i) units.push_back(absl::StrCat(prefix, i));
  return units;
}

std::unique_ptr<Engine> Started(const ExperimentConfig& c) {
  auto engine = std::make_unique<Engine>();
  (void)engine->CreateExperiment(c);
  (void)engine->Start("exp", kStart);
  return engine;
}

// New units in turn for an experiment that starts afresh (untimed) every
// 2^20 units, so the ledger stays realistic.
class NewUnits {
 public:
  NewUnits() : units_(Units(1 << 20, "user-")), engine_(Started(Config(3))) {}

  // The engine to serve the next `n` units with.
  Engine& EngineFor(benchmark::State& state, size_t n) {
    if (next_ + n > units_.size()) {
      state.PauseTiming();
      engine_ = Started(Config(3));
      next_ = 0;
      state.ResumeTiming();
    }
    return *engine_;
  }
  const std::string& Next() { return units_[next_++]; }

 private:
  std::vector<std::string> units_;
  std::unique_ptr<Engine> engine_;
  size_t next_ = 0;
};

// A new unit per call: hash, fingerprint, ledger insert.
void BM_EngineAssignNewUnit(benchmark::State& state) {
  NewUnits fresh;
  for (auto _ : state) {
    Engine& engine = fresh.EngineFor(state, 1);
    benchmark::DoNotOptimize(engine.Assign("exp", fresh.Next(), kStart));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineAssignNewUnit);

// The same through an ExperimentHandle, as a router keeps one: no lookup by
// id. The handle is taken again (untimed) when the engine starts afresh.
void BM_HandleAssignNewUnit(benchmark::State& state) {
  NewUnits fresh;
  const Engine* engine = nullptr;
  std::optional<ExperimentHandle> handle;
  for (auto _ : state) {
    Engine& e = fresh.EngineFor(state, 1);
    if (&e != engine) {
      engine = &e;
      handle.emplace(*e.Handle("exp"));
    }
    benchmark::DoNotOptimize(handle->Assign(fresh.Next(), kStart));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandleAssignNewUnit);

// The same new units, 64 to an AssignBatch call: per unit.
void BM_EngineAssignBatchNewUnits(benchmark::State& state) {
  constexpr size_t kBatch = 64;
  NewUnits fresh;
  std::vector<AssignRequest> requests(kBatch);
  std::vector<absl::StatusOr<Assignment>> results(kBatch);
  for (auto _ : state) {
    Engine& engine = fresh.EngineFor(state, kBatch);
    for (AssignRequest& r : requests) r = {fresh.Next(), kStart, std::nullopt};
    benchmark::DoNotOptimize(
        engine.AssignBatch("exp", requests, absl::MakeSpan(results)));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_EngineAssignBatchNewUnits);

// A returning unit inside its window: ledger lookup only.
void BM_EngineAssignReturningUnit(benchmark::State& state) {
  const std::vector<std::string> units = Units(100000, "user-");
  std::unique_ptr<Engine> engine = Started(Config(3));
  for (const std::string& u : units) (void)engine->Assign("exp", u, kStart);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine->Assign("exp", units[i++ % units.size()], kStart));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineAssignReturningUnit);

void BM_HandleAssignReturningUnit(benchmark::State& state) {
  const std::vector<std::string> units = Units(100000, "user-");
  std::unique_ptr<Engine> engine = Started(Config(3));
  for (const std::string& u : units) (void)engine->Assign("exp", u, kStart);
  const ExperimentHandle handle = *engine->Handle("exp");
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(handle.Assign(units[i++ % units.size()], kStart));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandleAssignReturningUnit);

void BM_EngineRecordOutcome(benchmark::State& state) {
  const std::vector<std::string> units = Units(100000, "user-");
  ExperimentConfig c = Config(3);
  c.metric = MetricKind::kContinuous;
  std::unique_ptr<Engine> engine = Started(c);
  for (const std::string& u : units) (void)engine->Assign("exp", u, kStart);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine->RecordOutcome("exp", units[i++ % units.size()], kStart, 1.5));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineRecordOutcome);

// One Advance across a grid point with N open units: the maturity scan, the
// fold of the matured ones (a tenth), estimates, P(best) and the publish.
void BM_EngineAdvance(benchmark::State& state) {
  const int open = static_cast<int>(state.range(0));
  const std::vector<std::string> units = Units(open, "user-");
  // Engines are destroyed after the loop, outside the timed region.
  std::vector<std::unique_ptr<Engine>> engines;
  for (auto _ : state) {
    state.PauseTiming();
    ExperimentConfig c = Config(3);
    c.schedule.conversion_window = absl::Hours(10);
    std::unique_ptr<Engine> engine = Started(c);
    for (int i = 0; i < open; ++i) {
      // Exposures spread over 10 hours: a tenth mature at the grid point.
      const absl::Time t = kStart + absl::Seconds(36000.0 * i / open);
      (void)engine->Assign("exp", units[i], t);
      if (i % 7 == 0) (void)engine->RecordOutcome("exp", units[i], t, 1);
    }
    (void)engine->Advance(kStart + absl::Hours(10));
    state.ResumeTiming();
    benchmark::DoNotOptimize(engine->Advance(kStart + absl::Hours(11)));
    engines.push_back(std::move(engine));
  }
  state.SetItemsProcessed(state.iterations() * open);
}
BENCHMARK(BM_EngineAdvance)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace allot
