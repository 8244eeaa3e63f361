// Copyright 2026 The allot Authors.
//
// The hot path: one assignment against its floor, the raw cost of hashing
// the same key and loading one table entry.
//
//   build/bench/assigner_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/assigner.h"
#include "allot/bucket_table.h"
#include "allot/hash.h"
#include "benchmark/benchmark.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace allot {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// 4096 keys of 8 to 40 bytes, like user, conversation and request ids.
std::vector<std::string> Keys() {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> length(8, 40);
  std::uniform_int_distribution<int> byte('a', 'z');
  std::vector<std::string> keys(4096);
  for (std::string& key : keys) {
    key.resize(length(rng));
    for (char& c : key) c = static_cast<char>(byte(rng));
  }
  return keys;
}

std::unique_ptr<Assigner> NewAssigner(int epochs, double holdout) {
  AllocationHistory history =
      *AllocationHistory::Create("support-bot-model", "support-bot-model",
                                 {"small", "medium", "large"}, kStart, {1, 1, 1});
  for (int e = 1; e < epochs; ++e) {
    const double w = 0.1 + 0.8 * (e % 10) / 10.0;
    (void)history.Append(kStart + absl::Hours(e), {w, (1 - w) / 2, (1 - w) / 2});
  }
  return *Assigner::Create(history, {.holdout = holdout, .baseline_arm = 0});
}

// A flat table of one byte per bucket, for the floors.
std::vector<uint8_t> FlatTable() {
  std::vector<uint8_t> table(kNumBuckets);
  for (const BucketRange& run : BucketTable::Initial({1, 1, 1})->Runs()) {
    std::fill(table.begin() + run.begin, table.begin() + run.end,
              static_cast<uint8_t>(run.arm));
  }
  return table;
}

// The floor: XXH3 of the unit's bytes and one table load.
void BM_HashAndTableLoad(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  const std::vector<uint8_t> table = FlatTable();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& key = keys[i++ & 4095];
    const uint64_t h = XXH3_64bits(key.data(), key.size());
    benchmark::DoNotOptimize(table[BucketOf(h)]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashAndTableLoad);

// The floor with the specified message: XXH3 of version, purpose, salt,
// separator and unit (prebuilt) and one table load.
void BM_MessageHashAndTableLoad(benchmark::State& state) {
  std::vector<std::string> messages;
  for (const std::string& key : Keys()) {
    messages.push_back(absl::StrCat(std::string(1, '\x01'), "A", "support-bot-model",
                                    std::string(1, '\0'), key));
  }
  const std::vector<uint8_t> table = FlatTable();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& m = messages[i++ & 4095];
    const uint64_t h = XXH3_64bits(m.data(), m.size());
    benchmark::DoNotOptimize(table[BucketOf(h)]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageHashAndTableLoad);

void BM_AssignerAssign(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  std::unique_ptr<Assigner> assigner = NewAssigner(1, 0.0);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(assigner->Assign(keys[i++ & 4095]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignerAssign);

void BM_AssignerAssignWithHoldout(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  std::unique_ptr<Assigner> assigner = NewAssigner(1, 0.05);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(assigner->Assign(keys[i++ & 4095]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignerAssignWithHoldout);

// Pinned to a unit start: a binary search over the epochs first.
void BM_AssignerAssignPinned(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  const int epochs = static_cast<int>(state.range(0));
  std::unique_ptr<Assigner> assigner = NewAssigner(epochs, 0.0);
  size_t i = 0;
  for (auto _ : state) {
    const absl::Time start = kStart + absl::Hours(static_cast<int64_t>(i % epochs));
    benchmark::DoNotOptimize(assigner->AssignAt(keys[i++ & 4095], start));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignerAssignPinned)->Arg(10)->Arg(1000)->Arg(20000);

// A history of `epochs` small reallocations: a random walk of three weights
// that moves under 1% of the buckets each epoch.
AllocationHistory SmallStepsHistory(int epochs) {
  std::vector<double> w = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  AllocationHistory history = *AllocationHistory::Create(
      "support-bot-model", "support-bot-model", {"small", "medium", "large"}, kStart, w);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> shift(0.0, 0.0099);
  for (int e = 1; e < epochs; ++e) {
    const int from = static_cast<int>(rng() % 3);
    const int to = (from + 1 + static_cast<int>(rng() % 2)) % 3;
    const double tv = std::min(shift(rng), std::max(0.0, w[from] - 0.01));
    w[from] -= tv;
    w[to] += tv;
    (void)history.Append(kStart + absl::Minutes(e), w);
  }
  return history;
}

// Loading a history: every epoch's table rebuilt and stored (items: epochs).
void BM_AssignerFromHistory(benchmark::State& state) {
  const AllocationHistory history = SmallStepsHistory(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(Assigner::Create(history));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AssignerFromHistory)->Arg(1000)->Arg(20000)->Unit(benchmark::kMillisecond);

// A reallocation of the 65,536-bucket table.
void BM_BucketTableReallocate(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  const BucketTable table = *BucketTable::Initial(std::vector<double>(k, 1.0));
  std::vector<double> next(k);
  for (int a = 0; a < k; ++a) next[a] = 1.0 + a;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Reallocate(next));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BucketTableReallocate)->Arg(2)->Arg(10)->Arg(100);

}  // namespace
}  // namespace allot
