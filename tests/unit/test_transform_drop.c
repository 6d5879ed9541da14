/* drop: removes the named columns, keeps the rest in order, refuses an
 * unknown name before any data. */
#include "transform_fixture.h"

static keel_table *table(void)
{
  keel_table *t = keel_table_new(2);
  tt_add_text(t, "name", (const char *const[]){"chevelle", "skylark"});
  tt_add_num(t, "mpg", KEEL_COL_NUMERIC, (const double[]){18, NAN}, NULL);
  tt_add_cat(t, "origin", (const char *const[]){"USA"}, 1, (const int[]){0, 0});
  return t;
}

static void test_drop(void)
{
  tt_tx t = tt_load("drop");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "name"), KEEL_OK);
  keel_table *in = table();
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  const char *const names[] = {"mpg", "origin"};
  tt_expect_table_names(out, names, 2);
  CU_ASSERT_EQUAL(out->cols[0].num[0], 18.0);
  CU_ASSERT_EQUAL(out->cols[0].missing[1], 1);
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "origin,name,mpg"), KEEL_OK);
  out = tt_fit_apply(&t, in, in, NULL);
  CU_ASSERT_EQUAL(out->n_cols, 0);
  CU_ASSERT_EQUAL(out->n_rows, 2);
  keel_table_free(out);
  keel_table_free(in);
  tt_done(&t);
}

static void test_unknown(void)
{
  tt_tx t = tt_load("drop");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "name", KEEL_COL_TEXT, 0);
  tt_schema_add(&in, "mpg", KEEL_COL_NUMERIC, 0);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "nmae"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_no_prefix(&err, "drop") &&
            tt_says(&err, "'nmae'", "name, mpg", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "name"), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  const char *const names[] = {"mpg"};
  tt_expect_names(&out, names, 1);
  keel_schema_free(&out);
  keel_schema_free(&in);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {{"drops named columns", test_drop},
                                         {"unknown column", test_unknown},
                                         {NULL, NULL}};
  return keel_test_run_suite("transform_drop", tests);
}
