/* Deterministic, optionally stratified splits. See split.h. */
#include "data/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/sha256.h"
#include "base/status.h"
#include "keel/rng.h"

const char *keel_split_part_name(keel_split_part p)
{
  switch (p) {
  case KEEL_SPLIT_TRAIN: return "train";
  case KEEL_SPLIT_VALID: return "valid";
  case KEEL_SPLIT_TEST: return "test";
  default: return "?";
  }
}

void keel_split_hash_rows(const size_t *rows, size_t n, char hex[65])
{
  keel_sha256 *h = keel_sha256_new();
  unsigned char le[8 * 256];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t v = (uint64_t)rows[i];
    for (int b = 0; b < 8; b++)
      le[8 * k + (size_t)b] = (unsigned char)(v >> (8 * b));
    if (++k == 256) {
      keel_sha256_update(h, le, sizeof le);
      k = 0;
    }
  }
  keel_sha256_update(h, le, 8 * k);
  keel_sha256_final_hex(h, hex);
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* round half up, as a count */
static size_t part_count(size_t n, double fraction)
{
  return (size_t)floor((double)n * fraction + 0.5);
}

/* Shuffles idx[0..n) with counters base + i and deals it out. */
static void deal(size_t *idx, size_t n, uint64_t seed, uint64_t base,
                 double valid_fraction, double test_fraction, keel_split *s)
{
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)keel_rng_below(seed, KEEL_RNG_STREAM_SPLIT,
                                      base + (uint64_t)(n - i), (uint64_t)i);
    size_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
  size_t n_test = part_count(n, test_fraction);
  size_t n_valid = part_count(n, valid_fraction);
  if (n_test + n_valid > n)
    n_valid = n - n_test;
  for (size_t i = 0; i < n; i++) {
    keel_split_part p = i < n_test             ? KEEL_SPLIT_TEST
                        : i < n_test + n_valid ? KEEL_SPLIT_VALID
                                               : KEEL_SPLIT_TRAIN;
    s->rows[p][s->n[p]++] = idx[i];
  }
}

int keel_split_make(size_t n_rows, const int32_t *classes, size_t n_classes,
                    double valid_fraction, double test_fraction, uint64_t seed,
                    int stratify, keel_split *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  out->seed = seed;
  out->stratified = stratify != 0;
  out->valid_fraction = valid_fraction;
  out->test_fraction = test_fraction;
  char vf[KEEL_DOUBLE_TEXT], tf[KEEL_DOUBLE_TEXT];
  keel_format_double(valid_fraction, vf, sizeof vf);
  keel_format_double(test_fraction, tf, sizeof tf);
  if (!(valid_fraction >= 0 && valid_fraction < 1 && test_fraction >= 0 &&
        test_fraction < 1 && valid_fraction + test_fraction < 1))
    return keel_fail(err, KEEL_EINVAL,
                     "split: fractions valid=%s test=%s "
                     "must be in [0, 1) with a sum below 1",
                     vf, tf);
  if (stratify && (!classes || n_classes == 0))
    return keel_fail(err, KEEL_EINVAL, "split: stratify needs class labels");
  int rc = KEEL_OK;
  size_t *idx = malloc((n_rows ? n_rows : 1) * sizeof *idx);
  for (int p = 0; p < KEEL_SPLIT_N; p++)
    out->rows[p] = malloc((n_rows ? n_rows : 1) * sizeof(size_t));
  if (!idx || !out->rows[0] || !out->rows[1] || !out->rows[2]) {
    rc = keel_fail(err, KEEL_ENOMEM, "split: out of memory");
    goto out;
  }
  if (!stratify) {
    for (size_t i = 0; i < n_rows; i++)
      idx[i] = i;
    deal(idx, n_rows, seed, 0, valid_fraction, test_fraction, out);
  } else {
    for (size_t i = 0; i < n_rows; i++)
      if (classes[i] < 0 || (size_t)classes[i] >= n_classes) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "split: row %zu has class %d "
                       "outside [0, %zu)",
                       i, (int)classes[i], n_classes);
        goto out;
      }
    for (size_t c = 0; c < n_classes; c++) {
      size_t m = 0;
      for (size_t i = 0; i < n_rows; i++)
        if ((size_t)classes[i] == c)
          idx[m++] = i;
      deal(idx, m, seed, ((uint64_t)c + 1) << 40, valid_fraction, test_fraction,
           out);
    }
  }
  for (int p = 0; p < KEEL_SPLIT_N; p++) {
    qsort(out->rows[p], out->n[p], sizeof(size_t), cmp_size);
    keel_split_hash_rows(out->rows[p], out->n[p], out->sha256[p]);
  }
  if (out->n[KEEL_SPLIT_TRAIN] == 0)
    rc = keel_fail(err, KEEL_EDATA,
                   "split: the training part is empty (%zu "
                   "rows, valid_fraction %s, test_fraction %s)",
                   n_rows, vf, tf);
out:
  free(idx);
  if (rc)
    keel_split_free(out);
  return rc;
}

void keel_split_free(keel_split *s)
{
  if (!s)
    return;
  for (int p = 0; p < KEEL_SPLIT_N; p++)
    free(s->rows[p]);
  memset(s->rows, 0, sizeof s->rows);
  memset(s->n, 0, sizeof s->n);
}
