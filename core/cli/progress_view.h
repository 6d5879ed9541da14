/* progress_view: the training progress a person sees on stderr. On a
 * terminal a bar redrawn in place (epoch, batch, loss, samples/s, time
 * left), at most ten times a second; otherwise one line per epoch. */
#ifndef KEEL_CLI_PROGRESS_VIEW_H
#define KEEL_CLI_PROGRESS_VIEW_H

#include <stdio.h>

#include "train/progress.h"

typedef struct keel_progress_view {
  keel_progress_sink sink; /* hand &view->sink to the run */
  FILE *fp;
  int tty;   /* redraw one line in place */
  int drawn; /* a bar is on screen */
  double t_drawn;
} keel_progress_view;

/* Makes view draw on fp; returns &view->sink. */
const keel_progress_sink *keel_progress_view_init(keel_progress_view *view,
                                                  FILE *fp);

#endif
