/* keel_transform_util.h: helpers shared by the built-in transforms
 * (column selection against a schema or a table, fitted-state lookups,
 * Neumaier-compensated sums, the checks and messages every transform makes
 * alike).
 *
 * Header-only and SDK-only (<keel/keel.h> plus libc/libm), so a transform
 * that includes it still proves the SDK is enough. Every function is static
 * inline: each plugin carries its own copy of what it uses, no symbol
 * crosses a .so, and a plugin that skips one gets no unused warning.
 * The tx_sum order and arithmetic are part of what fitted states hold:
 * changing them changes the bits of every bundle's preprocess state. */
#ifndef KEEL_PLUGINS_TRANSFORM_UTIL_H
#define KEEL_PLUGINS_TRANSFORM_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

/* A read-only view of the columns of a schema or a table (both start with
 * a name and a type), so selection code is written once. */
typedef struct tx_cols {
  const char *base;
  size_t n, stride, name_off, type_off;
} tx_cols;

static inline tx_cols tx_schema_cols(const keel_schema *s)
{
  tx_cols v = {(const char *)s->cols, s->n_cols, sizeof(keel_column_schema),
               offsetof(keel_column_schema, name),
               offsetof(keel_column_schema, type)};
  return v;
}

static inline tx_cols tx_table_cols(const keel_table *t)
{
  tx_cols v = {(const char *)t->cols, t->n_cols, sizeof(keel_column),
               offsetof(keel_column, name), offsetof(keel_column, type)};
  return v;
}

static inline const char *tx_col_name(const tx_cols *v, size_t i)
{
  const char *name;
  memcpy(&name, v->base + i * v->stride + v->name_off, sizeof name);
  return name;
}

static inline keel_col_type tx_col_type(const tx_cols *v, size_t i)
{
  keel_col_type type;
  memcpy(&type, v->base + i * v->stride + v->type_off, sizeof type);
  return type;
}

static inline long tx_col_find(const tx_cols *v, const char *name)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(tx_col_name(v, i), name) == 0)
      return (long)i;
  return -1;
}

static inline const char *tx_type_name(keel_col_type t)
{
  switch (t) {
  case KEEL_COL_NUMERIC:
    return "numeric";
  case KEEL_COL_CATEGORICAL:
    return "categorical";
  case KEEL_COL_TEXT:
    return "text";
  case KEEL_COL_DATE:
    return "date";
  }
  return "of unknown type";
}

/* The code a failed host service left in err (ENOMEM when it left none). */
static inline int tx_code(const keel_error *err)
{
  return (err != NULL && err->code < 0) ? err->code : KEEL_ENOMEM;
}

static inline int tx_is_missing(const keel_column *c, size_t r)
{
  return c->missing != NULL && c->missing[r] != 0;
}

/* Refuses a name listed twice in a STRING_LIST parameter. */
static inline int tx_check_unique(const keel_host *host, const char *who,
                                  const char *param, const keel_value *v,
                                  keel_error *err)
{
  for (size_t i = 0; i < v->n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(v->strings[i], v->strings[j]) == 0)
        return host->fail(err, KEEL_EINVAL, "%s: '%s' is listed twice in %s",
                          who, v->strings[i], param);
  return KEEL_OK;
}

/* Error for a name that is not a column: lists the first columns there. */
static inline int tx_fail_unknown(const keel_host *host, const char *who,
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
                    "has: %s",
                    who, name, v->n ? have : "(no columns)");
}

/* Resolves the `columns` parameter against v. Fills *idx (malloc'd, in
 * input order; caller frees) with the targeted columns: every named one,
 * which must exist and have a type in `accepts`, or, when the list is
 * empty, every column whose type is in `accepts`. `need` says in words
 * what `accepts` allows, for the message. */
static inline int tx_select(const keel_host *host, const char *who,
                            const keel_value *columns, uint32_t accepts,
                            const char *need, const tx_cols *v, size_t **idx,
                            size_t *n_idx, keel_error *err)
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
                        "%s: column '%s' is %s, but %s needs %s columns", who,
                        columns->strings[k], tx_type_name(t), who, need);
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
static inline int tx_state_columns(const keel_host *host, const char *who,
                                   const keel_state *state,
                                   const char *const **names, size_t *n,
                                   keel_error *err)
{
  int rc = host->state_get_strings(state, "columns", names, n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc,
                      "%s: the fitted state has no 'columns' (was fit run "
                      "on the training split?)",
                      who);
  return KEEL_OK;
}

/* A fitted f64 array that must have exactly `want` entries. */
static inline int tx_state_f64(const keel_host *host, const char *who,
                               const keel_state *state, const char *key,
                               size_t want, const double **v, keel_error *err)
{
  size_t n = 0;
  int rc = host->state_get_f64(state, key, v, &n, err);
  if (rc != KEEL_OK)
    return host->fail(err, rc, "%s: the fitted state has no '%s'", who, key);
  if (n != want)
    return host->fail(err, KEEL_EDATA,
                      "%s: the fitted state's '%s' has %zu values, expected "
                      "%zu (one per fitted column)",
                      who, key, n, want);
  return KEEL_OK;
}

/* For each column of table t: the position of its name in names[] (the
 * fitted columns), or -1 when it is not fitted. Each fitted column must be
 * in t with a type in `accepts`. *pos is malloc'd; caller frees. */
static inline int tx_bind(const keel_host *host, const char *who,
                          const char *const *names, size_t n, uint32_t accepts,
                          const char *need, const keel_table *t, long **pos,
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
                        "%s: column '%s' is %s, but %s needs %s columns", who,
                        names[k], tx_type_name(t->cols[c].type), who, need);
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

static inline void tx_sum_add(tx_sum *a, double x)
{
  double t = a->s + x;
  if (fabs(a->s) >= fabs(x))
    a->c += (a->s - t) + x;
  else
    a->c += (x - t) + a->s;
  a->s = t;
  a->n++;
}

static inline double tx_sum_value(const tx_sum *a)
{
  return a->s + a->c;
}

/* Refuses a NaN/Inf that is not marked missing in a column being fitted. */
static inline int tx_check_finite(const keel_host *host, const char *who,
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
static inline int tx_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif
