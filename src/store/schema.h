// Copyright 2026 The allot Authors.
//
// Creating and upgrading the store's schema (`allot store init`, `allot store
// migrate`) and summarizing what a store holds (`allot store status`).
//
//   absl::StatusOr<MigrateResult> r = MigrateSchema("postgresql://db/allot");
//
// Every function opens its own connection to `url` and closes it. The
// migrations (store/migrations.h) are serialized across processes by a
// PostgreSQL advisory lock, so any number of replicas may run them at once:
// one applies them, the others find them applied.

#ifndef ALLOT_SRC_STORE_SCHEMA_H_
#define ALLOT_SRC_STORE_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pqxx/connection"

namespace allot::store {

// The advisory lock key (pg_advisory_lock) held while migrations run.
inline constexpr int64_t kMigrationLockKey = 0x616c6c6f74736d31;  // "allotsm1"

// What InitSchema or MigrateSchema did.
struct MigrateResult {
  int from_version = 0;      // the schema version found (0: none)
  int to_version = 0;        // the version the database holds now
  std::vector<int> applied;  // the versions applied, in order
};

// Returns the schema version `conn`'s database holds: the largest version in
// allot_schema_migrations, or 0 when that table does not exist.
// Errors: as StoreError.
[[nodiscard]] absl::StatusOr<int> SchemaVersion(pqxx::connection& conn);

// Creates the schema at the newest version in one transaction. A database
// already at the newest version is left as it is (applied is empty).
// Errors: InvalidArgument or Unavailable for a bad or unreachable URL (see
// ConnectStore); FailedPrecondition when the database holds an older schema
// (run MigrateSchema) or a newer one than this allot knows; others as
// StoreError.
[[nodiscard]] absl::StatusOr<MigrateResult> InitSchema(absl::string_view url);

// Applies the migrations the database lacks up to `target_version`, one
// transaction each, recording each in allot_schema_migrations. A database at
// `target_version` or later is left as it is. REQUIRES: 1 <= target_version
// <= LatestSchemaVersion() (tests use an older target; allot uses the
// newest). Errors: InvalidArgument for a target out of range; as InitSchema,
// except that an older schema is what this upgrades.
[[nodiscard]] absl::StatusOr<MigrateResult> MigrateSchema(absl::string_view url,
                                                          int target_version = -1);

// One experiment's figures in StoreStatus.
struct ExperimentStatus {
  std::string experiment;
  std::optional<int64_t> started_us;
  int64_t exposures = 0;
  int64_t outcomes = 0;
  int64_t epochs = 0;
  std::optional<int> latest_epoch;
  int64_t reports = 0;
  std::optional<int64_t> watermark_us;  // the learner's, when it has one
};

// What a store holds: `allot store status`.
struct StoreStatus {
  int schema_version = 0;                     // 0: no schema
  int latest_version = 0;                     // this allot's newest
  std::vector<ExperimentStatus> experiments;  // by experiment id
};

// Returns the schema version and, for each registered experiment, its row
// counts. Errors: as ConnectStore; FailedPrecondition when the database
// holds no allot schema or a newer one; others as StoreError.
[[nodiscard]] absl::StatusOr<StoreStatus> GetStoreStatus(absl::string_view url);

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_SCHEMA_H_
