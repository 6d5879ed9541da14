/* libsvm source: densifying, comments, CRLF, 0/1-based indices,
 * n_features, and each malformed line with file:line in the message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "base/params.h"
#include "plugin/table.h"
#include "test_util.h"

typedef struct src {
  const keel_loaded_plugin *p;
  const keel_source_api *api;
  keel_value *v;
} src;

static src load(const char *path)
{
  src s = {0};
  s.p = keel_test_plugin(KEEL_KIND_SOURCE, "libsvm");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s.p);
  s.api = s.p->api;
  s.v = keel_test_default_values(s.p);
  s.v[0].s = path;
  return s;
}

static void set(src *s, const char *name, const char *text)
{
  for (size_t i = 0; i < s->p->desc.n_params; i++) {
    const keel_param_decl *d = &s->p->desc.params[i];
    if (strcmp(d->name, name) != 0)
      continue;
    keel_value nv;
    CU_ASSERT_EQUAL_FATAL(keel_param_parse(d, text, &nv, NULL), KEEL_OK);
    s->v[i] = nv;
    return;
  }
  CU_FAIL_FATAL("unknown parameter");
}

static keel_table *read_ok(const src *s)
{
  keel_schema decl, actual;
  keel_table *t = NULL;
  keel_error err = {0};
  keel_schema_init(&decl);
  int rc = s->api->schema(keel_test_host(), s->v, &decl, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(s->api->read(keel_test_host(), s->v, &t, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(t, &actual, NULL), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(actual.n_cols, decl.n_cols);
  for (size_t c = 0; c < decl.n_cols; c++) {
    CU_ASSERT_STRING_EQUAL(actual.cols[c].name, decl.cols[c].name);
    CU_ASSERT_EQUAL(actual.cols[c].type, decl.cols[c].type);
    CU_ASSERT_EQUAL(actual.cols[c].flags, decl.cols[c].flags);
  }
  keel_schema_free(&decl);
  keel_schema_free(&actual);
  return t;
}

static void expect_fail(const char *path, int code, const char *a,
                        const char *b)
{
  src s = load(path);
  keel_table *t = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL(s.api->read(keel_test_host(), s.v, &t, &err), code);
  CU_ASSERT_PTR_NULL(t);
  if (!strstr(err.message, a) || (b && !strstr(err.message, b))) {
    fprintf(stderr, "message lacks '%s'/'%s': %s\n", a, b ? b : "",
            err.message);
    CU_FAIL("message");
  }
}

static void test_basic(void)
{
  src s = load("libsvm/basic.svm");
  keel_table *t = read_ok(&s);
  CU_ASSERT_EQUAL_FATAL(t->n_rows, 3);
  CU_ASSERT_EQUAL_FATAL(t->n_cols, 4);
  CU_ASSERT_STRING_EQUAL(t->cols[0].name, "label");
  CU_ASSERT_STRING_EQUAL(t->cols[1].name, "f1");
  CU_ASSERT_STRING_EQUAL(t->cols[3].name, "f3");
  CU_ASSERT_EQUAL(t->cols[0].num[1], -1.0);
  CU_ASSERT_EQUAL(t->cols[0].num[2], 0.5);
  CU_ASSERT_EQUAL(t->cols[1].num[0], 0.5);
  CU_ASSERT_EQUAL(t->cols[2].num[0], 0.0); /* absent = 0, not missing */
  CU_ASSERT_EQUAL(t->cols[2].missing[0], 0);
  CU_ASSERT_EQUAL(t->cols[2].num[1], 1e-3);
  CU_ASSERT_EQUAL(t->cols[3].num[2], 3.0);
  keel_table_free(t);

  set(&s, "n_features", "5");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(t->n_cols, 6);
  CU_ASSERT_STRING_EQUAL(t->cols[5].name, "f5");
  keel_table_free(t);
  set(&s, "n_features", "2");
  keel_error err = {0};
  CU_ASSERT_EQUAL(s.api->read(keel_test_host(), s.v, &t, &err), KEEL_EDATA);
  CU_ASSERT(strstr(err.message, "basic.svm:1") &&
            strstr(err.message, "n_features"));
}

static void test_zero_based(void)
{
  src s = load("libsvm/zero.svm");
  set(&s, "zero_based", "true");
  keel_table *t = read_ok(&s);
  CU_ASSERT_EQUAL_FATAL(t->n_cols, 4);
  CU_ASSERT_STRING_EQUAL(t->cols[1].name, "f0");
  CU_ASSERT_EQUAL(t->cols[1].num[0], 1.0);
  CU_ASSERT_EQUAL(t->cols[3].num[0], 5.0);
  CU_ASSERT_EQUAL(t->cols[2].num[1], 2.0);
  keel_table_free(t);
}

static void test_bad_lines(void)
{
  expect_fail("libsvm/unsorted.svm", KEEL_EDATA, "unsorted.svm:1",
              "strictly increasing");
  expect_fail("libsvm/unsorted.svm", KEEL_EDATA, "token 3",
              "(index 2 after 3)");
  expect_fail("libsvm/badval.svm", KEEL_EDATA, "badval.svm:1", "'x'");
  expect_fail("libsvm/badlabel.svm", KEEL_EDATA, "badlabel.svm:1", "label");
  expect_fail("libsvm/zeroidx.svm", KEEL_EDATA, "zeroidx.svm:1", "index 0");
  expect_fail("libsvm/qid.svm", KEEL_EUNSUPPORTED, "qid", NULL);
  expect_fail("libsvm/notpair.svm", KEEL_EDATA, "notpair.svm:1", "index:value");
  expect_fail("libsvm/empty.svm", KEEL_EDATA, "empty.svm", "no data rows");
  expect_fail("libsvm/nan.svm", KEEL_EDATA, "nan.svm:1", "finite");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"densify, comments, CRLF, n_features", test_basic},
      {"zero-based indices", test_zero_based},
      {"malformed lines", test_bad_lines},
      {NULL, NULL}};
  return keel_test_run_suite("source_libsvm", tests);
}
