/* Deterministic train / validation / test split.
 *
 * Rows are permuted by a Fisher-Yates shuffle whose draws come from Philox
 * keyed by the [data] seed (stream KEEL_RNG_STREAM_SPLIT), so the split is
 * a pure function of (row count, labels if stratified, fractions, seed):
 * no dependence on thread count or platform. The first round(n * test)
 * permuted rows go to test, the next round(n * valid) to validation, the
 * rest to training; stratified, this is done per class (class c uses
 * counters c * 2^40 + i), so every class keeps its proportions. Each
 * split's index list is then sorted ascending and hashed: SHA-256 over the
 * indices as little-endian uint64, recorded with the counts. */
#ifndef KEEL_DATA_SPLIT_H
#define KEEL_DATA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "keel/error.h"

typedef enum keel_split_part {
  KEEL_SPLIT_TRAIN = 0,
  KEEL_SPLIT_VALID = 1,
  KEEL_SPLIT_TEST = 2,
  KEEL_SPLIT_N = 3
} keel_split_part;

typedef struct keel_split {
  uint64_t seed;
  int stratified;
  double valid_fraction, test_fraction;
  size_t *rows[KEEL_SPLIT_N]; /* indices into the input rows, ascending */
  size_t n[KEEL_SPLIT_N];
  char sha256[KEEL_SPLIT_N][65]; /* of each index list */
} keel_split;

/* "train", "valid", "test". */
const char *keel_split_part_name(keel_split_part p);

/* Splits n_rows rows. `classes` (n_rows class indices in [0, n_classes))
 * is required when stratify is set, else ignored (may be NULL). Fractions
 * must be in [0, 1) with valid + test < 1; the training part must not be
 * empty (KEEL_EDATA). out is owned by the caller: keel_split_free. */
int keel_split_make(size_t n_rows, const int32_t *classes, size_t n_classes,
                    double valid_fraction, double test_fraction, uint64_t seed,
                    int stratify, keel_split *out, keel_error *err);

/* SHA-256 hex of an index list as little-endian uint64 (the split hash). */
void keel_split_hash_rows(const size_t *rows, size_t n, char hex[65]);

void keel_split_free(keel_split *s);

#endif
