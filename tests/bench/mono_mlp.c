#include "mono_mlp.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <keel/rng.h>

#define BLK 32

size_t mono_n_weights(const mono_config *c, size_t n_in)
{
  return n_in * c->hidden + c->hidden + c->hidden * c->n_out + c->n_out;
}

static float dot8(const float *a, const float *b, size_t n)
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

/* Layer 1: 128 outputs, four register blocks of 32, then ReLU. */
static void layer1(const float *W, const float *b, const float *x,
                   size_t rows, size_t n_in, size_t n_out, float *h)
{
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * n_in;
    float *o = h + r * n_out;
    for (size_t j0 = 0; j0 < n_out; j0 += BLK) {
      float acc[BLK];
      for (size_t t = 0; t < BLK; t++)
        acc[t] = b[j0 + t];
      for (size_t i = 0; i < n_in; i++) {
        float xi = xr[i];
        const float *wr = W + i * n_out + j0;
        for (size_t t = 0; t < BLK; t++)
          acc[t] += xi * wr[t];
      }
      for (size_t t = 0; t < BLK; t++)
        o[j0 + t] = acc[t] > 0.0f ? acc[t] : 0.0f;
    }
  }
}

int mono_mlp_train(const mono_config *c, const float *x, const float *y,
                   size_t n, size_t n_in, float *w)
{
  size_t H = c->hidden, K = c->n_out, B = c->batch, C = c->chunk;
  size_t nw = mono_n_weights(c, n_in);
  float *W1 = w, *b1 = w + n_in * H, *W2 = b1 + H, *b2 = W2 + H * K;
  /* init: He uniform for W1, Glorot for W2, zero biases */
  double bound1 = sqrt(6.0 / (double)n_in);
  double bound2 = sqrt(6.0 / (double)(H + K));
  for (size_t i = 0; i < n_in * H; i++)
    W1[i] = (float)((2.0 * keel_rng_uniform(c->seed, KEEL_RNG_STREAM_INIT, i) -
                     1.0) * bound1);
  memset(b1, 0, H * sizeof *b1);
  size_t o2 = n_in * H + H;
  for (size_t i = 0; i < H * K; i++)
    W2[i] = (float)((2.0 * keel_rng_uniform(c->seed, KEEL_RNG_STREAM_INIT,
                                            o2 + i) - 1.0) * bound2);
  memset(b2, 0, K * sizeof *b2);

  int nt = c->threads;
  size_t max_chunks = (B + C - 1) / C;
  float *grads = malloc(max_chunks * nw * sizeof *grads);
  float *g = malloc(nw * sizeof *g);
  float *m = calloc(nw, sizeof *m), *v = calloc(nw, sizeof *v);
  float *xb = malloc((size_t)nt * C * n_in * sizeof *xb);
  float *yb = malloc((size_t)nt * C * sizeof *yb);
  float *hb = malloc((size_t)nt * C * H * sizeof *hb);
  float *ob = malloc((size_t)nt * C * K * sizeof *ob);
  float *db = malloc((size_t)nt * C * K * sizeof *db);
  float *dh = malloc((size_t)nt * C * H * sizeof *dh);
  double *loss = malloc(max_chunks * sizeof *loss);
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
    for (size_t first = 0; first < n; first += B) {
      size_t rows = n - first < B ? n - first : B;
      size_t n_chunks = (rows + C - 1) / C;
#pragma omp parallel num_threads(nt) if (n_chunks > 1)
      {
        int t = omp_get_thread_num();
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < n_chunks; ch++) {
          size_t len = rows - ch * C < C ? rows - ch * C : C;
          float *X = xb + (size_t)t * C * n_in, *Y = yb + (size_t)t * C;
          float *Hh = hb + (size_t)t * C * H, *O = ob + (size_t)t * C * K;
          float *D = db + (size_t)t * C * K, *DH = dh + (size_t)t * C * H;
          float *G = grads + ch * nw;
          for (size_t r = 0; r < len; r++) {
            size_t src = perm[first + ch * C + r];
            memcpy(X + r * n_in, x + src * n_in, n_in * sizeof *X);
            Y[r] = y[src];
          }
          layer1(W1, b1, X, len, n_in, H, Hh);
          for (size_t r = 0; r < len; r++) { /* layer 2: 10 outputs */
            float *o = O + r * K;
            const float *hr = Hh + r * H;
            for (size_t k = 0; k < K; k++)
              o[k] = b2[k];
            for (size_t i = 0; i < H; i++) {
              float hi = hr[i];
              for (size_t k = 0; k < K; k++)
                o[k] += hi * W2[i * K + k];
            }
          }
          double ls = 0.0; /* softmax cross-entropy */
          for (size_t r = 0; r < len; r++) {
            const float *z = O + r * K;
            long cl = (long)Y[r];
            double mx = (double)z[0];
            for (size_t k = 1; k < K; k++)
              if ((double)z[k] > mx)
                mx = (double)z[k];
            double s = 0.0;
            for (size_t k = 0; k < K; k++)
              s += exp((double)z[k] - mx);
            double lse = mx + log(s);
            ls += lse - (double)z[cl];
            for (size_t k = 0; k < K; k++)
              D[r * K + k] =
                  (float)(exp((double)z[k] - lse) - ((long)k == cl ? 1.0 : 0.0));
          }
          loss[ch] = ls;
          /* layer 2 gradients: rows outer */
          float *gW2 = G + o2, *gb2 = gW2 + H * K;
          memset(gW2, 0, (H * K + K) * sizeof *G);
          for (size_t r = 0; r < len; r++) {
            const float *dr = D + r * K, *hr = Hh + r * H;
            for (size_t i = 0; i < H; i++) {
              float a = hr[i];
              for (size_t k = 0; k < K; k++)
                gW2[i * K + k] += a * dr[k];
            }
            for (size_t k = 0; k < K; k++)
              gb2[k] += dr[k];
          }
          /* hidden deltas */
          for (size_t r = 0; r < len; r++)
            for (size_t i = 0; i < H; i++) {
              float s = dot8(W2 + i * K, D + r * K, K);
              DH[r * H + i] = Hh[r * H + i] > 0.0f ? s : 0.0f;
            }
          /* layer 1 gradients: blocks of 32 outputs, rows inner */
          float *gW1 = G, *gb1 = G + n_in * H;
          for (size_t j0 = 0; j0 < H; j0 += BLK) {
            for (size_t i = 0; i < n_in; i++) {
              float acc[BLK];
              for (size_t q = 0; q < BLK; q++)
                acc[q] = 0.0f;
              for (size_t r = 0; r < len; r++) {
                float a = X[r * n_in + i];
                const float *dr = DH + r * H + j0;
                for (size_t q = 0; q < BLK; q++)
                  acc[q] += a * dr[q];
              }
              memcpy(gW1 + i * H + j0, acc, sizeof acc);
            }
            float acc[BLK];
            for (size_t q = 0; q < BLK; q++)
              acc[q] = 0.0f;
            for (size_t r = 0; r < len; r++)
              for (size_t q = 0; q < BLK; q++)
                acc[q] += DH[r * H + j0 + q];
            memcpy(gb1 + j0, acc, sizeof acc);
          }
        }
        /* fixed pairwise tree over chunks, then the mean */
        size_t n_blocks = (nw + 2047) / 2048;
#pragma omp for schedule(static)
        for (size_t bl = 0; bl < n_blocks; bl++) {
          size_t lo = bl * 2048, hi = lo + 2048 < nw ? lo + 2048 : nw;
          for (size_t s = 1; s < n_chunks; s *= 2)
            for (size_t ch = 0; ch + s < n_chunks; ch += 2 * s)
              for (size_t j = lo; j < hi; j++)
                grads[ch * nw + j] += grads[(ch + s) * nw + j];
          for (size_t j = lo; j < hi; j++)
            g[j] = grads[j] / (float)rows;
        }
      }
      for (size_t s = 1; s < n_chunks; s *= 2)
        for (size_t ch = 0; ch + s < n_chunks; ch += 2 * s)
          loss[ch] += loss[ch + s];
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
  free(grads);
  free(g);
  free(m);
  free(v);
  free(xb);
  free(yb);
  free(hb);
  free(ob);
  free(db);
  free(dh);
  free(loss);
  free(perm);
  return 0;
}
