/* adam: the Adam optimizer, with L2 weight decay or, when decoupled,
 * AdamW's decoupled decay (the PyTorch formulation).
 *
 *   lr_t = lr lr_scale
 *   decoupled:  w = w (1 - lr_t weight_decay)      else g = grad + wd w
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   w = w - (lr_t / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * The bias corrections are computed in double once per step and rounded to
 * float; the element-wise work is float. State: m then v (2 n floats). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

enum { P_LR, P_BETA1, P_BETA2, P_EPS, P_WEIGHT_DECAY, P_DECOUPLED, P_COUNT };

static const keel_param_decl adam_params[] = {
    [P_LR] =
        KEEL_P_FLOAT("lr", 0.001, 1e-8, 10.0, KEEL_PARAM_LOG_SCALE, "1/step",
                     "learning rate (times the host's "
                     "schedule factor)"),
    [P_BETA1] = KEEL_P_FLOAT("beta1", 0.9, 0.0, 0.9999, 0, NULL,
                             "decay of the running mean of gradients"),
    [P_BETA2] = KEEL_P_FLOAT("beta2", 0.999, 0.0, 0.99999, 0, NULL,
                             "decay of the running mean of squared "
                             "gradients"),
    [P_EPS] = KEEL_P_FLOAT("eps", 1e-8, 1e-12, 1.0, KEEL_PARAM_LOG_SCALE, NULL,
                           "added to the denominator for stability"),
    [P_WEIGHT_DECAY] = KEEL_P_FLOAT("weight_decay", 0.0, 0.0, 1.0, 0, NULL,
                                    "weight decay (L2 in the gradient, or "
                                    "decoupled when decoupled = true)"),
    [P_DECOUPLED] =
        KEEL_P_BOOL("decoupled", 0, "decoupled weight decay: AdamW"),
};
KEEL_PARAMS_MATCH(adam_params, P_COUNT);

static size_t adam_state_floats(const keel_value *params, size_t n_weights)
{
  return 2 * n_weights;
}

/* One update. host NULL (step, ABI 1.0): no checks, step 0 taken as 1;
 * else step 0 (the bias correction would divide by 1 - beta1^0 = 0) and
 * a learning-rate factor that is not finite and >= 0 are refused. */
static int adam_update(const keel_host *host, const keel_value *params,
                       float *w, const float *grad, float *state,
                       size_t n_weights, uint64_t step, double lr_scale,
                       keel_error *err)
{
  if (host && step == 0)
    return host->fail(err, KEEL_EINVAL,
                      "step 0: steps count from 1 (the bias correction "
                      "divides by 1 - beta1^step)");
  if (host && !(isfinite(lr_scale) && lr_scale >= 0.0))
    return host->fail(err, KEEL_EINVAL,
                      "step %llu: learning-rate factor %g, expected a "
                      "finite value >= 0",
                      (unsigned long long)step, lr_scale);
  double lr = params[P_LR].f * lr_scale;
  double b1 = params[P_BETA1].f, b2 = params[P_BETA2].f;
  double t = (double)(step == 0 ? 1 : step);
  float step_size = (float)(lr / (1.0 - pow(b1, t)));
  float bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
  float fb1 = (float)b1, fb2 = (float)b2;
  float c1 = (float)(1.0 - b1), c2 = (float)(1.0 - b2);
  float eps = (float)params[P_EPS].f;
  float wd = (float)params[P_WEIGHT_DECAY].f;
  float shrink = (float)(1.0 - lr * params[P_WEIGHT_DECAY].f);
  int decoupled = params[P_DECOUPLED].i != 0;
  float *m = state, *v = state + n_weights;
  if (params[P_WEIGHT_DECAY].f != 0.0) {
    if (decoupled)
      for (size_t i = 0; i < n_weights; i++)
        w[i] = w[i] * shrink;
  }
  int l2 = params[P_WEIGHT_DECAY].f != 0.0 && !decoupled;
  for (size_t i = 0; i < n_weights; i++) {
    float g = l2 ? grad[i] + wd * w[i] : grad[i];
    float mi = fb1 * m[i] + c1 * g;
    float vi = fb2 * v[i] + c2 * (g * g);
    m[i] = mi;
    v[i] = vi;
    float denom = sqrtf(vi) / bc2_sqrt + eps;
    w[i] = w[i] - step_size * mi / denom;
  }
  return KEEL_OK;
}

static void adam_step(const keel_value *params, float *w, const float *grad,
                      float *state, size_t n_weights, uint64_t step,
                      double lr_scale)
{
  adam_update(NULL, params, w, grad, state, n_weights, step, lr_scale, NULL);
}

static const keel_optimizer_api adam_api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = adam_state_floats,
    .step = adam_step,
    .update = adam_update,
};

static const keel_plugin adam_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "adam",
    .version = "1.0.0",
    .summary = "Adam with L2 or decoupled (AdamW) weight decay",
    .license = "MIT",
    .params = adam_params,
    .n_params = P_COUNT,
    .api = &adam_api,
};

KEEL_PLUGIN_DEFINE(adam_plugin)
