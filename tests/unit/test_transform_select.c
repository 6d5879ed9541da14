/* select: keeps the named columns in the order named, refuses unknown
 * names before any data, copies columns bit for bit. */
#include "transform_fixture.h"

static keel_table *table(void)
{
  keel_table *t = keel_table_new(3);
  tt_add_num(t, "a", KEEL_COL_NUMERIC, (const double[]){1, NAN, 3}, NULL);
  tt_add_text(t, "s", (const char *const[]){"x", NULL, "z"});
  tt_add_cat(t, "c", (const char *const[]){"p", "q"}, 2,
             (const int[]){1, 0, -1});
  tt_add_num(t, "d", KEEL_COL_DATE, (const double[]){0, 1, 2}, NULL);
  return t;
}

static void test_select(void)
{
  tt_tx t = tt_load("select");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "d,a,c"), KEEL_OK);
  keel_table *in = table();
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  const char *const names[] = {"d", "a", "c"};
  tt_expect_table_names(out, names, 3);
  CU_ASSERT_EQUAL(out->cols[0].type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(out->cols[0].num[2], 2.0);
  CU_ASSERT_EQUAL(out->cols[1].missing[1], 1);
  CU_ASSERT_EQUAL(out->cols[2].code[0], 1);
  CU_ASSERT_EQUAL(out->cols[2].missing[2], 1);
  CU_ASSERT_STRING_EQUAL(out->cols[2].dict[1], "q");
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_table_free(in);
  tt_done(&t);
}

static void test_refusals(void)
{
  tt_tx t = tt_load("select");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "a", KEEL_COL_NUMERIC, 0);
  tt_schema_add(&in, "s", KEEL_COL_TEXT, 0);
  /* columns is required: an empty list is refused. */
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "columns", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "a,b"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_no_prefix(&err, "select") &&
            tt_says(&err, "'b'", "not in the input", "a, s", NULL));
  keel_schema_free(&out);
  keel_table *tab = table(), *res = NULL;
  keel_state *st = keel_state_new();
  CU_ASSERT_EQUAL(tt_apply(&t, st, tab, &res, &err), KEEL_ESCHEMA);
  CU_ASSERT_PTR_NULL(res);
  keel_state_free(st);
  keel_table_free(tab);
  keel_schema_free(&in);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"keeps named columns in order", test_select},
      {"refusals", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("transform_select", tests);
}
