/* pipeline_internal: what the files of the data pipeline share, internal
 * to the data layer (never included from another layer).
 *
 *   pipeline_check.c    declared schemas through every stage (keel check)
 *   pipeline_prepare.c  the real run: read, check, split, fit, apply, pack
 *   pipeline_labels.c   the label column: class indexes or targets
 *   prepared_write.c    the prepared data as files (split.json, .npy)
 *
 * The contract is pipeline.h's. */
#ifndef KEEL_DATA_PIPELINE_INTERNAL_H
#define KEEL_DATA_PIPELINE_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/pipeline.h"

/* The plugin name of a stage, "(none)" when it has none. */
static inline const char *keel__stage_plugin(const keel_stage *st)
{
  return st->plugin ? st->plugin->desc.name : "(none)";
}

/* "[transform.scale] standardize" or "[source] csv". */
static inline void keel__stage_tag(char *buf, size_t n, const keel_stage *st)
{
  snprintf(buf, n, "[%s] %s", st->section ? st->section : "?",
           keel__stage_plugin(st));
}

/* Frees v[0..n) and v (NULL is fine). */
static inline void keel__free_strings(char **v, size_t n)
{
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

/* ---- pipeline_check.c --------------------------------------------------- */

/* The schemas as JSON (schemas.json's shape); new reference or NULL. */
json_t *keel__schemas_json(const keel_stage_schemas *s);
/* Indented JSON text of j (stolen), malloc'd; NULL when j is NULL. */
char *keel__dump_json(json_t *j);

/* ---- pipeline_labels.c -------------------------------------------------- */

/* The label of the rows a run keeps. */
typedef struct keel__labels {
  size_t n_classes;
  char **names; /* class names: sorted bytewise, or numerically */
  int32_t *cls; /* per kept row (classification) */
  double *y;    /* per kept row: class index or target */
} keel__labels;

/* Encodes label column lc of the kept source rows kept[0..n_kept) as
 * class indexes (classification: categories, or integer values, sorted)
 * or finite targets (regression). out is filled (free it with
 * keel__labels_free) whatever the outcome. */
int keel__labels_encode(const keel_run_config *cfg, const keel_column *lc,
                        const size_t *kept, size_t n_kept, keel__labels *out,
                        keel_error *err);
void keel__labels_free(keel__labels *l);

#endif
