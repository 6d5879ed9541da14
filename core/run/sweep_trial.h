/* One trial of a sweep, in its own process (`keel sweep --trial K DIR`,
 * which the driver starts): an ordinary run of the sweep's frozen plan
 * with the trial's values as overrides, sealed into DIR/trials/, its
 * outcome written to DIR/trials/K.json (docs/tuning.md, "Trials"). */
#ifndef KEEL_RUN_SWEEP_TRIAL_H
#define KEEL_RUN_SWEEP_TRIAL_H

#include <signal.h>

#include <jansson.h>

#include "keel/keel.h"

/* The outcome file of trial k: DIR/trials/<k>.json (malloc'd). */
char *keel_sweep_trial_file(const char *dir, unsigned long k,
                            const char *suffix);

/* Runs trial k of the sweep in dir with `threads` threads (0: OpenMP's)
 * from its request, DIR/trials/<k>.request.json ({"trial", "point",
 * "overrides", "objective", "direction", "sweep_id"}); writes
 * DIR/trials/<k>.json:
 *   {"trial", "point", "overrides", "status": "ok" | "failed",
 *    "exit_code", "error", "objective", "run_id", "bundle" (file name in
 *    trials/), "bundle_sha256", "result_digest", "input_digest", "reused"}
 * unless the run was interrupted (nothing written: a resumed sweep runs
 * it again). A trial whose outcome exists already (an earlier process
 * finished it) returns at once. registry: the run registry's path (NULL:
 * the setting); with reuse, a verified bundle it holds with the trial's
 * input digest is the trial's outcome instead of training again
 * (run/sweep_cache.h); a bundle the trial seals is indexed there.
 * Returns the run's exit code (0 for a failed trial that was recorded);
 * KEEL_EXIT_RUNTIME with err set when the outcome could not be written. */
int keel_sweep_run_trial(const char *dir, unsigned long k, int threads,
                         const volatile sig_atomic_t *interrupt,
                         const char *registry, int reuse, keel_error *err);

#endif
