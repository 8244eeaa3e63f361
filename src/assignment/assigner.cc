// Copyright 2026 The allot Authors.

#include "allot/assigner.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "allot/weights.h"
#include "assignment/hash_internal.h"
#include "assignment/run_table.h"

namespace allot {
namespace {
constexpr bool kPinned = true;
}  // namespace

// The word layout of current_ needs every epoch number in 24 bits.
static_assert(Assigner::kMaxEpochs <= (int64_t{1} << 24));
static_assert(kMaxArms <= 256);

struct Assigner::EpochEntry {
  int64_t number = 0;
  // The epoch's weights in history_ (a heap block that never moves while the
  // assigner lives, though history_'s vector of epochs may).
  const double* weights = nullptr;
  // The arms known in it (the weights' count).
  int num_arms = 0;
  internal::RunTable table;
};

// kChunkSize epochs: their start times side by side, so finding the epoch in
// force at a time is a binary search over one flat array.
struct Assigner::Chunk {
  absl::Time starts[kChunkSize];
  EpochEntry entries[kChunkSize];
};

absl::StatusOr<std::unique_ptr<Assigner>> Assigner::Create(
    const AllocationHistory& history, const AssignerOptions& options) {
  if (!(options.holdout >= 0 && options.holdout < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("holdout must be in [0, 1), got ", options.holdout));
  }
  const int arms = static_cast<int>(history.arm_ids().size());
  if (options.holdout > 0 && (options.baseline_arm < 0 || options.baseline_arm >= arms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("baseline arm is required when holdout > 0 and must be an arm index "
                     "in [0, ",
                     arms, "), got ", options.baseline_arm));
  }
  if (options.holdout > 0 && history.arms()[options.baseline_arm].retired_epoch >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("baseline arm ", options.baseline_arm, " (",
                     QuoteId(history.arm_ids()[options.baseline_arm]),
                     ") is retired; the holdout needs an active one"));
  }
  if (static_cast<int64_t>(history.epochs().size()) > kMaxEpochs) {
    return absl::ResourceExhaustedError(absl::StrCat("a history holds at most ",
                                                     kMaxEpochs, " epochs, got ",
                                                     history.epochs().size()));
  }
  return std::unique_ptr<Assigner>(new Assigner(history, options));
}

Assigner::Assigner(const AllocationHistory& history, const AssignerOptions& options)
    : salt_(history.salt()),
      options_(options),
      arm_hasher_(std::make_unique<internal::MessageHasher>(
          static_cast<char>(HashPurpose::kArm), history.salt())),
      holdout_hasher_(std::make_unique<internal::MessageHasher>(
          static_cast<char>(HashPurpose::kHoldout), history.salt())),
      current_(new std::atomic<uint32_t>[kNumBuckets]),
      history_(history) {
  internal::MutexLock lock(&mu_);
  // Every arm the history knows, before any epoch: no reader runs yet.
  const std::vector<HistoryArm>& arms = history.arms();
  for (size_t a = 0; a < static_cast<size_t>(kMaxArms); ++a) {
    if (a >= arms.size()) {
      gone_[a].store(false, std::memory_order_relaxed);
      continue;
    }
    arms_[a] = std::make_unique<const ArmInfo>(ArmInfo{arms[a].id, arms[a].payload});
    gone_[a].store(arms[a].retired_epoch >= 0 && arms[a].retire_mode == RetireMode::kNow,
                   std::memory_order_relaxed);
  }
  for (const HistoryArm& arm : arms) {
    if (arm.retired_epoch >= 0 && arm.retire_mode == RetireMode::kNow) {
      any_gone_.store(true, std::memory_order_relaxed);
    }
  }
  num_arms_.store(static_cast<int>(arms.size()), std::memory_order_release);
  // One table at a time, never the whole history's at once.
  BucketTable table = *BucketTable::Initial(history.epochs()[0].weights);
  for (size_t e = 0;; ++e) {
    AppendEpoch(table);
    if (e + 1 == history.epochs().size()) break;
    // Weights were validated on the way in, so Reallocate cannot fail.
    table = *table.Reallocate(history.epochs()[e + 1].weights);
  }
}

Assigner::~Assigner() = default;

void Assigner::AppendEpoch(BucketTable table) {
  const int64_t index = count_.load(std::memory_order_relaxed);
  const Epoch& epoch = history_.epochs()[index];
  // The moved buckets' words first: readers of earlier epochs that see them
  // go to their own epoch's runs.
  const std::vector<BucketRange> moved =
      latest_table_ == nullptr ? table.Runs()
                               : BucketTable::Changes(*latest_table_, table);
  for (const BucketRange& range : moved) {
    const uint32_t word = static_cast<uint32_t>(range.arm) | static_cast<uint32_t>(index)
                                                                 << 8;
    for (uint32_t b = range.begin; b < range.end; ++b) {
      current_[b].store(word, std::memory_order_relaxed);
    }
  }
  std::unique_ptr<Chunk>& chunk = chunks_[index >> kChunkBits];
  if (chunk == nullptr) chunk = std::make_unique<Chunk>();
  const int64_t slot = index & (kChunkSize - 1);
  chunk->starts[slot] = epoch.start;
  EpochEntry& entry = chunk->entries[slot];
  entry.number = epoch.number;
  entry.weights = epoch.weights.data();
  entry.num_arms = static_cast<int>(epoch.weights.size());
  entry.table = internal::RunTable::From(table);
  latest_table_ = std::make_unique<BucketTable>(std::move(table));
  count_.store(index + 1, std::memory_order_release);
  latest_.store(&entry, std::memory_order_release);
}

const Assigner::EpochEntry& Assigner::Entry(int64_t epoch) const {
  return chunks_[epoch >> kChunkBits]->entries[epoch & (kChunkSize - 1)];
}

namespace {

// Returns the last index i < n with starts[i] <= at, or 0 when there is none.
// The loop runs about log2(n) times whatever the answer.
int64_t LastStartedAt(const absl::Time* starts, int64_t n, absl::Time at) {
  const absl::Time* base = starts;
  while (n > 1) {
    const int64_t half = n / 2;
    base = base[half] <= at ? base + half : base;
    n -= half;
  }
  return base - starts;
}

}  // namespace

int64_t Assigner::EpochAt(absl::Time at, int64_t count) const {
  // The last epoch starting at or before `at`; epoch 0 before the first.
  // Most lookups are for a recent time: try the latest epoch first.
  const int64_t last = count - 1;
  const Chunk& last_chunk = *chunks_[last >> kChunkBits];
  if (last_chunk.starts[last & (kChunkSize - 1)] <= at) return last;
  // The chunk holding the answer: the last whose first epoch started by `at`.
  int64_t chunk = 0;  // invariant: the answer is in [chunk, hi)
  for (int64_t hi = (last >> kChunkBits) + 1; hi - chunk > 1;) {
    const int64_t mid = chunk + (hi - chunk) / 2;
    if (chunks_[mid]->starts[0] <= at) {
      chunk = mid;
    } else {
      hi = mid;
    }
  }
  const int64_t first = chunk << kChunkBits;
  return first +
         LastStartedAt(chunks_[chunk]->starts, std::min(kChunkSize, count - first), at);
}

// REQUIRES: the caller loaded count_ or latest_ (acquire) at or after
// publishing `entry`, so current_ holds words at least as new as its epoch.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int Assigner::ArmIn(uint32_t bucket,
                                                        const EpochEntry& entry) const {
  const uint32_t word = current_[bucket].load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(static_cast<int64_t>(word >> 8) <= entry.number)) {
    return static_cast<int>(word & 0xff);
  }
  return entry.table.ArmOf(bucket);
}

// Inlined into Assign and AssignAt: the result is built in place. A pinned
// epoch is often older than its buckets' words, and a branch on that
// mispredicts: pinned lookups go straight to the epoch's runs.
template <bool kPinnedEpoch>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Assignment Assigner::AssignIn(
    absl::string_view unit, const EpochEntry& entry) const {
  if (options_.holdout > 0 &&
      UnitInterval(holdout_hasher_->Hash64(unit)) < options_.holdout) {
    return {options_.baseline_arm,
            entry.number,
            1.0,
            true,
            false,
            arms_[options_.baseline_arm].get()};
  }
  const uint32_t bucket = BucketOf(arm_hasher_->Hash64(unit));
  int arm = kPinnedEpoch ? entry.table.ArmOf(bucket) : ArmIn(bucket, entry);
  if constexpr (kPinnedEpoch) {
    // A gone arm's units are reassigned at once: the latest table answers.
    // Unpinned lookups need no check: the latest table gives a gone arm no
    // bucket.
    if (ABSL_PREDICT_FALSE(any_gone_.load(std::memory_order_acquire)) &&
        gone_[arm].load(std::memory_order_acquire)) {
      const EpochEntry& latest = *latest_.load(std::memory_order_acquire);
      arm = ArmIn(bucket, latest);
      return {arm, latest.number, latest.weights[arm], false, false, arms_[arm].get()};
    }
  }
  return {arm, entry.number, entry.weights[arm], false, false, arms_[arm].get()};
}

namespace {

// ValidateUnit's checks, inline; the error is built out of line.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool UnitIsValid(absl::string_view unit) {
  return !unit.empty() && unit.size() <= kMaxUnitBytes;
}

}  // namespace

absl::StatusOr<Assignment> Assigner::Assign(absl::string_view unit) const {
  if (ABSL_PREDICT_FALSE(!UnitIsValid(unit))) return ValidateUnit(unit);
  return AssignIn<!kPinned>(unit, *latest_.load(std::memory_order_acquire));
}

absl::StatusOr<Assignment> Assigner::AssignAt(absl::string_view unit,
                                              absl::Time at) const {
  if (ABSL_PREDICT_FALSE(!UnitIsValid(unit))) return ValidateUnit(unit);
  const int64_t count = count_.load(std::memory_order_acquire);
  return AssignIn<kPinned>(unit, Entry(EpochAt(at, count)));
}

absl::Status Assigner::CheckRoomForEpoch() const {
  if (count_.load(std::memory_order_relaxed) >= kMaxEpochs) {
    return absl::ResourceExhaustedError(
        absl::StrCat("an experiment holds at most ", kMaxEpochs, " epochs"));
  }
  return absl::OkStatus();
}

absl::Status Assigner::Publish(absl::Time start, absl::Span<const double> weights) {
  internal::MutexLock lock(&mu_);
  ALLOT_RETURN_IF_ERROR(CheckRoomForEpoch());
  ALLOT_RETURN_IF_ERROR(history_.Append(start, weights));
  // The weights were just validated by Append, so Reallocate cannot fail.
  AppendEpoch(*latest_table_->Reallocate(history_.epochs().back().weights));
  return absl::OkStatus();
}

absl::Status Assigner::PublishAddedArm(absl::Time start, ArmInfo arm,
                                       absl::Span<const double> weights) {
  internal::MutexLock lock(&mu_);
  ALLOT_RETURN_IF_ERROR(CheckRoomForEpoch());
  ALLOT_RETURN_IF_ERROR(history_.AddArm(start, arm.id, arm.payload, weights));
  const int index = static_cast<int>(history_.arms().size()) - 1;
  arms_[index] = std::make_unique<const ArmInfo>(std::move(arm));
  // Before the epoch that serves it: see arms_.
  num_arms_.store(index + 1, std::memory_order_release);
  // The weights were just validated by AddArm, so Reallocate cannot fail.
  AppendEpoch(*latest_table_->Reallocate(history_.epochs().back().weights));
  return absl::OkStatus();
}

absl::Status Assigner::PublishRetiredArm(absl::Time start, int arm, RetireMode mode,
                                         absl::Span<const double> weights) {
  internal::MutexLock lock(&mu_);
  ALLOT_RETURN_IF_ERROR(CheckRoomForEpoch());
  if (options_.holdout > 0 && arm == options_.baseline_arm) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm ", arm, " (", QuoteId(arms_[arm]->id),
                     ") is the holdout's baseline arm and cannot be retired"));
  }
  ALLOT_RETURN_IF_ERROR(history_.RetireArm(start, arm, mode, weights));
  AppendEpoch(*latest_table_->Reallocate(history_.epochs().back().weights));
  // After the epoch without it: see gone_.
  if (mode == RetireMode::kNow) {
    gone_[arm].store(true, std::memory_order_release);
    any_gone_.store(true, std::memory_order_release);
  }
  return absl::OkStatus();
}

int64_t Assigner::current_epoch() const {
  return count_.load(std::memory_order_acquire) - 1;
}

int64_t Assigner::EpochAt(absl::Time at) const {
  return EpochAt(at, count_.load(std::memory_order_acquire));
}

absl::Span<const double> Assigner::WeightsOf(int64_t epoch) const {
  count_.load(std::memory_order_acquire);  // REQUIRES: epoch is published
  const EpochEntry& entry = Entry(epoch);
  return absl::MakeConstSpan(entry.weights, static_cast<size_t>(entry.num_arms));
}

int Assigner::ArmOf(int64_t epoch, uint32_t bucket) const {
  count_.load(std::memory_order_acquire);  // REQUIRES: epoch is published
  return ArmIn(bucket, Entry(epoch));
}

std::vector<uint32_t> Assigner::CountsOf(int64_t epoch) const {
  count_.load(std::memory_order_acquire);  // REQUIRES: epoch is published
  const EpochEntry& entry = Entry(epoch);
  return entry.table.Counts(entry.num_arms);
}

int Assigner::num_arms() const { return num_arms_.load(std::memory_order_acquire); }

bool Assigner::gone(int index) const {
  return gone_[index].load(std::memory_order_acquire);
}

std::vector<std::string> Assigner::arm_ids() const {
  const int n = num_arms();
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  for (int a = 0; a < n; ++a) ids.push_back(arms_[a]->id);
  return ids;
}

size_t Assigner::MemoryBytes() const {
  internal::MutexLock lock(&mu_);
  const int64_t count = count_.load(std::memory_order_relaxed);
  size_t bytes = sizeof(*this) + kNumBuckets * sizeof(std::atomic<uint32_t>);
  // The writer's table, as runs.
  bytes += sizeof(BucketTable) + latest_table_->HeapBytes();
  for (int64_t c = 0; c <= (count - 1) >> kChunkBits; ++c) bytes += sizeof(Chunk);
  for (int64_t e = 0; e < count; ++e) bytes += Entry(e).table.HeapBytes();
  const std::vector<Epoch>& epochs = history_.epochs();
  bytes += epochs.capacity() * sizeof(Epoch);
  for (const Epoch& epoch : epochs) bytes += epoch.weights.capacity() * sizeof(double);
  for (int a = 0; a < num_arms_.load(std::memory_order_relaxed); ++a) {
    bytes += sizeof(ArmInfo) + arms_[a]->id.capacity() + arms_[a]->payload.capacity();
  }
  return bytes;
}

AllocationHistory Assigner::history() const {
  internal::MutexLock lock(&mu_);
  return history_;
}

}  // namespace allot
