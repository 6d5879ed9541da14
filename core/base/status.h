/* Status codes to text, and the CLI's documented exit codes. */
#ifndef KEEL_BASE_STATUS_H
#define KEEL_BASE_STATUS_H

#include "keel/error.h"

/* Exit codes of the keel command (documented in docs/cli.md). */
enum keel_exit {
  KEEL_EXIT_OK = 0,
  KEEL_EXIT_RUNTIME = 1,        /* training, data or I/O failed at run time */
  KEEL_EXIT_CONFIG = 2,         /* usage, configuration or validation error */
  KEEL_EXIT_INTEGRITY = 3,      /* a bundle failed verification */
  KEEL_EXIT_NOT_REPRODUCED = 4, /* replay gave a different result digest */
  /* + the signal's number: a run interrupted by SIGINT (130) or SIGTERM
   * (143), the shell's convention for a death by that signal */
  KEEL_EXIT_SIGNAL = 128
};

/* Static text for a KEEL_E* code. */
const char *keel_strerror(int code);

/* Formats into err (may be NULL); returns code. Same as host->fail. */
int keel_fail(keel_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message with "PREFIX: " (for adding file/stage context). */
void keel_error_prefix(keel_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* keel_error_prefix for a message a plugin wrote: a leading "PLUGIN: " of
 * its own is dropped once first, so the name comes once, from the host's
 * prefix (which names the plugin). */
void keel_error_prefix_plugin(keel_error *err, const char *plugin,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
