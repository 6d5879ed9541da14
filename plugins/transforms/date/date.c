/* date: expand DATE columns (days since 1970-01-01, UTC, proleptic
 * Gregorian calendar) into NUMERIC parts named `<col>_<part>`, in place of
 * the date column, in the order `parts` lists them:
 *   year       e.g. 1970
 *   month      1..12
 *   day        day of the month, 1..31
 *   dayofweek  Monday = 0 .. Sunday = 6 (as pandas)
 *   dayofyear  1..366
 *   quarter    1..4
 * A fractional day counts as the day it falls in (floor). With keep=true
 * the date column stays, just before its parts. Missing dates give
 * missing parts; a non-finite or out-of-range (|days| > 1e9) date that is
 * not missing is refused naming the column and row. Stateless. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "date"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_DATE)
#define MAX_ABS_DAYS 1e9

enum { P_COLUMNS, P_PARTS, P_KEEP, P_COUNT };

static const keel_param_decl date_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "date columns to expand (empty: all date columns)"),
    [P_PARTS] = KEEL_P_STRING_LIST(
        "parts", "year,month,day,dayofweek,dayofyear",
        "parts to extract: year, month, day, dayofweek, dayofyear, quarter"),
    [P_KEEP] = KEEL_P_BOOL("keep", 0, "keep the date column too"),
};
KEEL_PARAMS_MATCH(date_params, P_COUNT);

enum { PART_YEAR, PART_MONTH, PART_DAY, PART_DOW, PART_DOY, PART_QUARTER };
static const char *const part_names[] = {"year",      "month",     "day",
                                         "dayofweek", "dayofyear", "quarter"};
#define N_PARTS (sizeof part_names / sizeof part_names[0])

/* The part codes named by `parts`; each must be known and named once. */
static int date_parts(const keel_host *host, const keel_value *params,
                      int *codes, keel_error *err)
{
  const keel_value *p = &params[P_PARTS];
  if (p->n == 0)
    return host->fail(err, KEEL_EINVAL,
                      "parts is empty; name at least one of year, "
                      "month, day, dayofweek, dayofyear, quarter");
  int rc = keel_tx_check_unique(host, "parts", p, err);
  if (rc != KEEL_OK)
    return rc;
  if (p->n > N_PARTS)
    return host->fail(err, KEEL_EINVAL, "too many parts");
  for (size_t i = 0; i < p->n; i++) {
    size_t j = 0;
    while (j < N_PARTS && strcmp(p->strings[i], part_names[j]) != 0)
      j++;
    if (j == N_PARTS)
      return host->fail(err, KEEL_EINVAL,
                        "unknown part '%s' in parts; known: year, "
                        "month, day, dayofweek, dayofyear, quarter",
                        p->strings[i]);
    codes[i] = (int)j;
  }
  return KEEL_OK;
}

/* "<col>_<part>" in a malloc'd string, or NULL. */
static char *date_name(const char *col, const char *part)
{
  return keel_tx_join_name(col, '_', part);
}

static int date_schema(const keel_host *host, const keel_value *params,
                       const keel_schema *in, keel_schema *out, keel_error *err)
{
  int codes[N_PARTS];
  int rc = date_parts(host, params, codes, err);
  if (rc != KEEL_OK)
    return rc;
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "date", &v, &idx,
                      &n, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    const keel_column_schema *col = &in->cols[c];
    int target = k < n && idx[k] == c;
    if (target)
      k++;
    if (!target || params[P_KEEP].i)
      rc = host->schema_add(out, col->name, col->type, col->flags, err);
    for (size_t i = 0; target && rc == KEEL_OK && i < params[P_PARTS].n; i++) {
      char *name = date_name(col->name, part_names[codes[i]]);
      if (name == NULL)
        rc = host->fail(err, KEEL_ENOMEM, "out of memory");
      else
        rc = host->schema_add(out, name, KEEL_COL_NUMERIC,
                              col->flags & KEEL_COL_MAY_MISS, err);
      free(name);
    }
  }
  free(idx);
  return rc;
}

/* The value of one part for day number z. */
static double date_part(int64_t z, int part)
{
  int64_t y, m, d;
  keel_civil_from_days(z, &y, &m, &d);
  switch (part) {
  case PART_YEAR: return (double)y;
  case PART_MONTH: return (double)m;
  case PART_DAY: return (double)d;
  case PART_DOW: return (double)(z + 3 - keel_floordiv(z + 3, 7) * 7);
  case PART_DOY: return (double)(z - keel_days_from_civil(y, 1, 1) + 1);
  case PART_QUARTER: return (double)((m - 1) / 3 + 1);
  }
  return 0.0;
}

/* Appends the parts of date column src to t. */
static int date_expand(const keel_host *host, const keel_value *params,
                       void *ctx, keel_table *t, const keel_column *src,
                       keel_column *dst_date, size_t k, keel_error *err)
{
  (void)dst_date;
  (void)k;
  const int *codes = ctx;
  for (size_t r = 0; r < t->n_rows; r++)
    if (!keel_tx_is_missing(src, r) && !(fabs(src->num[r]) <= MAX_ABS_DAYS))
      return host->fail(err, KEEL_EDATA,
                        "column '%s' row %zu: %g is not a day number "
                        "within 1e9 days of 1970-01-01",
                        src->name, r + 1, src->num[r]);
  for (size_t i = 0; i < params[P_PARTS].n; i++) {
    char *name = date_name(src->name, part_names[codes[i]]);
    if (name == NULL)
      return host->fail(err, KEEL_ENOMEM, "out of memory");
    keel_column *dst = host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err);
    free(name);
    if (dst == NULL)
      return keel_tx_code(err);
    for (size_t r = 0; r < t->n_rows; r++) {
      if (keel_tx_is_missing(src, r)) {
        dst->missing[r] = 1;
        continue;
      }
      dst->num[r] = date_part((int64_t)floor(src->num[r]), codes[i]);
    }
  }
  return KEEL_OK;
}

static int date_apply(const keel_host *host, const keel_value *params,
                      const keel_state *state, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  (void)state;
  int codes[N_PARTS];
  int rc = date_parts(host, params, codes, err);
  if (rc != KEEL_OK)
    return rc;
  return keel_tx_apply_selected(host, WHO, params, &params[P_COLUMNS], in,
                                ACCEPTS, "date", params[P_KEEP].i != 0,
                                date_expand, codes, out, err);
}

static const keel_transform_api date_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = date_schema,
    .fit = NULL, /* stateless */
    .apply = date_apply,
};

static const keel_plugin date_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "date",
    .version = "1.0.0",
    .summary = "expand date columns into numeric parts (year, month, ...)",
    .license = "MIT",
    .params = date_params,
    .n_params = KEEL_COUNT(date_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &date_api,
};

KEEL_PLUGIN_DEFINE(date_plugin)
