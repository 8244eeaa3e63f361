// Copyright 2026 The allot Authors.

#include "ledger.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allot/hash.h"
#include "allot/time_format.h"

#include "hash_internal.h"

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

Ledger::Ledger(MetricKind metric, absl::Duration window, int num_arms)
    : metric_(metric),
      window_us_(absl::ToInt64Microseconds(window)),
      num_arms_(num_arms) {}

Ledger::Exposure Ledger::Expose(const UnitKey& key, absl::Time now, bool record,
                                absl::FunctionRef<Assignment()> assign) {
  const int64_t now_us = absl::ToUnixMicros(now);
  Shard& shard = ShardOf(key);
  MutexLock lock(&shard.mu);
  // A new unit misses in all three sets, each likely a cache miss in a large
  // ledger: start the three loads together.
  shard.open.prefetch(key);
  shard.matured.prefetch(key.hi);
  shard.matured_before.prefetch(key.hi);
  // While those loads are in flight: the assignment a new or matured unit
  // gets (a hash and a table load), wasted only on a returning unit.
  const Assignment a = assign();
  auto it = shard.open.find(key);
  if (it != shard.open.end()) {
    const OpenUnit& unit = *it;
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
  shard.open.insert(unit);
  AddToTimeline(shard, key, unit.exposure_s);
  if (!a.holdout) {
    if (shard.exposures.size() <= static_cast<size_t>(a.epoch)) {
      shard.exposures.resize(a.epoch + 1, std::vector<int64_t>(num_arms_));
    }
    ++shard.exposures[a.epoch][a.arm];
  }
  return {a, Visit::kNew};
}

void Ledger::AddToTimeline(Shard& shard, const UnitKey& key,
                           uint32_t exposure_s) {
  // Exposures come in time order but for threads racing each other, which
  // puts a unit a few places late: move it back into place. One further out
  // of order (a caller replaying old events) marks the timeline for sorting.
  constexpr int kMaxMoves = 64;
  std::deque<Exposed>& timeline = shard.timeline;
  timeline.push_back({key, exposure_s});
  size_t i = timeline.size() - 1;
  for (int moves = 0; i > 0 && timeline[i - 1].exposure_s > exposure_s; ++moves) {
    if (moves == kMaxMoves) {
      shard.timeline_unsorted = true;
      return;
    }
    std::swap(timeline[i - 1], timeline[i]);
    --i;
  }
}

bool Ledger::Find(const UnitKey& key, Assignment* out) const {
  const Shard& shard = ShardOf(key);
  ReaderMutexLock lock(&shard.mu);
  auto it = shard.open.find(key);
  if (it == shard.open.end()) return false;
  out->arm = it->arm;
  out->epoch = it->epoch;
  out->holdout = (it->flags & OpenUnit::kHoldout) != 0;
  return true;
}

absl::StatusOr<OutcomeDisposition> Ledger::Record(const UnitKey& key,
                                                  absl::Time time,
                                                  double value) {
  const int64_t time_us = absl::ToUnixMicros(time);
  Shard& shard = ShardOf(key);
  MutexLock lock(&shard.mu);
  auto it = shard.open.find(key);
  if (it == shard.open.end()) {
    if (shard.matured.contains(key.hi) || shard.matured_before.contains(key.hi)) {
      return OutcomeDisposition::kLate;
    }
    return OutcomeDisposition::kUnknownUnit;
  }
  const OpenUnit& unit = *it;
  const int64_t exposure_us = WindowEndUs(unit) - window_us_;
  if (time_us < exposure_us) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome time ", FormatRfc3339(time), " is before the unit's exposure at ",
        FormatRfc3339(absl::FromUnixMicros(exposure_us))));
  }
  if (time_us >= WindowEndUs(unit)) return OutcomeDisposition::kLate;
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

std::vector<OpenUnit> Ledger::TakeMatured(absl::Time now) {
  const int64_t now_us = absl::ToUnixMicros(now);
  bool rotate = false;
  {
    MutexLock lock(&generation_mu_);
    if (generation_start_us_ == INT64_MIN) generation_start_us_ = now_us;
    if (now_us - generation_start_us_ >= window_us_) {
      rotate = true;
      generation_start_us_ = now_us;
    }
  }
  std::vector<OpenUnit> matured;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    if (rotate) {
      shard.matured_before = std::move(shard.matured);
      shard.matured.clear();
    }
    std::deque<Exposed>& timeline = shard.timeline;
    if (shard.timeline_unsorted) {
      std::stable_sort(timeline.begin(), timeline.end(),
                       [](const Exposed& a, const Exposed& b) {
                         return a.exposure_s < b.exposure_s;
                       });
      shard.timeline_unsorted = false;
    }
    // Each unit taken is a random slot of a large table: prefetch the slots
    // of the units a few places ahead, so the cache misses overlap.
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < std::min(kAhead, timeline.size()); ++i) {
      shard.open.prefetch(timeline[i].key);
      shard.matured.prefetch(timeline[i].key.hi);
    }
    while (!timeline.empty() && WindowEndUs(timeline.front().exposure_s) <= now_us) {
      if (timeline.size() > kAhead) {
        shard.open.prefetch(timeline[kAhead].key);
        shard.matured.prefetch(timeline[kAhead].key.hi);
      }
      // Every timeline entry is an open unit.
      auto it = shard.open.find(timeline.front().key);
      matured.push_back(*it);
      shard.matured.insert(it->key.hi);
      shard.open.erase(it);
      timeline.pop_front();
    }
  }
  // Folding sums the outcomes. Binary outcomes sum exactly in any order;
  // continuous ones are floating-point sums, which depend on the order.
  if (metric_ == MetricKind::kBinary) return matured;
  std::sort(matured.begin(), matured.end(),
            [](const OpenUnit& a, const OpenUnit& b) {
              if (a.exposure_s != b.exposure_s) {
                return a.exposure_s < b.exposure_s;
              }
              return a.key < b.key;
            });
  return matured;
}

std::vector<std::vector<int64_t>> Ledger::ExposureCounts() const {
  std::vector<std::vector<int64_t>> total;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    if (total.size() < shard.exposures.size()) {
      total.resize(shard.exposures.size(), std::vector<int64_t>(num_arms_));
    }
    for (size_t e = 0; e < shard.exposures.size(); ++e) {
      for (int a = 0; a < num_arms_; ++a) total[e][a] += shard.exposures[e][a];
    }
  }
  return total;
}

int64_t Ledger::MemoryBytes() const {
  int64_t bytes = 0;
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    // One slot and one control byte per unit of capacity, and the timeline.
    bytes += static_cast<int64_t>(shard.open.capacity()) * (sizeof(OpenUnit) + 1) +
             static_cast<int64_t>(shard.timeline.size()) * sizeof(Exposed);
  }
  return bytes;
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
  for (const Shard& shard : shards_) {
    ReaderMutexLock lock(&shard.mu);
    state.open.insert(state.open.end(), shard.open.begin(), shard.open.end());
    state.matured.insert(state.matured.end(), shard.matured.begin(),
                         shard.matured.end());
    state.matured_before.insert(state.matured_before.end(),
                                shard.matured_before.begin(),
                                shard.matured_before.end());
  }
  std::sort(state.open.begin(), state.open.end(),
            [](const OpenUnit& a, const OpenUnit& b) { return a.key < b.key; });
  std::sort(state.matured.begin(), state.matured.end());
  std::sort(state.matured_before.begin(), state.matured_before.end());
  {
    MutexLock lock(&generation_mu_);
    state.generation_start_us = generation_start_us_;
  }
  return state;
}

void Ledger::Import(const LedgerState& state) {
  for (const OpenUnit& unit : state.open) {
    Shard& shard = ShardOf(unit.key);
    MutexLock lock(&shard.mu);
    shard.open.insert(unit);
    shard.timeline.push_back({unit.key, unit.exposure_s});
    shard.timeline_unsorted = true;  // `state.open` is in key order
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
