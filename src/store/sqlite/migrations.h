// The SQLite schema as an ordered list of migration steps, and the code that
// brings a database up to date. Steps are append-only: once released, a step
// is never edited; a change is a new step.
#pragma once

#include <span>

#include "core/result.h"
#include "store/sqlite/db.h"

namespace pinhole::sqlite {

struct Migration {
  int version;      // 1, 2, 3, ... in order
  const char* sql;  // one or more statements
};

// All steps this build knows, in order.
std::span<const Migration> Migrations();
// The version a fully migrated database has.
int LatestSchemaVersion();

// Applies every step newer than the database's version, each recorded in
// schema_migrations, all in one write transaction (so two processes opening
// the same file cannot both apply a step). Idempotent. Fails with
// InvalidArgument "schema_too_new" when the database was written by a newer
// build, and changes nothing then.
Status Migrate(Connection& db);

// The database's current version (0 for a new file).
Result<int> SchemaVersion(Connection& db);

}  // namespace pinhole::sqlite
