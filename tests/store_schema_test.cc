// Copyright 2026 The allot Authors.
//
// The store's schema and migrations against a real PostgreSQL 15 (the CTest
// fixture `postgres`): init, migrate from version 1, refusing a newer
// schema, concurrent migrators, status, bad URLs; and the `allot store`
// commands.

#include "store/schema.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "store/migrations.h"
#include "tests/cli_run.h"
#include "tests/pg_database.h"

namespace allot::store {
namespace {

using ::allot::test::CliResult;
using ::allot::test::RunCli;
using ::allot::test::ScratchDir;
using ::allot::test::TestDatabase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Runs one statement and returns the first field of its first row as text
// ("" for no row or NULL).
std::string Query(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

bool TableExists(const std::string& url, const std::string& table) {
  return Query(url, absl::StrCat("SELECT to_regclass('", table, "') IS NOT NULL")) == "t";
}

TEST(MigrationsTest, VersionsAreConsecutiveFromOne) {
  ASSERT_GE(Migrations().size(), 2u);
  for (size_t i = 0; i < Migrations().size(); ++i) {
    EXPECT_EQ(Migrations()[i].version, static_cast<int>(i) + 1);
    EXPECT_STRNE(Migrations()[i].name, "");
  }
  EXPECT_EQ(LatestSchemaVersion(), static_cast<int>(Migrations().size()));
}

TEST(StoreSchemaTest, InitCreatesTheNewestSchemaOnAnEmptyDatabase) {
  const TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  absl::StatusOr<MigrateResult> r = InitSchema(db.url());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_version, 0);
  EXPECT_EQ(r->to_version, LatestSchemaVersion());
  EXPECT_THAT(r->applied, ElementsAre(1, 2));
  for (const char* table :
       {"allot_schema_migrations", "allot_experiments", "allot_exposures",
        "allot_outcomes", "allot_epochs", "allot_reports", "allot_learner_state"}) {
    EXPECT_TRUE(TableExists(db.url(), table)) << table;
  }
  EXPECT_EQ(Query(db.url(),
                  "SELECT string_agg(version || ':' || name, ',' ORDER BY version)"
                  " FROM allot_schema_migrations"),
            "1:events,2:learner");

  // Again: nothing to do.
  r = InitSchema(db.url());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_version, LatestSchemaVersion());
  EXPECT_THAT(r->applied, IsEmpty());
}

TEST(StoreSchemaTest, MigratesFromVersionOneToTheNewest) {
  const TestDatabase db;
  absl::StatusOr<MigrateResult> r = MigrateSchema(db.url(), 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applied, ElementsAre(1));
  EXPECT_TRUE(TableExists(db.url(), "allot_exposures"));
  EXPECT_FALSE(TableExists(db.url(), "allot_reports"));

  // A store at version 1 is not re-initialized: init says to migrate.
  const absl::StatusOr<MigrateResult> init = InitSchema(db.url());
  EXPECT_EQ(init.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(init.status().message(), HasSubstr("allot store migrate"));

  // Data written at version 1 survives the upgrade.
  Query(db.url(), "SELECT allot_create_partitions('exp')");
  Query(db.url(),
        "INSERT INTO allot_exposures VALUES ('exp', 1, 2, 0, 0, 0.5, false, 10, NULL, "
        "'r')");
  r = MigrateSchema(db.url());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_version, 1);
  EXPECT_EQ(r->to_version, 2);
  EXPECT_THAT(r->applied, ElementsAre(2));
  EXPECT_TRUE(TableExists(db.url(), "allot_reports"));
  EXPECT_TRUE(TableExists(db.url(), "allot_learner_state"));
  EXPECT_EQ(Query(db.url(), "SELECT count(*) FROM allot_exposures"), "1");

  r = MigrateSchema(db.url());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->applied, IsEmpty());
  EXPECT_EQ(Query(db.url(), "SELECT count(*) FROM allot_schema_migrations"), "2");
}

TEST(StoreSchemaTest, RefusesANewerSchema) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  Query(db.url(),
        "INSERT INTO allot_schema_migrations (version, name) VALUES (99, 'future')");
  for (const absl::Status& s :
       {InitSchema(db.url()).status(), MigrateSchema(db.url()).status(),
        GetStoreStatus(db.url()).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr("schema version 99, newer than this allot's 2"));
  }
  const ScratchDir scratch("store_cli");
  const CliResult cli = RunCli({"store", "migrate", "--store", db.url()}, scratch.path());
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, HasSubstr("allot store migrate: "));
  EXPECT_THAT(cli.err, HasSubstr("newer than this allot's"));
}

TEST(StoreSchemaTest, RejectsTargetVersionsOutOfRange) {
  for (int target : {0, 3, -2}) {
    EXPECT_EQ(MigrateSchema("postgresql://127.0.0.1:1/x", target).status().code(),
              absl::StatusCode::kInvalidArgument)
        << target;
  }
}

TEST(StoreSchemaTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  const TestDatabase db;
  const ScratchDir scratch("store_migrate");
  // Four `allot store migrate` processes at once on an empty database.
  std::string command;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&command, "('", ALLOT_CLI_PATH, "' store migrate --store '", db.url(),
                    "' > '", scratch.path(), "/out", i, "' 2>&1; echo $? > '",
                    scratch.path(), "/rc", i, "') & ");
  }
  absl::StrAppend(&command, "wait");
  ASSERT_EQ(test::RunShell(command), 0);
  int applied_by = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string out = test::ReadBytes(absl::StrCat(scratch.path(), "/out", i));
    EXPECT_EQ(test::ReadBytes(absl::StrCat(scratch.path(), "/rc", i)), "0\n") << out;
    if (out.find("(applied 1, 2)") != std::string::npos) ++applied_by;
  }
  EXPECT_EQ(applied_by, 1);
  EXPECT_EQ(Query(db.url(), "SELECT count(*) FROM allot_schema_migrations"), "2");
}

TEST(StoreSchemaTest, StatusCountsRowsPerExperiment) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  Query(db.url(),
        "INSERT INTO allot_experiments (experiment, config_toml, started_us)"
        " VALUES ('a', 'x', 5), ('b', 'y', NULL);"
        "SELECT allot_create_partitions('a'); SELECT allot_create_partitions('b');"
        "INSERT INTO allot_exposures VALUES"
        " ('a', 1, 1, 0, 0, 0.5, false, 10, NULL, 'r'),"
        " ('a', 1, 2, 1, 0, 0.5, false, 11, 3, 'r');"
        "INSERT INTO allot_outcomes VALUES ('a', 'r:1', 1, 1, 'm', 1.0, 12, 'r');"
        "INSERT INTO allot_epochs VALUES ('a', 0, 5, '{}'), ('a', 1, 50, '{}');"
        "INSERT INTO allot_learner_state VALUES ('a', 40, 1, 'l', now())");
  const absl::StatusOr<StoreStatus> s = GetStoreStatus(db.url());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->schema_version, 2);
  ASSERT_EQ(s->experiments.size(), 2u);
  const ExperimentStatus& a = s->experiments[0];
  EXPECT_EQ(a.experiment, "a");
  EXPECT_EQ(a.started_us, 5);
  EXPECT_EQ(a.exposures, 2);
  EXPECT_EQ(a.outcomes, 1);
  EXPECT_EQ(a.epochs, 2);
  EXPECT_EQ(a.latest_epoch, 1);
  EXPECT_EQ(a.watermark_us, 40);
  EXPECT_EQ(s->experiments[1].exposures, 0);
  EXPECT_EQ(s->experiments[1].started_us, std::nullopt);

  const ScratchDir scratch("store_cli");
  const CliResult cli = RunCli({"store", "status", "--store", db.url()}, scratch.path());
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.out, HasSubstr("\"schema_version\": 2"));
  EXPECT_THAT(cli.out, HasSubstr("\"exposures\": 2"));
}

TEST(StoreSchemaTest, EventsNeedTheExperimentsPartition) {
  const TestDatabase db;
  ASSERT_TRUE(InitSchema(db.url()).ok());
  EXPECT_THROW(Query(db.url(),
                     "INSERT INTO allot_exposures VALUES"
                     " ('unknown', 1, 1, 0, 0, 0.5, false, 10, NULL, 'r')"),
               std::exception);
  // Registering twice is harmless; any id makes a valid partition name.
  const std::string odd = "exp with 'quotes' and \"dq\" / ünïcode";
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  for (int i = 0; i < 2; ++i) {
    tx.exec(absl::StrCat("SELECT allot_create_partitions(", tx.quote(odd), ")"));
  }
  tx.exec(absl::StrCat("INSERT INTO allot_exposures VALUES (", tx.quote(odd),
                       ", 1, 1, 0, 0, 0.5, false, 10, NULL, 'r')"));
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM allot_exposures")[0].as<int>(), 1);
}

TEST(StoreSchemaTest, BadUrlsGiveClearErrors) {
  absl::Status s = InitSchema("mysql://127.0.0.1/x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("must be a PostgreSQL URL"));

  // Nothing listens on port 1.
  s = MigrateSchema("postgresql://postgres:secret@127.0.0.1:1/x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(),
              HasSubstr("cannot connect to postgresql://postgres:***@127.0.0.1:1/x"));
  EXPECT_THAT(s.message(), Not(HasSubstr("secret")));

  // A database that does not exist.
  const std::string missing = test::WithDatabase(test::FixtureUrl(), "allot_no_such_db");
  s = GetStoreStatus(missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("allot_no_such_db"));

  // A database with no schema.
  const TestDatabase db;
  s = GetStoreStatus(db.url()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("allot store init"));

  const ScratchDir scratch("store_cli");
  CliResult cli = RunCli({"store", "init", "--store", "not-a-url"}, scratch.path());
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, HasSubstr("allot store init: "));
  EXPECT_THAT(cli.err, HasSubstr("must be a PostgreSQL URL"));
  cli = RunCli({"store", "init"}, scratch.path());
  EXPECT_EQ(cli.exit_code, 2);
}

}  // namespace
}  // namespace allot::store
