// Copyright 2026 The allot Authors.

#include "allot/policy.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allot/metric.h"
#include "allot/posterior.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

// Matches a vector of doubles elementwise within `tolerance`.
auto Near(std::vector<double> expected, double tolerance = 1e-15) {
  return Pointwise(DoubleNear(tolerance), std::move(expected));
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

std::unique_ptr<Policy> MakePolicy(const PolicyOptions& options) {
  absl::StatusOr<std::unique_ptr<Policy>> policy = NewPolicy(options);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : nullptr;
}

// Holds the arrays a PolicyInput points into.
struct Input {
  explicit Input(std::vector<ArmPosterior> posteriors,
                 Direction direction = Direction::kHigherIsBetter)
      : arms(std::move(posteriors)),
        current(arms.size(), 1.0 / static_cast<double>(arms.size())),
        initial(current) {
    // Malformed posteriors (tests of validation) have no P(best).
    p_best = ProbabilityBest(arms, direction, /*seed=*/7)
                 .value_or(std::vector<double>(arms.size(), 1.0 / arms.size()));
    input.arms = arms;
    input.p_best = p_best;
    input.current_weights = current;
    input.initial_weights = initial;
    input.direction = direction;
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  std::vector<ArmPosterior> arms;
  std::vector<double> current;
  std::vector<double> initial;
  std::vector<double> p_best;
  PolicyInput input;
};

std::vector<double> TargetOf(const Policy& policy, const PolicyInput& input) {
  absl::StatusOr<std::vector<double>> target = policy.Target(input);
  EXPECT_TRUE(target.ok()) << target.status();
  return target.ok() ? *target : std::vector<double>();
}

TEST(PolicyOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidatePolicyOptions(PolicyOptions()).ok());
}

TEST(PolicyOptionsTest, RejectsEpsilonOutsideUnitInterval) {
  for (const auto& [epsilon, text] :
       {std::pair{1.5, "epsilon must be in [0, 1], got 1.5"},
        std::pair{-0.1, "epsilon must be in [0, 1], got -0.1"},
        std::pair{kNaN, "epsilon must be in [0, 1], got nan"}}) {
    const PolicyOptions options = {.kind = PolicyKind::kEpsilonGreedy,
                                   .epsilon = epsilon};
    const absl::Status status = ValidatePolicyOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), text);
    EXPECT_EQ(NewPolicy(options).status(), status);
  }
}

TEST(PolicyOptionsTest, RejectsTopTwoBetaOutsideUnitInterval) {
  for (double beta : {-0.5, 1.01, kNaN}) {
    const PolicyOptions options = {.kind = PolicyKind::kTopTwoThompson,
                                   .top_two_beta = beta};
    const absl::Status status = NewPolicy(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("top_two_beta must be in [0, 1]"));
  }
  const absl::Status status =
      ValidatePolicyOptions({.kind = PolicyKind::kTopTwoThompson, .top_two_beta = 1.01});
  EXPECT_EQ(status.message(), "top_two_beta must be in [0, 1], got 1.01");
}

TEST(PolicyOptionsTest, RejectsUnknownKind) {
  const absl::Status status = ValidatePolicyOptions({.kind = static_cast<PolicyKind>(9)});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("got 9"));
}

TEST(PolicyKindTest, NamesRoundTrip) {
  for (PolicyKind kind : {PolicyKind::kThompson, PolicyKind::kTopTwoThompson,
                          PolicyKind::kEpsilonGreedy, PolicyKind::kFixed}) {
    absl::StatusOr<PolicyKind> parsed = ParsePolicyKind(PolicyKindName(kind));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kind);
    EXPECT_EQ(MakePolicy({.kind = kind})->kind(), kind);
  }
  EXPECT_EQ(PolicyKindName(PolicyKind::kTopTwoThompson), "top_two_thompson");
  EXPECT_EQ(PolicyKindName(PolicyKind::kEpsilonGreedy), "epsilon_greedy");
}

TEST(PolicyKindTest, RejectsUnknownName) {
  const absl::StatusOr<PolicyKind> parsed = ParsePolicyKind("thompsen");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("\"thompsen\""));
  EXPECT_THAT(parsed.status().message(), HasSubstr("top_two_thompson"));
  EXPECT_FALSE(ParsePolicyKind("").ok());
  EXPECT_FALSE(ParsePolicyKind("Thompson").ok());
}

TEST(PolicyTargetTest, EveryPolicyRejectsMalformedInput) {
  for (PolicyKind kind : {PolicyKind::kThompson, PolicyKind::kTopTwoThompson,
                          PolicyKind::kEpsilonGreedy, PolicyKind::kFixed}) {
    const std::unique_ptr<Policy> policy = MakePolicy({.kind = kind});
    auto expect_rejected = [&](const PolicyInput& input, const char* text) {
      const absl::Status status = policy->Target(input).status();
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
          << PolicyKindName(kind) << ": " << text;
      EXPECT_THAT(status.message(), HasSubstr(text)) << PolicyKindName(kind);
    };
    {
      Input one({ArmPosterior::Beta(1, 1)});
      expect_rejected(one.input, "at least 2 arms, got 1");
    }
    {
      Input bad({ArmPosterior::Beta(1, 1), ArmPosterior::Beta(1, -3)});
      expect_rejected(bad.input, "arm 1: beta posterior beta");
    }
    Input good({ArmPosterior::Beta(3, 9), ArmPosterior::Beta(4, 8)});
    const std::vector<double> three = {0.2, 0.3, 0.5};
    PolicyInput input = good.input;
    input.current_weights = three;
    expect_rejected(input, "current_weights must have one entry per arm (2)");
    input = good.input;
    input.initial_weights = three;
    expect_rejected(input, "initial_weights must have one entry per arm (2)");
    const std::vector<double> negative = {1.5, -0.5};
    input = good.input;
    input.current_weights = negative;
    expect_rejected(input, "current_weights[1] must be finite and >= 0, got -0.5");
    const std::vector<double> nan = {kNaN, 0.5};
    input = good.input;
    input.initial_weights = nan;
    expect_rejected(input, "initial_weights[0] must be finite and >= 0, got nan");
    const std::vector<double> short_sum = {0.5, 0.4};
    input = good.input;
    input.current_weights = short_sum;
    expect_rejected(input, "current_weights must sum to 1, got 0.9");
    EXPECT_TRUE(policy->Target(good.input).ok());
  }
}

TEST(ThompsonPolicyTest, TargetIsProbabilityBest) {
  Input in({ArmPosterior::Beta(11, 91), ArmPosterior::Beta(21, 81),
            ArmPosterior::Beta(15, 85)});
  const std::vector<double> target = TargetOf(*NewThompsonPolicy(), in.input);
  const absl::StatusOr<std::vector<double>> p =
      ProbabilityBest(in.arms, Direction::kHigherIsBetter, 7);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(target, *p);
}

TEST(EpsilonGreedyPolicyTest, GivesTheRestToTheBestMean) {
  Input in({ArmPosterior::Beta(10, 90), ArmPosterior::Beta(20, 80),
            ArmPosterior::Beta(15, 85)});
  EXPECT_THAT(TargetOf(*NewEpsilonGreedyPolicy(0.1), in.input),
              Near({0.1 / 3, 0.1 / 3 + 0.9, 0.1 / 3}));
  EXPECT_THAT(TargetOf(*NewEpsilonGreedyPolicy(0.0), in.input),
              ElementsAre(0.0, 1.0, 0.0));
  EXPECT_THAT(TargetOf(*NewEpsilonGreedyPolicy(1.0), in.input),
              Near({1.0 / 3, 1.0 / 3, 1.0 / 3}));
}

TEST(EpsilonGreedyPolicyTest, SplitsTiesAndHonoursDirection) {
  // 20/100 and 40/200 are the same double: a tie.
  Input tie({ArmPosterior::Beta(20, 80), ArmPosterior::Beta(10, 90),
             ArmPosterior::Beta(40, 160), ArmPosterior::Beta(5, 95)});
  EXPECT_THAT(TargetOf(*NewEpsilonGreedyPolicy(0.2), tie.input),
              Near({0.05 + 0.4, 0.05, 0.05 + 0.4, 0.05}));
  Input lower({ArmPosterior::Normal(3, 1), ArmPosterior::Normal(1, 5),
               ArmPosterior::Normal(2, 0.1)},
              Direction::kLowerIsBetter);
  EXPECT_THAT(TargetOf(*NewEpsilonGreedyPolicy(0.3), lower.input), Near({0.1, 0.8, 0.1}));
}

TEST(TopTwoThompsonPolicyTest, MatchesItsFormula) {
  Input in({ArmPosterior::Beta(11, 91), ArmPosterior::Beta(21, 81),
            ArmPosterior::Beta(19, 83), ArmPosterior::Beta(15, 85)});
  const std::vector<double> p = *ProbabilityBest(in.arms, Direction::kHigherIsBetter, 7);
  for (double beta : {0.0, 0.3, 0.5, 1.0}) {
    const std::vector<double> target = TargetOf(*NewTopTwoThompsonPolicy(beta), in.input);
    ASSERT_EQ(target.size(), p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      double challenger = 0.0;
      for (size_t j = 0; j < p.size(); ++j) {
        if (j != i) challenger += p[j] / (1 - p[j]);
      }
      EXPECT_NEAR(target[i], beta * p[i] + (1 - beta) * p[i] * challenger, 1e-12)
          << "beta " << beta << " arm " << i;
    }
    EXPECT_NEAR(Sum(target), 1.0, 1e-14);
  }
  // With two arms and beta = 0 every play goes to the challenger.
  Input two({ArmPosterior::Beta(11, 91), ArmPosterior::Beta(21, 81)});
  const std::vector<double> p2 =
      *ProbabilityBest(two.arms, Direction::kHigherIsBetter, 7);
  EXPECT_THAT(TargetOf(*NewTopTwoThompsonPolicy(0.0), two.input),
              Near({p2[1], p2[0]}, 1e-12));
}

// Simulates the procedure itself: draw a leader from the posteriors; with
// probability beta play it, else redraw until another arm wins and play that.
// 10^6 plays: five binomial standard errors are at most 2.5e-3 (the formula
// is exact, so this checks that it describes the procedure).
TEST(TopTwoThompsonPolicyTest, MatchesSimulatedProcedure) {
  Input in({ArmPosterior::Normal(1.0, 0.3), ArmPosterior::Normal(1.2, 0.4),
            ArmPosterior::Normal(0.9, 0.2), ArmPosterior::Normal(1.1, 0.1)});
  constexpr double kBeta = 0.4;
  constexpr int kPlays = 1'000'000;
  std::mt19937_64 engine(11);
  std::normal_distribution<double> z;
  std::bernoulli_distribution play_leader(kBeta);
  auto winner = [&] {
    size_t best = 0;
    double best_value = -INFINITY;
    for (size_t j = 0; j < in.arms.size(); ++j) {
      const double value = in.arms[j].a + in.arms[j].b * z(engine);
      if (value > best_value) {
        best_value = value;
        best = j;
      }
    }
    return best;
  };
  std::vector<double> plays(in.arms.size(), 0.0);
  for (int n = 0; n < kPlays; ++n) {
    const size_t leader = winner();
    size_t played = leader;
    if (!play_leader(engine)) {
      while (played == leader) played = winner();
    }
    plays[played] += 1.0;
  }
  const std::vector<double> target = TargetOf(*NewTopTwoThompsonPolicy(kBeta), in.input);
  for (size_t i = 0; i < plays.size(); ++i) {
    const double share = plays[i] / kPlays;
    EXPECT_NEAR(target[i], share, 5 * std::sqrt(share * (1 - share) / kPlays)) << i;
  }
}

TEST(TopTwoThompsonPolicyTest, CertainLeaderPassesToTheRunnerUp) {
  // Arm 0 is best with probability 1 to double precision; arms 1 and 2
  // can never be; the runner-up by posterior mean is arm 2.
  Input in({ArmPosterior::Beta(1000, 1), ArmPosterior::Beta(1, 1000),
            ArmPosterior::Beta(1, 999)});
  const std::vector<double> target = TargetOf(*NewTopTwoThompsonPolicy(0.5), in.input);
  EXPECT_THAT(target, Near({0.5, 0.0, 0.5}));
  // Lower is better: now arms 1 and 2 lead; no NaN either way.
  Input lower({ArmPosterior::Beta(1000, 1), ArmPosterior::Beta(1, 1000),
               ArmPosterior::Beta(1, 999)},
              Direction::kLowerIsBetter);
  const std::vector<double> lower_target =
      TargetOf(*NewTopTwoThompsonPolicy(0.5), lower.input);
  for (double w : lower_target) EXPECT_TRUE(w >= 0.0 && w <= 1.0) << w;
  EXPECT_NEAR(Sum(lower_target), 1.0, 1e-14);
  EXPECT_LT(lower_target[0], 1e-12);
}

TEST(FixedPolicyTest, ReturnsInitialWeights) {
  Input in(
      {ArmPosterior::Beta(1, 100), ArmPosterior::Beta(50, 50), ArmPosterior::Beta(2, 3)});
  in.initial = {0.5, 0.25, 0.25};
  in.input.initial_weights = in.initial;
  EXPECT_EQ(TargetOf(*NewFixedPolicy(), in.input), in.initial);
}

TEST(ShapeWeightsTest, AppliesTheAdditiveFloor) {
  const std::vector<double> target = {0.7, 0.2, 0.1};
  const std::vector<double> current = {0.3, 0.3, 0.4};
  // w = f + (1 - K f) p.
  EXPECT_THAT(ShapeWeights(target, current, 0.05, 1.0),
              Near({0.05 + 0.85 * 0.7, 0.05 + 0.85 * 0.2, 0.05 + 0.85 * 0.1}));
  EXPECT_THAT(ShapeWeights(target, current, 0.0, 1.0), Near(target));
}

TEST(ShapeWeightsTest, UniformWhenFloorCoversEverything) {
  const std::vector<double> target = {1.0, 0.0, 0.0, 0.0};
  const std::vector<double> current = {0.25, 0.25, 0.25, 0.25};
  for (double floor : {0.25, 0.3, 1.0}) {
    EXPECT_THAT(ShapeWeights(target, current, floor, 1.0), Near(current)) << floor;
  }
}

TEST(ShapeWeightsTest, CapMovesExactlyMaxShiftAlongTheLine) {
  const std::vector<double> target = {1.0, 0.0, 0.0};
  const std::vector<double> current = {0.2, 0.5, 0.3};
  const double floor = 0.01;
  const std::vector<double> floored = ShapeWeights(target, current, floor, 1);
  for (double cap : {0.0, 0.05, 0.3}) {
    const std::vector<double> shaped = ShapeWeights(target, current, floor, cap);
    EXPECT_NEAR(TotalVariation(current, shaped), cap, 1e-14) << cap;
    EXPECT_NEAR(Sum(shaped), 1.0, 1e-15);
    // On the segment: shaped = current + s (floored - current), one s.
    const double s = cap / TotalVariation(current, floored);
    for (size_t i = 0; i < shaped.size(); ++i) {
      EXPECT_NEAR(shaped[i], current[i] + s * (floored[i] - current[i]), 1e-15);
    }
  }
  // A cap the move already satisfies changes nothing.
  EXPECT_THAT(ShapeWeights(target, current, floor, 1.0), Near(floored, 0.0));
  EXPECT_THAT(ShapeWeights(target, current, floor, 0.8), Near(floored, 0.0));
}

TEST(ShapeWeightsTest, ResultIsADistribution) {
  std::mt19937_64 engine(3);
  std::gamma_distribution<double> gamma(0.3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> target(7), current(7);
    for (double& w : target) w = gamma(engine);
    for (double& w : current) w = gamma(engine);
    const double t = Sum(target), c = Sum(current);
    for (double& w : target) w /= t;
    for (double& w : current) w /= c;
    const std::vector<double> shaped = ShapeWeights(target, current, 0.02, 0.1);
    EXPECT_NEAR(Sum(shaped), 1.0, 1e-15);
    for (double w : shaped) EXPECT_GE(w, 0.0);
    EXPECT_LE(TotalVariation(current, shaped), 0.1 + 1e-15);
  }
}

TEST(TotalVariationTest, IsHalfTheL1Distance) {
  const std::vector<double> a = {0.5, 0.5, 0.0};
  const std::vector<double> b = {1.0, 0.0, 0.0};
  const std::vector<double> c = {0.2, 0.3, 0.5};
  EXPECT_DOUBLE_EQ(TotalVariation(a, b), 0.5);
  EXPECT_DOUBLE_EQ(TotalVariation(b, a), 0.5);
  EXPECT_DOUBLE_EQ(TotalVariation(a, a), 0.0);
  EXPECT_DOUBLE_EQ(TotalVariation(a, c), 0.5);
  EXPECT_DOUBLE_EQ(TotalVariation(b, c), 0.8);
}

}  // namespace
}  // namespace allot
