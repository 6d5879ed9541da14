/* The --where and --sort compiler of the run registry: what it accepts,
 * where it says a text is malformed, and that no user text ever reaches
 * the SQL (every key and literal is a bound parameter). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "run/registry_where.h"
#include "test_util.h"

/* Compiles expr; on success checks that none of the needles is in the
 * SQL text and that each is among the binds. */
static void no_user_text(const char *expr, const char *const *needles)
{
  keel_where_sql w = {0};
  keel_error err = {0};
  int rc = keel_where_compile(expr, &w, &err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  if (rc)
    fprintf(stderr, "%s: %s\n", expr, err.message);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w.where);
  for (const char *const *n = needles; *n; n++) {
    if (strstr(w.where, *n)) {
      fprintf(stderr, "'%s' in SQL: %s\n", *n, w.where);
      CU_FAIL("user text in the SQL");
    }
    int bound = 0;
    for (size_t i = 0; i < w.n_binds; i++)
      bound |= w.binds[i].kind == 't' && strcmp(w.binds[i].text, *n) == 0;
    CU_ASSERT(bound);
  }
  /* only ?N placeholders, no quote the user could have closed */
  CU_ASSERT_PTR_NULL(strchr(w.where, '"'));
  CU_ASSERT_PTR_NULL(strstr(w.where, "--"));
  CU_ASSERT_PTR_NULL(strstr(w.where, "/*"));
  CU_ASSERT_PTR_NULL(strchr(w.where, ';'));
  keel_where_sql_free(&w);
}

static void test_no_user_text(void)
{
  no_user_text("zzparam.qqkey < 0.01 and valid.zzmetric >= 0.95",
               (const char *const[]){"zzparam.qqkey", "valid.zzmetric", NULL});
  no_user_text(
      "template = 'x'' OR 1=1 --' or name = \"a; DROP TABLE runs\"",
      (const char *const[]){"x' OR 1=1 --", "a; DROP TABLE runs", NULL});
  no_user_text("model.zzhidden = '1 UNION SELECT * FROM runs /* x */'",
               (const char *const[]){"model.zzhidden",
                                     "1 UNION SELECT * FROM runs /* x */",
                                     NULL});
  no_user_text("not (status = zzfailed) and (sweep = zzsweep or user like "
               "'zz%\\_x')",
               (const char *const[]){"zzfailed", "zzsweep", "zz%\\_x", NULL});
  /* a number keeps its written text for text columns and params */
  no_user_text(
      "run_id = 123456789 or optimizer.zzlr = 1e-3",
      (const char *const[]){"123456789", "optimizer.zzlr", "1e-3", NULL});
}

static void test_numbers_and_binds(void)
{
  keel_where_sql w = {0};
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_where_compile("valid.accuracy >= 0.95", &w, &err), 0);
  int seen = 0;
  for (size_t i = 0; i < w.n_binds; i++)
    seen |= w.binds[i].kind == 'n' && w.binds[i].num == 0.95;
  CU_ASSERT(seen);
  CU_ASSERT_PTR_NOT_NULL(strstr(w.where, "latest_metrics"));
  CU_ASSERT_EQUAL(w.n_keys, 1);
  CU_ASSERT_STRING_EQUAL(w.keys[0], "valid.accuracy");
  keel_where_sql_free(&w);
  /* a parameter that is not a metric name is looked up as one only */
  CU_ASSERT_EQUAL(keel_where_compile("optimizer.lr < 1", &w, &err), 0);
  CU_ASSERT_PTR_NULL(strstr(w.where, "latest_metrics"));
  keel_where_sql_free(&w);
  /* blank: no condition */
  CU_ASSERT_EQUAL(keel_where_compile("  ", &w, &err), 0);
  CU_ASSERT_PTR_NULL(w.where);
  keel_where_sql_free(&w);
}

/* expr is refused with a message holding want. */
static void refused(const char *expr, const char *want)
{
  keel_where_sql w = {0};
  keel_error err = {0};
  int rc = keel_where_compile(expr, &w, &err);
  CU_ASSERT_EQUAL(rc, KEEL_EINVAL);
  if (!strstr(err.message, want)) {
    fprintf(stderr, "'%s': got '%s', want '%s'\n", expr, err.message, want);
    CU_FAIL("message");
  }
  keel_where_sql_free(&w);
}

static void test_errors_say_where(void)
{
  refused("x = 1; DROP TABLE runs", "column 1: expected an attribute");
  refused("status = ok; DROP TABLE runs", "column 12: expected and, or");
  refused("optimizer.lr < ", "column 16: expected a value");
  refused("optimizer.lr 0.1", "column 14: expected an operator");
  refused("(status = ok", "column 13: expected ')'");
  refused("status = 'ok", "column 10: expected a closing quote");
  refused("status = ok and", "column 16: expected a key");
  refused("status = ok garbage", "column 13: expected and, or");
  refused("exit_code = abc", "column 13: expected a number");
  refused("name like abc", "column 11: expected a quoted pattern");
  refused("status = ok -- comment", "column 13: expected and, or");
  refused("status ! ok", "column 8: expected an operator");
  refused("status = ok /* c */", "column 13: expected and, or");
  char deep[200] = "";
  for (int i = 0; i < 40; i++)
    strcat(deep, "(");
  refused(deep, "nested");
  char big[KEEL_WHERE_MAX_LEN + 10];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  refused(big, "expected at most");
}

static void test_sort(void)
{
  keel_where_sql w = {0};
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_where_compile_sort(NULL, &w, &err), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(w.order, "started_at DESC"));
  keel_where_sql_free(&w);
  CU_ASSERT_EQUAL(keel_where_compile_sort("valid.zzacc desc", &w, &err), 0);
  CU_ASSERT_PTR_NULL(strstr(w.order, "zzacc"));
  CU_ASSERT_PTR_NOT_NULL(strstr(w.order, "DESC"));
  keel_where_sql_free(&w);
  CU_ASSERT_EQUAL(keel_where_compile_sort("started_at; DROP", &w, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column 11"));
  keel_where_sql_free(&w);
  CU_ASSERT_EQUAL(keel_where_compile_sort("nosuch", &w, &err), KEEL_EINVAL);
  keel_where_sql_free(&w);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"no user text in the SQL", test_no_user_text},
      {"numbers and binds", test_numbers_and_binds},
      {"errors say where", test_errors_say_where},
      {"sort keys", test_sort},
      {NULL, NULL}};
  return keel_test_run_suite("registry_where", tests);
}
