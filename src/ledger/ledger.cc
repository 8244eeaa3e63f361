// Copyright 2026 The allot Authors.

#include "ledger/ledger.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/hash.h"
#include "allot/time_format.h"

#include "assignment/hash_internal.h"
#include "ledger/prefetch.h"

namespace allot::internal {
namespace {

constexpr char kLedgerPurpose = 0x4C;  // 'L'

}  // namespace

UnitFingerprint::UnitFingerprint(absl::string_view salt)
    : hasher_(std::make_unique<MessageHasher>(kLedgerPurpose, salt)) {}

UnitFingerprint::~UnitFingerprint() = default;

UnitKey UnitFingerprint::Of(absl::string_view unit) const {
  const XXH128_hash_t h = hasher_->Hash128(unit);
  return {h.high64, h.low64};
}

Ledger::Ledger(MetricKind metric, absl::Duration window, int num_arms,
               std::optional<absl::Duration> retention,
               std::vector<MetricKind> other_metrics)
    : metric_(metric),
      other_metrics_(std::move(other_metrics)),
      window_us_(absl::ToInt64Microseconds(window)),
      retention_us_(absl::ToInt64Microseconds(retention.value_or(window))),
      num_arms_(num_arms) {}

bool Ledger::ExposedEarlier(const OpenUnit& a, const OpenUnit& b) {
  return a.exposure_s < b.exposure_s;
}

std::optional<size_t> Ledger::FindOpen(const Shard& shard, const UnitKey& key) {
  // The callback runs within this call, under the caller's lock; it gets
  // the records by pointer, since lock analysis does not follow lambdas.
  const std::optional<uint32_t> position =
      shard.index.Find(IndexKey(key), [open = &shard.open, &key](uint32_t p) {
        return (*open)[open->IndexOf(p)].key == key;
      });
  if (!position.has_value()) return std::nullopt;
  return shard.open.IndexOf(*position);
}

void Ledger::PrefetchMaturing(const Shard& shard, size_t i) {
  const ExposureOrder<OpenUnit>& open = shard.open;
  if (i + kRecordsAhead < open.size()) PrefetchLine(&open[i + kRecordsAhead]);
  if (i < open.size()) {
    shard.index.prefetch(IndexKey(open[i].key));
    shard.matured.prefetch_insert(open[i].key.hi);
  }
}

void Ledger::PrefetchIn(const Shard& shard, const UnitKey& key) {
  shard.index.prefetch(IndexKey(key));
  shard.matured.prefetch(key.hi);
  shard.matured_before.prefetch(key.hi);
}

Ledger::Exposure Ledger::Expose(const UnitKey& key, absl::Time now, bool record,
                                absl::FunctionRef<Assignment()> assign) {
  const int64_t now_us = absl::ToUnixMicros(now);
  Shard& shard = ShardOf(key);
  MutexLock lock(&shard.mu);
  // A new unit misses in the index and both matured sets, each likely a
  // cache miss in a large ledger: start the loads together.
  PrefetchIn(shard, key);
  // While those loads are in flight: the assignment a new or matured unit
  // gets (a hash and a table load), wasted only on a returning unit.
  const Assignment a = assign();
  if (const std::optional<size_t> i = FindOpen(shard, key)) {
    const OpenUnit& unit = shard.open[*i];
    if (now_us < WindowEndUs(unit)) {
      Assignment recorded;
      recorded.arm = unit.arm;
      recorded.epoch = unit.epoch;
      recorded.holdout = (unit.flags & OpenUnit::kHoldout) != 0;
      return {recorded, Visit::kReturning};
    }
    return {a, Visit::kMatured};
  }
  if (shard.matured.contains(key.hi) || shard.matured_before.contains(key.hi)) {
    return {a, Visit::kMatured};
  }
  if (!record) return {a, Visit::kNew};
  OpenUnit unit;
  unit.key = key;
  unit.exposure_s = static_cast<uint32_t>((now_us - origin_us_) / 1000000);
  unit.epoch = static_cast<uint32_t>(a.epoch);
  unit.arm = static_cast<uint32_t>(a.arm);
  unit.flags = a.holdout ? OpenUnit::kHoldout : 0;
  AddOpen(shard, unit);
  if (!a.holdout) {
    if (shard.exposures.size() <= static_cast<size_t>(a.epoch)) {
      shard.exposures.resize(a.epoch + 1, std::vector<int64_t>(num_arms_));
    }
    // An arm added while running has an index past the starting arms.
    std::vector<int64_t>& row = shard.exposures[a.epoch];
    if (row.size() <= static_cast<size_t>(a.arm)) row.resize(a.arm + 1);
    ++row[a.arm];
  }
  return {a, Visit::kNew};
}

void Ledger::AddOpen(Shard& shard, const OpenUnit& unit, const double* values) {
  ExposureOrder<OpenUnit>& open = shard.open;
  open.push_back(unit);
  const size_t m = other_metrics_.size();
  for (size_t j = 0; j < m; ++j) shard.values.push_back(values ? values[j] : 0.0);
  size_t i = open.size() - 1;
  shard.index.Insert(IndexKey(unit.key), open.PositionOf(i));
  if (shard.open_unsorted) return;
  // Exposures come in time order but for threads racing each other, which
  // puts a unit a few places late: move it back into place. One further out
  // of order (a caller replaying old events) marks `open` for sorting.
  constexpr int kMaxMoves = 64;
  for (int moves = 0; i > 0 && open[i - 1].exposure_s > unit.exposure_s; ++moves) {
    if (moves == kMaxMoves) {
      shard.open_unsorted = true;
      return;
    }
    const uint32_t earlier = open.PositionOf(i - 1);
    const uint32_t later = open.PositionOf(i);
    shard.index.Move(IndexKey(open[i - 1].key), earlier, later);
    shard.index.Move(IndexKey(open[i].key), later, earlier);
    std::swap(open[i - 1], open[i]);
    for (size_t j = 0; j < m; ++j) {
      std::swap(shard.values[(i - 1) * m + j], shard.values[i * m + j]);
    }
    --i;
  }
}

void Ledger::SortOpen(Shard& shard) {
  const std::vector<OpenUnit> before = shard.open.ToVector();
  const std::vector<double> values_before = shard.values.ToVector();
  std::vector<size_t> order(before.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ExposedEarlier(before[a], before[b]);
  });
  const size_t m = other_metrics_.size();
  std::vector<OpenUnit> units;
  std::vector<double> values;
  units.reserve(before.size());
  values.reserve(values_before.size());
  for (size_t i : order) {
    units.push_back(before[i]);
    for (size_t j = 0; j < m; ++j) values.push_back(values_before[i * m + j]);
  }
  shard.open.Assign(units);
  shard.values.Assign(values);
  shard.index.clear();
  for (size_t i = 0; i < units.size(); ++i) {
    shard.index.Insert(IndexKey(units[i].key), shard.open.PositionOf(i));
  }
  shard.open_unsorted = false;
}

void Ledger::Prefetch(const UnitKey& key) const {
  const Shard& shard = ShardOf(key);
  ReaderMutexLock lock(&shard.mu);
  PrefetchIn(shard, key);
}

bool Ledger::Find(const UnitKey& key, Assignment* out) const {
  const Shard& shard = ShardOf(key);
  ReaderMutexLock lock(&shard.mu);
  const std::optional<size_t> i = FindOpen(shard, key);
  if (!i.has_value()) return false;
  const OpenUnit& unit = shard.open[*i];
  out->arm = unit.arm;
  out->epoch = unit.epoch;
  out->holdout = (unit.flags & OpenUnit::kHoldout) != 0;
  return true;
}

absl::StatusOr<OutcomeDisposition> Ledger::Record(const UnitKey& key, absl::Time time,
                                                  double value, int metric) {
  const int64_t time_us = absl::ToUnixMicros(time);
  Shard& shard = ShardOf(key);
  MutexLock lock(&shard.mu);
  // An outcome after the window finds no open unit and reads the matured
  // sets: start their loads along with the index's.
  PrefetchIn(shard, key);
  const std::optional<size_t> i = FindOpen(shard, key);
  if (!i.has_value()) {
    if (shard.matured.contains(key.hi) || shard.matured_before.contains(key.hi)) {
      return OutcomeDisposition::kLate;
    }
    return OutcomeDisposition::kUnknownUnit;
  }
  OpenUnit& unit = shard.open[*i];
  const int64_t exposure_us = WindowEndUs(unit) - window_us_;
  if (time_us < exposure_us) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome time ", FormatRfc3339(time), " is before the unit's exposure at ",
        FormatRfc3339(absl::FromUnixMicros(exposure_us))));
  }
  if (time_us >= WindowEndUs(unit)) return OutcomeDisposition::kLate;
  if (metric >= 0) {
    // Another metric: its value slot; a binary one converts once.
    double& slot = shard.values[*i * other_metrics_.size() + static_cast<size_t>(metric)];
    if (other_metrics_[metric] == MetricKind::kBinary) {
      if (value == 0) return OutcomeDisposition::kCounted;
      if (slot != 0) return OutcomeDisposition::kDuplicate;
      slot = 1;
      return OutcomeDisposition::kCounted;
    }
    slot += value;
    return OutcomeDisposition::kCounted;
  }
  if (metric_ == MetricKind::kBinary) {
    if (value == 0) return OutcomeDisposition::kCounted;
    if (unit.flags & OpenUnit::kConverted) return OutcomeDisposition::kDuplicate;
    unit.flags |= OpenUnit::kConverted;
    unit.outcome = 1;
    return OutcomeDisposition::kCounted;
  }
  unit.outcome += value;
  return OutcomeDisposition::kCounted;
}

void Ledger::TakeMatured(absl::Time now, std::vector<OpenUnit>& matured,
                         std::vector<double>* values) {
  const size_t m = other_metrics_.size();
  const int64_t now_us = absl::ToUnixMicros(now);
  bool rotate = false;
  {
    MutexLock lock(&generation_mu_);
    if (generation_start_us_ == INT64_MIN) generation_start_us_ = now_us;
    if (now_us - generation_start_us_ >= retention_us_) {
      rotate = true;
      generation_start_us_ = now_us;
    }
  }
  matured.clear();
  std::vector<double> taken;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    if (rotate) {
      std::swap(shard.matured_before, shard.matured);
      shard.matured.clear();
    }
    if (shard.open_unsorted) SortOpen(shard);
    ExposureOrder<OpenUnit>& open = shard.open;
    for (size_t i = 0; i < std::min(open.size(), kRecordsAhead); ++i) {
      PrefetchLine(&open[i]);
    }
    for (size_t i = 0; i < kMaturingAhead; ++i) PrefetchMaturing(shard, i);
    while (!open.empty() && WindowEndUs(open.front()) <= now_us) {
      PrefetchMaturing(shard, kMaturingAhead);
      const OpenUnit& unit = open.front();
      matured.push_back(unit);
      if (retention_us_ > 0) shard.matured.insert(unit.key.hi);
      shard.index.Erase(IndexKey(unit.key), open.PositionOf(0));
      open.pop_front();
      for (size_t j = 0; j < m; ++j) {
        taken.push_back(shard.values[0]);
        shard.values.pop_front();
      }
    }
  }
  // Folding sums the outcomes. Binary outcomes sum exactly in any order;
  // continuous ones are floating-point sums, which depend on the order.
  const bool continuous = metric_ == MetricKind::kContinuous ||
                          std::find(other_metrics_.begin(), other_metrics_.end(),
                                    MetricKind::kContinuous) != other_metrics_.end();
  if (!continuous) {
    if (values != nullptr) *values = std::move(taken);
    return;
  }
  std::vector<size_t> order(matured.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (matured[a].exposure_s != matured[b].exposure_s) {
      return matured[a].exposure_s < matured[b].exposure_s;
    }
    return matured[a].key < matured[b].key;
  });
  std::vector<OpenUnit> sorted;
  sorted.reserve(matured.size());
  if (values != nullptr) values->clear();
  for (size_t i : order) {
    sorted.push_back(matured[i]);
    if (values != nullptr) {
      for (size_t j = 0; j < m; ++j) values->push_back(taken[i * m + j]);
    }
  }
  matured.swap(sorted);
}

std::vector<std::vector<int64_t>> Ledger::ExposureCounts() const {
  std::vector<std::vector<int64_t>> total;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    if (total.size() < shard.exposures.size()) {
      total.resize(shard.exposures.size(), std::vector<int64_t>(num_arms_));
    }
    for (size_t e = 0; e < shard.exposures.size(); ++e) {
      const std::vector<int64_t>& row = shard.exposures[e];
      if (total[e].size() < row.size()) total[e].resize(row.size());
      for (size_t a = 0; a < row.size(); ++a) total[e][a] += row[a];
    }
  }
  return total;
}

int64_t Ledger::MemoryBytes() const {
  int64_t bytes = 0;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    bytes +=
        shard.open.MemoryBytes() + shard.values.MemoryBytes() + shard.index.MemoryBytes();
  }
  return bytes;
}

int64_t Ledger::RetainedMemoryBytes() const {
  int64_t bytes = 0;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    bytes += shard.matured.MemoryBytes() + shard.matured_before.MemoryBytes();
  }
  return bytes;
}

int64_t Ledger::retained_units() const {
  int64_t n = 0;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    n += static_cast<int64_t>(shard.matured.size() + shard.matured_before.size());
  }
  return n;
}

int64_t Ledger::open_units() const {
  int64_t n = 0;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    n += static_cast<int64_t>(shard.open.size());
  }
  return n;
}

LedgerState Ledger::Export() const {
  LedgerState state;
  state.exposures = ExposureCounts();
  const size_t m = other_metrics_.size();
  std::vector<double> values;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    for (size_t i = 0; i < shard.open.size(); ++i) state.open.push_back(shard.open[i]);
    for (size_t i = 0; i < shard.values.size(); ++i) values.push_back(shard.values[i]);
    shard.matured.ForEach([&](uint64_t hi) { state.matured.push_back(hi); });
    shard.matured_before.ForEach(
        [&](uint64_t hi) { state.matured_before.push_back(hi); });
  }
  std::vector<size_t> order(state.open.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return state.open[a].key < state.open[b].key; });
  std::vector<OpenUnit> by_key;
  by_key.reserve(order.size());
  for (size_t i : order) {
    by_key.push_back(state.open[i]);
    for (size_t j = 0; j < m; ++j) state.open_values.push_back(values[i * m + j]);
  }
  state.open = std::move(by_key);
  std::sort(state.matured.begin(), state.matured.end());
  std::sort(state.matured_before.begin(), state.matured_before.end());
  {
    MutexLock lock(&generation_mu_);
    state.generation_start_us = generation_start_us_;
  }
  return state;
}

void Ledger::Import(const LedgerState& state) {
  // `state.open` is in key order: each shard's units go in in exposure order
  // (a stable sort, so ties stay in key order).
  const size_t m = other_metrics_.size();
  std::vector<size_t> order(state.open.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ExposedEarlier(state.open[a], state.open[b]);
  });
  for (size_t i : order) {
    const OpenUnit& unit = state.open[i];
    Shard& shard = ShardOf(unit.key);
    MutexLock lock(&shard.mu);
    AddOpen(shard, unit,
            m > 0 && state.open_values.size() >= (i + 1) * m ? &state.open_values[i * m]
                                                             : nullptr);
  }
  for (uint64_t hi : state.matured) {
    Shard& shard = shards_[hi % kShards];
    MutexLock lock(&shard.mu);
    shard.matured.insert(hi);
  }
  for (uint64_t hi : state.matured_before) {
    Shard& shard = shards_[hi % kShards];
    MutexLock lock(&shard.mu);
    shard.matured_before.insert(hi);
  }
  // Exposure counts are kept per shard only to spread contention; the sum
  // is what matters, so it all goes to shard 0.
  {
    MutexLock lock(&shards_[0].mu);
    shards_[0].exposures = state.exposures;
  }
  MutexLock lock(&generation_mu_);
  generation_start_us_ = state.generation_start_us;
}

}  // namespace allot::internal
