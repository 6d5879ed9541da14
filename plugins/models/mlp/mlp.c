/* mlp: a keel model, the multilayer perceptron.
 *
 * Dense layers in -> hidden[0] -> ... -> hidden[k-1] -> out, with an
 * activation (relu, tanh or tanh-approximated GELU) after every hidden
 * layer and none after the last (the loss sees raw outputs or logits).
 *
 * Weights, layer after layer: W_l stored [fan_in][fan_out] row-major, then
 * b_l [fan_out]. The dense-layer kernels live in mlp_kernels.h, built
 * twice (SSE2 and AVX2) and chosen when the instance is created by what
 * the CPU supports; both builds give the same bits (tests/unit/
 * test_mlp_kernels.c compares them byte for byte).
 *
 * Summation order is fixed by the shapes alone:
 *   forward    z[j] = (((b[j] + x0 W0j) + x1 W1j) + ...), inputs in order
 *              (fan_out == 1: b + dot8(x, w), see mlp_kernels.h);
 *   dW, db     sums over rows in row order, starting from 0;
 *   d(input)   dot8 over the outputs of the layer.
 * Loops are blocked for speed, but each element sees the same sequence of
 * roundings as the plain triple loop, so every blocking gives the same bits.
 *
 * GELU and tanh call libm's tanhf: its results are deterministic for a
 * fixed libm build (glibc's tanhf is the same on every x86-64 CPU); a
 * different libm may round differently, which the run bundle records. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <keel/keel.h>

#include "mlp_kernels.h"

enum { P_HIDDEN, P_ACTIVATION, P_INIT, P_COUNT };
enum { ACT_RELU, ACT_TANH, ACT_GELU };
enum { INIT_AUTO, INIT_HE, INIT_GLOROT };

static const char *const mlp_activations[] = {"relu", "tanh", "gelu", NULL};
static const char *const mlp_inits[] = {"auto", "he", "glorot", NULL};

static const keel_param_decl mlp_params[] = {
    [P_HIDDEN] = KEEL_P_INT_LIST("hidden", "128", 1, 65536, "units",
                                 "widths of the hidden layers, input side "
                                 "first (at most 16 layers; empty: linear)"),
    [P_ACTIVATION] = KEEL_P_ENUM("activation", "relu", mlp_activations,
                                 "activation after each hidden layer "
                                 "(gelu: tanh approximation)"),
    [P_INIT] = KEEL_P_ENUM("init", "auto", mlp_inits,
                           "uniform init of hidden W: he (sqrt(6/fan_in)), "
                           "glorot (sqrt(6/(fan_in+fan_out))), auto = he "
                           "for relu else glorot; output W is glorot"),
};
KEEL_PARAMS_MATCH(mlp_params, P_COUNT);

#define MLP_MAX_HIDDEN 16
#define MLP_MAX_LAYERS (MLP_MAX_HIDDEN + 1)

typedef struct mlp_model {
  size_t n_layers;                  /* dense layers: hidden + 1 */
  size_t width[MLP_MAX_LAYERS + 1]; /* width[0] = n_in, [n_layers] = n_out */
  size_t w_off[MLP_MAX_LAYERS];     /* W_l in the weight vector */
  size_t b_off[MLP_MAX_LAYERS];     /* b_l */
  size_t n_weights;
  size_t h_off[MLP_MAX_LAYERS]; /* per-row offset of hidden act. l>=1 */
  size_t z_off[MLP_MAX_LAYERS]; /* per-row offset of pre-act. (gelu) */
  size_t sum_hidden, max_width;
  int act, init;
  const mlp_kernels *k;               /* SSE2 or AVX2 build, same bits */
  char names[2 * MLP_MAX_LAYERS][24]; /* "W" or "b" and a size_t */
} mlp_model;

static const float GELU_C = 0.7978845608028654f; /* sqrt(2/pi) */
static const float GELU_A = 0.044715f;

static int mlp_create(const keel_host *host, const keel_value *params,
                      size_t n_in, size_t n_out, void **self, keel_error *err)
{
  const keel_value *hidden = &params[P_HIDDEN];
  if (n_in == 0 || n_out == 0)
    return host->fail(err, KEEL_EINVAL,
                      "needs at least one input and one output (got %zu "
                      "inputs, %zu outputs)",
                      n_in, n_out);
  if (hidden->n > MLP_MAX_HIDDEN)
    return host->fail(err, KEEL_EINVAL,
                      "hidden lists %zu layers, at most %d are supported",
                      hidden->n, MLP_MAX_HIDDEN);
  mlp_model *m = host->alloc_zero(1, sizeof *m);
  if (!m)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  m->act = (int)params[P_ACTIVATION].i;
  m->init = (int)params[P_INIT].i;
  if (m->init == INIT_AUTO)
    m->init = m->act == ACT_RELU ? INIT_HE : INIT_GLOROT;
  m->n_layers = hidden->n + 1;
  m->width[0] = n_in;
  for (size_t l = 0; l < hidden->n; l++) {
    if (hidden->ints[l] < 1 || hidden->ints[l] > 65536) {
      host->free(m);
      return host->fail(err, KEEL_ERANGE,
                        "hidden[%zu] = %lld is outside [1, 65536]", l,
                        (long long)hidden->ints[l]);
    }
    m->width[l + 1] = (size_t)hidden->ints[l];
  }
  m->width[m->n_layers] = n_out;
  size_t off = 0, hoff = 0;
  m->max_width = n_out;
  for (size_t l = 0; l < m->n_layers; l++) {
    m->w_off[l] = off;
    off += m->width[l] * m->width[l + 1];
    m->b_off[l] = off;
    off += m->width[l + 1];
    snprintf(m->names[2 * l], sizeof m->names[0], "W%zu", l + 1);
    snprintf(m->names[2 * l + 1], sizeof m->names[0], "b%zu", l + 1);
    if (l + 1 < m->n_layers) { /* hidden layer l+1's activations */
      m->h_off[l + 1] = hoff;
      hoff += m->width[l + 1];
      if (m->width[l + 1] > m->max_width)
        m->max_width = m->width[l + 1];
    }
  }
  m->sum_hidden = hoff;
  for (size_t l = 1; l < m->n_layers; l++)
    m->z_off[l] = m->sum_hidden + m->h_off[l];
  m->n_weights = off;
  m->k = mlpk_select();
  *self = m;
  return KEEL_OK;
}

static void mlp_destroy(const keel_host *host, void *self)
{
  host->free(self);
}

static size_t mlp_n_weights(const void *self)
{
  return ((const mlp_model *)self)->n_weights;
}

/* Per row: hidden activations, pre-activations (gelu only), and two delta
 * buffers of the widest layer for the backward pass. */
static size_t mlp_ws_per_row(const mlp_model *m)
{
  size_t z = m->act == ACT_GELU ? m->sum_hidden : 0;
  return m->sum_hidden + z + 2 * m->max_width;
}

/* Kernel scratch after the per-row buffers. */
static size_t mlp_pad_floats(const mlp_model *m, size_t n_rows)
{
  size_t p = 0;
  for (size_t l = 0; l < m->n_layers; l++) {
    size_t q = mlpk_pad_floats(n_rows, m->width[l], m->width[l + 1]);
    p = q > p ? q : p;
  }
  return p;
}

static size_t mlp_workspace_floats(const void *self, size_t n_rows)
{
  return n_rows * mlp_ws_per_row(self) + mlp_pad_floats(self, n_rows);
}

static void mlp_init(const void *self, float *w, uint64_t seed)
{
  const mlp_model *m = self;
  for (size_t l = 0; l < m->n_layers; l++) {
    double fan_in = (double)m->width[l], fan_out = (double)m->width[l + 1];
    int last = l + 1 == m->n_layers;
    double bound = (!last && m->init == INIT_HE)
                       ? sqrt(6.0 / fan_in)
                       : sqrt(6.0 / (fan_in + fan_out));
    size_t n = m->width[l] * m->width[l + 1];
    for (size_t k = 0; k < n; k++) {
      size_t idx = m->w_off[l] + k;
      w[idx] =
          (float)((2.0 * keel_rng_uniform(seed, KEEL_RNG_STREAM_INIT, idx) -
                   1.0) *
                  bound);
    }
    memset(w + m->b_off[l], 0, m->width[l + 1] * sizeof *w);
  }
}

/* Buffer of hidden layer l (1-based) inside ws for n_rows rows. */
static float *mlp_hidden(const mlp_model *m, float *ws, size_t n_rows, size_t l)
{
  return ws + n_rows * m->h_off[l];
}

static float *mlp_preact(const mlp_model *m, float *ws, size_t n_rows, size_t l)
{
  return ws + n_rows * m->z_off[l];
}

static void activate(int act, const float *z, float *h, size_t n)
{
  switch (act) {
  case ACT_RELU:
    for (size_t k = 0; k < n; k++)
      h[k] = z[k] > 0.0f ? z[k] : 0.0f;
    break;
  case ACT_TANH:
    for (size_t k = 0; k < n; k++)
      h[k] = tanhf(z[k]);
    break;
  default:
    for (size_t k = 0; k < n; k++) {
      float x = z[k];
      float u = GELU_C * (x + GELU_A * (x * x * x));
      h[k] = 0.5f * x * (1.0f + tanhf(u));
    }
    break;
  }
}

static void mlp_forward(const void *self, const float *w, const float *x,
                        size_t n_rows, float *out, float *ws)
{
  const mlp_model *m = self;
  const float *in = x;
  float *pad = ws + n_rows * mlp_ws_per_row(m);
  for (size_t l = 0; l < m->n_layers; l++) {
    size_t fi = m->width[l], fo = m->width[l + 1];
    const float *W = w + m->w_off[l], *b = w + m->b_off[l];
    if (l + 1 == m->n_layers) {
      m->k->forward(W, b, in, n_rows, fi, fo, out, pad);
      break;
    }
    float *h = mlp_hidden(m, ws, n_rows, l + 1);
    if (m->act == ACT_GELU) {
      float *z = mlp_preact(m, ws, n_rows, l + 1);
      m->k->forward(W, b, in, n_rows, fi, fo, z, pad);
      activate(m->act, z, h, n_rows * fo);
    } else {
      m->k->forward(W, b, in, n_rows, fi, fo, h, pad);
      activate(m->act, h, h, n_rows * fo);
    }
    in = h;
  }
}

/* d[k] *= activation'(at element k), from the stored h (relu, tanh) or z. */
static void act_backward(int act, const float *h, const float *z, float *d,
                         size_t n)
{
  switch (act) {
  case ACT_RELU:
    for (size_t k = 0; k < n; k++)
      d[k] = h[k] > 0.0f ? d[k] : 0.0f;
    break;
  case ACT_TANH:
    for (size_t k = 0; k < n; k++)
      d[k] = d[k] * (1.0f - h[k] * h[k]);
    break;
  default:
    for (size_t k = 0; k < n; k++) {
      float x = z[k];
      float u = GELU_C * (x + GELU_A * (x * x * x));
      float t = tanhf(u);
      float du = GELU_C * (1.0f + 3.0f * GELU_A * (x * x));
      float g = 0.5f * (1.0f + t) + 0.5f * x * ((1.0f - t * t) * du);
      d[k] = d[k] * g;
    }
    break;
  }
}

static void mlp_backward(const void *self, const float *w, const float *x,
                         size_t n_rows, const float *d_out, float *grad,
                         float *ws)
{
  const mlp_model *m = self;
  float *dbuf[2];
  dbuf[0] = ws + n_rows * (mlp_ws_per_row(m) - 2 * m->max_width);
  dbuf[1] = dbuf[0] + n_rows * m->max_width;
  float *pad = ws + n_rows * mlp_ws_per_row(m);
  const float *d = d_out;
  int which = 0;
  for (size_t l = m->n_layers; l-- > 0;) {
    size_t fi = m->width[l], fo = m->width[l + 1];
    const float *in = l == 0 ? x : mlp_hidden(m, ws, n_rows, l);
    m->k->grad(in, d, n_rows, fi, fo, grad + m->w_off[l], grad + m->b_off[l],
               pad);
    if (l == 0)
      break;
    /* Delta of hidden layer l: (d W_l^T) * act'(.) */
    const float *W = w + m->w_off[l];
    float *dp = dbuf[which];
    m->k->delta(W, d, n_rows, fi, fo, dp, pad);
    const float *z = m->act == ACT_GELU ? mlp_preact(m, ws, n_rows, l) : NULL;
    act_backward(m->act, in, z, dp, n_rows * fi);
    d = dp;
    which ^= 1;
  }
}

static int mlp_tensor(const void *self, size_t index, keel_tensor_info *out)
{
  const mlp_model *m = self;
  if (index >= 2 * m->n_layers)
    return KEEL_ENOTFOUND;
  size_t l = index / 2;
  if (index % 2 == 0)
    *out = (keel_tensor_info){.name = m->names[index],
                              .offset = m->w_off[l],
                              .ndim = 2,
                              .shape = {m->width[l], m->width[l + 1]}};
  else
    *out = (keel_tensor_info){.name = m->names[index],
                              .offset = m->b_off[l],
                              .ndim = 1,
                              .shape = {m->width[l + 1]}};
  return KEEL_OK;
}

static const keel_model_api mlp_api = {
    KEEL_MODEL_API_HEADER,
    .create = mlp_create,
    .destroy = mlp_destroy,
    .n_weights = mlp_n_weights,
    .workspace_floats = mlp_workspace_floats,
    .init = mlp_init,
    .forward = mlp_forward,
    .backward = mlp_backward,
    .tensor = mlp_tensor,
};

static const keel_plugin mlp_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "mlp",
    .version = "1.0.0",
    .summary = "multilayer perceptron: dense layers with relu, tanh or gelu",
    .license = "MIT",
    .params = mlp_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION | KEEL_TASK_REGRESSION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &mlp_api,
};

KEEL_PLUGIN_DEFINE(mlp_plugin)
