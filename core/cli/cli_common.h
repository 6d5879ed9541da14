/* Helpers shared by the keel subcommands: the human output path (every
 * byte to stdout and stderr escaped by base/escape.h), error lines and the
 * log sink. Command lines are parsed by options.h. */
#ifndef KEEL_CLI_CLI_COMMON_H
#define KEEL_CLI_CLI_COMMON_H

#include <stdio.h>

#include "base/log.h"

/* Puts stdout and stderr behind the escaping filter (base/escape.h, with
 * newline kept), so no table or message keel prints can carry a control
 * byte or invalid UTF-8 to the terminal, whoever composed it. main() calls
 * it once, first; the filter is flushed and removed at exit. */
void keel_cli_output_init(void);

/* The unfiltered stdout, for machine output (--json): flushes the
 * filtered stdout first so the order holds. */
FILE *keel_cli_machine_stdout(void);

/* The unfiltered stderr, for the progress bar's own cursor sequences
 * (which print only numbers). */
FILE *keel_cli_terminal_stderr(void);

/* "keel CMD: MESSAGE" and a newline on stderr, the whole message escaped,
 * newlines too, so one error is one line. */
void keel_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The log sink main() installs: "keel: LEVEL: MESSAGE" on stderr,
 * escaped (base/log.h). */
void keel_cli_log_to_stderr(void *ctx, keel_log_level level,
                            const char *message);

#endif
