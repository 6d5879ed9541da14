/* Valid on its own: transform "twin" 1.1.0. dup_a.c and dup_b.c
 * declare the same kind and name; put both in one folder and the loader
 * must refuse the second ("duplicate", naming both files) rather than pick
 * one by accident. */
#include <keel/keel.h>

static int twin_schema(const keel_host *host, const keel_value *params,
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

static int twin_apply(const keel_host *host, const keel_value *params,
                      const keel_state *state, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  (void)params, (void)state;
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    return host->fail(err, KEEL_ENOMEM, "twin: out of memory");
  for (size_t c = 0; c < in->n_cols; c++)
    if (host->table_copy_column(t, &in->cols[c], err) == NULL) {
      host->table_free(t);
      return KEEL_ENOMEM;
    }
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = twin_schema,
    .fit = NULL,
    .apply = twin_apply,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "twin",
    .version = "1.1.0",
    .summary = "identity transform, copy b of two with the same name",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
