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

/* ---- helpers shared by the built-in transforms ------------------------
 * Each built-in transform carries this same block (a plugin is one file
 * that sees only the SDK), marked unused so a plugin may skip some. */
#define TX_UNUSED __attribute__((unused))

/* A read-only view of the columns of a schema or a table (both start with
 * a name and a type), so selection code is written once. */
typedef struct tx_cols {
  const char *base;
  size_t n, stride, name_off, type_off;
} tx_cols;

TX_UNUSED static tx_cols tx_schema_cols(const keel_schema *s)
{
  tx_cols v = {(const char *)s->cols, s->n_cols, sizeof(keel_column_schema),
               offsetof(keel_column_schema, name),
               offsetof(keel_column_schema, type)};
  return v;
}

TX_UNUSED static tx_cols tx_table_cols(const keel_table *t)
{
  tx_cols v = {(const char *)t->cols, t->n_cols, sizeof(keel_column),
               offsetof(keel_column, name), offsetof(keel_column, type)};
  return v;
}

TX_UNUSED static const char *tx_col_name(const tx_cols *v, size_t i)
{
  const char *name;
  memcpy(&name, v->base + i * v->stride + v->name_off, sizeof name);
  return name;
}

TX_UNUSED static keel_col_type tx_col_type(const tx_cols *v, size_t i)
{
  keel_col_type type;
  memcpy(&type, v->base + i * v->stride + v->type_off, sizeof type);
  return type;
}

TX_UNUSED static long tx_col_find(const tx_cols *v, const char *name)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(tx_col_name(v, i), name) == 0)
      return (long)i;
  return -1;
}

TX_UNUSED static const char *tx_type_name(keel_col_type t)
{
  switch (t) {
  case KEEL_COL_NUMERIC: return "numeric";
  case KEEL_COL_CATEGORICAL: return "categorical";
  case KEEL_COL_TEXT: return "text";
  case KEEL_COL_DATE: return "date";
  }
  return "of unknown type";
}

/* The code a failed host service left in err (ENOMEM when it left none). */
TX_UNUSED static int tx_code(const keel_error *err)
{
  return (err != NULL && err->code < 0) ? err->code : KEEL_ENOMEM;
}

TX_UNUSED static int tx_is_missing(const keel_column *c, size_t r)
{
  return c->missing != NULL && c->missing[r] != 0;
}

/* Refuses a name listed twice in a STRING_LIST parameter. */
TX_UNUSED static int tx_check_unique(const keel_host *host, const char *who,
                                     const char *param, const keel_value *v,
                                     keel_error *err)
{
  for (size_t i = 0; i < v->n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(v->strings[i], v->strings[j]) == 0)
        return host->fail(err, KEEL_EINVAL,
                          "%s: '%s' is listed twice in %s", who,
                          v->strings[i], param);
  return KEEL_OK;
}

/* Error for a name that is not a column: lists the first columns there. */
TX_UNUSED static int tx_fail_unknown(const keel_host *host, const char *who,
                                     const char *name, const tx_cols *v,
                                     keel_error *err)
{
  char have[256];
  size_t used = 0;
  have[0] = '\0';
  for (size_t i = 0; i < v->n && used < sizeof have; i++) {
    int k = snprintf(have + used, sizeof have - used, "%s%s", i ? ", " : "",
                     tx_col_name(v, i));
    if (k < 0 || (size_t)k >= sizeof have - used) {
      used = sizeof have;
      break;
    }
    used += (size_t)k;
  }
  if (used >= sizeof have && sizeof have > 4)
    memcpy(have + sizeof have - 4, "...", 4);
  return host->fail(err, KEEL_ESCHEMA,
                    "%s: column '%s' (in columns) is not in the input; it "
                    "has: %s", who, name, v->n ? have : "(no columns)");
}

/* Resolves the `columns` parameter against v. Fills *idx (malloc'd, in
 * input order; caller frees) with the targeted columns: every named one,
 * which must exist and have a type in `accepts`, or, when the list is
 * empty, every column whose type is in `accepts`. `need` says in words
 * what `accepts` allows, for the message. */
TX_UNUSED static int tx_select(const keel_host *host, const char *who,
                               const keel_value *columns, uint32_t accepts,
                               const char *need, const tx_cols *v,
                               size_t **idx, size_t *n_idx, keel_error *err)
{
  *idx = NULL;
  *n_idx = 0;
  int rc = tx_check_unique(host, who, "columns", columns, err);
  if (rc != KEEL_OK)
    return rc;
  for (size_t k = 0; k < columns->n; k++) {
    long c = tx_col_find(v, columns->strings[k]);
    if (c < 0)
      return tx_fail_unknown(host, who, columns->strings[k], v, err);
    keel_col_type t = tx_col_type(v, (size_t)c);
    if (!(accepts & KEEL_COL_BIT(t)))
      return host->fail(err, KEEL_ESCHEMA,
                        "%s: column '%s' is %s, but %s needs %s columns",
                        who, columns->strings[k], tx_type_name(t), who, need);
  }
  size_t *out = malloc((v->n ? v->n : 1) * sizeof *out);
  if (out == NULL)
    return host->fail(err, KEEL_ENOMEM, "%s: out of memory", who);
  size_t n = 0;
  for (size_t i = 0; i < v->n; i++) {
    int take = 0;
    if (columns->n == 0) {
      take = (accepts & KEEL_COL_BIT(tx_col_type(v, i))) != 0;
    } else {
      for (size_t k = 0; k < columns->n && !take; k++)
        take = strcmp(columns->strings[k], tx_col_name(v, i)) == 0;
    }
    if (take)
      out[n++] = i;
  }
  *idx = out;
  *n_idx = n;
  return KEEL_OK;
}

/* The fitted column names of a state (key "columns"). */
TX_UNUSED static int tx_state_columns(const keel_host *host, const char *who,
                                      const keel_state *state,
                                      const char *const **names, size_t *n,
                                      keel_error *err)
{
  int rc = host->state_get_strings(state, "columns", names, n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc,
                      "%s: the fitted state has no 'columns' (was fit run "
                      "on the training split?)", who);
  return KEEL_OK;
}

/* A fitted f64 array that must have exactly `want` entries. */
TX_UNUSED static int tx_state_f64(const keel_host *host, const char *who,
                                  const keel_state *state, const char *key,
                                  size_t want, const double **v,
                                  keel_error *err)
{
  size_t n = 0;
  int rc = host->state_get_f64(state, key, v, &n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc, "%s: the fitted state has no '%s'", who, key);
  if (n != want)
    return host->fail(err, KEEL_EDATA,
                      "%s: the fitted state's '%s' has %zu values, expected "
                      "%zu (one per fitted column)", who, key, n, want);
  return KEEL_OK;
}

/* For each column of table t: the position of its name in names[] (the
 * fitted columns), or -1 when it is not fitted. Each fitted column must be
 * in t with a type in `accepts`. *pos is malloc'd; caller frees. */
TX_UNUSED static int tx_bind(const keel_host *host, const char *who,
                             const char *const *names, size_t n,
                             uint32_t accepts, const char *need,
                             const keel_table *t, long **pos,
                             keel_error *err)
{
  tx_cols v = tx_table_cols(t);
  long *p = malloc((t->n_cols ? t->n_cols : 1) * sizeof *p);
  if (p == NULL)
    return host->fail(err, KEEL_ENOMEM, "%s: out of memory", who);
  for (size_t c = 0; c < t->n_cols; c++)
    p[c] = -1;
  for (size_t k = 0; k < n; k++) {
    long c = tx_col_find(&v, names[k]);
    if (c < 0) {
      free(p);
      return host->fail(err, KEEL_ESCHEMA,
                        "%s: fitted column '%s' is not in the input", who,
                        names[k]);
    }
    if (!(accepts & KEEL_COL_BIT(t->cols[c].type))) {
      free(p);
      return host->fail(err, KEEL_ESCHEMA,
                        "%s: column '%s' is %s, but %s needs %s columns",
                        who, names[k], tx_type_name(t->cols[c].type), who,
                        need);
    }
    p[c] = (long)k;
  }
  *pos = p;
  return KEEL_OK;
}

/* Neumaier-compensated sum of the non-missing x[r] in row order, so the
 * result depends only on the values and their order. */
typedef struct tx_sum {
  double s, c;
  size_t n;
} tx_sum;

TX_UNUSED static void tx_sum_add(tx_sum *a, double x)
{
  double t = a->s + x;
  if (fabs(a->s) >= fabs(x))
    a->c += (a->s - t) + x;
  else
    a->c += (x - t) + a->s;
  a->s = t;
  a->n++;
}

TX_UNUSED static double tx_sum_value(const tx_sum *a)
{
  return a->s + a->c;
}

/* Refuses a NaN/Inf that is not marked missing in a column being fitted. */
TX_UNUSED static int tx_check_finite(const keel_host *host, const char *who,
                                     const keel_column *c, size_t n_rows,
                                     keel_error *err)
{
  for (size_t r = 0; r < n_rows; r++)
    if (!tx_is_missing(c, r) && !isfinite(c->num[r]))
      return host->fail(err, KEEL_EDATA,
                        "%s: column '%s' row %zu: value %g is not finite; "
                        "cannot fit on it (mark it missing or clip first)",
                        who, c->name, r + 1, c->num[r]);
  return KEEL_OK;
}

/* Ascending order of doubles for qsort (no NaN reaches it). */
TX_UNUSED static int tx_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
/* ---- end of shared helpers -------------------------------------------- */

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
