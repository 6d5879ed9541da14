/* Broken on purpose: the entry symbol is misspelt, so dlsym() finds no
 * keel_plugin_entry. The loader must refuse the file ("no entry symbol"). */
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
    .name = "no_entry",
    .version = "1.0.0",
    .summary = "exports a misspelt entry symbol",
    .api = &api,
};

/* A plausible typo of KEEL_PLUGIN_ENTRY_NAME, exported like the real one. */
KEEL_EXPORT const keel_plugin *keel_plugin_entyr(void);
KEEL_EXPORT const keel_plugin *keel_plugin_entyr(void)
{
  return &desc;
}
