/* options: the one parser of keel's command lines, in the spirit of git's
 * parse-options and curl's getparam. Each command describes itself once,
 * in a static const keel_cli_command (its options, operands and summary);
 * the same table parses argv, validates typed values, and writes the usage
 * line, `keel CMD --help` / `keel help CMD`, and the `keel help` summary.
 *
 * Grammar: `--opt VALUE` and `--opt=VALUE` for every value option; a flag
 * refuses `--flag=x`; `-q` for an option with a short alias; `--` ends the
 * options; `-` alone is an operand; `section.key=value` operands are
 * overrides for commands that take them. `-h`/`--help` anywhere before
 * `--` prints the help. Every usage error names the option and the value,
 * and exits 2 with the usage line and a pointer to `keel help CMD`. */
#ifndef KEEL_CLI_OPTIONS_H
#define KEEL_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

/* What an option's value is; the parser checks it before the command sees
 * it. */
typedef enum keel_cli_kind {
  KEEL_CLI_FLAG,   /* no value: stores 1 in an int */
  KEEL_CLI_INT,    /* a whole decimal number in [min, max], into an int */
  KEEL_CLI_STRING, /* any text, into a const char * (borrowed from argv) */
  KEEL_CLI_PATH,   /* a non-empty file or folder path, into a const char * */
  KEEL_CLI_LIST    /* a repeatable non-empty path, appended to a
                      keel_cli_list */
} keel_cli_kind;

/* A growing list of argv strings (borrowed; the array is owned by the
 * parser's caller and released by keel_cli_free). */
typedef struct keel_cli_list {
  const char **items;
  size_t n;
} keel_cli_list;

/* One option. `offset` says where its value goes: offsetof() a field of
 * the command's own options struct (int for FLAG and INT, const char *
 * for STRING and PATH, keel_cli_list for LIST). A value option given twice
 * keeps the last value. */
typedef struct keel_cli_option {
  const char *name; /* long name without "--": "threads" */
  char short_name;  /* 'q' for -q, or 0 */
  keel_cli_kind kind;
  const char *meta; /* the value's placeholder ("N", "DIR"); NULL: flag */
  const char *help; /* one line, lower case, no full stop */
  size_t offset;
  long min, max; /* KEEL_CLI_INT only */
} keel_cli_option;

/* One command: everything the parser and the help writer need. */
typedef struct keel_cli_command {
  const char *name;                   /* "replay" */
  int (*main)(int argc, char **argv); /* argv[0] is the command name */
  const char *summary;                /* one line for `keel help` */
  const char *operands;               /* synopsis of the operands: "BUNDLE" */
  int overrides; /* collects section.key=value operands apart */
  size_t min_operands, max_operands;
  const char *missing;  /* why fewer than min_operands: "no bundle given" */
  const char *too_many; /* why more than max_operands */
  const keel_cli_option *options;
  size_t n_options;
} keel_cli_command;

#define KEEL_CLI_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What is left of argv once the options are taken (strings borrowed). */
typedef struct keel_cli_operands {
  keel_cli_list args;      /* in order */
  keel_cli_list overrides; /* section.key=value, in order */
} keel_cli_operands;

/* keel_cli_parse's "go on": the command runs. */
#define KEEL_CLI_GO (-1)

/* Parses argv[1..argc-1] by cmd's table into `opts` (the command's options
 * struct, initialised with its defaults by the caller) and `ops`. Returns
 * KEEL_CLI_GO, or an exit code to return at once: 0 after printing the
 * help on stdout, 2 after a usage error on stderr, 1 when out of memory.
 * Release with keel_cli_free in every case. Not thread-safe (prints). */
int keel_cli_parse(const keel_cli_command *cmd, int argc, char **argv,
                   void *opts, keel_cli_operands *ops);

/* Releases the lists keel_cli_parse made in opts and ops. */
void keel_cli_free(const keel_cli_command *cmd, void *opts,
                   keel_cli_operands *ops);

/* A usage error found after parsing: "keel CMD: MESSAGE" (control bytes
 * escaped), the usage line and the pointer to `keel help CMD` on stderr.
 * Returns 2 (KEEL_EXIT_CONFIG). */
int keel_cli_usage_error(const keel_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The forms of a command's documentation. Each is one walk over the same
 * table, so a man page (KEEL_CLI_DOC_MAN) or a shell completion script
 * joins here as a new format, never as a second copy of the options. */
typedef enum keel_cli_doc_format {
  KEEL_CLI_DOC_HELP /* `keel CMD --help`: usage, summary, one line each */
} keel_cli_doc_format;

/* Writes cmd's documentation to fp in the given format. */
void keel_cli_write_doc(FILE *fp, const keel_cli_command *cmd,
                        keel_cli_doc_format format);

#endif
