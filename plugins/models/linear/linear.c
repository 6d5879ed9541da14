/* linear: a keel model computing out = x W + b (linear regression).
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
 * Gradients: dW[i][k] = sum over rows in row order, starting from 0. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <keel/keel.h>

enum { P_INIT_SCALE, P_COUNT };

static const keel_param_decl linear_params[P_COUNT] = {
    [P_INIT_SCALE] = KEEL_P_FLOAT(
        "init_scale", 1.0, 0.0, 10.0, 0, NULL,
        "multiplies the Glorot-uniform bound of the initial W (0: all zero)"),
};

typedef struct linear_model {
  size_t n_in, n_out;
  double init_scale;
} linear_model;

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

static int linear_create(const keel_host *host, const keel_value *params,
                         size_t n_in, size_t n_out, void **self,
                         keel_error *err)
{
  if (n_in == 0 || n_out == 0)
    return host->fail(err, KEEL_EINVAL,
                      "linear: needs at least one input and one output "
                      "(got %zu inputs, %zu outputs)", n_in, n_out);
  linear_model *m = host->alloc_zero(1, sizeof *m);
  if (!m)
    return host->fail(err, KEEL_ENOMEM, "linear: out of memory");
  m->n_in = n_in;
  m->n_out = n_out;
  m->init_scale = params[P_INIT_SCALE].f;
  *self = m;
  return KEEL_OK;
}

static void linear_destroy(const keel_host *host, void *self)
{
  host->free(self);
}

static size_t linear_n_weights(const void *self)
{
  const linear_model *m = self;
  return m->n_in * m->n_out + m->n_out;
}

static size_t linear_workspace_floats(const void *self, size_t n_rows)
{
  return 0;
}

static void linear_init(const void *self, float *w, uint64_t seed)
{
  const linear_model *m = self;
  double bound = m->init_scale * sqrt(6.0 / (double)(m->n_in + m->n_out));
  size_t nw = m->n_in * m->n_out;
  for (size_t i = 0; i < nw; i++)
    w[i] = (float)((2.0 * keel_rng_uniform(seed, KEEL_RNG_STREAM_INIT, i) -
                    1.0) * bound);
  for (size_t k = 0; k < m->n_out; k++)
    w[nw + k] = 0.0f;
}

static void linear_forward(const void *self, const float *w, const float *x,
                           size_t n_rows, float *out, float *ws)
{
  const linear_model *m = self;
  size_t n_in = m->n_in, n_out = m->n_out;
  const float *b = w + n_in * n_out;
  if (n_out == 1) {
    for (size_t r = 0; r < n_rows; r++)
      out[r] = b[0] + dot8(x + r * n_in, w, n_in);
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

static void linear_backward(const void *self, const float *w, const float *x,
                            size_t n_rows, const float *d_out, float *grad,
                            float *ws)
{
  const linear_model *m = self;
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

static int linear_tensor(const void *self, size_t index, keel_tensor_info *out)
{
  const linear_model *m = self;
  if (index == 0) {
    *out = (keel_tensor_info){.name = "W", .offset = 0, .ndim = 2,
                              .shape = {m->n_in, m->n_out}};
    return KEEL_OK;
  }
  if (index == 1) {
    *out = (keel_tensor_info){.name = "b", .offset = m->n_in * m->n_out,
                              .ndim = 1, .shape = {m->n_out}};
    return KEEL_OK;
  }
  return KEEL_ENOTFOUND;
}

static const keel_model_api linear_api = {
    .struct_size = sizeof(keel_model_api),
    .create = linear_create,
    .destroy = linear_destroy,
    .n_weights = linear_n_weights,
    .workspace_floats = linear_workspace_floats,
    .init = linear_init,
    .forward = linear_forward,
    .backward = linear_backward,
    .tensor = linear_tensor,
};

static const keel_plugin linear_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "linear",
    .version = "1.0.0",
    .summary = "linear regression: out = x W + b, W stored [inputs][outputs]",
    .license = "MIT",
    .params = linear_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_REGRESSION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &linear_api,
};

KEEL_PLUGIN_DEFINE(linear_plugin)
