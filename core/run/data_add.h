/* data_add: `keel data add` (docs/data-access.md, "Adding a version").
 *
 * Reads a file (or fetches a URL into the data cache) through its source
 * plugin, exactly as a run would, and appends a new catalog version that
 * records what was read: the SHA-256 of the bytes as stored, the row
 * count, the schema, and per-column statistics (a JSON file beside the
 * catalog, kept for the drift check of the data-checks issue). The
 * catalog grows only by appending: existing bytes are never rewritten,
 * the new text is parsed with the rest before the file is replaced
 * atomically, and a lock (CATALOG.lock) serialises concurrent adds. */
#ifndef KEEL_RUN_DATA_ADD_H
#define KEEL_RUN_DATA_ADD_H

#include <stddef.h>
#include <stdint.h>

#include "data/fetch_http.h"
#include "keel/error.h"

typedef struct keel_data_add_request {
  const char *catalog_path; /* created (with its [catalog] header) if absent */
  const char *source;       /* a file path, or an http(s) URL */
  const char *name;         /* the dataset name */
  const char *version;      /* NULL: one minor above the newest, or 1.0.0 */
  const char *plugin;       /* NULL: by extension (.csv[.gz] csv,
                               .libsvm/.svm libsvm) */
  const char *const *options; /* "KEY=VALUE" plugin parameters */
  size_t n_options;
  const char *label; /* the label column, or NULL */
  const char *owner, *scope, *license;
  const char *as_of;       /* NULL: today (UTC) */
  const char *description; /* NULL: none */
  const char *auth;        /* NULL: none; as the catalog's auth key */
  uint32_t max_age_days;   /* 0: none */
  const char *cache_root;  /* where a fetched URL is kept */
  keel_fetch_options fetch;
  const char *const *plugin_paths; /* --plugin-path entries */
  size_t n_plugin_paths;
} keel_data_add_request;

typedef struct keel_data_add_result {
  char id[96]; /* "NAME@VERSION" */
  char sha256[65];
  uint64_t rows;
  size_t n_columns;
  char *stats_path; /* malloc'd */
} keel_data_add_result;

/* Adds the version. KEEL_EINVAL (exit 2) for a request the catalog or the
 * plugin refuses (a version that exists or is not newer... named), the
 * codes of the read for data problems (exit 1). */
int keel_data_add(const keel_data_add_request *req, keel_data_add_result *out,
                  keel_error *err);

#endif
