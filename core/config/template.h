/* Templates: the versioned INI file that fixes the shape of a family of
 * runs (docs/manifest.md). Sections:
 *   [template]              name, version (semver), task, summary,
 *                           extends = NAME RANGE (a base template)
 *   [slot.KIND]             allow = NAME [RANGE], NAME [RANGE], ...
 *                           (KIND: source, transform, model, loss,
 *                           optimizer; all but transform are required)
 *   [governance]            require = owner, intended_use, legal_basis,
 *                           description (keys the data's catalog entry
 *                           must have); allowed_scopes = public, ...
 *   [contract]              features = numeric, missing = forbidden|allowed,
 *                           finite = required|optional,
 *                           catalog = required|optional (data named by a
 *                           catalog entry, not a plain path)
 *   [checks]                min_rows, max_missing_fraction, min_class_count
 *   [defaults.data|train]   host parameter defaults
 *   [defaults.KIND.PLUGIN]  plugin parameter defaults
 *   [ranges.data|train], [ranges.KIND.PLUGIN]
 *                           narrowed ranges: "LO .. HI" or "a | b | c"
 * An allow entry may end in "sha256:HEX", a pin on the plugin file's hash.
 * A template that extends another inherits its slots, contract, checks,
 * defaults and ranges; it may add plugins, tighten checks, narrow ranges
 * and set defaults, never widen (docs/manifest.md, "Template inheritance"). */
#ifndef KEEL_CONFIG_TEMPLATE_H
#define KEEL_CONFIG_TEMPLATE_H

#include <stddef.h>

#include "config/config.h"
#include "config/ini.h"

typedef struct keel_template_allow {
  char *plugin; /* plugin name */
  char *range;  /* semver range, NULL for any version */
  char *sha256; /* pinned file hash (64 hex), NULL when not pinned */
} keel_template_allow;

/* Where a rule was written: a template file's path (borrowed) and line. */
typedef struct keel_template_origin {
  const char *file;
  int line;
} keel_template_origin;

/* [checks] and [contract] keys, for their origins. */
enum {
  KEEL_TCHECK_MIN_ROWS = 0,
  KEEL_TCHECK_MAX_MISSING,
  KEEL_TCHECK_MIN_CLASS_COUNT,
  KEEL_TCHECK_MISSING,
  KEEL_TCHECK_FINITE,
  KEEL_TCHECK_CATALOG,
  KEEL_TCHECK_GOV_REQUIRE, /* [governance] require */
  KEEL_TCHECK_GOV_SCOPES,  /* [governance] allowed_scopes */
  KEEL_TCHECK_FRESHNESS,
  KEEL_TCHECK_MAX_ROWS,
  KEEL_TCHECK_MAX_IMBALANCE,
  KEEL_TCHECK_DRIFT_REFERENCE,
  KEEL_TCHECK_AFTER,
  KEEL_TCHECK_N
};

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
  keel_template_slot slots[KEEL_KIND_OPTIMIZER + 1]; /* this file's own,
                                                       by kind */
  struct keel_template *base; /* the template it extends (owned), or NULL */
  int extends_line;
  keel_template_origin task_at;
  keel_template_origin check_at[KEEL_TCHECK_N]; /* file NULL when unset */
} keel_template;

/* Loads and checks the structure of a template (sections, keys, allow
 * lists, version syntax) and, through `extends`, its whole chain of bases:
 * each found first in its derived template's folder, then where a
 * manifest's template is looked for; a cycle, a missing base, a base
 * outside the range or a widening is an error naming the files. Keys of
 * [defaults.*]/[ranges.*] for plugins are checked against the plugin's
 * declarations at resolution time; host ones here. Errors are "PATH:LINE: ..."
 * (KEEL_EINVAL). */
int keel_template_load(const char *path, keel_template **out, keel_error *err);
void keel_template_free(keel_template *t);

/* Finds the template file for a manifest's `template = REF`: REF with a
 * '/' or ending in ".ini" is a path relative to manifest_dir; otherwise
 * REF.ini is looked up in each KEEL_TEMPLATE_PATH entry, manifest_dir/
 * templates, the build tree and the install prefix. *path_out is malloc'd.
 * KEEL_ENOTFOUND with the folders searched (no file:line prefix). */
int keel_template_locate(const char *ref, const char *manifest_dir,
                         char **path_out, keel_error *err);

/* Whether the chain's slot for `kind` allows plugin `name` at `version`
 * whose file has SHA-256 `sha256`: some template lists it, and every entry
 * for it in the chain (a base's range, a derived pin) accepts it.
 * KEEL_EINVAL with the reason (naming the template file:line). */
int keel_template_allows(const keel_template *t, keel_kind kind,
                         const char *name, const char *version,
                         const char *sha256, keel_error *err);

/* The entry `key` of "[defaults.SEC]" / "[ranges.SEC]" (SEC is "data",
 * "train" or "KIND.PLUGIN") nearest the derived end of the chain, and in
 * *file the path of the template that holds it; NULL when none does. */
const keel_ini_entry *keel_template_default_entry(const keel_template *t,
                                                  const char *sec,
                                                  const char *key,
                                                  const char **file);
const keel_ini_entry *keel_template_range_entry(const keel_template *t,
                                                const char *sec,
                                                const char *key,
                                                const char **file);

/* The chain, derived first, as copies for the run configuration (name,
 * version, path, bytes and SHA-256 of each file), and every rule the chain
 * sets with the file and line it came from (`keel check`). 0 or
 * KEEL_ENOMEM; the caller frees with keel_run_config_free. */
int keel_template_chain_copy(const keel_template *t, keel_run_config *cfg,
                             keel_error *err);

/* Internal to the template files: refuses a key of sec not in names
 * (with a did-you-mean); reads one [checks.column.NAME] section into
 * t->checks (template_columns.c). */
int keel__template_check_keys(const keel_ini *ini, const keel_ini_section *sec,
                              const char *const *names, size_t n,
                              keel_error *err);
int keel__template_parse_column(keel_template *t, const keel_ini_section *sec,
                                keel_error *err);

/* The allow list of a slot as text ("csv >=1 <2, libsvm"), malloc'd. */
char *keel_template_allow_text(const keel_template *t, keel_kind kind);

#endif
