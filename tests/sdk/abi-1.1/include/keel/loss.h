/* keel SDK: loss plugins (kind "loss").
 *
 * A loss says which tasks it fits (the descriptor's contract.tasks), how
 * many model outputs it needs per row, and computes the loss and its
 * gradient for a chunk of rows. Stateless and reentrant: the host calls it
 * from several threads at once on different chunks. */
#ifndef KEEL_LOSS_H
#define KEEL_LOSS_H

#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_loss_api {
  uint32_t struct_size; /* sizeof(keel_loss_api) as compiled */
  /* Model outputs per row for this task and class count (n_classes is 0
   * for regression). KEEL_EINVAL with a reason if it cannot serve them. */
  int (*output_width)(const keel_value *params, keel_task task,
                      size_t n_classes, size_t *width, keel_error *err);
  /* Returns the sum over the n_rows rows of the per-row loss. out is
   * n_rows x width; y holds one target per row (class index as a float
   * for classification). If d_out is not NULL, writes dLoss_row/d out
   * (n_rows x width), not divided by n_rows. */
  double (*value_grad)(const keel_value *params, const float *out,
                       const float *y, size_t n_rows, size_t width,
                       float *d_out);
} keel_loss_api;

#endif /* KEEL_LOSS_H */
