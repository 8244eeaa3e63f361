// Copyright 2026 The allot Authors.

#include "store/schema.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "pqxx/pqxx"
#include "store/migrations.h"
#include "store/pg.h"

namespace allot::store {
namespace {

absl::Status NewerSchemaError(int found) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the store holds schema version ", found, ", newer than this allot's ",
      LatestSchemaVersion(), "; upgrade allot (a newer schema is never downgraded)"));
}

// Holds the migration lock of one session until destroyed. The lock is a
// session lock, so the connection closing releases it too.
class MigrationLock {
 public:
  explicit MigrationLock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec(absl::StrCat("SELECT pg_advisory_lock(", kMigrationLockKey, ")"));
  }
  ~MigrationLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec(absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLockKey, ")"));
    } catch (const std::exception&) {
      // The connection is gone, and its locks with it.
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  pqxx::connection& conn_;
};

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS allot_schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int VersionIn(pqxx::transaction_base& tx) {
  const pqxx::row exists =
      tx.exec1("SELECT to_regclass('allot_schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  return tx.exec1("SELECT coalesce(max(version), 0) FROM allot_schema_migrations")[0]
      .as<int>();
}

void Apply(pqxx::transaction_base& tx, const Migration& m) {
  tx.exec(m.sql);
  tx.exec(absl::StrCat("INSERT INTO allot_schema_migrations (version, name) VALUES (",
                       m.version, ", ", tx.quote(std::string(m.name)), ")"));
}

}  // namespace

absl::StatusOr<int> SchemaVersion(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    return VersionIn(tx);
  } catch (const std::exception& e) {
    return StoreError("reading the schema version", e);
  }
}

absl::StatusOr<MigrateResult> InitSchema(absl::string_view url) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, ConnectStore(url));
  try {
    MigrationLock lock(*conn);
    pqxx::work tx(*conn);
    MigrateResult result;
    result.from_version = VersionIn(tx);
    if (result.from_version > LatestSchemaVersion()) {
      return NewerSchemaError(result.from_version);
    }
    if (result.from_version == LatestSchemaVersion()) {
      result.to_version = result.from_version;
      return result;
    }
    if (result.from_version > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store holds schema version ", result.from_version,
          " (newest: ", LatestSchemaVersion(), "); upgrade it with allot store migrate"));
    }
    tx.exec(kCreateMigrationsTable);
    for (const Migration& m : Migrations()) {
      Apply(tx, m);
      result.applied.push_back(m.version);
    }
    tx.commit();
    result.to_version = LatestSchemaVersion();
    return result;
  } catch (const std::exception& e) {
    return StoreError("creating the schema", e);
  }
}

absl::StatusOr<MigrateResult> MigrateSchema(absl::string_view url, int target_version) {
  if (target_version == -1) target_version = LatestSchemaVersion();
  if (target_version < 1 || target_version > LatestSchemaVersion()) {
    return absl::InvalidArgumentError(absl::StrCat("target_version must be in [1, ",
                                                   LatestSchemaVersion(), "], got ",
                                                   target_version));
  }
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, ConnectStore(url));
  MigrateResult result;
  int version = 0;
  try {
    MigrationLock lock(*conn);
    {
      pqxx::work tx(*conn);
      tx.exec(kCreateMigrationsTable);
      result.from_version = version = VersionIn(tx);
      tx.commit();
    }
    if (version > LatestSchemaVersion()) return NewerSchemaError(version);
    for (const Migration& m : Migrations()) {
      if (m.version <= version || m.version > target_version) continue;
      pqxx::work tx(*conn);
      Apply(tx, m);
      tx.commit();
      version = m.version;
      result.applied.push_back(m.version);
    }
    result.to_version = version;
    return result;
  } catch (const std::exception& e) {
    return StoreError(absl::StrCat("migrating the schema from version ", version), e);
  }
}

absl::StatusOr<StoreStatus> GetStoreStatus(absl::string_view url) {
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, ConnectStore(url));
  try {
    pqxx::read_transaction tx(*conn);
    StoreStatus status;
    status.latest_version = LatestSchemaVersion();
    status.schema_version = VersionIn(tx);
    if (status.schema_version == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no allot schema in ", RedactUrl(url), "; create it with allot store init"));
    }
    if (status.schema_version > LatestSchemaVersion()) {
      return NewerSchemaError(status.schema_version);
    }
    const bool learner_tables = status.schema_version >= 2;
    const pqxx::result rows = tx.exec(absl::StrCat(
        "SELECT e.experiment, e.started_us,"
        " (SELECT count(*) FROM allot_exposures x WHERE x.experiment = e.experiment),"
        " (SELECT count(*) FROM allot_outcomes o WHERE o.experiment = e.experiment),"
        " (SELECT count(*) FROM allot_epochs p WHERE p.experiment = e.experiment),"
        " (SELECT max(epoch) FROM allot_epochs p WHERE p.experiment = e.experiment),",
        learner_tables ? " (SELECT count(*) FROM allot_reports r"
                         "  WHERE r.experiment = e.experiment),"
                         " (SELECT watermark_us FROM allot_learner_state l"
                         "  WHERE l.experiment = e.experiment)"
                       : " 0, NULL::bigint",
        " FROM allot_experiments e ORDER BY e.experiment"));
    for (const pqxx::row& row : rows) {
      ExperimentStatus e;
      e.experiment = row[0].as<std::string>();
      if (!row[1].is_null()) e.started_us = row[1].as<int64_t>();
      e.exposures = row[2].as<int64_t>();
      e.outcomes = row[3].as<int64_t>();
      e.epochs = row[4].as<int64_t>();
      if (!row[5].is_null()) e.latest_epoch = row[5].as<int>();
      e.reports = row[6].as<int64_t>();
      if (!row[7].is_null()) e.watermark_us = row[7].as<int64_t>();
      status.experiments.push_back(std::move(e));
    }
    return status;
  } catch (const std::exception& e) {
    return StoreError("reading the store's status", e);
  }
}

}  // namespace allot::store
