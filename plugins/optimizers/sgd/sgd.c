/* sgd: stochastic gradient descent with momentum, Nesterov momentum and
 * L2 weight decay (the PyTorch formulation).
 *
 *   g = grad + weight_decay w
 *   momentum > 0:  v = momentum v + g;  g = nesterov ? g + momentum v : v
 *   w = w - lr lr_scale g
 * Element-wise in float with the constants rounded once to float; the
 * state (v, n floats) exists only when momentum > 0. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

enum { P_LR, P_MOMENTUM, P_NESTEROV, P_WEIGHT_DECAY, P_COUNT };

static const keel_param_decl sgd_params[] = {
    [P_LR] =
        KEEL_P_FLOAT("lr", 0.01, 1e-8, 10.0, KEEL_PARAM_LOG_SCALE, "1/step",
                     "learning rate (times the host's "
                     "schedule factor)"),
    [P_MOMENTUM] = KEEL_P_FLOAT("momentum", 0.0, 0.0, 0.999, 0, NULL,
                                "fraction of the previous update kept (0: "
                                "plain SGD, no state)"),
    [P_NESTEROV] =
        KEEL_P_BOOL("nesterov", 0, "Nesterov momentum (needs momentum > 0)"),
    [P_WEIGHT_DECAY] = KEEL_P_FLOAT("weight_decay", 0.0, 0.0, 1.0, 0, NULL,
                                    "L2 penalty added to the gradient as "
                                    "weight_decay * w"),
};
KEEL_PARAMS_MATCH(sgd_params, P_COUNT);

static size_t sgd_state_floats(const keel_value *params, size_t n_weights)
{
  return params[P_MOMENTUM].f > 0.0 ? n_weights : 0;
}

/* One update. host NULL (step, ABI 1.0): no checks, no error channel;
 * else a learning-rate factor that is not finite and >= 0 (a host bug
 * that would turn every weight NaN or reverse the descent) is refused. */
static int sgd_update(const keel_host *host, const keel_value *params, float *w,
                      const float *grad, float *state, size_t n_weights,
                      uint64_t step, double lr_scale, keel_error *err)
{
  if (host && !(isfinite(lr_scale) && lr_scale >= 0.0))
    return host->fail(err, KEEL_EINVAL,
                      "step %llu: learning-rate factor %g, expected a "
                      "finite value >= 0",
                      (unsigned long long)step, lr_scale);
  float lr = (float)(params[P_LR].f * lr_scale);
  float mu = (float)params[P_MOMENTUM].f;
  float wd = (float)params[P_WEIGHT_DECAY].f;
  int nesterov = params[P_NESTEROV].i != 0;
  if (params[P_MOMENTUM].f <= 0.0) {
    for (size_t i = 0; i < n_weights; i++) {
      float g = grad[i];
      if (wd != 0.0f)
        g = g + wd * w[i];
      w[i] = w[i] - lr * g;
    }
    return KEEL_OK;
  }
  for (size_t i = 0; i < n_weights; i++) {
    float g = grad[i];
    if (wd != 0.0f)
      g = g + wd * w[i];
    float v = mu * state[i] + g;
    state[i] = v;
    g = nesterov ? g + mu * v : v;
    w[i] = w[i] - lr * g;
  }
  return KEEL_OK;
}

static void sgd_step(const keel_value *params, float *w, const float *grad,
                     float *state, size_t n_weights, uint64_t step,
                     double lr_scale)
{
  sgd_update(NULL, params, w, grad, state, n_weights, step, lr_scale, NULL);
}

static const keel_optimizer_api sgd_api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = sgd_state_floats,
    .step = sgd_step,
    .update = sgd_update,
};

static const keel_plugin sgd_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "sgd",
    .version = "1.0.0",
    .summary = "stochastic gradient descent: momentum, Nesterov, weight decay",
    .license = "MIT",
    .params = sgd_params,
    .n_params = P_COUNT,
    .api = &sgd_api,
};

KEEL_PLUGIN_DEFINE(sgd_plugin)
