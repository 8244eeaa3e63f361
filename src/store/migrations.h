// Copyright 2026 The allot Authors.
//
// The PostgreSQL store's schema, as the migrations that build it. Each
// migration has a version (1, 2, ... with no gaps), a name and the SQL that
// takes a database from the version before it to its own; the SQL is part
// of the allot binary, so a release carries the schema it writes to.
//
//   for (const Migration& m : Migrations()) Apply(m.sql);
//
// Once released, a migration never changes: a new schema is a new
// migration at the end of the list.

#ifndef ALLOT_SRC_STORE_MIGRATIONS_H_
#define ALLOT_SRC_STORE_MIGRATIONS_H_

#include "absl/types/span.h"

namespace allot::store {

// One step of the schema. Immutable; safe to share.
struct Migration {
  int version = 0;
  const char* name = "";
  const char* sql = "";
};

// Returns every migration, oldest first; element i has version i + 1.
absl::Span<const Migration> Migrations();

// Returns the newest schema version this allot writes: Migrations().size().
int LatestSchemaVersion();

// The table that records the applied migrations, one row each:
// allot_schema_migrations(version integer PRIMARY KEY, name text NOT NULL,
// applied_at timestamptz NOT NULL DEFAULT now()).
inline constexpr char kMigrationsTable[] = "allot_schema_migrations";

// The channel on which an insert into allot_epochs is announced, with the
// experiment id as the payload.
inline constexpr char kHistoryChannel[] = "allot_history";

}  // namespace allot::store

#endif  // ALLOT_SRC_STORE_MIGRATIONS_H_
