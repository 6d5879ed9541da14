/* The element-wise kernels of the training loop, built twice from one
 * body: for the baseline (SSE2) and for AVX2, chosen at run time. See
 * train_kernels.h. */
#include "train/train_kernels.h"

#include <string.h>

/* GCC's generic vectors: element-wise IEEE operations, two xmm registers
 * on the baseline build, one ymm on the AVX2 build. Nothing here sums
 * across elements, so every build gives the same bits. */
typedef float tv8 __attribute__((vector_size(32)));
#define TV_LD(v, p) memcpy(&(v), (p), sizeof(tv8))
#define TV_ST(p, v) memcpy((p), &(v), sizeof(tv8))

/* The pairwise tree over the chunk gradients g[c] (c * gs floats apart)
 * for the weights lo..hi (g[c] += g[c + stride], stride 1, 2, 4, ...),
 * then out = g[0] / rows. */
static inline __attribute__((always_inline)) void
combine_body(float *g, size_t gs, size_t n_chunks, size_t lo, size_t hi,
             float *out, float rows)
{
  for (size_t stride = 1; stride < n_chunks; stride *= 2)
    for (size_t c = 0; c + stride < n_chunks; c += 2 * stride) {
      float *dst = g + c * gs;
      const float *src = g + (c + stride) * gs;
      size_t j = lo;
      for (; j + 8 <= hi; j += 8) {
        tv8 a, b;
        TV_LD(a, dst + j);
        TV_LD(b, src + j);
        a += b;
        TV_ST(dst + j, a);
      }
      for (; j < hi; j++)
        dst[j] += src[j];
    }
  size_t j = lo;
  for (; j + 8 <= hi; j += 8) {
    tv8 a;
    TV_LD(a, g + j);
    a = a / rows;
    TV_ST(out + j, a);
  }
  for (; j < hi; j++)
    out[j] = g[j] / rows;
}

/* 1 when every w[i] is finite: NaN or Inf times zero is NaN, and a sum of
 * zeros and NaNs is NaN in any order. */
static inline __attribute__((always_inline)) int all_finite_body(const float *w,
                                                                 size_t n)
{
  tv8 acc = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    tv8 a;
    TV_LD(a, w + i);
    acc += a * 0.0f;
  }
  float t = 0.0f;
  for (size_t k = 0; k < 8; k++)
    t += acc[k];
  for (; i < n; i++)
    t += w[i] * 0.0f;
  return t == 0.0f;
}

static void combine_base(float *g, size_t gs, size_t n_chunks, size_t lo,
                         size_t hi, float *out, float rows)
{
  combine_body(g, gs, n_chunks, lo, hi, out, rows);
}

static int all_finite_base(const float *w, size_t n)
{
  return all_finite_body(w, n);
}

static const keel__train_kernels kernels_base = {combine_base, all_finite_base};

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void combine_avx2(float *g, size_t gs,
                                                         size_t n_chunks,
                                                         size_t lo, size_t hi,
                                                         float *out, float rows)
{
  combine_body(g, gs, n_chunks, lo, hi, out, rows);
}

__attribute__((target("avx2"))) static int all_finite_avx2(const float *w,
                                                           size_t n)
{
  return all_finite_body(w, n);
}

static const keel__train_kernels kernels_avx2 = {combine_avx2, all_finite_avx2};
#endif

const keel__train_kernels *keel__train_kernels_select(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return &kernels_avx2;
#endif
  return &kernels_base;
}
