// Copyright 2026 The allot Authors.
//
// Thompson sampling as exact probabilities: each arm's weight is its
// posterior probability of being best, the long-run share Thompson sampling
// would give it at this reallocation.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/policy.h"
#include "allot/status_macros.h"

namespace allot {
namespace {

class ThompsonPolicy final : public Policy {
 public:
  PolicyKind kind() const override { return PolicyKind::kThompson; }

  absl::StatusOr<std::vector<double>> Target(const PolicyInput& input) const override {
    ALLOT_RETURN_IF_ERROR(ValidatePolicyInput(input));
    return std::vector<double>(input.p_best.begin(), input.p_best.end());
  }
};

}  // namespace

std::unique_ptr<Policy> NewThompsonPolicy() { return std::make_unique<ThompsonPolicy>(); }

}  // namespace allot
