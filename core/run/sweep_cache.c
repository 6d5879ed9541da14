/* The run registry for a sweep's trials (sweep_cache.h). */
#include "run/sweep_cache.h"

#include <stdlib.h>

#include "base/log.h"
#include "run/registry.h"

int keel_sweep_cache_find(void *ctx, const char *input_digest, char **bundle)
{
  keel_error err = {0};
  char *run_id = NULL;
  int rc =
      keel_run_registry_find_reusable(ctx, input_digest, bundle, &run_id, &err);
  free(run_id);
  if (rc < 0) {
    keel_log_emit(KEEL_LOG_WARN, "the run cache was not consulted: %s",
                  err.message);
    return 0;
  }
  return rc;
}

void keel_sweep_cache_register(const char *registry_path, const char *bundle)
{
  keel_run_registry *r = NULL;
  keel_error err = {0};
  int rc = keel_run_registry_open(registry_path, 1, &r, &err);
  if (!rc)
    rc = keel_run_registry_add_bundle(r, bundle, 0, NULL, &err);
  if (rc)
    keel_log_emit(KEEL_LOG_WARN,
                  "the trial was not indexed in the run registry: %s (the "
                  "bundle is complete; `keel runs import` indexes it later)",
                  err.message);
  keel_run_registry_close(r);
}
