/* The one string-keyed lookup table of core/base. */
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "base/strmap.h"
#include "test_util.h"

static void test_put_get(void)
{
  keel_strmap m = KEEL_STRMAP_INIT;
  size_t v = 99;
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "a", 1, &v), 0); /* empty map */
  static char keys[20000][12];
  for (size_t i = 0; i < 20000; i++) {
    snprintf(keys[i], sizeof keys[i], "col%zu", i);
    CU_ASSERT_EQUAL(keel_strmap_put(&m, keys[i], strlen(keys[i]), i, NULL), 0);
  }
  CU_ASSERT_EQUAL(m.n, 20000u);
  CU_ASSERT(m.n * 4 <= m.cap * 3);
  for (size_t i = 0; i < 20000; i += 13) {
    CU_ASSERT_EQUAL(keel_strmap_get(&m, keys[i], strlen(keys[i]), &v), 1);
    CU_ASSERT_EQUAL(v, i);
  }
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "col20000", 8, &v), 0);
  /* a key is its bytes: a prefix is another key */
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "col1", 3, &v), 0);
  /* present: the first value is kept and reported */
  size_t old = 0;
  CU_ASSERT_EQUAL(keel_strmap_put(&m, "col7", 4, 5, &old), 1);
  CU_ASSERT_EQUAL(old, 7u);
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "col7", 4, &v), 1);
  CU_ASSERT_EQUAL(v, 7u);
  keel_strmap_free(&m);
  CU_ASSERT_PTR_NULL(m.slots);
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "col7", 4, &v), 0);
  /* the empty key is a key */
  CU_ASSERT_EQUAL(keel_strmap_put(&m, "", 0, 3, NULL), 0);
  CU_ASSERT_EQUAL(keel_strmap_get(&m, "", 0, &v), 1);
  CU_ASSERT_EQUAL(v, 3u);
  keel_strmap_free(&m);
}

int main(void)
{
  static const keel_test_case tests[] = {{"put and get", test_put_get},
                                         {NULL, NULL}};
  return keel_test_run_suite("strmap", tests);
}
