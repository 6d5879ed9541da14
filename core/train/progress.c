/* Progress events of the training loop (see progress.h). */
#include "train/progress.h"

#include <time.h>

double keel_progress_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void keel_progress_init(keel_progress *p, const keel_progress_sink *sink,
                        uint64_t first, uint64_t epochs, size_t batches,
                        size_t rows)
{
  p->sink = sink;
  p->first = first;
  p->epochs = epochs;
  p->batches = batches;
  p->rows = rows;
  p->t_start = p->t_epoch = keel_progress_now();
}

void keel_progress_epoch_begin(keel_progress *p, uint64_t epoch)
{
  (void)epoch;
  p->t_epoch = keel_progress_now();
}

void keel_progress_batch(keel_progress *p, uint64_t epoch, size_t batch,
                         double loss)
{
  if (!p->sink || !p->sink->batch)
    return;
  double now = keel_progress_now();
  double done =
      (double)(epoch - p->first) + (double)(batch + 1) / (double)p->batches;
  double total = (double)(p->epochs - p->first);
  double elapsed = now - p->t_start;
  keel_progress_batch_event ev = {
      .epoch = epoch,
      .epochs = p->epochs,
      .first_epoch = p->first,
      .batch = batch,
      .batches = p->batches,
      .loss = loss,
      .samples_per_s = elapsed > 0 ? done * (double)p->rows / elapsed : 0,
      .eta_s = done > 0 ? elapsed * (total - done) / done : -1};
  p->sink->batch(p->sink->ctx, &ev);
}

void keel_progress_epoch_end(keel_progress *p, uint64_t epoch, keel_task task,
                             const keel_metrics *train,
                             const keel_metrics *valid)
{
  if (!p->sink || !p->sink->epoch)
    return;
  double dt = keel_progress_now() - p->t_epoch;
  keel_progress_epoch_event ev = {
      .epoch = epoch,
      .epochs = p->epochs,
      .task = task,
      .train = train,
      .valid = valid && valid->n_rows > 0 ? valid : NULL,
      .samples_per_s = dt > 0 ? (double)p->rows / dt : 0.0,
      .seconds = dt};
  p->sink->epoch(p->sink->ctx, &ev);
}
