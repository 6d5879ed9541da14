/* plugin-test fixture: nondeterministic_fit, a centring transform whose
 * fit adds a static call counter to the mean it stores, so two fits on the
 * same rows give different states. SDK only. */
#include <string.h>

#include <keel/keel.h>

static unsigned kit_fits; /* the bug: state that outlives a fit */

static int kit_schema(const keel_host *host, const keel_value *params,
                      const keel_schema *in, keel_schema *out, keel_error *err)
{
  (void)params;
  for (size_t c = 0; c < in->n_cols; c++) {
    int rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                              in->cols[c].flags, err);
    if (rc != KEEL_OK)
      return rc;
  }
  return KEEL_OK;
}

static int kit_fit(const keel_host *host, const keel_value *params,
                   const keel_table *train, keel_state *state, keel_error *err)
{
  (void)params;
  double *mean =
      host->alloc_zero(train->n_cols ? train->n_cols : 1, sizeof *mean);
  if (!mean)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t c = 0; c < train->n_cols; c++) {
    const keel_column *col = &train->cols[c];
    if (col->type != KEEL_COL_NUMERIC)
      continue;
    size_t n = 0;
    for (size_t r = 0; r < train->n_rows; r++)
      if (!col->missing[r]) {
        mean[c] += col->num[r];
        n++;
      }
    mean[c] = n ? mean[c] / (double)n : 0.0;
    mean[c] += (double)kit_fits;
  }
  kit_fits++;
  int rc = host->state_put_f64(state, "mean", mean, train->n_cols, err);
  host->free(mean);
  return rc;
}

static int kit_apply(const keel_host *host, const keel_value *params,
                     const keel_state *state, const keel_table *in,
                     keel_table **out, keel_error *err)
{
  (void)params;
  const double *mean;
  size_t n;
  int rc = host->state_get_f64(state, "mean", &mean, &n, err);
  if (rc != KEEL_OK)
    return rc;
  if (n != in->n_cols)
    return host->fail(err, KEEL_ESCHEMA, "fitted on %zu columns, given %zu", n,
                      in->n_cols);
  keel_table *t = host->table_new(in->n_rows);
  if (!t)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t c = 0; c < in->n_cols; c++) {
    keel_column *dst = host->table_copy_column(t, &in->cols[c], err);
    if (!dst) {
      host->table_free(t);
      return KEEL_ENOMEM;
    }
    if (dst->type != KEEL_COL_NUMERIC)
      continue;
    for (size_t r = 0; r < in->n_rows; r++)
      if (!dst->missing[r])
        dst->num[r] -= mean[c];
  }
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api kit_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = kit_schema,
    .fit = kit_fit,
    .apply = kit_apply,
};

static const keel_plugin kit_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "kit_nondeterministic_fit",
    .version = "1.0.0",
    .summary = "centres numeric columns, badly: its fit keeps a counter",
    .license = "MIT",
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &kit_api,
};

KEEL_PLUGIN_DEFINE(kit_plugin)
