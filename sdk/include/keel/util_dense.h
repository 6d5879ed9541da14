/* keel SDK helper: the dense affine layer out = x W + b, the whole model
 * of the built-in linear, logistic and softmax plugins, and a building
 * block for others (the linear part of a factorization machine).
 *
 * Contract: header-only, <keel/keel.h> plus libc/libm, static inline, so
 * each plugin carries its own copy and no symbol crosses a .so; the host
 * is reached only through the keel_host table it is handed. The
 * keel_dense_* functions have the signatures of keel_model_api, so a plugin
 * may put them straight into its table. The instance (from
 * keel_dense_create, host->alloc_zero) is owned by the host's model slot
 * and freed by keel_dense_destroy; it is read-only after create, so
 * forward and backward may run on one instance from many threads at once
 * (each call writes only its own out/grad).
 *
 * Weights: W stored [n_in][n_out] row-major, then b [n_out]. Storing W by
 * input row makes the inner loop of the forward pass run over contiguous
 * outputs, so it vectorizes without reordering any sum.
 *
 * Summation order (fixed by the shapes only, never by threads or CPU):
 *   n_out == 1: out = b + dot8(x, w), dot8 = eight interleaved partial sums
 *               combined as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then the
 *               tail elements in order;
 *   n_out  > 1: out[k] = (((b[k] + x0 W0k) + x1 W1k) + ...), inputs in order.
 * Gradients: dW[i][k] = sum over rows in row order, starting from 0.
 * Stable: this order is part of the SDK. Every bundle of a model built on
 * it holds its bits, so it never changes under these names; a different
 * order would be a new function. */
#ifndef KEEL_UTIL_DENSE_H
#define KEEL_UTIL_DENSE_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "keel/keel.h"

/* One layer's shape and its initialisation scale; owned by the host-side
 * instance (allocated with host->alloc_zero, freed by keel_dense_destroy). */
typedef struct keel_dense {
  size_t n_in, n_out;
  double init_scale;
} keel_dense;

static inline float keel_dense_dot8(const float *a, const float *b, size_t n)
{
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t k = 0; k < 8; k++)
      s[k] += a[i + k] * b[i + k];
  float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; i++)
    t += a[i] * b[i];
  return t;
}

/* Allocates a layer of n_in inputs and n_out outputs into *self (free it
 * with keel_dense_destroy). KEEL_EINVAL for an empty shape, KEEL_ENOMEM. */
static inline int keel_dense_create(const keel_host *host, double init_scale,
                                    size_t n_in, size_t n_out, void **self,
                                    keel_error *err)
{
  if (n_in == 0 || n_out == 0)
    return host->fail(err, KEEL_EINVAL,
                      "needs at least one input and one output "
                      "(got %zu inputs, %zu outputs)",
                      n_in, n_out);
  keel_dense *m = host->alloc_zero(1, sizeof *m);
  if (!m)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  m->n_in = n_in;
  m->n_out = n_out;
  m->init_scale = init_scale;
  *self = m;
  return KEEL_OK;
}

static inline void keel_dense_destroy(const keel_host *host, void *self)
{
  host->free(self);
}

static inline size_t keel_dense_n_weights(const void *self)
{
  const keel_dense *m = self;
  return m->n_in * m->n_out + m->n_out;
}

static inline size_t keel_dense_workspace_floats(const void *self,
                                                 size_t n_rows)
{
  (void)self; /* the layer needs no workspace */
  (void)n_rows;
  return 0;
}

/* W ~ Glorot-uniform times init_scale, drawn from the INIT stream by weight
 * index; b = 0. */
static inline void keel_dense_init(const void *self, float *w, uint64_t seed)
{
  const keel_dense *m = self;
  double bound = m->init_scale * sqrt(6.0 / (double)(m->n_in + m->n_out));
  size_t nw = m->n_in * m->n_out;
  for (size_t i = 0; i < nw; i++)
    w[i] =
        (float)((2.0 * keel_rng_uniform(seed, KEEL_RNG_STREAM_INIT, i) - 1.0) *
                bound);
  for (size_t k = 0; k < m->n_out; k++)
    w[nw + k] = 0.0f;
}

static inline void keel_dense_forward(const void *self, const float *w,
                                      const float *x, size_t n_rows, float *out,
                                      float *ws)
{
  (void)ws;
  const keel_dense *m = self;
  size_t n_in = m->n_in, n_out = m->n_out;
  const float *b = w + n_in * n_out;
  if (n_out == 1) {
    for (size_t r = 0; r < n_rows; r++)
      out[r] = b[0] + keel_dense_dot8(x + r * n_in, w, n_in);
    return;
  }
  for (size_t r = 0; r < n_rows; r++) {
    float *o = out + r * n_out;
    const float *xr = x + r * n_in;
    memcpy(o, b, n_out * sizeof *o);
    for (size_t i = 0; i < n_in; i++) {
      float xi = xr[i];
      const float *wr = w + i * n_out;
      for (size_t k = 0; k < n_out; k++)
        o[k] += xi * wr[k];
    }
  }
}

static inline void keel_dense_backward(const void *self, const float *w,
                                       const float *x, size_t n_rows,
                                       const float *d_out, float *grad,
                                       float *ws)
{
  (void)w; /* affine: the gradient does not depend on the weights */
  (void)ws;
  const keel_dense *m = self;
  size_t n_in = m->n_in, n_out = m->n_out;
  float *gb = grad + n_in * n_out;
  memset(grad, 0, (n_in * n_out + n_out) * sizeof *grad);
  for (size_t r = 0; r < n_rows; r++) {
    const float *d = d_out + r * n_out;
    const float *xr = x + r * n_in;
    if (n_out == 1) {
      float d0 = d[0];
      for (size_t i = 0; i < n_in; i++)
        grad[i] += xr[i] * d0;
    } else {
      for (size_t i = 0; i < n_in; i++) {
        float xi = xr[i];
        float *g = grad + i * n_out;
        for (size_t k = 0; k < n_out; k++)
          g[k] += xi * d[k];
      }
    }
    for (size_t k = 0; k < n_out; k++)
      gb[k] += d[k];
  }
}

/* Tensor 0 is W [n_in, n_out], tensor 1 is b [n_out]. */
static inline int keel_dense_tensor(const void *self, size_t index,
                                    keel_tensor_info *out)
{
  const keel_dense *m = self;
  if (index == 0) {
    *out = (keel_tensor_info){
        .name = "W", .offset = 0, .ndim = 2, .shape = {m->n_in, m->n_out}};
    return KEEL_OK;
  }
  if (index == 1) {
    *out = (keel_tensor_info){.name = "b",
                              .offset = m->n_in * m->n_out,
                              .ndim = 1,
                              .shape = {m->n_out}};
    return KEEL_OK;
  }
  return KEEL_ENOTFOUND;
}

#endif /* KEEL_UTIL_DENSE_H */
