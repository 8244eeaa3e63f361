// Copyright 2026 The allot Authors.

#include "statistics/sample_ratio.h"

#include <algorithm>
#include <cmath>

#include "boost/math/special_functions/gamma.hpp"
#include "statistics/math_policy.h"

namespace allot::internal {

double SampleRatioPValue(const std::vector<std::vector<int64_t>>& exposures,
                         const std::vector<std::vector<double>>& shares) {
  double chi2 = 0;
  int64_t df = 0;
  const size_t epochs = std::min(exposures.size(), shares.size());
  for (size_t e = 0; e < epochs; ++e) {
    int64_t total = 0;
    for (int64_t n : exposures[e]) total += n;
    if (total == 0) continue;
    int positive = 0;
    for (size_t a = 0; a < exposures[e].size(); ++a) {
      const double share = shares[e][a];
      if (share <= 0) {
        if (exposures[e][a] > 0) return 0.0;
        continue;
      }
      ++positive;
      const double expected = share * static_cast<double>(total);
      const double d = static_cast<double>(exposures[e][a]) - expected;
      chi2 += d * d / expected;
    }
    df += std::max(positive - 1, 0);
  }
  if (df == 0) return 1.0;
  if (!(chi2 >= 0) || !std::isfinite(chi2)) return chi2 == INFINITY ? 0.0 : NAN;
  return boost::math::gamma_q(static_cast<double>(df) / 2, chi2 / 2, NoThrowPolicy());
}

}  // namespace allot::internal
