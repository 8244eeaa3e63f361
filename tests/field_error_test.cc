// Copyright 2026 The allot Authors.

#include "allot/field_error.h"

#include "allot/experiment_config.h"
#include "allot/policy.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

TEST(FieldErrorTest, CarriesTheFieldPathBesideTheMessage) {
  const absl::Status s = FieldError("arms[1].weight", "must be positive, got -1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "arms[1].weight must be positive, got -1");
  EXPECT_EQ(ErrorField(s), "arms[1].weight");
  EXPECT_EQ(ErrorField(absl::InvalidArgumentError("arms[1].weight text")), "");
  EXPECT_EQ(ErrorField(absl::OkStatus()), "");
}

TEST(FieldErrorTest, RenameFieldRewritesPathAndMessage) {
  const absl::Status s = FieldError("policy.epsilon", "must be in [0, 1], got 2");
  const absl::Status r = RenameField(s, "policy.", "policies[2].");
  EXPECT_EQ(r.message(), "policies[2].epsilon must be in [0, 1], got 2");
  EXPECT_EQ(ErrorField(r), "policies[2].epsilon");
  EXPECT_EQ(RenameField(s, "schedule.", "x."), s);
  const absl::Status p = RenameField(FieldError("epsilon", "bad"), "", "policy.");
  EXPECT_EQ(p.message(), "policy.epsilon bad");
  EXPECT_EQ(ErrorField(p), "policy.epsilon");
}

TEST(FieldErrorTest, ValidationNamesTheFieldInThePayload) {
  ExperimentConfig c;
  c.id = "exp";
  c.arms = {{"a", 1}, {"b", 1}};
  c.policy.epsilon = 1.5;
  EXPECT_EQ(ErrorField(ValidateExperimentConfig(c)), "policy.epsilon");
  c.policy.epsilon = 0.1;
  c.arms[1].weight = -1;
  EXPECT_EQ(ErrorField(ValidateExperimentConfig(c)), "arms[1].weight");
  EXPECT_EQ(ErrorField(ValidatePolicyOptions({.top_two_beta = 2})), "top_two_beta");
}

}  // namespace
}  // namespace allot
