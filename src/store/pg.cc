// Copyright 2026 The allot Authors.

#include "store/pg.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pqxx/except"

namespace allot::store {
namespace {

// libpq's messages span lines ("...refused\n\tIs the server running..."):
// one line for logs, /healthz and metrics.
std::string OneLine(const char* what) {
  std::string text;
  bool space = false;
  for (const char c : absl::StripAsciiWhitespace(what)) {
    if (c == '\n' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !text.empty()) text.push_back(' ');
    space = false;
    text.push_back(c);
  }
  return text;
}

}  // namespace

absl::Status ValidateStoreUrl(absl::string_view url) {
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "store must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE), got \"",
      RedactUrl(url), "\""));
}

std::string RedactUrl(absl::string_view url) {
  // scheme://user:password@host...: the password is between the first ':'
  // after the scheme and the last '@' before the path.
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return std::string(url);
  const size_t start = scheme + 3;
  const size_t path = url.find('/', start);
  const absl::string_view authority = url.substr(
      start, path == absl::string_view::npos ? absl::string_view::npos : path - start);
  const size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  const size_t colon = authority.substr(0, at).find(':');
  if (colon == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, start + colon + 1), "***", url.substr(start + at));
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> ConnectStore(absl::string_view url) {
  if (absl::Status s = ValidateStoreUrl(url); !s.ok()) return s;
  std::string target(url);
  if (!absl::StrContains(target, "connect_timeout=")) {
    absl::StrAppend(&target, absl::StrContains(target, "?") ? "&" : "?",
                    "connect_timeout=10");
  }
  try {
    return std::make_unique<pqxx::connection>(target);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", RedactUrl(url), ": ", OneLine(e.what())));
  }
}

absl::Status StoreError(absl::string_view doing, const std::exception& e) {
  const std::string what = OneLine(e.what());
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat(doing, ": connection lost: ", what));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57")) {
      return absl::UnavailableError(
          absl::StrCat(doing, ": ", what, " (SQLSTATE ", state, ")"));
    }
    if (state == "42P01") {
      return absl::FailedPreconditionError(absl::StrCat(
          doing, ": ", what,
          " (SQLSTATE 42P01; is the schema there? allot store init --store URL)"));
    }
    return absl::InternalError(
        absl::StrCat(doing, ": ", what, " (SQLSTATE ", state, ")"));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(
        absl::StrCat(doing, ": connection lost during commit: ", what));
  }
  return absl::InternalError(absl::StrCat(doing, ": ", what));
}

}  // namespace allot::store
