/* Helpers shared by the keel subcommands: argument collection, the
 * plugin registry in its documented search order, and loading a fully
 * resolved configuration from a manifest. */
#ifndef KEEL_CORE_CLI_COMMON_H
#define KEEL_CORE_CLI_COMMON_H

#include <stddef.h>

#include "config.h"
#include "loader.h"

/* Arguments collected from argv (pointers borrow argv's strings). */
typedef struct keel_cli_args {
  const char **plugin_paths; /* --plugin-path DIR / --plugin-path=DIR */
  size_t n_plugin_paths;
  const char **overrides;    /* SECTION.KEY=VALUE */
  size_t n_overrides;
  const char **positional;   /* everything else not starting with "-" */
  size_t n_positional;
  int json;                  /* --json */
  int help;                  /* -h / --help */
} keel_cli_args;

/* Collects argv[1..argc-1]. `extra_flags` (NULL-terminated, may be NULL)
 * lists further "--flag" switches the command accepts; each one seen is
 * counted in flag_seen[i] (array of the same length). Any other option is
 * a usage error (KEEL_EINVAL, err names it). Free with keel_cli_args_free. */
int keel_cli_parse_args(int argc, char **argv, const char *const *extra_flags,
                        int *flag_seen, keel_cli_args *out, keel_error *err);
void keel_cli_args_free(keel_cli_args *a);

/* The value of --threads: a whole decimal number in [1, 1024] into *out
 * (0), or -1 for anything else; KEEL_CLI_THREADS_HELP says so in words. */
int keel_cli_parse_threads(const char *text, int *out);
#define KEEL_CLI_THREADS_HELP "--threads wants an integer in [1, 1024]"

/* Whether text looks like an override (has '=' and a '.' before it and
 * does not start with '-'). */
int keel_cli_is_override(const char *text);

/* Builds and scans a registry with entries in this order: the --plugin-
 * path entries, KEEL_PLUGIN_PATH (':'-separated), the manifest's [keel]
 * plugin_path entries (already joined to its folder), then the build
 * tree's and install prefix's plugin folders. With only_explicit set, only
 * the first list is used (replay: the bundle's plugins alone). */
int keel_cli_build_registry(const char *const *plugin_paths, size_t n_paths,
                            const char *const *manifest_paths,
                            size_t n_manifest_paths, int only_explicit,
                            keel_registry **out, keel_error *err);

/* Everything `keel check` and `keel run` need before data is read: reads
 * the manifest, finds the template (template_override, when not NULL, is
 * used instead of the manifest's reference; its version must still match),
 * builds the registry and resolves every value. On success the caller owns
 * *reg_out (keel_registry_destroy, after the config) and *cfg_out
 * (keel_run_config_free). Errors are "FILE:LINE: ..." with KEEL_EINVAL /
 * KEEL_ERANGE for configuration problems (exit 2). */
int keel_cli_load_config(const char *manifest_path,
                         const char *const *overrides, size_t n_overrides,
                         const char *const *plugin_paths,
                         size_t n_plugin_paths, int only_explicit_paths,
                         const char *template_override,
                         keel_registry **reg_out, keel_run_config **cfg_out,
                         keel_error *err);

/* The exit code for a status from the functions above: configuration and
 * validation problems are KEEL_EXIT_CONFIG (2), others KEEL_EXIT_RUNTIME. */
int keel_cli_exit_code(int status);

#endif
