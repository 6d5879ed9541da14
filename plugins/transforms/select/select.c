/* select: keep only the named columns, in the order `columns` lists them
 * (so it can also reorder). Every name must be a column of the input
 * (KEEL_ESCHEMA otherwise, at `keel check` time); a name listed twice is
 * refused. Stateless: no fit, nothing stored. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "select"

enum { P_COLUMNS, P_COUNT };

static const keel_param_decl select_params[] = {
    [P_COLUMNS] = {.name = "columns",
                   .type = KEEL_PARAM_STRING_LIST,
                   .flags = KEEL_PARAM_REQUIRED,
                   .doc = "columns to keep, in output order"},
};
KEEL_PARAMS_MATCH(select_params, P_COUNT);

/* Positions of the named columns in v, in the order named; each must exist
 * and be named once. *pos is malloc'd; caller frees. */
static int select_resolve(const keel_host *host, const keel_value *params,
                          const keel_tx_cols *v, size_t **pos, keel_error *err)
{
  const keel_value *cols = &params[P_COLUMNS];
  *pos = NULL;
  if (cols->n == 0)
    return host->fail(err, KEEL_EINVAL,
                      "columns is empty; name at least one column");
  int rc = keel_tx_check_unique(host, "columns", cols, err);
  if (rc != KEEL_OK)
    return rc;
  size_t *p = malloc(cols->n * sizeof *p);
  keel_name_pos *sorted = keel_tx_cols_sorted(v);
  if (p == NULL || sorted == NULL) {
    free(p);
    free(sorted);
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < cols->n; k++) {
    long c = keel_names_find(sorted, v->n, cols->strings[k]);
    if (c < 0) {
      free(p);
      free(sorted);
      return keel_tx_fail_unknown(host, cols->strings[k], v, err);
    }
    p[k] = (size_t)c;
  }
  free(sorted);
  *pos = p;
  return KEEL_OK;
}

static int select_schema(const keel_host *host, const keel_value *params,
                         const keel_schema *in, keel_schema *out,
                         keel_error *err)
{
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *pos = NULL;
  int rc = select_resolve(host, params, &v, &pos, err);
  for (size_t k = 0; rc == KEEL_OK && k < params[P_COLUMNS].n; k++) {
    const keel_column_schema *c = &in->cols[pos[k]];
    rc = host->schema_add(out, c->name, c->type, c->flags, err);
  }
  free(pos);
  return rc;
}

static int select_apply(const keel_host *host, const keel_value *params,
                        const keel_state *state, const keel_table *in,
                        keel_table **out, keel_error *err)
{
  keel_tx_cols v = keel_tx_table_cols(in);
  size_t *pos = NULL;
  int rc = select_resolve(host, params, &v, &pos, err);
  if (rc != KEEL_OK)
    return rc;
  keel_table *t = host->table_new(in->n_rows);
  if (t == NULL)
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t k = 0; rc == KEEL_OK && k < params[P_COLUMNS].n; k++)
    if (host->table_copy_column(t, &in->cols[pos[k]], err) == NULL)
      rc = keel_tx_code(err);
  free(pos);
  if (rc != KEEL_OK) {
    if (t != NULL)
      host->table_free(t);
    return rc;
  }
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api select_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = select_schema,
    .fit = NULL, /* stateless */
    .apply = select_apply,
};

static const keel_plugin select_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "select",
    .version = "1.0.0",
    .summary = "keep only the named columns, in the order named",
    .license = "MIT",
    .params = select_params,
    .n_params = KEEL_COUNT(select_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &select_api,
};

KEEL_PLUGIN_DEFINE(select_plugin)
