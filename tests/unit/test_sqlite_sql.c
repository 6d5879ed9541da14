/* The sqlite source's SQL scanner (plugins/sources/sqlite/sqlite_sql.c):
 * the ORDER BY rule on tricky SQL (an ORDER BY in a subquery, a CTE, a
 * window, a string, a quoted identifier or a comment does not count; one
 * after UNION does), what may follow the one statement, the first word. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "test_util.h"

#include "../../plugins/sources/sqlite/sqlite_sql.c"

static int ordered(const char *sql)
{
  return sqlsrc_has_outer_order_by(sql, strlen(sql));
}

static void test_order_by_counts(void)
{
  static const char *const yes[] = {
      "SELECT * FROM t ORDER BY id",
      "select * from t order by id limit 5",
      "SELECT * FROM t ORDER\n  -- keys\n  BY id",
      "SELECT * FROM t ORDER/* c */BY id",
      "SELECT a FROM t UNION SELECT a FROM u ORDER BY a",
      "SELECT a FROM t UNION ALL SELECT a FROM (SELECT a FROM u) ORDER BY 1",
      "SELECT a FROM t INTERSECT VALUES (1) ORDER BY 1",
      "WITH q AS (SELECT * FROM t) SELECT * FROM q ORDER BY id",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "LIMIT 5) SELECT i FROM n ORDER BY i",
      "SELECT \"order\", [select], `by` FROM t ORDER BY \"order\"",
      "SELECT 'it''s (' FROM t ORDER BY 1 -- done",
      "SELECT row_number() OVER (ORDER BY a) AS r FROM t ORDER BY r",
      NULL};
  static const char *const no[] = {
      "SELECT * FROM t",
      "SELECT * FROM (SELECT * FROM t ORDER BY id)",
      "SELECT * FROM t WHERE a IN (SELECT a FROM u ORDER BY a)",
      "WITH q AS (SELECT * FROM t ORDER BY id) SELECT * FROM q",
      "SELECT * FROM t ORDER BY id UNION SELECT * FROM u",
      "SELECT * FROM t -- ORDER BY id",
      "SELECT * FROM t /* ORDER BY id */",
      "SELECT * FROM t /* ORDER BY id",
      "SELECT * FROM t WHERE s = 'ORDER BY id'",
      "SELECT * FROM t WHERE s = 'x'' ORDER BY id'",
      "SELECT \"ORDER BY\" FROM t",
      "SELECT [ORDER BY] FROM t",
      "SELECT `ORDER` FROM t",
      "SELECT row_number() OVER (ORDER BY a) FROM t",
      "SELECT group_concat(a ORDER BY a) FROM t",
      "SELECT * FROM t WINDOW w AS (ORDER BY a)",
      "SELECT order_by FROM t",
      "SELECT * FROM t ORDER",
      "SELECT * FROM t ORDER x BY y",
      "",
      NULL};
  for (size_t i = 0; yes[i]; i++) {
    if (!ordered(yes[i]))
      fprintf(stderr, "expected ordered: %s\n", yes[i]);
    CU_ASSERT_EQUAL(ordered(yes[i]), 1);
  }
  for (size_t i = 0; no[i]; i++) {
    if (ordered(no[i]))
      fprintf(stderr, "expected not ordered: %s\n", no[i]);
    CU_ASSERT_EQUAL(ordered(no[i]), 0);
  }
  /* only the statement's own bytes count */
  const char *two = "SELECT * FROM t; SELECT * FROM u ORDER BY a";
  CU_ASSERT_EQUAL(sqlsrc_has_outer_order_by(two, 16), 0);
}

static void test_tail(void)
{
  static const char *const blank[] = {
      "", "  \n\t", ";", " ; ;", "-- end", "/* a */ -- b\n;", "/* open", NULL};
  static const char *const not_blank[] = {
      "DELETE FROM t", "; SELECT 1", "-- a\nx", "'s'", "()", NULL};
  for (size_t i = 0; blank[i]; i++)
    CU_ASSERT_EQUAL(sqlsrc_tail_is_blank(blank[i], strlen(blank[i])), 1);
  for (size_t i = 0; not_blank[i]; i++)
    CU_ASSERT_EQUAL(sqlsrc_tail_is_blank(not_blank[i], strlen(not_blank[i])),
                    0);
}

static void test_first_word(void)
{
  char w[8];
  sqlsrc_first_word(" -- c\n /* d */ select 1", 24, w, sizeof w);
  CU_ASSERT_STRING_EQUAL(w, "SELECT");
  sqlsrc_first_word("With q AS (SELECT 1) SELECT * FROM q", 36, w, sizeof w);
  CU_ASSERT_STRING_EQUAL(w, "WITH");
  sqlsrc_first_word("explainlonger SELECT", 20, w, sizeof w);
  CU_ASSERT_STRING_EQUAL(w, "EXPLAIN"); /* cut to fit */
  sqlsrc_first_word("(SELECT 1)", 10, w, sizeof w);
  CU_ASSERT_STRING_EQUAL(w, "");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"ORDER BY on the outermost SELECT only", test_order_by_counts},
      {"what may follow the statement", test_tail},
      {"first word", test_first_word},
      {NULL, NULL}};
  return keel_test_run_suite("sqlite_sql", tests);
}
