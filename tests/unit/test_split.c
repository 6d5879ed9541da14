/* split: counts, disjoint cover, determinism, seed sensitivity,
 * stratified proportions, recorded hashes, and refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "data/split.h"
#include "test_util.h"

static void check_cover(const keel_split *s, size_t n)
{
  unsigned char *seen = calloc(n, 1);
  size_t total = 0;
  for (int p = 0; p < KEEL_SPLIT_N; p++) {
    for (size_t i = 0; i < s->n[p]; i++) {
      CU_ASSERT_FATAL(s->rows[p][i] < n);
      CU_ASSERT_EQUAL(seen[s->rows[p][i]], 0);
      seen[s->rows[p][i]] = 1;
      if (i)
        CU_ASSERT(s->rows[p][i - 1] < s->rows[p][i]); /* ascending */
    }
    total += s->n[p];
    char hex[65];
    keel_split_hash_rows(s->rows[p], s->n[p], hex);
    CU_ASSERT_STRING_EQUAL(hex, s->sha256[p]);
  }
  CU_ASSERT_EQUAL(total, n);
  free(seen);
}

static void test_plain(void)
{
  keel_split a, b, c;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(
      keel_split_make(1000, NULL, 0, 0.2, 0.1, 42, 0, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(a.n[KEEL_SPLIT_TRAIN], 700);
  CU_ASSERT_EQUAL(a.n[KEEL_SPLIT_VALID], 200);
  CU_ASSERT_EQUAL(a.n[KEEL_SPLIT_TEST], 100);
  check_cover(&a, 1000);
  CU_ASSERT_EQUAL_FATAL(
      keel_split_make(1000, NULL, 0, 0.2, 0.1, 42, 0, &b, &err), KEEL_OK);
  for (int p = 0; p < KEEL_SPLIT_N; p++) {
    CU_ASSERT_STRING_EQUAL(a.sha256[p], b.sha256[p]);
    CU_ASSERT_EQUAL(memcmp(a.rows[p], b.rows[p], a.n[p] * sizeof(size_t)), 0);
  }
  CU_ASSERT_EQUAL_FATAL(
      keel_split_make(1000, NULL, 0, 0.2, 0.1, 43, 0, &c, &err), KEEL_OK);
  CU_ASSERT_STRING_NOT_EQUAL(a.sha256[KEEL_SPLIT_VALID],
                             c.sha256[KEEL_SPLIT_VALID]);
  /* not just the first rows: validation rows are spread over the range */
  CU_ASSERT(a.rows[KEEL_SPLIT_VALID][a.n[KEEL_SPLIT_VALID] - 1] > 500);
  keel_split_free(&a);
  keel_split_free(&b);
  keel_split_free(&c);
  /* the hash of an empty list is the SHA-256 of no bytes */
  char hex[65];
  keel_split_hash_rows(NULL, 0, hex);
  CU_ASSERT_STRING_EQUAL(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_stratified(void)
{
  /* 90 rows of class 0, 10 of class 1, interleaved */
  int32_t cls[100];
  for (int i = 0; i < 100; i++)
    cls[i] = (i % 10 == 3) ? 1 : 0;
  keel_split s;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_split_make(100, cls, 2, 0.2, 0.0, 5, 1, &s, &err),
                        KEEL_OK);
  check_cover(&s, 100);
  size_t ones = 0;
  for (size_t i = 0; i < s.n[KEEL_SPLIT_VALID]; i++)
    ones += cls[s.rows[KEEL_SPLIT_VALID][i]] == 1;
  CU_ASSERT_EQUAL(s.n[KEEL_SPLIT_VALID], 20);
  CU_ASSERT_EQUAL(ones, 2); /* exactly 20% of class 1 */
  CU_ASSERT(s.stratified);
  keel_split_free(&s);
}

static void test_refusals(void)
{
  keel_split s;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_split_make(10, NULL, 0, 0.6, 0.5, 1, 0, &s, &err),
                  KEEL_EINVAL);
  CU_ASSERT(strstr(err.message, "fractions valid=0.6 test=0.5 ") != NULL);
  CU_ASSERT_EQUAL(keel_split_make(1, NULL, 0, 0.6, 0.0, 1, 0, &s, &err),
                  KEEL_EDATA);
  CU_ASSERT(strstr(err.message, "training part is empty") != NULL);
  CU_ASSERT_EQUAL(
      keel_split_make(10, NULL, 0, 0.5, 0.49999999999999994, 1, 0, &s, &err),
      KEEL_EINVAL);
  CU_ASSERT(strstr(err.message, "test=0.49999999999999994 ") != NULL);
  CU_ASSERT_EQUAL(keel_split_make(10, NULL, 0, 0.2, 0.0, 1, 1, &s, &err),
                  KEEL_EINVAL);
  /* a label outside [0, n_classes) is refused, naming its row */
  int32_t cls[6] = {0, 1, 0, 1, 2, 0};
  CU_ASSERT_EQUAL(keel_split_make(6, cls, 2, 0.2, 0.0, 1, 1, &s, &err),
                  KEEL_EINVAL);
  CU_ASSERT(strstr(err.message, "row 4 has class 2 outside [0, 2)") != NULL);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"plain split: counts, cover, determinism, seed", test_plain},
      {"stratified split keeps class proportions", test_stratified},
      {"bad fractions and empty training part", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("split", tests);
}
