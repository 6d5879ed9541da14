/* The samplers of `keel sweep` (docs/tuning.md, "Samplers"): grid, random
 * and TPE proposals over a tuning space.
 *
 * A point is `double x[space->n]`: a CHOICE parameter holds its choice
 * index, an INT its integer, a UNIFORM or LOGUNIFORM its value, and an
 * inactive conditional parameter (its parent chose another plugin) NaN.
 *
 * Every proposal is a pure function of (space, strategy, seed, trial
 * number, history in the order given): the only randomness is Philox
 * (keel/rng.h) keyed by the seed, with the counter derived from the trial
 * number and the parameter's index. No state is kept between calls, so a
 * driver may ask for trial 17 at any time, from any thread, and get the
 * same bits. The functions allocate only scratch memory they free. */
#ifndef KEEL_RUN_SAMPLER_H
#define KEEL_RUN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "config/tune_space.h"
#include "keel/error.h"

typedef enum keel_sampler_strategy {
  KEEL_SAMPLER_GRID,
  KEEL_SAMPLER_RANDOM,
  KEEL_SAMPLER_TPE
} keel_sampler_strategy;

typedef enum keel_trial_status {
  KEEL_TRIAL_COMPLETE, /* value: the final objective */
  KEEL_TRIAL_PRUNED,   /* value: the last reported one (NaN: none) */
  KEEL_TRIAL_FAILED,   /* ignored by TPE, as Optuna ignores them */
  KEEL_TRIAL_RUNNING   /* proposed, not finished: TPE ranks it last, in
                          the bad group (Optuna's constant liar) */
} keel_trial_status;

/* One finished trial as the samplers see it. */
typedef struct keel_sampler_obs {
  const double *x; /* its point, space->n values (borrowed) */
  /* The objective oriented so that lower is better (the driver negates a
   * `max` objective). NaN ranks after every number. */
  double value;
  /* PRUNED: the step (epoch) at which value was reported. TPE ranks, as
   * Optuna does, every complete trial before every pruned one, and
   * pruned ones by later step first, then by value. */
  unsigned step;
  keel_trial_status status;
} keel_sampler_obs;

/* TPE's fixed settings: Optuna's TPESampler defaults (univariate). */
#define KEEL_TPE_N_EI_CANDIDATES 24
#define KEEL_TPE_PRIOR_WEIGHT 1.0
#define KEEL_TPE_GAMMA_MAX 25 /* gamma(n) = min(ceil(0.1 n), 25) */

/* "grid", "random" or "tpe" to its strategy; KEEL_EINVAL naming the
 * accepted names otherwise. */
int keel_sampler_strategy_from_name(const char *name,
                                    keel_sampler_strategy *out,
                                    keel_error *err);
const char *keel_sampler_strategy_name(keel_sampler_strategy s);

/* Checks what the samplers rely on: kinds, bounds (lo <= hi, 0 < lo for
 * LOGUNIFORM, whole numbers for INT), choices, parents (a lower index, a
 * CHOICE, a choice it has). KEEL_EINVAL with FILE:LINE and the name. */
int keel_sampler_check_space(const keel_tune_space *space, keel_error *err);

/* 1 when parameter i is active at point x (whose parameters below i are
 * already set): its parent, if any, is active and took its choice. */
int keel_sampler_active(const keel_tune_space *space, const double *x,
                        size_t i);

/* Proposes the point of trial `trial_number` into x_out (space->n values).
 * grid: the permuted grid's point trial_number (KEEL_ERANGE past its
 * size); random: independent draws; tpe: Optuna's TPE over `history`
 * (random while fewer than space->startup trials completed or pruned).
 * history: the trials of the rounds before trial_number's round (rounds
 * of space->round_size trials from trial 0); TPE itself adds the round's
 * earlier proposals as running trials. May be NULL when n_history is 0;
 * grid and random ignore it. */
int keel_sampler_propose(const keel_tune_space *space,
                         keel_sampler_strategy strategy, uint64_t seed,
                         uint64_t trial_number, const keel_sampler_obs *history,
                         size_t n_history, double *x_out, keel_error *err);

/* The number of grid points: every choice, every integer, `steps` points
 * of a continuous range, conditional parameters only under their parent's
 * choice. KEEL_EINVAL naming a continuous parameter without steps;
 * KEEL_ERANGE when the count does not fit 64 bits. */
int keel_sampler_grid_size(const keel_tune_space *space, uint64_t *size,
                           keel_error *err);

/* Grid point k (< size) in lexicographic order: the first parameter
 * varies slowest; a CHOICE's points list each choice's sub-grid in turn. */
int keel_sampler_grid_point(const keel_tune_space *space, uint64_t k,
                            double *x_out, keel_error *err);

/* The seeded order the grid strategy visits: a bijection of [0, size)
 * (a Feistel network with cycle walking), so trial t gets lexicographic
 * point keel_sampler_grid_order(seed, size, t). */
uint64_t keel_sampler_grid_order(uint64_t seed, uint64_t size, uint64_t t);

/* Random and TPE, also reachable through keel_sampler_propose. */
int keel_sampler_random(const keel_tune_space *space, uint64_t seed,
                        uint64_t trial_number, double *x_out, keel_error *err);
int keel_sampler_tpe(const keel_tune_space *space, uint64_t seed,
                     uint64_t trial_number, const keel_sampler_obs *history,
                     size_t n_history, double *x_out, keel_error *err);

#endif
