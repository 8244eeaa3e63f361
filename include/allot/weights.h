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

// Returns OK when there are 2 to kMaxArms ids, each one ValidateId accepts
// with kMaxArmIdBytes, and unique (byte for byte); otherwise InvalidArgument
// naming the arm's index: "id of arm 1 must be valid UTF-8, ...".
absl::Status ValidateArmIds(absl::Span<const std::string> ids);

// Returns OK when `id` can be an experiment or arm id: 1 to `max_bytes`
// bytes of valid UTF-8 holding no control character (U+0000..U+001F,
// U+007F..U+009F) and no bidirectional embedding, override or isolate
// (U+202A..U+202E, U+2066..U+2069). Ids are compared byte for byte: there is
// no Unicode normalisation, so a precomposed "é" and "e" + U+0301 are two
// different ids. Errors: InvalidArgument, a FieldError on `field` naming the
// offset of the first bad character.
absl::Status ValidateId(absl::string_view field, absl::string_view id, size_t max_bytes);

// An arm's payload (its variant's settings, JSON text) is at most this long.
inline constexpr size_t kMaxPayloadBytes = size_t{64} << 10;

// Returns OK when `payload` is empty (no payload) or one JSON object of at
// most kMaxPayloadBytes bytes, with nothing after it but whitespace.
// Errors: InvalidArgument, a FieldError on `field` naming the problem (the
// size, or RapidJSON's parse error and its offset).
absl::Status ValidatePayload(absl::string_view field, absl::string_view payload);

// Returns the index of `id` in `ids`, or -1.
int FindArm(absl::Span<const std::string> ids, absl::string_view id);

}  // namespace allot

#endif  // ALLOT_WEIGHTS_H_
