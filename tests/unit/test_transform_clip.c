/* clip: quantile bounds fitted on the training rows (numpy's default
 * linear interpolation), fixed bounds, NaN and missing rows, refusals,
 * JSON state round trip. */
#include <float.h>

#include "transform_fixture.h"

/* Train x = 1..10 plus one missing row (the missing row does not count). */
static keel_table *train_table(void)
{
  keel_table *t = keel_table_new(11);
  const double x[] = {10, 9, 8, 7, NAN, 6, 5, 4, 3, 2, 1};
  tt_add_num(t, "x", KEEL_COL_NUMERIC, x, NULL);
  tt_add_cat(t, "c", (const char *const[]){"u"}, 1,
             (const int[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  return t;
}

static keel_table *valid_table(void)
{
  keel_table *t = keel_table_new(7);
  const double x[] = {0, 1.5, 5, 9.9, 100, 0, NAN};
  const uint8_t miss[] = {0, 0, 0, 0, 0, 1, 0}; /* last: a NaN not missing */
  tt_add_num(t, "x", KEEL_COL_NUMERIC, x, miss);
  tt_add_cat(t, "c", (const char *const[]){"u"}, 1,
             (const int[]){0, 0, 0, 0, 0, 0, 0});
  return t;
}

/* numpy.quantile(..., method="linear") on sorted x, written out. */
static double ref_quantile(const double *x, size_t n, double q)
{
  double h = (double)(n - 1) * q;
  size_t i = (size_t)floor(h);
  if (i + 1 >= n)
    return x[n - 1];
  return h == floor(h) ? x[i] : x[i] + (h - floor(h)) * (x[i + 1] - x[i]);
}

static void test_quantiles(void)
{
  tt_tx t = tt_load("clip");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(tt_set(&t, "lower_q", "0.1"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "upper_q", "0.95"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_table *out = tt_fit_apply(&t, train, valid, &st);
  const double sorted[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  double lo = ref_quantile(sorted, 10, 0.1),
         hi = ref_quantile(sorted, 10, 0.95);
  /* numpy.quantile(range(1, 11), [0.1, 0.95]) = [1.9, 9.55] */
  CU_ASSERT_DOUBLE_EQUAL(lo, 1.9, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hi, 9.55, 1e-12);
  const double *l, *u;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "lower", &l, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "upper", &u, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_EQUAL(l[0], lo);
  CU_ASSERT_EQUAL(u[0], hi);
  const keel_column *x = tt_col(out, "x");
  CU_ASSERT_EQUAL(x->num[0], lo);
  CU_ASSERT_EQUAL(x->num[1], 1.9 > 1.5 ? lo : 1.5);
  CU_ASSERT_EQUAL(x->num[2], 5.0);
  CU_ASSERT_EQUAL(x->num[3], hi);
  CU_ASSERT_EQUAL(x->num[4], hi);
  CU_ASSERT_EQUAL(x->missing[5], 1);
  CU_ASSERT(isnan(x->num[6]) && !x->missing[6]); /* NaN passes through */
  CU_ASSERT_EQUAL(tt_col(out, "c")->code[3], 0);
  keel_table_free(out);
  keel_state_free(st);
  /* Extremes: q = 0 and 1 are the training min and max. */
  CU_ASSERT_EQUAL(tt_set(&t, "lower_q", "0"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "upper_q", "1"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 1.0);
  CU_ASSERT_EQUAL(out->cols[0].num[4], 10.0);
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_fixed(void)
{
  tt_tx t = tt_load("clip");
  CU_ASSERT_EQUAL(tt_set(&t, "method", "fixed"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  /* Default fixed bounds are +-DBL_MAX: nothing changes. */
  keel_table *out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[4], 100.0);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 0.0);
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_set(&t, "lower", "0.5"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "upper", "6"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  const double want[] = {0.5, 1.5, 5, 6, 6};
  for (size_t r = 0; r < 5; r++)
    CU_ASSERT_EQUAL(out->cols[0].num[r], want[r]);
  tt_check_declared(&t, valid, out);
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_refusals(void)
{
  tt_tx t = tt_load("clip");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "x", KEEL_COL_NUMERIC, 0);
  tt_schema_add(&in, "c", KEEL_COL_CATEGORICAL, 0);
  CU_ASSERT_EQUAL(tt_set(&t, "lower_q", "0.9"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "upper_q", "0.1"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "lower_q", "upper_q", NULL));
  keel_schema_free(&out);
  CU_ASSERT_NOT_EQUAL(tt_set(&t, "upper_q", "1.5"), KEEL_OK); /* range */
  CU_ASSERT_EQUAL(tt_set(&t, "method", "fixed"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "lower", "3"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "upper", "2"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "lower", "upper", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "upper", "4"), KEEL_OK);
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
      {"quantile bounds (numpy linear)", test_quantiles},
      {"fixed bounds", test_fixed},
      {"refusals", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("transform_clip", tests);
}
