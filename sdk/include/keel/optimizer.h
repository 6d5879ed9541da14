/* keel SDK: optimizer plugins (kind "optimizer").
 *
 * An optimizer updates the weights in place from the (already averaged)
 * gradient, keeping its own state in a host-owned float array that the
 * host zeroes before the first step, checkpoints and exports. The learning
 * rate schedule is the host's: it passes lr_scale (1.0 when constant) and
 * the optimizer multiplies its own `lr` parameter by it. Called from one
 * thread. One of step (ABI 1.0, no error channel) and update (ABI 1.2) is
 * required. */
#ifndef KEEL_OPTIMIZER_H
#define KEEL_OPTIMIZER_H

#include "keel/abi.h"
#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_optimizer_api {
  /* keel_api_header: fill both with KEEL_OPTIMIZER_API_HEADER. */
  uint32_t struct_size; /* sizeof(keel_optimizer_api) as compiled */
  uint32_t kind;        /* KEEL_KIND_OPTIMIZER (since ABI 1.2) */
  /* Floats of state needed for n_weights weights (0 for plain SGD). */
  size_t (*state_floats)(const keel_value *params, size_t n_weights);
  /* One update; step counts from 1. */
  void (*step)(const keel_value *params, float *w, const float *grad,
               float *state, size_t n_weights, uint64_t step, double lr_scale);

  /* -- since ABI 1.2 --------------------------------------------------- */
  /* step with an error channel: KEEL_OK, or a KEEL_E* code with a message
   * through host->fail (a state array that does not fit, an update that
   * is not finite). The host calls update when the table has it and step
   * otherwise, so a 1.2 optimizer fills update and may leave step NULL;
   * fill both to load on a 1.0 or 1.1 host too. */
  int (*update)(const keel_host *host, const keel_value *params, float *w,
                const float *grad, float *state, size_t n_weights,
                uint64_t step, double lr_scale, keel_error *err);
} keel_optimizer_api;

/* Begins a keel_optimizer_api initializer with its size and kind:
 *   static const keel_optimizer_api api = {KEEL_OPTIMIZER_API_HEADER,
 * .state_floats = ...}; */
#define KEEL_OPTIMIZER_API_HEADER                                              \
  .struct_size = sizeof(keel_optimizer_api), .kind = KEEL_KIND_OPTIMIZER

#endif /* KEEL_OPTIMIZER_H */
