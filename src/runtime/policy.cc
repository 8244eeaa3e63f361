// Copyright 2026 The allot Authors.
//
// The policy factory, option and input validation, and weight shaping. Each
// policy lives in its own <name>_policy.cc.

#include "allot/policy.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "allot/field_error.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"

namespace allot {
namespace {

constexpr PolicyKind kAllKinds[] = {PolicyKind::kThompson, PolicyKind::kTopTwoThompson,
                                    PolicyKind::kEpsilonGreedy, PolicyKind::kFixed};

// Weights come from the engine's own arithmetic, so they sum to 1 only up to
// rounding; anything further off is a caller bug worth reporting.
constexpr double kWeightSumTolerance = 1e-6;

absl::Status ValidateWeights(absl::string_view field, absl::Span<const double> weights,
                             size_t arm_count) {
  if (weights.size() != arm_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must have one entry per arm (", arm_count, "), got ", weights.size()));
  }
  double sum = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0.0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "] must be finite and >= 0, got ", weights[i]));
    }
    sum += weights[i];
  }
  if (std::fabs(sum - 1.0) > kWeightSumTolerance) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must sum to 1, got ", sum));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view PolicyKindName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kThompson:
      return "thompson";
    case PolicyKind::kTopTwoThompson:
      return "top_two_thompson";
    case PolicyKind::kEpsilonGreedy:
      return "epsilon_greedy";
    case PolicyKind::kFixed:
      return "fixed";
  }
  return "unknown";
}

absl::StatusOr<PolicyKind> ParsePolicyKind(absl::string_view name) {
  for (PolicyKind kind : kAllKinds) {
    if (PolicyKindName(kind) == name) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown policy \"", name,
                   "\"; expected one of thompson, top_two_thompson, epsilon_greedy, "
                   "fixed"));
}

absl::Status ValidatePolicyOptions(const PolicyOptions& options) {
  if (std::find(std::begin(kAllKinds), std::end(kAllKinds), options.kind) ==
      std::end(kAllKinds)) {
    return FieldError("kind", absl::StrCat("must be a known policy, got ",
                                           static_cast<int>(options.kind)));
  }
  // Written so that NaN fails too.
  if (!(options.epsilon >= 0.0 && options.epsilon <= 1.0)) {
    return FieldError("epsilon",
                      absl::StrCat("must be in [0, 1], got ", options.epsilon));
  }
  if (!(options.top_two_beta >= 0.0 && options.top_two_beta <= 1.0)) {
    return FieldError("top_two_beta",
                      absl::StrCat("must be in [0, 1], got ", options.top_two_beta));
  }
  return absl::OkStatus();
}

absl::Status ValidatePolicyInput(const PolicyInput& input) {
  ALLOT_RETURN_IF_ERROR(ValidatePosteriors(input.arms));
  ALLOT_RETURN_IF_ERROR(ValidateWeights("p_best", input.p_best, input.arms.size()));
  ALLOT_RETURN_IF_ERROR(
      ValidateWeights("current_weights", input.current_weights, input.arms.size()));
  ALLOT_RETURN_IF_ERROR(
      ValidateWeights("initial_weights", input.initial_weights, input.arms.size()));
  if (input.direction != Direction::kHigherIsBetter &&
      input.direction != Direction::kLowerIsBetter) {
    return absl::InvalidArgumentError(
        absl::StrCat("direction must be higher- or lower-is-better, got ",
                     static_cast<int>(input.direction)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Policy>> NewPolicy(const PolicyOptions& options) {
  ALLOT_RETURN_IF_ERROR(ValidatePolicyOptions(options));
  switch (options.kind) {
    case PolicyKind::kThompson:
      return NewThompsonPolicy();
    case PolicyKind::kTopTwoThompson:
      return NewTopTwoThompsonPolicy(options.top_two_beta);
    case PolicyKind::kEpsilonGreedy:
      return NewEpsilonGreedyPolicy(options.epsilon);
    case PolicyKind::kFixed:
      return NewFixedPolicy();
  }
  return absl::InternalError("unreachable: kind was validated");
}

std::vector<double> ShapeWeights(absl::Span<const double> target,
                                 absl::Span<const double> current, double floor,
                                 double max_shift) {
  const size_t k = target.size();
  std::vector<double> shaped(k);
  if (static_cast<double>(k) * floor >= 1.0) {
    std::fill(shaped.begin(), shaped.end(), 1.0 / static_cast<double>(k));
  } else {
    const double scale = 1.0 - static_cast<double>(k) * floor;
    for (size_t i = 0; i < k; ++i) shaped[i] = floor + scale * target[i];
  }
  const double distance = TotalVariation(current, shaped);
  if (distance > max_shift) {
    // Total variation is linear along the segment from `current`, so this
    // point is exactly max_shift away.
    const double step = max_shift / distance;
    for (size_t i = 0; i < k; ++i) {
      shaped[i] = current[i] + step * (shaped[i] - current[i]);
    }
  }
  // Rounding can leave a -1e-17 or a sum of 1 - 1e-16.
  double sum = 0.0;
  for (double& w : shaped) {
    w = std::max(w, 0.0);
    sum += w;
  }
  if (sum > 0.0) {
    for (double& w : shaped) w /= sum;
  }
  return shaped;
}

double TotalVariation(absl::Span<const double> a, absl::Span<const double> b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::fabs(a[i] - b[i]);
  return 0.5 * sum;
}

}  // namespace allot
