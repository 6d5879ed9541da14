/* mse: squared-error loss for regression, (out - y)^2 per row.
 *
 * One output per row (y holds one target). The sum over rows runs in row
 * order in double; the gradient 2 (out - y) is rounded to float.
 * output_width gets no host table, so it formats its reason with libc. */
#include <math.h>
#include <stddef.h>

#include <keel/keel.h>

#include <keel/util.h>

static int mse_output_width(const keel_value *params, keel_task task,
                            size_t n_classes, size_t *width, keel_error *err)
{
  return keel_loss_regression_width(task, n_classes, width, err);
}

/* The sum over rows into *loss_sum. A target that is not finite is an
 * error through evaluate (keel checks targets before training, another
 * host may not) and a NaN or infinite sum through value_grad (host NULL,
 * no error channel). */
static int mse_evaluate(const keel_host *host, const keel_value *params,
                        const float *out, const float *y, size_t n_rows,
                        size_t width, float *d_out, double *loss_sum,
                        keel_error *err)
{
  double sum = 0.0;
  for (size_t r = 0; r < n_rows; r++) {
    if (host && !isfinite(y[r]))
      return host->fail(err, KEEL_EDATA,
                        "row %zu: target %g; a regression target must be "
                        "finite",
                        r, (double)y[r]);
    for (size_t k = 0; k < width; k++) {
      double diff = (double)out[r * width + k] - (double)y[r];
      sum += diff * diff;
      if (d_out)
        d_out[r * width + k] = (float)(2.0 * diff);
    }
  }
  *loss_sum = sum;
  return KEEL_OK;
}

static double mse_value_grad(const keel_value *params, const float *out,
                             const float *y, size_t n_rows, size_t width,
                             float *d_out)
{
  double sum = 0.0;
  mse_evaluate(NULL, params, out, y, n_rows, width, d_out, &sum, NULL);
  return sum;
}

static const keel_loss_api mse_api = {
    KEEL_LOSS_API_HEADER,
    .output_width = mse_output_width,
    .value_grad = mse_value_grad,
    .evaluate = mse_evaluate,
};

static const keel_plugin mse_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "mse",
    .version = "1.0.0",
    .summary = "squared error (out - y)^2 for regression",
    .license = "MIT",
    .contract = {.tasks = KEEL_TASK_REGRESSION},
    .api = &mse_api,
};

KEEL_PLUGIN_DEFINE(mse_plugin)
