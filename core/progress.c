#include "progress.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

double keel_progress_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void keel_progress_init(keel_progress *p, FILE *fp, int quiet,
                        uint64_t first, uint64_t epochs, size_t batches,
                        size_t rows)
{
  p->fp = quiet ? NULL : (fp ? fp : stderr);
  p->tty = p->fp ? isatty(fileno(p->fp)) : 0;
  p->first = first;
  p->epochs = epochs;
  p->batches = batches;
  p->rows = rows;
  p->t_start = p->t_epoch = keel_progress_now();
  p->t_drawn = 0;
  p->drawn = 0;
}

void keel_progress_epoch_begin(keel_progress *p, uint64_t epoch)
{
  p->t_epoch = keel_progress_now();
}

static void fmt_duration(char *out, size_t n, double s)
{
  if (!(s >= 0) || s > 1e7)
    snprintf(out, n, "?");
  else if (s >= 3600)
    snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
  else if (s >= 60)
    snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(out, n, "%.1fs", s);
}

void keel_progress_batch(keel_progress *p, uint64_t epoch, size_t batch,
                         double loss)
{
  if (!p->fp || !p->tty)
    return;
  double now = keel_progress_now();
  if (batch + 1 < p->batches && now - p->t_drawn < 0.1)
    return;
  p->t_drawn = now;
  double done = (double)(epoch - p->first) +
                (double)(batch + 1) / (double)p->batches;
  double total = (double)(p->epochs - p->first);
  double elapsed = now - p->t_start;
  double rate = elapsed > 0 ? done * (double)p->rows / elapsed : 0;
  char eta[32];
  fmt_duration(eta, sizeof eta, done > 0 ? elapsed * (total - done) / done
                                         : -1);
  int width = 24, fill = (int)((double)width * (double)(batch + 1) /
                               (double)p->batches);
  char bar[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  fprintf(p->fp, "\r\033[Kepoch %llu/%llu [%s] batch %zu/%zu loss %.4g "
          "%.0f samples/s ETA %s", (unsigned long long)epoch + 1,
          (unsigned long long)p->epochs, bar, batch + 1, p->batches, loss,
          rate, eta);
  fflush(p->fp);
  p->drawn = 1;
}

void keel_progress_epoch_end(keel_progress *p, uint64_t epoch,
                             keel_task task, const keel_metrics *train,
                             const keel_metrics *valid)
{
  if (!p->fp)
    return;
  double now = keel_progress_now();
  double dt = now - p->t_epoch;
  if (p->tty && p->drawn)
    fputs("\r\033[K", p->fp);
  p->drawn = 0;
  fprintf(p->fp, "epoch %llu/%llu  train loss %.4g",
          (unsigned long long)epoch + 1, (unsigned long long)p->epochs,
          train->loss);
  if (valid && valid->n_rows > 0) {
    fprintf(p->fp, "  valid loss %.4g", valid->loss);
    if (task == KEEL_TASK_CLASSIFICATION)
      fprintf(p->fp, " acc %.4f f1 %.4f", valid->accuracy, valid->macro_f1);
    else
      fprintf(p->fp, " rmse %.4g mae %.4g r2 %.4f", valid->rmse, valid->mae,
              valid->r2);
  }
  fprintf(p->fp, "  %.0f samples/s  %.2fs\n",
          dt > 0 ? (double)p->rows / dt : 0.0, dt);
  fflush(p->fp);
}
