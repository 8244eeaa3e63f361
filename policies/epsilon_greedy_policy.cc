// Copyright 2026 The allot Authors.
//
// Epsilon-greedy: epsilon / K to every arm, and 1 - epsilon split evenly over
// the arms whose posterior mean is best.

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/metric.h"
#include "allot/policy.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"

namespace allot {
namespace {

class EpsilonGreedyPolicy final : public Policy {
 public:
  explicit EpsilonGreedyPolicy(double epsilon) : epsilon_(epsilon) {}

  PolicyKind kind() const override { return PolicyKind::kEpsilonGreedy; }

  absl::StatusOr<std::vector<double>> Target(const PolicyInput& input) const override {
    ALLOT_RETURN_IF_ERROR(ValidatePolicyInput(input));
    const size_t k = input.arms.size();
    // Means are oriented so that larger is better. Ties are exact equality:
    // arms with the same counts tie, and any tolerance would make the split
    // depend on how close "close" is.
    std::vector<double> score(k);
    for (size_t i = 0; i < k; ++i) {
      const double mean = input.arms[i].Mean();
      score[i] = input.direction == Direction::kHigherIsBetter ? mean : -mean;
    }
    double best = score[0];
    for (double s : score) best = std::max(best, s);
    size_t ties = 0;
    for (double s : score) ties += s == best ? 1 : 0;

    std::vector<double> weights(k, epsilon_ / static_cast<double>(k));
    const double greedy = (1.0 - epsilon_) / static_cast<double>(ties);
    for (size_t i = 0; i < k; ++i) {
      if (score[i] == best) weights[i] += greedy;
    }
    return weights;
  }

 private:
  double epsilon_;
};

}  // namespace

std::unique_ptr<Policy> NewEpsilonGreedyPolicy(double epsilon) {
  return std::make_unique<EpsilonGreedyPolicy>(epsilon);
}

}  // namespace allot
