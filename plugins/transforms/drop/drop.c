/* drop: remove the named columns; the others pass through in order. Every
 * name must be a column of the input (KEEL_ESCHEMA otherwise, at
 * `keel check` time), so a typo never silently keeps a column (a free-text
 * `name` column, say). Stateless: no fit, nothing stored. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "drop"

enum { P_COLUMNS, P_COUNT };

static const keel_param_decl drop_params[] = {
    [P_COLUMNS] = {.name = "columns",
                   .type = KEEL_PARAM_STRING_LIST,
                   .flags = KEEL_PARAM_REQUIRED,
                   .doc = "columns to remove"},
};
KEEL_PARAMS_MATCH(drop_params, P_COUNT);

/* keep[c] = 1 for the columns of v that are not named; each name must
 * exist and be named once. *keep is malloc'd; caller frees. */
static int drop_resolve(const keel_host *host, const keel_value *params,
                        const keel_tx_cols *v, uint8_t **keep, keel_error *err)
{
  const keel_value *cols = &params[P_COLUMNS];
  *keep = NULL;
  int rc = keel_tx_check_unique(host, "columns", cols, err);
  if (rc != KEEL_OK)
    return rc;
  uint8_t *k = malloc(v->n ? v->n : 1);
  keel_name_pos *sorted = keel_tx_cols_sorted(v);
  if (k == NULL || sorted == NULL) {
    free(k);
    free(sorted);
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  }
  memset(k, 1, v->n ? v->n : 1);
  for (size_t i = 0; i < cols->n; i++) {
    long c = keel_names_find(sorted, v->n, cols->strings[i]);
    if (c < 0) {
      free(k);
      free(sorted);
      return keel_tx_fail_unknown(host, cols->strings[i], v, err);
    }
    k[c] = 0;
  }
  free(sorted);
  *keep = k;
  return KEEL_OK;
}

static int drop_schema(const keel_host *host, const keel_value *params,
                       const keel_schema *in, keel_schema *out, keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  uint8_t *keep = NULL;
  int rc = drop_resolve(host, params, &v, &keep, err);
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++)
    if (keep[c])
      rc = host->schema_add(out, in->cols[c].name, in->cols[c].type,
                            in->cols[c].flags, err);
  free(keep);
  return rc;
}

static int drop_apply(const keel_host *host, const keel_value *params,
                      const keel_state *state, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(in);
  uint8_t *keep = NULL;
  int rc = drop_resolve(host, params, &v, &keep, err);
  if (rc != KEEL_OK)
    return rc;
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++)
    if (keep[c] && host->table_copy_column(t, &in->cols[c], err) == NULL)
      rc = keel_tx_code(err);
  free(keep);
  if (rc != KEEL_OK) {
    if (t != NULL)
      host->table_free(t);
    return rc;
  }
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api drop_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = drop_schema,
    .fit = NULL, /* stateless */
    .apply = drop_apply,
};

static const keel_plugin drop_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "drop",
    .version = "1.0.0",
    .summary = "remove the named columns",
    .license = "MIT",
    .params = drop_params,
    .n_params = KEEL_COUNT(drop_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &drop_api,
};

KEEL_PLUGIN_DEFINE(drop_plugin)
