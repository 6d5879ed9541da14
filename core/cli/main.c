/* keel: the command-line entry point. Dispatch only; each command lives in
 * its own core/cli/cmd_<name>.c with the option table that also writes its
 * help (options.h), and commands.c lists them. */
#include <stdio.h>
#include <string.h>

#include "base/escape.h"
#include "base/log.h"
#include "base/status.h"
#include "bundle/revision.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "keel/abi.h"

static void print_usage(FILE *out)
{
  fprintf(out, "usage: keel COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < keel_cli_n_commands; i++)
    fprintf(out, "  %-8s %s\n", keel_cli_commands[i]->name,
            keel_cli_commands[i]->summary);
  fprintf(out,
          "\n  keel help COMMAND   details of one command\n"
          "  keel --version      version and plugin ABI\n"
          "\nexit codes: 0 ok, 1 runtime failure, 2 usage or configuration "
          "error,\n            3 integrity failure, 4 not reproduced\n");
}

int main(int argc, char **argv)
{
  keel_cli_output_init();
  keel_log_set_sink(keel_cli_log_to_stderr, NULL);
  if (argc < 2) {
    print_usage(stderr);
    return KEEL_EXIT_CONFIG;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("keel %s (plugin ABI %d.%d, revision %s)\n", KEEL_VERSION,
           KEEL_ABI_MAJOR, KEEL_ABI_MINOR, keel_build_revision);
    return KEEL_EXIT_OK;
  }
  if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
      strcmp(name, "-h") == 0) {
    if (argc > 2) {
      const keel_cli_command *c = keel_cli_find_command(argv[2]);
      if (!c) {
        fprintf(stderr, "keel: no command '");
        keel_escape_fputs(stderr, argv[2]);
        fprintf(stderr, "'\n");
        return KEEL_EXIT_CONFIG;
      }
      keel_cli_write_doc(stdout, c, KEEL_CLI_DOC_HELP);
      return KEEL_EXIT_OK;
    }
    print_usage(stdout);
    return KEEL_EXIT_OK;
  }
  const keel_cli_command *c = keel_cli_find_command(name);
  if (!c) {
    fprintf(stderr, "keel: unknown command '");
    keel_escape_fputs(stderr, name);
    fprintf(stderr, "'\n\n");
    print_usage(stderr);
    return KEEL_EXIT_CONFIG;
  }
  return c->main(argc - 1, argv + 1);
}
