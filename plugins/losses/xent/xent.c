/* xent: cross-entropy for classification.
 *
 * Two classes: one output, a logit z, and the binary logistic loss
 *   loss = max(z, 0) - z y + log1p(exp(-|z|)),  dloss/dz = sigmoid(z) - y.
 * K >= 3 classes: K logits and the softmax cross-entropy, with a stable
 * log-sum-exp: m = max z, lse = m + log(sum exp(z - m)),
 *   loss = lse - z_y,  dloss/dz_k = exp(z_k - lse) - [k == y].
 * Arithmetic in double, sums in row (then class) order; gradients are
 * rounded to float. A label that is not a class index is an error
 * through evaluate (keel validates labels before training, another host
 * may not), a NaN loss through value_grad (ABI 1.0, no error channel):
 * one implementation serves both. */
#include <math.h>
#include <stddef.h>

#include <keel/keel.h>

#include <keel/util.h>

static int xent_output_width(const keel_value *params, keel_task task,
                             size_t n_classes, size_t *width, keel_error *err)
{
  return keel_loss_class_width(task, n_classes, width, err);
}

/* The sum over rows into *loss_sum. host NULL (value_grad): a row whose
 * label is not a class index adds NaN; else it fails with KEEL_EDATA. */
static int xent_evaluate(const keel_host *host, const keel_value *params,
                         const float *out, const float *y, size_t n_rows,
                         size_t width, float *d_out, double *loss_sum,
                         keel_error *err)
{
  double sum = 0.0;
  size_t n_classes = width == 1 ? 2 : width;
  for (size_t r = 0; r < n_rows; r++) {
    long c = keel_loss_class_label(y[r], n_classes);
    if (c < 0) {
      if (host)
        return host->fail(err, KEEL_EDATA,
                          "row %zu: label %g is not a class index in "
                          "[0, %zu)",
                          r, (double)y[r], n_classes);
      sum += NAN;
      if (d_out)
        for (size_t k = 0; k < width; k++)
          d_out[r * width + k] = 0.0f;
      continue;
    }
    if (width == 1) {
      double z = (double)out[r], t = (double)c;
      sum += (z > 0 ? z : 0.0) - z * t + log1p(exp(-fabs(z)));
      if (d_out) {
        double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        d_out[r] = (float)(p - t);
      }
      continue;
    }
    const float *z = out + r * width;
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
  *loss_sum = sum;
  return KEEL_OK;
}

static double xent_value_grad(const keel_value *params, const float *out,
                              const float *y, size_t n_rows, size_t width,
                              float *d_out)
{
  double sum = 0.0;
  xent_evaluate(NULL, params, out, y, n_rows, width, d_out, &sum, NULL);
  return sum;
}

static const keel_loss_api xent_api = {
    KEEL_LOSS_API_HEADER,
    .output_width = xent_output_width,
    .value_grad = xent_value_grad,
    .evaluate = xent_evaluate,
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
