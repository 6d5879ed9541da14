/* clip: limit numeric columns to [lower, upper] bounds, either fitted on
 * the training split as quantiles (method=quantile) or given (fixed).
 *
 * Quantile q of the n sorted non-missing training values x[0..n-1] is the
 * linear interpolation numpy uses by default ("linear", type 7):
 *     h = (n - 1) * q,  i = floor(h),  t = h - i
 *     Q = x[i] + t * (x[i+1] - x[i])      (Q = x[i] when t == 0)
 * A value below the lower bound becomes the lower bound, above the upper
 * the upper; NaN passes through unchanged; missing rows stay missing.
 * Fixed bounds default to +-DBL_MAX (no bound on that side). Fitted state:
 * columns, lower, upper (the bounds in use, for either method). */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "clip"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_METHOD, P_LOWER_Q, P_UPPER_Q, P_LOWER, P_UPPER, P_COUNT };
enum { M_QUANTILE, M_FIXED };
static const char *const method_choices[] = {"quantile", "fixed", NULL};

static const keel_param_decl clip_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to clip (empty: all numeric)"),
    [P_METHOD] = KEEL_P_ENUM("method", "quantile", method_choices,
                             "bounds from training quantiles, or fixed"),
    [P_LOWER_Q] = KEEL_P_FLOAT("lower_q", 0.01, 0.0, 1.0, 0, NULL,
                               "quantile giving the lower bound (quantile)"),
    [P_UPPER_Q] = KEEL_P_FLOAT("upper_q", 0.99, 0.0, 1.0, 0, NULL,
                               "quantile giving the upper bound (quantile)"),
    [P_LOWER] = KEEL_P_FLOAT("lower", -DBL_MAX, -INFINITY, INFINITY, 0, NULL,
                             "lower bound (fixed; default: none)"),
    [P_UPPER] = KEEL_P_FLOAT("upper", DBL_MAX, -INFINITY, INFINITY, 0, NULL,
                             "upper bound (fixed; default: none)"),
};
KEEL_PARAMS_MATCH(clip_params, P_COUNT);

static int clip_check_params(const keel_host *host, const keel_value *params,
                             keel_error *err)
{
  if (params[P_METHOD].i == M_QUANTILE &&
      !(params[P_LOWER_Q].f <= params[P_UPPER_Q].f))
    return host->fail(err, KEEL_EINVAL,
                      "lower_q (%g) must not be greater than upper_q "
                      "(%g)",
                      params[P_LOWER_Q].f, params[P_UPPER_Q].f);
  if (params[P_METHOD].i == M_FIXED &&
      !(params[P_LOWER].f <= params[P_UPPER].f))
    return host->fail(err, KEEL_EINVAL,
                      "lower (%g) must not be greater than upper (%g)",
                      params[P_LOWER].f, params[P_UPPER].f);
  return KEEL_OK;
}

static int clip_schema(const keel_host *host, const keel_value *params,
                       const keel_schema *in, keel_schema *out, keel_error *err)
{
  int rc = clip_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_schema_same(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric",
                             in, out, err);
}

/* Quantile q of sorted x[0..n-1], n > 0 (see the header comment). */
static double clip_quantile(const double *x, size_t n, double q)
{
  double h = (double)(n - 1) * q;
  double fl = floor(h);
  size_t i = (size_t)fl;
  double t = h - fl;
  if (i + 1 >= n || t == 0.0)
    return x[i < n ? i : n - 1];
  return x[i] + t * (x[i + 1] - x[i]);
}

/* Fitted bounds of one column. */
static int clip_fit_column(const keel_host *host, const keel_value *params,
                           const keel_column *c, size_t n_rows, double *num,
                           const char **str, keel_error *err)
{
  (void)str;
  double *lo = &num[0], *hi = &num[1];
  if (params[P_METHOD].i == M_FIXED) {
    *lo = params[P_LOWER].f;
    *hi = params[P_UPPER].f;
    return KEEL_OK;
  }
  int rc = keel_tx_check_finite(host, c, n_rows, err);
  if (rc != KEEL_OK)
    return rc;
  double *x = malloc((n_rows ? n_rows : 1) * sizeof *x);
  if (x == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  size_t n = 0;
  for (size_t r = 0; r < n_rows; r++)
    if (!keel_tx_is_missing(c, r))
      x[n++] = c->num[r];
  if (n == 0) {
    free(x);
    return host->fail(err, KEEL_EDATA,
                      "column '%s' has no non-missing value in the %zu "
                      "training rows",
                      c->name, n_rows);
  }
  qsort(x, n, sizeof *x, keel_tx_cmp_double);
  *lo = clip_quantile(x, n, params[P_LOWER_Q].f);
  *hi = clip_quantile(x, n, params[P_UPPER_Q].f);
  free(x);
  if (!isfinite(*lo) || !isfinite(*hi))
    return host->fail(err, KEEL_EDATA, "column '%s': a fitted bound overflows",
                      c->name);
  return KEEL_OK;
}

static const char *const clip_keys[] = {"lower", "upper"};

static int clip_fit(const keel_host *host, const keel_value *params,
                    const keel_table *train, keel_state *state, keel_error *err)
{
  int rc = clip_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_fit_columns(host, WHO, params, &params[P_COLUMNS], train,
                             ACCEPTS, "numeric", clip_keys, 2, NULL, 0,
                             clip_fit_column, state, err);
}

/* x limited to the column's [lower, upper]; NaN passes through. */
static double clip_map(const keel_value *params, const double *fitted, double x)
{
  (void)params;
  if (x < fitted[0])
    return fitted[0];
  if (x > fitted[1])
    return fitted[1];
  return x;
}

static int clip_apply(const keel_host *host, const keel_value *params,
                      const keel_state *state, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  return keel_tx_apply_fitted(host, WHO, params, state, in, ACCEPTS, "numeric",
                              clip_keys, 2, clip_map, out, err);
}

static const keel_transform_api clip_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = clip_schema,
    .fit = clip_fit,
    .apply = clip_apply,
};

static const keel_plugin clip_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "clip",
    .version = "1.0.0",
    .summary = "limit numeric columns to quantile (fitted) or fixed bounds",
    .license = "MIT",
    .params = clip_params,
    .n_params = KEEL_COUNT(clip_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &clip_api,
};

KEEL_PLUGIN_DEFINE(clip_plugin)
