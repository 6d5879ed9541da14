/* Broken on purpose: a descriptor whose contraction probe fuses, as one
 * built with -ffp-contract=fast on an FMA CPU would. Here the probe calls
 * fma() explicitly, so the refusal is the same on every CPU; the real
 * build (fma_contract.so, only where the CPU has FMA) is the same source
 * with FIXTURE_REAL_CONTRACTION, compiled -mfma -ffp-contract=fast -O2 and
 * keeping KEEL_PLUGIN_HEADER's own probe. */
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

#ifdef FIXTURE_REAL_CONTRACTION
static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "fma_contract",
    .version = "1.0.0",
    .summary = "an optimizer built with -ffp-contract=fast on an FMA CPU",
    .api = &api,
};
#else
static double fused(double a, double b, double c)
{
  return fma(a, b, c);
}

/* KEEL_PLUGIN_HEADER spelled out, with the fused probe in its place. */
static const keel_plugin desc = {
    .abi_major = KEEL_ABI_MAJOR,
    .abi_minor = KEEL_ABI_MINOR,
    .struct_size = sizeof(keel_plugin),
    .kind = KEEL_KIND_OPTIMIZER,
    .build_flags = KEEL_BUILD_FP_CONTRACT_OFF,
    .flt_eval_method = 0,
    .fp_probe = fused,
    .name = "fused_probe",
    .version = "1.0.0",
    .summary = "an optimizer whose contraction probe fuses",
    .api = &api,
};
#endif

KEEL_PLUGIN_DEFINE(desc)
