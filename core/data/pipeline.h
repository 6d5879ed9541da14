/* The data pipeline: source -> label -> split -> transforms -> dense matrix.
 *
 * keel_pipeline_check propagates declared schemas only (the source's
 * schema() and every transform's schema()), so `keel check` catches a
 * text column, a column that may still be missing or non-finite, or a
 * label that does not fit the task before any training, naming the stage
 * and the column. keel_pipeline_prepare_checked then runs it for real: it
 * reads the source, checks actual against declared schemas after every
 * stage, applies the template's data checks, splits (deterministically,
 * see split.h), fits each transform on the training split only, applies
 * the fitted state to every split and packs float32 matrices.
 *
 * Errors: KEEL_EINVAL / KEEL_ESCHEMA for what the declared schemas reveal
 * (exit 2: `keel check` knows), KEEL_EDATA for what only the data reveals
 * (exit 1); messages start with "[section] plugin:" or "[data]". Nothing
 * here prints. Not thread-safe for one config (plugins are not reentrant
 * per call). */
#ifndef KEEL_DATA_PIPELINE_H
#define KEEL_DATA_PIPELINE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "data/data_checks.h"
#include "data/sample.h"
#include "data/split.h"
#include "keel/keel.h"

/* A declared column named "<prefix>=*" stands for zero or more actual
 * columns named "<prefix>=<something>" whose count is known only after fit
 * (onehot's categories; docs/plugin-guide.md section 8). Returns the
 * length of "<prefix>=" or 0. The one statement of that rule: the
 * pipeline and the plugin test kit both check tables by it. */
static inline size_t keel_schema_group_prefix(const char *name)
{
  size_t n = strlen(name);
  return (n >= 2 && name[n - 1] == '*' && name[n - 2] == '=') ? n - 1 : 0;
}

/* The declared schema after one stage. */
typedef struct keel_stage_schema {
  char *section;      /* "source", "transform.scale" */
  char *plugin;       /* "csv", "standardize" */
  keel_schema schema; /* owned */
} keel_stage_schema;

/* Every stage's declared schema, as `keel check` shows it. */
typedef struct keel_stage_schemas {
  keel_task task;
  char *label; /* the label column's name */
  keel_col_type label_type;
  uint32_t label_flags;
  keel_stage_schema *stages; /* [0] the source (label included), then one
                                per transform: its output (no label) */
  size_t n_stages;
  keel_schema features; /* what reaches the model (owned) */
} keel_stage_schemas;

void keel_stage_schemas_free(keel_stage_schemas *s);

/* Prints every stage's columns (name, type, flags) and the model input,
 * as `keel check` shows them. */
void keel_stage_schemas_print(FILE *f, const keel_stage_schemas *s);

/* JSON text of the schemas (the bundle's schemas.json); malloc'd, caller
 * frees; NULL on ENOMEM. */
char *keel_stage_schemas_to_json(const keel_stage_schemas *s);

/* The model input width the declared schemas give, for probing the
 * model's create: the numeric columns that reach the model, *exact = 1,
 * when every one is known; else (a NAME=* group whose width only fit
 * knows, as onehot's) a placeholder counting each group as one column,
 * *exact = 0. At least 1. */
size_t keel_stage_schemas_model_width(const keel_stage_schemas *s, int *exact);

/* Propagates declared schemas through the pipeline of cfg (borrowed) and
 * checks the label, each transform's schema() and the model input against
 * the template contract (cfg->checks.contract_flags) and the model's
 * contract. Reads the source's schema (for csv: one scan of the file).
 * *out is filled only on success; free with keel_stage_schemas_free. */
int keel_pipeline_check(const keel_run_config *cfg, const keel_host *host,
                        keel_stage_schemas *out, keel_error *err);

/* One prepared split: dense, row-major, float32. */
typedef struct keel_prepared_part {
  size_t n_rows;
  float *X;     /* n_rows x n_features */
  float *y;     /* n_rows: class index (classification) or target */
  size_t *rows; /* source data row (0-based) of each row, ascending */
} keel_prepared_part;

/* Everything preparation produced. Owns all its memory. */
typedef struct keel_prepared {
  keel_task task;
  char *label;
  size_t n_features;
  char **feature_names;
  size_t n_classes;   /* 0 for regression */
  char **class_names; /* sorted: bytewise, or numerically for a
                         numeric label */
  keel_prepared_part part[KEEL_SPLIT_N]; /* train, valid, test */
  keel_split split;                      /* indices are source data rows;
                                            train re-balanced (sample.h) */
  keel_sample_record sample;             /* what sampling did */
  keel_check_report checks; /* the template's data checks, observed values
                               and bounds; kept on failure too, so a
                               failed run records what they found) */
  size_t n_source_rows;
  char source_rows_sha256[65]; /* a sqlite dataset's result rows
                                  (data/table_hash.h); "" otherwise */
  size_t *dropped_rows;        /* source rows dropped for a missing label */
  size_t n_dropped;
  size_t n_transforms;
  keel_state **states;        /* fitted state per transform (owned) */
  keel_stage_schemas schemas; /* declared schemas of every stage */
} keel_prepared;

/* Reads, checks, splits, fits and packs, after keel_pipeline_check on cfg
 * gave *checked (so the source's schema scan is not done twice); takes
 * over *checked (left emptied) whatever the outcome. cfg and host are
 * borrowed; *out is filled on success, and on failure holds only the
 * data checks' report (free it with keel_prepared_free either way). */
int keel_pipeline_prepare_checked(const keel_run_config *cfg,
                                  const keel_host *host,
                                  keel_stage_schemas *checked,
                                  keel_prepared *out, keel_error *err);
void keel_prepared_free(keel_prepared *p);

/* keel_pipeline_prepare_checked up to the split, for `keel check --data`:
 * reads the source, checks it against its declared schema, encodes the
 * label, runs the template's data checks and splits, by the same code.
 * No transform is fitted, no matrix packed, nothing written. *checked is
 * borrowed. *out gets task, label, n_classes, class_names, split,
 * n_source_rows, the dropped rows and each part's n_rows, y and rows
 * (X NULL, no schemas, no states); free with keel_prepared_free. On
 * failure *out holds only the data checks' report (free it the same way). */
int keel_pipeline_read_split(const keel_run_config *cfg, const keel_host *host,
                             const keel_stage_schemas *checked,
                             keel_prepared *out, keel_error *err);

/* Applies the transforms of cfg with the given fitted states (one per
 * transform, e.g. reloaded with keel_state_from_json) to `features` (a
 * table of the source's columns without the label) and packs the result
 * into a new float32 matrix *X (n_rows x *n_features; caller frees).
 * Checks each stage's actual output against its declared schema. Replay
 * and the bit-exactness tests use it. */
int keel_pipeline_apply(const keel_run_config *cfg, const keel_host *host,
                        const keel_stage_schemas *schemas,
                        keel_state *const *states, const keel_table *features,
                        float **X, size_t *n_features, keel_error *err);

/* JSON text of the split record (seed, fractions, counts, SHA-256 of each
 * index list, dropped rows, classes); malloc'd, caller frees. */
char *keel_prepared_split_json(const keel_prepared *p);

/* Writes the prepared data into folder `dir` (created if absent; files
 * replaced atomically): X_{train,valid,test}.npy (float32, rows x
 * features), y_*.npy (float32), rows_*.npy (int64 source rows),
 * NN-<section>.json (fitted state of transform NN, 01 first),
 * schemas.json and split.json. What `keel run --until-transforms` leaves. */
int keel_prepared_write(const keel_prepared *p, const char *dir,
                        keel_error *err);

#endif
