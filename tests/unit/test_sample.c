/* sample: exact totals by largest remainder, strata in proportion,
 * determinism and seed sensitivity, the count refusal, and re-balancing
 * (under / over) by class with repeats only where over-sampling asks. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "data/sample.h"
#include "test_util.h"

/* 0..n-1 as kept source rows */
static size_t *iota(size_t n)
{
  size_t *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = i;
  return v;
}

static void test_plain(void)
{
  keel_sample_spec sp = {.rows = 37, .fraction = 1.0, .by = "", .seed = 5};
  keel_sample_record ra = {0}, rb = {0}, rc = {0};
  keel_error err = {0};
  size_t *a = iota(100), *b = iota(100), *c = iota(100), na = 100, nb = 100,
         nc = 100;
  CU_ASSERT_EQUAL_FATAL(keel_sample_rows(&sp, NULL, a, &na, &ra, &err), 0);
  CU_ASSERT_EQUAL(na, 37);
  for (size_t i = 1; i < na; i++)
    CU_ASSERT(a[i - 1] < a[i]); /* ascending, no repeat */
  CU_ASSERT_EQUAL(keel_sample_rows(&sp, NULL, b, &nb, &rb, &err), 0);
  CU_ASSERT(nb == na && memcmp(a, b, na * sizeof *a) == 0);
  CU_ASSERT_STRING_EQUAL(ra.sha256, rb.sha256);
  sp.seed = 6;
  CU_ASSERT_EQUAL(keel_sample_rows(&sp, NULL, c, &nc, &rc, &err), 0);
  CU_ASSERT(memcmp(a, c, na * sizeof *a) != 0); /* another seed */
  /* fraction: round half up */
  keel_sample_record rf = {0};
  size_t *f = iota(10), nf = 10;
  keel_sample_spec fr = {.fraction = 0.25, .by = "", .seed = 1};
  CU_ASSERT_EQUAL(keel_sample_rows(&fr, NULL, f, &nf, &rf, &err), 0);
  CU_ASSERT_EQUAL(nf, 3);
  /* nothing asked: untouched, nothing recorded */
  keel_sample_record rn = {0};
  size_t *g = iota(10), ng = 10;
  keel_sample_spec none = {.fraction = 1.0, .by = ""};
  CU_ASSERT_EQUAL(keel_sample_rows(&none, NULL, g, &ng, &rn, &err), 0);
  CU_ASSERT(ng == 10 && !rn.downsampled);
  CU_ASSERT_PTR_NULL(keel_sample_json(&rn, NULL, &err));
  /* more than there are */
  keel_sample_spec big = {.rows = 11, .fraction = 1.0, .by = ""};
  CU_ASSERT_EQUAL(keel_sample_rows(&big, NULL, g, &ng, &rn, &err), KEEL_EDATA);
  CU_ASSERT(strstr(err.message, "sample_rows = 11, but the source has only "
                                "10 labelled rows") != NULL);
  free(a), free(b), free(c), free(f), free(g);
  keel_sample_record_free(&ra), keel_sample_record_free(&rb);
  keel_sample_record_free(&rc), keel_sample_record_free(&rf);
  keel_sample_record_free(&rn);
}

static void test_stratified(void)
{
  /* a categorical column: 50 'a', 30 'b', 20 'c', one missing */
  enum { N = 101 };
  int32_t code[N];
  uint8_t miss[N] = {0};
  const char *dict[] = {"a", "b", "c"};
  for (size_t i = 0; i < N; i++)
    code[i] = i < 50 ? 0 : i < 80 ? 1 : 2;
  miss[100] = 1, code[100] = 0;
  keel_column col = {.name = "g",
                     .type = KEEL_COL_CATEGORICAL,
                     .code = code,
                     .dict = dict,
                     .n_dict = 3,
                     .missing = miss};
  keel_sample_spec sp = {.rows = 10, .fraction = 1.0, .by = "g", .seed = 9};
  keel_sample_record r = {0};
  keel_error err = {0};
  size_t *kept = iota(N), n = N;
  CU_ASSERT_EQUAL_FATAL(keel_sample_rows(&sp, &col, kept, &n, &r, &err), 0);
  CU_ASSERT_EQUAL(n, 10);
  /* by hand: 10*1/101 -> 0 r10, 10*50/101 -> 4 r96, 10*30/101 -> 2 r98,
   * 10*20/101 -> 1 r99: the 3 left go to c, b, a (largest remainders) */
  CU_ASSERT_EQUAL_FATAL(r.n_strata, 4);
  CU_ASSERT_PTR_NULL(r.strata[0].value); /* missing sorts first */
  CU_ASSERT_EQUAL(r.strata[0].after, 0);
  CU_ASSERT_STRING_EQUAL(r.strata[1].value, "a");
  CU_ASSERT_EQUAL(r.strata[1].after, 5);
  CU_ASSERT_EQUAL(r.strata[2].after, 3);
  CU_ASSERT_EQUAL(r.strata[3].after, 2);
  size_t per[3] = {0};
  for (size_t i = 0; i < n; i++)
    per[code[kept[i]]] += !miss[kept[i]];
  CU_ASSERT(per[0] == 5 && per[1] == 3 && per[2] == 2);
  free(kept);
  keel_sample_record_free(&r);
}

static void test_rebalance(void)
{
  /* positions 0..9: class 0 x6, class 1 x3, class 2 x1 */
  int32_t cls[10] = {0, 0, 1, 0, 2, 0, 1, 0, 1, 0};
  char *names[] = {"x", "y", "z"};
  keel_error err = {0};
  for (int how = KEEL_REBALANCE_UNDER; how <= KEEL_REBALANCE_OVER; how++) {
    keel_sample_spec sp = {
        .fraction = 1.0, .by = "", .seed = 3, .rebalance = (keel_rebalance)how};
    keel_sample_record r = {0};
    size_t *t = iota(10), n = 10;
    CU_ASSERT_EQUAL_FATAL(keel_sample_rebalance(&sp, cls, 3, &t, &n, &r, &err),
                          0);
    size_t want = how == KEEL_REBALANCE_UNDER ? 1 : 6, per[3] = {0};
    CU_ASSERT_EQUAL(n, 3 * want);
    for (size_t i = 0; i < n; i++) {
      per[cls[t[i]]]++;
      if (i)
        CU_ASSERT(t[i - 1] <= t[i]);
    }
    CU_ASSERT(per[0] == want && per[1] == want && per[2] == want);
    CU_ASSERT(r.class_before[0] == 6 && r.class_after[2] == want);
    if (how == KEEL_REBALANCE_OVER) {
      /* class 1's 3 rows twice each (whole copies), class 2's one row x6 */
      size_t c4 = 0, c2 = 0;
      for (size_t i = 0; i < n; i++)
        c4 += t[i] == 4, c2 += t[i] == 2;
      CU_ASSERT(c4 == 6 && c2 == 2);
    }
    json_t *j = keel_sample_json(&r, names, &err);
    CU_ASSERT_PTR_NOT_NULL(j);
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(j, "rebalance"), "classes_after"),
            "z")),
        (json_int_t)want);
    json_decref(j);
    free(t);
    keel_sample_record_free(&r);
  }
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"plain sample: count, order, seed, fraction, refusal", test_plain},
      {"stratified sample: largest remainder per value", test_stratified},
      {"re-balancing under and over by class", test_rebalance},
      {NULL, NULL}};
  return keel_test_run_suite("sample", tests);
}
