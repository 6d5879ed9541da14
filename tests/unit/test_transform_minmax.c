/* minmax: fitted min/max against the training rows only, the documented
 * formula on validation rows (values outside the training range, clip),
 * a constant column, schema refusals, JSON state round trip. */
#include "transform_fixture.h"

/* Train x = {2, 4, -, 10}: min 2, max 10. */
static keel_table *train_table(void)
{
  keel_table *t = keel_table_new(4);
  tt_add_num(t, "x", KEEL_COL_NUMERIC, (const double[]){2, 4, NAN, 10}, NULL);
  tt_add_num(t, "k", KEEL_COL_NUMERIC, (const double[]){5, 5, 5, 5}, NULL);
  tt_add_text(t, "s", (const char *const[]){"a", "b", "c", "d"});
  return t;
}

static keel_table *valid_table(void)
{
  keel_table *t = keel_table_new(6);
  tt_add_num(t, "x", KEEL_COL_NUMERIC, (const double[]){2, 6, 10, 12, -2, NAN},
             NULL);
  tt_add_num(t, "k", KEEL_COL_NUMERIC, (const double[]){5, 6, 4, 5, 5, 5},
             NULL);
  tt_add_text(t, "s", (const char *const[]){"a", "b", "c", "d", "e", "f"});
  return t;
}

/* The reference formula, as documented. */
static double ref(double x, double mn, double mx, double lo, double hi)
{
  return lo + (x - mn) / (mx - mn) * (hi - lo);
}

static void test_default_range(void)
{
  tt_tx t = tt_load("minmax");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_table *out = tt_fit_apply(&t, train, valid, &st);
  const double *mn, *mx;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "min", &mn, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "max", &mx, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(n, 2);
  CU_ASSERT_EQUAL(mn[0], 2.0);
  CU_ASSERT_EQUAL(mx[0], 10.0);
  const keel_column *x = tt_col(out, "x"), *k = tt_col(out, "k");
  const double want[] = {0, 0.5, 1, 1.25, -0.5};
  for (size_t r = 0; r < 5; r++)
    CU_ASSERT_EQUAL(x->num[r], want[r]);
  CU_ASSERT_EQUAL(x->missing[5], 1);
  /* A constant training column maps everything to lo. */
  for (size_t r = 0; r < 6; r++)
    CU_ASSERT_EQUAL(k->num[r], 0.0);
  CU_ASSERT_STRING_EQUAL(tt_col(out, "s")->text[4], "e");
  tt_check_declared(&t, valid, out);
  keel_table_free(out);
  keel_state_free(st);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_custom_range_and_clip(void)
{
  tt_tx t = tt_load("minmax");
  CU_ASSERT_EQUAL(tt_set(&t, "lo", "-1"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "hi", "0.3"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "x"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  keel_table *out = tt_fit_apply(&t, train, valid, NULL);
  const double xs[] = {2, 6, 10, 12, -2};
  for (size_t r = 0; r < 5; r++)
    CU_ASSERT_EQUAL(out->cols[0].num[r], ref(xs[r], 2, 10, -1, 0.3));
  CU_ASSERT_EQUAL(tt_col(out, "k")->num[1], 6.0); /* not selected */
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_set(&t, "clip", "true"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[3], 0.3);
  CU_ASSERT_EQUAL(out->cols[0].num[4], -1.0);
  CU_ASSERT_EQUAL(out->cols[0].num[1], ref(6, 2, 10, -1, 0.3));
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_refusals(void)
{
  tt_tx t = tt_load("minmax");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "x", KEEL_COL_NUMERIC, 0);
  tt_schema_add(&in, "s", KEEL_COL_TEXT, 0);
  CU_ASSERT_EQUAL(tt_set(&t, "lo", "1"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "lo", "hi", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "lo", "0"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "s"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'s'", "text", NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  keel_table *train = keel_table_new(2);
  tt_add_num(train, "x", KEEL_COL_NUMERIC, (const double[]){1, NAN},
             (const uint8_t[]){0, 0});
  CU_ASSERT_EQUAL(tt_set(&t, "columns", ""), KEEL_OK);
  keel_state *st = NULL;
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'x'", "row 2", NULL));
  keel_state_free(st);
  keel_table_free(train);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"default range [0, 1]", test_default_range},
      {"custom range and clip", test_custom_range_and_clip},
      {"refusals", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("transform_minmax", tests);
}
