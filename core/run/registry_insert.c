/* Indexing runs (registry.h): records written in one BEGIN IMMEDIATE
 * transaction with prepared statements, every value bound; and a bundle
 * file opened, hashed, optionally verified and turned into a record. */
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "run/registry_internal.h"

enum {
  S_FIND,
  S_MOVE,
  S_RUN,
  S_PARAM,
  S_LATEST,
  S_METRIC,
  S_DATA,
  S_PLUGIN,
  S_COUNT
};

static const char *const statements[S_COUNT] = {
    [S_FIND] = "SELECT bundle_sha256, bundle_path FROM runs WHERE run_id = ?1",
    [S_MOVE] = "UPDATE runs SET bundle_path = ?2 WHERE run_id = ?1",
    [S_RUN] = "INSERT INTO runs(run_id, name, template, template_version, "
              "manifest_sha256, input_digest, result_digest, status, "
              "exit_code, error, started_at, ended_at, user, host, format, "
              "dataset, dataset_version, sweep_id, sweep_trial, "
              "sweep_objective, sweep_direction, bundle_path, bundle_sha256, "
              "indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
              "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
              "?23, ?24)",
    [S_PARAM] = "INSERT OR REPLACE INTO params(key, run, stage, plugin, type, "
                "value_num, value_text, pos) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                "?7, ?8)",
    [S_LATEST] = "INSERT OR REPLACE INTO latest_metrics(key, run, value, "
                 "is_nan) VALUES (?1, ?2, ?3, ?4)",
    [S_METRIC] = "INSERT OR REPLACE INTO metrics(run, key, epoch, value, "
                 "is_nan) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_DATA] = "INSERT OR REPLACE INTO data(run, path, sha256, bytes) "
               "VALUES (?1, ?2, ?3, ?4)",
    [S_PLUGIN] = "INSERT OR REPLACE INTO plugins(run, kind, name, version, "
                 "sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
};

typedef struct writer {
  keel_run_registry *r;
  sqlite3_stmt *st[S_COUNT];
  char now[32];
} writer;

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* Steps a bound statement to its end and resets it. */
static int run_stmt(sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_rows(writer *w, const keel_run_registry_record *rec,
                       sqlite3_int64 run)
{
  int rc = SQLITE_OK;
  for (size_t i = 0; !rc && i < rec->n_params; i++) {
    const keel_run_registry_param *p = &rec->params[i];
    sqlite3_stmt *st = w->st[S_PARAM];
    bind_str(st, 1, p->key);
    sqlite3_bind_int64(st, 2, run);
    bind_str(st, 3, p->stage);
    bind_str(st, 4, p->plugin);
    bind_str(st, 5, p->type);
    if (p->has_num)
      sqlite3_bind_double(st, 6, p->num);
    bind_str(st, 7, p->text ? p->text : "");
    sqlite3_bind_int64(st, 8, (sqlite3_int64)i); /* pipeline order */
    rc = run_stmt(st);
  }
  for (size_t i = 0; !rc && i < rec->n_metrics; i++) {
    const keel_run_registry_metric *m = &rec->metrics[i];
    sqlite3_stmt *st = w->st[m->epoch ? S_METRIC : S_LATEST];
    double v = m->is_nan ? 0 : m->value;
    if (m->epoch) {
      sqlite3_bind_int64(st, 1, run);
      bind_str(st, 2, m->key);
      sqlite3_bind_int64(st, 3, m->epoch);
      sqlite3_bind_double(st, 4, v);
      sqlite3_bind_int(st, 5, m->is_nan);
    } else {
      bind_str(st, 1, m->key);
      sqlite3_bind_int64(st, 2, run);
      sqlite3_bind_double(st, 3, v);
      sqlite3_bind_int(st, 4, m->is_nan);
    }
    rc = run_stmt(st);
  }
  for (size_t i = 0; !rc && i < rec->n_data; i++) {
    sqlite3_stmt *st = w->st[S_DATA];
    sqlite3_bind_int64(st, 1, run);
    bind_str(st, 2, rec->data[i].path);
    bind_str(st, 3, rec->data[i].sha256);
    sqlite3_bind_int64(st, 4, rec->data[i].bytes);
    rc = run_stmt(st);
  }
  for (size_t i = 0; !rc && i < rec->n_plugins; i++) {
    sqlite3_stmt *st = w->st[S_PLUGIN];
    sqlite3_bind_int64(st, 1, run);
    bind_str(st, 2, rec->plugins[i].kind);
    bind_str(st, 3, rec->plugins[i].name);
    bind_str(st, 4, rec->plugins[i].version);
    bind_str(st, 5, rec->plugins[i].sha256);
    rc = run_stmt(st);
  }
  return rc;
}

static int insert_run(writer *w, const keel_run_registry_record *rec)
{
  sqlite3_stmt *st = w->st[S_RUN];
  const char *text[] = {rec->run_id,          rec->name,
                        rec->template_name,   rec->template_version,
                        rec->manifest_sha256, rec->input_digest,
                        rec->result_digest,   rec->status};
  for (int i = 0; i < 8; i++)
    bind_str(st, i + 1, text[i]);
  sqlite3_bind_int64(st, 9, rec->exit_code);
  bind_str(st, 10, rec->error);
  bind_str(st, 11, rec->started_at);
  bind_str(st, 12, rec->ended_at);
  bind_str(st, 13, rec->user);
  bind_str(st, 14, rec->host);
  bind_str(st, 15, rec->format);
  bind_str(st, 16, rec->dataset);
  bind_str(st, 17, rec->dataset_version);
  bind_str(st, 18, rec->sweep_id);
  if (rec->sweep_id)
    sqlite3_bind_int64(st, 19, rec->sweep_trial);
  bind_str(st, 20, rec->sweep_objective);
  bind_str(st, 21, rec->sweep_direction);
  bind_str(st, 22, rec->bundle_path);
  bind_str(st, 23, rec->bundle_sha256);
  bind_str(st, 24, w->now);
  int rc = run_stmt(st);
  return rc ? rc : insert_rows(w, rec, sqlite3_last_insert_rowid(w->r->db));
}

/* One record: what happened in *what; a conflicting bundle is
 * KEEL_EINTEGRITY in err. */
static int add_one(writer *w, const keel_run_registry_record *rec,
                   keel_run_registry_added *what, keel_error *err)
{
  sqlite3_stmt *st = w->st[S_FIND];
  bind_str(st, 1, rec->run_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    char *sha = keel__registry_column_text(st, 0);
    char *path = keel__registry_column_text(st, 1);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    struct stat sb;
    if (!sha || !path) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    } else if (strcmp(sha, rec->bundle_sha256) != 0) {
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "registry %s: run %s is already indexed from another "
                     "bundle file (%s, sha256 %.12s...); %s (sha256 "
                     "%.12s...) is not indexed in its place",
                     w->r->path, rec->run_id, path, sha, rec->bundle_path,
                     rec->bundle_sha256);
    } else if (strcmp(path, rec->bundle_path) != 0 && stat(path, &sb) != 0) {
      sqlite3_stmt *mv = w->st[S_MOVE];
      bind_str(mv, 1, rec->run_id);
      bind_str(mv, 2, rec->bundle_path);
      rc = run_stmt(mv);
      rc = rc ? keel__registry_fail(w->r, rc, "updating a bundle's path", err)
              : 0;
      *what = KEEL_RUN_REGISTRY_MOVED;
    } else {
      rc = 0;
      *what = KEEL_RUN_REGISTRY_PRESENT;
    }
    free(sha);
    free(path);
    return rc;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE)
    return keel__registry_fail(w->r, rc, "looking up a run", err);
  rc = insert_run(w, rec);
  if (rc)
    return keel__registry_fail(w->r, rc, "indexing a run", err);
  *what = KEEL_RUN_REGISTRY_INSERTED;
  return 0;
}

int keel_run_registry_insert(keel_run_registry *r,
                             const keel_run_registry_record *recs, size_t n,
                             keel_run_registry_added *what, keel_error *err)
{
  writer w = {.r = r};
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(w.now, sizeof w.now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int rc = keel__registry_exec(r, "BEGIN IMMEDIATE", "starting a write", err);
  for (int i = 0; !rc && i < S_COUNT; i++) {
    int s = sqlite3_prepare_v2(r->db, statements[i], -1, &w.st[i], NULL);
    if (s)
      rc = keel__registry_fail(r, s, "preparing a statement", err);
  }
  for (size_t i = 0; !rc && i < n; i++) {
    keel_run_registry_added one = KEEL_RUN_REGISTRY_INSERTED;
    rc = add_one(&w, &recs[i], &one, err);
    if (what)
      what[i] = one;
  }
  for (int i = 0; i < S_COUNT; i++)
    sqlite3_finalize(w.st[i]);
  if (!rc)
    rc = keel__registry_exec(r, "COMMIT", "committing", err);
  if (rc)
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int keel_run_registry_read_bundle(const char *path, int verify,
                                  keel_run_registry_record *rec,
                                  keel_error *err)
{
  char abs[PATH_MAX], sha[65];
  keel_bundle *b = NULL;
  keel_bundle_report report = {0};
  int rc;
  memset(rec, 0, sizeof *rec);
  if (!realpath(path, abs))
    return keel_fail(err, KEEL_ENOTFOUND, "%s: %s", path, strerror(errno));
  if ((rc = keel_sha256_file(abs, sha, NULL, err)))
    return rc;
  if ((rc = keel_bundle_open(abs, NULL, &b, err)))
    goto out;
  if (verify) {
    rc = keel_bundle_check(b, NULL, &report, err);
    if (rc == KEEL_EINTEGRITY && report.problems) {
      /* the first finding names what differs */
      size_t n = strcspn(report.problems, "\n");
      keel_fail(err, rc, "%s: does not verify: %.*s%s", path, (int)n,
                report.problems,
                report.n_problems > 1 ? " (and more: keel verify)" : "");
    }
    keel_bundle_report_free(&report);
    if (rc)
      goto out;
  }
  rc = keel_run_registry_record_from_bundle(b, abs, sha, rec, err);
out:
  keel_bundle_close(b);
  return rc;
}

void keel_run_registry_read_bundles(const char *const *paths, size_t n,
                                    int verify, int threads,
                                    keel_run_registry_record *recs, int *rcs,
                                    keel_error *errs)
{
  /* bundles are independent: reading and verifying them (inflate and
   * SHA-256, most of an import's time) spreads over the cores */
  long count = (long)n;
  if (threads <= 0)
    threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (long i = 0; i < count; i++) {
    memset(&errs[i], 0, sizeof errs[i]);
    rcs[i] =
        keel_run_registry_read_bundle(paths[i], verify, &recs[i], &errs[i]);
  }
}

int keel_run_registry_add_bundle(keel_run_registry *r, const char *path,
                                 int verify, keel_run_registry_added *what,
                                 keel_error *err)
{
  keel_run_registry_record rec;
  int rc = keel_run_registry_read_bundle(path, verify, &rec, err);
  if (!rc)
    rc = keel_run_registry_insert(r, &rec, 1, what, err);
  keel_run_registry_record_free(&rec);
  return rc;
}
