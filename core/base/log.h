/* log: lines meant for a person (a plugin's host->log, a warning of the
 * library) go to one sink that the program installs; the library itself
 * never writes to stdout or stderr. With no sink installed the lines are
 * dropped. The sink receives the text as written, unescaped: escaping for
 * a terminal is the printer's job. */
#ifndef KEEL_BASE_LOG_H
#define KEEL_BASE_LOG_H

#include "keel/host.h"

typedef void (*keel_log_sink)(void *ctx, keel_log_level level,
                              const char *message);

/* Installs (or with fn NULL removes) the process-wide sink. */
void keel_log_set_sink(keel_log_sink fn, void *ctx);

/* Formats one line (cut at 4 KiB) and hands it to the sink. */
void keel_log_vemit(keel_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* keel_log_vemit with the arguments in line. */
void keel_log_emit(keel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
