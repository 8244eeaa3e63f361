// Copyright 2026 The allot Authors.
//
// ArmPosterior's moments and quantiles, and the validation every posterior
// computation runs first. Probability of being best and expected loss live in
// probability_best.cc.

#include "allot/posterior.h"

#include <cmath>
#include <exception>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "boost/math/distributions/beta.hpp"
#include "boost/math/distributions/normal.hpp"
#include "boost/math/distributions/students_t.hpp"
#include "statistics/math_policy.h"

namespace allot {
namespace {

using internal::NoThrowPolicy;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* FamilyName(PosteriorFamily family) {
  switch (family) {
    case PosteriorFamily::kBeta:
      return "beta";
    case PosteriorFamily::kNormal:
      return "normal";
    case PosteriorFamily::kStudentT:
      return "student t";
  }
  return "unknown";
}

bool IsPositiveFinite(double x) { return std::isfinite(x) && x > 0.0; }

absl::Status ValidateOne(const ArmPosterior& arm, size_t index) {
  switch (arm.family) {
    case PosteriorFamily::kBeta:
      if (!IsPositiveFinite(arm.a)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": beta posterior alpha must be finite and > 0, got ", arm.a));
      }
      if (!IsPositiveFinite(arm.b)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": beta posterior beta must be finite and > 0, got ", arm.b));
      }
      return absl::OkStatus();
    case PosteriorFamily::kNormal:
      if (!std::isfinite(arm.a)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": normal posterior mean must be finite, got ", arm.a));
      }
      if (!IsPositiveFinite(arm.b)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": normal posterior sd must be finite and > 0, got ", arm.b));
      }
      return absl::OkStatus();
    case PosteriorFamily::kStudentT:
      if (!std::isfinite(arm.a)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": student t posterior location must be finite, got ", arm.a));
      }
      if (!IsPositiveFinite(arm.b)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": student t posterior scale must be finite and > 0, got ",
            arm.b));
      }
      // NaN fails the comparison; +inf passes (the Normal limit).
      if (!(arm.df >= kMinStudentTDf)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "arm ", index, ": student t posterior df must be >= ", kMinStudentTDf,
            " or inf, got ", arm.df));
      }
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "arm ", index, ": unknown posterior family ", static_cast<int>(arm.family)));
}

// Beta arms compare only with Beta arms; Normal and Student t arms (a Normal
// is the df = inf limit of a t) with each other.
bool Comparable(PosteriorFamily x, PosteriorFamily y) {
  return (x == PosteriorFamily::kBeta) == (y == PosteriorFamily::kBeta);
}

}  // namespace

double ArmPosterior::Mean() const {
  switch (family) {
    case PosteriorFamily::kBeta:
      return a / (a + b);
    case PosteriorFamily::kNormal:
    case PosteriorFamily::kStudentT:
      return a;
  }
  return kNaN;
}

double ArmPosterior::Variance() const {
  switch (family) {
    case PosteriorFamily::kBeta: {
      const double n = a + b;
      // Written as a product of ratios so huge counts cannot overflow n^3.
      return (a / n) * (b / n) / (n + 1.0);
    }
    case PosteriorFamily::kNormal:
      return b * b;
    case PosteriorFamily::kStudentT:
      if (df == std::numeric_limits<double>::infinity()) return b * b;
      return df > 2.0 ? b * b * (df / (df - 2.0))
                      : std::numeric_limits<double>::infinity();
  }
  return kNaN;
}

double ArmPosterior::Quantile(double q) const {
  // Outside (0, 1), or for a malformed posterior, Boost returns NaN under
  // NoThrowPolicy; the explicit check keeps the contract obvious here.
  if (!(q > 0.0 && q < 1.0) || !ValidateOne(*this, 0).ok()) return kNaN;
  // NoThrowPolicy does not reach everything: Boost 1.74's root finders raise
  // some errors under the default policy (Beta(2, 1e17) at 0.025 throws
  // "Range arguments in wrong order" from newton_raphson_iterate), so the
  // boundary catches too.
  try {
    switch (family) {
      case PosteriorFamily::kBeta:
        return boost::math::quantile(
            boost::math::beta_distribution<double, NoThrowPolicy>(a, b), q);
      case PosteriorFamily::kNormal:
        return boost::math::quantile(
            boost::math::normal_distribution<double, NoThrowPolicy>(a, b), q);
      case PosteriorFamily::kStudentT:
        if (df == std::numeric_limits<double>::infinity()) {
          return boost::math::quantile(
              boost::math::normal_distribution<double, NoThrowPolicy>(a, b), q);
        }
        return a +
               b * boost::math::quantile(
                       boost::math::students_t_distribution<double, NoThrowPolicy>(df),
                       q);
    }
  } catch (const std::exception&) {
    return kNaN;
  }
  return kNaN;
}

absl::Status ValidatePosteriors(absl::Span<const ArmPosterior> arms) {
  if (arms.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("need at least 2 arms, got ", arms.size()));
  }
  for (size_t i = 0; i < arms.size(); ++i) {
    absl::Status status = ValidateOne(arms[i], i);
    if (!status.ok()) return status;
    if (!Comparable(arms[i].family, arms[0].family)) {
      return absl::InvalidArgumentError(
          absl::StrCat("arm ", i, ": posterior family ", FamilyName(arms[i].family),
                       " differs from arm 0's family ", FamilyName(arms[0].family)));
    }
  }
  return absl::OkStatus();
}

}  // namespace allot
