/* Writing catalog text (catalog.h): the one place that formats an entry,
 * for `keel data add` and for the entry a run seals into its bundle. */
#include "config/catalog.h"

#include <string.h>

#include "base/status.h"
#include "base/url.h"
#include "plugin/table.h"

void keel_catalog_put_value(keel_buf *b, const char *key, const char *value)
{
  keel_buf_printf(b, "%s =", key);
  size_t col = strlen(key) + 2;
  const char *p = value;
  int first = 1;
  while (*p) {
    /* Cut at ", " (kept on the line before) or, in prose, at a blank, so
     * no line passes the INI limit and reading joins the pieces back. */
    const char *comma = strstr(p, ", ");
    const char *blank = strchr(p, ' ');
    size_t len = comma ? (size_t)(comma - p) + 1 : strlen(p);
    if (col + 1 + len > 150 && blank && blank - p < (long)len)
      len = (size_t)(blank - p);
    if (!first && col + 1 + len > 150) {
      keel_buf_printf(b, "\n ");
      col = 1;
    }
    keel_buf_printf(b, " %.*s", (int)len, p);
    col += 1 + len;
    p += len;
    while (*p == ' ')
      p++;
    first = 0;
  }
  keel_buf_printf(b, "\n");
}

int keel_catalog_entry_write(keel_buf *b, const keel_catalog_entry *e,
                             const char *location)
{
  char shown[2048];
  if (!location &&
      (e->scheme == KEEL_LOCATION_HTTP || e->scheme == KEEL_LOCATION_HTTPS))
    location = keel_url_printable(e->location, shown, sizeof shown);
  keel_buf_printf(b, "[%s]\n", e->id);
  keel_catalog_put_value(b, "location", location ? location : e->location);
  keel_buf_printf(b, "plugin = %s\n", e->plugin);
  for (size_t i = 0; i < e->n_options; i++) {
    keel_buf_printf(b, "option.");
    keel_catalog_put_value(b, e->options[i].key, e->options[i].value);
  }
  keel_buf_printf(b, "sha256 = %s\nrows = %llu\n", e->sha256,
                  (unsigned long long)e->rows);
  keel_buf schema = KEEL_BUF_INIT;
  for (size_t c = 0; c < e->n_columns; c++)
    keel_buf_printf(&schema, "%s%s:%s%s", c ? ", " : "", e->columns[c].name,
                    keel_col_type_name(e->columns[c].type),
                    e->columns[c].label ? ":label" : "");
  if (schema.failed) {
    keel_buf_free(&schema);
    return KEEL_ENOMEM;
  }
  if (schema.len)
    keel_catalog_put_value(b, "schema", (const char *)schema.data);
  keel_buf_free(&schema);
  if (e->owner)
    keel_catalog_put_value(b, "owner", e->owner);
  keel_buf_printf(b, "scope = %s\nauth = %s%s%s\n",
                  keel_data_scope_name(e->scope),
                  keel_auth_method_name(e->auth), e->auth_ref ? ":" : "",
                  e->auth_ref ? e->auth_ref : "");
  keel_buf_printf(b, "as_of = %s\n", e->as_of);
  if (e->max_age_days)
    keel_buf_printf(b, "max_age_days = %u\n", e->max_age_days);
  if (e->license)
    keel_catalog_put_value(b, "license", e->license);
  if (e->intended_use)
    keel_catalog_put_value(b, "intended_use", e->intended_use);
  if (e->legal_basis)
    keel_catalog_put_value(b, "legal_basis", e->legal_basis);
  if (e->description && e->description[0])
    keel_catalog_put_value(b, "description", e->description);
  return b->failed ? KEEL_ENOMEM : KEEL_OK;
}
