// Copyright 2026 The allot Authors.
//
// RFC 3339 times and Go-style durations, as every allot file and command line
// writes them ("2026-01-02T06:00:00Z", "24h", "90m").

#ifndef ALLOT_TIME_FORMAT_H_
#define ALLOT_TIME_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace allot {

// Returns the time written in RFC 3339 (with a zone offset or Z; fractional
// seconds allowed). Errors: InvalidArgument naming `field` and the text.
absl::StatusOr<absl::Time> ParseTime(absl::string_view field, absl::string_view text);

// Returns `t` in RFC 3339, UTC, with fractional seconds only when present.
std::string FormatRfc3339(absl::Time t);

// Returns the duration written as absl::ParseDuration accepts it ("24h",
// "1h30m", "90s"); a trailing "d" counts days ("14d"). Errors:
// InvalidArgument naming `field` and the text.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view field,
                                             absl::string_view text);

// Returns `d` as ParseDuration reads it back ("72h", "1h30m").
std::string FormatDuration(absl::Duration d);

}  // namespace allot

#endif  // ALLOT_TIME_FORMAT_H_
