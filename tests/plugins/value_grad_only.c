/* Valid loss "sq_value_grad" 1.0.0 written as before ABI 1.2: squared
 * error through value_grad alone (no evaluate, no error channel), with
 * mse's arithmetic. The host must call value_grad when the table has no
 * evaluate, and train to the same bits as mse
 * (tests/e2e/test_loss_optimizer_before_1_2.sh). */
#include <keel/keel.h>

static int width(const keel_value *p, keel_task task, size_t n_classes,
                 size_t *w, keel_error *err)
{
  (void)p, (void)task, (void)n_classes, (void)err;
  *w = 1;
  return KEEL_OK;
}

static double value_grad(const keel_value *p, const float *out, const float *y,
                         size_t n_rows, size_t w, float *d_out)
{
  (void)p;
  double sum = 0.0;
  for (size_t r = 0; r < n_rows; r++)
    for (size_t k = 0; k < w; k++) {
      double diff = (double)out[r * w + k] - (double)y[r];
      sum += diff * diff;
      if (d_out)
        d_out[r * w + k] = (float)(2.0 * diff);
    }
  return sum;
}

static const keel_loss_api api = {
    KEEL_LOSS_API_HEADER,
    .output_width = width,
    .value_grad = value_grad,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "sq_value_grad",
    .version = "1.0.0",
    .summary = "squared error through value_grad alone (ABI 1.0 style)",
    .license = "MIT",
    .contract = {.tasks = KEEL_TASK_REGRESSION},
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
