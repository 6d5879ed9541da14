/* The registry file (registry.h): opening a connection the way every
 * connection must be opened (busy timeout, foreign keys, WAL), the schema
 * and its version, and SQLite's results mapped onto keel's errors with
 * the file named. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/path.h"
#include "base/status.h"
#include "config/settings.h"
#include "run/registry_internal.h"

/* Version 1. params and latest_metrics are MLflow's entity-attribute-
 * value tables: one row per (key, run), keyed by key first so that a
 * comparison on one key is a range scan of an index; NaN (a metric
 * recorded as null) is a flag, never a value. metrics keeps every epoch. */
static const char schema_sql[] =
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL UNIQUE,"
    " name TEXT, template TEXT, template_version TEXT,"
    " manifest_sha256 TEXT, input_digest TEXT, result_digest TEXT,"
    " status TEXT NOT NULL, exit_code INTEGER, error TEXT,"
    " started_at TEXT, ended_at TEXT, user TEXT, host TEXT, format TEXT,"
    " dataset TEXT, dataset_version TEXT,"
    " sweep_id TEXT, sweep_trial INTEGER, sweep_objective TEXT,"
    " sweep_direction TEXT,"
    " bundle_path TEXT NOT NULL, bundle_sha256 TEXT NOT NULL,"
    " indexed_at TEXT NOT NULL);"
    "CREATE INDEX runs_started ON runs(started_at);"
    "CREATE INDEX runs_input ON runs(input_digest, status);"
    "CREATE INDEX runs_sweep ON runs(sweep_id, sweep_trial);"
    "CREATE TABLE params("
    " key TEXT NOT NULL,"
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " pos INTEGER NOT NULL, stage TEXT, plugin TEXT, type TEXT,"
    " value_num REAL, value_text TEXT NOT NULL,"
    " PRIMARY KEY(key, run)) WITHOUT ROWID;"
    "CREATE INDEX params_num ON params(key, value_num);"
    "CREATE INDEX params_run ON params(run);"
    "CREATE TABLE latest_metrics("
    " key TEXT NOT NULL,"
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " value REAL NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY(key, run)) WITHOUT ROWID;"
    "CREATE INDEX latest_metrics_value ON latest_metrics(key, is_nan, value);"
    "CREATE INDEX latest_metrics_run ON latest_metrics(run);"
    "CREATE TABLE metrics("
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, epoch INTEGER NOT NULL,"
    " value REAL NOT NULL, is_nan INTEGER NOT NULL,"
    " PRIMARY KEY(run, key, epoch)) WITHOUT ROWID;"
    "CREATE TABLE data("
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, sha256 TEXT, bytes INTEGER,"
    " PRIMARY KEY(run, path)) WITHOUT ROWID;"
    "CREATE INDEX data_sha256 ON data(sha256);"
    "CREATE TABLE plugins("
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT, sha256 TEXT,"
    " PRIMARY KEY(run, kind, name)) WITHOUT ROWID;"
    "INSERT INTO schema_version(version) VALUES (1);";

int keel__registry_fail(keel_run_registry *r, int sqlite_rc, const char *what,
                        keel_error *err)
{
  int code = KEEL_EIO;
  const char *why =
      r && r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(sqlite_rc);
  const char *hint = "";
  switch (sqlite_rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    hint = " (another process held it longer than the busy timeout of 5 s)";
    break;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    code = KEEL_EINTEGRITY;
    hint = " (not a keel registry: move it away and `keel runs import` the "
           "bundles again)";
    break;
  case SQLITE_NOMEM: code = KEEL_ENOMEM; break;
  default: break;
  }
  return keel_fail(err, code, "registry %s: %s: %s%s",
                   r && r->path ? r->path : "?", what, why, hint);
}

int keel__registry_exec(keel_run_registry *r, const char *sql, const char *what,
                        keel_error *err)
{
  int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : keel__registry_fail(r, rc, what, err);
}

char *keel__registry_column_text(sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  return t ? strdup((const char *)t) : NULL;
}

int keel_run_registry_default_path(char **out, keel_error *err)
{
  return keel_setting_value(KEEL_SETTING_REGISTRY, out, err);
}

const char *keel_run_registry_path(const keel_run_registry *r)
{
  return r->path;
}

/* The schema version in the file; 0 when it has no schema yet. */
static int read_version(keel_run_registry *r, int *version, keel_error *err)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(r->db,
                              "SELECT count(*) FROM sqlite_master WHERE "
                              "type = 'table' AND name = 'schema_version'",
                              -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
    rc = sqlite3_column_int(st, 0) ? SQLITE_DONE : SQLITE_OK;
  sqlite3_finalize(st);
  st = NULL;
  *version = 0;
  if (rc == SQLITE_OK)
    return 0; /* no table */
  if (rc != SQLITE_DONE)
    return keel__registry_fail(r, rc, "reading the schema", err);
  rc = sqlite3_prepare_v2(r->db, "SELECT max(version) FROM schema_version", -1,
                          &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *version = sqlite3_column_int(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK
             ? 0
             : keel__registry_fail(r, rc, "reading the schema version", err);
}

/* 1 when the file holds no table at all (an empty file). */
static int no_tables(keel_run_registry *r)
{
  sqlite3_stmt *st = NULL;
  int none = 0;
  if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM sqlite_master", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    none = sqlite3_column_int(st, 0) == 0;
  sqlite3_finalize(st);
  return none;
}

/* Creates the schema unless another process did first (checked again
 * inside the write transaction), then checks the version. */
static int ensure_schema(keel_run_registry *r, int create, keel_error *err)
{
  int version, rc = read_version(r, &version, err);
  if (!rc && version == 0 && create) {
    rc = keel__registry_exec(r, "BEGIN IMMEDIATE", "creating the schema", err);
    if (!rc && !(rc = read_version(r, &version, err)) && version == 0) {
      rc = keel__registry_exec(r, schema_sql, "creating the schema", err);
      version = KEEL_RUN_REGISTRY_SCHEMA;
    }
    if (!rc)
      rc = keel__registry_exec(r, "COMMIT", "creating the schema", err);
    else
      sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
  }
  if (rc)
    return rc;
  if (version == 0 && !create && no_tables(r))
    /* made by a writer that has not committed its schema yet: empty */
    return keel_fail(err, KEEL_ENOTFOUND, "registry %s: empty", r->path);
  if (version == 0)
    return keel_fail(err, KEEL_EINTEGRITY,
                     "registry %s: an SQLite file without keel's tables "
                     "(expected a schema_version table)",
                     r->path);
  if (version > KEEL_RUN_REGISTRY_SCHEMA)
    return keel_fail(err, KEEL_EUNSUPPORTED,
                     "registry %s: schema version %d was written by a newer "
                     "keel; this keel reads version %d",
                     r->path, version, KEEL_RUN_REGISTRY_SCHEMA);
  /* versions below ours would be migrated here, in one transaction */
  return 0;
}

int keel_run_registry_open(const char *path, int create,
                           keel_run_registry **out, keel_error *err)
{
  *out = NULL;
  keel_run_registry *r = calloc(1, sizeof *r);
  if (!r)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = path ? ((r->path = strdup(path)) ? 0 : KEEL_ENOMEM)
                : keel_run_registry_default_path(&r->path, err);
  if (rc) {
    free(r);
    return rc == KEEL_ENOMEM ? keel_fail(err, rc, "out of memory") : rc;
  }
  struct stat sb;
  if (stat(r->path, &sb) != 0) {
    if (errno != ENOENT || !create) {
      rc = keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "registry %s: %s", r->path, strerror(errno));
      goto fail;
    }
    char *dir = keel_path_dirname(r->path);
    rc = dir ? keel_fs_mkdir_p(dir, err)
             : keel_fail(err, KEEL_ENOMEM, "out of memory");
    free(dir);
    if (rc) {
      keel_error_prefix(err, "registry %s", r->path);
      goto fail;
    }
  } else if (!S_ISREG(sb.st_mode)) {
    rc = keel_fail(err, KEEL_EIO, "registry %s: not a regular file", r->path);
    goto fail;
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (create ? SQLITE_OPEN_CREATE : 0);
  int s = sqlite3_open_v2(r->path, &r->db, flags, NULL);
  if (s != SQLITE_OK) {
    rc = keel__registry_fail(r, s, "opening", err);
    goto fail;
  }
  sqlite3_extended_result_codes(r->db, 0);
  sqlite3_busy_timeout(r->db, KEEL_RUN_REGISTRY_BUSY_MS);
  rc = keel__registry_exec(r, "PRAGMA foreign_keys = ON", "setting up", err);
  /* WAL is a property of the file, set by the first writer; readers do
   * not take the lock it needs. */
  if (!rc && create)
    rc = keel__registry_exec(r,
                             "PRAGMA journal_mode = WAL; "
                             "PRAGMA synchronous = NORMAL",
                             "setting up (WAL)", err);
  if (!rc)
    rc = ensure_schema(r, create, err);
  if (rc)
    goto fail;
  *out = r;
  return 0;
fail:
  keel_run_registry_close(r);
  return rc;
}

void keel_run_registry_close(keel_run_registry *r)
{
  if (!r)
    return;
  sqlite3_close(r->db);
  free(r->path);
  free(r);
}
