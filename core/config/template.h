/* Templates: the versioned INI file that fixes the shape of a family of
 * runs (docs/manifest.md). Sections:
 *   [template]              name, version (semver), task, summary
 *   [slot.KIND]             allow = NAME [RANGE], NAME [RANGE], ...
 *                           (KIND: source, transform, model, loss,
 *                           optimizer; all but transform are required)
 *   [contract]              features = numeric, missing = forbidden|allowed,
 *                           finite = required|optional
 *   [checks]                min_rows, max_missing_fraction, min_class_count
 *   [defaults.data|train]   host parameter defaults
 *   [defaults.KIND.PLUGIN]  plugin parameter defaults
 *   [ranges.data|train], [ranges.KIND.PLUGIN]
 *                           narrowed ranges: "LO .. HI" or "a | b | c" */
#ifndef KEEL_CONFIG_TEMPLATE_H
#define KEEL_CONFIG_TEMPLATE_H

#include <stddef.h>

#include "config/config.h"
#include "config/ini.h"

typedef struct keel_template_allow {
  char *plugin; /* plugin name */
  char *range;  /* semver range, NULL for any version */
} keel_template_allow;

typedef struct keel_template_slot {
  int present; /* the template has [slot.KIND] */
  int line;    /* line of its allow key */
  keel_template_allow *allow;
  size_t n_allow;
} keel_template_slot;

typedef struct keel_template {
  keel_ini *ini;       /* path (as found), text, every section */
  const char *name;    /* borrowed from ini */
  const char *version; /* full semver, borrowed from ini */
  const char *summary; /* borrowed from ini, "" if none */
  keel_task task;
  keel_template_checks checks;
  keel_template_slot slots[KEEL_KIND_OPTIMIZER + 1]; /* indexed by kind */
} keel_template;

/* Loads and checks the structure of a template (sections, keys, allow
 * lists, version syntax). Keys of [defaults.*]/[ranges.*] for plugins are
 * checked against the plugin's declarations at resolution time; host ones
 * here. Errors are "PATH:LINE: ..." (KEEL_EINVAL). */
int keel_template_load(const char *path, keel_template **out, keel_error *err);
void keel_template_free(keel_template *t);

/* Finds the template file for a manifest's `template = REF`: REF with a
 * '/' or ending in ".ini" is a path relative to manifest_dir; otherwise
 * REF.ini is looked up in each KEEL_TEMPLATE_PATH entry, manifest_dir/
 * templates, the build tree and the install prefix. *path_out is malloc'd.
 * KEEL_ENOTFOUND with the folders searched (no file:line prefix). */
int keel_template_locate(const char *ref, const char *manifest_dir,
                         char **path_out, keel_error *err);

/* Whether the template's slot for `kind` allows plugin `name` at
 * `version`. KEEL_EINVAL with the reason (no location prefix). */
int keel_template_allows(const keel_template *t, keel_kind kind,
                         const char *name, const char *version,
                         keel_error *err);

/* "[defaults.KEY]" / "[ranges.KEY]" where KEY is "data", "train" or
 * "KIND.PLUGIN" ("optimizer.sgd"); NULL if the template has none. */
const keel_ini_section *keel_template_defaults(const keel_template *t,
                                               const char *key);
const keel_ini_section *keel_template_ranges(const keel_template *t,
                                             const char *key);

/* The allow list of a slot as text ("csv >=1 <2, libsvm"), malloc'd. */
char *keel_template_allow_text(const keel_template *t, keel_kind kind);

#endif
