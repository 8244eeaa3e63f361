// Copyright 2026 The allot Authors.

#include "allot/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace allot {

absl::StatusOr<std::vector<double>> NormalizeWeights(absl::Span<const double> weights,
                                                     ZeroWeights zero) {
  if (weights.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("an experiment needs at least 2 arms, got ", weights.size()));
  }
  if (weights.size() > static_cast<size_t>(kMaxArms)) {
    return absl::InvalidArgumentError(absl::StrCat("an experiment has at most ", kMaxArms,
                                                   " arms, got ", weights.size()));
  }
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double w = weights[i];
    const bool bad =
        !std::isfinite(w) || w < 0 || (w == 0 && zero == ZeroWeights::kRefuse);
    if (bad) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight of arm ", i, " must be ",
                       zero == ZeroWeights::kRefuse ? "a positive" : "a non-negative",
                       " finite number, got ", w));
    }
    sum += w;
  }
  if (!(sum > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights must have a positive finite sum, got ", sum));
  }
  std::vector<double> normalized(weights.begin(), weights.end());
  if (!std::isfinite(sum)) {
    // Finite weights whose sum overflows (e.g. 1e308 twice): scale them by
    // the largest first, which cannot overflow (at most kMaxArms).
    const double largest = *std::max_element(normalized.begin(), normalized.end());
    sum = 0;
    for (double& w : normalized) sum += (w /= largest);
  }
  // Dividing weights that already sum to 1 within rounding would move them by
  // an ulp; keeping them makes normalization idempotent, so weights read back
  // from a history or snapshot keep their bits. The bound is the rounding
  // error of summing n normalized weights (about n / 2 ulps of 1).
  const double tolerance =
      static_cast<double>(weights.size()) * std::numeric_limits<double>::epsilon();
  if (std::abs(sum - 1.0) <= tolerance) return normalized;
  for (double& w : normalized) w /= sum;
  return normalized;
}

absl::Status ValidateArmIds(absl::Span<const std::string> ids) {
  if (ids.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("an experiment needs at least 2 arms, got ", ids.size()));
  }
  if (ids.size() > static_cast<size_t>(kMaxArms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("an experiment has at most ", kMaxArms, " arms, got ", ids.size()));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    if (id.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("id of arm ", i, " must not be empty"));
    }
    if (id.size() > kMaxArmIdBytes) {
      return absl::InvalidArgumentError(absl::StrCat("id of arm ", i, " must be at most ",
                                                     kMaxArmIdBytes, " bytes, got ",
                                                     id.size()));
    }
    if (ControlByteAt(id) != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "id of arm ", i, " must not contain control bytes, found one at offset ",
          ControlByteAt(id)));
    }
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("arm ids must be unique, \"", id, "\" appears twice"));
    }
  }
  return absl::OkStatus();
}

size_t ControlByteAt(absl::string_view id) {
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return absl::string_view::npos;
}

int FindArm(absl::Span<const std::string> ids, absl::string_view id) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace allot
