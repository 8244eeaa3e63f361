// Copyright 2026 The allot Authors.
//
// Durability costs: writing and restoring a snapshot of an engine with many
// open units (time, bytes, bytes per open unit), and journal appends under
// both flush policies (records per second). Files go to TMPDIR (default
// /tmp): the every-record policy's figure is the device's fdatasync rate.
//
//   build-release/bench/durability_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//   TMPDIR=/dev/shm build-release/bench/durability_benchmark  # tmpfs

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "benchmark/benchmark.h"
#include "durability/journal_writer.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// A scratch directory, removed when the benchmark ends.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = (std::filesystem::temp_directory_path() / "allot_bench.XXXXXX").string();
    if (::mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string File(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

// An engine whose experiment has `units` open units (a 72-hour window, all
// exposed within the first hour), a tenth of them converted.
std::unique_ptr<Engine> EngineWithOpenUnits(int64_t units) {
  ExperimentConfig c;
  c.id = "support-bot-model";
  c.arms = {{"small", 1}, {"medium", 1}, {"large", 1}};
  c.schedule.conversion_window = absl::Hours(72);
  auto engine = std::make_unique<Engine>();
  if (!engine->CreateExperiment(c).ok() || !engine->Start(c.id, kStart).ok()) {
    return nullptr;
  }
  for (int64_t i = 0; i < units; ++i) {
    const std::string unit = absl::StrCat("conversation-", i);
    const absl::Time t = kStart + absl::Microseconds(i * 3600'000'000 / units);
    if (!engine->Assign(c.id, unit, t).ok()) return nullptr;
    if (i % 10 == 0 && !engine->RecordOutcome(c.id, unit, t, 1).ok()) return nullptr;
  }
  return engine;
}

void SetSizeCounters(benchmark::State& state, const std::string& path, int64_t units) {
  const double bytes = static_cast<double>(std::filesystem::file_size(path));
  state.counters["bytes"] = bytes;
  state.counters["bytes_per_open_unit"] = bytes / static_cast<double>(units);
  state.counters["open_units"] = static_cast<double>(units);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

void BM_SnapshotWrite(benchmark::State& state) {
  const int64_t units = state.range(0);
  ScratchDir dir;
  std::unique_ptr<Engine> engine = EngineWithOpenUnits(units);
  if (!dir.ok() || engine == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  const std::string path = dir.File("engine.snapshot");
  for (auto _ : state) {
    if (!WriteSnapshot(*engine, path).ok()) {
      state.SkipWithError("WriteSnapshot failed");
      return;
    }
  }
  SetSizeCounters(state, path, units);
}
// I/O: wall time is the figure.
BENCHMARK(BM_SnapshotWrite)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotWrite)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SnapshotRestore(benchmark::State& state) {
  const int64_t units = state.range(0);
  ScratchDir dir;
  const std::string path = dir.File("engine.snapshot");
  {
    std::unique_ptr<Engine> engine = EngineWithOpenUnits(units);
    if (!dir.ok() || engine == nullptr || !WriteSnapshot(*engine, path).ok()) {
      state.SkipWithError("setup failed");
      return;
    }
  }
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<Engine>> restored = ReadSnapshot(path);
    if (!restored.ok()) {
      state.SkipWithError("ReadSnapshot failed");
      return;
    }
    // Freeing the engine is not part of a restore.
    state.PauseTiming();
    restored->reset();
    state.ResumeTiming();
  }
  SetSizeCounters(state, path, units);
}
BENCHMARK(BM_SnapshotRestore)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotRestore)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// JournalWriter::AppendBody (behind Journal) of a 72-byte body, about the size of the
// engine's record of a new exposure. The journal starts afresh (untimed) every 2^20
// records, so the file stays small.
void BM_JournalAppend(benchmark::State& state, FlushPolicy flush) {
  ScratchDir dir;
  const std::string path = dir.File("engine.journal");
  const JournalOptions options{.flush = flush};
  absl::StatusOr<std::unique_ptr<internal::JournalWriter>> journal =
      internal::JournalWriter::Open(path, options);
  if (!dir.ok() || !journal.ok()) {
    state.SkipWithError("JournalWriter::Open failed");
    return;
  }
  const std::string body(72, 'r');
  uint64_t sequence = 0;
  int64_t in_file = 0;
  for (auto _ : state) {
    if (++in_file == (int64_t{1} << 20)) {
      state.PauseTiming();
      journal->reset();
      std::filesystem::remove(path);
      journal = internal::JournalWriter::Open(path, options);
      in_file = 0;
      state.ResumeTiming();
    }
    if (!(*journal)->AppendBody(++sequence, body).ok()) {
      state.SkipWithError("Append failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_JournalAppend, every_record, FlushPolicy::kEveryRecord)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_JournalAppend, batched, FlushPolicy::kBatched)->UseRealTime();

// What journaling adds to an engine call: Assign of a new unit, which
// encodes and appends one record.
void BM_EngineAssignJournaled(benchmark::State& state, FlushPolicy flush) {
  ScratchDir dir;
  absl::StatusOr<std::unique_ptr<Journal>> journal =
      Journal::Open(dir.File("engine.journal"), {.flush = flush});
  if (!dir.ok() || !journal.ok()) {
    state.SkipWithError("Journal::Open failed");
    return;
  }
  ExperimentConfig c;
  c.id = "support-bot-model";
  c.arms = {{"small", 1}, {"large", 1}};
  c.schedule.conversion_window = absl::Hours(72);
  Engine engine({.journal = journal->get()});
  if (!engine.CreateExperiment(c).ok() || !engine.Start(c.id, kStart).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.Assign(c.id, absl::StrCat("conversation-", i++), kStart));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_EngineAssignJournaled, every_record, FlushPolicy::kEveryRecord)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EngineAssignJournaled, batched, FlushPolicy::kBatched)
    ->UseRealTime();

}  // namespace
}  // namespace allot
