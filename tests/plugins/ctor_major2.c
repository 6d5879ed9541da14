/* Broken on purpose: ABI major 2 (refused) and an ELF constructor, which
 * dlopen runs before any keel check: it writes "CTOR RAN" to stderr and
 * creates the file $KEEL_TEST_CTOR_MARKER names. The host must never load
 * it in its own process (the scan runs in a child whose output is
 * captured): tests/e2e/test_loader_constructors.sh. */
#include <stdio.h>
#include <stdlib.h>

#include <keel/keel.h>

__attribute__((constructor)) static void ctor_ran(void)
{
  fputs("CTOR RAN\n", stderr);
  const char *path = getenv("KEEL_TEST_CTOR_MARKER");
  FILE *f = path && path[0] ? fopen(path, "a") : NULL;
  if (f) {
    fputs("constructor ran\n", f);
    fclose(f);
  }
}

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
    .abi_major = KEEL_ABI_MAJOR + 1,
    .abi_minor = 0,
    .struct_size = sizeof(keel_plugin),
    .kind = KEEL_KIND_OPTIMIZER,
    .name = "ctor_major2",
    .version = "1.0.0",
    .summary = "an ABI 2 plugin with a printing constructor",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
