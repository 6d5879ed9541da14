/* Valid loss "fail_at_target" 1.0.0 (ABI 1.2, evaluate only): squared
 * error, except that a chunk holding a row whose target equals the
 * parameter `target` fails with KEEL_EDATA naming that row ("row R: ...",
 * R counted in the call's arrays); with measure_only, only where no
 * gradient is asked for (evaluation of the validation and test splits).
 * Several rows of a dataset may hold the
 * value, in chunks on different threads: the run must report the one in
 * the lowest chunk at any thread count
 * (tests/e2e/test_loss_optimizer_error_channel.sh). No value_grad: the
 * loader must accept a loss that has evaluate alone. */
#include <keel/keel.h>

enum { P_TARGET, P_MEASURE_ONLY, P_COUNT };

static const keel_param_decl params[P_COUNT] = {
    [P_TARGET] = KEEL_P_FLOAT("target", -1.0, -1e9, 1e9, 0, NULL,
                              "the target value whose rows fail"),
    [P_MEASURE_ONLY] =
        KEEL_P_BOOL("measure_only", 0,
                    "fail only where no gradient is asked for (the "
                    "validation and test splits)"),
};

static int width(const keel_value *p, keel_task task, size_t n_classes,
                 size_t *w, keel_error *err)
{
  (void)p, (void)task, (void)n_classes, (void)err;
  *w = 1;
  return KEEL_OK;
}

static int evaluate(const keel_host *host, const keel_value *p,
                    const float *out, const float *y, size_t n_rows, size_t w,
                    float *d_out, double *loss_sum, keel_error *err)
{
  double sum = 0.0;
  for (size_t r = 0; r < n_rows; r++) {
    if ((double)y[r] == p[P_TARGET].f && (!d_out || !p[P_MEASURE_ONLY].i))
      return host->fail(err, KEEL_EDATA,
                        "row %zu: target %g is the value this fixture "
                        "refuses",
                        r, (double)y[r]);
    double diff = (double)out[r * w] - (double)y[r];
    sum += diff * diff;
    if (d_out)
      d_out[r * w] = (float)(2.0 * diff);
  }
  *loss_sum = sum;
  return KEEL_OK;
}

static const keel_loss_api api = {
    KEEL_LOSS_API_HEADER,
    .output_width = width,
    .evaluate = evaluate,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "fail_at_target",
    .version = "1.0.0",
    .summary = "squared error that fails on rows with one target value",
    .license = "MIT",
    .params = params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_REGRESSION},
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
