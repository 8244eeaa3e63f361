// Copyright 2026 The allot Authors.
//
// Two small macros for code that returns absl::Status / absl::StatusOr<T>.
// Debian's Abseil 20220623 ships neither, so allot defines them once here.
//
//   absl::Status Load(absl::string_view path) {
//     ALLOT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     ALLOT_RETURN_IF_ERROR(Parse(text));
//     return absl::OkStatus();
//   }

#ifndef ALLOT_STATUS_MACROS_H_
#define ALLOT_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define ALLOT_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::absl::Status allot_status_internal_ = (expr); \
    if (!allot_status_internal_.ok()) {             \
      return allot_status_internal_;                \
    }                                               \
  } while (false)

#define ALLOT_INTERNAL_CONCAT_IMPL(a, b) a##b
#define ALLOT_INTERNAL_CONCAT(a, b) ALLOT_INTERNAL_CONCAT_IMPL(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`) or an existing variable.
#define ALLOT_ASSIGN_OR_RETURN(lhs, rexpr) \
  ALLOT_INTERNAL_ASSIGN_OR_RETURN(         \
      ALLOT_INTERNAL_CONCAT(allot_statusor_internal_, __LINE__), lhs, rexpr)

#define ALLOT_INTERNAL_ASSIGN_OR_RETURN(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) {                                       \
    return std::move(statusor).status();                      \
  }                                                           \
  lhs = std::move(statusor).value()

#endif  // ALLOT_STATUS_MACROS_H_
