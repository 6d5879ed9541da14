/* keel SDK: model plugins (kind "model").
 *
 * A model is pure arithmetic on flat float arrays: the host owns the
 * weights, the gradients, the optimizer and the loop. `create` fixes the
 * shapes (n_in features, n_out outputs per row); afterwards the instance is
 * immutable, so forward/backward may run concurrently on one instance as
 * long as each call has its own workspace. That is how the host runs
 * chunks of a minibatch on OpenMP threads: each chunk's arithmetic is done
 * by one thread in a fixed order, so the bits never depend on the thread
 * count. Inside a call, do not start threads and do not reorder sums
 * depending on anything but the shapes. */
#ifndef KEEL_MODEL_H
#define KEEL_MODEL_H

#include "keel/host.h"
#include "keel/params.h"

/* A named slice of the flat weight vector, for export as .npy. */
typedef struct keel_tensor_info {
  const char *name; /* "W1", "b1", ...; static or owned by the instance */
  size_t offset;    /* first element in the weight vector */
  size_t ndim;      /* 1 or 2 (up to 4) */
  size_t shape[4];  /* row-major */
} keel_tensor_info;

typedef struct keel_model_api {
  uint32_t struct_size; /* sizeof(keel_model_api) as compiled */
  /* Builds an instance for n_in inputs and n_out outputs; *self is owned
   * by the plugin until destroy. */
  int (*create)(const keel_host *host, const keel_value *params, size_t n_in,
                size_t n_out, void **self, keel_error *err);
  void (*destroy)(const keel_host *host, void *self);
  /* Number of float weights. */
  size_t (*n_weights)(const void *self);
  /* Floats of scratch space forward+backward need for n_rows rows. */
  size_t (*workspace_floats)(const void *self, size_t n_rows);
  /* Fills w deterministically from seed (use keel/rng.h). */
  void (*init)(const void *self, float *w, uint64_t seed);
  /* out[n_rows * n_out] = f(w, x[n_rows * n_in]); keeps in ws what
   * backward needs. */
  void (*forward)(const void *self, const float *w, const float *x,
                  size_t n_rows, float *out, float *ws);
  /* grad[n_weights] = sum over rows of d_out . dout/dw (overwritten, not
   * accumulated), using the ws of the forward call on the same rows. */
  void (*backward)(const void *self, const float *w, const float *x,
                   size_t n_rows, const float *d_out, float *grad, float *ws);
  /* Describes tensor `index` (0-based); KEEL_ENOTFOUND past the last. */
  int (*tensor)(const void *self, size_t index, keel_tensor_info *out);
} keel_model_api;

#endif /* KEEL_MODEL_H */
