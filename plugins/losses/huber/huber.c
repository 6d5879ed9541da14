/* huber: the Huber loss for regression, quadratic within delta of the
 * target and linear beyond it (robust to outliers).
 *
 *   e = out - y;  loss = e^2 / 2 if |e| <= delta, else delta (|e| - delta/2)
 *   dloss/dout = e if |e| <= delta, else delta sign(e)
 * Sums run in row order in double. */
#include <math.h>
#include <stddef.h>

#include <keel/keel.h>

#include <keel/util.h>

enum { P_DELTA, P_COUNT };

static const keel_param_decl huber_params[] = {
    [P_DELTA] = KEEL_P_FLOAT("delta", 1.0, 1e-6, 1e6, KEEL_PARAM_LOG_SCALE,
                             "target units",
                             "error size where the loss turns from "
                             "quadratic to linear"),
};
KEEL_PARAMS_MATCH(huber_params, P_COUNT);

static int huber_output_width(const keel_value *params, keel_task task,
                              size_t n_classes, size_t *width, keel_error *err)
{
  return keel_loss_regression_width(task, n_classes, width, err);
}

/* The sum over rows into *loss_sum. A target that is not finite is an
 * error through evaluate (keel checks targets before training, another
 * host may not) and a NaN sum through value_grad (host NULL, no error
 * channel). */
static int huber_evaluate(const keel_host *host, const keel_value *params,
                          const float *out, const float *y, size_t n_rows,
                          size_t width, float *d_out, double *loss_sum,
                          keel_error *err)
{
  double delta = params[P_DELTA].f, sum = 0.0;
  for (size_t r = 0; r < n_rows; r++) {
    if (host && !isfinite(y[r]))
      return host->fail(err, KEEL_EDATA,
                        "row %zu: target %g; a regression target must be "
                        "finite",
                        r, (double)y[r]);
    for (size_t k = 0; k < width; k++) {
      double e = (double)out[r * width + k] - (double)y[r];
      double g;
      if (fabs(e) <= delta) {
        sum += 0.5 * e * e;
        g = e;
      } else {
        sum += delta * (fabs(e) - 0.5 * delta);
        g = e > 0 ? delta : -delta;
      }
      if (d_out)
        d_out[r * width + k] = (float)g;
    }
  }
  *loss_sum = sum;
  return KEEL_OK;
}

static double huber_value_grad(const keel_value *params, const float *out,
                               const float *y, size_t n_rows, size_t width,
                               float *d_out)
{
  double sum = 0.0;
  huber_evaluate(NULL, params, out, y, n_rows, width, d_out, &sum, NULL);
  return sum;
}

static const keel_loss_api huber_api = {
    KEEL_LOSS_API_HEADER,
    .output_width = huber_output_width,
    .value_grad = huber_value_grad,
    .evaluate = huber_evaluate,
};

static const keel_plugin huber_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "huber",
    .version = "1.0.0",
    .summary = "Huber loss for regression: quadratic near the target, linear "
               "beyond delta",
    .license = "MIT",
    .params = huber_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_REGRESSION},
    .api = &huber_api,
};

KEEL_PLUGIN_DEFINE(huber_plugin)
