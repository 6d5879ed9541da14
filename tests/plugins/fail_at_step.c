/* Valid optimizer "fail_at_step" 1.0.0 (ABI 1.2, update only): plain SGD
 * whose update at step `step` fails with KEEL_EDIVERGED before touching
 * the weights. The run must stop there with exit 1 and a message naming
 * the optimizer, the epoch and the step
 * (tests/e2e/test_loss_optimizer_error_channel.sh). No step function: the
 * loader must accept an optimizer that has update alone. */
#include <keel/keel.h>

enum { P_LR, P_STEP, P_COUNT };

static const keel_param_decl params[P_COUNT] = {
    [P_LR] = KEEL_P_FLOAT("lr", 0.01, 1e-8, 10.0, KEEL_PARAM_LOG_SCALE,
                          "1/step", "learning rate"),
    [P_STEP] = KEEL_P_INT("step", 0, 0, 1000000, "step",
                          "the step whose update fails (0: none)"),
};

static size_t state_floats(const keel_value *p, size_t n_weights)
{
  (void)p, (void)n_weights;
  return 0;
}

static int update(const keel_host *host, const keel_value *p, float *w,
                  const float *grad, float *state, size_t n_weights,
                  uint64_t step, double lr_scale, keel_error *err)
{
  (void)state;
  if (step == (uint64_t)p[P_STEP].i)
    return host->fail(err, KEEL_EDIVERGED,
                      "update refused, as this fixture is told to");
  float lr = (float)(p[P_LR].f * lr_scale);
  for (size_t i = 0; i < n_weights; i++)
    w[i] = w[i] - lr * grad[i];
  return KEEL_OK;
}

static const keel_optimizer_api api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = state_floats,
    .update = update,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "fail_at_step",
    .version = "1.0.0",
    .summary = "plain SGD whose update fails at a given step",
    .license = "MIT",
    .params = params,
    .n_params = P_COUNT,
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
