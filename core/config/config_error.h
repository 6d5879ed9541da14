/* config_error: how the config layer reports a failure.
 *
 * Every message about a configuration file reads "FILE:LINE: WHAT"
 * (docs/cli.md); ini.c, manifest.c, template.c, resolve.c and load.c all
 * report through this one helper, so the text is composed once, straight
 * into the caller's keel_error, instead of being re-prefixed through
 * fixed-size intermediate buffers. */
#ifndef KEEL_CONFIG_CONFIG_ERROR_H
#define KEEL_CONFIG_CONFIG_ERROR_H

#include <stdarg.h>

#include "keel/error.h"

/* Formats "FILE:LINE: " and then FMT into err (which may be NULL) and
 * returns code. With file NULL the message is FMT alone (a location the
 * text names itself: "command line: ...", a declared default). Like
 * keel_fail, the message is cut at KEEL_ERROR_SIZE - 1 bytes. */
int keel_config_fail(keel_error *err, int code, const char *file, int line,
                     const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* keel_config_fail with a va_list, for helpers that take a format. */
int keel_config_vfail(keel_error *err, int code, const char *file, int line,
                      const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

#endif
