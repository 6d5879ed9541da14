/* `keel sweep` (docs/tuning.md): trials proposed by a sampler inside the
 * template's tuning space, each an ordinary run of the sweep's frozen
 * plan in its own process, the sweep sealed into a bundle of its own.
 *
 * What makes the result independent of --jobs and of which trial ends
 * first: trial k's values are a pure function of (space, strategy, seed,
 * k, the outcomes of the rounds before k's) — rounds of the space's
 * round_size trials, a size that never depends on the number of jobs —
 * and a trial of round r starts only when every trial of earlier rounds
 * has ended (TPE; grid and random need no history). Outcomes are kept in
 * trial order, one file each (trials/K.json), so a sweep killed at any
 * moment resumes (`--resume DIR`) with the trials it had and proposes
 * exactly those the uninterrupted sweep would have. */
#ifndef KEEL_RUN_SWEEP_H
#define KEEL_RUN_SWEEP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keel/keel.h"
#include "run/sweep_plan.h"

/* Progress, as trials start and end (the library never prints). */
typedef struct keel_sweep_progress {
  void *ctx;
  /* the sweep is planned (or reopened): its folder, trials, strategy
   * name and objective ("valid.accuracy max") */
  void (*planned)(void *ctx, const char *dir, unsigned long n,
                  const char *strategy, const char *objective, int maximize);
  /* trial k of n started with these values ("optimizer.lr=0.01 ..."),
   * `running` trials now running */
  void (*started)(void *ctx, unsigned long k, unsigned long n,
                  const char *values, size_t running);
  /* trial k ended: its outcome (trials/K.json's object), the best so far
   * (NULL: none yet), trials ended, of n, and still running */
  void (*ended)(void *ctx, const json_t *trial, const json_t *best,
                unsigned long done, unsigned long n, size_t running);
} keel_sweep_progress;

typedef struct keel_sweep_options {
  keel_sweep_inputs in;   /* a new sweep's inputs (in.manifest_path) ... */
  const char *resume_dir; /* ... or the folder of one to resume */
  const char *out_dir;    /* where a new sweep's folder goes (runs/) */
  const char *strategy;   /* NULL: the space's [tune] strategy */
  unsigned long trials;   /* 0: the space's (grid: every point) */
  uint64_t seed;
  unsigned jobs;        /* trials run at once, >= 1 */
  int threads;          /* threads in all, divided between the jobs;
                           0: the CPUs online */
  const char *self_exe; /* the keel that runs each trial
                           (`keel sweep --trial K DIR`) */
  const char *registry; /* passed to the trials (--registry), or NULL */
  int no_reuse;         /* train every trial, even one the run cache
                           (run/sweep_cache.h) could hand back */
  const keel_sweep_progress *progress;
  const volatile sig_atomic_t *interrupt; /* stop starting trials */
} keel_sweep_options;

typedef struct keel_sweep_outcome {
  char *dir;         /* the sweep's folder (malloc'd) */
  char *bundle_path; /* its sealed bundle, or NULL */
  char digest[65];   /* the sweep result digest, "" when not sealed */
  json_t *sweep;     /* sweep.json's object (trials, best), or NULL */
  int exit_code;     /* 0 with a successful trial, 1 without, 2 refused,
                        3 integrity, 130/143 interrupted */
} keel_sweep_outcome;

int keel_sweep_execute(const keel_sweep_options *opt, keel_sweep_outcome *out,
                       keel_error *err);
void keel_sweep_outcome_free(keel_sweep_outcome *out);

/* The trials of sweep.json's "trials" that succeeded, best first (ties:
 * the earlier trial), as borrowed references in a new array. */
json_t *keel_sweep_ranked(const json_t *sweep);

#endif
