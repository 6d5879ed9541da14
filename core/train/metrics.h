/* Evaluation metrics: loss, accuracy and macro-F1 (classification), RMSE,
 * MAE and R^2 (regression).
 *
 * Determinism: floating-point sums are kept per chunk of rows
 * (keel_metric_sums) and combined by keel_metric_sums_tree in a fixed
 * pairwise order over chunk index; class counts are integers, so they may
 * be added in any order (per thread). Hence the metrics never depend on
 * the thread count. */
#ifndef KEEL_TRAIN_METRICS_H
#define KEEL_TRAIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

/* Final metrics of one split. Fields that do not apply to the task are
 * NAN (written as null in JSON). */
typedef struct keel_metrics {
  size_t n_rows;
  double loss;     /* mean loss per row */
  double accuracy; /* classification */
  double macro_f1; /* classification: mean F1 over classes seen in the
                      labels or the predictions */
  double rmse;     /* regression */
  double mae;      /* regression */
  double r2;       /* regression: 1 - SS_res / SS_tot (NAN if SS_tot = 0) */
} keel_metrics;

/* Floating-point sums over one chunk of rows. */
typedef struct keel_metric_sums {
  double loss;    /* sum of per-row losses */
  double sq_err;  /* regression: sum (out - y)^2 */
  double abs_err; /* regression: sum |out - y| */
} keel_metric_sums;

/* Adds n_rows rows of model outputs (n_rows x width) against labels y to
 * s (regression) or confusion[true * n_classes + pred] (classification;
 * pred = out > 0 for width 1, else the first arg-max). Labels must be
 * valid class indexes (the caller checks). The loss is not touched. */
void keel_metric_sums_add_rows(keel_metric_sums *s, uint64_t *confusion,
                               keel_task task, size_t n_classes,
                               const float *out, const float *y, size_t n_rows,
                               size_t width);

/* Pairwise tree over chunk index: a[0] = sum of a[0..n) in a fixed order
 * (a[c] += a[c + stride] for stride 1, 2, 4, ...). n may be 0. */
void keel_metric_sums_tree(keel_metric_sums *a, size_t n);

/* sum over rows of (y - mean y)^2, both sums in row order (double). */
double keel_metrics_ss_tot(const float *y, size_t n_rows);

/* Fills m from the combined sums, the class counts (classification) and
 * the split's SS_tot (regression). */
void keel_metrics_finish(keel_metrics *m, keel_task task, size_t n_classes,
                         const keel_metric_sums *total,
                         const uint64_t *confusion, size_t n_rows,
                         double ss_tot);

/* Sets every field to NAN and n_rows to 0. */
void keel_metrics_clear(keel_metrics *m);

#endif
