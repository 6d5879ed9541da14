/* Training progress on a stream (stderr by default): a bar redrawn in
 * place when the stream is a terminal (epoch, batch, loss, samples/s, time
 * left), one line per epoch otherwise, nothing when quiet. Wall-clock time
 * is used for display only; it never reaches the training arithmetic. */
#ifndef KEEL_CORE_PROGRESS_H
#define KEEL_CORE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keel/keel.h"
#include "metrics.h"

typedef struct keel_progress {
  FILE *fp;          /* NULL when quiet */
  int tty;           /* redraw one line in place */
  uint64_t epochs;   /* total epochs of the run */
  uint64_t first;    /* first epoch run (after a resume) */
  size_t batches;    /* batches per epoch */
  size_t rows;       /* training rows per epoch */
  double t_start;    /* seconds, monotonic */
  double t_epoch;
  double t_drawn;
  int drawn;         /* a bar is on screen */
} keel_progress;

/* Starts progress for epochs [first, epochs). fp NULL means stderr. */
void keel_progress_init(keel_progress *p, FILE *fp, int quiet,
                        uint64_t first, uint64_t epochs, size_t batches,
                        size_t rows);
/* Called at the start of each epoch (0-based). */
void keel_progress_epoch_begin(keel_progress *p, uint64_t epoch);
/* After batch `batch` (0-based) of `epoch`; loss is the running mean. At
 * most ten redraws a second, terminals only. */
void keel_progress_batch(keel_progress *p, uint64_t epoch, size_t batch,
                         double loss);
/* After an epoch: one summary line (replacing the bar on a terminal). */
void keel_progress_epoch_end(keel_progress *p, uint64_t epoch,
                             keel_task task, const keel_metrics *train,
                             const keel_metrics *valid);
/* Seconds since an arbitrary start (monotonic clock). */
double keel_progress_now(void);

#endif
