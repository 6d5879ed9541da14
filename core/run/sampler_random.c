/* The random strategy: every active parameter drawn independently from
 * Philox under (seed, trial, parameter index). TPE's start-up trials are
 * these same draws. */
#include <math.h>

#include "keel/rng.h"
#include "run/sampler.h"
#include "run/sampler_internal.h"

static double clamp(double v, double lo, double hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

double keel__sampler_draw(const keel_tune_param *p, uint64_t key,
                          uint64_t stream, uint64_t index)
{
  switch (p->kind) {
  case KEEL_TUNE_CHOICE:
    return (double)keel_rng_below(key, stream, index, p->n_choices);
  case KEEL_TUNE_INT: {
    /* hi - lo + 1 <= 2^54 (keel_sampler_check_space), exact in uint64 */
    uint64_t span = (uint64_t)(p->hi - p->lo) + 1;
    return p->lo + (double)keel_rng_below(key, stream, index, span);
  }
  case KEEL_TUNE_UNIFORM: {
    double u = keel_rng_uniform(key, stream, index);
    return clamp(p->lo + u * (p->hi - p->lo), p->lo, p->hi);
  }
  case KEEL_TUNE_LOGUNIFORM: {
    double u = keel_rng_uniform(key, stream, index);
    double a = log(p->lo), b = log(p->hi);
    /* exp(log(lo)) may differ from lo in the last bit: clamp */
    return clamp(exp(a + u * (b - a)), p->lo, p->hi);
  }
  }
  return NAN;
}

int keel_sampler_random(const keel_tune_space *space, uint64_t seed,
                        uint64_t trial_number, double *x_out, keel_error *err)
{
  int rc = keel_sampler_check_space(space, err);
  if (!rc)
    rc = keel__sampler_check_trial(trial_number, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < space->n; i++)
    x_out[i] =
        keel_sampler_active(space, x_out, i)
            ? keel__sampler_draw(&space->params[i], seed,
                                 keel__sampler_stream(trial_number, i), 0)
            : NAN;
  return 0;
}
