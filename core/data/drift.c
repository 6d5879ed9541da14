/* Decile profiles and the PSI / KS drift statistics (drift.h). */
#include "data/drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int counted(const double *x, const uint8_t *missing, size_t r)
{
  return !(missing && missing[r]) && isfinite(x[r]);
}

/* The bin of v: how many edges are <= v. */
static size_t bin_of(const double *edges, double v)
{
  size_t b = 0;
  while (b < KEEL_DRIFT_BINS - 1 && edges[b] <= v)
    b++;
  return b;
}

void keel_drift_profile_count(const keel_drift_profile *ref, const double *x,
                              const uint8_t *missing, const size_t *rows,
                              size_t n, keel_drift_profile *out)
{
  memset(out, 0, sizeof *out);
  memcpy(out->edges, ref->edges, sizeof out->edges);
  for (size_t i = 0; i < n; i++) {
    size_t r = rows ? rows[i] : i;
    if (!counted(x, missing, r))
      continue;
    out->counts[bin_of(ref->edges, x[r])]++;
    out->n++;
  }
}

int keel_drift_profile_make(const double *x, const uint8_t *missing,
                            const size_t *rows, size_t n,
                            keel_drift_profile *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (!v)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    size_t r = rows ? rows[i] : i;
    if (counted(x, missing, r))
      v[m++] = x[r] == 0 ? 0.0 : x[r]; /* -0 sorts and prints as 0 */
  }
  if (m < KEEL_DRIFT_BINS) {
    free(v);
    return keel_fail(err, KEEL_EDATA,
                     "%zu finite values; a decile profile needs at least %d", m,
                     KEEL_DRIFT_BINS);
  }
  qsort(v, m, sizeof *v, cmp_double);
  keel_drift_profile ref;
  memset(&ref, 0, sizeof ref);
  for (size_t k = 1; k < KEEL_DRIFT_BINS; k++)
    ref.edges[k - 1] = v[k * m / KEEL_DRIFT_BINS];
  free(v);
  keel_drift_profile_count(&ref, x, missing, rows, n, out);
  return KEEL_OK;
}

void keel_drift_compare(const keel_drift_profile *ref,
                        const keel_drift_profile *run, double *psi, double *ks)
{
  *psi = 0;
  *ks = 0;
  if (!run->n || !ref->n)
    return;
  double cum_run = 0, cum_ref = 0;
  for (size_t j = 0; j < KEEL_DRIFT_BINS; j++) {
    double p = (double)run->counts[j] / (double)run->n;
    double q = (double)ref->counts[j] / (double)ref->n;
    if (j) { /* F at edge j: the share below it */
      double d = fabs(cum_run - cum_ref);
      *ks = d > *ks ? d : *ks;
    }
    cum_run += p;
    cum_ref += q;
    double a = p > KEEL_DRIFT_EPS ? p : KEEL_DRIFT_EPS;
    double b = q > KEEL_DRIFT_EPS ? q : KEEL_DRIFT_EPS;
    *psi += (a - b) * log(a / b);
  }
}

json_t *keel_drift_profile_json(const keel_drift_profile *p)
{
  json_t *o = json_object(), *e = json_array(), *c = json_array();
  if (!o || !e || !c) {
    json_decref(o);
    json_decref(e);
    json_decref(c);
    return NULL;
  }
  for (size_t k = 0; k < KEEL_DRIFT_BINS - 1; k++)
    json_array_append_new(e, json_real(p->edges[k]));
  for (size_t j = 0; j < KEEL_DRIFT_BINS; j++)
    json_array_append_new(c, json_integer((json_int_t)p->counts[j]));
  json_object_set_new(o, "n", json_integer((json_int_t)p->n));
  json_object_set_new(o, "edges", e);
  json_object_set_new(o, "counts", c);
  return o;
}

int keel_drift_profile_parse(const json_t *o, const char *what,
                             keel_drift_profile *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  const json_t *n = json_object_get(o, "n"), *e = json_object_get(o, "edges"),
               *c = json_object_get(o, "counts");
  if (!json_is_integer(n) || json_integer_value(n) < KEEL_DRIFT_BINS ||
      json_array_size(e) != KEEL_DRIFT_BINS - 1 ||
      json_array_size(c) != KEEL_DRIFT_BINS)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: expected {\"n\": at least %d, \"edges\": 9 "
                     "numbers, \"counts\": 10 integers}",
                     what, KEEL_DRIFT_BINS);
  out->n = (uint64_t)json_integer_value(n);
  uint64_t sum = 0;
  for (size_t k = 0; k < KEEL_DRIFT_BINS - 1; k++) {
    const json_t *x = json_array_get(e, k);
    out->edges[k] = json_number_value(x);
    if (!json_is_number(x) || !isfinite(out->edges[k]) ||
        (k && out->edges[k] < out->edges[k - 1]))
      return keel_fail(err, KEEL_EINVAL,
                       "%s: edge %zu is not a finite number at or above the "
                       "edge before it",
                       what, k + 1);
  }
  for (size_t j = 0; j < KEEL_DRIFT_BINS; j++) {
    const json_t *x = json_array_get(c, j);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
      return keel_fail(err, KEEL_EINVAL, "%s: count %zu is not an integer >= 0",
                       what, j + 1);
    out->counts[j] = (uint64_t)json_integer_value(x);
    sum += out->counts[j];
  }
  if (sum != out->n)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: the counts add up to %llu, not n = %llu", what,
                     (unsigned long long)sum, (unsigned long long)out->n);
  return KEEL_OK;
}
