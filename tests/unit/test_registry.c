/* The run registry's library: idempotent inserts, the refusal of a
 * second bundle for one run id (nothing of its batch written), a moved
 * bundle, one run read back whole, lists through --where, and a schema
 * from a newer keel refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/status.h"
#include "run/registry.h"
#include "test_util.h"

/* A record with a parameter, a metric (one NaN) and a per-epoch value. */
static void make(keel_run_registry_record *r, const char *id, const char *path,
                 char sha_digit, double lr)
{
  memset(r, 0, sizeof *r);
  r->run_id = strdup(id);
  r->status = strdup("ok");
  r->started_at = strdup(id); /* sorts like the id */
  r->template_name = strdup("tabular-classification");
  r->bundle_path = strdup(path);
  memset(r->bundle_sha256, sha_digit, 64);
  r->params = calloc(1, sizeof *r->params);
  r->params[0] = (keel_run_registry_param){strdup("optimizer.lr"),
                                           strdup("optimizer"),
                                           strdup("sgd"),
                                           strdup("float"),
                                           NULL,
                                           lr,
                                           1};
  char text[32];
  snprintf(text, sizeof text, "%g", lr);
  r->params[0].text = strdup(text);
  r->n_params = 1;
  r->metrics = calloc(3, sizeof *r->metrics);
  r->metrics[0] =
      (keel_run_registry_metric){strdup("valid.accuracy"), 0, 1 - lr, 0};
  r->metrics[1] = (keel_run_registry_metric){strdup("valid.loss"), 0, 0, 1};
  r->metrics[2] = (keel_run_registry_metric){strdup("valid.loss"), 1, 0.5, 0};
  r->n_metrics = 3;
}

static keel_run_registry *fresh(const char *name)
{
  const char *path = keel_test_tmp_path(name);
  keel_run_registry *reg = NULL;
  keel_error err = {0};
  unlink(path);
  CU_ASSERT_EQUAL(keel_run_registry_open(path, 1, &reg, &err), 0);
  return reg;
}

static size_t count_runs(keel_run_registry *reg)
{
  keel_run_registry_table t = {0};
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_run_registry_list(reg, NULL, NULL, 0, &t, &err), 0);
  size_t n = t.n_rows;
  keel_run_registry_table_free(&t);
  return n;
}

static void test_idempotent_and_refusal(void)
{
  keel_run_registry *reg = fresh("idem.db");
  CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
  keel_run_registry_record a, b, c;
  keel_run_registry_added what[2];
  keel_error err = {0};
  make(&a, "keel-run-1", "/nonexistent/a.tar.gz", 'a', 0.1);
  make(&b, "keel-run-2", "/nonexistent/b.tar.gz", 'b', 0.001);
  keel_run_registry_record both[2] = {a, b};
  CU_ASSERT_EQUAL(keel_run_registry_insert(reg, both, 2, what, &err), 0);
  CU_ASSERT_EQUAL(what[0], KEEL_RUN_REGISTRY_INSERTED);
  CU_ASSERT_EQUAL(count_runs(reg), 2);
  /* the same bundle again: one row; its old path gone, the new one kept */
  free(a.bundle_path);
  a.bundle_path = strdup("/nonexistent/moved/a.tar.gz");
  CU_ASSERT_EQUAL(keel_run_registry_insert(reg, &a, 1, what, &err), 0);
  CU_ASSERT_EQUAL(what[0], KEEL_RUN_REGISTRY_MOVED);
  CU_ASSERT_EQUAL(count_runs(reg), 2);
  /* another bundle for run 2, in a batch with a new run: all refused */
  make(&c, "keel-run-3", "/nonexistent/c.tar.gz", 'c', 0.5);
  b.bundle_sha256[0] = 'f';
  keel_run_registry_record batch[2] = {c, b};
  CU_ASSERT_EQUAL(keel_run_registry_insert(reg, batch, 2, what, &err),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "already indexed from another"));
  CU_ASSERT_EQUAL(count_runs(reg), 2);
  /* read back whole, by a unique prefix */
  keel_run_registry_record got;
  CU_ASSERT_EQUAL(keel_run_registry_get(reg, "keel-run-1", &got, &err), 0);
  CU_ASSERT_STRING_EQUAL(got.bundle_path, "/nonexistent/moved/a.tar.gz");
  CU_ASSERT_EQUAL(got.n_params, 1);
  CU_ASSERT_EQUAL(got.n_metrics, 3);
  int nan_seen = 0;
  for (size_t i = 0; i < got.n_metrics; i++)
    nan_seen |= got.metrics[i].epoch == 0 &&
                !strcmp(got.metrics[i].key, "valid.loss") &&
                got.metrics[i].is_nan;
  CU_ASSERT(nan_seen);
  keel_run_registry_record_free(&got);
  CU_ASSERT_EQUAL(keel_run_registry_get(reg, "keel-run-", &got, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_run_registry_get(reg, "nosuch", &got, &err),
                  KEEL_ENOTFOUND);
  /* --where over the two */
  keel_run_registry_table t = {0};
  CU_ASSERT_EQUAL(
      keel_run_registry_list(reg, "optimizer.lr < 0.01", NULL, 0, &t, &err), 0);
  CU_ASSERT_EQUAL(t.n_rows, 1);
  if (t.n_rows)
    CU_ASSERT_STRING_EQUAL(t.cells[0], "keel-run-2");
  keel_run_registry_table_free(&t);
  CU_ASSERT_EQUAL(
      keel_run_registry_list(reg, "valid.loss >= 0", NULL, 0, &t, &err), 0);
  CU_ASSERT_EQUAL(t.n_rows, 0); /* NaN matches nothing */
  keel_run_registry_table_free(&t);
  CU_ASSERT_EQUAL(
      keel_run_registry_list(reg, "status = ok", "valid.accuracy", 0, &t, &err),
      0);
  CU_ASSERT_EQUAL(t.n_rows, 2);
  if (t.n_rows == 2) /* ascending: lr 0.1 has accuracy 0.9 < 0.999 */
    CU_ASSERT_STRING_EQUAL(t.cells[0], "keel-run-1");
  keel_run_registry_table_free(&t);
  CU_ASSERT_EQUAL(keel_run_registry_list(reg, "status = ", NULL, 0, &t, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "--where: column 10"));
  keel_run_registry_record_free(&a);
  keel_run_registry_record_free(&b);
  keel_run_registry_record_free(&c);
  keel_run_registry_close(reg);
}

static void test_newer_schema_refused(void)
{
  keel_run_registry *reg = fresh("newer.db");
  CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
  char *path = strdup(keel_run_registry_path(reg));
  keel_run_registry_close(reg);
  sqlite3 *db = NULL;
  CU_ASSERT_EQUAL(sqlite3_open(path, &db), SQLITE_OK);
  CU_ASSERT_EQUAL(sqlite3_exec(db, "UPDATE schema_version SET version = 2",
                               NULL, NULL, NULL),
                  SQLITE_OK);
  sqlite3_close(db);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_run_registry_open(path, 0, &reg, &err),
                  KEEL_EUNSUPPORTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "newer keel"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
  /* a missing file: not found for readers, nothing created */
  char missing[4200];
  snprintf(missing, sizeof missing, "%s.missing", path);
  CU_ASSERT_EQUAL(keel_run_registry_open(missing, 0, &reg, &err),
                  KEEL_ENOTFOUND);
  CU_ASSERT_NOT_EQUAL(access(missing, F_OK), 0);
  free(path);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"idempotent inserts, refusals, reading back",
       test_idempotent_and_refusal},
      {"a newer schema is refused", test_newer_schema_refused},
      {NULL, NULL}};
  return keel_test_run_suite("registry", tests);
}
