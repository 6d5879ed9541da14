/* The trainer: the engine of the training loop. One model instance with
 * per-thread scratch; every minibatch of an epoch cut into fixed-size
 * chunks computed in parallel, combined in a fixed order and stepped on
 * one thread; evaluation of a split the same way. What it computes does
 * not depend on the thread count (train.h, "Determinism contract"). */
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "train/train_internal.h"

enum { SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE };

/* Weights per block of the parallel gradient combination. */
#define COMBINE_BLOCK 2048
/* Below this many chunk-gradient floats per batch (at several threads)
 * the combination runs on the thread that takes the optimizer step, and
 * batches are scheduled without barriers (train_epoch_claimed). */
#define COMBINE_SERIAL_FLOATS 65536
/* Per-thread and per-chunk buffers start 128 bytes apart at least, so two
 * threads never write to one cache line (or one adjacent-line pair). */
#define PAD_FLOATS 32
#define PAD_U64 16

static size_t pad_floats(size_t n)
{
  return (n + PAD_FLOATS - 1) / PAD_FLOATS * PAD_FLOATS;
}

/* Forward (and backward when grad is not NULL) of chunk c, n rows, on
 * thread t. rows == NULL: the rows start..start+n of d in order. A loss
 * that fails is noted for keel__chunk_fail_report; the chunk stops there. */
static void run_chunk(keel__trainer *T, const float *w,
                      const keel_train_data *d, const size_t *rows,
                      size_t start, size_t n, int t, size_t c, float *grad,
                      keel_metric_sums *sums)
{
  size_t nf = T->nf;
  const float *x, *y;
  if (rows) {
    float *xb = T->xbuf + (size_t)t * T->xs;
    float *yb = T->ybuf + (size_t)t * T->ys;
    /* Shuffled rows are cache misses: ask for all of the chunk's lines
     * first so the misses overlap (no effect on the values). */
    for (size_t r = 0; r < n; r++) {
      const char *row = (const char *)(d->x + rows[start + r] * nf);
      for (size_t b = 0; b < nf * sizeof(float); b += 64)
        __builtin_prefetch(row + b);
    }
    for (size_t r = 0; r < n; r++) {
      size_t src = rows[start + r];
      memcpy(xb + r * nf, d->x + src * nf, nf * sizeof *xb);
      yb[r] = d->y[src];
    }
    x = xb;
    y = yb;
  } else {
    x = d->x + start * nf;
    y = d->y + start;
  }
  float *out = T->obuf + (size_t)t * T->os;
  float *dout = T->dbuf + (size_t)t * T->os;
  float *ws = T->ws + (size_t)t * T->wss;
  T->mapi->forward(T->model, w, x, n, out, ws);
  /* summed locally: chunks of two threads may share a line of *sums */
  keel_metric_sums sm = {0, 0, 0};
  keel_error e;
  int rc = keel__loss_sum(T, out, y, n, grad ? dout : NULL, &sm.loss, &e);
  if (rc != KEEL_OK) {
    keel__chunk_fail_note(T, t, c, start, n, rc, &e);
    *sums = (keel_metric_sums){0, 0, 0};
    return;
  }
  uint64_t *conf = T->conf + (size_t)t * T->conf_stride;
  keel_metric_sums_add_rows(&sm, conf, T->task, T->n_classes, out, y, n,
                            T->width);
  *sums = sm;
  if (grad)
    T->mapi->backward(T->model, w, x, n, dout, grad, ws);
}

void keel__trainer_confusion_collect(keel__trainer *T, uint64_t *total)
{
  size_t kk = T->n_classes * T->n_classes;
  memset(total, 0, kk * sizeof *total);
  for (int t = 0; t < T->nt; t++) {
    uint64_t *c = T->conf + (size_t)t * T->conf_stride;
    for (size_t i = 0; i < kk; i++)
      total[i] += c[i];
    memset(c, 0, kk * sizeof *c);
  }
}

int keel__trainer_evaluate(keel__trainer *T, const float *w,
                           const keel_train_data *d, double ss_tot,
                           const char *where, keel_metrics *m, keel_error *err)
{
  keel_metrics_clear(m);
  if (!d || d->n_rows == 0)
    return KEEL_OK;
  size_t n = d->n_rows, C = T->chunk, n_chunks = (n + C - 1) / C;
  keel_metric_sums *sums = calloc(n_chunks, sizeof *sums);
  uint64_t *conf = calloc(T->n_classes * T->n_classes + 1, sizeof *conf);
  if (!sums || !conf) {
    free(sums);
    free(conf);
    return keel_fail(err, KEEL_ENOMEM, "train: out of memory evaluating");
  }
  memset(T->conf, 0, (size_t)T->nt * T->conf_stride * sizeof *T->conf);
  keel__chunk_fail_clear(T);
#pragma omp parallel for num_threads(T->nt) schedule(static) if (n_chunks > 1)
  for (size_t c = 0; c < n_chunks; c++) {
    size_t start = c * C, len = n - start < C ? n - start : C;
    run_chunk(T, w, d, NULL, start, len, omp_get_thread_num(), c, NULL,
              &sums[c]);
  }
  char at[96];
  if (d->name)
    snprintf(at, sizeof at, "%sevaluating the %s split", where, d->name);
  else
    snprintf(at, sizeof at, "%sevaluating", where);
  int rc = keel__chunk_fail_report(T, d, NULL, at, err);
  if (rc != KEEL_OK) {
    memset(T->conf, 0, (size_t)T->nt * T->conf_stride * sizeof *T->conf);
    free(sums);
    free(conf);
    return rc;
  }
  keel_metric_sums_tree(sums, n_chunks);
  keel__trainer_confusion_collect(T, conf);
  keel_metrics_finish(m, T->task, T->n_classes, &sums[0], conf, n, ss_tot);
  free(sums);
  free(conf);
  return KEEL_OK;
}

/* Fisher-Yates with draw i ~ U{0..i}: the 64-bit word u_i times (i + 1),
 * high half (Lemire, bias below 2^-64 (i + 1)). One Philox block keyed by
 * (seed, epoch stream) at counter i / 2 gives u_i: words 0-1 for even i,
 * 2-3 for odd i. The permutation depends on (seed, epoch) only: it
 * restarts from the identity every epoch, so a resumed run shuffles like
 * an uninterrupted one. The draws are independent, so they are computed
 * in parallel. */
void keel__train_shuffle(size_t *perm, size_t *draws, size_t n, uint64_t seed,
                         uint64_t epoch, int nt)
{
  uint64_t stream = ((epoch + 1) << 32) | KEEL_RNG_STREAM_SHUFFLE;
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  size_t pairs = n / 2 + 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (n > 65536)
  for (size_t p = 0; p < pairs; p++) {
    keel_rng_block b = keel_rng_philox(seed, stream, p);
    for (size_t h = 0; h < 2; h++) {
      size_t i = 2 * p + h;
      if (i == 0 || i >= n)
        continue;
      uint64_t u = ((uint64_t)b.v[2 * h] << 32) | b.v[2 * h + 1];
      keel__u128 m = (keel__u128)u * ((uint64_t)i + 1);
      draws[i] = (size_t)(m >> 64);
    }
  }
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = draws[i];
    size_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

/* The learning-rate factor of global step `step` (0-based). */
static double lr_scale_at(const keel_value *tv, uint64_t step, uint64_t epoch,
                          size_t steps_per_epoch)
{
  double scale = 1.0;
  uint64_t epochs = (uint64_t)tv[KEEL_TRAIN_EPOCHS].i;
  uint64_t warm = (uint64_t)tv[KEEL_TRAIN_WARMUP_EPOCHS].i * steps_per_epoch;
  uint64_t total = epochs * steps_per_epoch;
  switch ((int)tv[KEEL_TRAIN_LR_SCHEDULE].i) {
  case SCHED_STEP: {
    int64_t every = tv[KEEL_TRAIN_STEP_EPOCHS].i;
    if (every > 0)
      scale =
          pow(tv[KEEL_TRAIN_STEP_GAMMA].f, (double)(epoch / (uint64_t)every));
    break;
  }
  case SCHED_COSINE:
    if (step >= warm && total > warm)
      scale =
          0.5 *
          (1.0 + cos(M_PI * (double)(step - warm) / (double)(total - warm)));
    break;
  default: break;
  }
  if (step < warm)
    scale *= (double)(step + 1) / (double)warm;
  return scale;
}

void keel__trainer_free(keel__trainer *T)
{
  if (T->model)
    T->mapi->destroy(T->host, T->model);
  free(T->xbuf);
  free(T->ybuf);
  free(T->obuf);
  free(T->dbuf);
  free(T->ws);
  free(T->conf);
  free(T->grads);
  free(T->csums);

  free(T->grad);
  free(T->fails);
  memset(T, 0, sizeof *T);
}

/* Creates the model instance and the scratch buffers. */
int keel__trainer_init(keel__trainer *T, const keel_train_setup *s, size_t nf,
                       size_t max_rows_per_batch, keel_error *err)
{
  memset(T, 0, sizeof *T);
  T->s = s;
  T->host = s->host ? s->host : keel_host_services();
  T->mapi = s->model->api;
  T->lapi = s->loss->api;
  T->oapi = s->optimizer->api;
  T->task = s->task;
  T->n_classes = s->task == KEEL_TASK_CLASSIFICATION ? s->n_classes : 0;
  T->nf = nf;
  const keel_value *tv = s->train_values;
  T->chunk = (size_t)tv[KEEL_TRAIN_CHUNK_ROWS].i;
  T->batch = max_rows_per_batch;
  T->max_chunks = (T->batch + T->chunk - 1) / T->chunk;
  int nt = s->threads > 0 ? s->threads : (int)tv[KEEL_TRAIN_THREADS].i;
  T->nt = nt > 0 ? nt : omp_get_max_threads();
  if (T->nt < 1)
    T->nt = 1;

  int rc = T->lapi->output_width(s->loss_values, s->task, s->n_classes,
                                 &T->width, err);
  if (rc != KEEL_OK) {
    keel_error_prefix_plugin(err, keel__plugin_name(s->loss), "[loss] %s",
                             keel__plugin_name(s->loss));
    return rc;
  }
  rc = T->mapi->create(T->host, s->model_values, nf, T->width, &T->model, err);
  if (rc != KEEL_OK) {
    T->model = NULL;
    keel_error_prefix_plugin(err, keel__plugin_name(s->model), "[model] %s",
                             keel__plugin_name(s->model));
    return rc;
  }
  T->nw = T->mapi->n_weights(T->model);
  T->nopt = T->oapi->state_floats(s->optimizer_values, T->nw);
  T->ws_floats = T->mapi->workspace_floats(T->model, T->chunk);
  T->k = keel__train_kernels_select();
  size_t nt_ = (size_t)T->nt, C = T->chunk, kk = T->n_classes * T->n_classes;
  T->xs = pad_floats(C * nf);
  T->ys = pad_floats(C);
  T->os = pad_floats(C * T->width);
  T->wss = pad_floats(T->ws_floats);
  T->conf_stride = (kk + PAD_U64 - 1) / PAD_U64 * PAD_U64;
  T->gs = pad_floats(T->nw);
  T->xbuf = malloc(nt_ * T->xs * sizeof(float) + 1);
  T->ybuf = malloc(nt_ * T->ys * sizeof(float) + 1);
  T->obuf = malloc(nt_ * T->os * sizeof(float) + 1);
  T->dbuf = malloc(nt_ * T->os * sizeof(float) + 1);
  T->ws = malloc(nt_ * T->wss * sizeof(float) + 1);
  T->conf = calloc(nt_ * T->conf_stride + 1, sizeof *T->conf);
  T->claimed = T->nt > 1 && T->max_chunks * T->nw <= COMBINE_SERIAL_FLOATS;
  T->grads = malloc(T->max_chunks * T->gs * sizeof(float) + 1);
  T->csums = calloc(T->max_chunks, sizeof *T->csums);
  T->grad = malloc(T->nw * sizeof(float) + 1);
  T->fails = calloc(nt_, sizeof *T->fails);
  if (!T->xbuf || !T->ybuf || !T->obuf || !T->dbuf || !T->ws || !T->conf ||
      !T->grads || !T->csums || !T->grad || !T->fails)
    return keel_fail(err, KEEL_ENOMEM,
                     "train: out of memory for %zu chunk "
                     "gradients of %zu weights",
                     T->max_chunks, T->nw);
  return KEEL_OK;
}

/* "epoch E, step S (batch B of N)" for the step batch b is computing. */
static void batch_where(char *at, size_t n, const keel__epoch_run *E, size_t b,
                        size_t steps)
{
  snprintf(at, n, "epoch %llu, step %llu (batch %zu of %zu)",
           (unsigned long long)E->epoch + 1, (unsigned long long)*E->step + 1,
           b + 1, steps);
}

/* The serial part of a batch, on one thread: a failed loss (the lowest
 * failing chunk), loss sums tree, divergence check, learning-rate factor,
 * optimizer update, finiteness of the weights. Returns 0, KEEL_EDIVERGED
 * or the failing plugin's code. */
static int batch_finish(keel__trainer *T, keel__epoch_run *E, size_t b,
                        size_t steps, size_t n_chunks, size_t first,
                        size_t rows)
{
  char at[96]; /* worded only on a failure: this runs every batch */
  if (keel__chunk_failed(T)) {
    batch_where(at, sizeof at, E, b, steps);
    return keel__chunk_fail_report(T, E->d, E->perm, at, E->err);
  }
  keel_metric_sums_tree(T->csums, n_chunks);
  keel_metric_sums bsum = T->csums[0];
  if (!isfinite(bsum.loss))
    return keel_fail(E->err, KEEL_EDIVERGED,
                     "training diverged at epoch %llu, step %llu (batch "
                     "%zu of %zu): the loss became %s; try a smaller "
                     "learning rate (optimizer.lr)",
                     (unsigned long long)E->epoch + 1,
                     (unsigned long long)*E->step + 1, b + 1, steps,
                     isnan(bsum.loss) ? "NaN" : "infinite");
  E->esum->loss += bsum.loss;
  E->esum->sq_err += bsum.sq_err;
  E->esum->abs_err += bsum.abs_err;
  const keel_train_setup *s = T->s;
  *E->lr_scale = lr_scale_at(s->train_values, *E->step, E->epoch, steps);
  keel_error oerr;
  int rc = keel__optimizer_update(T, E->w, E->opt, *E->step + 1, *E->lr_scale,
                                  &oerr);
  if (rc != KEEL_OK) {
    batch_where(at, sizeof at, E, b, steps);
    return keel__optimizer_fail(T, rc, &oerr, at, E->err);
  }
  ++*E->step;
  if (!T->k->all_finite(E->w, T->nw))
    return keel_fail(E->err, KEEL_EDIVERGED,
                     "training diverged at epoch %llu, step %llu (batch "
                     "%zu of %zu): a weight became NaN or infinite after "
                     "the optimizer step; try a smaller learning rate "
                     "(optimizer.lr)",
                     (unsigned long long)E->epoch + 1,
                     (unsigned long long)*E->step, b + 1, steps);
  keel_progress_batch(E->prog, E->epoch, b,
                      E->esum->loss / (double)(first + rows));
  /* Only here, between two steps, on the one thread that steps: the
   * weights and sums are whole, and every thread learns of the halt
   * through the schedule's own synchronization. */
  const volatile sig_atomic_t *stop = s->interrupt;
  if (stop && *stop && b + 1 < steps)
    E->halted_at = b + 1;
  return KEEL_OK;
}

/* The fixed-order combination of n_chunks chunk gradients into T->grad,
 * all weights on the calling thread, block after block. */
static void combine_serial(const keel__trainer *T, size_t n_chunks, size_t rows)
{
  for (size_t lo = 0; lo < T->nw; lo += COMBINE_BLOCK)
    T->k->combine(T->grads, T->gs, n_chunks, lo,
                  lo + COMBINE_BLOCK < T->nw ? lo + COMBINE_BLOCK : T->nw,
                  T->grad, (float)rows);
}

/* Spin briefly, then give the CPU away: on a machine whose cores are
 * busy with other work a waiting thread must not hold one. */
static void wait_a_little(unsigned *spins)
{
  if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    sched_yield();
  }
}

/* The claimed epoch (small models, several threads): no barrier per
 * batch. The chunks of the epoch are numbered b * max_chunks + c; a
 * thread claims the next one (atomic counter) once the weights for its
 * batch are published, computes it into chunk c's buffers and counts it
 * done; the thread that completes a batch's last chunk combines the
 * chunk gradients in the fixed tree order, steps, and publishes the
 * batch. Which thread computes a chunk varies from run to run, what it
 * computes does not, so the bits are those of every other schedule. A
 * thread held up elsewhere (another process on its core) delays a batch
 * only while it holds an unfinished chunk, not at every barrier. */
static int train_epoch_claimed(keel__trainer *T, keel__epoch_run *E)
{
  size_t n = E->d->n_rows, B = T->batch, C = T->chunk, M = T->max_chunks;
  size_t steps = (n + B - 1) / B;
  size_t last_rows = n - (steps - 1) * B;
  size_t last_nc = (last_rows + C - 1) / C;
  size_t total = (steps - 1) * M + last_nc;
  atomic_size_t next, done, published;
  atomic_int stop;
  atomic_init(&next, E->first_batch * M);
  atomic_init(&done, E->first_batch * M);
  atomic_init(&published, E->first_batch);
  atomic_init(&stop, 0);
  int rc = KEEL_OK;
#pragma omp parallel num_threads(T->nt)
  {
    int t = omp_get_thread_num();
    unsigned spins = 0;
    for (;;) {
      if (atomic_load(&stop))
        break;
      size_t g = atomic_load(&next);
      if (g >= total)
        break;
      size_t b = g / M;
      if (atomic_load(&published) < b) { /* batch b - 1 not stepped */
        wait_a_little(&spins);
        continue;
      }
      if (!atomic_compare_exchange_weak(&next, &g, g + 1))
        continue;
      spins = 0;
      size_t c = g - b * M, first = b * B;
      size_t rows = n - first < B ? n - first : B;
      size_t len = rows - c * C < C ? rows - c * C : C;
      run_chunk(T, E->w, E->d, E->perm, first + c * C, len, t, c,
                T->grads + c * T->gs, &T->csums[c]);
      size_t nc = b + 1 < steps ? M : last_nc;
      if (atomic_fetch_add(&done, 1) + 1 == b * M + nc) {
        combine_serial(T, nc, rows);
        int r = batch_finish(T, E, b, steps, nc, first, rows);
        if (r != KEEL_OK) { /* batch b + 1 is never published */
          rc = r;
          atomic_store(&stop, 1);
        } else if (E->halted_at) {
          atomic_store(&stop, 1);
        } else {
          atomic_store(&published, b + 1);
        }
      }
    }
  }
  return rc;
}

/* All minibatches of one epoch in one parallel region: per batch, the
 * chunks (omp for), the fixed-order combination (omp for over blocks of
 * weights, or on the stepping thread when it is small), then the serial
 * step (omp single). Two or three barriers a batch, no fork/join. */
int keel__trainer_epoch(keel__trainer *T, keel__epoch_run *E)
{
  /* a failing chunk stops the run at its batch: one clear per epoch */
  keel__chunk_fail_clear(T);
  if (T->claimed)
    return train_epoch_claimed(T, E);
  size_t n = E->d->n_rows, B = T->batch, C = T->chunk, nw = T->nw;
  size_t steps = (n + B - 1) / B;
  int rc = KEEL_OK;
#pragma omp parallel num_threads(T->nt)
  {
    int t = omp_get_thread_num();
    for (size_t b = E->first_batch; b < steps; b++) {
      size_t first = b * B, rows = n - first < B ? n - first : B;
      size_t n_chunks = (rows + C - 1) / C;
      int serial = n_chunks * nw <= COMBINE_SERIAL_FLOATS || T->nt == 1;
#pragma omp for schedule(static)
      for (size_t c = 0; c < n_chunks; c++) {
        size_t len = rows - c * C < C ? rows - c * C : C;
        run_chunk(T, E->w, E->d, E->perm, first + c * C, len, t, c,
                  T->grads + c * T->gs, &T->csums[c]);
      }
      if (!serial) {
        size_t n_blocks = (nw + COMBINE_BLOCK - 1) / COMBINE_BLOCK;
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_blocks; k++) {
          size_t lo = k * COMBINE_BLOCK;
          size_t hi = lo + COMBINE_BLOCK < nw ? lo + COMBINE_BLOCK : nw;
          T->k->combine(T->grads, T->gs, n_chunks, lo, hi, T->grad,
                        (float)rows);
        }
      }
#pragma omp single
      {
        if (serial)
          combine_serial(T, n_chunks, rows);
        rc = batch_finish(T, E, b, steps, n_chunks, first, rows);
      }
      /* rc and halted_at are shared and read after the single's
       * barrier: every thread leaves at the same batch */
      if (rc != KEEL_OK || E->halted_at)
        break;
    }
  }
  return rc;
}
