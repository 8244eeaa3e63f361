// Copyright 2026 The allot Authors.
//
// The assignment plane: answers "which arm serves this unit?" from an
// allocation history, with no per-unit store. Many threads may assign while
// one publishes a new epoch; readers never take a lock and never see a torn
// epoch.
//
//   absl::StatusOr<std::unique_ptr<allot::Assigner>> assigner =
//       allot::Assigner::Create(history, {.holdout = 0.05, .baseline_arm = 0});
//   absl::StatusOr<allot::Assignment> now = (*assigner)->Assign("user-42");
//   // Pinned: the table of the epoch in force when the conversation started,
//   // so this unit never moves.
//   absl::StatusOr<allot::Assignment> pinned =
//       (*assigner)->AssignAt("conv-7", conversation_start);

#ifndef ALLOT_ASSIGNER_H_
#define ALLOT_ASSIGNER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "allot/allocation_history.h"
#include "allot/bucket_table.h"
#include "allot/internal/mutex.h"
#include "allot/types.h"

namespace allot {
namespace internal {
class MessageHasher;
}  // namespace internal

struct AssignerOptions {
  // Share of units, in [0, 1), kept on `baseline_arm` outside the bandit,
  // decided by a hash independent of the arm bucket. Default: none.
  double holdout = 0.0;
  // Arm index served to the holdout; required when holdout > 0.
  int baseline_arm = -1;
};

// Assigns units to arms for one experiment. Thread-safe: Assign and AssignAt
// are lock-free and may run concurrently with Publish.
class Assigner {
 public:
  // At most this many epochs can be published.
  static constexpr int64_t kMaxEpochs = int64_t{1} << 20;

  // Returns an assigner serving every epoch of `history`. Errors:
  // InvalidArgument when holdout is not in [0, 1) or baseline_arm does not
  // name an arm while holdout > 0.
  static absl::StatusOr<std::unique_ptr<Assigner>> Create(
      const AllocationHistory& history, const AssignerOptions& options = {});

  ~Assigner();
  Assigner(const Assigner&) = delete;
  Assigner& operator=(const Assigner&) = delete;

  // Returns the unit's arm under the latest epoch. Errors: InvalidArgument as
  // ValidateUnit (empty or oversized unit).
  absl::StatusOr<Assignment> Assign(absl::string_view unit) const;

  // Returns the unit's arm under the epoch in force at `at` (epoch 0 when
  // `at` is before the first epoch). Pass a unit's start time to pin it: its
  // answer then never changes. Errors: as Assign.
  absl::StatusOr<Assignment> AssignAt(absl::string_view unit, absl::Time at) const;

  // Publishes the next epoch, starting at `start`. Errors: InvalidArgument as
  // AllocationHistory::Append; ResourceExhausted past kMaxEpochs. On error
  // nothing changes.
  absl::Status Publish(absl::Time start, absl::Span<const double> weights);

  // Returns the number of the latest epoch.
  int64_t current_epoch() const;

  // Returns the number of the epoch in force at `at`.
  int64_t EpochAt(absl::Time at) const;

  // Returns the weights of `epoch`. REQUIRES: 0 <= epoch <= current_epoch().
  absl::Span<const double> WeightsOf(int64_t epoch) const;

  // Returns the bucket table of `epoch`. REQUIRES: as WeightsOf.
  const BucketTable& TableOf(int64_t epoch) const;

  // Returns a copy of the history published so far.
  AllocationHistory history() const;

  const std::vector<std::string>& arm_ids() const { return arm_ids_; }
  const std::string& salt() const { return salt_; }
  const AssignerOptions& options() const { return options_; }

 private:
  struct EpochEntry;
  static constexpr int kChunkBits = 10;
  static constexpr int64_t kChunkSize = int64_t{1} << kChunkBits;
  static constexpr int64_t kMaxChunks = kMaxEpochs / kChunkSize;
  // kChunkSize epochs: their start times side by side, so finding the epoch
  // in force at a time is a binary search over one flat array.
  struct Chunk {
    absl::Time starts[kChunkSize];
    std::unique_ptr<const EpochEntry> entries[kChunkSize];
  };

  Assigner(const AllocationHistory& history, const AssignerOptions& options);
  void AppendEntry(std::unique_ptr<EpochEntry> entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const EpochEntry& Entry(int64_t epoch) const;
  int64_t EpochAt(absl::Time at, int64_t count) const;
  Assignment AssignIn(absl::string_view unit, const EpochEntry& entry) const;

  const std::string salt_;
  const std::vector<std::string> arm_ids_;
  const AssignerOptions options_;
  // Hash this salt's messages for the arm bucket and the holdout.
  const std::unique_ptr<const internal::MessageHasher> arm_hasher_;
  const std::unique_ptr<const internal::MessageHasher> holdout_hasher_;

  // Epochs live in chunks that never move or die before the assigner, so a
  // reader that has loaded `count_` (acquire) can read every epoch below it
  // without a lock. Only Publish writes, under mu_, storing `count_` and
  // `latest_` (release) after the epoch is complete.
  std::unique_ptr<Chunk> chunks_[kMaxChunks];
  std::atomic<int64_t> count_{0};
  std::atomic<const EpochEntry*> latest_{nullptr};

  mutable internal::Mutex mu_;
  AllocationHistory history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace allot

#endif  // ALLOT_ASSIGNER_H_
