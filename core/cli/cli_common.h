/* Helpers shared by the keel subcommands: argument collection, the
 * plugin registry in its documented search order, and loading a fully
 * resolved configuration from a manifest. */
#ifndef KEEL_CORE_CLI_COMMON_H
#define KEEL_CORE_CLI_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "plugin/loader.h"

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

/* Writes text to fp with every control byte (below 0x20 but tab, and
 * 0x7f) as \xNN, so a plugin or a hostile file cannot move the cursor,
 * clear the screen or forge a line of its own. */
void keel_cli_put_escaped(FILE *fp, const char *text);

/* The log sink main() installs: "keel: LEVEL: MESSAGE" on stderr,
 * escaped (base/log.h). */
void keel_cli_log_to_stderr(void *ctx, keel_log_level level,
                            const char *message);

#endif
