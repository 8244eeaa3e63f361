// Copyright 2026 The allot Authors.
//
// The fixed-split baseline: the initial weights forever, whatever the data.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/policy.h"
#include "allot/status_macros.h"

namespace allot {
namespace {

class FixedPolicy final : public Policy {
 public:
  PolicyKind kind() const override { return PolicyKind::kFixed; }
  bool shaped() const override { return false; }

  absl::StatusOr<std::vector<double>> Target(const PolicyInput& input) const override {
    ALLOT_RETURN_IF_ERROR(ValidatePolicyInput(input));
    return std::vector<double>(input.initial_weights.begin(),
                               input.initial_weights.end());
  }
};

}  // namespace

std::unique_ptr<Policy> NewFixedPolicy() { return std::make_unique<FixedPolicy>(); }

}  // namespace allot
