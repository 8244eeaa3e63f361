// Copyright 2026 The allot Authors.
//
// The store's connection helpers without a server: URL checks, passwords
// kept out of messages, libpqxx's exceptions as Status, fingerprint halves
// as bigints.

#include "store/pg.h"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/except"

namespace allot::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StorePgTest, AcceptsOnlyPostgresqlUrls) {
  EXPECT_TRUE(ValidateStoreUrl("postgresql://u@h:5432/db").ok());
  EXPECT_TRUE(ValidateStoreUrl("postgres://h/db").ok());
  for (const char* bad :
       {"", "mysql://h/db", "host=localhost dbname=x", "postgresql:/h"}) {
    const absl::Status s = ValidateStoreUrl(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("must be a PostgreSQL URL")) << bad;
  }
  EXPECT_THAT(ValidateStoreUrl("mysql://u:pw@h/db").message(), Not(HasSubstr("pw")));
}

TEST(StorePgTest, RedactsPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("postgresql://u:p@ss@h/db?x=1"), "postgresql://u:***@h/db?x=1");
  EXPECT_EQ(RedactUrl("postgresql://u@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(RedactUrl("no url"), "no url");
}

TEST(StorePgTest, MapsExceptionsToStatusCodes) {
  EXPECT_EQ(StoreError("x", pqxx::broken_connection("gone")).code(),
            absl::StatusCode::kUnavailable);
  const absl::Status shutdown =
      StoreError("writing", pqxx::sql_error("terminating connection", "Q", "57P01"));
  EXPECT_EQ(shutdown.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(shutdown.message(), "writing: terminating connection (SQLSTATE 57P01)");
  const absl::Status missing =
      StoreError("reading", pqxx::sql_error("relation does not exist", "Q", "42P01"));
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("allot store init"));
  EXPECT_EQ(StoreError("x", pqxx::sql_error("syntax", "Q", "42601")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(StoreError("x", std::runtime_error("boom")).code(),
            absl::StatusCode::kInternal);
}

TEST(StorePgTest, FingerprintHalvesRoundTripThroughBigint) {
  for (const uint64_t half : {uint64_t{0}, uint64_t{1}, uint64_t{0x8000000000000000},
                              std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(FromBigint(ToBigint(half)), half);
  }
  EXPECT_EQ(ToBigint(std::numeric_limits<uint64_t>::max()), -1);
}

}  // namespace
}  // namespace allot::store
