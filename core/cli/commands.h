/* The keel subcommands. Each lives in core/cli/cmd_<name>.c with its
 * option table (keel_cli_<name>, options.h), takes the arguments after
 * "keel" (argv[0] is the command name), prints what the user sees (results
 * on stdout, diagnostics on stderr) and returns an exit code from
 * status.h. main.c only dispatches. */
#ifndef KEEL_CLI_COMMANDS_H
#define KEEL_CLI_COMMANDS_H

#include <stddef.h>

#include "cli/options.h"

/* The commands themselves; their options: keel help CMD. */
int keel_cmd_check(int argc, char **argv);
int keel_cmd_plugins(int argc, char **argv);
int keel_cmd_run(int argc, char **argv);
int keel_cmd_verify(int argc, char **argv);
int keel_cmd_show(int argc, char **argv);
int keel_cmd_env(int argc, char **argv);
int keel_cmd_replay(int argc, char **argv);
int keel_cmd_diff(int argc, char **argv);
int keel_cmd_keygen(int argc, char **argv);
int keel_cmd_config(int argc, char **argv);
int keel_cmd_data(int argc, char **argv);
int keel_cmd_plugin_test(int argc, char **argv);
int keel_cmd_audit(int argc, char **argv);
int keel_cmd_sweep(int argc, char **argv);
int keel_cmd_runs(int argc, char **argv);

/* Each command's table, beside its code. */
extern const keel_cli_command keel_cli_check, keel_cli_run, keel_cli_plugins,
    keel_cli_verify, keel_cli_show, keel_cli_env, keel_cli_replay,
    keel_cli_diff, keel_cli_keygen, keel_cli_config, keel_cli_plugin_test,
    keel_cli_data, keel_cli_audit, keel_cli_sweep, keel_cli_runs;

/* Every command, in the order `keel help` lists them; what a man page or
 * completion writer walks (options.h, keel_cli_write_doc). */
extern const keel_cli_command *const keel_cli_commands[];
extern const size_t keel_cli_n_commands;

/* The command named `name`, or NULL. */
const keel_cli_command *keel_cli_find_command(const char *name);

#endif
