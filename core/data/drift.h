/* drift: how far a column's values have moved from a reference version's
 * (docs/data-access.md, "Data checks"). The reference is a column's decile
 * profile that `keel data add` records: 9 edges (values of the sorted
 * data at ranks floor(k n / 10), k = 1..9) and how many of its n values
 * fall in each of the 10 bins [e_j, e_j+1) (e_0 = -inf, e_10 = +inf).
 * The run's values are counted in the same bins, and
 *   PSI = sum_j (a_j - b_j) ln(a_j / b_j),  a_j = max(run_j / n_run, eps),
 *                                           b_j = max(ref_j / n_ref, eps),
 *   KS  = max_k=1..9 | sum_j<k run_j / n_run - sum_j<k ref_j / n_ref |,
 * eps = KEEL_DRIFT_EPS, sums in bin order: the same bits everywhere. */
#ifndef KEEL_DATA_DRIFT_H
#define KEEL_DATA_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keel/error.h"

#define KEEL_DRIFT_BINS 10
#define KEEL_DRIFT_EPS 1e-4 /* a bin's share when it holds no value */

typedef struct keel_drift_profile {
  uint64_t n; /* finite values counted */
  double edges[KEEL_DRIFT_BINS - 1];
  uint64_t counts[KEEL_DRIFT_BINS];
} keel_drift_profile;

/* The profile of the finite, non-missing values x[rows[i]] (rows NULL:
 * x[0..n)); missing may be NULL. KEEL_EDATA when fewer than 10 values,
 * KEEL_ENOMEM. */
int keel_drift_profile_make(const double *x, const uint8_t *missing,
                            const size_t *rows, size_t n,
                            keel_drift_profile *out, keel_error *err);

/* Counts the same values into ref's bins: out->edges = ref->edges. */
void keel_drift_profile_count(const keel_drift_profile *ref, const double *x,
                              const uint8_t *missing, const size_t *rows,
                              size_t n, keel_drift_profile *out);

/* PSI and KS of run against ref, as defined above; both 0 when run has
 * no value. */
void keel_drift_compare(const keel_drift_profile *ref,
                        const keel_drift_profile *run, double *psi, double *ks);

/* A profile as the stats file holds it ({"n", "edges", "counts"}), and
 * read back: KEEL_EINVAL with `what` and the problem in err when the
 * object is not one (counts not summing to n, edges decreasing). */
json_t *keel_drift_profile_json(const keel_drift_profile *p);
int keel_drift_profile_parse(const json_t *o, const char *what,
                             keel_drift_profile *out, keel_error *err);

#endif
