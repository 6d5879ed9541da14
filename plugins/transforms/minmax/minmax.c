/* minmax: rescale numeric columns linearly so that the training minimum
 * maps to `lo` and the training maximum to `hi`:
 *     y = lo + (x - min) / (max - min) * (hi - lo)
 * evaluated in that order in double. A column constant on the training
 * rows (max == min) maps every value to lo. Validation values outside the
 * training range land outside [lo, hi] unless clip=true. Missing rows stay
 * missing; a NaN/Inf that is not marked missing is refused at fit.
 * Fitted state: columns, min, max. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include "keel_transform_util.h"

#define WHO "minmax"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_LO, P_HI, P_CLIP, P_COUNT };

static const keel_param_decl minmax_params[P_COUNT] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to rescale (empty: all numeric)"),
    [P_LO] = KEEL_P_FLOAT("lo", 0.0, -INFINITY, INFINITY, 0, NULL,
                          "where the training minimum lands"),
    [P_HI] = KEEL_P_FLOAT("hi", 1.0, -INFINITY, INFINITY, 0, NULL,
                          "where the training maximum lands (> lo)"),
    [P_CLIP] = KEEL_P_BOOL("clip", 0,
                           "limit results to [lo, hi] (for unseen rows)"),
};

static int minmax_check_params(const keel_host *host, const keel_value *params,
                               keel_error *err)
{
  if (!(params[P_LO].f < params[P_HI].f))
    return host->fail(err, KEEL_EINVAL,
                      WHO ": lo (%g) must be less than hi (%g)",
                      params[P_LO].f, params[P_HI].f);
  if (!isfinite(params[P_HI].f - params[P_LO].f))
    return host->fail(err, KEEL_EINVAL,
                      WHO ": the range hi - lo overflows");
  return KEEL_OK;
}

static int minmax_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  int rc = minmax_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  tx_cols v = tx_schema_cols(in);
  size_t *idx = NULL, n = 0;
  rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v, &idx,
                 &n, err);
  free(idx);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++)
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                          in->cols[c].flags, err);
  return rc;
}

static int minmax_fit(const keel_host *host, const keel_value *params,
                      const keel_table *train, keel_state *state,
                      keel_error *err)
{
  tx_cols v = tx_table_cols(train);
  size_t *idx = NULL, n = 0;
  const char **names = NULL;
  double *lo = NULL, *hi = NULL;
  int rc = minmax_check_params(host, params, err);
  if (rc == KEEL_OK)
    rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                   &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  names = malloc((n ? n : 1) * sizeof *names);
  lo = malloc((n ? n : 1) * sizeof *lo);
  hi = malloc((n ? n : 1) * sizeof *hi);
  if (names == NULL || lo == NULL || hi == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  for (size_t k = 0; k < n && rc == KEEL_OK; k++) {
    const keel_column *c = &train->cols[idx[k]];
    names[k] = c->name;
    rc = tx_check_finite(host, WHO, c, train->n_rows, err);
    size_t seen = 0;
    for (size_t r = 0; rc == KEEL_OK && r < train->n_rows; r++) {
      if (tx_is_missing(c, r))
        continue;
      double x = c->num[r];
      if (seen == 0 || x < lo[k])
        lo[k] = x;
      if (seen == 0 || x > hi[k])
        hi[k] = x;
      seen++;
    }
    if (rc == KEEL_OK && seen == 0)
      rc = host->fail(err, KEEL_EDATA,
                      WHO ": column '%s' has no non-missing value in the %zu "
                      "training rows", c->name, train->n_rows);
    if (rc == KEEL_OK && !isfinite(hi[k] - lo[k]))
      rc = host->fail(err, KEEL_EDATA,
                      WHO ": column '%s': the training range overflows",
                      c->name);
  }
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "columns", names, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_f64(state, "min", lo, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_f64(state, "max", hi, n, err);
out:
  free(hi);
  free(lo);
  free(names);
  free(idx);
  return rc;
}

static int minmax_apply(const keel_host *host, const keel_value *params,
                        const keel_state *state, const keel_table *in,
                        keel_table **out, keel_error *err)
{
  const char *const *names = NULL;
  const double *mn = NULL, *mx = NULL;
  size_t n = 0;
  long *pos = NULL;
  keel_table *t = NULL;
  int rc = minmax_check_params(host, params, err);
  if (rc == KEEL_OK)
    rc = tx_state_columns(host, WHO, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = tx_state_f64(host, WHO, state, "min", n, &mn, err);
  if (rc == KEEL_OK)
    rc = tx_state_f64(host, WHO, state, "max", n, &mx, err);
  if (rc == KEEL_OK)
    rc = tx_bind(host, WHO, names, n, ACCEPTS, "numeric", in, &pos, err);
  if (rc != KEEL_OK)
    goto out;
  t = host->table_new(in->n_rows);
  if (t == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  double lo = params[P_LO].f, hi = params[P_HI].f;
  for (size_t c = 0; c < in->n_cols; c++) {
    const keel_column *src = &in->cols[c];
    keel_column *dst = host->table_copy_column(t, src, err);
    if (dst == NULL) {
      rc = tx_code(err);
      goto out;
    }
    if (pos[c] < 0)
      continue;
    size_t k = (size_t)pos[c];
    double span = mx[k] - mn[k];
    for (size_t r = 0; r < in->n_rows; r++) {
      if (tx_is_missing(src, r))
        continue;
      double y = span > 0.0 ? lo + (src->num[r] - mn[k]) / span * (hi - lo)
                            : lo;
      if (params[P_CLIP].i) {
        if (y < lo)
          y = lo;
        if (y > hi)
          y = hi;
      }
      dst->num[r] = isnan(src->num[r]) ? src->num[r] : y;
    }
  }
  *out = t;
  t = NULL;
out:
  if (t != NULL)
    host->table_free(t);
  free(pos);
  return rc;
}

static const keel_transform_api minmax_api = {
    .struct_size = sizeof(keel_transform_api),
    .schema = minmax_schema,
    .fit = minmax_fit,
    .apply = minmax_apply,
};

static const keel_plugin minmax_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "minmax",
    .version = "1.0.0",
    .summary = "rescale numeric columns to [lo, hi] (range fitted on train)",
    .license = "MIT",
    .params = minmax_params,
    .n_params = KEEL_COUNT(minmax_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &minmax_api,
};

KEEL_PLUGIN_DEFINE(minmax_plugin)
