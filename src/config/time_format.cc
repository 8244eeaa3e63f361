// Copyright 2026 The allot Authors.

#include "allot/time_format.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "allot/field_error.h"

namespace allot {

absl::StatusOr<absl::Time> ParseTime(absl::string_view field, absl::string_view text) {
  absl::Time t;
  std::string error;
  // absl::ParseTime also takes "infinite-future" and "infinite-past", which
  // are not RFC 3339.
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &error) ||
      t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be an RFC 3339 time like ",
                     "2026-01-02T06:00:00Z, got ", QuoteId(text)));
  }
  return t;
}

std::string FormatRfc3339(absl::Time t) {
  // RFC3339_full would write UTC as "+00:00"; allot's files write "Z".
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view field,
                                             absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  absl::Duration d;
  bool ok = false;
  if (!s.empty() && s.back() == 'd') {
    double days = 0;
    ok = absl::SimpleAtod(s.substr(0, s.size() - 1), &days) && std::isfinite(days);
    if (ok) d = absl::Hours(24) * days;
    // Days beyond Duration's range saturate to infinity, which "inf" refuses.
    ok = ok && d != absl::InfiniteDuration() && d != -absl::InfiniteDuration();
  } else {
    ok = absl::ParseDuration(s, &d) && d != absl::InfiniteDuration() &&
         d != -absl::InfiniteDuration();
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a duration like \"24h\", \"90m\" or ",
                     "\"14d\", got ", QuoteId(text)));
  }
  return d;
}

std::string FormatDuration(absl::Duration d) { return absl::FormatDuration(d); }

}  // namespace allot
