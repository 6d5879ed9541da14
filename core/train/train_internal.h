/* train_internal: what the files of the training loop share, internal to
 * the train layer (never installed, never included from another layer).
 *
 *   train.c          the loop: epochs, metric lines, early stopping,
 *                    checkpoints and resume (keel_train_run)
 *   trainer.c        the engine: one model with per-thread scratch, the
 *                    minibatches of one epoch, evaluation of a split
 *   train_kernels.c  the element-wise kernels the engine calls
 *   train_check.c    the rules checked before anything is built
 *   train_fail.c     losses and optimizers through their error channel,
 *                    and the message of one that failed
 *
 * The determinism contract of train.h holds for everything here. */
#ifndef KEEL_TRAIN_TRAIN_INTERNAL_H
#define KEEL_TRAIN_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "train/progress.h"
#include "train/train.h"
#include "train/train_kernels.h"

/* [train] early_stop_metric, in the order of its choices. */
enum {
  KEEL__ES_NONE,
  KEEL__ES_LOSS,
  KEEL__ES_ACCURACY,
  KEEL__ES_MACRO_F1,
  KEEL__ES_RMSE,
  KEEL__ES_MAE,
  KEEL__ES_R2
};

/* The name of a loaded plugin for messages ("?" when it has none). */
static inline const char *keel__plugin_name(const keel_loaded_plugin *p)
{
  return p && p->desc.name ? p->desc.name : "?";
}

/* ---- train_fail.c ------------------------------------------------------- */

/* The lowest failing chunk a thread met in the current pass (an epoch or
 * an evaluation): what the loss said, and where the chunk's rows are. */
typedef struct keel__chunk_fail {
  size_t chunk; /* SIZE_MAX: none */
  size_t start; /* its first row's position in the pass */
  size_t n_rows;
  int rc;
  keel_error err;
} keel__chunk_fail;

/* ---- trainer.c ---------------------------------------------------------- */

/* One model instance and the scratch a run needs. */
typedef struct keel__trainer {
  const keel_train_setup *s;
  const keel_host *host;
  const keel_model_api *mapi;
  const keel_loss_api *lapi;
  const keel_optimizer_api *oapi;
  void *model;
  keel_task task;
  size_t n_classes; /* confusion size for classification, else 0 */
  size_t nf, width, nw, nopt;
  size_t chunk, batch, max_chunks;
  int nt;
  const keel__train_kernels *k;
  /* per-thread scratch, thread t at t * stride (padded, see PAD_FLOATS) */
  float *xbuf, *ybuf, *obuf, *dbuf, *ws;
  size_t xs, ys, os, ws_floats, wss;
  uint64_t *conf; /* nt * conf_stride, K * K used */
  size_t conf_stride;
  /* per-chunk results */
  float *grads; /* max_chunks * gs */
  size_t gs;
  keel_metric_sums *csums;
  float *grad; /* combined gradient */
  /* several threads and small chunk gradients: train_epoch_claimed */
  int claimed;
  /* per thread: its lowest failing chunk of the pass (train_fail.c) */
  keel__chunk_fail *fails;
} keel__trainer;

/* What one epoch of minibatches needs besides the trainer. */
typedef struct keel__epoch_run {
  const keel_train_data *d;
  const size_t *perm;
  float *w, *opt;
  uint64_t epoch;
  uint64_t *step;
  keel_metric_sums *esum;
  double *lr_scale;
  keel_progress *prog;
  keel_error *err;
  size_t first_batch; /* batches already stepped (a resumed epoch) */
  /* Out: 0, or the batches stepped when an interrupt ended the epoch
   * early (setup->interrupt seen after a batch that was not the last). */
  size_t halted_at;
} keel__epoch_run;

/* Creates the model instance (s borrowed for T's life) for nf inputs and
 * the scratch for batches of up to max_rows_per_batch rows. On failure T
 * is still safe to free. */
int keel__trainer_init(keel__trainer *T, const keel_train_setup *s, size_t nf,
                       size_t max_rows_per_batch, keel_error *err);
void keel__trainer_free(keel__trainer *T);

/* Every minibatch of one epoch from E->first_batch on, rows in E->perm
 * order: chunks in parallel, the fixed-order combination, the optimizer
 * step; after each step the interrupt flag is read, and a set one ends
 * the epoch there (E->halted_at). 0 or KEEL_EDIVERGED (E->err says
 * where). */
int keel__trainer_epoch(keel__trainer *T, keel__epoch_run *E);

/* Metrics of w on split d (rows in order, chunks of T->chunk rows).
 * where ("epoch 3, " or "") begins the message of a loss that fails. 0,
 * KEEL_ENOMEM, or the loss's code with err naming the row. */
int keel__trainer_evaluate(keel__trainer *T, const float *w,
                           const keel_train_data *d, double ss_tot,
                           const char *where, keel_metrics *m, keel_error *err);

/* Sums the per-thread class counts into total (K * K) and clears them. */
void keel__trainer_confusion_collect(keel__trainer *T, uint64_t *total);

/* The row order of epoch `epoch`: a permutation of 0..n-1 into perm that
 * depends on (seed, epoch) only; draws is scratch of n entries. */
void keel__train_shuffle(size_t *perm, size_t *draws, size_t n, uint64_t seed,
                         uint64_t epoch, int nt);

/* ---- train_fail.c ------------------------------------------------------- */

/* The loss's sum over a chunk through evaluate (ABI 1.2) or value_grad
 * (1.0, which cannot fail). KEEL_OK or the loss's code with e filled. */
int keel__loss_sum(const keel__trainer *T, const float *out, const float *y,
                   size_t n, float *d_out, double *sum, keel_error *e);

/* One optimizer update through update (ABI 1.2) or step (1.0, which
 * cannot fail). KEEL_OK or the optimizer's code with e filled. */
int keel__optimizer_update(const keel__trainer *T, float *w, float *opt,
                           uint64_t step, double lr_scale, keel_error *e);

/* Words a failed update into err: "[optimizer] NAME: WHERE: what", WHERE
 * naming the epoch and the step. Returns rc. */
int keel__optimizer_fail(const keel__trainer *T, int rc, const keel_error *e,
                         const char *where, keel_error *err);

/* Forgets every thread's failing chunk: the start of a pass. */
void keel__chunk_fail_clear(keel__trainer *T);

/* Thread t's chunk c (rows start..start+n of the pass) failed with rc and
 * e: kept when it is the thread's lowest so far. */
void keel__chunk_fail_note(keel__trainer *T, int t, size_t c, size_t start,
                           size_t n, int rc, const keel_error *e);

/* 1 when a chunk of the pass failed. */
int keel__chunk_failed(const keel__trainer *T);

/* KEEL_OK when no chunk of the pass failed; else the code of the lowest
 * failing chunk over all threads (whatever the thread count, the same
 * chunk), with err "[loss] NAME: WHERE: source data row R (S split):
 * what" when the loss named its row as "row N: " (N within its chunk),
 * else the chunk's rows. perm: the pass's row order (NULL: in order). */
int keel__chunk_fail_report(const keel__trainer *T, const keel_train_data *d,
                            const size_t *perm, const char *where,
                            keel_error *err);

/* ---- train_check.c ------------------------------------------------------ */

/* The configuration and the data, before anything is allocated. */
int keel__train_check_setup(const keel_train_setup *s,
                            const keel_train_data *train,
                            const keel_train_data *valid, keel_error *err);

/* Labels of split d: class indexes for classification, finite targets
 * otherwise. split names it in messages ("training"). */
int keel__train_check_labels(const keel_train_setup *s,
                             const keel_train_data *d, const char *split,
                             keel_error *err);

#endif
