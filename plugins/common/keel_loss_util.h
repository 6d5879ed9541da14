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

/* output_width of a classification loss named `who`: one logit for two
 * classes, one output per class for more. */
static inline int keel_loss_class_width(const char *who, keel_task task,
                                        size_t n_classes, size_t *width,
                                        keel_error *err)
{
  if (task != KEEL_TASK_CLASSIFICATION)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "%s: fits classification only, the task is "
                          "regression; use loss mse or huber",
                          who);
  if (n_classes < 2)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "%s: needs at least 2 classes, the labels have %zu",
                          who, n_classes);
  *width = n_classes == 2 ? 1 : n_classes;
  return KEEL_OK;
}

/* output_width of a regression loss named `who`: one output. */
static inline int keel_loss_regression_width(const char *who, keel_task task,
                                             size_t n_classes, size_t *width,
                                             keel_error *err)
{
  if (task != KEEL_TASK_REGRESSION)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "%s: fits regression only, the task is "
                          "classification with %zu classes; use loss xent or "
                          "hinge",
                          who, n_classes);
  *width = 1;
  return KEEL_OK;
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
