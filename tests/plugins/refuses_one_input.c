/* Valid model "wide_only" 1.0.0: a linear layer (out = x W + b) that
 * refuses to be built for a single input, as a model that needs several
 * features might. `keel check` must probe create with the real input width
 * when the declared schemas know it, so a manifest feeding it four columns
 * checks green (tests/e2e/test_check_probe_width.sh). */
#include <keel/keel.h>
#include <stdlib.h>
#include <string.h>

typedef struct wide {
  size_t n_in, n_out;
} wide;

static int wide_create(const keel_host *host, const keel_value *params,
                       size_t n_in, size_t n_out, void **self, keel_error *err)
{
  (void)params;
  if (n_in < 2 || n_out < 1)
    return host->fail(err, KEEL_EINVAL,
                      "needs at least 2 inputs and 1 output, got %zu and %zu",
                      n_in, n_out);
  wide *m = malloc(sizeof *m);
  if (!m)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  m->n_in = n_in;
  m->n_out = n_out;
  *self = m;
  return KEEL_OK;
}

static void wide_destroy(const keel_host *host, void *self)
{
  (void)host;
  free(self);
}

static size_t wide_n_weights(const void *self)
{
  const wide *m = self;
  return (m->n_in + 1) * m->n_out;
}

static size_t wide_workspace_floats(const void *self, size_t n_rows)
{
  (void)self, (void)n_rows;
  return 0;
}

static void wide_init(const void *self, float *w, uint64_t seed)
{
  (void)seed;
  memset(w, 0, wide_n_weights(self) * sizeof *w);
}

static void wide_forward(const void *self, const float *w, const float *x,
                         size_t n_rows, float *out, float *ws)
{
  const wide *m = self;
  const float *b = w + m->n_in * m->n_out;
  (void)ws;
  for (size_t r = 0; r < n_rows; r++)
    for (size_t o = 0; o < m->n_out; o++) {
      float s = b[o];
      for (size_t i = 0; i < m->n_in; i++)
        s += x[r * m->n_in + i] * w[i * m->n_out + o];
      out[r * m->n_out + o] = s;
    }
}

static void wide_backward(const void *self, const float *w, const float *x,
                          size_t n_rows, const float *d_out, float *grad,
                          float *ws)
{
  const wide *m = self;
  float *gb = grad + m->n_in * m->n_out;
  (void)w, (void)ws;
  memset(grad, 0, wide_n_weights(self) * sizeof *grad);
  for (size_t r = 0; r < n_rows; r++)
    for (size_t o = 0; o < m->n_out; o++) {
      float d = d_out[r * m->n_out + o];
      for (size_t i = 0; i < m->n_in; i++)
        grad[i * m->n_out + o] += x[r * m->n_in + i] * d;
      gb[o] += d;
    }
}

static int wide_tensor(const void *self, size_t index, keel_tensor_info *out)
{
  const wide *m = self;
  if (index == 0)
    *out = (keel_tensor_info){"W", 0, 2, {m->n_in, m->n_out, 0, 0}};
  else if (index == 1)
    *out = (keel_tensor_info){"b", m->n_in * m->n_out, 1, {m->n_out, 0, 0, 0}};
  else
    return KEEL_ENOTFOUND;
  return KEEL_OK;
}

static const keel_model_api api = {
    KEEL_MODEL_API_HEADER,
    .create = wide_create,
    .destroy = wide_destroy,
    .n_weights = wide_n_weights,
    .workspace_floats = wide_workspace_floats,
    .init = wide_init,
    .forward = wide_forward,
    .backward = wide_backward,
    .tensor = wide_tensor,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "wide_only",
    .version = "1.0.0",
    .summary = "linear layer that refuses a single input",
    .license = "MIT",
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION | KEEL_TASK_REGRESSION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
