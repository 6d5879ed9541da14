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

#include <keel/util.h>

#define WHO "standardize"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_WITH_MEAN, P_WITH_STD, P_ZERO_VARIANCE, P_COUNT };
enum { ZV_ERROR, ZV_KEEP };
static const char *const zero_variance_choices[] = {"error", "keep", NULL};

static const keel_param_decl standardize_params[] = {
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
KEEL_PARAMS_MATCH(standardize_params, P_COUNT);

/* Output schema = input schema; every targeted column must be numeric. */
static int standardize_schema(const keel_host *host, const keel_value *params,
                              const keel_schema *in, keel_schema *out,
                              keel_error *err)
{
  return keel_tx_schema_same(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric",
                             in, out, err);
}

/* Mean and population std of the non-missing values of column c. */
static int standardize_fit_column(const keel_host *host,
                                  const keel_value *params,
                                  const keel_column *c, size_t n_rows,
                                  double *num, const char **str,
                                  keel_error *err)
{
  (void)str;
  double *mean = &num[0], *std = &num[1];
  int rc = keel_tx_check_finite(host, c, n_rows, err);
  if (rc != KEEL_OK)
    return rc;
  keel_tx_sum s = {0, 0, 0};
  int constant = 1;
  double first = 0;
  for (size_t r = 0; r < n_rows; r++) {
    if (keel_tx_is_missing(c, r))
      continue;
    if (s.n == 0)
      first = c->num[r];
    else if (c->num[r] != first)
      constant = 0;
    keel_tx_sum_add(&s, c->num[r]);
  }
  if (s.n == 0)
    return host->fail(err, KEEL_EDATA,
                      "column '%s' has no non-missing value in the %zu "
                      "training rows",
                      c->name, n_rows);
  double m = keel_tx_sum_value(&s) / (double)s.n;
  keel_tx_sum q = {0, 0, 0};
  for (size_t r = 0; r < n_rows; r++) {
    if (keel_tx_is_missing(c, r))
      continue;
    double d = c->num[r] - m;
    keel_tx_sum_add(&q, d * d);
  }
  /* A constant column has std exactly 0, whatever the rounding of m. */
  double sd = constant ? 0.0 : sqrt(keel_tx_sum_value(&q) / (double)q.n);
  if (constant)
    m = first;
  if (sd == 0.0 && params[P_ZERO_VARIANCE].i == ZV_ERROR)
    return host->fail(err, KEEL_EDATA,
                      "column '%s' has zero variance on the training "
                      "rows (every value is %.17g); drop it or set "
                      "zero_variance=keep",
                      c->name, first);
  if (!isfinite(m) || !isfinite(sd))
    return host->fail(err, KEEL_EDATA,
                      "column '%s': the training values overflow "
                      "(mean %g, std %g)",
                      c->name, m, sd);
  *mean = m;
  *std = sd;
  return KEEL_OK;
}

static const char *const standardize_keys[] = {"mean", "std"};

static int standardize_fit(const keel_host *host, const keel_value *params,
                           const keel_table *train, keel_state *state,
                           keel_error *err)
{
  return keel_tx_fit_columns(host, WHO, params, &params[P_COLUMNS], train,
                             ACCEPTS, "numeric", standardize_keys, 2, NULL, 0,
                             standardize_fit_column, state, err);
}

/* x centred and scaled with the column's fitted mean and std. */
static double standardize_map(const keel_value *params, const double *fitted,
                              double x)
{
  double center = params[P_WITH_MEAN].i ? fitted[0] : 0.0;
  double scale = (params[P_WITH_STD].i && fitted[1] > 0.0) ? fitted[1] : 1.0;
  return (x - center) / scale;
}

static int standardize_apply(const keel_host *host, const keel_value *params,
                             const keel_state *state, const keel_table *in,
                             keel_table **out, keel_error *err)
{
  return keel_tx_apply_fitted(host, WHO, params, state, in, ACCEPTS, "numeric",
                              standardize_keys, 2, standardize_map, out, err);
}

static const keel_transform_api standardize_api = {
    KEEL_TRANSFORM_API_HEADER,
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
