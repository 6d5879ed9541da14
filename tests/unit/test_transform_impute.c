/* impute: every strategy against hand-computed fills, categorical
 * most_frequent (ties to the smallest name) and constant (dictionary
 * grows), indicators, schema flags and refusals, JSON state round trip. */
#include "transform_fixture.h"

static const char *const dict_c[] = {"b", "a", "z"};

/* Train: n = {1, -, 3, 3, 10, -}: mean 17/4, median 3, mode 3;
 *        m = {2, 4, -, 6, 8, 1}: mean 21/5, median 4, mode (all once) 1;
 *        c = {b, a, b, a, -, z}: b and a twice each, so mode "a". */
static keel_table *train_table(void)
{
  keel_table *t = keel_table_new(6);
  const double n[] = {1, NAN, 3, 3, 10, NAN}, m[] = {2, 4, NAN, 6, 8, 1};
  const int c[] = {0, 1, 0, 1, -1, 2};
  const char *const txt[] = {"a", "b", "c", "d", "e", "f"};
  tt_add_num(t, "n", KEEL_COL_NUMERIC, n, NULL);
  tt_add_num(t, "m", KEEL_COL_NUMERIC, m, NULL);
  tt_add_cat(t, "c", dict_c, 3, c);
  tt_add_text(t, "t", txt);
  return t;
}

static keel_table *valid_table(void)
{
  keel_table *t = keel_table_new(4);
  const double n[] = {NAN, 5, NAN, 0}, m[] = {NAN, NAN, 7, 0};
  const int c[] = {-1, 2, -1, 0};
  const char *const txt[] = {"w", "x", NULL, "z"};
  tt_add_num(t, "n", KEEL_COL_NUMERIC, n, NULL);
  tt_add_num(t, "m", KEEL_COL_NUMERIC, m, NULL);
  tt_add_cat(t, "c", dict_c, 3, c);
  tt_add_text(t, "t", txt);
  return t;
}

static void expect_num(const keel_table *out, const char *name,
                       const double *want)
{
  const keel_column *c = tt_col(out, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  for (size_t r = 0; r < out->n_rows; r++) {
    CU_ASSERT_EQUAL(c->missing[r], 0);
    if (c->num[r] != want[r]) {
      fprintf(stderr, "%s row %zu: %.17g, expected %.17g\n", name, r, c->num[r],
              want[r]);
      CU_FAIL("value");
    }
  }
}

static keel_table *run(tt_tx *t)
{
  keel_table *train = train_table(), *valid = valid_table();
  keel_table *out = tt_fit_apply(t, train, valid, NULL);
  tt_check_declared(t, valid, out);
  keel_table_free(valid);
  keel_table_free(train);
  return out;
}

static void test_mean(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  keel_table *out = run(&t);
  expect_num(out, "n", (const double[]){17.0 / 4, 5, 17.0 / 4, 0});
  expect_num(out, "m", (const double[]){21.0 / 5, 21.0 / 5, 7, 0});
  /* Categorical is not selected by mean: passes through, still missing. */
  CU_ASSERT_EQUAL(tt_col(out, "c")->missing[0], 1);
  const char *const names[] = {"n", "m", "c", "t"};
  tt_expect_table_names(out, names, 4);
  keel_table_free(out);
  tt_done(&t);
}

static void test_median(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "median"), KEEL_OK);
  keel_table *out = run(&t);
  expect_num(out, "n", (const double[]){3, 5, 3, 0});
  expect_num(out, "m", (const double[]){4, 4, 7, 0});
  keel_table_free(out);
  /* Even count: the mean of the two middle values. */
  keel_table *train = keel_table_new(4);
  tt_add_num(train, "x", KEEL_COL_NUMERIC, (const double[]){7, 1, 2, 100},
             NULL);
  keel_table *valid = keel_table_new(1);
  tt_add_num(valid, "x", KEEL_COL_NUMERIC, (const double[]){NAN}, NULL);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 4.5);
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_most_frequent(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "most_frequent"), KEEL_OK);
  keel_table *out = run(&t);
  expect_num(out, "n", (const double[]){3, 5, 3, 0});
  expect_num(out, "m", (const double[]){1, 1, 7, 0});
  const keel_column *c = tt_col(out, "c");
  CU_ASSERT_EQUAL_FATAL(c->n_dict, 3);
  CU_ASSERT_STRING_EQUAL(c->dict[c->code[0]], "a");
  CU_ASSERT_STRING_EQUAL(c->dict[c->code[1]], "z");
  CU_ASSERT_STRING_EQUAL(c->dict[c->code[2]], "a");
  CU_ASSERT_STRING_EQUAL(c->dict[c->code[3]], "b");
  for (size_t r = 0; r < 4; r++)
    CU_ASSERT_EQUAL(c->missing[r], 0);
  /* Text is never imputed; its missing row stays missing. */
  CU_ASSERT_PTR_NULL(tt_col(out, "t")->text[2]);
  keel_table_free(out);
  tt_done(&t);
}

static void test_constant(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "constant"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "fill_value", "-1.5"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "fill_category", "unknown"), KEEL_OK);
  keel_table *out = run(&t);
  expect_num(out, "n", (const double[]){-1.5, 5, -1.5, 0});
  const keel_column *c = tt_col(out, "c");
  CU_ASSERT_EQUAL_FATAL(c->n_dict, 4);
  CU_ASSERT_STRING_EQUAL(c->dict[3], "unknown");
  CU_ASSERT_EQUAL(c->code[0], 3);
  CU_ASSERT_EQUAL(c->code[1], 2);
  CU_ASSERT_EQUAL(c->code[2], 3);
  CU_ASSERT_EQUAL(c->code[3], 0);
  keel_table_free(out);
  /* A fill that is already a category reuses its code. */
  CU_ASSERT_EQUAL(tt_set(&t, "fill_category", "z"), KEEL_OK);
  out = run(&t);
  c = tt_col(out, "c");
  CU_ASSERT_EQUAL(c->n_dict, 3);
  CU_ASSERT_EQUAL(c->code[0], 2);
  keel_table_free(out);
  tt_done(&t);
}

static void test_indicator_and_schema(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "most_frequent"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "c,n"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "add_indicator", "true"), KEEL_OK);
  keel_schema in, sout;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "n", KEEL_COL_NUMERIC, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "m", KEEL_COL_NUMERIC, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "c", KEEL_COL_CATEGORICAL, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "t", KEEL_COL_TEXT, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &sout, &err), KEEL_OK);
  const char *const names[] = {"n", "m", "c", "t", "n_missing", "c_missing"};
  tt_expect_names(&sout, names, 6);
  CU_ASSERT_EQUAL(sout.cols[0].flags, 0);
  CU_ASSERT_EQUAL(sout.cols[1].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(sout.cols[2].flags, 0);
  CU_ASSERT_EQUAL(sout.cols[4].type, KEEL_COL_NUMERIC);
  keel_schema_free(&sout);

  keel_table *out = run(&t);
  tt_expect_table_names(out, names, 6);
  expect_num(out, "n_missing", (const double[]){1, 0, 1, 0});
  expect_num(out, "c_missing", (const double[]){1, 0, 1, 0});
  CU_ASSERT_EQUAL(tt_col(out, "m")->missing[0], 1); /* not selected */
  keel_table_free(out);

  /* An indicator name that already exists is refused before any data. */
  tt_schema_add(&in, "n_missing", KEEL_COL_NUMERIC, 0);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &sout, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'n_missing'", NULL));
  keel_schema_free(&sout);
  /* mean cannot impute a categorical column. */
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "mean"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &sout, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'c'", "categorical", "most_frequent", NULL));
  keel_schema_free(&sout);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_nothing_to_learn_from(void)
{
  tt_tx t = tt_load("impute");
  keel_table *train = keel_table_new(2);
  tt_add_num(train, "x", KEEL_COL_NUMERIC, (const double[]){NAN, NAN}, NULL);
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'x'", "no non-missing", "mean", NULL));
  keel_state_free(st);
  /* constant needs no data. */
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "constant"), KEEL_OK);
  keel_table *out = tt_fit_apply(&t, train, train, NULL);
  CU_ASSERT_EQUAL(out->cols[0].num[1], 0.0);
  CU_ASSERT_EQUAL(out->cols[0].missing[1], 0);
  keel_table_free(out);
  keel_table_free(train);
  tt_done(&t);
}

/* most_frequent on a categorical code that is not an index of its
 * dictionary: refused, naming column and row. */
static void test_code_outside_dictionary(void)
{
  tt_tx t = tt_load("impute");
  CU_ASSERT_EQUAL(tt_set(&t, "strategy", "most_frequent"), KEEL_OK);
  keel_table *train = keel_table_new(3);
  tt_add_cat(train, "c", (const char *const[]){"a"}, 1,
             (const int[]){0, -1, 4});
  keel_state *st = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_no_prefix(&err, "impute") &&
            tt_says(&err, "'c'", "row 3", "code 4",
                    "outside its dictionary of 1", NULL));
  keel_state_free(st);
  keel_table_free(train);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"mean", test_mean},
      {"median", test_median},
      {"most_frequent (numeric and categorical)", test_most_frequent},
      {"constant (numeric and categorical)", test_constant},
      {"indicators and schema", test_indicator_and_schema},
      {"column with nothing to learn from", test_nothing_to_learn_from},
      {"a code outside the dictionary names column and row",
       test_code_outside_dictionary},
      {NULL, NULL}};
  return keel_test_run_suite("transform_impute", tests);
}
