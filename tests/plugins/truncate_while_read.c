/* Source "truncating" 1.0.0: opens its `path` through the host, then
 * truncates that file to zero bytes (by the path, as another process
 * would) and only then reads the content through input_view, touching
 * every byte. The host must answer with its "changed while this run was
 * reading it" error (at the view, or when the run settles the lineage
 * hash), never a fault (tests/e2e/test_truncated_while_read.sh). The path
 * must be absolute: the plugin truncates it as given. One row per byte of
 * what the view held: x = the byte, y = x / 2. */
#include <unistd.h>

#include <keel/keel.h>

enum { P_PATH, P_COUNT };

static const keel_param_decl params_decl[P_COUNT] = {
    KEEL_P_STRING("path", "", KEEL_PARAM_REQUIRED,
                  "absolute path of a file to open, truncate and read"),
};

static int truncating_schema(const keel_host *host, const keel_value *params,
                             keel_schema *out, keel_error *err)
{
  (void)params;
  int rc = host->schema_add(out, "x", KEEL_COL_NUMERIC, 0, err);
  return rc ? rc : host->schema_add(out, "y", KEEL_COL_NUMERIC, 0, err);
}

static int truncating_read(const keel_host *host, const keel_value *params,
                           keel_table **out, keel_error *err)
{
  keel_input *in = NULL;
  keel_table *t = NULL;
  int rc = host->input_open(host->ctx, params[P_PATH].s, &in, err);
  if (rc)
    return rc;
  if (truncate(params[P_PATH].s, 0) != 0) {
    rc = host->fail(err, KEEL_EIO, "truncating: cannot truncate %s",
                    params[P_PATH].s);
    goto out;
  }
  const char *data = NULL;
  size_t len = 0;
  if ((rc = host->input_view(in, &data, &len, err)))
    goto out;
  if (!(t = host->table_new(len))) {
    rc = host->fail(err, KEEL_ENOMEM, "truncating: out of memory");
    goto out;
  }
  keel_column *x = host->table_add(t, "x", KEEL_COL_NUMERIC, NULL, 0, err);
  keel_column *y =
      x ? host->table_add(t, "y", KEEL_COL_NUMERIC, NULL, 0, err) : NULL;
  if (!y) {
    rc = err && err->code ? err->code : KEEL_ENOMEM;
    goto out;
  }
  x = &t->cols[0]; /* table_add may have moved it */
  for (size_t i = 0; i < len; i++) {
    x->num[i] = (unsigned char)data[i];
    y->num[i] = x->num[i] / 2.0;
  }
  *out = t;
  t = NULL;
out:
  if (t)
    host->table_free(t);
  host->input_close(in);
  return rc;
}

static const keel_source_api api = {
    KEEL_SOURCE_API_HEADER,
    .schema = truncating_schema,
    .read = truncating_read,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "truncating",
    .version = "1.0.0",
    .summary = "opens its file, truncates it, then reads it (a test fixture)",
    .params = params_decl,
    .n_params = KEEL_COUNT(params_decl),
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
