// Copyright 2026 The allot Authors.
//
// The allocation history: every epoch of an experiment (its number, start
// time and weights) and every arm it ever had (id, payload, the epoch it was
// added in and, once retired, the first epoch without it and how it left).
// It is all a replica needs to rebuild every bucket table and so answer every
// assignment, past and present, identically; a fleet of routers is handed it
// as JSON. A history whose arms never changed and carry no payload is written
// in format 1, as releases before format 2 did:
//
//   {"format": 1, "experiment": "support-bot-model", "salt": "support-bot-model",
//    "epochs": [
//      {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large":
//      0.5}},
//      {"epoch": 1, "start": "2026-01-02T06:00:00Z", "weights": {"small": 0.3, "large":
//      0.7}}]}
//
// Any other in format 2, which lists the arms in index order (a payload is a
// JSON string holding the payload's text; "retired" and "retire" appear once
// the arm is retired) and names in each epoch's weights exactly the arms
// active in it:
//
//   {"format": 2, "experiment": "support-bot-model", "salt": "support-bot-model",
//    "arms": [{"id": "small", "added": 0},
//             {"id": "large", "added": 0, "retired": 2, "retire": "now",
//              "payload": "{\"model\":\"m-2\"}"},
//             {"id": "new", "added": 1}],
//    "epochs": [
//      {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large":
//      0.5}},
//      {"epoch": 1, "start": "2026-01-02T06:00:00Z", "weights": {"small": 0.4, "large":
//      0.4, "new": 0.2}},
//      {"epoch": 2, "start": "2026-01-03T06:00:00Z", "weights": {"small": 0.6, "new":
//      0.4}}]}
//
// Epochs are numbered 0, 1, 2... with strictly increasing start times. Epoch
// 0 has the starting arms; each later epoch changes at most one arm (adds or
// retires it). Doubles are written in their shortest round-trip form, so a
// table rebuilt from the JSON is bit-identical to the original.

#ifndef ALLOT_ALLOCATION_HISTORY_H_
#define ALLOT_ALLOCATION_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "allot/bucket_table.h"
#include "allot/types.h"

namespace allot {

// The newest JSON format version this release reads and writes; format 1 is
// still read, and written for histories without payloads or arm changes.
inline constexpr int kHistoryFormat = 2;
// Histories larger than this are refused as oversized input.
inline constexpr size_t kMaxHistoryJsonBytes = size_t{64} << 20;

// One allocation: the weights in force from `start` until the next epoch.
struct Epoch {
  int64_t number = 0;
  absl::Time start;
  // One weight per arm known in this epoch (the arms added in it or before,
  // in arm index order); they sum to 1. Retired arms have weight 0.
  std::vector<double> weights;
};

// An arm as the history knows it.
struct HistoryArm {
  std::string id;
  // The variant's settings: one JSON object's text, or empty.
  std::string payload;
  // The epoch it joined in; 0 for the starting arms.
  int64_t added_epoch = 0;
  // The first epoch without it; -1 while it is active.
  int64_t retired_epoch = -1;
  // How it left; meaningful once retired.
  RetireMode retire_mode = RetireMode::kDrain;

  // Returns whether the arm serves in `epoch`.
  bool active_in(int64_t epoch) const {
    return added_epoch <= epoch && (retired_epoch < 0 || epoch < retired_epoch);
  }
};

// An experiment's sequence of epochs. Thread-compatible value type.
class AllocationHistory {
 public:
  // Returns a history whose epoch 0 starts at `start` with `weights`
  // (normalized; positive) and `payloads` (empty, or one per arm; each empty
  // or a JSON object). Errors: InvalidArgument naming the field, as
  // ValidateArmIds, ValidateSalt, NormalizeWeights and ValidatePayload
  // ("arms[1].payload"), or when the experiment id is empty or the counts of
  // ids, weights or payloads differ.
  static absl::StatusOr<AllocationHistory> Create(std::string experiment,
                                                  std::string salt,
                                                  std::vector<std::string> arm_ids,
                                                  absl::Time start,
                                                  absl::Span<const double> weights,
                                                  std::vector<std::string> payloads = {});

  // Appends the next epoch with one weight per arm known (arms().size()).
  // Weights are normalized and may be zero; retired arms' must be 0. Errors:
  // InvalidArgument when `start` is not after the last epoch's start (time
  // going backward) or the weights are bad; the history is then unchanged.
  absl::Status Append(absl::Time start, absl::Span<const double> weights);

  // Appends the next epoch, in which a new arm (index arms().size()) joins
  // with `id` and `payload` (empty or a JSON object). `weights` has
  // arms().size() + 1 entries, the new arm's last and positive; retired arms'
  // must be 0. Errors: InvalidArgument as Append, when `id` is not a valid
  // id or is (or was) another arm's, the payload is bad, or kMaxArms arms
  // exist; the history is then unchanged.
  absl::Status AddArm(absl::Time start, std::string id, std::string payload,
                      absl::Span<const double> weights);

  // Appends the next epoch, in which `arm` is retired with `mode`. `weights`
  // has arms().size() entries; weights[arm] and retired arms' must be 0, and
  // some active arm must keep weight. Errors: InvalidArgument as Append, or
  // when `arm` is not an active arm's index; the history is then unchanged.
  absl::Status RetireArm(absl::Time start, int arm, RetireMode mode,
                         absl::Span<const double> weights);

  const std::string& experiment() const { return experiment_; }
  const std::string& salt() const { return salt_; }
  // Every arm ever, by index; arm_ids()[i] == arms()[i].id.
  const std::vector<std::string>& arm_ids() const { return arm_ids_; }
  const std::vector<HistoryArm>& arms() const { return arms_; }
  const std::vector<Epoch>& epochs() const { return epochs_; }

  // Returns the number of the epoch in force at `t`: the last epoch starting
  // at or before `t`, or 0 when `t` is before the first epoch.
  int64_t EpochAt(absl::Time t) const;

  // Returns the bucket table of every epoch, rebuilt by replaying the weights.
  std::vector<BucketTable> BuildTables() const;

  // Returns the history as JSON: format 1 when no arm has a payload or was
  // added or retired after epoch 0, else format 2.
  std::string ToJson() const;

  // Parses a history in format 1 or 2. With a non-empty `arm_order` (an
  // experiment's arms) the starting arms (epoch 0's) must be exactly those
  // in that order, since the order decides the first table's layout; epochs'
  // weights may list arms in any order. Errors: InvalidArgument for
  // malformed JSON (with its offset), a missing, unknown or mistyped field, a
  // format newer than kHistoryFormat, epochs out of order or misnumbered,
  // unknown, missing, duplicate or reordered arms, arms added or retired in
  // epochs that do not exist or in the same epoch, a bad retire mode, id or
  // payload, bad weights, or input over kMaxHistoryJsonBytes.
  static absl::StatusOr<AllocationHistory> FromJson(
      absl::string_view json, absl::Span<const std::string> arm_order = {});

 private:
  AllocationHistory() = default;

  // Returns `weights` normalized for the next epoch, which knows `known` arms,
  // after checking its start and that retired arms have weight 0.
  absl::StatusOr<std::vector<double>> NextWeights(absl::Time start,
                                                  absl::Span<const double> weights,
                                                  size_t known) const;
  // Whether ToJson must write format 2.
  bool NeedsFormat2() const;

  std::string experiment_;
  std::string salt_;
  std::vector<std::string> arm_ids_;
  std::vector<HistoryArm> arms_;
  std::vector<Epoch> epochs_;
};

}  // namespace allot

#endif  // ALLOT_ALLOCATION_HISTORY_H_
