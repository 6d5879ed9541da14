/* Broken on purpose: kind 42 is none of the five kinds. Refused: unknown
 * kind. */
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
    .abi_minor = KEEL_ABI_MINOR,
    .struct_size = sizeof(keel_plugin),
    .kind = 42,
    .name = "bad_kind",
    .version = "1.0.0",
    .summary = "a deliberately broken test plugin",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
