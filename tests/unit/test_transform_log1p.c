/* log1p: values equal libm's log1p bit for bit, missing rows stay
 * missing, x <= -1 is an error naming column/row/value or becomes missing,
 * schema flags and refusals. */
#include "transform_fixture.h"

static const double xs[] = {0, 1, -0.5, 1e-10, 1e300, 2.718281828459045};

static keel_table *table(void)
{
  keel_table *t = keel_table_new(7);
  double x[7];
  for (size_t i = 0; i < 6; i++)
    x[i] = xs[i];
  x[6] = NAN; /* missing */
  tt_add_num(t, "x", KEEL_COL_NUMERIC, x, NULL);
  tt_add_num(t, "y", KEEL_COL_NUMERIC,
             (const double[]){-5, -5, -5, -5, -5, -5, -5}, NULL);
  tt_add_cat(t, "c", (const char *const[]){"k"}, 1,
             (const int[]){0, 0, 0, 0, 0, 0, 0});
  return t;
}

static void test_values(void)
{
  tt_tx t = tt_load("log1p");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "x"), KEEL_OK);
  keel_table *in = table();
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  for (size_t i = 0; i < 6; i++)
    CU_ASSERT_EQUAL(out->cols[0].num[i], log1p(xs[i]));
  CU_ASSERT_EQUAL(out->cols[0].num[0], 0.0);
  CU_ASSERT_EQUAL(out->cols[0].missing[6], 1);
  CU_ASSERT_EQUAL(out->cols[1].num[0], -5.0); /* not selected */
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_table_free(in);
  tt_done(&t);
}

static void test_invalid(void)
{
  tt_tx t = tt_load("log1p");
  keel_table *in = table(), *out = NULL;
  keel_state *st = keel_state_new();
  keel_error err;
  /* Default columns: all numeric, so y = -5 is reached. */
  CU_ASSERT_EQUAL(tt_apply(&t, st, in, &out, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'y'", "row 1", "-5", "invalid=missing", NULL));
  CU_ASSERT_PTR_NULL(out);
  CU_ASSERT_EQUAL(tt_set(&t, "invalid", "missing"), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(tt_apply(&t, st, in, &out, &err), KEEL_OK);
  for (size_t r = 0; r < 7; r++)
    CU_ASSERT_EQUAL(out->cols[1].missing[r], 1);
  CU_ASSERT_EQUAL(out->cols[0].num[1], log1p(1.0));
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_table *edge = keel_table_new(1);
  tt_add_num(edge, "z", KEEL_COL_NUMERIC, (const double[]){-1}, NULL);
  CU_ASSERT_EQUAL(tt_set(&t, "invalid", "error"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_apply(&t, st, edge, &out, &err), KEEL_EDATA);
  keel_table_free(edge);
  keel_state_free(st);
  keel_table_free(in);
  tt_done(&t);
}

static void test_schema(void)
{
  tt_tx t = tt_load("log1p");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "x", KEEL_COL_NUMERIC, 0);
  tt_schema_add(&in, "c", KEEL_COL_CATEGORICAL, 0);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  CU_ASSERT_EQUAL(out.cols[0].flags, 0);
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "invalid", "missing"), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  CU_ASSERT_EQUAL(out.cols[0].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(out.cols[1].flags, 0);
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "c"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'c'", "categorical", NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"values equal libm log1p", test_values},
      {"values <= -1", test_invalid},
      {"schema flags and refusals", test_schema},
      {NULL, NULL}};
  return keel_test_run_suite("transform_log1p", tests);
}
