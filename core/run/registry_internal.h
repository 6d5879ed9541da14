/* What the registry's files share (never included from another layer):
 * the connection and the mapping of SQLite results onto keel's errors. */
#ifndef KEEL_RUN_REGISTRY_INTERNAL_H
#define KEEL_RUN_REGISTRY_INTERNAL_H

#include <sqlite3.h>

#include "run/registry.h"

struct keel_run_registry {
  sqlite3 *db;
  char *path;
};

/* err = "registry PATH: WHAT: SQLite's message" with the KEEL_E* code the
 * SQLite result maps to (locked: KEEL_EIO, corrupt: KEEL_EINTEGRITY, ...).
 * Returns that code. */
int keel__registry_fail(keel_run_registry *r, int sqlite_rc, const char *what,
                        keel_error *err);

/* sqlite3_exec of a fixed statement; on failure keel__registry_fail. */
int keel__registry_exec(keel_run_registry *r, const char *sql, const char *what,
                        keel_error *err);

/* A column's text as a malloc'd copy (NULL for SQL NULL). */
char *keel__registry_column_text(sqlite3_stmt *st, int col);

#endif
