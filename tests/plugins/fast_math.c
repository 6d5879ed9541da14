/* Broken on purpose: an optimizer built with -ffast-math
 * (tests/plugins/CMakeLists.txt), which KEEL_PLUGIN_HEADER records in
 * build_flags: refused, since fast-math arithmetic changes with the
 * compiler's mood. Built twice: fast_math.so is only compiled with the
 * flag; fast_math_ftz.so is also linked with it, which (GCC < 13) adds
 * crtfastmath.o, a constructor that sets flush-to-zero in the MXCSR of
 * whatever process loads it. FIXTURE_NAME tells the two apart. */
#include <keel/keel.h>

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fast_math"
#endif

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
    .name = FIXTURE_NAME,
    .version = "1.0.0",
    .summary = "an optimizer built with -ffast-math",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
