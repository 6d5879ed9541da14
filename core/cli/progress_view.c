/* Drawing training progress (see progress_view.h). */
#include "cli/progress_view.h"

#include <math.h>
#include <unistd.h>

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

static void draw_batch(void *ctx, const keel_progress_batch_event *ev)
{
  keel_progress_view *v = ctx;
  if (!v->tty)
    return;
  double now = keel_progress_now();
  if (ev->batch + 1 < ev->batches && now - v->t_drawn < 0.1)
    return;
  v->t_drawn = now;
  char eta[32];
  fmt_duration(eta, sizeof eta, ev->eta_s);
  int width = 24, fill = (int)((double)width * (double)(ev->batch + 1) /
                               (double)ev->batches);
  char bar[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  fprintf(v->fp,
          "\r\033[Kepoch %llu/%llu [%s] batch %zu/%zu loss %.4g "
          "%.0f samples/s ETA %s",
          (unsigned long long)ev->epoch + 1, (unsigned long long)ev->epochs,
          bar, ev->batch + 1, ev->batches, ev->loss, ev->samples_per_s, eta);
  fflush(v->fp);
  v->drawn = 1;
}

static void draw_epoch(void *ctx, const keel_progress_epoch_event *ev)
{
  keel_progress_view *v = ctx;
  if (v->tty && v->drawn)
    fputs("\r\033[K", v->fp);
  v->drawn = 0;
  fprintf(v->fp, "epoch %llu/%llu  train loss %.4g",
          (unsigned long long)ev->epoch + 1, (unsigned long long)ev->epochs,
          ev->train->loss);
  if (ev->valid) {
    fprintf(v->fp, "  valid loss %.4g", ev->valid->loss);
    if (ev->task == KEEL_TASK_CLASSIFICATION)
      fprintf(v->fp, " acc %.4f f1 %.4f", ev->valid->accuracy,
              ev->valid->macro_f1);
    else
      fprintf(v->fp, " rmse %.4g mae %.4g r2 %.4f", ev->valid->rmse,
              ev->valid->mae, ev->valid->r2);
  }
  fprintf(v->fp, "  %.0f samples/s  %.2fs\n", ev->samples_per_s, ev->seconds);
  fflush(v->fp);
}

const keel_progress_sink *keel_progress_view_init(keel_progress_view *view,
                                                  FILE *fp)
{
  view->fp = fp;
  view->tty = isatty(fileno(fp));
  view->drawn = 0;
  view->t_drawn = 0;
  view->sink = (keel_progress_sink){draw_batch, draw_epoch, view};
  return &view->sink;
}
