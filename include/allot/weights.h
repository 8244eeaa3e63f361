// Copyright 2026 The allot Authors.
//
// Checks and normalization of arm ids and traffic weights, shared by every
// place that takes them (experiment files, allocation histories, the engine).
//
//   absl::StatusOr<std::vector<double>> w = allot::NormalizeWeights({50, 50});
//   // w == {0.5, 0.5}

#ifndef ALLOT_WEIGHTS_H_
#define ALLOT_WEIGHTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace allot {

// The bucket table stores an arm as one byte, so an experiment has at most
// this many arms.
inline constexpr int kMaxArms = 256;
// Arm ids longer than this are refused.
inline constexpr size_t kMaxArmIdBytes = 256;

// Whether a weight of exactly zero is acceptable. Weights a person writes
// (an experiment's initial split) must be positive; weights a policy
// publishes may reach zero when the floor is zero.
enum class ZeroWeights { kRefuse, kAllow };

// Returns the weights scaled to sum to 1 (1/1 and 50/50 are the same split).
// Weights that already sum to 1 within rounding are returned unchanged, so
// normalizing twice gives the same bits.
// Errors: InvalidArgument, naming the index and value, when there are fewer
// than 2 or more than kMaxArms weights, a weight is NaN, infinite, negative,
// or zero under ZeroWeights::kRefuse, or all are zero.
absl::StatusOr<std::vector<double>> NormalizeWeights(
    absl::Span<const double> weights, ZeroWeights zero = ZeroWeights::kRefuse);

// Returns OK when there are 2 to kMaxArms ids, each non-empty, at most
// kMaxArmIdBytes long, free of control bytes and unique; otherwise
// InvalidArgument naming the id.
absl::Status ValidateArmIds(absl::Span<const std::string> ids);

// Returns the offset of the first control byte (below 0x20, or 0x7f) in an
// arm id, or npos. Arm ids are file keys and JSON object keys, so they hold
// none.
size_t ControlByteAt(absl::string_view id);

// Returns the index of `id` in `ids`, or -1.
int FindArm(absl::Span<const std::string> ids, absl::string_view id);

}  // namespace allot

#endif  // ALLOT_WEIGHTS_H_
