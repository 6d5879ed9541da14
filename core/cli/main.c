/* keel: the command-line entry point. Dispatch only; each command lives in
 * its own core/cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "bundle/revision.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "keel/abi.h"
#include "base/status.h"

typedef struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *usage;
  const char *summary;
} command;

static const command commands[] = {
  {"check", keel_cmd_check,
   "keel check MANIFEST [section.key=value...] [--plugin-path DIR]... [--json]",
   "validate a manifest without training; print the resolved configuration and the schema at every stage"},
  {"run", keel_cmd_run,
   "keel run MANIFEST [section.key=value...] [--out DIR] [--threads N] [--quiet]\n"
   "         [--resume CHECKPOINT] [--sign KEY] [--include-data] [--no-plugins]\n"
   "         [--until-transforms] [--plugin-path DIR]...",
   "train and seal the run into a bundle; prints the bundle path last on stdout"},
  {"plugins", keel_cmd_plugins,
   "keel plugins [NAME|KIND/NAME] [--json] [--plugin-path DIR]...",
   "list plugins, or print one plugin's documentation generated from its schema"},
  {"verify", keel_cmd_verify, "keel verify BUNDLE [--pubkey KEY]",
   "check every hash (and the signature) of a bundle"},
  {"show", keel_cmd_show, "keel show BUNDLE [--json]",
   "what ran, on what data, with what values, and how it went"},
  {"env", keel_cmd_env, "keel env BUNDLE [--containerfile PATH]",
   "compare a bundle's environment with this machine"},
  {"replay", keel_cmd_replay, "keel replay BUNDLE [--threads N]",
   "re-run a bundle offline and compare its result digest"},
  {"diff", keel_cmd_diff, "keel diff A B", "what differs between two bundles"},
  {"keygen", keel_cmd_keygen, "keel keygen NAME",
   "make an Ed25519 key pair (NAME.key, NAME.pub) for signing bundles"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
  fprintf(out, "usage: keel COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n  keel help COMMAND   details of one command\n"
          "  keel --version      version and plugin ABI\n"
          "\nexit codes: 0 ok, 1 runtime failure, 2 usage or configuration "
          "error,\n            3 integrity failure, 4 not reproduced\n");
}

static const command *find_command(const char *name)
{
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv)
{
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
      const command *c = find_command(argv[2]);
      if (!c) {
        fprintf(stderr, "keel: no command '%s'\n", argv[2]);
        return KEEL_EXIT_CONFIG;
      }
      printf("usage: %s\n\n%s\n", c->usage, c->summary);
      return KEEL_EXIT_OK;
    }
    print_usage(stdout);
    return KEEL_EXIT_OK;
  }
  const command *c = find_command(name);
  if (!c) {
    fprintf(stderr, "keel: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return KEEL_EXIT_CONFIG;
  }
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: %s\n\n%s\n", c->usage, c->summary);
      return KEEL_EXIT_OK;
    }
  return c->fn(argc - 1, argv + 1);
}
