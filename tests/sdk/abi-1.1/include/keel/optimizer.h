/* keel SDK: optimizer plugins (kind "optimizer").
 *
 * An optimizer updates the weights in place from the (already averaged)
 * gradient, keeping its own state in a host-owned float array that the
 * host zeroes before the first step, checkpoints and exports. The learning
 * rate schedule is the host's: it passes lr_scale (1.0 when constant) and
 * the optimizer multiplies its own `lr` parameter by it. Called from one
 * thread. */
#ifndef KEEL_OPTIMIZER_H
#define KEEL_OPTIMIZER_H

#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_optimizer_api {
  uint32_t struct_size; /* sizeof(keel_optimizer_api) as compiled */
  /* Floats of state needed for n_weights weights (0 for plain SGD). */
  size_t (*state_floats)(const keel_value *params, size_t n_weights);
  /* One update; step counts from 1. */
  void (*step)(const keel_value *params, float *w, const float *grad,
               float *state, size_t n_weights, uint64_t step, double lr_scale);
} keel_optimizer_api;

#endif /* KEEL_OPTIMIZER_H */
