/* The kit's optimizer properties: a run stopped after k steps and resumed
 * from its saved weights and state continues with the bits of a run that
 * never stopped (what a checkpoint relies on), and update and step agree
 * when an optimizer has both. */
#include <stdlib.h>
#include <string.h>

#include "run/plugin_test_internal.h"

#define PT_STEPS_BEFORE 3
#define PT_STEPS_AFTER 4

typedef struct pt_opt {
  const keel_optimizer_api *api;
  size_t n_w, n_s;
  float *g; /* PT_STEPS_BEFORE + PT_STEPS_AFTER gradients */
} pt_opt;

/* Steps first..last (from 1) on w and state; 1 with err when refused. */
static int run_steps(pt_ctx *c, const pt_opt *o, int use_step, float *w,
                     float *state, uint64_t first, uint64_t last,
                     keel_error *err)
{
  for (uint64_t s = first; s <= last; s++) {
    const float *g = o->g + (s - 1) * o->n_w;
    double lr_scale = 1.0 / (double)s; /* a schedule, so it is exercised */
    memset(err, 0, sizeof *err);
    if (o->api->update && !use_step) {
      if (o->api->update(&c->host, c->params, w, g, state, o->n_w, s, lr_scale,
                         err) != 0)
        return 1;
    } else {
      o->api->step(c->params, w, g, state, o->n_w, s, lr_scale);
    }
  }
  return 0;
}

static int prop_resume(pt_ctx *c, const pt_opt *o, const float *w0)
{
  size_t nw = o->n_w, ns = o->n_s;
  float *w = pt_floats(nw), *st = pt_floats(ns), *w2 = pt_floats(nw),
        *st2 = pt_floats(ns);
  keel_error e;
  int rc = KEEL_ENOMEM;
  if (!w || !st || !w2 || !st2)
    goto out;
  memcpy(w, w0, nw * sizeof *w);
  const uint64_t k = PT_STEPS_BEFORE, m = PT_STEPS_BEFORE + PT_STEPS_AFTER;
  if (run_steps(c, o, 0, w, st, 1, k, &e)) {
    rc = pt_record(c, "optimizer.resume", KEEL_PT_FAIL, "a step refused: %s",
                   e.message);
    goto out;
  }
  /* The checkpoint: weights and state as the host saves them. */
  memcpy(w2, w, nw * sizeof *w);
  memcpy(st2, st, ns * sizeof *st);
  run_steps(c, o, 0, w, st, k + 1, m, &e);
  run_steps(c, o, 0, w2, st2, k + 1, m, &e);
  size_t i = pt_first_diff(w, w2, nw), j = pt_first_diff(st, st2, ns);
  if (i < nw || j < ns)
    rc = pt_record(c, "optimizer.resume", KEEL_PT_FAIL,
                   "resumed after step %llu from the saved weights and "
                   "state, step %llu gives %s[%zu] = %.9g, the run that "
                   "never stopped %.9g: keep everything between steps in "
                   "the state array",
                   (unsigned long long)k, (unsigned long long)m,
                   i < nw ? "w" : "state", i < nw ? i : j,
                   i < nw ? w2[i] : st2[j], i < nw ? w[i] : st[j]);
  else
    rc = pt_record(c, "optimizer.resume", KEEL_PT_PASS,
                   "%zu weights, %zu state floats: resumed after step %llu, "
                   "the same bits at step %llu",
                   nw, ns, (unsigned long long)k, (unsigned long long)m);
out:
  free(w);
  free(st);
  free(w2);
  free(st2);
  return rc;
}

static int prop_agrees(pt_ctx *c, const pt_opt *o, const float *w0)
{
  if (!o->api->update || !o->api->step)
    return pt_record(c, "optimizer.update_agrees", KEEL_PT_SKIP,
                     "the optimizer has only %s",
                     o->api->update ? "update" : "step");
  size_t nw = o->n_w, ns = o->n_s;
  float *w = pt_floats(nw), *st = pt_floats(ns), *w2 = pt_floats(nw),
        *st2 = pt_floats(ns);
  keel_error e;
  int rc = KEEL_ENOMEM;
  if (!w || !st || !w2 || !st2)
    goto out;
  memcpy(w, w0, nw * sizeof *w);
  memcpy(w2, w0, nw * sizeof *w);
  const uint64_t m = PT_STEPS_BEFORE + PT_STEPS_AFTER;
  if (run_steps(c, o, 0, w, st, 1, m, &e)) {
    rc = pt_record(c, "optimizer.update_agrees", KEEL_PT_FAIL,
                   "update refused: %s", e.message);
    goto out;
  }
  run_steps(c, o, 1, w2, st2, 1, m, &e);
  size_t i = pt_first_diff(w, w2, nw), j = pt_first_diff(st, st2, ns);
  rc = i < nw || j < ns
           ? pt_record(c, "optimizer.update_agrees", KEEL_PT_FAIL,
                       "after %llu steps update and step differ at %s[%zu]",
                       (unsigned long long)m, i < nw ? "w" : "state",
                       i < nw ? i : j)
           : pt_record(c, "optimizer.update_agrees", KEEL_PT_PASS,
                       "%llu steps: update and step the same bits",
                       (unsigned long long)m);
out:
  free(w);
  free(st);
  free(w2);
  free(st2);
  return rc;
}

int pt_optimizer(pt_ctx *c)
{
  pt_opt o = {.api = c->plugin->api};
  o.n_w = pt_between(c->seed, PT_STREAM_SHAPE, 5, 5, 20);
  o.n_s = o.api->state_floats(c->params, o.n_w);
  size_t steps = PT_STEPS_BEFORE + PT_STEPS_AFTER;
  o.g = pt_floats(steps * o.n_w);
  float *w0 = pt_floats(o.n_w);
  int rc = KEEL_ENOMEM;
  if (!o.g || !w0)
    goto out;
  for (size_t i = 0; i < o.n_w; i++)
    w0[i] = (float)pt_uniform(c->seed, PT_STREAM_X, i, -1, 1);
  for (size_t i = 0; i < steps * o.n_w; i++)
    o.g[i] = (float)pt_uniform(c->seed, PT_STREAM_GRAD, i, -1, 1);
  rc = 0;
  if (pt_wanted(c, "optimizer.resume"))
    rc = prop_resume(c, &o, w0);
  if (!rc && pt_wanted(c, "optimizer.update_agrees"))
    rc = prop_agrees(c, &o, w0);
out:
  free(o.g);
  free(w0);
  return rc;
}
