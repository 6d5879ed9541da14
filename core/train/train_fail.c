/* Losses and optimizers through their error channel (ABI 1.2: evaluate
 * and update; value_grad and step of older plugins cannot fail), and the
 * message of one that failed: the stage and the plugin once, where in the
 * run, and for a loss the source data row. A loss runs on many threads at
 * once; the failure reported is the lowest failing chunk's, so the message
 * does not depend on the thread count or on which thread ran first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "train/train_internal.h"

int keel__loss_sum(const keel__trainer *T, const float *out, const float *y,
                   size_t n, float *d_out, double *sum, keel_error *e)
{
  const keel_loss_api *L = T->lapi;
  if (!L->evaluate) {
    *sum = L->value_grad(T->s->loss_values, out, y, n, T->width, d_out);
    return KEEL_OK;
  }
  *sum = 0.0;
  e->code = KEEL_OK;
  e->message[0] = '\0';
  int rc = L->evaluate(T->host, T->s->loss_values, out, y, n, T->width, d_out,
                       sum, e);
  /* a positive return is no KEEL_E* code: a plugin bug, still a failure */
  return rc > 0 ? KEEL_EPLUGIN : rc;
}

/* The plugin's message without a leading "NAME: " of its own (the host's
 * prefix names it), or a stand-in when it left none. */
static const char *plugin_text(const char *name, int rc, const keel_error *e)
{
  const char *m = e->message;
  size_t n = strlen(name);
  if (n && strncmp(m, name, n) == 0 && strncmp(m + n, ": ", 2) == 0)
    m += n + 2;
  return *m ? m : keel_strerror(rc);
}

int keel__optimizer_update(const keel__trainer *T, float *w, float *opt,
                           uint64_t step, double lr_scale, keel_error *e)
{
  const keel_optimizer_api *O = T->oapi;
  const keel_value *p = T->s->optimizer_values;
  if (!O->update) {
    O->step(p, w, T->grad, opt, T->nw, step, lr_scale);
    return KEEL_OK;
  }
  e->code = KEEL_OK;
  e->message[0] = '\0';
  int rc = O->update(T->host, p, w, T->grad, opt, T->nw, step, lr_scale, e);
  return rc > 0 ? KEEL_EPLUGIN : rc;
}

int keel__optimizer_fail(const keel__trainer *T, int rc, const keel_error *e,
                         const char *where, keel_error *err)
{
  const char *name = keel__plugin_name(T->s->optimizer);
  return keel_fail(err, rc, "[optimizer] %s: %s: %s", name, where,
                   plugin_text(name, rc, e));
}

void keel__chunk_fail_clear(keel__trainer *T)
{
  for (int t = 0; t < T->nt; t++)
    T->fails[t].chunk = SIZE_MAX;
}

void keel__chunk_fail_note(keel__trainer *T, int t, size_t c, size_t start,
                           size_t n, int rc, const keel_error *e)
{
  keel__chunk_fail *f = &T->fails[t];
  if (f->chunk != SIZE_MAX && f->chunk < c)
    return;
  f->chunk = c;
  f->start = start;
  f->n_rows = n;
  f->rc = rc;
  f->err = *e;
}

/* "row N" at the start of text, N < n_rows: *row = N and the text after
 * it; else NULL. */
static const char *leading_row(const char *text, size_t n_rows, size_t *row)
{
  if (strncmp(text, "row ", 4) != 0 || text[4] < '0' || text[4] > '9')
    return NULL;
  char *end;
  unsigned long long v = strtoull(text + 4, &end, 10);
  if (v >= n_rows ||
      (*end != '\0' && *end != ':' && *end != ' ' && *end != ','))
    return NULL;
  *row = (size_t)v;
  return end;
}

int keel__chunk_failed(const keel__trainer *T)
{
  for (int t = 0; t < T->nt; t++)
    if (T->fails[t].chunk != SIZE_MAX)
      return 1;
  return 0;
}

int keel__chunk_fail_report(const keel__trainer *T, const keel_train_data *d,
                            const size_t *perm, const char *where,
                            keel_error *err)
{
  const keel__chunk_fail *f = NULL;
  for (int t = 0; t < T->nt; t++)
    if (T->fails[t].chunk != SIZE_MAX && (!f || T->fails[t].chunk < f->chunk))
      f = &T->fails[t];
  if (!f)
    return KEEL_OK;
  const char *name = keel__plugin_name(T->s->loss);
  const char *split = d->name ? d->name : "evaluated";
  const char *text = plugin_text(name, f->rc, &f->err);
  size_t r;
  const char *rest = leading_row(text, f->n_rows, &r);
  if (!rest)
    return keel_fail(err, f->rc, "[loss] %s: %s, a chunk of %zu %s rows: %s",
                     name, where, f->n_rows, split, text);
  size_t i = f->start + r, row = perm ? perm[i] : i;
  if (d->rows)
    return keel_fail(err, f->rc,
                     "[loss] %s: %s: source data row %zu (%s split)%s", name,
                     where, d->rows[row] + 1, split, rest);
  return keel_fail(err, f->rc, "[loss] %s: %s: row %zu of the %s split%s", name,
                   where, row + 1, split, rest);
}
