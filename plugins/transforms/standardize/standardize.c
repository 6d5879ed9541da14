/* standardize: centre and scale numeric columns with the mean and the
 * population standard deviation (ddof = 0, as scikit-learn's
 * StandardScaler) fitted on the training split:
 *     y = (x - mean) / std
 * Missing rows stay missing (their stored value is passed through).
 * Sums are Neumaier-compensated in row order; the deviation is computed in
 * a second pass around the mean, so the fitted numbers depend only on the
 * values and their order. A column whose training values are all equal has
 * std 0: an error by default, or kept centred with scale 1
 * (zero_variance=keep). Fitted state: columns (names), mean, std. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include "keel_transform_util.h"

#define WHO "standardize"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_WITH_MEAN, P_WITH_STD, P_ZERO_VARIANCE, P_COUNT };
enum { ZV_ERROR, ZV_KEEP };
static const char *const zero_variance_choices[] = {"error", "keep", NULL};

static const keel_param_decl standardize_params[P_COUNT] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to standardize (empty: all numeric)"),
    [P_WITH_MEAN] = KEEL_P_BOOL("with_mean", 1, "subtract the training mean"),
    [P_WITH_STD] = KEEL_P_BOOL(
        "with_std", 1,
        "divide by the training standard deviation (population, ddof=0)"),
    [P_ZERO_VARIANCE] = KEEL_P_ENUM(
        "zero_variance", "error", zero_variance_choices,
        "a column constant on the training rows: error, or keep (scale 1)"),
};

/* Output schema = input schema; every targeted column must be numeric. */
static int standardize_schema(const keel_host *host, const keel_value *params,
                              const keel_schema *in, keel_schema *out,
                              keel_error *err)
{
  tx_cols v = tx_schema_cols(in);
  size_t *idx = NULL, n = 0;
  int rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                     &idx, &n, err);
  free(idx);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++)
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                          in->cols[c].flags, err);
  return rc;
}

/* Mean and population std of the non-missing values of column c. */
static int standardize_fit_column(const keel_host *host, const keel_value *params,
                                  const keel_column *c, size_t n_rows,
                                  double *mean, double *std, keel_error *err)
{
  int rc = tx_check_finite(host, WHO, c, n_rows, err);
  if (rc != KEEL_OK)
    return rc;
  tx_sum s = {0, 0, 0};
  int constant = 1;
  double first = 0;
  for (size_t r = 0; r < n_rows; r++) {
    if (tx_is_missing(c, r))
      continue;
    if (s.n == 0)
      first = c->num[r];
    else if (c->num[r] != first)
      constant = 0;
    tx_sum_add(&s, c->num[r]);
  }
  if (s.n == 0)
    return host->fail(err, KEEL_EDATA,
                      WHO ": column '%s' has no non-missing value in the %zu "
                      "training rows", c->name, n_rows);
  double m = tx_sum_value(&s) / (double)s.n;
  tx_sum q = {0, 0, 0};
  for (size_t r = 0; r < n_rows; r++) {
    if (tx_is_missing(c, r))
      continue;
    double d = c->num[r] - m;
    tx_sum_add(&q, d * d);
  }
  /* A constant column has std exactly 0, whatever the rounding of m. */
  double sd = constant ? 0.0 : sqrt(tx_sum_value(&q) / (double)q.n);
  if (constant)
    m = first;
  if (sd == 0.0 && params[P_ZERO_VARIANCE].i == ZV_ERROR)
    return host->fail(err, KEEL_EDATA,
                      WHO ": column '%s' has zero variance on the training "
                      "rows (every value is %.17g); drop it or set "
                      "zero_variance=keep", c->name, first);
  if (!isfinite(m) || !isfinite(sd))
    return host->fail(err, KEEL_EDATA,
                      WHO ": column '%s': the training values overflow "
                      "(mean %g, std %g)", c->name, m, sd);
  *mean = m;
  *std = sd;
  return KEEL_OK;
}

static int standardize_fit(const keel_host *host, const keel_value *params,
                           const keel_table *train, keel_state *state,
                           keel_error *err)
{
  tx_cols v = tx_table_cols(train);
  size_t *idx = NULL, n = 0;
  const char **names = NULL;
  double *mean = NULL, *std = NULL;
  int rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                     &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  names = malloc((n ? n : 1) * sizeof *names);
  mean = malloc((n ? n : 1) * sizeof *mean);
  std = malloc((n ? n : 1) * sizeof *std);
  if (names == NULL || mean == NULL || std == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  for (size_t k = 0; k < n && rc == KEEL_OK; k++) {
    const keel_column *c = &train->cols[idx[k]];
    names[k] = c->name;
    rc = standardize_fit_column(host, params, c, train->n_rows, &mean[k],
                                &std[k], err);
  }
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "columns", names, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_f64(state, "mean", mean, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_f64(state, "std", std, n, err);
out:
  free(std);
  free(mean);
  free(names);
  free(idx);
  return rc;
}

static int standardize_apply(const keel_host *host, const keel_value *params,
                             const keel_state *state, const keel_table *in,
                             keel_table **out, keel_error *err)
{
  const char *const *names = NULL;
  const double *mean = NULL, *std = NULL;
  size_t n = 0;
  long *pos = NULL;
  keel_table *t = NULL;
  int rc = tx_state_columns(host, WHO, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = tx_state_f64(host, WHO, state, "mean", n, &mean, err);
  if (rc == KEEL_OK)
    rc = tx_state_f64(host, WHO, state, "std", n, &std, err);
  if (rc == KEEL_OK)
    rc = tx_bind(host, WHO, names, n, ACCEPTS, "numeric", in, &pos, err);
  if (rc != KEEL_OK)
    goto out;
  t = host->table_new(in->n_rows);
  if (t == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
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
    double center = params[P_WITH_MEAN].i ? mean[k] : 0.0;
    double scale = (params[P_WITH_STD].i && std[k] > 0.0) ? std[k] : 1.0;
    for (size_t r = 0; r < in->n_rows; r++)
      if (!tx_is_missing(src, r))
        dst->num[r] = (src->num[r] - center) / scale;
  }
  *out = t;
  t = NULL;
out:
  if (t != NULL)
    host->table_free(t);
  free(pos);
  return rc;
}

static const keel_transform_api standardize_api = {
    .struct_size = sizeof(keel_transform_api),
    .schema = standardize_schema,
    .fit = standardize_fit,
    .apply = standardize_apply,
};

static const keel_plugin standardize_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "standardize",
    .version = "1.0.0",
    .summary = "centre and scale numeric columns (mean/std fitted on train)",
    .license = "MIT",
    .params = standardize_params,
    .n_params = KEEL_COUNT(standardize_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &standardize_api,
};

KEEL_PLUGIN_DEFINE(standardize_plugin)
