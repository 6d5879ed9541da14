/* A hand-written, monolithic digits-MLP trainer (64-128-10, ReLU, softmax
 * cross-entropy, Adam) doing the same arithmetic as keel's loop with the
 * mlp, xent and adam plugins, in one file with no plugin boundary: the
 * yardstick for the boundary's overhead. Same bits as keel by design. */
#ifndef KEEL_BENCH_MONO_MLP_H
#define KEEL_BENCH_MONO_MLP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mono_config {
  size_t hidden, n_out, batch, chunk, epochs;
  uint64_t seed;
  double lr, beta1, beta2, eps;
  int threads;
} mono_config;

/* Trains on x (n x n_in), labels y; writes the weights (layout of the mlp
 * plugin) into w, which holds mono_n_weights() floats. Returns 0. */
int mono_mlp_train(const mono_config *c, const float *x, const float *y,
                   size_t n, size_t n_in, float *w);
size_t mono_n_weights(const mono_config *c, size_t n_in);

#endif
