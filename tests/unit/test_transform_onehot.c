/* onehot: categories seen at fit (sorted), names <col>=<category>, the
 * unknown and missing policies with the errors they promise (column, value,
 * row), the wildcard schema, the state layout and its JSON round trip. */
#include "transform_fixture.h"

static const char *const islands[] = {"Torgersen", "Biscoe", "Dream",
                                      "Atlantis"};
static const char *const sexes[] = {"MALE", "FEMALE", "."};

/* Atlantis and "." are in the dictionaries but never in the training rows;
 * row 3 of sex is missing. */
static keel_table *train_table(void)
{
  keel_table *t = keel_table_new(5);
  tt_add_cat(t, "island", islands, 4, (const int[]){0, 1, 2, 1, 0});
  tt_add_num(t, "mass", KEEL_COL_NUMERIC, (const double[]){1, 2, 3, 4, 5},
             NULL);
  tt_add_cat(t, "sex", sexes, 3, (const int[]){0, 1, -1, 0, 1});
  return t;
}

static keel_table *valid_table(void)
{
  keel_table *t = keel_table_new(4);
  tt_add_cat(t, "island", islands, 4, (const int[]){3, 2, 0, 1});
  tt_add_num(t, "mass", KEEL_COL_NUMERIC, (const double[]){6, 7, 8, 9}, NULL);
  tt_add_cat(t, "sex", sexes, 3, (const int[]){1, -1, 2, 0});
  return t;
}

static void expect_col(const keel_table *out, const char *name,
                       const double *want)
{
  const keel_column *c = tt_col(out, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->type, KEEL_COL_NUMERIC);
  for (size_t r = 0; r < out->n_rows; r++) {
    CU_ASSERT_EQUAL(c->missing[r], 0);
    if (c->num[r] != want[r]) {
      fprintf(stderr, "%s row %zu: %g, expected %g\n", name, r, c->num[r],
              want[r]);
      CU_FAIL("value");
    }
  }
}

static void test_schema_wildcard(void)
{
  tt_tx t = tt_load("onehot");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "island", KEEL_COL_CATEGORICAL, 0);
  tt_schema_add(&in, "mass", KEEL_COL_NUMERIC, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "sex", KEEL_COL_CATEGORICAL, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "name", KEEL_COL_TEXT, 0);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  const char *const names[] = {"island=*", "mass", "sex=*", "name"};
  tt_expect_names(&out, names, 4);
  CU_ASSERT_EQUAL(out.cols[0].type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(out.cols[0].flags, 0);
  CU_ASSERT_EQUAL(out.cols[2].flags, 0);
  CU_ASSERT_EQUAL(out.cols[1].flags, KEEL_COL_MAY_MISS);
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "island,name"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'name'", "text", "categorical", NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

static void test_ignore_and_other(void)
{
  tt_tx t = tt_load("onehot");
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "island"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "unknown", "ignore"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_table *out = tt_fit_apply(&t, train, valid, &st);
  const char *const names[] = {"island=Biscoe", "island=Dream",
                               "island=Torgersen", "mass", "sex"};
  tt_expect_table_names(out, names, 5);
  expect_col(out, "island=Biscoe", (const double[]){0, 0, 0, 1});
  expect_col(out, "island=Dream", (const double[]){0, 1, 0, 0});
  expect_col(out, "island=Torgersen", (const double[]){0, 0, 1, 0});
  CU_ASSERT_EQUAL(tt_col(out, "sex")->missing[1], 1); /* passes through */
  /* State: the sorted categories seen in training only. */
  const char *const *cats;
  const double *counts;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(
      keel_state_get_strings(st, "categories", &cats, &n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  CU_ASSERT_STRING_EQUAL(cats[0], "Biscoe");
  CU_ASSERT_STRING_EQUAL(cats[2], "Torgersen");
  CU_ASSERT_EQUAL_FATAL(
      keel_state_get_f64(st, "n_categories", &counts, &n, NULL), 0);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_EQUAL(counts[0], 3.0);
  keel_table_free(out);
  keel_state_free(st);

  CU_ASSERT_EQUAL(tt_set(&t, "unknown", "other"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->n_cols, 6);
  CU_ASSERT_STRING_EQUAL(out->cols[3].name, "island=__other__");
  expect_col(out, "island=__other__", (const double[]){1, 0, 0, 0});
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_missing_policies(void)
{
  tt_tx t = tt_load("onehot");
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_error err;
  /* Default: a missing training row is an error naming column and row. */
  CU_ASSERT_EQUAL(tt_fit(&t, train, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'sex'", "row 3", "missing", NULL));
  keel_state_free(st);

  CU_ASSERT_EQUAL(tt_set(&t, "missing", "indicator"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "unknown", "other"), KEEL_OK);
  keel_table *out = tt_fit_apply(&t, train, valid, NULL);
  const char *const names[] = {"island=Biscoe",    "island=Dream",
                               "island=Torgersen", "island=__missing__",
                               "island=__other__", "mass",
                               "sex=FEMALE",       "sex=MALE",
                               "sex=__missing__",  "sex=__other__"};
  tt_expect_table_names(out, names, 10);
  expect_col(out, "sex=FEMALE", (const double[]){1, 0, 0, 0});
  expect_col(out, "sex=MALE", (const double[]){0, 0, 0, 1});
  expect_col(out, "sex=__missing__", (const double[]){0, 1, 0, 0});
  expect_col(out, "sex=__other__", (const double[]){0, 0, 1, 0});
  expect_col(out, "mass", (const double[]){6, 7, 8, 9});
  keel_table_free(out);

  CU_ASSERT_EQUAL(tt_set(&t, "missing", "ignore"), KEEL_OK);
  out = tt_fit_apply(&t, train, valid, NULL);
  CU_ASSERT_EQUAL(out->n_cols, 8);
  expect_col(out, "sex=FEMALE", (const double[]){1, 0, 0, 0});
  expect_col(out, "sex=MALE", (const double[]){0, 0, 0, 1});
  keel_table_free(out);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

static void test_unknown_is_an_error(void)
{
  tt_tx t = tt_load("onehot");
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "island"), KEEL_OK);
  keel_table *train = train_table(), *valid = valid_table();
  keel_state *st = NULL;
  keel_table *out = NULL;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(tt_fit(&t, train, &st, &err), KEEL_OK);
  /* The training rows themselves apply cleanly. */
  CU_ASSERT_EQUAL(tt_apply(&t, st, train, &out, &err), KEEL_OK);
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_apply(&t, st, valid, &out, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'island'", "row 1", "'Atlantis'", "not seen", NULL));
  CU_ASSERT_PTR_NULL(out);
  keel_state_free(st);
  keel_table_free(valid);
  keel_table_free(train);
  tt_done(&t);
}

/* A code that is not an index of its dictionary (a broken upstream
 * transform) is refused at fit and at apply, naming column and row. */
static void test_code_outside_dictionary(void)
{
  tt_tx t = tt_load("onehot");
  keel_table *good = keel_table_new(2), *bad = keel_table_new(2);
  tt_add_cat(good, "c", (const char *const[]){"a", "b"}, 2,
             (const int[]){0, 1});
  tt_add_cat(bad, "c", (const char *const[]){"a", "b"}, 2, (const int[]){0, 7});
  keel_state *st = NULL;
  keel_table *out = NULL;
  keel_error err;
  CU_ASSERT_EQUAL(tt_fit(&t, bad, &st, &err), KEEL_EDATA);
  CU_ASSERT(tt_no_prefix(&err, "onehot") &&
            tt_says(&err, "'c'", "row 2", "code 7",
                    "outside its dictionary of 2", NULL));
  keel_state_free(st);
  CU_ASSERT_EQUAL_FATAL(tt_fit(&t, good, &st, &err), KEEL_OK);
  CU_ASSERT_EQUAL(tt_apply(&t, st, bad, &out, &err), KEEL_EDATA);
  CU_ASSERT(tt_no_prefix(&err, "onehot") &&
            tt_says(&err, "'c'", "row 2", "code 7",
                    "outside its dictionary of 2", NULL));
  CU_ASSERT_PTR_NULL(out);
  keel_state_free(st);
  keel_table_free(bad);
  keel_table_free(good);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"schema declares a wildcard per column", test_schema_wildcard},
      {"unknown=ignore / other", test_ignore_and_other},
      {"missing policies", test_missing_policies},
      {"unknown=error names column, value, row", test_unknown_is_an_error},
      {"a code outside the dictionary names column and row",
       test_code_outside_dictionary},
      {NULL, NULL}};
  return keel_test_run_suite("transform_onehot", tests);
}
