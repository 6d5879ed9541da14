/* onehot: expand categorical columns into one NUMERIC 0/1 column per
 * category seen (non-missing) in the training split, sorted by name
 * (bytewise), named `<col>=<category>`, in place of the input column.
 *
 * unknown (a category not seen at fit):
 *   error  - stop, naming the column, the value and the row;
 *   ignore - all of the column's indicators are 0;
 *   other  - an extra column `<col>=__other__` is 1.
 * missing (a missing row, at fit or apply):
 *   error     - stop, naming the column and the row;
 *   indicator - an extra column `<col>=__missing__` is 1;
 *   ignore    - all indicators are 0.
 * Extra columns follow the categories: __missing__ first, then __other__.
 * The output is never missing.
 *
 * Schema: the number of categories is only known after fit, so `schema`
 * declares each expanded column as ONE NUMERIC column named `<col>=*`: a
 * wildcard standing for the zero or more actual columns whose names start
 * with `<col>=` (all NUMERIC, never missing, finite).
 * Fitted state: columns, n_categories (one count per column), categories
 * (all columns' categories, concatenated in column order). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "onehot"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_CATEGORICAL)
#define OTHER_NAME "__other__"
#define MISSING_NAME "__missing__"
#define WILDCARD "*"

enum { P_COLUMNS, P_UNKNOWN, P_MISSING, P_COUNT };
enum { U_ERROR, U_IGNORE, U_OTHER };
enum { M_ERROR, M_INDICATOR, M_IGNORE };
static const char *const unknown_choices[] = {"error", "ignore", "other", NULL};
static const char *const missing_choices[] = {"error", "indicator", "ignore",
                                              NULL};

static const keel_param_decl onehot_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "",
        "categorical columns to expand (empty: all categorical)"),
    [P_UNKNOWN] = KEEL_P_ENUM(
        "unknown", "error", unknown_choices,
        "a category not seen at fit: error, ignore (all 0), or other column"),
    [P_MISSING] = KEEL_P_ENUM(
        "missing", "error", missing_choices,
        "a missing value: error, indicator column, or ignore (all 0)"),
};
KEEL_PARAMS_MATCH(onehot_params, P_COUNT);

/* "<col>=<what>" in a malloc'd string, or NULL. */
static char *onehot_name(const char *col, const char *what)
{
  return keel_tx_join_name(col, '=', what);
}

static int onehot_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  int rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "categorical",
                          &v, &idx, &n, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    if (k < n && idx[k] == c) {
      k++;
      char *name = onehot_name(in->cols[c].name, WILDCARD);
      if (name == NULL)
        rc = host->fail(err, KEEL_ENOMEM, "out of memory");
      else
        rc = host->schema_add(out, name, KEEL_COL_NUMERIC, 0, err);
      free(name);
    } else {
      rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                            in->cols[c].flags, err);
    }
  }
  free(idx);
  return rc;
}

static int onehot_cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int onehot_fail_missing(const keel_host *host, const keel_column *c,
                               size_t r, keel_error *err)
{
  return host->fail(err, KEEL_EDATA,
                    "column '%s' row %zu is missing; set "
                    "missing=indicator or missing=ignore, or impute first",
                    c->name, r + 1);
}

/* Appends to cats[*n] the sorted distinct categories present in c. */
static int onehot_fit_column(const keel_host *host, const keel_value *params,
                             const keel_column *c, size_t n_rows,
                             const char **cats, size_t *n, keel_error *err)
{
  uint8_t *seen = calloc(c->n_dict ? c->n_dict : 1, 1);
  if (seen == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  for (size_t r = 0; r < n_rows && rc == KEEL_OK; r++) {
    if (keel_tx_is_missing(c, r)) {
      if (params[P_MISSING].i == M_ERROR)
        rc = onehot_fail_missing(host, c, r, err);
    } else if (c->code[r] < 0 || (size_t)c->code[r] >= c->n_dict) {
      rc = keel_tx_fail_bad_code(host, c, r, err);
    } else {
      seen[c->code[r]] = 1;
    }
  }
  size_t m = 0;
  for (size_t d = 0; rc == KEEL_OK && d < c->n_dict; d++)
    if (seen[d])
      cats[m++] = c->dict[d];
  free(seen);
  if (rc != KEEL_OK)
    return rc;
  qsort(cats, m, sizeof *cats, onehot_cmp_str);
  size_t u = 0; /* a dictionary should not repeat a name; be safe */
  for (size_t i = 0; i < m; i++)
    if (u == 0 || strcmp(cats[u - 1], cats[i]) != 0)
      cats[u++] = cats[i];
  *n = u;
  return KEEL_OK;
}

static int onehot_fit(const keel_host *host, const keel_value *params,
                      const keel_table *train, keel_state *state,
                      keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(train);
  size_t *idx = NULL, n = 0, total = 0;
  const char **names = NULL, **cats = NULL;
  double *counts = NULL;
  int rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "categorical",
                          &v, &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  for (size_t k = 0; k < n; k++)
    total += train->cols[idx[k]].n_dict;
  names = malloc((n ? n : 1) * sizeof *names);
  counts = malloc((n ? n : 1) * sizeof *counts);
  cats = malloc((total ? total : 1) * sizeof *cats);
  if (names == NULL || counts == NULL || cats == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  total = 0;
  for (size_t k = 0; k < n && rc == KEEL_OK; k++) {
    const keel_column *c = &train->cols[idx[k]];
    size_t m = 0;
    names[k] = c->name;
    rc = onehot_fit_column(host, params, c, train->n_rows, cats + total, &m,
                           err);
    counts[k] = (double)m;
    total += m;
  }
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "columns", names, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_f64(state, "n_categories", counts, n, err);
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "categories", cats, total, err);
out:
  free(cats);
  free(counts);
  free(names);
  free(idx);
  return rc;
}

/* Position of s in sorted cats[0..n), or -1. */
static long onehot_lookup(const char *const *cats, size_t n, const char *s)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(cats[mid], s);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

#define ROW_UNKNOWN (-1)
#define ROW_MISSING (-2)

/* Appends a 0/1 column named <col>=<what> that is 1 where which[r] == j. */
static int onehot_add(const keel_host *host, keel_table *t, const char *col,
                      const char *what, const long *which, long j,
                      keel_error *err)
{
  char *name = onehot_name(col, what);
  if (name == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  keel_column *dst = host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err);
  free(name);
  if (dst == NULL)
    return keel_tx_code(err);
  for (size_t r = 0; r < t->n_rows; r++)
    dst->num[r] = which[r] == j ? 1.0 : 0.0;
  return KEEL_OK;
}

/* Expands src with fitted categories cats[0..m) into t. */
static int onehot_apply_column(const keel_host *host, const keel_value *params,
                               keel_table *t, const keel_column *src,
                               const char *const *cats, size_t m,
                               keel_error *err)
{
  long *map = malloc((src->n_dict ? src->n_dict : 1) * sizeof *map);
  long *which = malloc((t->n_rows ? t->n_rows : 1) * sizeof *which);
  int rc = KEEL_OK;
  if (map == NULL || which == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t d = 0; d < src->n_dict; d++)
    map[d] = onehot_lookup(cats, m, src->dict[d]);
  for (size_t r = 0; r < t->n_rows && rc == KEEL_OK; r++) {
    if (keel_tx_is_missing(src, r)) {
      which[r] = ROW_MISSING;
      if (params[P_MISSING].i == M_ERROR)
        rc = onehot_fail_missing(host, src, r, err);
    } else if (src->code[r] < 0 || (size_t)src->code[r] >= src->n_dict) {
      rc = keel_tx_fail_bad_code(host, src, r, err);
    } else {
      which[r] = map[src->code[r]];
      if (which[r] < 0 && params[P_UNKNOWN].i == U_ERROR)
        rc = host->fail(err, KEEL_EDATA,
                        "column '%s' row %zu: category '%s' was not "
                        "seen in the training rows (%zu known); set "
                        "unknown=ignore or unknown=other",
                        src->name, r + 1, src->dict[src->code[r]], m);
    }
  }
  for (size_t j = 0; j < m && rc == KEEL_OK; j++)
    rc = onehot_add(host, t, src->name, cats[j], which, (long)j, err);
  if (rc == KEEL_OK && params[P_MISSING].i == M_INDICATOR)
    rc = onehot_add(host, t, src->name, MISSING_NAME, which, ROW_MISSING, err);
  if (rc == KEEL_OK && params[P_UNKNOWN].i == U_OTHER)
    rc = onehot_add(host, t, src->name, OTHER_NAME, which, ROW_UNKNOWN, err);
out:
  free(which);
  free(map);
  return rc;
}

typedef struct onehot_fitted {
  const char *const *cats;
  const double *counts;
  const size_t *first;
} onehot_fitted;

/* Expands fitted column src (number k) into t. */
static int onehot_expand(const keel_host *host, const keel_value *params,
                         void *ctx, keel_table *t, const keel_column *src,
                         keel_column *dst, size_t k, keel_error *err)
{
  (void)dst;
  const onehot_fitted *f = ctx;
  return onehot_apply_column(host, params, t, src, f->cats + f->first[k],
                             (size_t)f->counts[k], err);
}

static int onehot_apply(const keel_host *host, const keel_value *params,
                        const keel_state *state, const keel_table *in,
                        keel_table **out, keel_error *err)
{
  const char *const *names = NULL, *const *cats = NULL;
  const double *counts = NULL;
  size_t n = 0, n_cats = 0, total = 0;
  size_t *first = NULL;
  long *pos = NULL;
  int rc = keel_tx_state_columns(host, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = keel_tx_state_f64(host, state, "n_categories", n, &counts, err);
  if (rc == KEEL_OK)
    rc = host->state_get_strings(state, "categories", &cats, &n_cats, err);
  if (rc != KEEL_OK)
    goto out;
  first = malloc((n ? n : 1) * sizeof *first);
  if (first == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < n; k++) {
    first[k] = total;
    if (!(counts[k] >= 0 && counts[k] <= (double)n_cats &&
          counts[k] == floor(counts[k]))) {
      rc = host->fail(err, KEEL_EDATA,
                      "the fitted state's n_categories is malformed");
      goto out;
    }
    total += (size_t)counts[k];
  }
  if (total != n_cats) {
    rc = host->fail(err, KEEL_EDATA,
                    "the fitted state has %zu categories, its counts "
                    "say %zu",
                    n_cats, total);
    goto out;
  }
  rc = keel_tx_bind(host, WHO, names, n, ACCEPTS, "categorical", in, &pos, err);
  if (rc != KEEL_OK)
    goto out;
  onehot_fitted f = {cats, counts, first};
  rc = keel_tx_apply_columns(host, params, in, pos, 0, onehot_expand, &f, out,
                             err);
out:
  free(pos);
  free(first);
  return rc;
}

static const keel_transform_api onehot_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = onehot_schema,
    .fit = onehot_fit,
    .apply = onehot_apply,
};

static const keel_plugin onehot_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "onehot",
    .version = "1.0.0",
    .summary = "one 0/1 column per category seen at fit",
    .license = "MIT",
    .params = onehot_params,
    .n_params = KEEL_COUNT(onehot_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &onehot_api,
};

KEEL_PLUGIN_DEFINE(onehot_plugin)
