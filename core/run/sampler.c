/* The samplers' front: strategy names, the checks every sampler relies
 * on, which parameters are active, and the dispatch of a proposal. */
#include <math.h>
#include <string.h>

#include "base/status.h"
#include "config/config_error.h"
#include "run/sampler.h"
#include "run/sampler_internal.h"

static const char *const strategy_names[] = {"grid", "random", "tpe"};

int keel_sampler_strategy_from_name(const char *name,
                                    keel_sampler_strategy *out, keel_error *err)
{
  for (int s = KEEL_SAMPLER_GRID; s <= KEEL_SAMPLER_TPE; s++)
    if (name && strcmp(name, strategy_names[s]) == 0) {
      *out = (keel_sampler_strategy)s;
      return KEEL_OK;
    }
  return keel_fail(err, KEEL_EINVAL,
                   "unknown sweep strategy '%s': expected grid, random or tpe",
                   name ? name : "(none)");
}

const char *keel_sampler_strategy_name(keel_sampler_strategy s)
{
  if (s < KEEL_SAMPLER_GRID || s > KEEL_SAMPLER_TPE)
    return "unknown";
  return strategy_names[s];
}

/* 2^53: beyond it a double no longer holds every integer. */
#define WHOLE_MAX 9007199254740992.0

static int check_bounds(const keel_tune_param *p, keel_error *err)
{
  const char *f = p->file;
  int line = p->line;
  switch (p->kind) {
  case KEEL_TUNE_CHOICE:
    if (p->n_choices == 0 || !p->choices)
      return keel_config_fail(err, KEEL_EINVAL, f, line,
                              "%s: choice() needs at least one value", p->name);
    return KEEL_OK;
  case KEEL_TUNE_INT:
    if (!(isfinite(p->lo) && isfinite(p->hi) && p->lo == floor(p->lo) &&
          p->hi == floor(p->hi) && fabs(p->lo) <= WHOLE_MAX &&
          fabs(p->hi) <= WHOLE_MAX && p->lo <= p->hi))
      return keel_config_fail(err, KEEL_EINVAL, f, line,
                              "%s: int(%.17g, %.17g): expected whole numbers "
                              "lo <= hi within +-2^53",
                              p->name, p->lo, p->hi);
    return KEEL_OK;
  case KEEL_TUNE_UNIFORM:
    if (!(isfinite(p->lo) && isfinite(p->hi) && p->lo <= p->hi))
      return keel_config_fail(err, KEEL_EINVAL, f, line,
                              "%s: uniform(%.17g, %.17g): expected finite "
                              "lo <= hi",
                              p->name, p->lo, p->hi);
    return KEEL_OK;
  case KEEL_TUNE_LOGUNIFORM:
    if (!(isfinite(p->lo) && isfinite(p->hi) && 0 < p->lo && p->lo <= p->hi))
      return keel_config_fail(err, KEEL_EINVAL, f, line,
                              "%s: loguniform(%.17g, %.17g): expected finite "
                              "0 < lo <= hi",
                              p->name, p->lo, p->hi);
    return KEEL_OK;
  }
  return keel_config_fail(err, KEEL_EINVAL, f, line,
                          "%s: unknown distribution kind %d", p->name,
                          (int)p->kind);
}

int keel_sampler_check_space(const keel_tune_space *space, keel_error *err)
{
  if (!space || (space->n > 0 && !space->params))
    return keel_fail(err, KEEL_EINVAL, "tuning space: no parameters given");
  if (space->n > KEEL_SAMPLER_MAX_PARAMS)
    return keel_fail(err, KEEL_EINVAL,
                     "tuning space: %zu parameters, at most %u are supported",
                     space->n, KEEL_SAMPLER_MAX_PARAMS);
  for (size_t i = 0; i < space->n; i++) {
    const keel_tune_param *p = &space->params[i];
    if (!p->name)
      return keel_fail(err, KEEL_EINVAL,
                       "tuning space: parameter %zu has "
                       "no name",
                       i);
    int rc = check_bounds(p, err);
    if (rc)
      return rc;
    if (p->parent == -1)
      continue;
    if (p->parent < 0 || (size_t)p->parent >= i)
      return keel_config_fail(err, KEEL_EINVAL, p->file, p->line,
                              "%s: its parent (index %d) must be a parameter "
                              "declared before it",
                              p->name, p->parent);
    const keel_tune_param *q = &space->params[p->parent];
    if (q->kind != KEEL_TUNE_CHOICE || p->parent_choice >= q->n_choices)
      return keel_config_fail(err, KEEL_EINVAL, p->file, p->line,
                              "%s: its parent %s must be a choice() with a "
                              "choice number %zu",
                              p->name, q->name, p->parent_choice);
  }
  return KEEL_OK;
}

int keel_sampler_active(const keel_tune_space *space, const double *x, size_t i)
{
  const keel_tune_param *p = &space->params[i];
  if (p->parent < 0)
    return 1;
  double v = x[p->parent];
  return !isnan(v) && v == (double)p->parent_choice;
}

int keel__sampler_check_trial(uint64_t trial_number, keel_error *err)
{
  if (trial_number > KEEL_SAMPLER_MAX_TRIAL)
    return keel_fail(err, KEEL_ERANGE,
                     "trial number %llu: at most %llu trials are supported",
                     (unsigned long long)trial_number,
                     (unsigned long long)KEEL_SAMPLER_MAX_TRIAL);
  return KEEL_OK;
}

int keel_sampler_propose(const keel_tune_space *space,
                         keel_sampler_strategy strategy, uint64_t seed,
                         uint64_t trial_number, const keel_sampler_obs *history,
                         size_t n_history, double *x_out, keel_error *err)
{
  switch (strategy) {
  case KEEL_SAMPLER_GRID: {
    uint64_t size;
    int rc = keel_sampler_grid_size(space, &size, err);
    if (rc)
      return rc;
    if (trial_number >= size)
      return keel_fail(
          err, KEEL_ERANGE, "trial %llu: the grid has only %llu points",
          (unsigned long long)trial_number, (unsigned long long)size);
    return keel_sampler_grid_point(
        space, keel_sampler_grid_order(seed, size, trial_number), x_out, err);
  }
  case KEEL_SAMPLER_RANDOM:
    return keel_sampler_random(space, seed, trial_number, x_out, err);
  case KEEL_SAMPLER_TPE:
    return keel_sampler_tpe(space, seed, trial_number, history, n_history,
                            x_out, err);
  }
  return keel_fail(err, KEEL_EINVAL, "unknown sweep strategy %d",
                   (int)strategy);
}
