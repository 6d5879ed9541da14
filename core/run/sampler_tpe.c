/* The TPE strategy, as Optuna's default TPESampler (univariate): random
 * start-up trials, then the completed and pruned trials split into a good
 * group (the best gamma(n)) and a bad one, a Parzen estimator of each per
 * parameter, and of 24 candidates drawn from the good one the one that
 * maximises log l(x) - log g(x). Parameters are proposed in index order,
 * so a conditional parameter sees its parent's proposal; it is fitted only
 * on the trials where it was active. */
#include <math.h>
#include <stdlib.h>

#include "base/status.h"
#include "keel/rng.h"
#include "run/parzen.h"
#include "run/sampler.h"
#include "run/sampler_internal.h"

/* A trial's rank key, as Optuna's (-step, value): every complete trial
 * first, then pruned ones by later step, then value; then trial order. */
typedef struct ranked {
  double stage; /* complete: -inf; pruned: -step, or 1 with no value */
  double value; /* NaN as +inf */
  size_t i;     /* position in the history */
} ranked;

static int ranked_cmp(const void *pa, const void *pb)
{
  const ranked *a = pa, *b = pb;
  if (a->stage != b->stage)
    return a->stage < b->stage ? -1 : 1;
  if (a->value != b->value)
    return a->value < b->value ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* Optuna's gamma: min(ceil(0.1 n), 25), in doubles as Optuna computes it
 * (0.1 * 30 rounds up to 3.0000000000000004, so gamma(30) = 4 there too). */
static size_t gamma_of(size_t n)
{
  double g = ceil(0.1 * (double)n);
  return g > KEEL_TPE_GAMMA_MAX ? KEEL_TPE_GAMMA_MAX : (size_t)g;
}

/* A history point's active values must be values the space can take:
 * the estimators index choices by them. */
static int check_history(const keel_tune_space *space,
                         const keel_sampler_obs *history, size_t n,
                         keel_error *err)
{
  if (n > 0 && !history)
    return keel_fail(err, KEEL_EINVAL, "TPE: no history given");
  for (size_t h = 0; h < n; h++) {
    const keel_sampler_obs *o = &history[h];
    if (o->status != KEEL_TRIAL_COMPLETE && o->status != KEEL_TRIAL_PRUNED &&
        o->status != KEEL_TRIAL_FAILED && o->status != KEEL_TRIAL_RUNNING)
      return keel_fail(err, KEEL_EINVAL,
                       "TPE history entry %zu: unknown status %d", h,
                       (int)o->status);
    if (o->status == KEEL_TRIAL_FAILED)
      continue;
    if (!o->x)
      return keel_fail(err, KEEL_EINVAL, "TPE history entry %zu: no point", h);
    for (size_t i = 0; i < space->n; i++) {
      const keel_tune_param *p = &space->params[i];
      double v = o->x[i];
      if (isnan(v))
        continue;
      int ok = p->kind == KEEL_TUNE_CHOICE
                   ? v >= 0 && v < (double)p->n_choices && v == floor(v)
                   : v >= p->lo && v <= p->hi &&
                         (p->kind != KEEL_TUNE_INT || v == floor(v));
      if (!ok)
        return keel_fail(err, KEEL_EINVAL,
                         "TPE history entry %zu: %s = %.17g is not a value "
                         "of its distribution",
                         h, p->name, v);
    }
  }
  return KEEL_OK;
}

/* Parameter i's proposal from the good (below) and bad (above) trials. */
static int propose_param(const keel_tune_space *space, size_t i,
                         const keel_sampler_obs *history, const ranked *used,
                         size_t n_used, const unsigned char *below,
                         uint64_t seed, uint64_t stream, double *obs,
                         double *out, keel_error *err)
{
  const keel_tune_param *p = &space->params[i];
  if (p->kind == KEEL_TUNE_CHOICE ? p->n_choices == 1 : p->lo == p->hi) {
    *out = p->kind == KEEL_TUNE_CHOICE ? 0.0 : p->lo;
    return KEEL_OK;
  }
  keel__parzen l = {0}, g = {0};
  int rc = KEEL_OK;
  /* used[] is in trial order here: the oldest trials get the ramp */
  for (int group = 1; group >= 0 && !rc; group--) {
    size_t m = 0;
    for (size_t u = 0; u < n_used; u++) {
      double v = history[used[u].i].x[i];
      if (below[u] == group && !isnan(v))
        obs[m++] = v;
    }
    rc = keel__parzen_fit(group ? &l : &g, p, obs, m, err);
  }
  if (rc)
    goto out;
  double best = NAN, best_score = -INFINITY;
  for (unsigned c = 0; c < KEEL_TPE_N_EI_CANDIDATES; c++) {
    double v = keel__parzen_sample(
        &l, keel_rng_uniform(seed, stream, 1 + c),
        keel_rng_uniform(seed, stream, 1 + KEEL_TPE_N_EI_CANDIDATES + c));
    double score = keel__parzen_log_pdf(&l, v) - keel__parzen_log_pdf(&g, v);
    if (isnan(best) || score > best_score) {
      best = v;
      best_score = isnan(score) ? -INFINITY : score;
    }
  }
  *out = best;
out:
  keel__parzen_free(&l);
  keel__parzen_free(&g);
  return rc;
}

/* The model's proposal for trial_number from history (checked), with at
 * least one completed or pruned trial in it. Running trials rank after
 * every other one (Optuna's constant liar); gamma counts only finished
 * ones. */
static int tpe_propose(const keel_tune_space *space, uint64_t seed,
                       uint64_t trial_number, const keel_sampler_obs *history,
                       size_t n_history, double *x_out, keel_error *err)
{
  int rc = KEEL_OK;
  size_t n_used = 0, n_finished = 0;
  for (size_t h = 0; h < n_history; h++) {
    n_used += history[h].status != KEEL_TRIAL_FAILED;
    n_finished += history[h].status == KEEL_TRIAL_COMPLETE ||
                  history[h].status == KEEL_TRIAL_PRUNED;
  }
  ranked *used = malloc(n_used * sizeof *used);
  unsigned char *below = calloc(n_used, 1);
  unsigned char *good = calloc(n_history, 1);
  double *obs = malloc(n_used * sizeof *obs);
  if (!used || !below || !good || !obs) {
    rc = keel_fail(err, KEEL_ENOMEM, "TPE: out of memory");
    goto out;
  }
  size_t u = 0;
  for (size_t h = 0; h < n_history; h++) {
    const keel_sampler_obs *o = &history[h];
    ranked r = {-INFINITY, isnan(o->value) ? INFINITY : o->value, h};
    switch (o->status) {
    case KEEL_TRIAL_FAILED: continue;
    case KEEL_TRIAL_COMPLETE: break;
    case KEEL_TRIAL_PRUNED:
      r.stage = isnan(o->value) ? 1.0 : -(double)o->step;
      r.value = isnan(o->value) ? 0.0 : o->value;
      break;
    case KEEL_TRIAL_RUNNING: r = (ranked){INFINITY, INFINITY, h}; break;
    }
    used[u++] = r;
  }
  /* rank, mark the best gamma(n) by trial position, back to trial order */
  qsort(used, n_used, sizeof *used, ranked_cmp);
  size_t n_below = gamma_of(n_finished);
  for (size_t k = 0; k < n_below && k < n_used; k++)
    good[used[k].i] = 1;
  u = 0;
  for (size_t h = 0; h < n_history; h++)
    if (history[h].status != KEEL_TRIAL_FAILED) {
      used[u] = (ranked){0, 0, h};
      below[u++] = good[h];
    }
  for (size_t i = 0; i < space->n && !rc; i++) {
    if (!keel_sampler_active(space, x_out, i)) {
      x_out[i] = NAN;
      continue;
    }
    rc = propose_param(space, i, history, used, n_used, below, seed,
                       keel__sampler_stream(trial_number, i), obs, &x_out[i],
                       err);
  }
out:
  free(used);
  free(below);
  free(good);
  free(obs);
  return rc;
}

int keel_sampler_tpe(const keel_tune_space *space, uint64_t seed,
                     uint64_t trial_number, const keel_sampler_obs *history,
                     size_t n_history, double *x_out, keel_error *err)
{
  int rc = keel_sampler_check_space(space, err);
  if (!rc)
    rc = keel__sampler_check_trial(trial_number, err);
  if (!rc)
    rc = check_history(space, history, n_history, err);
  if (rc)
    return rc;
  size_t n_finished = 0;
  for (size_t h = 0; h < n_history; h++)
    n_finished += history[h].status == KEEL_TRIAL_COMPLETE ||
                  history[h].status == KEEL_TRIAL_PRUNED;
  if (n_finished < space->startup || n_finished == 0)
    return keel_sampler_random(space, seed, trial_number, x_out, err);
  /* The round's earlier trials, proposed from this same history, join it
   * as running (each a pure function of it), so a round spreads out
   * instead of proposing round_size draws of one model. */
  uint64_t first = space->round_size > 1
                       ? trial_number - trial_number % space->round_size
                       : trial_number;
  size_t n_pending = (size_t)(trial_number - first);
  if (n_pending == 0)
    return tpe_propose(space, seed, trial_number, history, n_history, x_out,
                       err);
  keel_sampler_obs *h = malloc((n_history + n_pending) * sizeof *h);
  double *xs = malloc(n_pending * (space->n ? space->n : 1) * sizeof *xs);
  if (!h || !xs) {
    rc = keel_fail(err, KEEL_ENOMEM, "TPE: out of memory");
    goto out;
  }
  for (size_t k = 0; k < n_history; k++)
    h[k] = history[k];
  for (size_t k = 0; k <= n_pending && !rc; k++) {
    double *x = k < n_pending ? &xs[k * space->n] : x_out;
    rc = tpe_propose(space, seed, first + k, h, n_history + k, x, err);
    if (k < n_pending)
      h[n_history + k] = (keel_sampler_obs){x, INFINITY, 0, KEEL_TRIAL_RUNNING};
  }
out:
  free(h);
  free(xs);
  return rc;
}
