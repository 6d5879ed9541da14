/* Helpers shared by the keel subcommands: escaped output of untrusted
 * text and the log sink. Command lines are parsed by options.h. */
#ifndef KEEL_CLI_CLI_COMMON_H
#define KEEL_CLI_CLI_COMMON_H

#include <stdio.h>

#include "base/log.h"

/* Writes text to fp with every control byte (below 0x20 but tab, and
 * 0x7f) as \xNN, so a plugin or a hostile file cannot move the cursor,
 * clear the screen or forge a line of its own. */
void keel_cli_put_escaped(FILE *fp, const char *text);

/* The log sink main() installs: "keel: LEVEL: MESSAGE" on stderr,
 * escaped (base/log.h). */
void keel_cli_log_to_stderr(void *ctx, keel_log_level level,
                            const char *message);

#endif
