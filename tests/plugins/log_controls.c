/* Valid transform "noisy" 1.0.0 whose init logs text full of control
 * bytes (an escape sequence that would set the terminal's title, a bell, a
 * carriage return that would overwrite the line). The host passes log text
 * on unchanged; the CLI must print it escaped (tests/e2e/test_plugins_cli). */
#include <keel/keel.h>

static int noisy_init(const keel_host *host, keel_error *err)
{
  (void)err;
  host->log(KEEL_LOG_WARN, "noisy: \033]0;pwned\007 title\rforged %s", "line");
  return KEEL_OK;
}

static int noisy_schema(const keel_host *host, const keel_value *params,
                        const keel_schema *in, keel_schema *out,
                        keel_error *err)
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

static int noisy_apply(const keel_host *host, const keel_value *params,
                       const keel_state *state, const keel_table *in,
                       keel_table **out, keel_error *err)
{
  (void)params, (void)state;
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    return host->fail(err, KEEL_ENOMEM, "noisy: out of memory");
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
    .schema = noisy_schema,
    .fit = NULL,
    .apply = noisy_apply,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "noisy",
    .version = "1.0.0",
    .summary = "identity transform that logs control bytes when loaded",
    .init = noisy_init,
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
