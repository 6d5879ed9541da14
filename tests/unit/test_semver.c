/* Semantic versions and ranges. */
#include <stdio.h>
#include <string.h>

#include "base/semver.h"
#include "test_util.h"

static int sat(const char *v, const char *range)
{
  int match = -1;
  keel_error err = {0};
  int rc = keel_semver_satisfies(v, range, &match, &err);
  if (rc) {
    fprintf(stderr, "%s / %s: %s\n", v, range, err.message);
    return -1;
  }
  return match;
}

static void test_parse(void)
{
  keel_semver v;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_semver_parse("1.2.3", &v, &err), 0);
  CU_ASSERT(v.major == 1 && v.minor == 2 && v.patch == 3 && !v.pre[0]);
  CU_ASSERT_EQUAL(keel_semver_parse("0.0.0-rc.1+build.5", &v, &err), 0);
  CU_ASSERT_STRING_EQUAL(v.pre, "rc.1");
  const char *bad[] = {
      "",       "1",      "1.2",    "1.2.3.4",         "01.2.3",
      "1.02.3", "a.b.c",  "1.2.3-", "1.2.3+",          "1.2.3-01",
      " 1.2.3", "1.2.3 ", "-1.2.3", "99999999999.0.0", NULL};
  for (size_t i = 0; bad[i]; i++) {
    CU_ASSERT_EQUAL(keel_semver_parse(bad[i], &v, &err), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected MAJOR.MINOR.PATCH"));
  }
}

static void test_compare(void)
{
  const char *order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                         "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                         "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                         "1.1.0",       "1.10.0",        "2.0.0",
                         NULL};
  keel_error err;
  for (size_t i = 0; order[i + 1]; i++) {
    keel_semver a, b;
    CU_ASSERT_EQUAL_FATAL(keel_semver_parse(order[i], &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(keel_semver_parse(order[i + 1], &b, &err), 0);
    CU_ASSERT(keel_semver_compare(&a, &b) < 0);
    CU_ASSERT(keel_semver_compare(&b, &a) > 0);
    CU_ASSERT(keel_semver_compare(&a, &a) == 0);
  }
}

static void test_ranges(void)
{
  CU_ASSERT_EQUAL(sat("1.0.0", ">=1.0 <2"), 1);
  CU_ASSERT_EQUAL(sat("1.9.9", ">=1.0 <2"), 1);
  CU_ASSERT_EQUAL(sat("2.0.0", ">=1.0 <2"), 0);
  CU_ASSERT_EQUAL(sat("0.9.0", ">=1.0 <2"), 0);
  CU_ASSERT_EQUAL(sat("1.2.0", ">= 1.2 < 2"), 1);
  CU_ASSERT_EQUAL(sat("1.2.0", ">1.2"), 0);
  CU_ASSERT_EQUAL(sat("1.2.1", ">1.2"), 1);
  CU_ASSERT_EQUAL(sat("1.2.0", "<=1.2"), 1);
  CU_ASSERT_EQUAL(sat("1.2.0", "1.2"), 1); /* bare = exact, zeros filled */
  CU_ASSERT_EQUAL(sat("1.2.1", "1.2"), 0);
  CU_ASSERT_EQUAL(sat("1.2.1", "=1.2.1"), 1);
  CU_ASSERT_EQUAL(sat("1.2.0", "^1.2"), 1);
  CU_ASSERT_EQUAL(sat("1.9.0", "^1.2"), 1);
  CU_ASSERT_EQUAL(sat("2.0.0", "^1.2"), 0);
  CU_ASSERT_EQUAL(sat("1.1.9", "^1.2"), 0);
  CU_ASSERT_EQUAL(sat("0.2.5", "^0.2"), 1);
  CU_ASSERT_EQUAL(sat("0.3.0", "^0.2"), 0);
  CU_ASSERT_EQUAL(sat("0.0.3", "^0.0.3"), 1);
  CU_ASSERT_EQUAL(sat("0.0.4", "^0.0.3"), 0);
  CU_ASSERT_EQUAL(sat("0.9.0", "^0"), 1);
  CU_ASSERT_EQUAL(sat("1.2.9", "~1.2"), 1);
  CU_ASSERT_EQUAL(sat("1.3.0", "~1.2"), 0);
  CU_ASSERT_EQUAL(sat("1.9.0", "~1"), 1);
  CU_ASSERT_EQUAL(sat("2.0.0", "~1"), 0);
  CU_ASSERT_EQUAL(sat("3.1.0", "*"), 1);
  CU_ASSERT_EQUAL(sat("1.5.0", "<1 || >=1.4 <1.6"), 1);
  CU_ASSERT_EQUAL(sat("0.5.0", "<1 || >=1.4 <1.6"), 1);
  CU_ASSERT_EQUAL(sat("1.6.0", "<1 || >=1.4 <1.6"), 0);
  CU_ASSERT_EQUAL(sat("1.6.0", ">=1||<0.1"), 1);
  CU_ASSERT_EQUAL(sat("2.0.0-rc.1", ">=1 <2"), 1); /* precedence only */
}

static void test_bad_ranges(void)
{
  const char *bad[] = {"",     "   ",     ">=",       ">=1 ||", "|| 1",
                       "abc",  "1.2.3.4", ">=1 <2 x", "=>1",    "1.2-rc",
                       ">=01", "^",       "1 ||| 2",  NULL};
  keel_error err = {0};
  for (size_t i = 0; bad[i]; i++) {
    int rc = keel_semver_range_check(bad[i], &err);
    if (rc != KEEL_EINVAL)
      fprintf(stderr, "range '%s' was accepted\n", bad[i]);
    CU_ASSERT_EQUAL(rc, KEEL_EINVAL);
    CU_ASSERT(strlen(err.message) > 0);
  }
  int match;
  CU_ASSERT_EQUAL(keel_semver_satisfies("1.0", ">=1", &match, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_semver_range_check(">=1.0 <2", &err), 0);
  CU_ASSERT_EQUAL(keel_semver_range_check("^1.2 || ~0.3 || 4.5.6", &err), 0);
}

int main(void)
{
  static const keel_test_case tests[] = {{"parse", test_parse},
                                         {"compare", test_compare},
                                         {"ranges", test_ranges},
                                         {"bad_ranges", test_bad_ranges},
                                         {NULL, NULL}};
  return keel_test_run_suite("semver", tests);
}
