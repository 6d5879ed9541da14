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

#include <keel/util.h>

#define WHO "minmax"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_LO, P_HI, P_CLIP, P_COUNT };

static const keel_param_decl minmax_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to rescale (empty: all numeric)"),
    [P_LO] = KEEL_P_FLOAT("lo", 0.0, -INFINITY, INFINITY, 0, NULL,
                          "where the training minimum lands"),
    [P_HI] = KEEL_P_FLOAT("hi", 1.0, -INFINITY, INFINITY, 0, NULL,
                          "where the training maximum lands (> lo)"),
    [P_CLIP] =
        KEEL_P_BOOL("clip", 0, "limit results to [lo, hi] (for unseen rows)"),
};
KEEL_PARAMS_MATCH(minmax_params, P_COUNT);

static int minmax_check_params(const keel_host *host, const keel_value *params,
                               keel_error *err)
{
  if (!(params[P_LO].f < params[P_HI].f))
    return host->fail(err, KEEL_EINVAL, "lo (%g) must be less than hi (%g)",
                      params[P_LO].f, params[P_HI].f);
  if (!isfinite(params[P_HI].f - params[P_LO].f))
    return host->fail(err, KEEL_EINVAL, "the range hi - lo overflows");
  return KEEL_OK;
}

static int minmax_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  int rc = minmax_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_schema_same(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric",
                             in, out, err);
}

/* The training minimum and maximum of one column. */
static int minmax_fit_column(const keel_host *host, const keel_value *params,
                             const keel_column *c, size_t n_rows, double *num,
                             const char **str, keel_error *err)
{
  (void)params;
  (void)str;
  double *lo = &num[0], *hi = &num[1];
  int rc = keel_tx_check_finite(host, c, n_rows, err);
  size_t seen = 0;
  for (size_t r = 0; rc == KEEL_OK && r < n_rows; r++) {
    if (keel_tx_is_missing(c, r))
      continue;
    double x = c->num[r];
    if (seen == 0 || x < *lo)
      *lo = x;
    if (seen == 0 || x > *hi)
      *hi = x;
    seen++;
  }
  if (rc == KEEL_OK && seen == 0)
    rc = host->fail(err, KEEL_EDATA,
                    "column '%s' has no non-missing value in the %zu "
                    "training rows",
                    c->name, n_rows);
  if (rc == KEEL_OK && !isfinite(*hi - *lo))
    rc = host->fail(err, KEEL_EDATA,
                    "column '%s': the training range overflows", c->name);
  return rc;
}

static const char *const minmax_keys[] = {"min", "max"};

static int minmax_fit(const keel_host *host, const keel_value *params,
                      const keel_table *train, keel_state *state,
                      keel_error *err)
{
  int rc = minmax_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_fit_columns(host, WHO, params, &params[P_COLUMNS], train,
                             ACCEPTS, "numeric", minmax_keys, 2, NULL, 0,
                             minmax_fit_column, state, err);
}

/* x rescaled with the column's fitted min and max; NaN passes through. */
static double minmax_map(const keel_value *params, const double *fitted,
                         double x)
{
  double lo = params[P_LO].f, hi = params[P_HI].f;
  double span = fitted[1] - fitted[0];
  double y = span > 0.0 ? lo + (x - fitted[0]) / span * (hi - lo) : lo;
  if (params[P_CLIP].i) {
    if (y < lo)
      y = lo;
    if (y > hi)
      y = hi;
  }
  return isnan(x) ? x : y;
}

static int minmax_apply(const keel_host *host, const keel_value *params,
                        const keel_state *state, const keel_table *in,
                        keel_table **out, keel_error *err)
{
  int rc = minmax_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_apply_fitted(host, WHO, params, state, in, ACCEPTS, "numeric",
                              minmax_keys, 2, minmax_map, out, err);
}

static const keel_transform_api minmax_api = {
    KEEL_TRANSFORM_API_HEADER,
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
