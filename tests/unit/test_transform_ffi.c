/* ffi: calls libm/libc functions through libffi and compares with calling
 * them directly (bit for bit), the signature grammar and its refusals,
 * missing library/symbol, argument conversion errors, non-finite results,
 * the recorded state and its JSON round trip. */
#include <stdlib.h>

#include "transform_fixture.h"

static const double xs[] = {0, 1, -0.5, 1e-10, 3.25, 1e300};
#define N_XS (sizeof xs / sizeof xs[0])

static keel_table *table(void)
{
  keel_table *t = keel_table_new(N_XS + 1);
  double x[N_XS + 1];
  for (size_t i = 0; i < N_XS; i++)
    x[i] = xs[i];
  x[N_XS] = NAN; /* missing: the function is not called */
  tt_add_num(t, "x", KEEL_COL_NUMERIC, x, NULL);
  tt_add_cat(t, "c", (const char *const[]){"k"}, 1,
             (const int[]){0, 0, 0, 0, 0, 0, 0});
  return t;
}

static tt_tx load(const char *lib, const char *sym, const char *sig)
{
  tt_tx t = tt_load("ffi");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(tt_set(&t, "library", lib), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "symbol", sym), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "signature", sig), KEEL_OK);
  return t;
}

static void test_log1p_from_libm(void)
{
  tt_tx t = load("libm.so.6", "log1p", "double(double)");
  keel_table *in = table();
  keel_state *st = NULL;
  keel_table *out = tt_fit_apply(&t, in, in, &st);
  for (size_t i = 0; i < N_XS; i++)
    CU_ASSERT_EQUAL(out->cols[0].num[i], log1p(xs[i]));
  CU_ASSERT_EQUAL(out->cols[0].missing[N_XS], 1);
  CU_ASSERT_EQUAL(out->cols[1].code[0], 0);
  tt_check_declared(&t, in, out);
  const char *const *v;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_strings(st, "symbol", &v, &n, NULL), 0);
  CU_ASSERT_STRING_EQUAL(v[0], "log1p");
  CU_ASSERT_EQUAL_FATAL(
      keel_state_get_strings(st, "library_path", &v, &n, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(v[0], "libm"));
  CU_ASSERT_EQUAL_FATAL(keel_state_get_strings(st, "columns", &v, &n, NULL), 0);
  CU_ASSERT_EQUAL(n, 1);
  keel_table_free(out);
  /* The state was made for log1p: asking for expm1 with it is refused. */
  CU_ASSERT_EQUAL(tt_set(&t, "symbol", "expm1"), KEEL_OK);
  keel_error err;
  CU_ASSERT_EQUAL(tt_apply(&t, st, in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "log1p", "expm1", NULL));
  keel_state_free(st);
  keel_table_free(in);
  tt_done(&t);
}

static void test_other_signatures(void)
{
  keel_table *in = table();
  /* Two arguments: the second is the constant arg2. */
  tt_tx t = load("libm.so.6", "pow", " double ( double , double ) ");
  CU_ASSERT_EQUAL(tt_set(&t, "arg2", "3"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "nonfinite", "keep"), KEEL_OK); /* 1e300^3 */
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  for (size_t i = 0; i < N_XS; i++)
    CU_ASSERT_EQUAL(out->cols[0].num[i], pow(xs[i], 3.0));
  CU_ASSERT(isinf(out->cols[0].num[N_XS - 1]));
  keel_table_free(out);
  tt_done(&t);
  /* float: the value is rounded to float, the result widened. */
  t = load("libm.so.6", "cbrtf", "float(float)");
  keel_table *small = keel_table_new(3);
  tt_add_num(small, "x", KEEL_COL_NUMERIC, (const double[]){8, 0.1, -27}, NULL);
  out = tt_fit_apply(&t, small, small, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 2.0);
  CU_ASSERT_EQUAL(out->cols[0].num[1], (double)cbrtf((float)0.1));
  CU_ASSERT_EQUAL(out->cols[0].num[2], -3.0);
  keel_table_free(out);
  tt_done(&t);
  /* Integers: abs and labs from libc. */
  t = load("libc.so.6", "abs", "int32(int32)");
  keel_table *ints = keel_table_new(2);
  tt_add_num(ints, "x", KEEL_COL_NUMERIC, (const double[]){8, -27}, NULL);
  out = tt_fit_apply(&t, ints, ints, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 8.0);
  CU_ASSERT_EQUAL(out->cols[0].num[1], 27.0);
  keel_table_free(out);
  keel_table_free(ints);
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, small, &st, &err), KEEL_OK);
  /* 0.1 is no int32: named with its row. */
  CU_ASSERT_EQUAL(tt_apply(&t, st, small, &out, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'x'", "row 2", "int32", NULL));
  keel_state_free(st);
  tt_done(&t);
  t = load("libc.so.6", "labs", "int64(int64)");
  keel_table *big = keel_table_new(1);
  tt_add_num(big, "x", KEEL_COL_NUMERIC, (const double[]){-4503599627370496.0},
             NULL);
  out = tt_fit_apply(&t, big, big, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 4503599627370496.0);
  keel_table_free(out);
  tt_done(&t);
  keel_table_free(big);
  keel_table_free(small);
  keel_table_free(in);
}

static void expect_schema_error(const char *lib, const char *sym,
                                const char *sig, int code, const char *what)
{
  tt_tx t = load(lib, sym, sig);
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "x", KEEL_COL_NUMERIC, 0);
  int rc = tt_schema(&t, &in, &out, &err);
  if (rc != code)
    fprintf(stderr, "%s %s %s: rc %d (%s)\n", lib, sym, sig, rc, err.message);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT(tt_says(&err, what, NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_refusals(void)
{
  expect_schema_error("libm.so.6", "log1p", "double(string)", KEEL_EINVAL,
                      "signature");
  expect_schema_error("libm.so.6", "log1p", "double()", KEEL_EINVAL,
                      "signature");
  expect_schema_error("libm.so.6", "log1p", "double(double,double,double)",
                      KEEL_EINVAL, "signature");
  expect_schema_error("libm.so.6", "log1p", "double(double) x", KEEL_EINVAL,
                      "signature");
  expect_schema_error("libm.so.6", "log1p", "int(double)", KEEL_EINVAL,
                      "signature");
  expect_schema_error("libnot-there.so.9", "log1p", "double(double)",
                      KEEL_ENOTFOUND, "libnot-there.so.9");
  expect_schema_error("libm.so.6", "no_such_function", "double(double)",
                      KEEL_ENOTFOUND, "no_such_function");
  /* arg2 must convert to the declared type. */
  tt_tx t = load("libm.so.6", "ldexp", "double(double,int32)");
  CU_ASSERT_EQUAL(tt_set(&t, "arg2", "0.5"), KEEL_OK);
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "x", KEEL_COL_NUMERIC, 0);
  tt_schema_add(&in, "c", KEEL_COL_CATEGORICAL, 0);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "arg2", "int32", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "arg2", "4"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "c"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'c'", "categorical", NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_nonfinite(void)
{
  tt_tx t = load("libm.so.6", "log1p", "double(double)");
  keel_table *in = keel_table_new(2), *out = NULL;
  tt_add_num(in, "x", KEEL_COL_NUMERIC, (const double[]){1, -1}, NULL);
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(tt_fit(&t, in, &st, &err), KEEL_OK);
  CU_ASSERT_EQUAL(tt_apply(&t, st, in, &out, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'x'", "row 2", "log1p", "nonfinite", NULL));
  CU_ASSERT_EQUAL(tt_set(&t, "nonfinite", "missing"), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(tt_apply(&t, st, in, &out, &err), KEEL_OK);
  CU_ASSERT_EQUAL(out->cols[0].missing[1], 1);
  CU_ASSERT_EQUAL(out->cols[0].num[0], log1p(1.0));
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_set(&t, "nonfinite", "keep"), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(tt_apply(&t, st, in, &out, &err), KEEL_OK);
  CU_ASSERT(isinf(out->cols[0].num[1]) && out->cols[0].num[1] < 0);
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_state_free(st);
  keel_table_free(in);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"log1p from libm.so.6 equals log1p", test_log1p_from_libm},
      {"two args, float and integer signatures", test_other_signatures},
      {"refusals at schema time", test_refusals},
      {"non-finite results", test_nonfinite},
      {NULL, NULL}};
  return keel_test_run_suite("transform_ffi", tests);
}
