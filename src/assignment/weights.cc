// Copyright 2026 The allot Authors.

#include "allot/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "config/id_text.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

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
    // ValidateId's rule, the config plane's too; the message names the arm's
    // index but carries no field path, since these ids need not come from a file.
    if (absl::Status s = ValidateId(absl::StrCat("id of arm ", i), id, kMaxArmIdBytes);
        !s.ok()) {
      return absl::InvalidArgumentError(s.message());
    }
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("arm ids must be unique, ", QuoteId(id), " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view field, absl::string_view id, size_t max_bytes) {
  if (id.empty()) return FieldError(field, "must not be empty");
  if (id.size() > max_bytes) {
    return FieldError(field, absl::StrCat("must be at most ", max_bytes, " bytes, got ",
                                          id.size(), ": ", QuoteId(id)));
  }
  for (size_t pos = 0; pos < id.size();) {
    char32_t cp = 0;
    const size_t length = internal::DecodeUtf8(id, pos, &cp);
    if (length == 0) {
      return FieldError(field, absl::StrCat("must be valid UTF-8, got ", QuoteId(id),
                                            " (bad byte at offset ", pos, ")"));
    }
    if (internal::IsForbiddenInId(cp)) {
      return FieldError(
          field,
          absl::StrCat("must not contain control or bidirectional characters, got ",
                       QuoteId(id), " (one at offset ", pos, ")"));
    }
    pos += length;
  }
  return absl::OkStatus();
}

absl::Status ValidatePayload(absl::string_view field, absl::string_view payload) {
  if (payload.empty()) return absl::OkStatus();
  if (payload.size() > kMaxPayloadBytes) {
    return FieldError(field, absl::StrCat("must be at most ", kMaxPayloadBytes,
                                          " bytes of JSON, got ", payload.size()));
  }
  // Iterative (a caller controls the nesting depth), strict UTF-8, default
  // precision (the full-precision path mishandles long runs of zeros).
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      payload.data(), payload.size());
  if (doc.HasParseError()) {
    return FieldError(field,
                      absl::StrCat("must be one JSON object: ",
                                   rapidjson::GetParseError_En(doc.GetParseError()),
                                   " (at offset ", doc.GetErrorOffset(), ")"));
  }
  if (!doc.IsObject()) return FieldError(field, "must be a JSON object");
  return absl::OkStatus();
}

int FindArm(absl::Span<const std::string> ids, absl::string_view id) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace allot
