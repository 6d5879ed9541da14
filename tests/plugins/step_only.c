/* Valid optimizer "sgd_step" 1.0.0 written as before ABI 1.2: plain SGD
 * through step alone (no update, no error channel), with sgd's arithmetic
 * at momentum 0 and no weight decay. The host must call step when the
 * table has no update, and train to the same bits as sgd
 * (tests/e2e/test_loss_optimizer_before_1_2.sh). */
#include <keel/keel.h>

enum { P_LR, P_COUNT };

static const keel_param_decl params[P_COUNT] = {
    [P_LR] = KEEL_P_FLOAT("lr", 0.01, 1e-8, 10.0, KEEL_PARAM_LOG_SCALE,
                          "1/step", "learning rate"),
};

static size_t state_floats(const keel_value *p, size_t n_weights)
{
  (void)p, (void)n_weights;
  return 0;
}

static void step(const keel_value *p, float *w, const float *grad, float *state,
                 size_t n_weights, uint64_t t, double lr_scale)
{
  (void)state, (void)t;
  float lr = (float)(p[P_LR].f * lr_scale);
  for (size_t i = 0; i < n_weights; i++)
    w[i] = w[i] - lr * grad[i];
}

static const keel_optimizer_api api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = state_floats,
    .step = step,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "sgd_step",
    .version = "1.0.0",
    .summary = "plain SGD through step alone (ABI 1.0 style)",
    .license = "MIT",
    .params = params,
    .n_params = P_COUNT,
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
