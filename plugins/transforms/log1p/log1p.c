/* log1p: y = log1p(x) = ln(1 + x) (C99 libm, accurate near 0) on numeric
 * columns. A value x <= -1 has no finite result: by default it stops the
 * run naming the column, the row and the value (invalid=error); with
 * invalid=missing the row becomes missing (and the column is declared
 * MAY_MISS). NaN passes through as NaN; missing rows stay missing.
 * Stateless: no fit, nothing stored. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "log1p"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum { P_COLUMNS, P_INVALID, P_COUNT };
enum { I_ERROR, I_MISSING };
static const char *const invalid_choices[] = {"error", "missing", NULL};

static const keel_param_decl log1p_params[] = {
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to transform (empty: all numeric)"),
    [P_INVALID] = KEEL_P_ENUM("invalid", "error", invalid_choices,
                              "a value <= -1: error, or make it missing"),
};
KEEL_PARAMS_MATCH(log1p_params, P_COUNT);

static int log1p_schema(const keel_host *host, const keel_value *params,
                        const keel_schema *in, keel_schema *out,
                        keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  int rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                          &idx, &n, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    uint32_t flags = in->cols[c].flags;
    if (k < n && idx[k] == c) {
      k++;
      if (params[P_INVALID].i == I_MISSING)
        flags |= KEEL_COL_MAY_MISS;
    }
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type, flags, err);
  }
  free(idx);
  return rc;
}

/* ln(1 + x) of the non-missing rows of dst, the copy of src. */
static int log1p_column(const keel_host *host, const keel_value *params,
                        void *ctx, keel_table *t, const keel_column *src,
                        keel_column *dst, size_t k, keel_error *err)
{
  (void)ctx;
  (void)k;
  for (size_t r = 0; r < t->n_rows; r++) {
    if (keel_tx_is_missing(src, r))
      continue;
    double x = src->num[r];
    if (x <= -1.0) {
      if (params[P_INVALID].i == I_ERROR)
        return host->fail(err, KEEL_EDATA,
                          "column '%s' row %zu: value %.17g is <= -1, "
                          "where log1p has no finite value (set "
                          "invalid=missing, or clip first)",
                          src->name, r + 1, x);
      dst->num[r] = 0.0; /* no -inf/NaN left behind a missing row */
      dst->missing[r] = 1;
      continue;
    }
    dst->num[r] = log1p(x);
  }
  return KEEL_OK;
}

static int log1p_apply(const keel_host *host, const keel_value *params,
                       const keel_state *state, const keel_table *in,
                       keel_table **out, keel_error *err)
{
  (void)state;
  return keel_tx_apply_selected(host, WHO, params, &params[P_COLUMNS], in,
                                ACCEPTS, "numeric", 1, log1p_column, NULL, out,
                                err);
}

static const keel_transform_api log1p_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = log1p_schema,
    .fit = NULL, /* stateless */
    .apply = log1p_apply,
};

static const keel_plugin log1p_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "log1p",
    .version = "1.0.0",
    .summary = "ln(1 + x) of numeric columns",
    .license = "MIT",
    .params = log1p_params,
    .n_params = KEEL_COUNT(log1p_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &log1p_api,
};

KEEL_PLUGIN_DEFINE(log1p_plugin)
