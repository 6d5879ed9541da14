/* Declared sampling of a run's rows ([data] sample_* and rebalance).
 *
 * Downsampling keeps sample_rows rows, or round(n * sample_fraction), of
 * the labelled source rows BEFORE the split. With sample_by = COLUMN the
 * rows are grouped by that column's value (a stratum per distinct value,
 * missing its own) and each stratum keeps its share: floor(n_s * k / n)
 * rows, the remaining rows going to the strata with the largest
 * remainders (ties: stratum order), so the total is exactly k. Within a
 * stratum s the rows are drawn by a partial Fisher-Yates shuffle with
 * Philox keyed by sample_seed, stream KEEL_RNG_STREAM_SAMPLE, counters
 * (s + 1) * 2^40 + i: a pure function of the data and the seed.
 *
 * Re-balancing changes the TRAINING split only, AFTER the split: under
 * keeps min-class-count rows of every class (drawn as above, stream
 * KEEL_RNG_STREAM_REBALANCE, class c at counters (c + 1) * 2^40 + i);
 * over repeats each class's rows whole as often as they fit into the
 * largest class's count and draws the rest the same way. Validation and
 * test rows never change, and no copy of a row reaches them.
 *
 * Both are recorded (keel_sample_json) in the split record of
 * lineage.json. */
#ifndef KEEL_DATA_SAMPLE_H
#define KEEL_DATA_SAMPLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "keel/keel.h"

typedef enum keel_rebalance {
  KEEL_REBALANCE_NONE = 0,
  KEEL_REBALANCE_UNDER = 1,
  KEEL_REBALANCE_OVER = 2
} keel_rebalance;

/* What [data] asks for. */
typedef struct keel_sample_spec {
  size_t rows;     /* 0: not by count */
  double fraction; /* 1: all */
  const char *by;  /* "" : a plain random sample */
  uint64_t seed;
  keel_rebalance rebalance;
} keel_sample_spec;

/* One stratum of a downsample. */
typedef struct keel_sample_stratum {
  char *value; /* the column's value as text; NULL where missing */
  size_t before, after;
} keel_sample_stratum;

/* What sampling did, for the record. */
typedef struct keel_sample_record {
  keel_sample_spec spec;
  char *by; /* owned copy of spec.by */
  int downsampled;
  size_t rows_before, rows_after;
  keel_sample_stratum *strata;
  size_t n_strata;
  char sha256[65]; /* of the kept source rows (keel_split_hash_rows) */
  int rebalanced;
  size_t train_before, train_after;
  size_t *class_before, *class_after; /* per class */
  size_t n_classes;
  char train_sha256[65]; /* of the re-balanced train source rows */
} keel_sample_record;

keel_sample_spec keel_sample_spec_of(const keel_run_config *cfg);

/* The rules that need no data rows (exit 2 at `keel check`): sample_rows
 * and sample_fraction not both set, rebalance only for classification,
 * sample_by a column of the source's declared schema src. */
int keel_sample_check(const keel_run_config *cfg, const keel_schema *src,
                      keel_error *err);

/* Downsamples kept[0..*n_kept) (ascending source rows) in place, by the
 * values of `by` (a source column indexed by source row; NULL: plain).
 * No-op when nothing is asked. More rows asked than there are:
 * KEEL_EDATA naming both counts. Fills rec. */
int keel_sample_rows(const keel_sample_spec *sp, const keel_column *by,
                     size_t *kept, size_t *n_kept, keel_sample_record *rec,
                     keel_error *err);

/* Re-balances the training positions *train (*n, ascending, indexes into
 * cls) by class; *train is replaced by a new ascending array (repeats
 * allowed). No-op for KEEL_REBALANCE_NONE. Fills rec (not train_sha256). */
int keel_sample_rebalance(const keel_sample_spec *sp, const int32_t *cls,
                          size_t n_classes, size_t **train, size_t *n,
                          keel_sample_record *rec, keel_error *err);

/* The record as JSON ({"sample": ..., "rebalance": ...}, each present
 * when it happened), class names for the per-class counts; NULL when
 * neither happened or out of memory (*err filled then). */
json_t *keel_sample_json(const keel_sample_record *rec,
                         char *const *class_names, keel_error *err);

void keel_sample_record_free(keel_sample_record *rec);

#endif
