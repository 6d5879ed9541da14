/* xent: cross-entropy for classification.
 *
 * Two classes: one output, a logit z, and the binary logistic loss
 *   loss = max(z, 0) - z y + log1p(exp(-|z|)),  dloss/dz = sigmoid(z) - y.
 * K >= 3 classes: K logits and the softmax cross-entropy, with a stable
 * log-sum-exp: m = max z, lse = m + log(sum exp(z - m)),
 *   loss = lse - z_y,  dloss/dz_k = exp(z_k - lse) - [k == y].
 * Arithmetic in double, sums in row (then class) order; gradients are
 * rounded to float. A label that is not a class index gives a NaN loss
 * (the host validates labels before training, so this never happens in a
 * run). */
#include <math.h>
#include <stddef.h>

#include <keel/keel.h>

#include <keel/util.h>

static int xent_output_width(const keel_value *params, keel_task task,
                             size_t n_classes, size_t *width, keel_error *err)
{
  return keel_loss_class_width(task, n_classes, width, err);
}

static double xent_value_grad(const keel_value *params, const float *out,
                              const float *y, size_t n_rows, size_t width,
                              float *d_out)
{
  double sum = 0.0;
  if (width == 1) {
    for (size_t r = 0; r < n_rows; r++) {
      long c = keel_loss_class_label(y[r], 2);
      double z = (double)out[r];
      if (c < 0) {
        sum += NAN;
        if (d_out)
          d_out[r] = 0.0f;
        continue;
      }
      double t = (double)c;
      sum += (z > 0 ? z : 0.0) - z * t + log1p(exp(-fabs(z)));
      if (d_out) {
        double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        d_out[r] = (float)(p - t);
      }
    }
    return sum;
  }
  for (size_t r = 0; r < n_rows; r++) {
    const float *z = out + r * width;
    long c = keel_loss_class_label(y[r], width);
    if (c < 0) {
      sum += NAN;
      if (d_out)
        for (size_t k = 0; k < width; k++)
          d_out[r * width + k] = 0.0f;
      continue;
    }
    double m = (double)z[0];
    for (size_t k = 1; k < width; k++)
      if ((double)z[k] > m)
        m = (double)z[k];
    double s = 0.0;
    for (size_t k = 0; k < width; k++)
      s += exp((double)z[k] - m);
    double lse = m + log(s);
    sum += lse - (double)z[c];
    if (d_out)
      for (size_t k = 0; k < width; k++)
        d_out[r * width + k] =
            (float)(exp((double)z[k] - lse) - ((long)k == c ? 1.0 : 0.0));
  }
  return sum;
}

static const keel_loss_api xent_api = {
    KEEL_LOSS_API_HEADER,
    .output_width = xent_output_width,
    .value_grad = xent_value_grad,
};

static const keel_plugin xent_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "xent",
    .version = "1.0.0",
    .summary = "cross-entropy: binary logistic (1 logit) or softmax (K "
               "logits), stable log-sum-exp",
    .license = "MIT",
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION},
    .api = &xent_api,
};

KEEL_PLUGIN_DEFINE(xent_plugin)
