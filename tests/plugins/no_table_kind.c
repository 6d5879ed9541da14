/* Broken on purpose: an ABI 1.2 optimizer whose function table sets its
 * size but not its kind (written without KEEL_OPTIMIZER_API_HEADER).
 * Refused: the loader reads the 1.2 table header first. */
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
    .struct_size = sizeof(keel_optimizer_api), /* the defect: no .kind */
    .state_floats = opt_state_floats,
    .step = opt_step,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "no_table_kind",
    .version = "1.0.0",
    .summary = "an optimizer table without its kind",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
