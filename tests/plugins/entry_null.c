/* Broken on purpose: the entry symbol exists but returns NULL. Refused: no
 * descriptor (and the host must not crash). */
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
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "entry_null",
    .version = "1.0.0",
    .summary = "a deliberately broken test plugin",
    .api = &api,
};

/* Keeps desc referenced (it is what a correct entry would return). */
KEEL_EXPORT const keel_plugin *keel_plugin_entry(void);
KEEL_EXPORT const keel_plugin *keel_plugin_entry(void)
{
  return desc.name != NULL ? NULL : &desc;
}
