/* The list of commands (commands.h): the one place a new command is
 * added besides its own cmd_<name>.c. */
#include "cli/commands.h"

#include <string.h>

const keel_cli_command *const keel_cli_commands[] = {
    &keel_cli_check,  &keel_cli_run,    &keel_cli_plugins,     &keel_cli_verify,
    &keel_cli_show,   &keel_cli_env,    &keel_cli_replay,      &keel_cli_diff,
    &keel_cli_keygen, &keel_cli_config, &keel_cli_plugin_test, &keel_cli_data,
    &keel_cli_audit,  &keel_cli_sweep,  &keel_cli_runs,
};

const size_t keel_cli_n_commands = KEEL_CLI_COUNT(keel_cli_commands);

const keel_cli_command *keel_cli_find_command(const char *name)
{
  for (size_t i = 0; i < keel_cli_n_commands; i++)
    if (strcmp(keel_cli_commands[i]->name, name) == 0)
      return keel_cli_commands[i];
  return NULL;
}
