/* dataset: data named by a catalog entry (docs/data-access.md, "Datasets
 * in a manifest").
 *
 * `[source] dataset = NAME@RANGE` (or the override source.dataset=...)
 * takes the place of `plugin` and `path`: the newest catalog version the
 * range admits names the source plugin and its options, and the plugin's
 * `path` parameter gets the entry's id ("penguins@1.0.0"), which the
 * data layer's access shim maps to the bytes (data/access.h). The id, not
 * a file path or URL, is what config.json and lineage.json record, so the
 * same bytes from a file, a server or the cache give one result digest.
 *
 * Which catalog: the command line's --catalog (replay: the entry sealed in
 * the bundle) > the manifest's [keel] catalog (relative to the manifest)
 * > the `catalog` setting (KEEL_CATALOG > config.ini > the default,
 * config/settings.h). */
#ifndef KEEL_CONFIG_DATASET_H
#define KEEL_CONFIG_DATASET_H

#include "base/buffer.h"
#include "config/catalog.h"
#include "config/ini.h"
#include "keel/error.h"

/* The catalog a run looks datasets up in, and why that one. */
typedef struct keel_catalog_choice {
  char *path;   /* the catalog file */
  char *origin; /* "--catalog", "[keel] catalog (m.ini:9)", "KEEL_CATALOG",
                   "config.ini:4 ([data] catalog)", "default" */
} keel_catalog_choice;

/* Fills *out by the precedence above: flag (may be NULL), the manifest's
 * [keel] catalog entry (may be NULL) whose relative path is taken from
 * manifest_dir, then the settings. KEEL_EINVAL for a config.ini that does
 * not read (settings.h). */
int keel_catalog_choose(const char *flag, const char *manifest_path,
                        const char *manifest_dir, const keel_ini_entry *key,
                        keel_catalog_choice *out, keel_error *err);
void keel_catalog_choice_free(keel_catalog_choice *c);

/* The version a run reads. */
typedef struct keel_dataset {
  char *ref;             /* "penguins@^1" as written */
  char *where;           /* "penguins.ini:20" or "command line" */
  char *catalog_path;    /* the catalog file read */
  char *catalog_origin;  /* why that file (keel_catalog_choice.origin) */
  keel_catalog *catalog; /* owned */
  const keel_catalog_entry *entry; /* the version resolved, in catalog */
} keel_dataset;

/* Loads the chosen catalog and finds ref in it. KEEL_ENOTFOUND for a
 * catalog that does not exist or has no match (the message names the
 * catalog, why it was chosen, and what it holds), KEEL_EINVAL for a
 * malformed reference or catalog. `where` is copied. */
int keel_dataset_resolve(const char *ref, const char *where,
                         const keel_catalog_choice *choice, keel_dataset **out,
                         keel_error *err);
void keel_dataset_free(keel_dataset *d);

/* A catalog of one appended to b: d's entry with its absolute location
 * (and statistics), and the entry drift_reference names when that is
 * another (NULL or "": none). What a bundle's dataset.ini and a sweep's
 * plan/dataset.ini hold, so replay and trials look the dataset up there.
 * 0 or KEEL_ENOMEM. */
int keel_dataset_catalog_text(const keel_dataset *d,
                              const char *drift_reference, keel_buf *b);

#endif
