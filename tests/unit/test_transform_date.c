/* date: calendar parts against Python's datetime for dates across leap
 * years, before 1970 and far away; names, order, keep, missing rows,
 * refusals. */
#include "transform_fixture.h"

/* Day numbers and their parts, from Python:
 * (date(y,m,d) - date(1970,1,1)).days, weekday(), timetuple().tm_yday */
static const struct {
  double days;
  double y, m, d, dow, doy, q;
} cases[] = {
    {0, 1970, 1, 1, 3, 1, 1},       {59, 1970, 3, 1, 6, 60, 1},
    {11016, 2000, 2, 29, 1, 60, 1}, {-1, 1969, 12, 31, 2, 365, 4},
    {19723, 2024, 1, 1, 0, 1, 1},   {20088, 2024, 12, 31, 1, 366, 4},
    {-719162, 1, 1, 1, 0, 1, 1},    {2932896, 9999, 12, 31, 4, 365, 4},
    {-25508, 1900, 3, 1, 3, 60, 1}, {0.75, 1970, 1, 1, 3, 1, 1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static keel_table *table(void)
{
  keel_table *t = keel_table_new(N_CASES + 1);
  double d[N_CASES + 1], v[N_CASES + 1];
  for (size_t i = 0; i < N_CASES; i++) {
    d[i] = cases[i].days;
    v[i] = (double)i;
  }
  d[N_CASES] = NAN; /* missing */
  v[N_CASES] = -1;
  tt_add_num(t, "v", KEEL_COL_NUMERIC, v, NULL);
  tt_add_num(t, "when", KEEL_COL_DATE, d, NULL);
  tt_add_text(t, "s",
              (const char *const[]){"a", "b", "c", "d", "e", "f", "g", "h", "i",
                                    "j", "k"});
  return t;
}

static void test_parts(void)
{
  tt_tx t = tt_load("date");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
  CU_ASSERT_EQUAL(
      tt_set(&t, "parts", "year,month,day,dayofweek,dayofyear,quarter"),
      KEEL_OK);
  keel_table *in = table();
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  const char *const names[] = {"v",
                               "when_year",
                               "when_month",
                               "when_day",
                               "when_dayofweek",
                               "when_dayofyear",
                               "when_quarter",
                               "s"};
  tt_expect_table_names(out, names, 8);
  for (size_t i = 0; i < N_CASES; i++) {
    const double want[] = {cases[i].y,   cases[i].m,   cases[i].d,
                           cases[i].dow, cases[i].doy, cases[i].q};
    for (size_t p = 0; p < 6; p++) {
      const keel_column *c = &out->cols[1 + p];
      CU_ASSERT_EQUAL(c->type, KEEL_COL_NUMERIC);
      CU_ASSERT_EQUAL(c->missing[i], 0);
      if (c->num[i] != want[p]) {
        fprintf(stderr, "day %g %s: %g, expected %g\n", cases[i].days, c->name,
                c->num[i], want[p]);
        CU_FAIL("date part");
      }
    }
  }
  for (size_t p = 0; p < 6; p++)
    CU_ASSERT_EQUAL(out->cols[1 + p].missing[N_CASES], 1);
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_table_free(in);
  tt_done(&t);
}

static void test_keep_and_order(void)
{
  tt_tx t = tt_load("date");
  CU_ASSERT_EQUAL(tt_set(&t, "parts", "dayofweek,year"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "keep", "true"), KEEL_OK);
  keel_table *in = table();
  keel_table *out = tt_fit_apply(&t, in, in, NULL);
  const char *const names[] = {"v", "when", "when_dayofweek", "when_year", "s"};
  tt_expect_table_names(out, names, 5);
  CU_ASSERT_EQUAL(out->cols[1].type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(out->cols[2].num[1], 6.0);
  CU_ASSERT_EQUAL(out->cols[3].num[2], 2000.0);
  tt_check_declared(&t, in, out);
  keel_table_free(out);
  keel_table_free(in);
  tt_done(&t);
}

static void test_refusals(void)
{
  tt_tx t = tt_load("date");
  keel_schema in, out;
  keel_error err;
  keel_schema_init(&in);
  tt_schema_add(&in, "when", KEEL_COL_DATE, KEEL_COL_MAY_MISS);
  tt_schema_add(&in, "v", KEEL_COL_NUMERIC, 0);
  CU_ASSERT_EQUAL_FATAL(tt_schema(&t, &in, &out, &err), KEEL_OK);
  const char *const names[] = {"when_year",      "when_month",     "when_day",
                               "when_dayofweek", "when_dayofyear", "v"};
  tt_expect_names(&out, names, 6);
  CU_ASSERT_EQUAL(out.cols[0].flags, KEEL_COL_MAY_MISS);
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "parts", "year,weekday"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_EINVAL);
  CU_ASSERT(tt_says(&err, "'weekday'", "dayofweek", NULL));
  keel_schema_free(&out);
  CU_ASSERT_EQUAL(tt_set(&t, "parts", "year"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_set(&t, "columns", "v"), KEEL_OK);
  CU_ASSERT_EQUAL(tt_schema(&t, &in, &out, &err), KEEL_ESCHEMA);
  CU_ASSERT(tt_says(&err, "'v'", "numeric", "date", NULL));
  keel_schema_free(&out);
  keel_schema_free(&in);
  /* A date that is not a usable day number. */
  CU_ASSERT_EQUAL(tt_set(&t, "columns", ""), KEEL_OK);
  keel_table *bad = keel_table_new(2), *res = NULL;
  tt_add_num(bad, "when", KEEL_COL_DATE, (const double[]){1, INFINITY},
             (const uint8_t[]){0, 0});
  keel_state *st = keel_state_new();
  CU_ASSERT_EQUAL(tt_apply(&t, st, bad, &res, &err), KEEL_EDATA);
  CU_ASSERT(tt_says(&err, "'when'", "row 2", NULL));
  keel_state_free(st);
  keel_table_free(bad);
  tt_done(&t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"parts match Python's calendar", test_parts},
      {"keep and part order", test_keep_and_order},
      {"schema and refusals", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("transform_date", tests);
}
