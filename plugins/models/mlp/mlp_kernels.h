/* The dense-layer kernels of the mlp plugin, in two builds chosen at run
 * time: the baseline x86-64 one (SSE2) and an AVX2 one. Included by mlp.c,
 * by the monolithic benchmark loop (tests/bench/mono_mlp.c) and by the
 * unit test that compares both builds byte for byte.
 *
 * Same bits on every path. Each output element sees one fixed sequence of
 * IEEE operations decided by the shapes alone; blocking (rows, columns,
 * inputs) and vector width only change which elements are computed side
 * by side, never the order of the operations on one element. There is no
 * FMA (-ffp-contract=off, and target("avx2") does not enable fma), no
 * reassociation (no -ffast-math), and the kernels call no libm function.
 * The orders:
 *   forward  out[r][j] = (((b[j] + x[r][0] W[0][j]) + x[r][1] W[1][j]) ...)
 *            (n_out == 1: b + dot8(x[r], W));
 *   grad     gW[i][j] = ((0 + x[0][i] d[0][j]) + x[1][i] d[1][j]) ...,
 *            gb[j]    = ((0 + d[0][j]) + d[1][j]) ...  (rows in order);
 *   delta    dp[r][i] = dot8(W[i][.], d[r][.]).
 * dot8(a, b, n): eight partial sums s[k] = ((0 + a[k] b[k]) + a[8+k]
 * b[8+k]) + ..., combined as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then
 * the tail elements added in order.
 *
 * Vectors are GCC's generic vectors (elementwise IEEE operations; on the
 * SSE2 build an 8-float vector is two xmm registers). */
#ifndef KEEL_MLP_KERNELS_H
#define KEEL_MLP_KERNELS_H

#include <stddef.h>
#include <string.h>

typedef float mlpk_v8 __attribute__((vector_size(32)));

#define MLPK_LD(v, p) memcpy(&(v), (p), sizeof(mlpk_v8))
#define MLPK_ST(p, v) memcpy((p), &(v), sizeof(mlpk_v8))
#define MLPK_AI static inline __attribute__((always_inline))
#define MLPK_CB 16 /* columns per block: two vectors */

/* Scratch floats the kernels need (the `pad` argument) for a layer of
 * n_in -> n_out on n_rows rows. */
static inline size_t mlpk_pad_floats(size_t n_rows, size_t n_in, size_t n_out)
{
  size_t a = (n_in + 1) * MLPK_CB; /* forward: padded W and b */
  size_t b = n_rows * MLPK_CB;     /* grad: padded d */
  size_t c = n_in * n_out;         /* delta: W transposed */
  size_t m = a > b ? a : b;
  return (m > c ? m : c) + MLPK_CB;
}

MLPK_AI float mlpk_dot8(const float *a, const float *b, size_t n)
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

/* Stores nc (<= 16) columns of the two vectors v0, v1 at p. */
MLPK_AI void mlpk_store16(float *p, mlpk_v8 v0, mlpk_v8 v1, size_t nc)
{
  if (nc == MLPK_CB) {
    MLPK_ST(p, v0);
    MLPK_ST(p + 8, v1);
  } else {
    float tmp[MLPK_CB];
    MLPK_ST(tmp, v0);
    MLPK_ST(tmp + 8, v1);
    memcpy(p, tmp, nc * sizeof *p);
  }
}

/* out[r][j] = b[j] + sum_i in[r][i] W[i][j]. */
MLPK_AI void mlpk_forward_body(const float *W, const float *b, const float *in,
                               size_t n_rows, size_t n_in, size_t n_out,
                               float *out, float *pad)
{
  if (n_out == 1) {
    for (size_t r = 0; r < n_rows; r++)
      out[r] = b[0] + mlpk_dot8(in + r * n_in, W, n_in);
    return;
  }
  for (size_t j0 = 0; j0 < n_out; j0 += MLPK_CB) {
    size_t nc = n_out - j0 < MLPK_CB ? n_out - j0 : MLPK_CB;
    const float *Wb = W + j0, *bb = b + j0;
    size_t ldw = n_out;
    if (nc < MLPK_CB) { /* a narrow block: copy it zero-padded to 16 */
      for (size_t i = 0; i < n_in; i++) {
        memcpy(pad + i * MLPK_CB, W + i * n_out + j0, nc * sizeof *pad);
        memset(pad + i * MLPK_CB + nc, 0, (MLPK_CB - nc) * sizeof *pad);
      }
      float *pb = pad + n_in * MLPK_CB;
      memcpy(pb, b + j0, nc * sizeof *pad);
      memset(pb + nc, 0, (MLPK_CB - nc) * sizeof *pad);
      Wb = pad;
      bb = pb;
      ldw = MLPK_CB;
    }
    mlpk_v8 b0, b1;
    MLPK_LD(b0, bb);
    MLPK_LD(b1, bb + 8);
    size_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
      const float *x0 = in + r * n_in, *x1 = x0 + n_in, *x2 = x1 + n_in,
                  *x3 = x2 + n_in;
      mlpk_v8 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1,
              a30 = b0, a31 = b1;
      for (size_t i = 0; i < n_in; i++) {
        mlpk_v8 w0, w1;
        MLPK_LD(w0, Wb + i * ldw);
        MLPK_LD(w1, Wb + i * ldw + 8);
        a00 += w0 * x0[i];
        a01 += w1 * x0[i];
        a10 += w0 * x1[i];
        a11 += w1 * x1[i];
        a20 += w0 * x2[i];
        a21 += w1 * x2[i];
        a30 += w0 * x3[i];
        a31 += w1 * x3[i];
      }
      float *o = out + r * n_out + j0;
      mlpk_store16(o, a00, a01, nc);
      mlpk_store16(o + n_out, a10, a11, nc);
      mlpk_store16(o + 2 * n_out, a20, a21, nc);
      mlpk_store16(o + 3 * n_out, a30, a31, nc);
    }
    for (; r < n_rows; r++) {
      const float *x0 = in + r * n_in;
      mlpk_v8 a00 = b0, a01 = b1;
      for (size_t i = 0; i < n_in; i++) {
        mlpk_v8 w0, w1;
        MLPK_LD(w0, Wb + i * ldw);
        MLPK_LD(w1, Wb + i * ldw + 8);
        a00 += w0 * x0[i];
        a01 += w1 * x0[i];
      }
      mlpk_store16(out + r * n_out + j0, a00, a01, nc);
    }
  }
}

/* gW[i][j] = sum_r in[r][i] d[r][j], gb[j] = sum_r d[r][j] (overwritten). */
MLPK_AI void mlpk_grad_body(const float *in, const float *d, size_t n_rows,
                            size_t n_in, size_t n_out, float *gW, float *gb,
                            float *pad)
{
  if (n_out == 1) {
    memset(gW, 0, n_in * sizeof *gW);
    gb[0] = 0.0f;
    for (size_t r = 0; r < n_rows; r++) {
      float d0 = d[r];
      const float *xr = in + r * n_in;
      for (size_t i = 0; i < n_in; i++)
        gW[i] += xr[i] * d0;
      gb[0] += d0;
    }
    return;
  }
  for (size_t j0 = 0; j0 < n_out; j0 += MLPK_CB) {
    size_t nc = n_out - j0 < MLPK_CB ? n_out - j0 : MLPK_CB;
    const float *D = d + j0;
    size_t ldd = n_out;
    if (nc < MLPK_CB) {
      for (size_t r = 0; r < n_rows; r++) {
        memcpy(pad + r * MLPK_CB, d + r * n_out + j0, nc * sizeof *pad);
        memset(pad + r * MLPK_CB + nc, 0, (MLPK_CB - nc) * sizeof *pad);
      }
      D = pad;
      ldd = MLPK_CB;
    }
    size_t i = 0;
    for (; i + 4 <= n_in; i += 4) {
      mlpk_v8 z = {0, 0, 0, 0, 0, 0, 0, 0};
      mlpk_v8 a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z,
              a31 = z;
      for (size_t r = 0; r < n_rows; r++) {
        mlpk_v8 d0, d1;
        MLPK_LD(d0, D + r * ldd);
        MLPK_LD(d1, D + r * ldd + 8);
        const float *xr = in + r * n_in + i;
        a00 += d0 * xr[0];
        a01 += d1 * xr[0];
        a10 += d0 * xr[1];
        a11 += d1 * xr[1];
        a20 += d0 * xr[2];
        a21 += d1 * xr[2];
        a30 += d0 * xr[3];
        a31 += d1 * xr[3];
      }
      float *g = gW + i * n_out + j0;
      mlpk_store16(g, a00, a01, nc);
      mlpk_store16(g + n_out, a10, a11, nc);
      mlpk_store16(g + 2 * n_out, a20, a21, nc);
      mlpk_store16(g + 3 * n_out, a30, a31, nc);
    }
    for (; i < n_in; i++) {
      mlpk_v8 a00 = {0, 0, 0, 0, 0, 0, 0, 0}, a01 = a00;
      for (size_t r = 0; r < n_rows; r++) {
        mlpk_v8 d0, d1;
        MLPK_LD(d0, D + r * ldd);
        MLPK_LD(d1, D + r * ldd + 8);
        float x = in[r * n_in + i];
        a00 += d0 * x;
        a01 += d1 * x;
      }
      mlpk_store16(gW + i * n_out + j0, a00, a01, nc);
    }
    mlpk_v8 s0 = {0, 0, 0, 0, 0, 0, 0, 0}, s1 = s0;
    for (size_t r = 0; r < n_rows; r++) {
      mlpk_v8 d0, d1;
      MLPK_LD(d0, D + r * ldd);
      MLPK_LD(d1, D + r * ldd + 8);
      s0 += d0;
      s1 += d1;
    }
    mlpk_store16(gb + j0, s0, s1, nc);
  }
}

/* dp[r][i] = dot8(W[i][.], d[r][.], n_out) for a layer n_in -> n_out:
 * W is transposed into pad so that eight consecutive i are one vector;
 * lane k of dot8 becomes vector s_k. */
MLPK_AI void mlpk_delta_body(const float *W, const float *d, size_t n_rows,
                             size_t n_in, size_t n_out, float *dp, float *pad)
{
  float *WT = pad; /* [n_out][n_in] */
  for (size_t i = 0; i < n_in; i++)
    for (size_t k = 0; k < n_out; k++)
      WT[k * n_in + i] = W[i * n_out + k];
  for (size_t r = 0; r < n_rows; r++) {
    const float *dr = d + r * n_out;
    float *o = dp + r * n_in;
    size_t i0 = 0;
    for (; i0 + 8 <= n_in; i0 += 8) {
      mlpk_v8 z = {0, 0, 0, 0, 0, 0, 0, 0};
      mlpk_v8 s0 = z, s1 = z, s2 = z, s3 = z, s4 = z, s5 = z, s6 = z, s7 = z, w;
      const float *wt = WT + i0;
      size_t q = 0;
      for (; q + 8 <= n_out; q += 8) {
        MLPK_LD(w, wt + (q + 0) * n_in);
        s0 += w * dr[q + 0];
        MLPK_LD(w, wt + (q + 1) * n_in);
        s1 += w * dr[q + 1];
        MLPK_LD(w, wt + (q + 2) * n_in);
        s2 += w * dr[q + 2];
        MLPK_LD(w, wt + (q + 3) * n_in);
        s3 += w * dr[q + 3];
        MLPK_LD(w, wt + (q + 4) * n_in);
        s4 += w * dr[q + 4];
        MLPK_LD(w, wt + (q + 5) * n_in);
        s5 += w * dr[q + 5];
        MLPK_LD(w, wt + (q + 6) * n_in);
        s6 += w * dr[q + 6];
        MLPK_LD(w, wt + (q + 7) * n_in);
        s7 += w * dr[q + 7];
      }
      mlpk_v8 t = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
      for (; q < n_out; q++) {
        MLPK_LD(w, wt + q * n_in);
        t += w * dr[q];
      }
      MLPK_ST(o + i0, t);
    }
    for (; i0 < n_in; i0++)
      o[i0] = mlpk_dot8(W + i0 * n_out, dr, n_out);
  }
}

typedef struct mlp_kernels {
  const char *name;
  void (*forward)(const float *W, const float *b, const float *in,
                  size_t n_rows, size_t n_in, size_t n_out, float *out,
                  float *pad);
  void (*grad)(const float *in, const float *d, size_t n_rows, size_t n_in,
               size_t n_out, float *gW, float *gb, float *pad);
  void (*delta)(const float *W, const float *d, size_t n_rows, size_t n_in,
                size_t n_out, float *dp, float *pad);
} mlp_kernels;

#define MLPK_INSTANCE(SFX, ATTR)                                               \
  ATTR static void mlpk_forward_##SFX(                                         \
      const float *W, const float *b, const float *in, size_t n_rows,          \
      size_t n_in, size_t n_out, float *out, float *pad)                       \
  {                                                                            \
    mlpk_forward_body(W, b, in, n_rows, n_in, n_out, out, pad);                \
  }                                                                            \
  ATTR static void mlpk_grad_##SFX(const float *in, const float *d,            \
                                   size_t n_rows, size_t n_in, size_t n_out,   \
                                   float *gW, float *gb, float *pad)           \
  {                                                                            \
    mlpk_grad_body(in, d, n_rows, n_in, n_out, gW, gb, pad);                   \
  }                                                                            \
  ATTR static void mlpk_delta_##SFX(const float *W, const float *d,            \
                                    size_t n_rows, size_t n_in, size_t n_out,  \
                                    float *dp, float *pad)                     \
  {                                                                            \
    mlpk_delta_body(W, d, n_rows, n_in, n_out, dp, pad);                       \
  }                                                                            \
  static const mlp_kernels mlpk_##SFX = {#SFX, mlpk_forward_##SFX,             \
                                         mlpk_grad_##SFX, mlpk_delta_##SFX};

MLPK_INSTANCE(sse2, )
#if defined(__x86_64__) && defined(__GNUC__)
MLPK_INSTANCE(avx2, __attribute__((target("avx2"))))
#define MLPK_HAVE_AVX2 1
#endif

/* The fastest build this CPU runs; all give the same bits. */
static inline const mlp_kernels *mlpk_select(void)
{
#ifdef MLPK_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return &mlpk_avx2;
#endif
  return &mlpk_sse2;
}

#endif
