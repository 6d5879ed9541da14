/* load: everything a run needs before any data is read, in one call:
 * the manifest, its template, the plugin registry in its documented
 * search order, and every value resolved. `keel check`, `keel run` and
 * `keel replay` all start here. */
#ifndef KEEL_CONFIG_LOAD_H
#define KEEL_CONFIG_LOAD_H

#include <stddef.h>

#include "config/config.h"
#include "plugin/loader.h"

/* Builds and scans a registry with entries in this order: the --plugin-
 * path entries or, when there are none, the plugin_path setting
 * (KEEL_PLUGIN_PATH or config.ini, settings.h), the manifest's [keel]
 * plugin_path entries (already joined to its folder), then the build
 * tree's and install prefix's plugin folders. With only_explicit set, only
 * the first list is used (replay: the bundle's plugins alone). */
int keel_registry_build(const char *const *plugin_paths, size_t n_paths,
                        const char *const *manifest_paths,
                        size_t n_manifest_paths, int only_explicit,
                        keel_registry **out, keel_error *err);

/* Everything `keel check` and `keel run` need before data is read: reads
 * the manifest, finds the template (template_override, when not NULL, is
 * used instead of the manifest's reference; its version must still match),
 * builds the registry and resolves every value. A [source] dataset is
 * looked up in catalog_flag when not NULL (--catalog; replay's sealed
 * entry), else as config/dataset.h says. On success the caller owns
 * *reg_out (keel_registry_destroy, after the config) and *cfg_out
 * (keel_run_config_free). Errors are "FILE:LINE: ..." with KEEL_EINVAL /
 * KEEL_ERANGE for configuration problems (exit 2). */
int keel_config_load(const char *manifest_path, const char *const *overrides,
                     size_t n_overrides, const char *const *plugin_paths,
                     size_t n_plugin_paths, int only_explicit_paths,
                     const char *template_override, const char *catalog_flag,
                     keel_registry **reg_out, keel_run_config **cfg_out,
                     keel_error *err);

/* The exit code for a status from the functions above: configuration and
 * validation problems are KEEL_EXIT_CONFIG (2), others KEEL_EXIT_RUNTIME. */
int keel_config_exit_code(int status);

#endif
