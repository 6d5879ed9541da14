/* Broken on purpose: struct_size is 8 bytes, smaller than the smallest
 * descriptor any ABI 1.x host accepts. Refused: descriptor too small. */
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
    .struct_size = 8,
    .kind = KEEL_KIND_OPTIMIZER,
    .name = "too_small",
    .version = "1.0.0",
    .summary = "a deliberately broken test plugin",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
