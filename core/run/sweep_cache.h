/* The run registry as a sweep's trials use it (docs/tuning.md, "The run
 * cache"): a trial whose input digest a verified, registered bundle
 * already has is not trained again, and every trial's bundle is indexed.
 * A registry that cannot be asked or written is a warning: the bundle is
 * the truth, and the trial trains or stands without it. Kept apart from
 * run/registry.h so the sweep's files need not see the registry's types. */
#ifndef KEEL_RUN_SWEEP_CACHE_H
#define KEEL_RUN_SWEEP_CACHE_H

/* keel_sweep_run_trial's `find`: ctx is the registry's path (NULL: the
 * `registry` setting). 1 with *bundle (malloc'd) when a reusable bundle
 * exists, else 0. */
int keel_sweep_cache_find(void *ctx, const char *input_digest, char **bundle);

/* Indexes a trial's sealed bundle in the registry at registry_path (NULL:
 * the setting); a failure is logged as a warning. */
void keel_sweep_cache_register(const char *registry_path, const char *bundle);

#endif
