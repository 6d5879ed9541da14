/* impute: replace missing values with a value fitted on the training split.
 *
 * strategy   numeric columns                  categorical columns
 * mean       compensated mean                 (refused at schema time)
 * median     middle value; mean of the two    (refused at schema time)
 *            middle ones, (a + b) / 2, when
 *            the count is even (numpy)
 * most_frequent  most frequent value; ties    most frequent category; ties
 *            go to the smallest value         go to the smallest name (bytes)
 * constant   fill_value                       fill_category (added to the
 *                                             dictionary if absent)
 * Only non-missing training rows count; a NaN/Inf that is not marked
 * missing is refused. With add_indicator, one NUMERIC column
 * `<col>_missing` (1 where the input was missing, else 0) is appended per
 * imputed column, after all input columns, in input order. Imputed columns
 * are declared never missing. Fitted state: columns, fill (numeric fill
 * values; 0 for categorical columns), fill_category ("" for numeric). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "impute"

enum {
  P_COLUMNS,
  P_STRATEGY,
  P_FILL_VALUE,
  P_FILL_CATEGORY,
  P_ADD_INDICATOR,
  P_COUNT
};
enum { S_MEAN, S_MEDIAN, S_MOST_FREQUENT, S_CONSTANT };
static const char *const strategy_choices[] = {
    "mean", "median", "most_frequent", "constant", NULL};

static const keel_param_decl impute_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "",
        "columns to impute (empty: all numeric, plus categorical for "
        "most_frequent/constant)"),
    [P_STRATEGY] = KEEL_P_ENUM("strategy", "mean", strategy_choices,
                               "what replaces a missing value"),
    [P_FILL_VALUE] = KEEL_P_FLOAT("fill_value", 0.0, -INFINITY, INFINITY, 0,
                                  NULL, "numeric fill for strategy=constant"),
    [P_FILL_CATEGORY] = KEEL_P_STRING("fill_category", "missing", 0,
                                      "categorical fill for strategy=constant"),
    [P_ADD_INDICATOR] =
        KEEL_P_BOOL("add_indicator", 0,
                    "append a 0/1 column <col>_missing per imputed column"),
};
KEEL_PARAMS_MATCH(impute_params, P_COUNT);

/* An indicator column is named <col>_missing. */
#define INDICATOR_PART "missing"

static uint32_t impute_accepts(const keel_value *params)
{
  uint32_t a = KEEL_COL_BIT(KEEL_COL_NUMERIC);
  if (params[P_STRATEGY].i == S_MOST_FREQUENT ||
      params[P_STRATEGY].i == S_CONSTANT)
    a |= KEEL_COL_BIT(KEEL_COL_CATEGORICAL);
  return a;
}

static const char *impute_need(const keel_value *params)
{
  return impute_accepts(params) & KEEL_COL_BIT(KEEL_COL_CATEGORICAL)
             ? "numeric or categorical"
             : "numeric (use strategy=most_frequent or constant for "
               "categorical)";
}

/* "<name>_missing" in a malloc'd string, or NULL. */
static char *impute_indicator_name(const char *name)
{
  return keel_tx_join_name(name, '_', INDICATOR_PART);
}

static int impute_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  int rc = keel_tx_select(host, WHO, &params[P_COLUMNS], impute_accepts(params),
                          impute_need(params), &v, &idx, &n, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    uint32_t flags = in->cols[c].flags;
    if (k < n && idx[k] == c) {
      flags &= ~KEEL_COL_MAY_MISS;
      k++;
    }
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type, flags, err);
  }
  keel_name_pos *sorted = NULL;
  if (rc == KEEL_OK && params[P_ADD_INDICATOR].i && n > 0) {
    sorted = keel_tx_cols_sorted(&v);
    if (sorted == NULL)
      rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  }
  for (k = 0; rc == KEEL_OK && params[P_ADD_INDICATOR].i && k < n; k++) {
    char *name = impute_indicator_name(in->cols[idx[k]].name);
    if (name == NULL) {
      rc = host->fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    if (keel_names_find(sorted, v.n, name) >= 0)
      rc = host->fail(err, KEEL_ESCHEMA,
                      "the indicator column '%s' for '%s' already "
                      "exists in the input",
                      name, in->cols[idx[k]].name);
    else
      rc = host->schema_add(out, name, KEEL_COL_NUMERIC, 0, err);
    free(name);
  }
  free(sorted);
  free(idx);
  return rc;
}

/* The fitted fill of a numeric column. */
static int impute_fit_numeric(const keel_host *host, const keel_value *params,
                              const keel_column *c, size_t n_rows, double *fill,
                              keel_error *err)
{
  int64_t strategy = params[P_STRATEGY].i;
  if (strategy == S_CONSTANT) {
    *fill = params[P_FILL_VALUE].f;
    return KEEL_OK;
  }
  int rc = keel_tx_check_finite(host, c, n_rows, err);
  if (rc != KEEL_OK)
    return rc;
  double *x = malloc((n_rows ? n_rows : 1) * sizeof *x);
  if (x == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  size_t n = 0;
  keel_tx_sum s = {0, 0, 0};
  for (size_t r = 0; r < n_rows; r++)
    if (!keel_tx_is_missing(c, r)) {
      x[n++] = c->num[r];
      keel_tx_sum_add(&s, c->num[r]);
    }
  if (n == 0) {
    free(x);
    return host->fail(err, KEEL_EDATA,
                      "column '%s' has no non-missing value in the %zu "
                      "training rows; cannot fit strategy=%s",
                      c->name, n_rows, params[P_STRATEGY].s);
  }
  if (strategy == S_MEAN) {
    *fill = keel_tx_sum_value(&s) / (double)n;
  } else {
    qsort(x, n, sizeof *x, keel_tx_cmp_double);
    if (strategy == S_MEDIAN) {
      double a = x[(n - 1) / 2], b = x[n / 2];
      *fill = (a + b) / 2.0;
      if (!isfinite(*fill))
        *fill = a / 2.0 + b / 2.0;
    } else { /* most frequent; the first longest run is the smallest */
      size_t best = 0, best_len = 0;
      for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && x[j] == x[i])
          j++;
        if (j - i > best_len) {
          best = i;
          best_len = j - i;
        }
        i = j;
      }
      *fill = x[best];
    }
  }
  free(x);
  if (!isfinite(*fill))
    return host->fail(err, KEEL_EDATA,
                      "column '%s': the fitted value overflows", c->name);
  return KEEL_OK;
}

/* The fitted fill category of a categorical column (borrowed). */
static int impute_fit_categorical(const keel_host *host,
                                  const keel_value *params,
                                  const keel_column *c, size_t n_rows,
                                  const char **fill, keel_error *err)
{
  if (params[P_STRATEGY].i == S_CONSTANT) {
    *fill = params[P_FILL_CATEGORY].s;
    return KEEL_OK;
  }
  size_t *count = calloc(c->n_dict ? c->n_dict : 1, sizeof *count);
  if (count == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  for (size_t r = 0; r < n_rows; r++) {
    if (keel_tx_is_missing(c, r))
      continue;
    if (c->code[r] < 0 || (size_t)c->code[r] >= c->n_dict) {
      rc = keel_tx_fail_bad_code(host, c, r, err);
      break;
    }
    count[c->code[r]]++;
  }
  long best = -1;
  for (size_t d = 0; rc == KEEL_OK && d < c->n_dict; d++) {
    if (count[d] == 0)
      continue;
    if (best < 0 || count[d] > count[best] ||
        (count[d] == count[best] && strcmp(c->dict[d], c->dict[best]) < 0))
      best = (long)d;
  }
  free(count);
  if (rc == KEEL_OK && best < 0)
    rc = host->fail(err, KEEL_EDATA,
                    "column '%s' has no non-missing value in the %zu "
                    "training rows; cannot fit strategy=most_frequent",
                    c->name, n_rows);
  if (rc == KEEL_OK)
    *fill = c->dict[best];
  return rc;
}

/* The fitted fill of one column: fill (numeric) or fill_category. */
static int impute_fit_column(const keel_host *host, const keel_value *params,
                             const keel_column *c, size_t n_rows, double *num,
                             const char **str, keel_error *err)
{
  if (c->type == KEEL_COL_NUMERIC)
    return impute_fit_numeric(host, params, c, n_rows, &num[0], err);
  return impute_fit_categorical(host, params, c, n_rows, &str[0], err);
}

static const char *const impute_num_keys[] = {"fill"};
static const char *const impute_str_keys[] = {"fill_category"};

static int impute_fit(const keel_host *host, const keel_value *params,
                      const keel_table *train, keel_state *state,
                      keel_error *err)
{
  return keel_tx_fit_columns(host, WHO, params, &params[P_COLUMNS], train,
                             impute_accepts(params), impute_need(params),
                             impute_num_keys, 1, impute_str_keys, 1,
                             impute_fit_column, state, err);
}

/* Appends the imputed copy of categorical column src: the fill category is
 * added to the dictionary when the input's lacks it. */
static int impute_apply_categorical(const keel_host *host, keel_table *t,
                                    const keel_column *src, const char *fill,
                                    keel_error *err)
{
  size_t code = 0;
  while (code < src->n_dict && strcmp(src->dict[code], fill) != 0)
    code++;
  size_t n_dict = src->n_dict + (code == src->n_dict);
  if (n_dict > (size_t)INT32_MAX)
    return host->fail(err, KEEL_EDATA, "column '%s': dictionary too large",
                      src->name);
  const char **dict = malloc(n_dict * sizeof *dict);
  if (dict == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t d = 0; d < src->n_dict; d++)
    dict[d] = src->dict[d];
  dict[code] = fill;
  keel_column *dst =
      host->table_add(t, src->name, KEEL_COL_CATEGORICAL, dict, n_dict, err);
  free(dict);
  if (dst == NULL)
    return keel_tx_code(err);
  for (size_t r = 0; r < t->n_rows; r++)
    dst->code[r] = keel_tx_is_missing(src, r) ? (int32_t)code : src->code[r];
  return KEEL_OK;
}

typedef struct impute_fitted {
  const double *fill;
  const char *const *cats;
} impute_fitted;

/* Appends the imputed copy of fitted column src (number k). */
static int impute_apply_column(const keel_host *host, const keel_value *params,
                               void *ctx, keel_table *t, const keel_column *src,
                               keel_column *dst, size_t k, keel_error *err)
{
  (void)params;
  (void)dst;
  const impute_fitted *f = ctx;
  if (src->type == KEEL_COL_CATEGORICAL)
    return impute_apply_categorical(host, t, src, f->cats[k], err);
  keel_column *col = host->table_copy_column(t, src, err);
  if (col == NULL)
    return keel_tx_code(err);
  for (size_t r = 0; r < t->n_rows; r++)
    if (keel_tx_is_missing(src, r)) {
      col->num[r] = f->fill[k];
      col->missing[r] = 0;
    }
  return KEEL_OK;
}

static int impute_apply(const keel_host *host, const keel_value *params,
                        const keel_state *state, const keel_table *in,
                        keel_table **out, keel_error *err)
{
  const char *const *names = NULL;
  impute_fitted f = {NULL, NULL};
  size_t n = 0, n_cats = 0;
  long *pos = NULL;
  keel_table *t = NULL;
  int rc = keel_tx_state_columns(host, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = keel_tx_state_f64(host, state, "fill", n, &f.fill, err);
  if (rc == KEEL_OK) {
    rc = host->state_get_strings(state, "fill_category", &f.cats, &n_cats, err);
    if (rc == KEEL_OK && n_cats != n)
      rc = host->fail(err, KEEL_EDATA,
                      "the fitted state's 'fill_category' has %zu "
                      "values, expected %zu",
                      n_cats, n);
  }
  if (rc == KEEL_OK)
    rc = keel_tx_bind(host, WHO, names, n, impute_accepts(params),
                      impute_need(params), in, &pos, err);
  if (rc == KEEL_OK)
    rc = keel_tx_apply_columns(host, params, in, pos, 0, impute_apply_column,
                               &f, &t, err);
  if (rc != KEEL_OK)
    goto out;
  for (size_t c = 0; c < in->n_cols && rc == KEEL_OK; c++) {
    if (pos[c] < 0 || !params[P_ADD_INDICATOR].i)
      continue;
    const keel_column *src = &in->cols[c];
    char *name = impute_indicator_name(src->name);
    if (name == NULL) {
      rc = host->fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    keel_column *dst = host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err);
    free(name);
    if (dst == NULL) {
      rc = keel_tx_code(err);
      break;
    }
    for (size_t r = 0; r < in->n_rows; r++)
      dst->num[r] = keel_tx_is_missing(src, r) ? 1.0 : 0.0;
  }
  if (rc == KEEL_OK) {
    *out = t;
    t = NULL;
  }
out:
  if (t != NULL)
    host->table_free(t);
  free(pos);
  return rc;
}

static const keel_transform_api impute_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = impute_schema,
    .fit = impute_fit,
    .apply = impute_apply,
};

static const keel_plugin impute_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "impute",
    .version = "1.0.0",
    .summary = "fill missing values (mean/median/most frequent/constant)",
    .license = "MIT",
    .params = impute_params,
    .n_params = KEEL_COUNT(impute_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &impute_api,
};

KEEL_PLUGIN_DEFINE(impute_plugin)
