/* progress: what the training loop reports while it runs, as events for a
 * sink that the caller installs (the CLI draws a bar or prints lines; tests
 * and benchmarks install none). The library never prints. Wall-clock time
 * is measured here for the reports only; it never reaches the training
 * arithmetic. */
#ifndef KEEL_TRAIN_PROGRESS_H
#define KEEL_TRAIN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"
#include "train/metrics.h"

/* After one optimizer step. */
typedef struct keel_progress_batch_event {
  uint64_t epoch, epochs; /* 0-based epoch of total epochs */
  uint64_t first_epoch;   /* first epoch of this process (after a resume) */
  size_t batch, batches;  /* 0-based batch of batches per epoch */
  double loss;            /* running mean training loss of the epoch */
  double samples_per_s;   /* since the run (or resume) started */
  double eta_s;           /* seconds left, < 0 when unknown */
} keel_progress_batch_event;

/* After an epoch, its metrics computed. */
typedef struct keel_progress_epoch_event {
  uint64_t epoch, epochs;
  keel_task task;
  const keel_metrics *train;
  const keel_metrics *valid; /* NULL or n_rows == 0: no validation split */
  double samples_per_s;      /* of this epoch */
  double seconds;            /* this epoch's wall time */
} keel_progress_epoch_event;

/* Where the events go. Either callback may be NULL. Called from the
 * thread that runs the loop, never from inside a parallel region. */
typedef struct keel_progress_sink {
  void (*batch)(void *ctx, const keel_progress_batch_event *ev);
  void (*epoch)(void *ctx, const keel_progress_epoch_event *ev);
  void *ctx;
} keel_progress_sink;

typedef struct keel_progress {
  const keel_progress_sink *sink; /* NULL: nothing is reported */
  uint64_t epochs;                /* total epochs of the run */
  uint64_t first;                 /* first epoch run (after a resume) */
  size_t batches;                 /* batches per epoch */
  size_t rows;                    /* training rows per epoch */
  double t_start;                 /* seconds, monotonic */
  double t_epoch;
} keel_progress;

/* Starts progress for epochs [first, epochs). sink NULL: silent. */
void keel_progress_init(keel_progress *p, const keel_progress_sink *sink,
                        uint64_t first, uint64_t epochs, size_t batches,
                        size_t rows);
/* Called at the start of each epoch (0-based). */
void keel_progress_epoch_begin(keel_progress *p, uint64_t epoch);
/* After batch `batch` (0-based) of `epoch`; loss is the running mean. */
void keel_progress_batch(keel_progress *p, uint64_t epoch, size_t batch,
                         double loss);
/* After an epoch, with its metrics. */
void keel_progress_epoch_end(keel_progress *p, uint64_t epoch, keel_task task,
                             const keel_metrics *train,
                             const keel_metrics *valid);
/* Seconds since an arbitrary start (monotonic clock). */
double keel_progress_now(void);

#endif
