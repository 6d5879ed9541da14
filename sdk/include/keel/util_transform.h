/* keel SDK helper: what per-column transforms share: selecting the
 * columns a `columns` parameter names in a schema or a table, fitting each
 * and storing the fitted numbers as state, binding a stored state to the
 * columns of a later table, the apply loop, Neumaier-compensated sums and
 * the checks and messages every transform makes alike.
 *
 * Contract: header-only, <keel/keel.h> plus libc/libm, every function
 * static inline: each plugin carries its own copy of what it uses, no
 * symbol crosses a .so, and the host is reached only through the
 * keel_host table the caller passes.
 *   - Errors: a KEEL_E* code with the message written through host->fail
 *     into err; messages name the column, row and parameter, never the
 *     plugin (the host puts "[stage] name: " in front). Where `who` is a
 *     parameter it is the plugin's name, used mid-sentence ("standardize
 *     needs numeric columns").
 *   - Ownership: inputs are borrowed for the call; an array returned
 *     through a pointer (idx, pos) is malloc'd and the caller frees it;
 *     a table returned through *out is the host's (hand it back from
 *     apply), and nothing is returned on failure.
 *   - Threading: no state of their own; safe from any thread on objects
 *     that thread owns (host.h's rule).
 *   - Stable: keel_tx_sum's order and arithmetic are part of what fitted
 *     states hold: they never change under these names.
 * "tx" names the family (transform). */
#ifndef KEEL_UTIL_TRANSFORM_H
#define KEEL_UTIL_TRANSFORM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/keel.h"
#include "keel/util_names.h"

/* A read-only view of the columns of a schema or a table (both start with
 * a name and a type), so selection code is written once. */
typedef struct keel_tx_cols {
  const char *base;
  size_t n, stride, name_off, type_off;
} keel_tx_cols;

static inline keel_tx_cols keel_tx_schema_cols(const keel_schema *s)
{
  keel_tx_cols v = {
      (const char *)s->cols, s->n_cols, sizeof(keel_column_schema),
      offsetof(keel_column_schema, name), offsetof(keel_column_schema, type)};
  return v;
}

static inline keel_tx_cols keel_tx_table_cols(const keel_table *t)
{
  keel_tx_cols v = {(const char *)t->cols, t->n_cols, sizeof(keel_column),
                    offsetof(keel_column, name), offsetof(keel_column, type)};
  return v;
}

static inline const char *keel_tx_col_name(const keel_tx_cols *v, size_t i)
{
  const char *name;
  memcpy(&name, v->base + i * v->stride + v->name_off, sizeof name);
  return name;
}

static inline keel_col_type keel_tx_col_type(const keel_tx_cols *v, size_t i)
{
  keel_col_type type;
  memcpy(&type, v->base + i * v->stride + v->type_off, sizeof type);
  return type;
}

static inline long keel_tx_col_find(const keel_tx_cols *v, const char *name)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(keel_tx_col_name(v, i), name) == 0)
      return (long)i;
  return -1;
}

static inline const char *keel_tx_type_name(keel_col_type t)
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
static inline int keel_tx_code(const keel_error *err)
{
  return (err != NULL && err->code < 0) ? err->code : KEEL_ENOMEM;
}

static inline int keel_tx_is_missing(const keel_column *c, size_t r)
{
  return c->missing != NULL && c->missing[r] != 0;
}

/* Error for row r of categorical column c whose code is not an index of
 * its dictionary. */
static inline int keel_tx_fail_bad_code(const keel_host *host,
                                        const keel_column *c, size_t r,
                                        keel_error *err)
{
  return host->fail(err, KEEL_EDATA,
                    "column '%s' row %zu: code %d is outside its "
                    "dictionary of %zu",
                    c->name, r + 1, (int)c->code[r], c->n_dict);
}

/* Refuses a name listed twice in a STRING_LIST parameter. */
static inline int keel_tx_check_unique(const keel_host *host, const char *param,
                                       const keel_value *v, keel_error *err)
{
  if (v->n < 2)
    return KEEL_OK;
  keel_name_pos *e = malloc(v->n * sizeof *e);
  if (e == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < v->n; i++) {
    e[i].name = v->strings[i];
    e[i].pos = i;
  }
  keel_names_sort(e, v->n);
  size_t first = 0, second = 0;
  int dup = keel_names_first_dup(e, v->n, &first, &second);
  free(e);
  if (dup)
    return host->fail(err, KEEL_EINVAL, "'%s' is listed twice in %s",
                      v->strings[second], param);
  return KEEL_OK;
}

/* The names of v sorted for keel_names_find (malloc'd; caller frees), or NULL
 * on ENOMEM. */
static inline keel_name_pos *keel_tx_cols_sorted(const keel_tx_cols *v)
{
  keel_name_pos *e = malloc((v->n ? v->n : 1) * sizeof *e);
  if (e == NULL)
    return NULL;
  for (size_t i = 0; i < v->n; i++) {
    e[i].name = keel_tx_col_name(v, i);
    e[i].pos = i;
  }
  keel_names_sort(e, v->n);
  return e;
}

/* Error for a name that is not a column: lists the first columns there. */
static inline int keel_tx_fail_unknown(const keel_host *host, const char *name,
                                       const keel_tx_cols *v, keel_error *err)
{
  char have[256];
  size_t used = 0;
  have[0] = '\0';
  for (size_t i = 0; i < v->n && used < sizeof have; i++) {
    int k = snprintf(have + used, sizeof have - used, "%s%s", i ? ", " : "",
                     keel_tx_col_name(v, i));
    if (k < 0 || (size_t)k >= sizeof have - used) {
      used = sizeof have;
      break;
    }
    used += (size_t)k;
  }
  if (used >= sizeof have && sizeof have > 4)
    memcpy(have + sizeof have - 4, "...", 4);
  return host->fail(err, KEEL_ESCHEMA,
                    "column '%s' (in columns) is not in the input; it "
                    "has: %s",
                    name, v->n ? have : "(no columns)");
}

/* Resolves the `columns` parameter against v. Fills *idx (malloc'd, in
 * input order; caller frees) with the targeted columns: every named one,
 * which must exist and have a type in `accepts`, or, when the list is
 * empty, every column whose type is in `accepts`. `need` says in words
 * what `accepts` allows, for the message. */
static inline int keel_tx_select(const keel_host *host, const char *who,
                                 const keel_value *columns, uint32_t accepts,
                                 const char *need, const keel_tx_cols *v,
                                 size_t **idx, size_t *n_idx, keel_error *err)
{
  *idx = NULL;
  *n_idx = 0;
  int rc = keel_tx_check_unique(host, "columns", columns, err);
  if (rc != KEEL_OK)
    return rc;
  size_t *out = malloc((v->n ? v->n : 1) * sizeof *out);
  unsigned char *take = calloc(v->n ? v->n : 1, 1);
  keel_name_pos *sorted = columns->n ? keel_tx_cols_sorted(v) : NULL;
  if (out == NULL || take == NULL || (columns->n && sorted == NULL)) {
    free(out);
    free(take);
    free(sorted);
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < columns->n; k++) {
    long c = keel_names_find(sorted, v->n, columns->strings[k]);
    keel_col_type t = c < 0 ? KEEL_COL_NUMERIC : keel_tx_col_type(v, (size_t)c);
    if (c < 0 || !(accepts & KEEL_COL_BIT(t))) {
      free(out);
      free(take);
      free(sorted);
      if (c < 0)
        return keel_tx_fail_unknown(host, columns->strings[k], v, err);
      return host->fail(err, KEEL_ESCHEMA,
                        "column '%s' is %s, but %s needs %s columns",
                        columns->strings[k], keel_tx_type_name(t), who, need);
    }
    take[c] = 1;
  }
  free(sorted);
  size_t n = 0;
  for (size_t i = 0; i < v->n; i++) {
    if (columns->n == 0)
      take[i] = (accepts & KEEL_COL_BIT(keel_tx_col_type(v, i))) != 0;
    if (take[i])
      out[n++] = i;
  }
  free(take);
  *idx = out;
  *n_idx = n;
  return KEEL_OK;
}

/* The fitted column names of a state (key "columns"). */
static inline int keel_tx_state_columns(const keel_host *host,
                                        const keel_state *state,
                                        const char *const **names, size_t *n,
                                        keel_error *err)
{
  int rc = host->state_get_strings(state, "columns", names, n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc,
                      "the fitted state has no 'columns' (was fit run "
                      "on the training split?)");
  return KEEL_OK;
}

/* A fitted f64 array that must have exactly `want` entries. */
static inline int keel_tx_state_f64(const keel_host *host,
                                    const keel_state *state, const char *key,
                                    size_t want, const double **v,
                                    keel_error *err)
{
  size_t n = 0;
  int rc = host->state_get_f64(state, key, v, &n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc, "the fitted state has no '%s'", key);
  if (n != want)
    return host->fail(err, KEEL_EDATA,
                      "the fitted state's '%s' has %zu values, expected "
                      "%zu (one per fitted column)",
                      key, n, want);
  return KEEL_OK;
}

/* For each column of table t: the position of its name in names[] (the
 * fitted columns), or -1 when it is not fitted. Each fitted column must be
 * in t with a type in `accepts`. *pos is malloc'd; caller frees. */
static inline int keel_tx_bind(const keel_host *host, const char *who,
                               const char *const *names, size_t n,
                               uint32_t accepts, const char *need,
                               const keel_table *t, long **pos, keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(t);
  long *p = malloc((t->n_cols ? t->n_cols : 1) * sizeof *p);
  if (p == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  keel_name_pos *sorted = keel_tx_cols_sorted(&v);
  if (sorted == NULL) {
    free(p);
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  }
  for (size_t c = 0; c < t->n_cols; c++)
    p[c] = -1;
  for (size_t k = 0; k < n; k++) {
    long c = keel_names_find(sorted, v.n, names[k]);
    if (c < 0) {
      free(sorted);
      free(p);
      return host->fail(err, KEEL_ESCHEMA,
                        "fitted column '%s' is not in the input", names[k]);
    }
    if (!(accepts & KEEL_COL_BIT(t->cols[c].type))) {
      free(sorted);
      free(p);
      return host->fail(err, KEEL_ESCHEMA,
                        "column '%s' is %s, but %s needs %s columns", names[k],
                        keel_tx_type_name(t->cols[c].type), who, need);
    }
    p[c] = (long)k;
  }
  free(sorted);
  *pos = p;
  return KEEL_OK;
}

/* Neumaier-compensated sum of the non-missing x[r] in row order, so the
 * result depends only on the values and their order. */
typedef struct keel_tx_sum {
  double s, c;
  size_t n;
} keel_tx_sum;

static inline void keel_tx_sum_add(keel_tx_sum *a, double x)
{
  double t = a->s + x;
  if (fabs(a->s) >= fabs(x))
    a->c += (a->s - t) + x;
  else
    a->c += (x - t) + a->s;
  a->s = t;
  a->n++;
}

static inline double keel_tx_sum_value(const keel_tx_sum *a)
{
  return a->s + a->c;
}

/* Refuses a NaN/Inf that is not marked missing in a column being fitted. */
static inline int keel_tx_check_finite(const keel_host *host,
                                       const keel_column *c, size_t n_rows,
                                       keel_error *err)
{
  for (size_t r = 0; r < n_rows; r++)
    if (!keel_tx_is_missing(c, r) && !isfinite(c->num[r]))
      return host->fail(err, KEEL_EDATA,
                        "column '%s' row %zu: value %g is not finite; "
                        "cannot fit on it (mark it missing or clip first)",
                        c->name, r + 1, c->num[r]);
  return KEEL_OK;
}

/* Ascending order of doubles for qsort (no NaN reaches it). */
static inline int keel_tx_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The schema of a transform that keeps every column as it is: checks the
 * `columns` parameter against in (see keel_tx_select) and copies in to out. */
static inline int keel_tx_schema_same(const keel_host *host, const char *who,
                                      const keel_value *columns,
                                      uint32_t accepts, const char *need,
                                      const keel_schema *in, keel_schema *out,
                                      keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0;
  int rc = keel_tx_select(host, who, columns, accepts, need, &v, &idx, &n, err);
  free(idx);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++)
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                          in->cols[c].flags, err);
  return rc;
}

/* "<col><sep><what>" in a malloc'd string, or NULL (the names of the
 * columns a transform derives from an input column). */
static inline char *keel_tx_join_name(const char *col, char sep,
                                      const char *what)
{
  size_t a = strlen(col), b = strlen(what);
  char *s = malloc(a + b + 2);
  if (s != NULL) {
    memcpy(s, col, a);
    s[a] = sep;
    memcpy(s + a + 1, what, b + 1);
  }
  return s;
}

/* The most fitted numbers (or strings) per column keel_tx_fit_columns and
 * keel_tx_apply_fitted handle. */
#define KEEL_TX_MAX_KEYS 4

/* Fits one training column c: fills num[0..n_num) and str[0..n_str) (the
 * column's entry of each state key; preset to 0.0 and ""). */
typedef int (*keel_tx_fit_fn)(const keel_host *host, const keel_value *params,
                              const keel_column *c, size_t n_rows, double *num,
                              const char **str, keel_error *err);

/* The fit every per-column transform makes: selects the targeted columns
 * of train (the `columns` parameter, see keel_tx_select), fits each in input
 * order with fit, and stores "columns", then each of num_keys (f64, one value
 * per column), then each of str_keys (strings, one per column). Stores
 * nothing when a column fails. */
static inline int
keel_tx_fit_columns(const keel_host *host, const char *who,
                    const keel_value *params, const keel_value *columns,
                    const keel_table *train, uint32_t accepts, const char *need,
                    const char *const *num_keys, size_t n_num,
                    const char *const *str_keys, size_t n_str,
                    keel_tx_fit_fn fit, keel_state *state, keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(train);
  size_t *idx = NULL, n = 0;
  const char **names = NULL, **strs = NULL;
  double *nums = NULL;
  if (n_num > KEEL_TX_MAX_KEYS || n_str > KEEL_TX_MAX_KEYS)
    return host->fail(err, KEEL_EINVAL, "too many fitted keys");
  int rc = keel_tx_select(host, who, columns, accepts, need, &v, &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  size_t m = n ? n : 1;
  names = malloc(m * sizeof *names);
  nums = malloc(m * (n_num ? n_num : 1) * sizeof *nums);
  strs = malloc(m * (n_str ? n_str : 1) * sizeof *strs);
  if (names == NULL || nums == NULL || strs == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < n && rc == KEEL_OK; k++) {
    const keel_column *c = &train->cols[idx[k]];
    double num[KEEL_TX_MAX_KEYS] = {0.0, 0.0, 0.0, 0.0};
    const char *str[KEEL_TX_MAX_KEYS] = {"", "", "", ""};
    names[k] = c->name;
    rc = fit(host, params, c, train->n_rows, num, str, err);
    for (size_t j = 0; j < n_num; j++)
      nums[j * n + k] = num[j];
    for (size_t j = 0; j < n_str; j++)
      strs[j * n + k] = str[j];
  }
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "columns", names, n, err);
  for (size_t j = 0; j < n_num && rc == KEEL_OK; j++)
    rc = host->state_put_f64(state, num_keys[j], nums + j * n, n, err);
  for (size_t j = 0; j < n_str && rc == KEEL_OK; j++)
    rc = host->state_put_strings(state, str_keys[j], strs + j * n, n, err);
out:
  free(strs);
  free(nums);
  free(names);
  free(idx);
  return rc;
}

/* Handles one targeted input column src (number k among the targets, or
 * its fitted position) while the output table t is built. dst is src's
 * copy just appended to t (index t->n_cols - 1 on entry) when the caller
 * asked for copies of targets, else NULL. On an ABI 1.2 host dst stays
 * valid whatever fn appends; a 1.1 host moved it on the next table_add,
 * so a fn that appends columns and may run there writes dst first or
 * keeps the index (the date transform appends without touching dst). */
typedef int (*keel_tx_column_fn)(const keel_host *host,
                                 const keel_value *params, void *ctx,
                                 keel_table *t, const keel_column *src,
                                 keel_column *dst, size_t k, keel_error *err);

/* The apply loop every transform makes: a new table with in's rows; each
 * input column in order is copied, except a targeted one (pos[c] >= 0)
 * when copy_targets is 0; then fn handles each targeted one. *out gets the
 * table only on success. */
static inline int keel_tx_apply_columns(const keel_host *host,
                                        const keel_value *params,
                                        const keel_table *in, const long *pos,
                                        int copy_targets, keel_tx_column_fn fn,
                                        void *ctx, keel_table **out,
                                        keel_error *err)
{
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  for (size_t c = 0; c < in->n_cols && rc == KEEL_OK; c++) {
    const keel_column *src = &in->cols[c];
    keel_column *dst = NULL;
    if (pos[c] < 0 || copy_targets) {
      dst = host->table_copy_column(t, src, err);
      if (dst == NULL) {
        rc = keel_tx_code(err);
        break;
      }
    }
    if (pos[c] >= 0)
      rc = fn(host, params, ctx, t, src, dst, (size_t)pos[c], err);
  }
  if (rc != KEEL_OK) {
    host->table_free(t);
    return rc;
  }
  *out = t;
  return KEEL_OK;
}

/* keel_tx_apply_columns for a stateless transform: the targets are the columns
 * of in that the `columns` parameter selects (see
 * keel_tx_select). */
static inline int keel_tx_apply_selected(const keel_host *host, const char *who,
                                         const keel_value *params,
                                         const keel_value *columns,
                                         const keel_table *in, uint32_t accepts,
                                         const char *need, int copy_targets,
                                         keel_tx_column_fn fn, void *ctx,
                                         keel_table **out, keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(in);
  size_t *idx = NULL, n = 0;
  long *pos = NULL;
  int rc = keel_tx_select(host, who, columns, accepts, need, &v, &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  pos = malloc((in->n_cols ? in->n_cols : 1) * sizeof *pos);
  if (pos == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t c = 0, k = 0; c < in->n_cols; c++)
    pos[c] = (k < n && idx[k] == c) ? (long)k++ : -1;
  rc = keel_tx_apply_columns(host, params, in, pos, copy_targets, fn, ctx, out,
                             err);
out:
  free(pos);
  free(idx);
  return rc;
}

/* Maps one non-missing value x of a fitted column; fitted[j] is the
 * column's value of the j-th state key. */
typedef double (*keel_tx_map_fn)(const keel_value *params, const double *fitted,
                                 double x);

typedef struct keel_tx_map_ctx {
  const double *vals[KEEL_TX_MAX_KEYS];
  size_t n_keys;
  keel_tx_map_fn map;
} keel_tx_map_ctx;

static inline int keel_tx_map_column(const keel_host *host,
                                     const keel_value *params, void *ctx,
                                     keel_table *t, const keel_column *src,
                                     keel_column *dst, size_t k,
                                     keel_error *err)
{
  (void)host;
  (void)err;
  const keel_tx_map_ctx *m = ctx;
  double fitted[KEEL_TX_MAX_KEYS] = {0.0, 0.0, 0.0, 0.0};
  for (size_t j = 0; j < m->n_keys; j++)
    fitted[j] = m->vals[j][k];
  for (size_t r = 0; r < t->n_rows; r++)
    if (!keel_tx_is_missing(src, r))
      dst->num[r] = m->map(params, fitted, src->num[r]);
  return KEEL_OK;
}

/* The apply of a transform that maps each value of its fitted columns:
 * reads "columns" and the f64 keys from state, binds the fitted columns
 * in `in` (see keel_tx_bind), copies the table and replaces every non-missing
 * value of a fitted column by map(params, its fitted numbers, value). */
static inline int
keel_tx_apply_fitted(const keel_host *host, const char *who,
                     const keel_value *params, const keel_state *state,
                     const keel_table *in, uint32_t accepts, const char *need,
                     const char *const *keys, size_t n_keys, keel_tx_map_fn map,
                     keel_table **out, keel_error *err)
{
  const char *const *names = NULL;
  size_t n = 0;
  long *pos = NULL;
  keel_tx_map_ctx m = {{NULL, NULL, NULL, NULL}, n_keys, map};
  if (n_keys > KEEL_TX_MAX_KEYS)
    return host->fail(err, KEEL_EINVAL, "too many fitted keys");
  int rc = keel_tx_state_columns(host, state, &names, &n, err);
  for (size_t j = 0; j < n_keys && rc == KEEL_OK; j++)
    rc = keel_tx_state_f64(host, state, keys[j], n, &m.vals[j], err);
  if (rc == KEEL_OK)
    rc = keel_tx_bind(host, who, names, n, accepts, need, in, &pos, err);
  if (rc == KEEL_OK)
    rc = keel_tx_apply_columns(host, params, in, pos, 1, keel_tx_map_column, &m,
                               out, err);
  free(pos);
  return rc;
}

#endif /* KEEL_UTIL_TRANSFORM_H */
