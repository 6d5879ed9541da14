/* config_error: the config layer's one "FILE:LINE: WHAT" helper. */
#include <string.h>

#include "config/config_error.h"
#include "test_util.h"

static void test_prefix(void)
{
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_config_fail(&err, KEEL_EINVAL, "m.ini", 12,
                                   "[%s] %s: bad", "optimizer", "lr"),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_STRING_EQUAL(err.message, "m.ini:12: [optimizer] lr: bad");
}

static void test_no_file(void)
{
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_config_fail(&err, KEEL_EPLUGIN, NULL, 7,
                                   "command line: override '%s'", "a.b=1"),
                  KEEL_EPLUGIN);
  CU_ASSERT_EQUAL(err.code, KEEL_EPLUGIN);
  CU_ASSERT_STRING_EQUAL(err.message, "command line: override 'a.b=1'");
}

static void test_null_err(void)
{
  CU_ASSERT_EQUAL(keel_config_fail(NULL, KEEL_ERANGE, "x.ini", 1, "%s", "y"),
                  KEEL_ERANGE);
}

/* A message longer than the buffer is cut, never overrun, and keeps its
 * start: the location first, then as much of the text as fits. */
static void test_long(void)
{
  char file[2 * KEEL_ERROR_SIZE], what[2 * KEEL_ERROR_SIZE];
  memset(file, 'f', sizeof file - 1);
  file[sizeof file - 1] = '\0';
  memset(what, 'w', sizeof what - 1);
  what[sizeof what - 1] = '\0';
  keel_error err;
  memset(&err, 'x', sizeof err);
  keel_config_fail(&err, KEEL_EINVAL, file, 3, "%s", what);
  CU_ASSERT_EQUAL(strlen(err.message), KEEL_ERROR_SIZE - 1);
  CU_ASSERT_EQUAL(strspn(err.message, "f"), KEEL_ERROR_SIZE - 1);

  memset(&err, 'x', sizeof err);
  keel_config_fail(&err, KEEL_EINVAL, "short.ini", 3, "%s", what);
  CU_ASSERT_EQUAL(strlen(err.message), KEEL_ERROR_SIZE - 1);
  CU_ASSERT_EQUAL(strncmp(err.message, "short.ini:3: www", 16), 0);
}

int main(void)
{
  static const keel_test_case tests[] = {{"prefix", test_prefix},
                                         {"no_file", test_no_file},
                                         {"null_err", test_null_err},
                                         {"long", test_long},
                                         {NULL, NULL}};
  return keel_test_run_suite("config_error", tests);
}
