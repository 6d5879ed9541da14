/* catalog: the versioned data catalog (docs/data-access.md).
 *
 * A catalog is an INI file. Its first section is `[catalog]` with
 * `format = 1`; every other section is one dataset version, named
 * `NAME@MAJOR.MINOR.PATCH`, holding where the bytes are (location), which
 * source plugin reads them and with what options, the SHA-256 of the bytes
 * as stored, the row count and schema, and its governance facts (owner,
 * access scope, authentication method, as-of date, maximum age, licence,
 * description). A version, once written, is never rewritten: a change is a
 * new version. Loading checks every entry and refuses the first problem as
 * "FILE:LINE: [NAME@VERSION] KEY: what; expected ..." (KEEL_EINVAL). */
#ifndef KEEL_CONFIG_CATALOG_H
#define KEEL_CONFIG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buffer.h"
#include "base/semver.h"
#include "keel/data.h"
#include "keel/error.h"

/* Where an entry's bytes are. */
typedef enum keel_location_scheme {
  KEEL_LOCATION_FILE = 1, /* file:PATH (relative to the catalog's folder) */
  KEEL_LOCATION_HTTP,     /* http://... */
  KEEL_LOCATION_HTTPS,    /* https://... */
  KEEL_LOCATION_SQLITE    /* sqlite:PATH (as file:) */
} keel_location_scheme;

/* Who may read an entry (the policy of docs/data-access.md decides). */
typedef enum keel_data_scope {
  KEEL_SCOPE_PUBLIC = 1,
  KEEL_SCOPE_INTERNAL,
  KEEL_SCOPE_RESTRICTED,
  KEEL_SCOPE_PII
} keel_data_scope;

/* How a fetch authenticates; secrets are named, never written here. */
typedef enum keel_auth_method {
  KEEL_AUTH_NONE = 1,
  KEEL_AUTH_NETRC,      /* ~/.netrc (or $NETRC) */
  KEEL_AUTH_BEARER_ENV, /* bearer-env:VAR: the token in variable VAR */
  KEEL_AUTH_HEADER_FILE /* header-file:PATH: "Name: value" lines */
} keel_auth_method;

typedef struct keel_catalog_column {
  char *name;
  keel_col_type type;
  int label; /* the label column (at most one per entry) */
} keel_catalog_column;

/* One `option.KEY = VALUE` line: a parameter of the source plugin. */
typedef struct keel_catalog_option {
  char *key;
  char *value;
  int line;
} keel_catalog_option;

typedef struct keel_catalog_entry {
  char *id;      /* "penguins@1.0.0" */
  char *name;    /* "penguins" */
  char *version; /* "1.0.0" */
  keel_semver semver;
  int line; /* of the section header */

  char *location; /* as written */
  keel_location_scheme scheme;
  char *path; /* file: and sqlite: resolved against the catalog's folder;
                 NULL for http(s) */
  char *plugin;
  keel_catalog_option *options;
  size_t n_options;
  char sha256[65];
  uint64_t rows;
  keel_catalog_column *columns;
  size_t n_columns;

  char *owner;
  keel_data_scope scope;
  keel_auth_method auth;
  char *auth_ref;     /* VAR or PATH of bearer-env: / header-file:, else NULL */
  char *as_of;        /* YYYY-MM-DD */
  int32_t as_of_days; /* days since 1970-01-01 */
  uint32_t max_age_days; /* 0: no maximum */
  char *license;
  char *description; /* "" when absent */
  char *stats;       /* per-column statistics (`keel data add`), resolved like
                        a file: location; NULL when absent */
  char stats_sha256[65]; /* the statistics file's SHA-256; "" when absent */
  char *intended_use;    /* what the data may be used for; NULL when absent */
  char *legal_basis;     /* consent or legal basis; required for scope pii */
} keel_catalog_entry;

typedef struct keel_catalog {
  char *path;                  /* as given (messages) */
  char *dir;                   /* its folder, for relative locations */
  keel_catalog_entry *entries; /* sorted by name, then version */
  size_t n_entries;
} keel_catalog;

/* Reads and checks a whole catalog. On failure *out is NULL. */
int keel_catalog_load(const char *path, keel_catalog **out, keel_error *err);
/* The same for bytes in memory; `path` names them and anchors relative
 * locations (the fuzz target and tests). */
int keel_catalog_parse(const char *path, const char *text, size_t size,
                       keel_catalog **out, keel_error *err);
void keel_catalog_free(keel_catalog *c);

/* The entry a reference names: "NAME" (its newest version), "NAME@V" or
 * "NAME@RANGE" (the newest version the semver range admits, the grammar
 * of base/semver.h: "penguins@^1", "penguins@>=1.1 <2"). KEEL_ENOTFOUND
 * naming what exists when no entry matches; KEEL_EINVAL for a malformed
 * reference. */
int keel_catalog_find(const keel_catalog *c, const char *ref,
                      const keel_catalog_entry **out, keel_error *err);

/* Reads an `auth` value (none, netrc, bearer-env:VAR, header-file:PATH);
 * *ref gets VAR or PATH (malloc'd) or NULL. KEEL_EINVAL saying what was
 * expected. */
int keel_catalog_auth_parse(const char *text, keel_auth_method *method,
                            char **ref, keel_error *err);

/* ---- writing (catalog_write.c) ---- */

/* Appends "KEY = VALUE\n", VALUE cut into indented continuation lines
 * (after ", " or at a blank) so no line passes the INI line limit and
 * reading it back gives VALUE. */
void keel_catalog_put_value(keel_buf *b, const char *key, const char *value);

/* Appends entry e as one catalog section that reads back as e; location,
 * when not NULL, replaces e->location (a run seals its entry with the
 * absolute path it read). An http(s) location is written printable
 * (base/url.h): no user information or query. KEEL_OK or KEEL_ENOMEM. */
int keel_catalog_entry_write(keel_buf *b, const keel_catalog_entry *e,
                             const char *location);

const char *keel_data_scope_name(keel_data_scope scope);
const char *keel_auth_method_name(keel_auth_method auth);
const char *keel_location_scheme_name(keel_location_scheme scheme);

#endif
