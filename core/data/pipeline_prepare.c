/* The data pipeline run for real (keel_pipeline_prepare_checked): reads
 * the source, checks every stage's actual output against its declared
 * schema, runs the template's data checks, splits, fits each transform on
 * the train split, applies it to every split and packs float32 matrices. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "data/pipeline_internal.h"
#include "data/table_hash.h"
#include "plugin/state.h"
#include "plugin/table.h"

/* Source data row (1-based) of row i of a table whose rows map to `rows`
 * (NULL: the source itself). */
static size_t src_row(const size_t *rows, size_t i)
{
  return (rows ? rows[i] : i) + 1;
}

/* Checks one actual column against its declaration's flags. */
static int check_column(const keel_column_schema *d, const keel_column *col,
                        size_t n_rows, const char *tag, const char *part,
                        const size_t *rows, keel_error *err)
{
  for (size_t r = 0; r < n_rows; r++) {
    if (col->missing[r]) {
      if (!(d->flags & KEEL_COL_MAY_MISS))
        return keel_fail(err, KEEL_EDATA,
                         "%s: column '%s' is missing in "
                         "source data row %zu (%s split), but the stage "
                         "declared it never missing",
                         tag, col->name, src_row(rows, r), part);
      continue;
    }
    if (col->num && !isfinite(col->num[r]) &&
        !(d->flags & KEEL_COL_MAY_NONFINITE))
      return keel_fail(err, KEEL_EDATA,
                       "%s: column '%s' is %g in source "
                       "data row %zu (%s split), but the stage declared it "
                       "finite",
                       tag, col->name, col->num[r], src_row(rows, r), part);
    if (col->type == KEEL_COL_CATEGORICAL &&
        (col->code[r] < 0 || (size_t)col->code[r] >= col->n_dict))
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: column '%s' has category "
                       "code %d outside its dictionary of %zu in row %zu",
                       tag, col->name, (int)col->code[r], col->n_dict,
                       src_row(rows, r));
    if (col->type == KEEL_COL_TEXT && !col->text[r])
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: text column '%s' has no "
                       "value in row %zu but is not marked missing",
                       tag, col->name, src_row(rows, r));
  }
  return KEEL_OK;
}

/* Checks a table a stage produced against the stage's declared schema:
 * structure (a plugin bug: KEEL_EPLUGIN) and flags (data: KEEL_EDATA). */
static int check_actual(const keel_schema *decl, const keel_table *t,
                        const char *tag, const char *part, const size_t *rows,
                        keel_error *err)
{
  size_t c = 0;
  for (size_t k = 0; k < decl->n_cols; k++) {
    const keel_column_schema *d = &decl->cols[k];
    size_t wp = keel_schema_group_prefix(d->name);
    if (wp) {
      for (; c < t->n_cols && strncmp(t->cols[c].name, d->name, wp) == 0; c++) {
        if (t->cols[c].type != d->type)
          return keel_fail(err, KEEL_EPLUGIN,
                           "%s: column '%s' is %s on the "
                           "%s split, but '%s' declared %s",
                           tag, t->cols[c].name,
                           keel_col_type_name(t->cols[c].type), part, d->name,
                           keel_col_type_name(d->type));
        int rc = check_column(d, &t->cols[c], t->n_rows, tag, part, rows, err);
        if (rc)
          return rc;
      }
      continue;
    }
    if (c >= t->n_cols)
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: produced %zu columns on the %s "
                       "split, but declared %zu (column '%s' is absent)",
                       tag, t->n_cols, part, decl->n_cols, d->name);
    const keel_column *col = &t->cols[c++];
    if (strcmp(col->name, d->name) != 0 || col->type != d->type)
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: column %zu is '%s' (%s) on the "
                       "%s split, but declared '%s' (%s)",
                       tag, c, col->name, keel_col_type_name(col->type), part,
                       d->name, keel_col_type_name(d->type));
    int rc = check_column(d, col, t->n_rows, tag, part, rows, err);
    if (rc)
      return rc;
  }
  if (c != t->n_cols)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: produced %zu columns on the %s "
                     "split, but declared %zu ('%s' is not declared)",
                     tag, t->n_cols, part, decl->n_cols, t->cols[c].name);
  return KEEL_OK;
}

/* Packs an all-numeric table into float32 rows. */
static int pack(const keel_table *t, size_t n_features, const char *tag,
                const char *part, const size_t *rows, float **X,
                keel_error *err)
{
  size_t n = t->n_rows;
  *X = NULL;
  if (n && n_features > SIZE_MAX / sizeof(float) / n)
    return keel_fail(err, KEEL_ENOMEM, "matrix too large");
  float *x = malloc(n && n_features ? n * n_features * sizeof *x : 1);
  if (!x)
    return keel_fail(err, KEEL_ENOMEM,
                     "out of memory for a %zu x %zu "
                     "matrix",
                     n, n_features);
  if (t->n_cols != n_features) {
    free(x);
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: %zu columns on the %s split, "
                     "but %zu on the train split",
                     tag, t->n_cols, part, n_features);
  }
  for (size_t c = 0; n && c < n_features; c++) {
    const keel_column *col = &t->cols[c];
    for (size_t r = 0; r < n; r++) {
      float v = (float)col->num[r];
      if (col->type != KEEL_COL_NUMERIC || col->missing[r] || !isfinite(v)) {
        free(x);
        return keel_fail(err, KEEL_EDATA,
                         "%s: column '%s' in source data "
                         "row %zu (%s split) is %s; the model input must be "
                         "finite float32",
                         tag, col->name, src_row(rows, r), part,
                         col->missing[r]         ? "missing"
                         : isfinite(col->num[r]) ? "outside the float32 range"
                                                 : "NaN or Inf");
      }
      x[r * n_features + c] = v;
    }
  }
  *X = x;
  return KEEL_OK;
}

/* Applies transform i with `state` to *cur (replaced by the output). */
static int apply_stage(const keel_run_config *cfg, const keel_host *host,
                       const keel_stage_schemas *schemas, size_t i,
                       const keel_state *state, keel_table **cur,
                       const char *part, const size_t *rows, keel_error *err)
{
  const keel_stage *st = &cfg->transforms[i];
  const keel_transform_api *tapi = st->plugin->api;
  char tag[128];
  keel_table *next = NULL;
  keel__stage_tag(tag, sizeof tag, st);
  int rc = tapi->apply(host, st->values, state, *cur, &next, err);
  if (rc) {
    keel_error_prefix_plugin(err, keel__stage_plugin(st), "%s (%s split)", tag,
                             part);
    if (next)
      keel_table_free(next);
    return rc;
  }
  if (!next)
    return keel_fail(err, KEEL_EPLUGIN, "%s: apply returned no table", tag);
  if (next->n_rows != (*cur)->n_rows)
    rc = keel_fail(err, KEEL_EPLUGIN,
                   "%s: apply turned %zu rows into %zu "
                   "(%s split); transforms must keep every row",
                   tag, (*cur)->n_rows, next->n_rows, part);
  if (!rc)
    rc = check_actual(&schemas->stages[i + 1].schema, next, tag, part, rows,
                      err);
  if (rc) {
    keel_table_free(next);
    return rc;
  }
  keel_table_free(*cur);
  *cur = next;
  return KEEL_OK;
}

static const char *last_tag(const keel_run_config *cfg, char *buf, size_t n)
{
  if (cfg->n_transforms)
    keel__stage_tag(buf, n, &cfg->transforms[cfg->n_transforms - 1]);
  else
    keel__stage_tag(buf, n, &cfg->source);
  return buf;
}

int keel_pipeline_apply(const keel_run_config *cfg, const keel_host *host,
                        const keel_stage_schemas *schemas,
                        keel_state *const *states, const keel_table *features,
                        float **X, size_t *n_features, keel_error *err)
{
  char tag[128];
  *X = NULL;
  keel_table *cur = keel_table_new(features->n_rows);
  if (!cur)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  for (size_t c = 0; !rc && c < features->n_cols; c++)
    if (!keel_table_copy_column(cur, &features->cols[c], err))
      rc = err && err->code ? err->code : KEEL_ENOMEM;
  for (size_t i = 0; !rc && i < cfg->n_transforms; i++)
    rc =
        apply_stage(cfg, host, schemas, i, states[i], &cur, "given", NULL, err);
  if (!rc) {
    *n_features = cur->n_cols;
    rc = pack(cur, *n_features, last_tag(cfg, tag, sizeof tag), "given", NULL,
              X, err);
  }
  keel_table_free(cur);
  return rc;
}
/* The template's data checks on the kept rows (data/data_checks.h),
 * recorded in *report whatever the outcome; a classification label needs
 * two classes whatever the template says. */
static int template_checks(const keel_run_config *cfg, const keel_table *t,
                           size_t label_col, const size_t *kept, size_t n_kept,
                           const keel__labels *lab, keel_check_report *report,
                           keel_error *err)
{
  int classify = cfg->task != KEEL_TASK_REGRESSION;
  int rc = keel_data_checks_run(cfg, t, label_col, kept, n_kept,
                                classify ? lab->cls : NULL,
                                (const char *const *)lab->names,
                                classify ? lab->n_classes : 0, report, err);
  if (rc || !classify || lab->n_classes >= 2)
    return rc;
  return keel_fail(err, KEEL_EDATA,
                   "[data] label '%s' has %zu class%s in "
                   "the data; classification needs at least 2",
                   t->cols[label_col].name, lab->n_classes,
                   lab->n_classes == 1 ? "" : "es");
}

void keel_prepared_free(keel_prepared *p)
{
  if (!p)
    return;
  free(p->label);
  keel__free_strings(p->feature_names, p->n_features);
  keel__free_strings(p->class_names, p->n_classes);
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    free(p->part[k].X);
    free(p->part[k].y);
    free(p->part[k].rows);
  }
  keel_split_free(&p->split);
  keel_sample_record_free(&p->sample);
  keel_check_report_free(&p->checks);
  free(p->dropped_rows);
  for (size_t i = 0; p->states && i < p->n_transforms; i++)
    keel_state_free(p->states[i]);
  free(p->states);
  keel_stage_schemas_free(&p->schemas);
  memset(p, 0, sizeof *p);
}

/* Sets kept[0..*n_kept) to the source rows that have a label. A row
 * without one is dropped (and recorded in p) with [data] missing_label =
 * drop, else an error. */
static int keep_labelled_rows(const keel_run_config *cfg, const keel_column *lc,
                              size_t n_rows, size_t *kept, size_t *n_kept,
                              keel_prepared *p, keel_error *err)
{
  int drop = cfg->data.values[KEEL_DATA_MISSING_LABEL].i == 1;
  *n_kept = 0;
  for (size_t r = 0; r < n_rows; r++) {
    if (!lc->missing[r]) {
      kept[(*n_kept)++] = r;
      continue;
    }
    if (!drop) {
      size_t total = 0;
      for (size_t q = 0; q < n_rows; q++)
        total += lc->missing[q] != 0;
      if (total == n_rows)
        return keel_fail(err, KEEL_EDATA,
                         "[data] label '%s' is missing in all %zu source "
                         "data row%s (is it the right column?)",
                         lc->name, total, total == 1 ? "" : "s");
      return keel_fail(err, KEEL_EDATA,
                       "[data] label '%s' is missing in "
                       "source data row %zu (%zu row%s in all); set [data] "
                       "missing_label = drop to drop such rows",
                       lc->name, r + 1, total, total == 1 ? "" : "s");
    }
    p->dropped_rows[p->n_dropped++] = r;
  }
  if (*n_kept == 0)
    return keel_fail(err, KEEL_EDATA,
                     "[data] label '%s' is missing in all %zu source data "
                     "row%s",
                     lc->name, n_rows, n_rows == 1 ? "" : "s");
  return KEEL_OK;
}

/* Each split part: its labels, its source rows (the split's positions
 * index the kept rows; from here on they are source rows) and its
 * feature table in parts[k]. */
static int fill_parts(keel_prepared *p, const keel_table *feat,
                      const keel__labels *lab, const size_t *kept,
                      keel_table *parts[KEEL_SPLIT_N], keel_error *err)
{
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    keel_prepared_part *pp = &p->part[k];
    size_t n = p->split.n[k];
    pp->n_rows = n;
    pp->y = malloc((n ? n : 1) * sizeof *pp->y);
    pp->rows = malloc((n ? n : 1) * sizeof *pp->rows);
    if (!pp->y || !pp->rows)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
      size_t pos = p->split.rows[k][i];
      pp->y[i] = (float)lab->y[pos];
      pp->rows[i] = kept[pos];
      p->split.rows[k][i] = kept[pos];
    }
    keel_split_hash_rows(p->split.rows[k], n, p->split.sha256[k]);
    if (!(parts[k] = keel_table_take_rows(feat, pp->rows, n, err)))
      return err->code ? err->code : KEEL_ENOMEM;
  }
  return KEEL_OK;
}

/* Reads the source, handles missing labels, encodes the label, runs the
 * template checks and splits. Leaves the per-split feature tables. */
static int read_and_split(const keel_run_config *cfg, const keel_host *host,
                          keel_prepared *p, keel_table *parts[KEEL_SPLIT_N],
                          keel_error *err)
{
  const keel_source_api *sapi = cfg->source.plugin->api;
  keel_table *src = NULL, *feat = NULL;
  size_t *kept = NULL, n_kept = 0;
  keel__labels lab;
  char tag[128];
  memset(&lab, 0, sizeof lab);
  keel__stage_tag(tag, sizeof tag, &cfg->source);
  int rc = sapi->read(host, cfg->source.values, &src, err);
  if (rc) {
    keel_error_prefix_plugin(err, keel__stage_plugin(&cfg->source), "%s", tag);
    goto out;
  }
  if (!src) {
    rc = keel_fail(err, KEEL_EPLUGIN, "%s: read returned no table", tag);
    goto out;
  }
  if ((rc = check_actual(&p->schemas.stages[0].schema, src, tag, "source", NULL,
                         err)))
    goto out;
  p->n_source_rows = src->n_rows;
  /* A query's result is not a file's bytes: the lineage records its
   * rows' hash beside the database file's (issue 13). */
  if (cfg->dataset && cfg->dataset->entry->scheme == KEEL_LOCATION_SQLITE &&
      (rc = keel_table_sha256(src, p->source_rows_sha256, err)))
    goto out;
  int li = keel_table_find(src, p->schemas.label);
  const keel_column *lc = &src->cols[li];
  kept = malloc((src->n_rows ? src->n_rows : 1) * sizeof *kept);
  p->dropped_rows = malloc((src->n_rows ? src->n_rows : 1) * sizeof(size_t));
  if (!kept || !p->dropped_rows) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  keel_sample_spec sp = keel_sample_spec_of(cfg);
  int bi = sp.by[0] ? keel_table_find(src, sp.by) : -1;
  if (sp.by[0] && bi < 0) {
    rc = keel_fail(err, KEEL_EINVAL,
                   "[data] sample_by: the source has no column '%s'", sp.by);
    goto out;
  }
  /* Sampled before the labels are encoded: the classes are those of the
   * rows the run keeps. */
  if ((rc = keep_labelled_rows(cfg, lc, src->n_rows, kept, &n_kept, p, err)) ||
      (rc = keel_sample_rows(&sp, bi < 0 ? NULL : &src->cols[bi], kept, &n_kept,
                             &p->sample, err)) ||
      (rc = keel__labels_encode(cfg, lc, kept, n_kept, &lab, err)) ||
      (rc = template_checks(cfg, src, (size_t)li, kept, n_kept, &lab,
                            &p->checks, err)))
    goto out;
  int stratify = cfg->task != KEEL_TASK_REGRESSION &&
                 cfg->data.values[KEEL_DATA_STRATIFY].i;
  rc = keel_split_make(n_kept, lab.cls, lab.n_classes,
                       cfg->data.values[KEEL_DATA_VALID_FRACTION].f,
                       cfg->data.values[KEEL_DATA_TEST_FRACTION].f,
                       (uint64_t)cfg->data.values[KEEL_DATA_SPLIT_SEED].i,
                       stratify, &p->split, err);
  if (rc) {
    keel_error_prefix(err, "[data]");
    goto out;
  }
  if (cfg->task == KEEL_TASK_CLASSIFICATION &&
      (rc = keel_sample_rebalance(
           &sp, lab.cls, lab.n_classes, &p->split.rows[KEEL_SPLIT_TRAIN],
           &p->split.n[KEEL_SPLIT_TRAIN], &p->sample, err)))
    goto out;
  if (!(feat = keel_table_drop_column(src, (size_t)li, err))) {
    rc = err->code ? err->code : KEEL_ENOMEM;
    goto out;
  }
  if ((rc = fill_parts(p, feat, &lab, kept, parts, err)))
    goto out;
  memcpy(p->sample.train_sha256, p->split.sha256[KEEL_SPLIT_TRAIN], 65);
  p->n_classes = cfg->task == KEEL_TASK_REGRESSION ? 0 : lab.n_classes;
  if (p->n_classes) {
    p->class_names = lab.names;
    lab.names = NULL;
    lab.n_classes = 0;
  }
out:
  keel__labels_free(&lab);
  free(kept);
  if (feat)
    keel_table_free(feat);
  if (src)
    keel_table_free(src);
  return rc;
}

/* Fits each transform on the train split (into p->states) and applies it
 * to every split that has rows. */
static int fit_and_apply(const keel_run_config *cfg, const keel_host *host,
                         keel_prepared *p, keel_table *parts[KEEL_SPLIT_N],
                         keel_error *err)
{
  char tag[128];
  p->states =
      calloc(cfg->n_transforms ? cfg->n_transforms : 1, sizeof *p->states);
  if (!p->states)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  p->n_transforms = cfg->n_transforms;
  for (size_t i = 0; i < cfg->n_transforms; i++) {
    const keel_stage *st = &cfg->transforms[i];
    const keel_transform_api *tapi = st->plugin->api;
    keel__stage_tag(tag, sizeof tag, st);
    if (!(p->states[i] = keel_state_new()))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (tapi->fit) {
      int rc = tapi->fit(host, st->values, parts[KEEL_SPLIT_TRAIN],
                         p->states[i], err);
      if (rc) {
        keel_error_prefix_plugin(err, keel__stage_plugin(st),
                                 "%s (fit on the train split)", tag);
        return rc;
      }
    }
    for (int k = 0; k < KEEL_SPLIT_N; k++) {
      if (k != KEEL_SPLIT_TRAIN && p->part[k].n_rows == 0)
        continue; /* nothing to apply; packed as 0 rows below */
      int rc = apply_stage(cfg, host, &p->schemas, i, p->states[i], &parts[k],
                           keel_split_part_name((keel_split_part)k),
                           p->part[k].rows, err);
      if (rc)
        return rc;
    }
    /* [checks] after: the column checks on what this stage made of the
     * training rows (what the model learns from) */
    if (keel_data_checks_after(cfg, st->section)) {
      int rc = keel_data_checks_stage(cfg, st->section, parts[KEEL_SPLIT_TRAIN],
                                      p->part[KEEL_SPLIT_TRAIN].rows,
                                      &p->checks, err);
      if (rc)
        return rc;
    }
  }
  return KEEL_OK;
}

/* The feature names, from the train split (wildcard columns expand at
 * fit, so the actual width is known only now); every other split must
 * have the same columns. tag names the last stage. */
static int take_feature_names(keel_prepared *p,
                              keel_table *const parts[KEEL_SPLIT_N],
                              const char *tag, keel_error *err)
{
  const keel_table *ft = parts[KEEL_SPLIT_TRAIN];
  if (ft->n_cols == 0)
    return keel_fail(err, KEEL_EDATA,
                     "%s: no feature column is left for "
                     "the model",
                     tag);
  p->feature_names = calloc(ft->n_cols, sizeof *p->feature_names);
  if (!p->feature_names)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  p->n_features = ft->n_cols;
  for (size_t c = 0; c < p->n_features; c++)
    if (!(p->feature_names[c] = strdup(ft->cols[c].name)))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (int k = 1; k < KEEL_SPLIT_N; k++)
    for (size_t c = 0;
         p->part[k].n_rows && c < parts[k]->n_cols && c < p->n_features; c++)
      if (strcmp(parts[k]->cols[c].name, p->feature_names[c]) != 0)
        return keel_fail(err, KEEL_EPLUGIN,
                         "%s: column %zu is '%s' on the "
                         "%s split but '%s' on the train split",
                         tag, c + 1, parts[k]->cols[c].name,
                         keel_split_part_name((keel_split_part)k),
                         p->feature_names[c]);
  return KEEL_OK;
}

/* Packs each split's table into its float32 matrix (an empty split gets a
 * 1-byte placeholder). */
static int pack_parts(keel_prepared *p, keel_table *const parts[KEEL_SPLIT_N],
                      const char *tag, keel_error *err)
{
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    if (p->part[k].n_rows == 0) {
      p->part[k].X = malloc(1);
      if (!p->part[k].X)
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      continue;
    }
    int rc = pack(parts[k], p->n_features, tag,
                  keel_split_part_name((keel_split_part)k), p->part[k].rows,
                  &p->part[k].X, err);
    if (rc)
      return rc;
  }
  return KEEL_OK;
}

int keel_pipeline_prepare_checked(const keel_run_config *cfg,
                                  const keel_host *host,
                                  keel_stage_schemas *checked,
                                  keel_prepared *out, keel_error *err)
{
  keel_prepared p;
  keel_table *parts[KEEL_SPLIT_N] = {NULL, NULL, NULL};
  char tag[128];
  int rc = KEEL_OK;
  memset(&p, 0, sizeof p);
  memset(out, 0, sizeof *out);
  p.schemas = *checked; /* taken over: freed with p */
  memset(checked, 0, sizeof *checked);
  p.task = cfg->task;
  if (!(p.label = strdup(p.schemas.label)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = read_and_split(cfg, host, &p, parts, err);
  if (!rc)
    rc = fit_and_apply(cfg, host, &p, parts, err);
  last_tag(cfg, tag, sizeof tag);
  if (!rc)
    rc = take_feature_names(&p, parts, tag, err);
  if (!rc)
    rc = pack_parts(&p, parts, tag, err);
  if (!rc) {
    *out = p;
    memset(&p, 0, sizeof p);
  } else { /* what the checks found explains the failure: kept */
    out->checks = p.checks;
    memset(&p.checks, 0, sizeof p.checks);
  }
  for (int k = 0; k < KEEL_SPLIT_N; k++)
    if (parts[k])
      keel_table_free(parts[k]);
  keel_prepared_free(&p);
  return rc;
}

int keel_pipeline_read_split(const keel_run_config *cfg, const keel_host *host,
                             const keel_stage_schemas *checked,
                             keel_prepared *out, keel_error *err)
{
  keel_prepared p;
  keel_table *parts[KEEL_SPLIT_N] = {NULL, NULL, NULL};
  int rc = KEEL_OK;
  memset(&p, 0, sizeof p);
  memset(out, 0, sizeof *out);
  /* borrowed for read_and_split, which only reads it; let go before the
   * free below */
  p.schemas = *checked;
  p.task = cfg->task;
  if (!(p.label = strdup(checked->label)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = read_and_split(cfg, host, &p, parts, err);
  memset(&p.schemas, 0, sizeof p.schemas);
  if (!rc) {
    *out = p;
    memset(&p, 0, sizeof p);
  } else { /* what the checks found explains the failure: kept */
    out->checks = p.checks;
    memset(&p.checks, 0, sizeof p.checks);
  }
  for (int k = 0; k < KEEL_SPLIT_N; k++)
    if (parts[k])
      keel_table_free(parts[k]);
  keel_prepared_free(&p);
  return rc;
}
