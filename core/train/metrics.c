/* Metric sums per chunk of rows and the metrics they give (see metrics.h). */
#include "train/metrics.h"

#include <math.h>
#include <string.h>

void keel_metric_sums_add_rows(keel_metric_sums *s, uint64_t *confusion,
                               keel_task task, size_t n_classes,
                               const float *out, const float *y, size_t n_rows,
                               size_t width)
{
  if (task == KEEL_TASK_CLASSIFICATION) {
    for (size_t r = 0; r < n_rows; r++) {
      const float *o = out + r * width;
      size_t pred;
      if (width == 1) {
        pred = o[0] > 0.0f ? 1 : 0;
      } else {
        pred = 0;
        for (size_t k = 1; k < width; k++)
          if (o[k] > o[pred])
            pred = k;
      }
      size_t truth = (size_t)y[r];
      if (truth < n_classes && pred < n_classes)
        confusion[truth * n_classes + pred]++;
    }
    return;
  }
  for (size_t r = 0; r < n_rows; r++) {
    double e = (double)out[r * width] - (double)y[r];
    s->sq_err += e * e;
    s->abs_err += fabs(e);
  }
}

void keel_metric_sums_tree(keel_metric_sums *a, size_t n)
{
  for (size_t stride = 1; stride < n; stride *= 2)
    for (size_t c = 0; c + stride < n; c += 2 * stride) {
      a[c].loss += a[c + stride].loss;
      a[c].sq_err += a[c + stride].sq_err;
      a[c].abs_err += a[c + stride].abs_err;
    }
}

double keel_metrics_ss_tot(const float *y, size_t n_rows)
{
  if (n_rows == 0)
    return 0.0;
  double sum = 0.0;
  for (size_t r = 0; r < n_rows; r++)
    sum += (double)y[r];
  double mean = sum / (double)n_rows, ss = 0.0;
  for (size_t r = 0; r < n_rows; r++) {
    double d = (double)y[r] - mean;
    ss += d * d;
  }
  return ss;
}

void keel_metrics_clear(keel_metrics *m)
{
  m->n_rows = 0;
  m->loss = m->accuracy = m->macro_f1 = NAN;
  m->rmse = m->mae = m->r2 = NAN;
}

void keel_metrics_finish(keel_metrics *m, keel_task task, size_t n_classes,
                         const keel_metric_sums *total,
                         const uint64_t *confusion, size_t n_rows,
                         double ss_tot)
{
  keel_metrics_clear(m);
  m->n_rows = n_rows;
  if (n_rows == 0)
    return;
  double n = (double)n_rows;
  m->loss = total->loss / n;
  if (task == KEEL_TASK_CLASSIFICATION) {
    uint64_t correct = 0;
    double f1_sum = 0.0;
    size_t seen = 0;
    for (size_t c = 0; c < n_classes; c++) {
      uint64_t tp = confusion[c * n_classes + c], fp = 0, fn = 0;
      for (size_t k = 0; k < n_classes; k++) {
        if (k == c)
          continue;
        fp += confusion[k * n_classes + c];
        fn += confusion[c * n_classes + k];
      }
      correct += tp;
      uint64_t denom = 2 * tp + fp + fn;
      if (denom == 0)
        continue; /* class neither in the labels nor predicted */
      f1_sum += 2.0 * (double)tp / (double)denom;
      seen++;
    }
    m->accuracy = (double)correct / n;
    m->macro_f1 = seen ? f1_sum / (double)seen : NAN;
    return;
  }
  m->rmse = sqrt(total->sq_err / n);
  m->mae = total->abs_err / n;
  m->r2 = ss_tot > 0.0 ? 1.0 - total->sq_err / ss_tot : NAN;
}
