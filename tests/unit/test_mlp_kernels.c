/* The mlp plugin's dense kernels (plugins/models/mlp/mlp_kernels.h): the
 * SSE2 and AVX2 builds give the same bytes as each other and as a plain
 * reference loop written in the documented order, on many shapes (narrow
 * and wide layers, row and column remainders). The reference is also
 * checked to be sensitive: summing in another order changes some bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "../../plugins/models/mlp/mlp_kernels.h"

/* Values with a spread of magnitudes (so that the order of additions
 * shows in the low bits), a few exact zeros and negative zeros. */
static void fill(float *v, size_t n, uint64_t stream)
{
  for (size_t i = 0; i < n; i++) {
    double u = keel_rng_uniform(7, stream, i);
    double e = keel_rng_uniform(7, stream, i + 1000000);
    float x = (float)((2.0 * u - 1.0) * pow(10.0, 4.0 * e - 2.0));
    if (i % 17 == 3)
      x = 0.0f;
    if (i % 23 == 5)
      x = -0.0f;
    v[i] = x;
  }
}

static float ref_dot8(const float *a, const float *b, size_t n)
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

static void ref_forward(const float *W, const float *b, const float *in,
                        size_t rows, size_t n_in, size_t n_out, float *out)
{
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < n_out; j++) {
      if (n_out == 1) {
        out[r] = b[0] + ref_dot8(in + r * n_in, W, n_in);
        continue;
      }
      float acc = b[j];
      for (size_t i = 0; i < n_in; i++)
        acc += in[r * n_in + i] * W[i * n_out + j];
      out[r * n_out + j] = acc;
    }
}

static void ref_grad(const float *in, const float *d, size_t rows, size_t n_in,
                     size_t n_out, float *gW, float *gb, int reverse)
{
  for (size_t j = 0; j < n_out; j++) {
    for (size_t i = 0; i < n_in; i++) {
      float acc = 0.0f;
      for (size_t q = 0; q < rows; q++) {
        size_t r = reverse ? rows - 1 - q : q;
        acc += in[r * n_in + i] * d[r * n_out + j];
      }
      gW[i * n_out + j] = acc;
    }
    float acc = 0.0f;
    for (size_t r = 0; r < rows; r++)
      acc += d[r * n_out + j];
    gb[j] = acc;
  }
}

static void ref_delta(const float *W, const float *d, size_t rows, size_t n_in,
                      size_t n_out, float *dp)
{
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < n_in; i++)
      dp[r * n_in + i] = ref_dot8(W + i * n_out, d + r * n_out, n_out);
}

typedef struct outs {
  float *fwd, *gW, *gb, *dp;
} outs;

static void run_kernels(const mlp_kernels *k, const float *W, const float *b,
                        const float *x, const float *d, size_t rows,
                        size_t n_in, size_t n_out, outs *o)
{
  float *pad = malloc(mlpk_pad_floats(rows, n_in, n_out) * sizeof *pad);
  k->forward(W, b, x, rows, n_in, n_out, o->fwd, pad);
  k->grad(x, d, rows, n_in, n_out, o->gW, o->gb, pad);
  k->delta(W, d, rows, n_in, n_out, o->dp, pad);
  free(pad);
}

static void outs_alloc(outs *o, size_t rows, size_t n_in, size_t n_out)
{
  o->fwd = malloc(rows * n_out * sizeof(float));
  o->gW = malloc(n_in * n_out * sizeof(float));
  o->gb = malloc(n_out * sizeof(float));
  o->dp = malloc(rows * n_in * sizeof(float));
}

static void outs_free(outs *o)
{
  free(o->fwd);
  free(o->gW);
  free(o->gb);
  free(o->dp);
}

static int outs_equal(const outs *a, const outs *b, size_t rows, size_t n_in,
                      size_t n_out)
{
  return memcmp(a->fwd, b->fwd, rows * n_out * sizeof(float)) == 0 &&
         memcmp(a->gW, b->gW, n_in * n_out * sizeof(float)) == 0 &&
         memcmp(a->gb, b->gb, n_out * sizeof(float)) == 0 &&
         memcmp(a->dp, b->dp, rows * n_in * sizeof(float)) == 0;
}

static void test_builds_match_reference(void)
{
  static const size_t rows_[] = {1, 3, 4, 5, 16, 17};
  static const size_t in_[] = {1, 3, 8, 13, 64};
  static const size_t out_[] = {1, 2, 10, 16, 17, 40, 128};
  const mlp_kernels *builds[2] = {&mlpk_sse2, NULL};
#ifdef MLPK_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    builds[1] = &mlpk_avx2;
#endif
  size_t cases = 0;
  for (size_t a = 0; a < sizeof rows_ / sizeof *rows_; a++)
    for (size_t bi = 0; bi < sizeof in_ / sizeof *in_; bi++)
      for (size_t c = 0; c < sizeof out_ / sizeof *out_; c++) {
        size_t rows = rows_[a], n_in = in_[bi], n_out = out_[c];
        float *W = malloc(n_in * n_out * sizeof *W);
        float *b = malloc(n_out * sizeof *b);
        float *x = malloc(rows * n_in * sizeof *x);
        float *d = malloc(rows * n_out * sizeof *d);
        fill(W, n_in * n_out, 1);
        fill(b, n_out, 2);
        fill(x, rows * n_in, 3);
        fill(d, rows * n_out, 4);
        outs ref;
        outs_alloc(&ref, rows, n_in, n_out);
        ref_forward(W, b, x, rows, n_in, n_out, ref.fwd);
        ref_grad(x, d, rows, n_in, n_out, ref.gW, ref.gb, 0);
        ref_delta(W, d, rows, n_in, n_out, ref.dp);
        for (int k = 0; k < 2; k++) {
          if (!builds[k])
            continue;
          outs got;
          outs_alloc(&got, rows, n_in, n_out);
          run_kernels(builds[k], W, b, x, d, rows, n_in, n_out, &got);
          int same = outs_equal(&ref, &got, rows, n_in, n_out);
          if (!same)
            fprintf(stderr,
                    "mlp kernels %s differ from the reference at "
                    "rows %zu, in %zu, out %zu\n",
                    builds[k]->name, rows, n_in, n_out);
          CU_ASSERT(same);
          outs_free(&got);
          cases++;
        }
        outs_free(&ref);
        free(W);
        free(b);
        free(x);
        free(d);
      }
  CU_ASSERT(cases >= 210);
#ifdef MLPK_HAVE_AVX2
  if (!builds[1])
    fprintf(stderr, "note: this CPU has no AVX2; only the SSE2 build was "
                    "compared\n");
#endif
}

/* The comparison can fail: another summation order (rows reversed)
 * changes the bits of some gradient. */
static void test_order_is_visible(void)
{
  size_t rows = 16, n_in = 64, n_out = 10;
  float *x = malloc(rows * n_in * sizeof *x);
  float *d = malloc(rows * n_out * sizeof *d);
  float *g1 = malloc(n_in * n_out * sizeof *g1);
  float *g2 = malloc(n_in * n_out * sizeof *g2);
  float gb1[10], gb2[10];
  fill(x, rows * n_in, 3);
  fill(d, rows * n_out, 4);
  ref_grad(x, d, rows, n_in, n_out, g1, gb1, 0);
  ref_grad(x, d, rows, n_in, n_out, g2, gb2, 1);
  CU_ASSERT(memcmp(g1, g2, n_in * n_out * sizeof *g1) != 0);
  free(x);
  free(d);
  free(g1);
  free(g2);
}

/* The selected build is one of the two and names itself. */
static void test_select(void)
{
  const mlp_kernels *k = mlpk_select();
  CU_ASSERT_PTR_NOT_NULL_FATAL(k);
  CU_ASSERT(strcmp(k->name, "sse2") == 0 || strcmp(k->name, "avx2") == 0);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"sse2 and avx2 builds give the reference's bytes",
       test_builds_match_reference},
      {"another summation order gives other bits", test_order_is_visible},
      {"selection by CPU", test_select},
      {NULL, NULL},
  };
  return keel_test_run_suite("mlp_kernels", tests);
}
