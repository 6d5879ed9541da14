/* The keel subcommands. Each lives in core/cmd_<name>.c, takes the
 * arguments after "keel" (argv[0] is the command name), prints what the
 * user sees (results on stdout, diagnostics on stderr) and returns an exit
 * code from status.h. main.c only dispatches. */
#ifndef KEEL_CORE_COMMANDS_H
#define KEEL_CORE_COMMANDS_H

int keel_cmd_check(int argc, char **argv);   /* keel check MANIFEST [k=v...] */
int keel_cmd_plugins(int argc, char **argv); /* keel plugins [NAME] [--json] */
int keel_cmd_run(int argc, char **argv);     /* keel run MANIFEST [k=v...] */
int keel_cmd_verify(int argc, char **argv);  /* keel verify BUNDLE */
int keel_cmd_show(int argc, char **argv);    /* keel show BUNDLE */
int keel_cmd_env(int argc, char **argv);     /* keel env BUNDLE */
int keel_cmd_replay(int argc, char **argv);  /* keel replay BUNDLE */
int keel_cmd_diff(int argc, char **argv);    /* keel diff A B */
int keel_cmd_keygen(int argc, char **argv);  /* keel keygen NAME */

#endif
