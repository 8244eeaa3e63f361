// Copyright 2026 The allot Authors.
//
// The Boost.Math error policy of allot's statistics. Boost.Math throws on a
// bad argument unless told otherwise; with this policy a bad argument
// returns NaN (or an infinity at a pole), so no exception can leave the
// library. (Boost 1.74's inverse incomplete beta can still throw from its
// root finder; ArmPosterior::Quantile catches that at the boundary.)

#ifndef ALLOT_SRC_STATISTICS_MATH_POLICY_H_
#define ALLOT_SRC_STATISTICS_MATH_POLICY_H_

#include "boost/math/policies/policy.hpp"

namespace allot::internal {

using NoThrowPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::rounding_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_double<false>>;

}  // namespace allot::internal

#endif  // ALLOT_SRC_STATISTICS_MATH_POLICY_H_
