/* drift: decile profiles (edges at ranks floor(k n / 10), counts per
 * [e_j, e_j+1) bin, missing and non-finite values left out), PSI and KS
 * against numbers computed by hand, and the profile's JSON round trip
 * with its refusals. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "base/status.h"
#include "data/drift.h"
#include "test_util.h"

/* 1..20 with a gap and a NaN that must not count */
static void reference(keel_drift_profile *ref)
{
  double x[22];
  uint8_t miss[22] = {0};
  for (int i = 0; i < 20; i++)
    x[i] = i + 1;
  x[20] = 99;
  miss[20] = 1;
  x[21] = NAN;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_drift_profile_make(x, miss, NULL, 22, ref, &err),
                        KEEL_OK);
}

static void test_profile(void)
{
  keel_drift_profile ref;
  reference(&ref);
  CU_ASSERT_EQUAL(ref.n, 20);
  /* sorted s[2k], k = 1..9: 3, 5, ..., 19; two values in every bin */
  for (int k = 0; k < 9; k++)
    CU_ASSERT_EQUAL(ref.edges[k], 3 + 2 * k);
  for (int j = 0; j < 10; j++)
    CU_ASSERT_EQUAL(ref.counts[j], 2);
  /* rows select and reorder what is counted */
  double x[12] = {5, 4, 3, 2, 1, 0, -0.0, 7, 8, 9, 10, 11};
  size_t rows[10] = {11, 10, 9, 8, 7, 4, 3, 2, 1, 0};
  keel_drift_profile p;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_drift_profile_make(x, NULL, rows, 10, &p, &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL(p.edges[0], 2); /* sorted 1,2,3,4,5,7,..: s[1] */
  CU_ASSERT_EQUAL(keel_drift_profile_make(x, NULL, rows, 9, &p, &err),
                  KEEL_EDATA); /* fewer than 10 values */
  CU_ASSERT(strstr(err.message, "9 finite values") != NULL);
}

static void test_psi_ks_by_hand(void)
{
  keel_drift_profile ref, run;
  reference(&ref);
  double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  keel_drift_profile_count(&ref, x, NULL, NULL, 10, &run);
  /* shares: run 0.2 in the five lowest bins, 0 above; ref 0.1 each.
   * PSI = 5 (0.2 - 0.1) ln 2 + 5 (1e-4 - 0.1) ln(1e-4 / 0.1) */
  double psi, ks;
  keel_drift_compare(&ref, &run, &psi, &ks);
  CU_ASSERT_DOUBLE_EQUAL(psi, 3.7969973521315503, 1e-12);
  /* below edge k: run 0.2k (to 1), ref 0.1k: the gap peaks at k = 5 */
  CU_ASSERT_DOUBLE_EQUAL(ks, 0.5, 1e-15);
  /* the reference against itself */
  keel_drift_compare(&ref, &ref, &psi, &ks);
  CU_ASSERT_EQUAL(psi, 0);
  CU_ASSERT_EQUAL(ks, 0);
  /* a value on an edge belongs to the bin above it */
  double on = 3;
  keel_drift_profile_count(&ref, &on, NULL, NULL, 1, &run);
  CU_ASSERT_EQUAL(run.counts[1], 1);
}

static void test_json_round_trip(void)
{
  keel_drift_profile ref, back;
  reference(&ref);
  json_t *j = keel_drift_profile_json(&ref);
  char *text = json_dumps(j, 0);
  json_t *again = json_loads(text, 0, NULL);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_drift_profile_parse(again, "t", &back, &err), KEEL_OK);
  CU_ASSERT(memcmp(&ref, &back, sizeof ref) == 0);
  json_array_set_new(json_object_get(again, "counts"), 0, json_integer(3));
  CU_ASSERT_EQUAL(keel_drift_profile_parse(again, "t", &back, &err),
                  KEEL_EINVAL);
  CU_ASSERT(strstr(err.message, "add up to 21, not n = 20") != NULL);
  json_array_set_new(json_object_get(again, "edges"), 1, json_real(-1));
  CU_ASSERT_EQUAL(keel_drift_profile_parse(again, "t", &back, &err),
                  KEEL_EINVAL);
  CU_ASSERT(strstr(err.message, "edge 2") != NULL);
  json_object_del(again, "n");
  CU_ASSERT_EQUAL(keel_drift_profile_parse(again, "t", &back, &err),
                  KEEL_EINVAL);
  free(text);
  json_decref(j);
  json_decref(again);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"decile profile: edges, counts, rows, too few values", test_profile},
      {"PSI and KS equal a hand computation", test_psi_ks_by_hand},
      {"profile JSON round trip and refusals", test_json_round_trip},
      {NULL, NULL}};
  return keel_test_run_suite("drift", tests);
}
