/* keel_loss_util.h: helpers shared by the built-in losses.
 *
 * Header-only and SDK-only (<keel/keel.h> plus libc/libm), static inline,
 * like the other plugins/common headers. */
#ifndef KEEL_PLUGINS_LOSS_UTIL_H
#define KEEL_PLUGINS_LOSS_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <keel/keel.h>

/* Formats a message into err (may be NULL) and returns code: the loss
 * entry points that are handed no host (output_width) cannot use
 * host->fail. */
static inline int keel_loss_fail(keel_error *err, int code, const char *fmt,
                                 ...) __attribute__((format(printf, 3, 4)));
static inline int keel_loss_fail(keel_error *err, int code, const char *fmt,
                                 ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

/* The class index a label stands for, or -1 when y is not a whole number
 * in [0, n). */
static inline long keel_loss_class_label(float y, size_t n)
{
  double v = (double)y;
  if (!(v >= 0.0 && v < (double)n) || v != floor(v))
    return -1;
  return (long)v;
}

#endif
