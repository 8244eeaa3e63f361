// Copyright 2026 The allot Authors.
//
// Connections to the PostgreSQL store (libpqxx) and the boundary where
// libpqxx's exceptions become absl::Status. Private to src/store and its
// tests; no public header names libpqxx.
//
//   absl::StatusOr<std::unique_ptr<pqxx::connection>> c = ConnectStore(url);
//   try { ... } catch (const std::exception& e) { return StoreError("reading", e); }

#ifndef ALLOT_SRC_STORE_PG_H_
#define ALLOT_SRC_STORE_PG_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pqxx/connection"

namespace allot::store {

// Returns OK when `url` is a PostgreSQL URL allot accepts: it starts with
// postgresql:// or postgres://. Errors: InvalidArgument naming the URL
// (without its password).
absl::Status ValidateStoreUrl(absl::string_view url);

// Returns `url` with its password, if any, replaced by "***", for messages.
std::string RedactUrl(absl::string_view url);

// Opens a connection to `url`. A URL without connect_timeout gets 10
// seconds. Errors: InvalidArgument for a URL that is not PostgreSQL's;
// Unavailable when the server cannot be reached or refuses the connection,
// with libpq's reason.
absl::StatusOr<std::unique_ptr<pqxx::connection>> ConnectStore(absl::string_view url);

// Returns the Status for an exception thrown by libpqxx while `doing`
// something ("writing exposures"): Unavailable for a lost or refused
// connection (and SQLSTATE classes 08 and 57, a server shutting down),
// FailedPrecondition for SQLSTATE 42P01 (a table is missing: the schema is
// not there), Internal for any other SQL error, with its SQLSTATE and
// message.
absl::Status StoreError(absl::string_view doing, const std::exception& e);

// The two halves of a 128-bit unit fingerprint as the signed bigints the
// store keeps (the same bit patterns), and back.
inline int64_t ToBigint(uint64_t half) { return static_cast<int64_t>(half); }
inline uint64_t FromBigint(int64_t half) { return static_cast<uint64_t>(half); }

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_PG_H_
