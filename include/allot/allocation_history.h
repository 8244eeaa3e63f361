// Copyright 2026 The allot Authors.
//
// The allocation history: every epoch of an experiment (its number, start
// time and weights). It is all a replica needs to rebuild every bucket table
// and so answer every assignment, past and present, identically; a fleet of
// routers is handed it as JSON:
//
//   {"format": 1, "experiment": "support-bot-model", "salt": "support-bot-model",
//    "epochs": [
//      {"epoch": 0, "start": "2026-01-01T00:00:00Z", "weights": {"small": 0.5, "large":
//      0.5}},
//      {"epoch": 1, "start": "2026-01-02T06:00:00Z", "weights": {"small": 0.3, "large":
//      0.7}}]}
//
// Epochs are numbered 0, 1, 2... with strictly increasing start times and
// name every arm once. Doubles are written in their shortest round-trip form,
// so a table rebuilt from the JSON is bit-identical to the original.

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

namespace allot {

// The JSON format version this release writes and the newest it reads.
inline constexpr int kHistoryFormat = 1;
// Histories larger than this are refused as oversized input.
inline constexpr size_t kMaxHistoryJsonBytes = size_t{64} << 20;

// One allocation: the weights in force from `start` until the next epoch.
struct Epoch {
  int64_t number = 0;
  absl::Time start;
  // One weight per arm, in the history's arm order; they sum to 1.
  std::vector<double> weights;
};

// An experiment's sequence of epochs. Thread-compatible value type.
class AllocationHistory {
 public:
  // Returns a history whose epoch 0 starts at `start` with `weights`
  // (normalized; positive). Errors: InvalidArgument naming the field, as
  // ValidateArmIds, ValidateSalt and NormalizeWeights, or when the experiment
  // id is empty or the counts of ids and weights differ.
  static absl::StatusOr<AllocationHistory> Create(std::string experiment,
                                                  std::string salt,
                                                  std::vector<std::string> arm_ids,
                                                  absl::Time start,
                                                  absl::Span<const double> weights);

  // Appends the next epoch. Weights are normalized and may be zero. Errors:
  // InvalidArgument when `start` is not after the last epoch's start (time
  // going backward) or the weights are bad; the history is then unchanged.
  absl::Status Append(absl::Time start, absl::Span<const double> weights);

  const std::string& experiment() const { return experiment_; }
  const std::string& salt() const { return salt_; }
  const std::vector<std::string>& arm_ids() const { return arm_ids_; }
  const std::vector<Epoch>& epochs() const { return epochs_; }

  // Returns the number of the epoch in force at `t`: the last epoch starting
  // at or before `t`, or 0 when `t` is before the first epoch.
  int64_t EpochAt(absl::Time t) const;

  // Returns the bucket table of every epoch, rebuilt by replaying the weights.
  std::vector<BucketTable> BuildTables() const;

  // Returns the history as JSON in the format above.
  std::string ToJson() const;

  // Parses a history. With a non-empty `arm_order` (an experiment's arms)
  // epoch 0 must list exactly those arms in that order, since the order
  // decides the first table's layout; later epochs may list them in any
  // order. Errors: InvalidArgument for malformed JSON (with its offset), a
  // missing or mistyped field, a format newer than kHistoryFormat, epochs out
  // of order or misnumbered, unknown, missing, duplicate or reordered arms,
  // bad weights, or input over kMaxHistoryJsonBytes.
  static absl::StatusOr<AllocationHistory> FromJson(
      absl::string_view json, absl::Span<const std::string> arm_order = {});

 private:
  AllocationHistory() = default;

  std::string experiment_;
  std::string salt_;
  std::vector<std::string> arm_ids_;
  std::vector<Epoch> epochs_;
};

}  // namespace allot

#endif  // ALLOT_ALLOCATION_HISTORY_H_
