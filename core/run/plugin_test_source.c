/* The kit's source property: the schema a source declares (what `keel
 * check` propagates) is the schema of the table `read` gives, on the
 * sample data the plugin's test fixture names, or on its defaults. */
#include <string.h>

#include "plugin/table.h"
#include "run/plugin_test_internal.h"

int pt_source(pt_ctx *c)
{
  if (!pt_wanted(c, "source.schema_matches"))
    return 0;
  const keel_source_api *api = c->plugin->api;
  keel_schema declared, actual;
  keel_schema_init(&declared);
  keel_schema_init(&actual);
  keel_table *t = NULL;
  keel_error e = {0};
  int rc;
  if (api->schema(&c->host, c->params, &declared, &e) != 0) {
    rc = pt_record(c, "source.schema_matches", KEEL_PT_FAIL,
                   "schema failed: %s", e.message);
    goto out;
  }
  memset(&e, 0, sizeof e);
  if (api->read(&c->host, c->params, &t, &e) != 0 || !t) {
    rc = pt_record(c, "source.schema_matches", KEEL_PT_FAIL,
                   "schema succeeded, read failed: %s",
                   e.message[0] ? e.message : "no table");
    goto out;
  }
  if ((rc = keel_table_schema(t, &actual, &e)) != 0)
    goto out;
  char buf[512];
  const char *why = pt_schema_diff(&declared, &actual, buf, sizeof buf);
  if (why) {
    rc = pt_record(c, "source.schema_matches", KEEL_PT_FAIL,
                   "schema and read disagree: %s", why);
    goto out;
  }
  rc = pt_record(c, "source.schema_matches", KEEL_PT_PASS,
                 "%zu columns, %zu rows: the names, types and flags schema "
                 "declared",
                 declared.n_cols, t->n_rows);
out:
  keel_schema_free(&declared);
  keel_schema_free(&actual);
  keel_table_free(t);
  return rc;
}
