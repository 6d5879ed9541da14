/* clamp: a keel transform that limits numeric columns to [lo, hi].
 *
 * This file is the plugin template: copy the folder, rename the file, the
 * target and the descriptor's name, and replace the arithmetic. It shows
 * every part of the contract a transform needs:
 *   - one static parameter table (defaults, ranges, docs in one line each);
 *   - `schema`, which says what the output looks like before any data is
 *     read (so `keel check` catches a bad pipeline in milliseconds);
 *   - `apply`, which builds a new table through the host services;
 *   - errors through host->fail(), never printing or exiting;
 *   - no mutable globals: everything lives in const tables or on the stack.
 * It is stateless, so `fit` is NULL; see docs/plugin-guide.md for a
 * transform that keeps fitted state. Include only <keel/keel.h> and libc. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <keel/keel.h>

/* Parameter indices: the host passes values in declaration order. */
enum { P_LO, P_HI, P_COLUMNS, P_COUNT };

static const keel_param_decl clamp_params[P_COUNT] = {
    [P_LO] = KEEL_P_FLOAT("lo", -3.0, -INFINITY, INFINITY, 0, NULL,
                          "smallest value kept; lower values become lo"),
    [P_HI] = KEEL_P_FLOAT("hi", 3.0, -INFINITY, INFINITY, 0, NULL,
                          "largest value kept; higher values become hi"),
    [P_COLUMNS] = KEEL_P_STRING_LIST("columns", "",
                                     "numeric columns to clamp (empty: all)"),
};

/* True when column `name` is selected by the `columns` parameter. */
static int clamp_selected(const keel_value *params, const char *name)
{
  const keel_value *cols = &params[P_COLUMNS];
  if (cols->n == 0)
    return 1;
  for (size_t i = 0; i < cols->n; i++)
    if (strcmp(cols->strings[i], name) == 0)
      return 1;
  return 0;
}

/* Checks what the parameter table cannot express on its own: lo <= hi. */
static int clamp_check_params(const keel_host *host, const keel_value *params,
                              keel_error *err)
{
  if (!(params[P_LO].f <= params[P_HI].f))
    return host->fail(err, KEEL_EINVAL,
                      "clamp: lo (%g) must not be greater than hi (%g)",
                      params[P_LO].f, params[P_HI].f);
  return KEEL_OK;
}

/* Output schema = input schema; a selected column must be numeric. */
static int clamp_schema(const keel_host *host, const keel_value *params,
                        const keel_schema *in, keel_schema *out,
                        keel_error *err)
{
  int rc = clamp_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  /* Every name in `columns` must exist: a typo is an error, not a no-op. */
  for (size_t k = 0; k < params[P_COLUMNS].n; k++) {
    const char *want = params[P_COLUMNS].strings[k];
    size_t c = 0;
    while (c < in->n_cols && strcmp(in->cols[c].name, want) != 0)
      c++;
    if (c == in->n_cols)
      return host->fail(err, KEEL_ESCHEMA,
                        "clamp: column '%s' (in columns) is not in the input",
                        want);
  }
  for (size_t c = 0; c < in->n_cols; c++) {
    const keel_column_schema *col = &in->cols[c];
    int selected = clamp_selected(params, col->name);
    if (selected && params[P_COLUMNS].n > 0 && col->type != KEEL_COL_NUMERIC)
      return host->fail(err, KEEL_ESCHEMA, "clamp: column '%s' is not numeric",
                        col->name);
    rc = host->schema_add(out, col->name, col->type, col->flags, err);
    if (rc != KEEL_OK)
      return rc;
  }
  return KEEL_OK;
}

/* Clamps one value; NaN stays NaN (a missing-value policy is another
 * transform's job, and hiding NaN here would hide a data problem). */
static double clamp_value(double v, double lo, double hi)
{
  if (v < lo)
    return lo;
  if (v > hi)
    return hi;
  return v;
}

static int clamp_apply(const keel_host *host, const keel_value *params,
                       const keel_state *state, const keel_table *in,
                       keel_table **out, keel_error *err)
{
  (void)state; /* stateless: fit is NULL, the state is empty */
  int rc = clamp_check_params(host, params, err);
  if (rc != KEEL_OK)
    return rc;
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    return host->fail(err, KEEL_ENOMEM, "clamp: out of memory");
  double lo = params[P_LO].f, hi = params[P_HI].f;
  for (size_t c = 0; c < in->n_cols; c++) {
    const keel_column *src = &in->cols[c];
    /* Copy first, then edit the copy: the input is borrowed, never
     * written. */
    keel_column *dst = host->table_copy_column(t, src, err);
    if (dst == NULL) {
      /* table_copy_column set err; only ENOMEM is possible here, since
       * the input's column names are already unique. */
      host->table_free(t);
      return KEEL_ENOMEM;
    }
    if (src->type != KEEL_COL_NUMERIC || !clamp_selected(params, src->name))
      continue;
    for (size_t r = 0; r < t->n_rows; r++)
      if (!dst->missing[r])
        dst->num[r] = clamp_value(dst->num[r], lo, hi);
  }
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api clamp_api = {
    .struct_size = sizeof(keel_transform_api),
    .schema = clamp_schema,
    .fit = NULL, /* stateless: nothing to learn from the training split */
    .apply = clamp_apply,
};

static const keel_plugin clamp_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "clamp",
    .version = "0.1.0",
    .summary = "limit numeric columns to [lo, hi]",
    .license = "MIT",
    .params = clamp_params,
    .n_params = KEEL_COUNT(clamp_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &clamp_api,
};

KEEL_PLUGIN_DEFINE(clamp_plugin)
