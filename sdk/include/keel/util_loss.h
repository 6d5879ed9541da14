/* keel SDK helper: what losses share: the output width a task needs,
 * class labels checked, and an error formatter for the entry points that
 * are handed no host.
 *
 * Contract: header-only, <keel/keel.h> plus libc/libm, static inline; no
 * allocation, no state: safe from any thread. Messages carry no prefix:
 * the host names the plugin in front of them. */
#ifndef KEEL_UTIL_LOSS_H
#define KEEL_UTIL_LOSS_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "keel/keel.h"

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

/* output_width of a classification loss: one logit for two classes, one
 * output per class for more; KEEL_EINVAL with a message for a regression
 * task or fewer than two classes. */
static inline int keel_loss_class_width(keel_task task, size_t n_classes,
                                        size_t *width, keel_error *err)
{
  if (task != KEEL_TASK_CLASSIFICATION)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "fits classification only, the task is "
                          "regression; use loss mse or huber");
  if (n_classes < 2)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "needs at least 2 classes, the labels have %zu",
                          n_classes);
  *width = n_classes == 2 ? 1 : n_classes;
  return KEEL_OK;
}

/* output_width of a regression loss: one output; KEEL_EINVAL with a
 * message for a classification task. */
static inline int keel_loss_regression_width(keel_task task, size_t n_classes,
                                             size_t *width, keel_error *err)
{
  if (task != KEEL_TASK_REGRESSION)
    return keel_loss_fail(err, KEEL_EINVAL,
                          "fits regression only, the task is "
                          "classification with %zu classes; use loss xent or "
                          "hinge",
                          n_classes);
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

#endif /* KEEL_UTIL_LOSS_H */
