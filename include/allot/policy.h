// Copyright 2026 The allot Authors.
//
// Allocation policies: how an experiment turns its arms' posteriors into
// traffic weights at a reallocation, and the shaping (floor, cap on movement)
// applied after every policy.
//
//   absl::StatusOr<std::unique_ptr<allot::Policy>> policy =
//       allot::NewPolicy({.kind = allot::PolicyKind::kThompson});
//   absl::StatusOr<std::vector<double>> p_best =
//       allot::ProbabilityBest(posteriors, allot::Direction::kHigherIsBetter, 7);
//   allot::PolicyInput input = {.arms = posteriors,
//                               .p_best = *p_best,
//                               .current_weights = current,
//                               .initial_weights = initial,
//                               .direction = allot::Direction::kHigherIsBetter};
//   absl::StatusOr<std::vector<double>> target = (*policy)->Target(input);
//   std::vector<double> next =
//       (*policy)->shaped() ? allot::ShapeWeights(*target, current,
//                                                 /*floor=*/0.01,
//                                                 /*max_shift=*/1.0)
//                           : *target;

#ifndef ALLOT_POLICY_H_
#define ALLOT_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "allot/metric.h"
#include "allot/posterior.h"

namespace allot {

enum class PolicyKind { kThompson, kTopTwoThompson, kEpsilonGreedy, kFixed };

// Returns the name used in files and on the command line: "thompson",
// "top_two_thompson", "epsilon_greedy", "fixed".
absl::string_view PolicyKindName(PolicyKind kind);
// Parses such a name. Errors: InvalidArgument naming the unknown value.
absl::StatusOr<PolicyKind> ParsePolicyKind(absl::string_view name);

// Options of a policy. Every field has a default.
struct PolicyOptions {
  PolicyKind kind = PolicyKind::kThompson;
  // epsilon_greedy: share of traffic spread evenly over all arms, in [0, 1].
  double epsilon = 0.1;
  // top_two_thompson: probability of playing the leader, in [0, 1].
  double top_two_beta = 0.5;
};

// Returns OK, or InvalidArgument naming the field and value
// ("epsilon must be in [0, 1], got 1.5").
absl::Status ValidatePolicyOptions(const PolicyOptions& options);

// What a policy sees at a reallocation. The spans must outlive the call.
struct PolicyInput {
  absl::Span<const ArmPosterior> arms;
  // Each arm's posterior probability of being best: ProbabilityBest of
  // `arms` and `direction`, computed once per reallocation (the report
  // shows the same figures).
  absl::Span<const double> p_best;
  // The weights in force now and those the experiment started with; both have
  // one entry per arm and sum to 1.
  absl::Span<const double> current_weights;
  absl::Span<const double> initial_weights;
  Direction direction = Direction::kHigherIsBetter;
};

// Returns OK when `input` is well formed: at least two arms, valid posteriors
// (see ValidatePosteriors), and p_best, current and initial weights with one
// entry per arm, each finite and >= 0, summing to 1 within 1e-6. Otherwise
// InvalidArgument naming the field, the arm and the value. Every policy's
// Target runs this first.
absl::Status ValidatePolicyInput(const PolicyInput& input);

// A policy maps posteriors to target traffic weights. Implementations are
// immutable; safe to share across threads.
class Policy {
 public:
  virtual ~Policy() = default;

  virtual PolicyKind kind() const = 0;

  // Whether the floor and the cap on movement (ShapeWeights) apply to the
  // target. True for every policy but the fixed split, whose target is the
  // weights themselves.
  virtual bool shaped() const { return true; }

  // Returns the target weights, one per arm, non-negative and summing to 1,
  // before shaping. Errors: InvalidArgument when the input is malformed
  // (fewer than two arms, spans of different lengths, bad posteriors).
  virtual absl::StatusOr<std::vector<double>> Target(const PolicyInput& input) const = 0;
};

// Returns a policy for `options`. Errors: InvalidArgument as
// ValidatePolicyOptions.
absl::StatusOr<std::unique_ptr<Policy>> NewPolicy(const PolicyOptions& options);

// Weight = posterior probability of being best.
std::unique_ptr<Policy> NewThompsonPolicy();
// Russo's top-two Thompson sampling, as the exact probability of playing each
// arm: beta p_i + (1 - beta) p_i sum_{j != i} p_j / (1 - p_j). When one arm
// has P(best) exactly 1, its challenger is the other arm with the best
// posterior mean (exact ties share evenly).
// REQUIRES: 0 <= beta <= 1.
std::unique_ptr<Policy> NewTopTwoThompsonPolicy(double beta);
// epsilon / K to every arm, plus 1 - epsilon split evenly over the arms with
// the best posterior mean. REQUIRES: 0 <= epsilon <= 1.
std::unique_ptr<Policy> NewEpsilonGreedyPolicy(double epsilon);
// The initial weights forever: the fixed-split baseline.
std::unique_ptr<Policy> NewFixedPolicy();

// Shapes a policy's target: first the additive floor
// w_i = floor + (1 - K floor) target_i (uniform when K floor >= 1, which
// ValidateExperimentConfig and `allot weights` refuse), then the cap: when
// the total-variation distance from `current` exceeds `max_shift`, moves
// only that far along the line from `current` toward the floored target.
// Returns weights summing to 1.
// REQUIRES: target and current have the same size K >= 2 and sum to 1;
// floor >= 0; 0 <= max_shift <= 1.
std::vector<double> ShapeWeights(absl::Span<const double> target,
                                 absl::Span<const double> current, double floor,
                                 double max_shift);

// Returns the total-variation distance 0.5 * sum |a_i - b_i|.
// REQUIRES: a.size() == b.size().
double TotalVariation(absl::Span<const double> a, absl::Span<const double> b);

}  // namespace allot

#endif  // ALLOT_POLICY_H_
