/* train_kernels: the element-wise kernels of the training loop (the
 * fixed-order gradient combination and the finiteness check), one set per
 * instruction set, chosen once per trainer. Internal to the train layer.
 *
 * Every set gives the same bits: the kernels are element-wise IEEE
 * operations, nothing sums across elements in an order that depends on
 * the vector width. */
#ifndef KEEL_TRAIN_TRAIN_KERNELS_H
#define KEEL_TRAIN_TRAIN_KERNELS_H

#include <stddef.h>

typedef struct keel__train_kernels {
  /* The pairwise tree over the chunk gradients g[c] (c * gs floats apart)
   * for the weights lo..hi (g[c] += g[c + stride], stride 1, 2, 4, ...),
   * then out = g[0] / rows. */
  void (*combine)(float *g, size_t gs, size_t n_chunks, size_t lo, size_t hi,
                  float *out, float rows);
  /* 1 when every w[i] is finite. */
  int (*all_finite)(const float *w, size_t n);
} keel__train_kernels;

/* The fastest set this CPU runs (AVX2 on x86-64 when present, else the
 * baseline build). Static storage; thread-safe. */
const keel__train_kernels *keel__train_kernels_select(void);

#endif
