/* The kit's model properties: the gradient against central finite
 * differences, backward overwriting grad, the same bits however rows are
 * chunked, concurrent and interleaved calls, init deterministic in the
 * seed (model.h states each of these as the contract). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/plugin_test_internal.h"

/* Relative error the float gradient check allows; the denominator never
 * drops below PT_GRAD_FLOOR, so gradients near 0 are judged absolutely. */
#define PT_GRAD_TOL 1e-2
#define PT_GRAD_FLOOR 0.1

typedef struct model_inst {
  const keel_model_api *api;
  const keel_host *host;
  void *self;
  size_t n_in, n_out, n_rows, n_w;
  float *w, *x, *d_out; /* weights, n_rows inputs, n_rows output grads */
} model_inst;

static void model_free(model_inst *m)
{
  if (m->self)
    m->api->destroy(m->host, m->self);
  free(m->w);
  free(m->x);
  free(m->d_out);
  memset(m, 0, sizeof *m);
}

/* An instance for (n_in, n_out) with weights from init(seed) and random
 * inputs and output gradients; 1 when create refused (err says why). */
static int model_make(pt_ctx *c, size_t n_in, size_t n_out, size_t n_rows,
                      uint64_t salt, model_inst *m, keel_error *err)
{
  memset(m, 0, sizeof *m);
  m->api = c->plugin->api;
  m->host = &c->host;
  memset(err, 0, sizeof *err);
  if (m->api->create(&c->host, c->params, n_in, n_out, &m->self, err) != 0) {
    m->self = NULL;
    return 1;
  }
  m->n_in = n_in;
  m->n_out = n_out;
  m->n_rows = n_rows;
  m->n_w = m->api->n_weights(m->self);
  m->w = pt_floats(m->n_w);
  m->x = pt_floats(n_rows * n_in);
  m->d_out = pt_floats(n_rows * n_out);
  if (!m->w || !m->x || !m->d_out) {
    model_free(m);
    return KEEL_ENOMEM;
  }
  m->api->init(m->self, m->w, c->seed + salt);
  for (size_t i = 0; i < n_rows * n_in; i++)
    m->x[i] = (float)pt_uniform(c->seed + salt, PT_STREAM_X, i, -1, 1);
  for (size_t i = 0; i < n_rows * n_out; i++)
    m->d_out[i] = (float)pt_uniform(c->seed + salt, PT_STREAM_DOUT, i, -1, 1);
  return 0;
}

/* forward then backward on rows [r0, r0 + n) with a fresh workspace:
 * out (n x n_out) and grad (n_w) unless NULL. 0 or KEEL_ENOMEM. */
static int model_pass(const model_inst *m, const float *w, size_t r0, size_t n,
                      float *out, float *grad)
{
  float *ws = pt_floats(m->api->workspace_floats(m->self, n));
  float *o = out ? out : pt_floats(n * m->n_out);
  if (!ws || !o) {
    free(ws);
    if (!out)
      free(o);
    return KEEL_ENOMEM;
  }
  const float *x = m->x + r0 * m->n_in;
  m->api->forward(m->self, w, x, n, o, ws);
  if (grad)
    m->api->backward(m->self, w, x, n, m->d_out + r0 * m->n_out, grad, ws);
  free(ws);
  if (!out)
    free(o);
  return 0;
}

/* sum of d_out . out over every row, in double, for weights w. */
static int model_objective(const model_inst *m, const float *w, double *value)
{
  float *out = pt_floats(m->n_rows * m->n_out);
  if (!out || model_pass(m, w, 0, m->n_rows, out, NULL)) {
    free(out);
    return KEEL_ENOMEM;
  }
  double s = 0;
  for (size_t i = 0; i < m->n_rows * m->n_out; i++)
    s += (double)m->d_out[i] * (double)out[i];
  free(out);
  *value = s;
  return 0;
}

/* Differences of the objective in weight j with step h: central, forward
 * and backward (fd[3]); l0 is the objective at w. A kink (ReLU) inside
 * [w - h, w + h] spoils the central one but leaves a one-sided one. */
static int model_fd(const model_inst *m, float *w, size_t j, double h,
                    double l0, double fd[3])
{
  float w0 = w[j], wp = (float)(w0 + h), wm = (float)(w0 - h);
  double lp, lm;
  w[j] = wp;
  int rc = model_objective(m, w, &lp);
  w[j] = wm;
  if (!rc)
    rc = model_objective(m, w, &lm);
  w[j] = w0;
  fd[0] = (lp - lm) / ((double)wp - (double)wm);
  fd[1] = (lp - l0) / ((double)wp - (double)w0);
  fd[2] = (l0 - lm) / ((double)w0 - (double)wm);
  return rc;
}

static double rel_err(double a, double b)
{
  double scale = fmax(fmax(fabs(a), fabs(b)), PT_GRAD_FLOOR);
  return fabs(a - b) / scale;
}

static int prop_gradient(pt_ctx *c, model_inst *m)
{
  float *g = pt_floats(m->n_w);
  if (!g || model_pass(m, m->w, 0, m->n_rows, NULL, g)) {
    free(g);
    return KEEL_ENOMEM;
  }
  double worst = -1, worst_fd = 0, l0;
  size_t worst_j = 0;
  int rc = model_objective(m, m->w, &l0);
  for (size_t j = 0; !rc && j < m->n_w; j++) {
    /* Two steps, three differences each; the best agreement counts, so
     * a kink met by one of them is not an error. */
    double best = INFINITY, best_fd = 0;
    for (int k = 0; !rc && k < 2; k++) {
      double h = (k ? 1e-3 : 1e-2) * fmax(1.0, fabs(m->w[j])), fd[3];
      rc = model_fd(m, m->w, j, h, l0, fd);
      for (int d = 0; !rc && d < 3; d++)
        if (rel_err(fd[d], g[j]) < best) {
          best = rel_err(fd[d], g[j]);
          best_fd = fd[d];
        }
    }
    if (!rc && (best > worst || isnan(best))) {
      worst = best;
      worst_fd = best_fd;
      worst_j = j;
    }
  }
  if (!rc) {
    keel_pt_result res = worst <= PT_GRAD_TOL ? KEEL_PT_PASS : KEEL_PT_FAIL;
    rc = pt_record(
        c, "model.gradient", res,
        "worst relative error %.3g at w[%zu] of %zu (backward %.9g, central "
        "difference %.9g; tolerance %g) on %zu rows x %zu inputs -> %zu "
        "outputs",
        worst < 0 ? 0.0 : worst, worst_j, m->n_w, m->n_w ? g[worst_j] : 0.0,
        worst_fd, PT_GRAD_TOL, m->n_rows, m->n_in, m->n_out);
  }
  free(g);
  return rc;
}

static int prop_overwrites(pt_ctx *c, model_inst *m)
{
  float *g0 = pt_floats(m->n_w), *gn = pt_floats(m->n_w);
  int rc = KEEL_ENOMEM;
  if (!g0 || !gn)
    goto out;
  for (size_t i = 0; i < m->n_w; i++)
    gn[i] = NAN;
  if (model_pass(m, m->w, 0, m->n_rows, NULL, g0) ||
      model_pass(m, m->w, 0, m->n_rows, NULL, gn))
    goto out;
  size_t j = pt_first_diff(g0, gn, m->n_w);
  if (j < m->n_w)
    rc = pt_record(c, "model.backward_overwrites", KEEL_PT_FAIL,
                   "grad[%zu] is %g after backward into a NaN-filled buffer "
                   "and %g into a zeroed one: backward must overwrite grad, "
                   "not add to it",
                   j, gn[j], g0[j]);
  else
    rc = pt_record(c, "model.backward_overwrites", KEEL_PT_PASS,
                   "all %zu gradients the same bits into a NaN-filled and a "
                   "zeroed buffer",
                   m->n_w);
out:
  free(g0);
  free(gn);
  return rc;
}

/* Checks rows [r0, r0 + n) taken as one chunk against the rows of the
 * full batch (forward) and the per-row gradients added in row order
 * (backward). 1 with what differs in why, 0 when equal, or ENOMEM. */
static int chunk_agrees(const model_inst *m, const float *out_all,
                        const float *row_grads, size_t r0, size_t n, char *why,
                        size_t why_size)
{
  float *out = pt_floats(n * m->n_out), *g = pt_floats(m->n_w),
        *sum = pt_floats(m->n_w);
  int rc = KEEL_ENOMEM;
  if (!out || !g || !sum || model_pass(m, m->w, r0, n, out, g))
    goto out;
  rc = 0;
  size_t i = pt_first_diff(out, out_all + r0 * m->n_out, n * m->n_out);
  if (i < n * m->n_out) {
    snprintf(why, why_size,
             "forward of rows %zu..%zu as one chunk gives output %zu of row "
             "%zu as %.9g, the %zu rows at once %.9g",
             r0, r0 + n - 1, i % m->n_out, r0 + i / m->n_out, out[i], m->n_rows,
             out_all[r0 * m->n_out + i]);
    rc = 1;
    goto out;
  }
  for (size_t r = r0; r < r0 + n; r++)
    for (size_t j = 0; j < m->n_w; j++)
      sum[j] += row_grads[r * m->n_w + j];
  size_t j = pt_first_diff(g, sum, m->n_w);
  if (j < m->n_w) {
    snprintf(why, why_size,
             "backward of rows %zu..%zu gives grad[%zu] = %.9g, the "
             "one-row gradients added in row order %.9g: sum rows in order, "
             "in float, starting from 0",
             r0, r0 + n - 1, j, g[j], sum[j]);
    rc = 1;
  }
out:
  free(out);
  free(g);
  free(sum);
  return rc;
}

static int prop_chunking(pt_ctx *c, model_inst *m)
{
  size_t nr = m->n_rows, no = m->n_out;
  float *out_all = pt_floats(nr * no), *rows = pt_floats(nr * m->n_w);
  int rc = KEEL_ENOMEM, bad = 0;
  char why[512] = "";
  if (!out_all || !rows || model_pass(m, m->w, 0, nr, out_all, NULL))
    goto out;
  for (size_t r = 0; r < nr; r++)
    if (model_pass(m, m->w, r, 1, NULL, rows + r * m->n_w))
      goto out;
  rc = 0;
  /* Chunkings: every row alone, all at once, then random cuts. */
  bad = chunk_agrees(m, out_all, rows, 0, nr, why, sizeof why);
  for (size_t r = 0; !bad && r < nr; r++)
    bad = chunk_agrees(m, out_all, rows, r, 1, why, sizeof why);
  size_t draw = 0;
  for (int k = 0; !bad && k < 4; k++)
    for (size_t r0 = 0; !bad && r0 < nr;) {
      size_t n = pt_between(c->seed, PT_STREAM_CHUNKS, draw++, 1, nr - r0);
      bad = chunk_agrees(m, out_all, rows, r0, n, why, sizeof why);
      r0 += n;
    }
  if (bad < 0) {
    rc = bad;
    goto out;
  }
  rc = bad ? pt_record(c, "model.chunking", KEEL_PT_FAIL, "%s", why)
           : pt_record(c, "model.chunking", KEEL_PT_PASS,
                       "%zu rows: alone, at once and in 4 random chunkings, "
                       "the same output bits and the per-row gradients "
                       "added in order",
                       nr);
out:
  free(out_all);
  free(rows);
  return rc;
}

/* The chunk task t of the thread check covers. */
static void thread_chunk(const model_inst *m, size_t t, size_t *r0, size_t *n)
{
  *r0 = t % m->n_rows;
  *n = 1 + (t / m->n_rows) % (m->n_rows - *r0);
}

#define PT_TASKS 64

static int prop_threads(pt_ctx *c, model_inst *m)
{
  size_t per = m->n_rows * m->n_out + m->n_w;
  float *ref = calloc(PT_TASKS * per, sizeof *ref),
        *got = calloc(PT_TASKS * per, sizeof *got);
  int rc = KEEL_ENOMEM, failed = 0;
  if (!ref || !got)
    goto out;
  for (size_t t = 0; t < PT_TASKS; t++) {
    size_t r0, n;
    thread_chunk(m, t, &r0, &n);
    if (model_pass(m, m->w, r0, n, ref + t * per,
                   ref + t * per + m->n_rows * m->n_out))
      goto out;
  }
  /* Many threads on one instance, each with its own workspace. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(8)
  for (size_t t = 0; t < PT_TASKS; t++) {
    size_t r0, n;
    thread_chunk(m, t, &r0, &n);
    if (model_pass(m, m->w, r0, n, got + t * per,
                   got + t * per + m->n_rows * m->n_out)) {
#pragma omp atomic write
      failed = 1;
    }
  }
  rc = 0;
  if (failed) {
    rc = KEEL_ENOMEM;
    goto out;
  }
  for (size_t t = 0; t < PT_TASKS; t++) {
    size_t r0, n;
    thread_chunk(m, t, &r0, &n);
    size_t i = pt_first_diff(ref + t * per, got + t * per, per);
    if (i < per) {
      rc = pt_record(c, "model.threads", KEEL_PT_FAIL,
                     "rows %zu..%zu computed on 8 threads at once differ "
                     "from the serial call at %s[%zu]: forward and backward "
                     "must use only their arguments and workspace",
                     r0, r0 + n - 1, i < m->n_rows * m->n_out ? "out" : "grad",
                     i < m->n_rows * m->n_out ? i : i - m->n_rows * m->n_out);
      goto out;
    }
  }
  rc = pt_record(c, "model.threads", KEEL_PT_PASS,
                 "%d chunks on 8 threads, each the serial bits", PT_TASKS);
out:
  free(ref);
  free(got);
  return rc;
}

/* Solo results of a model: out (rows x n_out) then grad (n_w). */
static int solo(const model_inst *m, float **res)
{
  *res = pt_floats(m->n_rows * m->n_out + m->n_w);
  if (!*res)
    return KEEL_ENOMEM;
  return model_pass(m, m->w, 0, m->n_rows, *res, *res + m->n_rows * m->n_out);
}

static int prop_reentrant(pt_ctx *c, model_inst *a)
{
  model_inst b;
  keel_error e;
  /* A second instance of another shape when the model takes one. */
  int made = model_make(c, a->n_in + 1, a->n_out, a->n_rows + 2, 101, &b, &e);
  if (made == 1)
    made = model_make(c, a->n_in, a->n_out, a->n_rows + 2, 101, &b, &e);
  if (made == 1)
    return pt_record(c, "model.reentrant", KEEL_PT_FAIL,
                     "a second instance was refused: %s", e.message);
  if (made)
    return made;
  float *sa = NULL, *sb = NULL, *ia = NULL, *ib = NULL, *wa = NULL, *wb = NULL;
  size_t na = a->n_rows * a->n_out, nb = b.n_rows * b.n_out;
  int rc = KEEL_ENOMEM;
  if (solo(a, &sa) || solo(&b, &sb))
    goto out;
  ia = pt_floats(na + a->n_w);
  ib = pt_floats(nb + b.n_w);
  wa = pt_floats(a->api->workspace_floats(a->self, a->n_rows));
  wb = pt_floats(b.api->workspace_floats(b.self, b.n_rows));
  if (!ia || !ib || !wa || !wb)
    goto out;
  /* forward A, forward B, backward A, backward B on this one thread: a
   * model that keeps anything between calls outside ws shows it here. */
  a->api->forward(a->self, a->w, a->x, a->n_rows, ia, wa);
  b.api->forward(b.self, b.w, b.x, b.n_rows, ib, wb);
  a->api->backward(a->self, a->w, a->x, a->n_rows, a->d_out, ia + na, wa);
  b.api->backward(b.self, b.w, b.x, b.n_rows, b.d_out, ib + nb, wb);
  size_t i = pt_first_diff(sa, ia, na + a->n_w);
  size_t j = pt_first_diff(sb, ib, nb + b.n_w);
  if (i < na + a->n_w || j < nb + b.n_w) {
    int first = i < na + a->n_w;
    size_t k = first ? i : j, n_out = first ? na : nb;
    rc = pt_record(c, "model.reentrant", KEEL_PT_FAIL,
                   "with calls of two instances (%zu and %zu inputs) "
                   "interleaved on one thread, instance %c's %s[%zu] "
                   "differs from its solo result: keep everything a call "
                   "needs in the instance (read-only) or the workspace, "
                   "never in static or global memory",
                   a->n_in, b.n_in, first ? 'A' : 'B',
                   k < n_out ? "out" : "grad", k < n_out ? k : k - n_out);
  } else {
    rc = pt_record(c, "model.reentrant", KEEL_PT_PASS,
                   "two instances (%zu and %zu inputs) interleaved: each "
                   "its solo bits",
                   a->n_in, b.n_in);
  }
out:
  free(sa);
  free(sb);
  free(ia);
  free(ib);
  free(wa);
  free(wb);
  model_free(&b);
  return rc;
}

static int prop_init_seed(pt_ctx *c, model_inst *m)
{
  float *w1 = pt_floats(m->n_w), *w2 = pt_floats(m->n_w),
        *w3 = pt_floats(m->n_w);
  int rc = KEEL_ENOMEM;
  if (!w1 || !w2 || !w3)
    goto out;
  m->api->init(m->self, w1, c->seed);
  m->api->init(m->self, w2, c->seed);
  m->api->init(m->self, w3, c->seed + 1);
  size_t i = pt_first_diff(w1, w2, m->n_w);
  int zero = 1;
  for (size_t k = 0; k < m->n_w; k++)
    zero &= w1[k] == 0.0f && w3[k] == 0.0f;
  if (i < m->n_w)
    rc = pt_record(c, "model.init_seed", KEEL_PT_FAIL,
                   "init with seed %llu twice gives w[%zu] = %.9g, then "
                   "%.9g: init must depend on the seed alone",
                   (unsigned long long)c->seed, i, w1[i], w2[i]);
  else if (!zero && pt_first_diff(w1, w3, m->n_w) == m->n_w)
    rc = pt_record(c, "model.init_seed", KEEL_PT_FAIL,
                   "seeds %llu and %llu give the same %zu weights: init "
                   "ignores the seed",
                   (unsigned long long)c->seed, (unsigned long long)c->seed + 1,
                   m->n_w);
  else
    rc = pt_record(c, "model.init_seed", KEEL_PT_PASS, "%s",
                   zero ? "init is all zeros (needs no seed), the same bits "
                          "twice"
                        : "the same seed gives the same bits, the next "
                          "seed other weights");
out:
  free(w1);
  free(w2);
  free(w3);
  return rc;
}

int pt_model(pt_ctx *c)
{
  /* Shapes from the seed; a model may refuse some (a binary model wants
   * one output), so fall back to 1, 2 and 3 outputs. */
  size_t n_in = pt_between(c->seed, PT_STREAM_SHAPE, 0, 2, 6);
  size_t n_rows = pt_between(c->seed, PT_STREAM_SHAPE, 2, 3, 9);
  size_t outs[4] = {pt_between(c->seed, PT_STREAM_SHAPE, 1, 1, 4), 1, 2, 3};
  model_inst m;
  keel_error e = {0};
  int rc = 1;
  for (int k = 0; rc == 1 && k < 4; k++)
    rc = model_make(c, n_in, outs[k], n_rows, 0, &m, &e);
  if (rc == 1)
    return pt_wanted(c, "model.create")
               ? pt_record(c, "model.create", KEEL_PT_FAIL,
                           "create refused %zu inputs with 1 to 4 outputs: %s",
                           n_in, e.message)
               : 0;
  if (rc)
    return rc;
  if (pt_wanted(c, "model.create"))
    rc = pt_record(c, "model.create", KEEL_PT_PASS,
                   "%zu inputs -> %zu outputs, %zu weights, %zu rows", m.n_in,
                   m.n_out, m.n_w, m.n_rows);
  if (!rc && pt_wanted(c, "model.gradient"))
    rc = prop_gradient(c, &m);
  if (!rc && pt_wanted(c, "model.backward_overwrites"))
    rc = prop_overwrites(c, &m);
  if (!rc && pt_wanted(c, "model.chunking"))
    rc = prop_chunking(c, &m);
  if (!rc && pt_wanted(c, "model.threads"))
    rc = prop_threads(c, &m);
  if (!rc && pt_wanted(c, "model.reentrant"))
    rc = prop_reentrant(c, &m);
  if (!rc && pt_wanted(c, "model.init_seed"))
    rc = prop_init_seed(c, &m);
  model_free(&m);
  return rc;
}
