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

#define WHO "onehot"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_CATEGORICAL)
#define OTHER_NAME "__other__"
#define MISSING_NAME "__missing__"
#define WILDCARD "*"

enum { P_COLUMNS, P_UNKNOWN, P_MISSING, P_COUNT };
enum { U_ERROR, U_IGNORE, U_OTHER };
enum { M_ERROR, M_INDICATOR, M_IGNORE };
static const char *const unknown_choices[] = {"error", "ignore", "other",
                                              NULL};
static const char *const missing_choices[] = {"error", "indicator", "ignore",
                                              NULL};

static const keel_param_decl onehot_params[P_COUNT] = {
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

/* "<col>=<what>" in a malloc'd string, or NULL. */
static char *onehot_name(const char *col, const char *what)
{
  size_t a = strlen(col), b = strlen(what);
  char *s = malloc(a + b + 2);
  if (s != NULL) {
    memcpy(s, col, a);
    s[a] = '=';
    memcpy(s + a + 1, what, b + 1);
  }
  return s;
}

static int onehot_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  tx_cols v = tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  int rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "categorical",
                     &v, &idx, &n, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    if (k < n && idx[k] == c) {
      k++;
      char *name = onehot_name(in->cols[c].name, WILDCARD);
      if (name == NULL)
        rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
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

static int onehot_fail_code(const keel_host *host, const keel_column *c,
                            size_t r, keel_error *err)
{
  return host->fail(err, KEEL_EDATA,
                    WHO ": column '%s' row %zu: code %d is outside its "
                    "dictionary of %zu", c->name, r + 1, (int)c->code[r],
                    c->n_dict);
}

static int onehot_fail_missing(const keel_host *host, const keel_column *c,
                               size_t r, keel_error *err)
{
  return host->fail(err, KEEL_EDATA,
                    WHO ": column '%s' row %zu is missing; set "
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
    return host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
  int rc = KEEL_OK;
  for (size_t r = 0; r < n_rows && rc == KEEL_OK; r++) {
    if (tx_is_missing(c, r)) {
      if (params[P_MISSING].i == M_ERROR)
        rc = onehot_fail_missing(host, c, r, err);
    } else if (c->code[r] < 0 || (size_t)c->code[r] >= c->n_dict) {
      rc = onehot_fail_code(host, c, r, err);
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
  tx_cols v = tx_table_cols(train);
  size_t *idx = NULL, n = 0, total = 0;
  const char **names = NULL, **cats = NULL;
  double *counts = NULL;
  int rc = tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "categorical",
                     &v, &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  for (size_t k = 0; k < n; k++)
    total += train->cols[idx[k]].n_dict;
  names = malloc((n ? n : 1) * sizeof *names);
  counts = malloc((n ? n : 1) * sizeof *counts);
  cats = malloc((total ? total : 1) * sizeof *cats);
  if (names == NULL || counts == NULL || cats == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
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
    return host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
  keel_column *dst = host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err);
  free(name);
  if (dst == NULL)
    return tx_code(err);
  for (size_t r = 0; r < t->n_rows; r++)
    dst->num[r] = which[r] == j ? 1.0 : 0.0;
  return KEEL_OK;
}

/* Expands src with fitted categories cats[0..m) into t. */
static int onehot_apply_column(const keel_host *host,
                               const keel_value *params, keel_table *t,
                               const keel_column *src,
                               const char *const *cats, size_t m,
                               keel_error *err)
{
  long *map = malloc((src->n_dict ? src->n_dict : 1) * sizeof *map);
  long *which = malloc((t->n_rows ? t->n_rows : 1) * sizeof *which);
  int rc = KEEL_OK;
  if (map == NULL || which == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  for (size_t d = 0; d < src->n_dict; d++)
    map[d] = onehot_lookup(cats, m, src->dict[d]);
  for (size_t r = 0; r < t->n_rows && rc == KEEL_OK; r++) {
    if (tx_is_missing(src, r)) {
      which[r] = ROW_MISSING;
      if (params[P_MISSING].i == M_ERROR)
        rc = onehot_fail_missing(host, src, r, err);
    } else if (src->code[r] < 0 || (size_t)src->code[r] >= src->n_dict) {
      rc = onehot_fail_code(host, src, r, err);
    } else {
      which[r] = map[src->code[r]];
      if (which[r] < 0 && params[P_UNKNOWN].i == U_ERROR)
        rc = host->fail(err, KEEL_EDATA,
                        WHO ": column '%s' row %zu: category '%s' was not "
                        "seen in the training rows (%zu known); set "
                        "unknown=ignore or unknown=other", src->name, r + 1,
                        src->dict[src->code[r]], m);
    }
  }
  for (size_t j = 0; j < m && rc == KEEL_OK; j++)
    rc = onehot_add(host, t, src->name, cats[j], which, (long)j, err);
  if (rc == KEEL_OK && params[P_MISSING].i == M_INDICATOR)
    rc = onehot_add(host, t, src->name, MISSING_NAME, which, ROW_MISSING,
                    err);
  if (rc == KEEL_OK && params[P_UNKNOWN].i == U_OTHER)
    rc = onehot_add(host, t, src->name, OTHER_NAME, which, ROW_UNKNOWN, err);
out:
  free(which);
  free(map);
  return rc;
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
  keel_table *t = NULL;
  int rc = tx_state_columns(host, WHO, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = tx_state_f64(host, WHO, state, "n_categories", n, &counts, err);
  if (rc == KEEL_OK)
    rc = host->state_get_strings(state, "categories", &cats, &n_cats, err);
  if (rc != KEEL_OK)
    goto out;
  first = malloc((n ? n : 1) * sizeof *first);
  if (first == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  for (size_t k = 0; k < n; k++) {
    first[k] = total;
    if (!(counts[k] >= 0 && counts[k] <= (double)n_cats &&
          counts[k] == floor(counts[k]))) {
      rc = host->fail(err, KEEL_EDATA,
                      WHO ": the fitted state's n_categories is malformed");
      goto out;
    }
    total += (size_t)counts[k];
  }
  if (total != n_cats) {
    rc = host->fail(err, KEEL_EDATA,
                    WHO ": the fitted state has %zu categories, its counts "
                    "say %zu", n_cats, total);
    goto out;
  }
  rc = tx_bind(host, WHO, names, n, ACCEPTS, "categorical", in, &pos, err);
  if (rc != KEEL_OK)
    goto out;
  t = host->table_new(in->n_rows);
  if (t == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, WHO ": out of memory");
    goto out;
  }
  for (size_t c = 0; c < in->n_cols && rc == KEEL_OK; c++) {
    const keel_column *src = &in->cols[c];
    if (pos[c] >= 0) {
      size_t k = (size_t)pos[c];
      rc = onehot_apply_column(host, params, t, src, cats + first[k],
                               (size_t)counts[k], err);
    } else if (host->table_copy_column(t, src, err) == NULL) {
      rc = tx_code(err);
    }
  }
  if (rc == KEEL_OK) {
    *out = t;
    t = NULL;
  }
out:
  if (t != NULL)
    host->table_free(t);
  free(pos);
  free(first);
  return rc;
}

static const keel_transform_api onehot_api = {
    .struct_size = sizeof(keel_transform_api),
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
