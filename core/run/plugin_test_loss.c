/* The kit's loss properties: d_out against central differences of the
 * loss, evaluate and value_grad agreeing when a loss has both, and the
 * same per-row bits whether rows come one at a time or all at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/plugin_test_internal.h"

#define PT_GRAD_TOL 1e-2
#define PT_GRAD_FLOOR 0.1

typedef struct loss_case {
  const keel_loss_api *api;
  keel_task task;
  size_t n_classes, width, n_rows;
  float *out, *y;
} loss_case;

/* Through evaluate when the loss has it, else value_grad. 1 with err
 * when the loss refused. */
static int loss_eval(pt_ctx *c, const loss_case *l, int use_value_grad,
                     const float *out, const float *y, size_t n_rows,
                     float *d_out, double *sum, keel_error *err)
{
  memset(err, 0, sizeof *err);
  if (l->api->evaluate && !use_value_grad)
    return l->api->evaluate(&c->host, c->params, out, y, n_rows, l->width,
                            d_out, sum, err) != 0;
  *sum = l->api->value_grad(c->params, out, y, n_rows, l->width, d_out);
  return 0;
}

static double rel_err(double a, double b)
{
  return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), PT_GRAD_FLOOR);
}

static int prop_gradient(pt_ctx *c, loss_case *l, const char *task)
{
  size_t n = l->n_rows * l->width;
  float *d = pt_floats(n), *o = pt_floats(n);
  keel_error e;
  double sum, worst = -1, worst_fd = 0;
  size_t worst_i = 0;
  int rc = 0;
  if (!d || !o) {
    rc = KEEL_ENOMEM;
    goto out;
  }
  if (loss_eval(c, l, 0, l->out, l->y, l->n_rows, d, &sum, &e)) {
    rc = pt_record(c, "loss.gradient", KEEL_PT_FAIL,
                   "%s: the loss refused %zu rows: %s", task, l->n_rows,
                   e.message);
    goto out;
  }
  memcpy(o, l->out, n * sizeof *o);
  for (size_t i = 0; i < n; i++) {
    /* As for models: two steps, central and one-sided differences, the
     * best agreement counts (a hinge's kink spoils one of them). */
    double best = INFINITY, best_fd = 0;
    for (int k = 0; k < 2; k++) {
      double h = (k ? 1e-3 : 1e-2) * fmax(1.0, fabs(o[i])), lp, lm;
      float o0 = o[i], op = (float)(o0 + h), om = (float)(o0 - h);
      o[i] = op;
      int bad = loss_eval(c, l, 0, o, l->y, l->n_rows, NULL, &lp, &e);
      o[i] = om;
      bad |= loss_eval(c, l, 0, o, l->y, l->n_rows, NULL, &lm, &e);
      o[i] = o0;
      if (bad)
        continue;
      double fd[3] = {(lp - lm) / ((double)op - (double)om),
                      (lp - sum) / ((double)op - (double)o0),
                      (sum - lm) / ((double)o0 - (double)om)};
      for (int q = 0; q < 3; q++)
        if (rel_err(fd[q], d[i]) < best) {
          best = rel_err(fd[q], d[i]);
          best_fd = fd[q];
        }
    }
    if (best > worst || isnan(best)) {
      worst = best;
      worst_fd = best_fd;
      worst_i = i;
    }
  }
  rc = pt_record(
      c, "loss.gradient", worst <= PT_GRAD_TOL ? KEEL_PT_PASS : KEEL_PT_FAIL,
      "%s: worst relative error %.3g at row %zu output %zu (d_out "
      "%.9g, central difference %.9g; tolerance %g), %zu rows x "
      "%zu outputs",
      task, worst < 0 ? 0.0 : worst, worst_i / l->width, worst_i % l->width,
      n ? d[worst_i] : 0.0, worst_fd, PT_GRAD_TOL, l->n_rows, l->width);
out:
  free(d);
  free(o);
  return rc;
}

static int prop_agrees(pt_ctx *c, loss_case *l, const char *task)
{
  if (!l->api->evaluate || !l->api->value_grad)
    return pt_record(c, "loss.evaluate_agrees", KEEL_PT_SKIP,
                     "%s: the loss has only %s", task,
                     l->api->evaluate ? "evaluate" : "value_grad");
  size_t n = l->n_rows * l->width;
  float *d1 = pt_floats(n), *d2 = pt_floats(n);
  double s1, s2;
  keel_error e;
  int rc = KEEL_ENOMEM;
  if (!d1 || !d2)
    goto out;
  if (loss_eval(c, l, 0, l->out, l->y, l->n_rows, d1, &s1, &e)) {
    rc = pt_record(c, "loss.evaluate_agrees", KEEL_PT_FAIL,
                   "%s: evaluate refused: %s", task, e.message);
    goto out;
  }
  loss_eval(c, l, 1, l->out, l->y, l->n_rows, d2, &s2, &e);
  size_t i = pt_first_diff(d1, d2, n);
  if (memcmp(&s1, &s2, sizeof s1) != 0 || i < n)
    rc = pt_record(c, "loss.evaluate_agrees", KEEL_PT_FAIL,
                   "%s: evaluate and value_grad differ (%s)", task,
                   i < n ? "d_out" : "the loss sum");
  else
    rc = pt_record(c, "loss.evaluate_agrees", KEEL_PT_PASS,
                   "%s: the same loss sum and d_out bits", task);
out:
  free(d1);
  free(d2);
  return rc;
}

static int prop_chunking(pt_ctx *c, loss_case *l, const char *task)
{
  size_t w = l->width, n = l->n_rows * w;
  float *all = pt_floats(n), *one = pt_floats(n);
  double s_all, s_rows = 0, s;
  keel_error e;
  int rc = KEEL_ENOMEM;
  if (!all || !one)
    goto out;
  if (loss_eval(c, l, 0, l->out, l->y, l->n_rows, all, &s_all, &e)) {
    rc = pt_record(c, "loss.chunking", KEEL_PT_FAIL, "%s: refused: %s", task,
                   e.message);
    goto out;
  }
  for (size_t r = 0; r < l->n_rows; r++) {
    if (loss_eval(c, l, 0, l->out + r * w, l->y + r, 1, one + r * w, &s, &e)) {
      rc = pt_record(c, "loss.chunking", KEEL_PT_FAIL,
                     "%s: row %zu alone refused: %s", task, r, e.message);
      goto out;
    }
    s_rows += s;
  }
  size_t i = pt_first_diff(all, one, n);
  if (i < n)
    rc = pt_record(c, "loss.chunking", KEEL_PT_FAIL,
                   "%s: d_out of row %zu output %zu is %.9g with all %zu "
                   "rows, %.9g alone: a row's gradient may depend on that "
                   "row only",
                   task, i / w, i % w, all[i], l->n_rows, one[i]);
  else if (!(fabs(s_all - s_rows) <= 1e-12 * fmax(1.0, fabs(s_all))))
    rc = pt_record(c, "loss.chunking", KEEL_PT_FAIL,
                   "%s: the loss of %zu rows at once is %.17g, the sum of "
                   "each alone %.17g",
                   task, l->n_rows, s_all, s_rows);
  else
    rc = pt_record(c, "loss.chunking", KEEL_PT_PASS,
                   "%s: each row's d_out the same bits alone and in a chunk "
                   "of %zu; the sums agree",
                   task, l->n_rows);
out:
  free(all);
  free(one);
  return rc;
}

/* The properties for one task the loss declares. */
static int loss_task(pt_ctx *c, keel_task task)
{
  const char *name =
      task == KEEL_TASK_CLASSIFICATION ? "classification" : "regression";
  loss_case l = {.api = c->plugin->api, .task = task};
  keel_error e = {0};
  /* Three classes, or two when the loss is binary. */
  size_t classes[2] = {task == KEEL_TASK_CLASSIFICATION ? 3 : 0, 2};
  int ok = 0;
  for (int k = 0; !ok && k < (task == KEEL_TASK_CLASSIFICATION ? 2 : 1); k++) {
    l.n_classes = classes[k];
    memset(&e, 0, sizeof e);
    ok = l.api->output_width(c->params, task, l.n_classes, &l.width, &e) == 0;
  }
  if (!ok)
    return pt_record(c, "loss.gradient", KEEL_PT_FAIL,
                     "%s: output_width refused it, which the contract "
                     "declares: %s",
                     name, e.message);
  l.n_rows = pt_between(c->seed, PT_STREAM_SHAPE, 4, 3, 9);
  l.out = pt_floats(l.n_rows * l.width);
  l.y = pt_floats(l.n_rows);
  int rc = KEEL_ENOMEM;
  if (!l.out || !l.y)
    goto out;
  for (size_t i = 0; i < l.n_rows * l.width; i++)
    l.out[i] = (float)pt_uniform(c->seed, PT_STREAM_X, i, -2, 2);
  for (size_t r = 0; r < l.n_rows; r++)
    l.y[r] = l.n_classes ? (float)pt_between(c->seed, PT_STREAM_Y, r, 0,
                                             l.n_classes - 1)
                         : (float)pt_uniform(c->seed, PT_STREAM_Y, r, -2, 2);
  rc = 0;
  if (pt_wanted(c, "loss.gradient"))
    rc = prop_gradient(c, &l, name);
  if (!rc && pt_wanted(c, "loss.evaluate_agrees"))
    rc = prop_agrees(c, &l, name);
  if (!rc && pt_wanted(c, "loss.chunking"))
    rc = prop_chunking(c, &l, name);
out:
  free(l.out);
  free(l.y);
  return rc;
}

int pt_loss(pt_ctx *c)
{
  uint32_t tasks = c->plugin->desc.contract.tasks;
  int rc = 0;
  if (tasks == 0)
    tasks = KEEL_TASK_CLASSIFICATION | KEEL_TASK_REGRESSION;
  if (tasks & KEEL_TASK_CLASSIFICATION)
    rc = loss_task(c, KEEL_TASK_CLASSIFICATION);
  if (!rc && (tasks & KEEL_TASK_REGRESSION))
    rc = loss_task(c, KEEL_TASK_REGRESSION);
  return rc;
}
