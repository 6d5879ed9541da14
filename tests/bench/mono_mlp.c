#include "mono_mlp.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <keel/rng.h>

/* The mlp plugin's own dense kernels (SSE2/AVX2, same bits): the
 * comparison measures the plugin boundary and the loop, not the kernels. */
#include "../../plugins/models/mlp/mlp_kernels.h"

size_t mono_n_weights(const mono_config *c, size_t n_in)
{
  return n_in * c->hidden + c->hidden + c->hidden * c->n_out + c->n_out;
}

int mono_mlp_train(const mono_config *c, const float *x, const float *y,
                   size_t n, size_t n_in, float *w)
{
  size_t H = c->hidden, Kc = c->n_out, B = c->batch, C = c->chunk;
  size_t nw = mono_n_weights(c, n_in);
  float *W1 = w, *b1 = w + n_in * H, *W2 = b1 + H, *b2 = W2 + H * Kc;
  /* init: He uniform for W1, Glorot for W2, zero biases */
  double bound1 = sqrt(6.0 / (double)n_in);
  double bound2 = sqrt(6.0 / (double)(H + Kc));
  for (size_t i = 0; i < n_in * H; i++)
    W1[i] = (float)((2.0 * keel_rng_uniform(c->seed, KEEL_RNG_STREAM_INIT, i) -
                     1.0) *
                    bound1);
  memset(b1, 0, H * sizeof *b1);
  size_t o2 = n_in * H + H;
  for (size_t i = 0; i < H * Kc; i++)
    W2[i] =
        (float)((2.0 * keel_rng_uniform(c->seed, KEEL_RNG_STREAM_INIT, o2 + i) -
                 1.0) *
                bound2);
  memset(b2, 0, Kc * sizeof *b2);

  int nt = c->threads;
  const mlp_kernels *KN = mlpk_select();
  size_t max_chunks = (B + C - 1) / C;
  size_t gs = (nw + 31) / 32 * 32; /* chunk gradients 128 bytes apart */
  size_t pads = mlpk_pad_floats(C, n_in, H);
  size_t p2 = mlpk_pad_floats(C, H, Kc);
  pads = (pads > p2 ? pads : p2) + 32;
  size_t ps = (C * (n_in + 1 + H + 2 * Kc + H) + pads + 31) / 32 * 32;
  float *grads = malloc(max_chunks * gs * sizeof *grads);
  float *g = malloc(nw * sizeof *g);
  float *m = calloc(nw, sizeof *m), *v = calloc(nw, sizeof *v);
  float *scratch = malloc((size_t)nt * ps * sizeof *scratch);
  double *loss = malloc(max_chunks * 8 * sizeof *loss);
  size_t *perm = malloc(n * sizeof *perm);
  uint64_t step = 0;

  for (size_t e = 0; e < c->epochs; e++) {
    uint64_t stream = ((uint64_t)(e + 1) << 32) | KEEL_RNG_STREAM_SHUFFLE;
    for (size_t i = 0; i < n; i++)
      perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
      keel_rng_block bl = keel_rng_philox(c->seed, stream, i / 2);
      size_t h = i & 1;
      uint64_t u = ((uint64_t)bl.v[2 * h] << 32) | bl.v[2 * h + 1];
      keel__u128 mm = (keel__u128)u * ((uint64_t)i + 1);
      size_t j = (size_t)(mm >> 64);
      size_t t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    /* one parallel region per epoch, like keel's loop */
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num();
      float *X = scratch + (size_t)t * ps, *Y = X + C * n_in;
      float *Hh = Y + C, *O = Hh + C * H, *D = O + C * Kc, *DH = D + C * Kc;
      float *pad = DH + C * H;
      for (size_t first = 0; first < n; first += B) {
        size_t rows = n - first < B ? n - first : B;
        size_t n_chunks = (rows + C - 1) / C;
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < n_chunks; ch++) {
          size_t len = rows - ch * C < C ? rows - ch * C : C;
          float *G = grads + ch * gs;
          for (size_t r = 0; r < len; r++) {
            size_t src = perm[first + ch * C + r];
            memcpy(X + r * n_in, x + src * n_in, n_in * sizeof *X);
            Y[r] = y[src];
          }
          KN->forward(W1, b1, X, len, n_in, H, Hh, pad);
          for (size_t q = 0; q < len * H; q++)
            Hh[q] = Hh[q] > 0.0f ? Hh[q] : 0.0f;
          KN->forward(W2, b2, Hh, len, H, Kc, O, pad);
          double ls = 0.0; /* softmax cross-entropy */
          for (size_t r = 0; r < len; r++) {
            const float *z = O + r * Kc;
            long cl = (long)Y[r];
            double mx = (double)z[0];
            for (size_t k = 1; k < Kc; k++)
              if ((double)z[k] > mx)
                mx = (double)z[k];
            double s = 0.0;
            for (size_t k = 0; k < Kc; k++)
              s += exp((double)z[k] - mx);
            double lse = mx + log(s);
            ls += lse - (double)z[cl];
            for (size_t k = 0; k < Kc; k++)
              D[r * Kc + k] = (float)(exp((double)z[k] - lse) -
                                      ((long)k == cl ? 1.0 : 0.0));
          }
          loss[ch * 8] = ls;
          KN->grad(Hh, D, len, H, Kc, G + o2, G + o2 + H * Kc, pad);
          KN->delta(W2, D, len, H, Kc, DH, pad);
          for (size_t q = 0; q < len * H; q++)
            DH[q] = Hh[q] > 0.0f ? DH[q] : 0.0f;
          KN->grad(X, DH, len, n_in, H, G, G + n_in * H, pad);
        }
#pragma omp single
        {
          /* fixed pairwise tree over chunks, then the mean */
          for (size_t s = 1; s < n_chunks; s *= 2)
            for (size_t ch = 0; ch + s < n_chunks; ch += 2 * s) {
              float *dst = grads + ch * gs;
              const float *src = grads + (ch + s) * gs;
              for (size_t j = 0; j < nw; j++)
                dst[j] += src[j];
              loss[ch * 8] += loss[(ch + s) * 8];
            }
          for (size_t j = 0; j < nw; j++)
            g[j] = grads[j] / (float)rows;
          /* Adam */
          step++;
          double tt = (double)step;
          float step_size = (float)(c->lr / (1.0 - pow(c->beta1, tt)));
          float bc2 = (float)sqrt(1.0 - pow(c->beta2, tt));
          float fb1 = (float)c->beta1, fb2 = (float)c->beta2;
          float c1 = (float)(1.0 - c->beta1), c2 = (float)(1.0 - c->beta2);
          float eps = (float)c->eps;
          for (size_t i = 0; i < nw; i++) {
            float gi = g[i];
            float mi = fb1 * m[i] + c1 * gi;
            float vi = fb2 * v[i] + c2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            float denom = sqrtf(vi) / bc2 + eps;
            w[i] = w[i] - step_size * mi / denom;
          }
        }
      }
    }
  }
  free(grads);
  free(g);
  free(m);
  free(v);
  free(scratch);
  free(loss);
  free(perm);
  return 0;
}
