/* Ctrl-C and SIGTERM during `keel run`: the handler only stores the
 * signal's number in a flag the run polls between batches (run/run.h),
 * so the run finishes its batch, writes a checkpoint and seals an
 * "interrupted" bundle (docs/training.md, "Interrupting a run"). */
#ifndef KEEL_CLI_INTERRUPT_H
#define KEEL_CLI_INTERRUPT_H

#include <signal.h>

/* Installs the handler for SIGINT and SIGTERM (a signal the process
 * inherited as ignored stays ignored, as for a script's background job)
 * and returns the flag: 0, or the number of the first signal caught. A
 * second signal of the same kind gets its default action: it ends keel at
 * once, leaving only a locked temporary the next run removes. */
const volatile sig_atomic_t *keel_cli_interrupt_install(void);

#endif
