/* Resolution: template + manifest + command-line overrides -> the fully
 * resolved, checked run configuration (config.h).
 *
 * Each value comes from, lowest to highest precedence: the plugin's (or
 * host's) declared default, the template's [defaults.*], the manifest,
 * then a command-line override "section.key=value" ("model.plugin=mlp"
 * swaps a plugin). Every layer that sets a value is parsed against the
 * declaration and checked against the plugin's range and the template's
 * narrowed range ([ranges.*], which may only narrow). Plugins must exist
 * in the registry, be allowed by the template's slot at a matching
 * version, and fit the template's task. Errors say "FILE:LINE: [section]
 * key: what; expected ..." (KEEL_EINVAL or KEEL_ERANGE; "command line" for
 * overrides) and nothing is returned. */
#ifndef KEEL_CONFIG_RESOLVE_H
#define KEEL_CONFIG_RESOLVE_H

#include <stddef.h>

#include "config/config.h"
#include "config/dataset.h"
#include "config/manifest.h"
#include "config/template.h"
#include "plugin/loader.h"

/* All inputs are borrowed; *out (caller frees with keel_run_config_free)
 * borrows plugins from `reg`, which must outlive it. `catalog` is where a
 * [source] dataset is looked up (config/dataset.h); NULL refuses one. */
int keel_config_resolve(const keel_manifest *m, const keel_template *t,
                        const keel_registry *reg, const char *const *overrides,
                        size_t n_overrides, const keel_catalog_choice *catalog,
                        keel_run_config **out, keel_error *err);

/* Splits "section.key=value" (section may contain dots; the key is after
 * the last dot before '='). Pointers are malloc'd; KEEL_EINVAL when
 * malformed. */
int keel_override_split(const char *text, char **section, char **key,
                        char **value, keel_error *err);

#endif
