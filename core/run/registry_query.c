/* Reading the registry (registry.h): lists through the --where compiler,
 * a sweep's ranking, one run read back whole, the check of every bundle
 * file, and the run cache. Every statement's text is a constant of this
 * file or of registry_where.c; every value is bound. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buffer.h"
#include "base/number.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "run/registry_internal.h"
#include "run/registry_where.h"

void keel_run_registry_table_free(keel_run_registry_table *t)
{
  for (size_t i = 0; i < t->n_cols; i++)
    free(t->cols[i]);
  for (size_t i = 0; i < t->n_cols * t->n_rows; i++)
    free(t->cells[i]);
  free(t->cols);
  free(t->cells);
  free(t->numeric);
  memset(t, 0, sizeof *t);
}

static int bind_all(sqlite3_stmt *st, const keel_where_sql *w)
{
  for (size_t i = 0; i < w->n_binds; i++) {
    int rc = w->binds[i].kind == 'n'
                 ? sqlite3_bind_double(st, (int)i + 1, w->binds[i].num)
                 : sqlite3_bind_text(st, (int)i + 1, w->binds[i].text, -1,
                                     SQLITE_STATIC);
    if (rc)
      return rc;
  }
  return SQLITE_OK;
}

/* Runs a SELECT whose columns are named by cols and collects its rows as
 * text. */
static int collect(keel_run_registry *r, sqlite3_stmt *st, size_t n_cols,
                   const char *const *cols, const int *numeric,
                   keel_run_registry_table *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  out->n_cols = n_cols;
  out->cols = calloc(n_cols, sizeof *out->cols);
  out->numeric = calloc(n_cols, sizeof *out->numeric);
  if (!out->cols || !out->numeric)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n_cols; i++) {
    out->numeric[i] = numeric ? numeric[i] : 0;
    if (!(out->cols[i] = strdup(cols[i])))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (out->n_rows == cap) {
      cap = cap ? cap * 2 : 64;
      char **nc = realloc(out->cells, cap * n_cols * sizeof *nc);
      if (!nc)
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      out->cells = nc;
    }
    char **row = out->cells + out->n_rows * n_cols;
    for (size_t i = 0; i < n_cols; i++) {
      int type = sqlite3_column_type(st, (int)i);
      if (!numeric && (type == SQLITE_FLOAT || type == SQLITE_INTEGER))
        out->numeric[i] = 1;
      if (type == SQLITE_FLOAT) {
        char buf[40];
        keel_format_double(sqlite3_column_double(st, (int)i), buf, sizeof buf);
        row[i] = strdup(buf);
      } else {
        row[i] = keel__registry_column_text(st, (int)i);
      }
    }
    out->n_rows++;
  }
  return rc == SQLITE_DONE ? 0
                           : keel__registry_fail(r, rc, "reading runs", err);
}

static const char *const list_cols[] = {
    "run_id", "started_at", "status", "template", "name", "result_digest"};

int keel_run_registry_list(keel_run_registry *r, const char *where,
                           const char *sort, long limit,
                           keel_run_registry_table *out, keel_error *err)
{
  keel_where_sql w = {0};
  keel_buf sql = KEEL_BUF_INIT;
  sqlite3_stmt *st = NULL;
  char **exprs = NULL;
  const char **cols = NULL;
  int rc = keel_where_compile(where, &w, err);
  if (rc) {
    keel_error_prefix(err, "--where");
    goto out;
  }
  if ((rc = keel_where_compile_sort(sort, &w, err))) {
    keel_error_prefix(err, "--sort");
    goto out;
  }
  size_t n_fixed = sizeof list_cols / sizeof list_cols[0];
  size_t n_cols = n_fixed + w.n_keys;
  exprs = calloc(w.n_keys + 1, sizeof *exprs);
  cols = calloc(n_cols, sizeof *cols);
  if (!exprs || !cols) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  keel_buf_printf(&sql, "SELECT r.run_id, r.started_at, r.status, r.template, "
                        "r.name, r.result_digest");
  for (size_t i = 0; i < n_cols; i++)
    cols[i] = i < n_fixed ? list_cols[i] : w.keys[i - n_fixed];
  for (size_t i = 0; i < w.n_keys; i++) {
    if (!(exprs[i] = keel_where_value_expr(w.keys[i], &w, err))) {
      rc = err->code;
      goto out;
    }
    keel_buf_printf(&sql, ", %s", exprs[i]);
  }
  keel_buf_printf(&sql, " FROM runs r");
  if (w.where)
    keel_buf_printf(&sql, " WHERE %s", w.where);
  keel_buf_printf(&sql, " ORDER BY %s", w.order);
  if (limit > 0)
    keel_buf_printf(&sql, " LIMIT %ld", limit); /* a number we parsed */
  if (sql.failed) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  int s = sqlite3_prepare_v2(r->db, (const char *)sql.data, -1, &st, NULL);
  if (!s)
    s = bind_all(st, &w);
  if (s) {
    rc = keel__registry_fail(r, s, "listing runs", err);
    goto out;
  }
  rc = collect(r, st, n_cols, cols, NULL, out, err);
out:
  sqlite3_finalize(st);
  for (size_t i = 0; exprs && i < w.n_keys; i++)
    free(exprs[i]);
  free(exprs);
  free(cols);
  keel_buf_free(&sql);
  keel_where_sql_free(&w);
  return rc;
}

int keel_run_registry_best(keel_run_registry *r, const char *sweep, long limit,
                           keel_run_registry_table *out, keel_error *err)
{
  static const char *const cols[] = {"trial",     "value",  "objective",
                                     "direction", "run_id", "result_digest",
                                     "bundle"};
  static const int numeric[] = {1, 1, 0, 0, 0, 0, 0};
  sqlite3_stmt *st = NULL;
  /* max: highest first; anything else (min): lowest first */
  int s = sqlite3_prepare_v2(
      r->db,
      "SELECT r.sweep_trial, m.value, r.sweep_objective, r.sweep_direction, "
      "r.run_id, r.result_digest, r.bundle_path FROM runs r JOIN "
      "latest_metrics m ON m.key = r.sweep_objective AND m.run = r.id AND "
      "m.is_nan = 0 WHERE r.sweep_id = ?1 AND r.status = 'ok' ORDER BY CASE "
      "WHEN r.sweep_direction = 'max' THEN -m.value ELSE m.value END, "
      "r.sweep_trial LIMIT ?2",
      -1, &st, NULL);
  if (!s)
    s = sqlite3_bind_text(st, 1, sweep, -1, SQLITE_STATIC);
  if (!s)
    s = sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
  int rc = s ? keel__registry_fail(r, s, "ranking a sweep", err)
             : collect(r, st, 7, cols, numeric, out, err);
  sqlite3_finalize(st);
  return rc;
}

/* ---- one run ------------------------------------------------------------- */

static int find_id(keel_run_registry *r, const char *id, sqlite3_int64 *row,
                   keel_error *err)
{
  sqlite3_stmt *st = NULL;
  /* exact id first, then a prefix: substr() keeps LIKE's wildcards out */
  int s = sqlite3_prepare_v2(
      r->db,
      "SELECT id, run_id FROM runs WHERE run_id = ?1 UNION ALL SELECT id, "
      "run_id FROM runs WHERE substr(run_id, 1, length(?1)) = ?1 AND run_id "
      "<> ?1 AND NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1) ORDER BY "
      "2 LIMIT 4",
      -1, &st, NULL);
  if (!s)
    s = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  if (s) {
    sqlite3_finalize(st);
    return keel__registry_fail(r, s, "looking up a run", err);
  }
  keel_buf names = KEEL_BUF_INIT;
  size_t n = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n++ == 0)
      *row = sqlite3_column_int64(st, 0);
    keel_buf_printf(&names, "%s%s", n > 1 ? ", " : "",
                    (const char *)sqlite3_column_text(st, 1));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    rc = keel__registry_fail(r, rc, "looking up a run", err);
  else if (n == 0)
    rc = keel_fail(err, KEEL_ENOTFOUND,
                   "registry %s: no run %s (keel runs list shows the runs)",
                   r->path, id);
  else if (n > 1)
    rc =
        keel_fail(err, KEEL_EINVAL,
                  "'%s' names more than one run: %s%s; give more of the id", id,
                  names.data ? (char *)names.data : "", n > 3 ? ", ..." : "");
  else
    rc = 0;
  keel_buf_free(&names);
  return rc;
}

static int read_run(sqlite3 *db, sqlite3_int64 row,
                    keel_run_registry_record *rec)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      db,
      "SELECT run_id, name, template, template_version, manifest_sha256, "
      "input_digest, result_digest, status, exit_code, error, started_at, "
      "ended_at, user, host, format, dataset, dataset_version, sweep_id, "
      "sweep_trial, sweep_objective, sweep_direction, bundle_path, "
      "bundle_sha256 FROM runs WHERE id = ?1",
      -1, &st, NULL);
  if (!rc)
    rc = sqlite3_bind_int64(st, 1, row);
  if (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    char **text[] = {&rec->run_id,          &rec->name,
                     &rec->template_name,   &rec->template_version,
                     &rec->manifest_sha256, &rec->input_digest,
                     &rec->result_digest,   &rec->status};
    for (int i = 0; i < 8; i++)
      *text[i] = keel__registry_column_text(st, i);
    rec->exit_code = (long)sqlite3_column_int64(st, 8);
    rec->error = keel__registry_column_text(st, 9);
    rec->started_at = keel__registry_column_text(st, 10);
    rec->ended_at = keel__registry_column_text(st, 11);
    rec->user = keel__registry_column_text(st, 12);
    rec->host = keel__registry_column_text(st, 13);
    rec->format = keel__registry_column_text(st, 14);
    rec->dataset = keel__registry_column_text(st, 15);
    rec->dataset_version = keel__registry_column_text(st, 16);
    rec->sweep_id = keel__registry_column_text(st, 17);
    rec->sweep_trial = (long)sqlite3_column_int64(st, 18);
    rec->sweep_objective = keel__registry_column_text(st, 19);
    rec->sweep_direction = keel__registry_column_text(st, 20);
    rec->bundle_path = keel__registry_column_text(st, 21);
    const unsigned char *sha = sqlite3_column_text(st, 22);
    snprintf(rec->bundle_sha256, sizeof rec->bundle_sha256, "%s",
             sha ? (const char *)sha : "");
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

static int read_children(sqlite3 *db, sqlite3_int64 row,
                         keel_run_registry_record *rec)
{
  static const char *const q[] = {
      "SELECT key, stage, plugin, type, value_text, value_num FROM params "
      "WHERE run = ?1 ORDER BY pos",
      "SELECT key, 0, value, is_nan FROM latest_metrics WHERE run = ?1 ORDER "
      "BY key",
      "SELECT key, epoch, value, is_nan FROM metrics WHERE run = ?1 ORDER BY "
      "key, epoch",
      "SELECT path, sha256, bytes FROM data WHERE run = ?1 ORDER BY path",
      "SELECT kind, name, version, sha256 FROM plugins WHERE run = ?1 ORDER "
      "BY kind, name"};
  int rc = SQLITE_OK;
  for (int k = 0; !rc && k < 5; k++) {
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, q[k], -1, &st, NULL);
    if (!rc)
      rc = sqlite3_bind_int64(st, 1, row);
    while (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      rc = SQLITE_NOMEM;
      if (k == 0) {
        keel_run_registry_param *p =
            realloc(rec->params, (rec->n_params + 1) * sizeof *p);
        if (!p)
          break;
        rec->params = p;
        p += rec->n_params++;
        p->key = keel__registry_column_text(st, 0);
        p->stage = keel__registry_column_text(st, 1);
        p->plugin = keel__registry_column_text(st, 2);
        p->type = keel__registry_column_text(st, 3);
        p->text = keel__registry_column_text(st, 4);
        p->has_num = sqlite3_column_type(st, 5) != SQLITE_NULL;
        p->num = sqlite3_column_double(st, 5);
      } else if (k < 3) {
        keel_run_registry_metric *m =
            realloc(rec->metrics, (rec->n_metrics + 1) * sizeof *m);
        if (!m)
          break;
        rec->metrics = m;
        m += rec->n_metrics++;
        m->key = keel__registry_column_text(st, 0);
        m->epoch = (long)sqlite3_column_int64(st, 1);
        m->value = sqlite3_column_double(st, 2);
        m->is_nan = sqlite3_column_int(st, 3);
      } else if (k == 3) {
        keel_run_registry_data *d =
            realloc(rec->data, (rec->n_data + 1) * sizeof *d);
        if (!d)
          break;
        rec->data = d;
        d += rec->n_data++;
        d->path = keel__registry_column_text(st, 0);
        d->sha256 = keel__registry_column_text(st, 1);
        d->bytes = sqlite3_column_int64(st, 2);
      } else {
        keel_run_registry_plugin *p =
            realloc(rec->plugins, (rec->n_plugins + 1) * sizeof *p);
        if (!p)
          break;
        rec->plugins = p;
        p += rec->n_plugins++;
        p->kind = keel__registry_column_text(st, 0);
        p->name = keel__registry_column_text(st, 1);
        p->version = keel__registry_column_text(st, 2);
        p->sha256 = keel__registry_column_text(st, 3);
      }
      rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
      rc = SQLITE_OK;
    sqlite3_finalize(st);
  }
  return rc;
}

int keel_run_registry_get(keel_run_registry *r, const char *id,
                          keel_run_registry_record *rec, keel_error *err)
{
  memset(rec, 0, sizeof *rec);
  sqlite3_int64 row = 0;
  int rc = find_id(r, id, &row, err);
  if (rc)
    return rc;
  /* one snapshot for the run and its rows */
  rc = keel__registry_exec(r, "BEGIN", "reading a run", err);
  if (rc)
    return rc;
  int s = read_run(r->db, row, rec);
  if (!s)
    s = read_children(r->db, row, rec);
  if (s) /* the message first: COMMIT would replace it */
    rc = keel__registry_fail(r, s, "reading a run", err);
  sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
  if (rc)
    keel_run_registry_record_free(rec);
  return rc;
}

/* ---- checking the bundles ------------------------------------------------ */

int keel_run_registry_verify(keel_run_registry *r, char **report,
                             size_t *n_runs, size_t *n_problems,
                             keel_error *err)
{
  *report = NULL;
  *n_runs = *n_problems = 0;
  sqlite3_stmt *st = NULL;
  keel_buf out = KEEL_BUF_INIT;
  int s = sqlite3_prepare_v2(r->db,
                             "SELECT run_id, bundle_path, bundle_sha256 FROM "
                             "runs ORDER BY run_id",
                             -1, &st, NULL);
  int rc = 0;
  while (!s && (s = sqlite3_step(st)) == SQLITE_ROW) {
    s = SQLITE_OK;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *path = (const char *)sqlite3_column_text(st, 1);
    const char *want = (const char *)sqlite3_column_text(st, 2);
    char got[65];
    keel_error ferr = {0};
    (*n_runs)++;
    struct stat sb;
    if (stat(path, &sb) != 0) {
      keel_buf_printf(&out, "missing: %s %s (%s)\n", id, path, strerror(errno));
      (*n_problems)++;
    } else if (keel_sha256_file(path, got, NULL, &ferr) != 0) {
      keel_buf_printf(&out, "unreadable: %s %s (%s)\n", id, path, ferr.message);
      (*n_problems)++;
    } else if (strcmp(got, want) != 0) {
      keel_buf_printf(&out, "altered: %s %s (sha256 %s, indexed %s)\n", id,
                      path, got, want);
      (*n_problems)++;
    }
  }
  if (s != SQLITE_DONE)
    rc = keel__registry_fail(r, s, "reading runs", err);
  sqlite3_finalize(st);
  if (!rc && out.failed)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    *report = out.len ? keel_buf_take(&out) : NULL;
  keel_buf_free(&out);
  return rc;
}

/* ---- the run cache ---------------------------------------------------------
 */

/* 1 when the bundle at path has the SHA-256 sha and passes the check. */
static int still_good(const char *path, const char *sha)
{
  char got[65];
  keel_bundle *b = NULL;
  keel_bundle_report rep = {0};
  int good = 0;
  if (keel_sha256_file(path, got, NULL, NULL) == 0 && strcmp(got, sha) == 0 &&
      keel_bundle_open(path, NULL, &b, NULL) == 0)
    good = keel_bundle_check(b, NULL, &rep, NULL) == 0;
  keel_bundle_report_free(&rep);
  keel_bundle_close(b);
  return good;
}

int keel_run_registry_find_reusable(const char *registry_path,
                                    const char *input_digest,
                                    char **bundle_path, char **run_id,
                                    keel_error *err)
{
  *bundle_path = *run_id = NULL;
  keel_run_registry *r = NULL;
  int rc = keel_run_registry_open(registry_path, 0, &r, err);
  if (rc == KEEL_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  sqlite3_stmt *st = NULL;
  int s = sqlite3_prepare_v2(r->db,
                             "SELECT run_id, bundle_path, bundle_sha256 FROM "
                             "runs WHERE input_digest = ?1 AND status = 'ok' "
                             "ORDER BY started_at DESC, run_id DESC",
                             -1, &st, NULL);
  if (!s)
    s = sqlite3_bind_text(st, 1, input_digest, -1, SQLITE_STATIC);
  int found = 0;
  while (!s && !found && (s = sqlite3_step(st)) == SQLITE_ROW) {
    s = SQLITE_OK;
    const char *path = (const char *)sqlite3_column_text(st, 1);
    if (still_good(path, (const char *)sqlite3_column_text(st, 2))) {
      *run_id = keel__registry_column_text(st, 0);
      *bundle_path = strdup(path);
      found = 1;
      if (!*run_id || !*bundle_path) {
        free(*run_id);
        free(*bundle_path);
        *run_id = *bundle_path = NULL;
        s = SQLITE_NOMEM;
      }
    }
  }
  rc = found && s == SQLITE_OK ? 1
       : s == SQLITE_DONE || s == SQLITE_OK
           ? 0
           : keel__registry_fail(r, s, "looking up the run cache", err);
  sqlite3_finalize(st);
  keel_run_registry_close(r);
  return rc;
}
