/* standardize: schema mapping and refusals, fitted mean/std against a
 * hand computation, validation rows, missing values, zero variance, and a
 * bit-identical apply after the state's JSON round trip. */
#include "transform_fixture.h"

static const char *const dict_c[] = {"x", "y"};
static const char *const text_name[] = {"p", "q", "r", "s", "t"};

/* Train: a = {1, 2, -, 4, 5} (mean 3, population variance 10/4),
 *        b = {10, 10, 20, 20, 30} (mean 18, variance 280/5 = 56). */
static keel_table *train_table(void)
{
  keel_table *t = keel_table_new(5);
  const double a[] = {1, 2, NAN, 4, 5}, b[] = {10, 10, 20, 20, 30};
  const int c[] = {0, 1, 0, -1, 1};
  tt_add_num(t, "a", KEEL_COL_NUMERIC, a, NULL);
  tt_add_text(t, "name", text_name);
  tt_add_num(t, "b", KEEL_COL_NUMERIC, b, NULL);
  tt_add_cat(t, "c", dict_c, 2, c);
  return t;
}

/* Validation rows differ from the training rows on purpose. */
static keel_table *valid_table(void)
{
  keel_table *t = keel_table_new(4);
  const double a[] = {3, 0, NAN, 7}, b[] = {18, 0, 25, 30};
  const int c[] = {1, 1, 0, -1};
  const char *const name[] = {"u", NULL, "v", "w"};
  tt_add_num(t, "a", KEEL_COL_NUMERIC, a, NULL);
  tt_add_text(t, "name", name);
  tt_add_num(t, "b", KEEL_COL_NUMERIC, b, NULL);
  tt_add_cat(t, "c", dict_c, 2, c);
  return t;
}

static void input_schema(keel_schema *s)
{
  keel_schema_init(s);
  tt_schema_add(s, "a", KEEL_COL_NUMERIC, KEEL_COL_MAY_MISS);
  tt_schema_add(s, "name", KEEL_COL_TEXT, 0);
  tt_schema_add(s, "b", KEEL_COL_NUMERIC, 0);
  tt_schema_add(s, "c", KEEL_COL_CATEGORICAL, KEEL_COL_MAY_MISS);
}

static void test_schema_passes_through(void)
{
  tt_tx t = tt_load("standardize");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  keel_schema in, out;
  keel_error err;
  input_schema(&in);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  const char *const names[] = {"a", "name", "b", "c"};
  tt_expect_names(&out, names, 4);
  for (size_t i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(out.cols[i].type, in.cols[i].type);
    CU_ASSERT_EQUAL(out.cols[i].flags, in.cols[i].flags);
  }
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_schema_refuses_text_and_unknown(void)
{
  tt_tx t = tt_load("standardize");
  keel_schema in, out;
  keel_error err;
  input_schema(&in);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "a,name"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "standardize", "'name'", "text", "numeric", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "c"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'c'", "categorical", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "a,bb"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'bb'", "not in the input", NULL));
  keel_schema_free(&out);
  /* The host's parameter parser already refuses a name listed twice. */
  CU_ASSERT_NOT_EQUAL(tt_set(&t, "columns", "a,a"), KEEL_OK);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_fit_apply_matches_hand_computation(void)
{
  tt_tx t = tt_load("standardize");
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_table *out = tt_fit_apply(&t, train, valid, &st);
  const double *mean, *std;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "mean", &mean, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(n, 2);
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(st, "std", &std, &n, NULL), 0);
  /* Only the training rows count (validation a has mean 10/3). */
  CU_ASSERT_EQUAL(mean[0], 3.0);
  CU_ASSERT_EQUAL(std[0], sqrt(2.5));
  CU_ASSERT_EQUAL(mean[1], 18.0);
  CU_ASSERT_EQUAL(std[1], sqrt(56.0));

  const keel_column *a = tt_col(out, "a"), *b = tt_col(out, "b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(a->num[0], 0.0);
  CU_ASSERT_EQUAL(a->num[1], (0.0 - 3.0) / sqrt(2.5));
  CU_ASSERT_EQUAL(a->missing[2], 1);
  CU_ASSERT_EQUAL(a->num[3], (7.0 - 3.0) / sqrt(2.5));
  CU_ASSERT_EQUAL(b->num[0], 0.0);
  CU_ASSERT_EQUAL(b->num[1], (0.0 - 18.0) / sqrt(56.0));
  CU_ASSERT_EQUAL(b->num[2], (25.0 - 18.0) / sqrt(56.0));
  CU_ASSERT_EQUAL(b->num[3], (30.0 - 18.0) / sqrt(56.0));
  for (size_t r = 0; r < 4; r++)
    CU_ASSERT_EQUAL(b->missing[r], 0);
  /* Untouched columns pass through unchanged, in order. */
  const char *const names[] = {"a", "name", "b", "c"};
  tt_expect_table_names(out, names, 4);
  CU_ASSERT_STRING_EQUAL(out->cols[1].text[0], "u");
  CU_ASSERT_PTR_NULL(out->cols[1].text[1]);
  CU_ASSERT_EQUAL(out->cols[3].code[0], 1);
  CU_ASSERT_EQUAL(out->cols[3].missing[3], 1);
  tt_check_declared(&t, valid, out);
  keel_table_free(out);
  keel_state_free(st);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_without_mean_or_std(void)
{
  tt_tx t = tt_load("standardize");
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "b"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "with_mean", "false"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  keel_table *out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(tt_col(out, "b")->num[2], 25.0 / sqrt(56.0));
  CU_ASSERT_EQUAL(tt_col(out, "a")->num[3], 7.0); /* not selected */
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_set(&t, "with_mean", "true"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "with_std", "false"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(tt_col(out, "b")->num[2], 7.0);
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_zero_variance(void)
{
  tt_tx t = tt_load("standardize");
  keel_table *train = keel_table_new(3), *valid = keel_table_new(2);
  const double k[] = {0.1, 0.1, 0.1}, v[] = {0.1, 1.1};
  tt_add_num(train, "k", KEEL_COL_NUMERIC, k, NULL);
  tt_add_num(valid, "k", KEEL_COL_NUMERIC, v, NULL);
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'k'", "zero variance", "zero_variance=keep", NULL));
  keel_state_free(st);
  CU_ASSERT_EQUAL(tt_set(&t, "zero_variance", "keep"), KEEL_OK);
  keel_table *out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 0.0);
  CU_ASSERT_EQUAL(out->cols[0].num[1], 1.1 - 0.1);
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_bad_training_data(void)
{
  tt_tx t = tt_load("standardize");
  keel_table *train = keel_table_new(3);
  const double x[] = {1, INFINITY, 2};
  const uint8_t all[] = {1, 1, 1};
  tt_add_num(train, "x", KEEL_COL_NUMERIC, x, (const uint8_t[]){0, 0, 0});
  tt_add_num(train, "gone", KEEL_COL_NUMERIC, x, all);
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'x'", "row 2", "not finite", NULL));
  keel_state_free(st);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "gone"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'gone'", "no non-missing", NULL));
  keel_state_free(st);
  keel_table_free(train);
  tt_done(&t);
}

static void test_apply_needs_state_and_columns(void)
{
  tt_tx t = tt_load("standardize");
  keel_table *train = train_table();
  keel_state *st = keel_state_new();
  keel_table *out = NULL;
  keel_error err;
  CU_ASSERT_NOT_EQUAL(tt_apply(&t, st, train, &out, &err), KEEL_OK);
  CU_ASSERT(tt_says(&err, "columns", NULL));
  CU_ASSERT_PTR_NULL(out);
  keel_state_free(st);
  /* A fitted column absent at apply time is a schema error. */
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_OK);
  keel_table *other = keel_table_new(1);
  tt_add_num(other, "a", KEEL_COL_NUMERIC, (const double[]){1}, NULL);
  CU_ASSERT_EQUAL(tt_apply(&t, st, other, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'b'", NULL));
  keel_table_free(other);
  keel_state_free(st);
  keel_table_free(train);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"schema passes columns through", test_schema_passes_through},
      {"schema refuses text and unknown columns",
       test_schema_refuses_text_and_unknown},
      {"fit/apply match a hand computation",
       test_fit_apply_matches_hand_computation},
      {"with_mean / with_std off", test_without_mean_or_std},
      {"zero variance: error or keep", test_zero_variance},
      {"non-finite or empty training column", test_bad_training_data},
      {"apply needs the fitted state", test_apply_needs_state_and_columns},
      {NULL, NULL}};
  return keel_test_run_suite("transform_standardize", tests);
}
