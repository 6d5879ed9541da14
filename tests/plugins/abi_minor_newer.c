/* Built against a newer SDK (ABI minor + 1) than the host: the header
 * spelled out with the newer minor. By the minor-version rule
 * (keel/abi.h) it loads: the host reads only the fields it knows. */
#include <math.h>

#include <keel/keel.h>

static size_t opt_state_floats(const keel_value *params, size_t n_weights)
{
  (void)params;
  (void)n_weights;
  return 0;
}

static void opt_step(const keel_value *params, float *w, const float *grad,
                     float *state, size_t n_weights, uint64_t step,
                     double lr_scale)
{
  (void)params, (void)state, (void)step, (void)lr_scale;
  for (size_t i = 0; i < n_weights; i++)
    w[i] -= 0.1f * grad[i];
}

static const keel_optimizer_api api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = opt_state_floats,
    .step = opt_step,
};

static const keel_plugin desc = {
    .abi_major = KEEL_ABI_MAJOR,
    .abi_minor = KEEL_ABI_MINOR + 1,
    .struct_size = sizeof(keel_plugin),
    .kind = KEEL_KIND_OPTIMIZER,
    .build_flags = KEEL__BUILD_FAST_MATH_BIT | KEEL__BUILD_CONTRACT_BIT,
    .flt_eval_method = __FLT_EVAL_METHOD__,
    .fp_probe = keel__fp_probe,
    .name = "abi_minor_newer",
    .version = "1.0.0",
    .summary = "an optimizer built against a newer SDK minor",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
