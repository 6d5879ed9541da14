/* keel SDK: loss plugins (kind "loss").
 *
 * A loss says which tasks it fits (the descriptor's contract.tasks), how
 * many model outputs it needs per row, and computes the loss and its
 * gradient for a chunk of rows. Stateless and reentrant: the host calls it
 * from several threads at once on different chunks. One of value_grad
 * (ABI 1.0, no error channel) and evaluate (ABI 1.2) is required. */
#ifndef KEEL_LOSS_H
#define KEEL_LOSS_H

#include "keel/abi.h"
#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_loss_api {
  /* keel_api_header: fill both with KEEL_LOSS_API_HEADER. */
  uint32_t struct_size; /* sizeof(keel_loss_api) as compiled */
  uint32_t kind;        /* KEEL_KIND_LOSS (since ABI 1.2) */
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

  /* -- since ABI 1.2 --------------------------------------------------- */
  /* value_grad with an error channel: writes the sum of the per-row
   * losses into *loss_sum and returns KEEL_OK, or returns a KEEL_E* code
   * with a message through host->fail (say which row and why: a target
   * outside the classes, a non-finite output). The host calls evaluate
   * when the table has it and value_grad otherwise, so a 1.2 loss fills
   * evaluate and may leave value_grad NULL; fill both to load on a 1.0 or
   * 1.1 host too. Called concurrently on different chunks. */
  int (*evaluate)(const keel_host *host, const keel_value *params,
                  const float *out, const float *y, size_t n_rows, size_t width,
                  float *d_out, double *loss_sum, keel_error *err);
} keel_loss_api;

/* Begins a keel_loss_api initializer with its size and kind:
 *   static const keel_loss_api api = {KEEL_LOSS_API_HEADER, .output_width =
 * ...}; */
#define KEEL_LOSS_API_HEADER                                                   \
  .struct_size = sizeof(keel_loss_api), .kind = KEEL_KIND_LOSS

#endif /* KEEL_LOSS_H */
