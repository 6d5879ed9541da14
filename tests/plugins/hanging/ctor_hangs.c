/* Hostile on purpose: an ELF constructor that never returns when
 * KEEL_TEST_CTOR_HANG is set (so an accidental scan stays instant). The
 * plugin scanner must stop it and list the file as broken instead of
 * hanging keel: tests/e2e/test_loader_constructor_hangs.sh. In a folder of
 * its own (hanging-plugins/) so no other scan meets it. */
#include <stdlib.h>
#include <unistd.h>

#include <keel/keel.h>

__attribute__((constructor)) static void ctor_hangs(void)
{
  const char *hang = getenv("KEEL_TEST_CTOR_HANG");
  while (hang && hang[0])
    pause();
}

static size_t opt_state_floats(const keel_value *params, size_t n_weights)
{
  (void)params;
  (void)n_weights;
  return 0;
}

static int opt_update(const keel_host *host, const keel_value *params, float *w,
                      const float *grad, float *state, size_t n_weights,
                      uint64_t step, double lr_scale, keel_error *err)
{
  (void)host;
  (void)params;
  (void)state;
  (void)step;
  (void)err;
  for (size_t i = 0; i < n_weights; i++)
    w[i] -= (float)(0.1 * lr_scale) * grad[i];
  return KEEL_OK;
}

static const keel_optimizer_api api = {
    KEEL_OPTIMIZER_API_HEADER,
    .state_floats = opt_state_floats,
    .update = opt_update,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_OPTIMIZER),
    .name = "ctor_hangs",
    .version = "1.0.0",
    .summary = "a plugin whose constructor never returns (test fixture)",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
