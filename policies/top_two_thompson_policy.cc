// Copyright 2026 The allot Authors.
//
// Russo's top-two Thompson sampling (2016), as the exact probability with
// which it plays each arm. The procedure: draw a leader I from P(best); with
// probability beta play it, otherwise redraw until the winner J differs from
// I and play J. So P(play i) = beta p_i + (1 - beta) sum_{j != i} p_j q_ij,
// where q_ij = p_i / (1 - p_j) is the chance that the redraw settles on i.
//
// 1 - p_j is computed as the sum of the other arms' probabilities, which
// equals it but keeps its relative precision when p_j is within rounding of
// 1. Only when every other arm's P(best) is exactly 0 (the quadrature reports
// exactly 0 for arms that cannot be best to within ~1e-15) is q_ij undefined;
// then the redraw in the limit settles on the runner-up, which we take to be
// the other arm with the best posterior mean (exact ties share evenly).

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "allot/metric.h"
#include "allot/policy.h"
#include "allot/posterior.h"
#include "allot/status_macros.h"

namespace allot {
namespace {

class TopTwoThompsonPolicy final : public Policy {
 public:
  explicit TopTwoThompsonPolicy(double beta) : beta_(beta) {}

  PolicyKind kind() const override { return PolicyKind::kTopTwoThompson; }

  absl::StatusOr<std::vector<double>> Target(const PolicyInput& input) const override {
    ALLOT_RETURN_IF_ERROR(ValidatePolicyInput(input));
    const absl::Span<const double> p = input.p_best;
    const size_t k = p.size();
    // others[j] = sum_{i != j} p_i, from prefix and suffix sums.
    std::vector<double> others(k, 0.0);
    double running = 0.0;
    for (size_t j = 0; j < k; ++j) {
      others[j] = running;
      running += p[j];
    }
    running = 0.0;
    for (size_t j = k; j-- > 0;) {
      others[j] += running;
      running += p[j];
    }

    std::vector<double> play(k);
    for (size_t i = 0; i < k; ++i) play[i] = beta_ * p[i];
    for (size_t j = 0; j < k; ++j) {
      const double challenger_share = (1.0 - beta_) * p[j];
      if (challenger_share == 0.0) continue;
      if (others[j] > 0.0) {
        // O(K^2), but without the cancellation of sum_j minus the i-th term.
        for (size_t i = 0; i < k; ++i) {
          if (i != j) play[i] += challenger_share * p[i] / others[j];
        }
      } else {
        GiveToRunnerUp(input, j, challenger_share, &play);
      }
    }
    double sum = 0.0;
    for (double w : play) sum += w;
    for (double& w : play) w /= sum;
    return play;
  }

 private:
  // Splits `share` over the arms other than `leader` with the best posterior
  // mean.
  static void GiveToRunnerUp(const PolicyInput& input, size_t leader, double share,
                             std::vector<double>* play) {
    const bool higher = input.direction == Direction::kHigherIsBetter;
    auto score = [&](size_t i) {
      return higher ? input.arms[i].Mean() : -input.arms[i].Mean();
    };
    bool found = false;
    double best = 0.0;
    size_t ties = 0;
    for (size_t i = 0; i < input.arms.size(); ++i) {
      if (i == leader) continue;
      const double s = score(i);
      if (!found || s > best) {
        found = true;
        best = s;
        ties = 1;
      } else if (s == best) {
        ++ties;
      }
    }
    for (size_t i = 0; i < input.arms.size(); ++i) {
      if (i != leader && score(i) == best) {
        (*play)[i] += share / static_cast<double>(ties);
      }
    }
  }

  double beta_;
};

}  // namespace

std::unique_ptr<Policy> NewTopTwoThompsonPolicy(double beta) {
  return std::make_unique<TopTwoThompsonPolicy>(beta);
}

}  // namespace allot
