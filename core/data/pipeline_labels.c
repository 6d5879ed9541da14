/* The label column of a prepared run: the regression target of every kept
 * row, or its class index, classes numbered in a fixed order (category
 * names bytewise, integer labels numerically) so the same data gives the
 * same classes whatever order its rows come in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/status.h"
#include "data/pipeline_internal.h"

void keel__labels_free(keel__labels *l)
{
  keel__free_strings(l->names, l->n_classes);
  free(l->cls);
  free(l->y);
  memset(l, 0, sizeof *l);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct named_code {
  const char *name;
  int32_t code;
} named_code;

static int cmp_named(const void *a, const void *b)
{
  /* strcmp orders bytes as unsigned char: bytewise */
  return strcmp(((const named_code *)a)->name, ((const named_code *)b)->name);
}

/* Regression: the targets, finite and within float32. */
static int encode_targets(const keel_column *lc, const size_t *kept,
                          size_t n_kept, keel__labels *out, keel_error *err)
{
  for (size_t i = 0; i < n_kept; i++) {
    double v = lc->num[kept[i]];
    if (!isfinite(v) || !isfinite((float)v)) {
      char vs[KEEL_DOUBLE_TEXT];
      keel_format_double(v, vs, sizeof vs);
      return keel_fail(err, KEEL_EDATA,
                       "[data] label '%s' is %s in source "
                       "data row %zu; a regression target must be finite "
                       "(and fit float32)",
                       lc->name, vs, kept[i] + 1);
    }
    out->y[i] = v;
  }
  return KEEL_OK;
}

/* A categorical label: the categories the kept rows use, sorted bytewise
 * by name, numbered from 0. */
static int encode_categories(const keel_column *lc, const size_t *kept,
                             size_t n_kept, keel__labels *out, keel_error *err)
{
  int32_t *map = malloc((lc->n_dict ? lc->n_dict : 1) * sizeof *map);
  named_code *used = malloc((lc->n_dict ? lc->n_dict : 1) * sizeof *used);
  if (!map || !used) {
    free(map);
    free(used);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < lc->n_dict; k++)
    map[k] = -1;
  size_t n_used = 0;
  for (size_t i = 0; i < n_kept; i++) {
    int32_t code = lc->code[kept[i]];
    if (code < 0 || (size_t)code >= lc->n_dict) {
      free(map);
      free(used);
      return keel_fail(err, KEEL_EPLUGIN,
                       "[data] label '%s': category code "
                       "%d out of range in row %zu",
                       lc->name, (int)code, kept[i] + 1);
    }
    if (map[code] < 0) {
      map[code] = 0;
      used[n_used].name = lc->dict[code];
      used[n_used++].code = code;
    }
  }
  qsort(used, n_used, sizeof *used, cmp_named);
  out->names = calloc(n_used ? n_used : 1, sizeof *out->names);
  int ok = out->names != NULL;
  for (size_t k = 0; ok && k < n_used; k++) {
    map[used[k].code] = (int32_t)k;
    ok = (out->names[k] = strdup(used[k].name)) != NULL;
  }
  out->n_classes = n_used;
  for (size_t i = 0; ok && i < n_kept; i++) {
    out->cls[i] = map[lc->code[kept[i]]];
    out->y[i] = out->cls[i];
  }
  free(map);
  free(used);
  if (!ok)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

/* A numeric classification label: integer values, their distinct values
 * sorted numerically and numbered from 0 (named "%lld"). */
static int encode_integers(const keel_column *lc, const size_t *kept,
                           size_t n_kept, keel__labels *out, keel_error *err)
{
  double *vals = malloc(n_kept * sizeof *vals);
  if (!vals)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n_kept; i++) {
    double v = lc->num[kept[i]];
    if (!isfinite(v) || v != floor(v) || fabs(v) > 9007199254740992.0) {
      char vs[KEEL_DOUBLE_TEXT];
      keel_format_double(v, vs, sizeof vs); /* 2.0000001, not "2" */
      free(vals);
      return keel_fail(err, KEEL_EDATA,
                       "[data] label '%s' is %s in source "
                       "data row %zu; a classification label must be a "
                       "category or an integer",
                       lc->name, vs, kept[i] + 1);
    }
    vals[i] = v;
  }
  qsort(vals, n_kept, sizeof *vals, cmp_double);
  size_t n_uniq = 0;
  for (size_t i = 0; i < n_kept; i++)
    if (i == 0 || vals[i] != vals[n_uniq - 1])
      vals[n_uniq++] = vals[i];
  out->names = calloc(n_uniq ? n_uniq : 1, sizeof *out->names);
  int ok = out->names != NULL;
  for (size_t k = 0; ok && k < n_uniq; k++) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)vals[k]);
    ok = (out->names[k] = strdup(buf)) != NULL;
  }
  out->n_classes = n_uniq;
  for (size_t i = 0; ok && i < n_kept; i++) {
    double v = lc->num[kept[i]];
    const double *hit = bsearch(&v, vals, n_uniq, sizeof *vals, cmp_double);
    out->cls[i] = (int32_t)(hit - vals);
    out->y[i] = out->cls[i];
  }
  free(vals);
  return ok ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

int keel__labels_encode(const keel_run_config *cfg, const keel_column *lc,
                        const size_t *kept, size_t n_kept, keel__labels *out,
                        keel_error *err)
{
  memset(out, 0, sizeof *out);
  out->y = malloc(n_kept * sizeof *out->y);
  if (!out->y)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (cfg->task == KEEL_TASK_REGRESSION)
    return encode_targets(lc, kept, n_kept, out, err);
  out->cls = malloc(n_kept * sizeof *out->cls);
  if (!out->cls)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (lc->type == KEEL_COL_CATEGORICAL)
    return encode_categories(lc, kept, n_kept, out, err);
  return encode_integers(lc, kept, n_kept, out, err);
}
