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
//   route_to(pinned->arm_info->id, pinned->arm_info->payload);
//
// Arms come and go: PublishAddedArm gives a new arm its share from the others
// in proportion (only its buckets move), PublishRetiredArm hands a retired
// arm's buckets to the rest. A drained arm keeps serving units pinned to the
// epochs it served in; an arm retired with RetireMode::kNow is gone, and a
// pinned unit it served is answered by the latest table instead.

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
#include "allot/weights.h"

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

// Assigns units to arms for one experiment. Thread-safe: Assign, AssignAt
// and the arm accessors are lock-free and may run concurrently with Publish,
// PublishAddedArm and PublishRetiredArm.
//
// Memory grows with the history, not with 64 KiB tables: the latest table is
// one flat array of 65,536 words (arm and the epoch the bucket last changed),
// updated in place for the buckets that move, and every epoch keeps its table
// as runs of buckets sharing an arm (a few hundred bytes when reallocations
// move few buckets; never more than the flat 64 KiB). A reader of epoch e
// takes the arm from the flat array when the bucket has not changed since e,
// else from epoch e's runs (a binary search), so no reader ever waits.
class Assigner {
 public:
  // At most this many epochs can be published.
  static constexpr int64_t kMaxEpochs = int64_t{1} << 20;

  // Returns an assigner serving every epoch of `history`, its arm changes
  // included. Errors: InvalidArgument when holdout is not in [0, 1) or, while
  // holdout > 0, baseline_arm does not name an arm or names a retired one.
  static absl::StatusOr<std::unique_ptr<Assigner>> Create(
      const AllocationHistory& history, const AssignerOptions& options = {});

  ~Assigner();
  Assigner(const Assigner&) = delete;
  Assigner& operator=(const Assigner&) = delete;

  // Returns the unit's arm under the latest epoch, with `arm_info` set (as in
  // every Assignment returned here). Errors: InvalidArgument as ValidateUnit
  // (empty or oversized unit).
  absl::StatusOr<Assignment> Assign(absl::string_view unit) const;

  // Returns the unit's arm under the epoch in force at `at` (epoch 0 when
  // `at` is before the first epoch). Pass a unit's start time to pin it: its
  // answer then never changes, unless its arm is gone (retired with
  // RetireMode::kNow): then it is Assign's answer. Errors: as Assign.
  absl::StatusOr<Assignment> AssignAt(absl::string_view unit, absl::Time at) const;

  // Publishes the next epoch, starting at `start`. Errors: InvalidArgument as
  // AllocationHistory::Append; ResourceExhausted past kMaxEpochs. On error
  // nothing changes.
  absl::Status Publish(absl::Time start, absl::Span<const double> weights);

  // Publishes the next epoch, in which `arm` joins as arm num_arms().
  // `weights` as AllocationHistory::AddArm. Errors: InvalidArgument as
  // AllocationHistory::AddArm; ResourceExhausted past kMaxEpochs. On error
  // nothing changes.
  absl::Status PublishAddedArm(absl::Time start, ArmInfo arm,
                               absl::Span<const double> weights);

  // Publishes the next epoch, in which `arm` is retired with `mode`.
  // `weights` as AllocationHistory::RetireArm. Errors: InvalidArgument as
  // AllocationHistory::RetireArm or when `arm` is the holdout's baseline;
  // ResourceExhausted past kMaxEpochs. On error nothing changes.
  absl::Status PublishRetiredArm(absl::Time start, int arm, RetireMode mode,
                                 absl::Span<const double> weights);

  // Returns the number of the latest epoch.
  int64_t current_epoch() const;

  // Returns the number of the epoch in force at `at`.
  int64_t EpochAt(absl::Time at) const;

  // Returns the weights of `epoch`: one per arm known in it (retired arms
  // 0). REQUIRES: 0 <= epoch <= current_epoch().
  absl::Span<const double> WeightsOf(int64_t epoch) const;

  // Returns the arm serving `bucket` in `epoch`. REQUIRES: as WeightsOf and
  // bucket < kNumBuckets.
  int ArmOf(int64_t epoch, uint32_t bucket) const;

  // Returns the number of buckets of each arm known in `epoch`. REQUIRES: as
  // WeightsOf.
  std::vector<uint32_t> CountsOf(int64_t epoch) const;

  // Returns the bytes this assigner holds for its tables, epochs and history
  // (heap blocks at their requested sizes, without the allocator's overhead).
  size_t MemoryBytes() const;

  // Returns a copy of the history published so far.
  AllocationHistory history() const;

  // Returns the number of arms known so far, retired ones included.
  int num_arms() const;

  // Returns arm `index`'s id and payload; the reference stays valid while
  // the assigner lives. REQUIRES: 0 <= index < num_arms().
  const ArmInfo& arm(int index) const { return *arms_[index]; }

  // Returns whether arm `index` was retired with RetireMode::kNow.
  // REQUIRES: 0 <= index < num_arms().
  bool gone(int index) const;

  // Returns every arm's id so far, by index.
  std::vector<std::string> arm_ids() const;

  const std::string& salt() const { return salt_; }
  const AssignerOptions& options() const { return options_; }

 private:
  struct EpochEntry;
  // kChunkSize epochs (defined in assigner.cc).
  struct Chunk;
  static constexpr int kChunkBits = 10;
  static constexpr int64_t kChunkSize = int64_t{1} << kChunkBits;
  static constexpr int64_t kMaxChunks = kMaxEpochs / kChunkSize;

  Assigner(const AllocationHistory& history, const AssignerOptions& options);
  // Publishes `table` as the epoch history_ ends with: O(runs) to find the
  // moved buckets and store the epoch's runs, plus one word store per moved
  // bucket.
  void AppendEpoch(BucketTable table) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ResourceExhausted when kMaxEpochs epochs are published.
  absl::Status CheckRoomForEpoch() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const EpochEntry& Entry(int64_t epoch) const;
  int64_t EpochAt(absl::Time at, int64_t count) const;
  int ArmIn(uint32_t bucket, const EpochEntry& entry) const;
  template <bool kPinnedEpoch>
  Assignment AssignIn(absl::string_view unit, const EpochEntry& entry) const;

  const std::string salt_;
  const AssignerOptions options_;
  // Hash this salt's messages for the arm bucket and the holdout.
  const std::unique_ptr<const internal::MessageHasher> arm_hasher_;
  const std::unique_ptr<const internal::MessageHasher> holdout_hasher_;

  // Epochs live in chunks that never move or die before the assigner, so a
  // reader that has loaded `count_` (acquire) can read every epoch below it
  // without a lock. Only Publish writes, under mu_, storing `count_` and
  // `latest_` (release) after the epoch is complete.
  std::unique_ptr<Chunk> chunks_[kMaxChunks];
  // Arms never move or die before the assigner either: a publisher sets
  // arms_[i] (under mu_) and stores `num_arms_` (release) before the epoch
  // that first serves arm i, so a reader of that epoch sees it. `gone_[i]` is
  // stored (release) after the epoch retiring arm i is published, so a
  // reader that sees it set sees that epoch as the latest (or a later one).
  std::unique_ptr<const ArmInfo> arms_[kMaxArms];
  std::atomic<int> num_arms_{0};
  std::atomic<bool> gone_[kMaxArms];
  // Whether any gone_ is set (stored after it): while none is, a pinned
  // lookup skips the load of its arm's flag.
  std::atomic<bool> any_gone_{false};
  std::atomic<int64_t> count_{0};
  std::atomic<const EpochEntry*> latest_{nullptr};
  // The latest table, flat: per bucket, arm | (epoch of its last change << 8).
  // Publish stores the moved buckets' words (relaxed) before it publishes the
  // epoch, so a reader of epoch e that sees a word whose epoch is <= e sees
  // the bucket's arm in e; a later epoch in the word sends it to e's runs.
  const std::unique_ptr<std::atomic<uint32_t>[]> current_;

  mutable internal::Mutex mu_;
  AllocationHistory history_ ABSL_GUARDED_BY(mu_);
  // The latest table as a BucketTable, for the next Reallocate.
  std::unique_ptr<BucketTable> latest_table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace allot

#endif  // ALLOT_ASSIGNER_H_
