// Copyright 2026 The allot Authors.

#include "allot/assigner.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "allot/hash.h"
#include "allot/status_macros.h"
#include "assignment/hash_internal.h"

namespace allot {

struct Assigner::EpochEntry {
  int64_t number;
  absl::Time start;
  std::vector<double> weights;
  BucketTable table;
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
  if (static_cast<int64_t>(history.epochs().size()) > kMaxEpochs) {
    return absl::ResourceExhaustedError(absl::StrCat("a history holds at most ",
                                                     kMaxEpochs, " epochs, got ",
                                                     history.epochs().size()));
  }
  return std::unique_ptr<Assigner>(new Assigner(history, options));
}

Assigner::Assigner(const AllocationHistory& history, const AssignerOptions& options)
    : salt_(history.salt()),
      arm_ids_(history.arm_ids()),
      options_(options),
      arm_hasher_(std::make_unique<internal::MessageHasher>(
          static_cast<char>(HashPurpose::kArm), history.salt())),
      holdout_hasher_(std::make_unique<internal::MessageHasher>(
          static_cast<char>(HashPurpose::kHoldout), history.salt())),
      history_(history) {
  internal::MutexLock lock(&mu_);
  std::vector<BucketTable> tables = history.BuildTables();
  for (size_t e = 0; e < tables.size(); ++e) {
    const Epoch& epoch = history.epochs()[e];
    AppendEntry(std::make_unique<EpochEntry>(
        EpochEntry{epoch.number, epoch.start, epoch.weights, std::move(tables[e])}));
  }
}

Assigner::~Assigner() = default;

void Assigner::AppendEntry(std::unique_ptr<EpochEntry> entry) {
  const int64_t index = count_.load(std::memory_order_relaxed);
  std::unique_ptr<Chunk>& chunk = chunks_[index >> kChunkBits];
  if (chunk == nullptr) chunk = std::make_unique<Chunk>();
  const int64_t slot = index & (kChunkSize - 1);
  chunk->starts[slot] = entry->start;
  chunk->entries[slot] = std::move(entry);
  count_.store(index + 1, std::memory_order_release);
  latest_.store(chunk->entries[slot].get(), std::memory_order_release);
}

const Assigner::EpochEntry& Assigner::Entry(int64_t epoch) const {
  return *chunks_[epoch >> kChunkBits]->entries[epoch & (kChunkSize - 1)];
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

// Inlined into Assign and AssignAt: the result is built in place.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Assignment Assigner::AssignIn(
    absl::string_view unit, const EpochEntry& entry) const {
  if (options_.holdout > 0 &&
      UnitInterval(holdout_hasher_->Hash64(unit)) < options_.holdout) {
    return {options_.baseline_arm, entry.number, 1.0, true};
  }
  const int arm = entry.table.ArmOf(BucketOf(arm_hasher_->Hash64(unit)));
  return {arm, entry.number, entry.weights[arm], false};
}

namespace {

// ValidateUnit's checks, inline; the error is built out of line.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool UnitIsValid(absl::string_view unit) {
  return !unit.empty() && unit.size() <= kMaxUnitBytes;
}

}  // namespace

absl::StatusOr<Assignment> Assigner::Assign(absl::string_view unit) const {
  if (ABSL_PREDICT_FALSE(!UnitIsValid(unit))) return ValidateUnit(unit);
  return AssignIn(unit, *latest_.load(std::memory_order_acquire));
}

absl::StatusOr<Assignment> Assigner::AssignAt(absl::string_view unit,
                                              absl::Time at) const {
  if (ABSL_PREDICT_FALSE(!UnitIsValid(unit))) return ValidateUnit(unit);
  const int64_t count = count_.load(std::memory_order_acquire);
  return AssignIn(unit, Entry(EpochAt(at, count)));
}

absl::Status Assigner::Publish(absl::Time start, absl::Span<const double> weights) {
  internal::MutexLock lock(&mu_);
  const int64_t count = count_.load(std::memory_order_relaxed);
  if (count >= kMaxEpochs) {
    return absl::ResourceExhaustedError(
        absl::StrCat("an experiment holds at most ", kMaxEpochs, " epochs"));
  }
  ALLOT_RETURN_IF_ERROR(history_.Append(start, weights));
  const Epoch& epoch = history_.epochs().back();
  absl::StatusOr<BucketTable> table = Entry(count - 1).table.Reallocate(epoch.weights);
  // The weights were just validated by Append, so Reallocate cannot fail.
  AppendEntry(std::make_unique<EpochEntry>(
      EpochEntry{epoch.number, epoch.start, epoch.weights, *std::move(table)}));
  return absl::OkStatus();
}

int64_t Assigner::current_epoch() const {
  return count_.load(std::memory_order_acquire) - 1;
}

int64_t Assigner::EpochAt(absl::Time at) const {
  return EpochAt(at, count_.load(std::memory_order_acquire));
}

absl::Span<const double> Assigner::WeightsOf(int64_t epoch) const {
  return Entry(epoch).weights;
}

const BucketTable& Assigner::TableOf(int64_t epoch) const { return Entry(epoch).table; }

AllocationHistory Assigner::history() const {
  internal::MutexLock lock(&mu_);
  return history_;
}

}  // namespace allot
