/* A small correct model the plugin-test fixtures share and each break in
 * one way: out = tanh(x W + b), W stored [n_in][n_out]. The breaking
 * fixture defines one of KIT_ACCUMULATE, KIT_WRONG_GRADIENT or
 * KIT_STATIC_SCRATCH before including this file; with none it is the
 * correct model (kit_good_model.c), the control. SDK only. */
#include <math.h>
#include <string.h>

#include <keel/keel.h>

typedef struct kit_model {
  size_t n_in, n_out;
  float scale;
} kit_model;

enum { P_SCALE, P_COUNT };

static const keel_param_decl kit_params[P_COUNT] = {
    [P_SCALE] = KEEL_P_FLOAT("init_scale", 0.5, 0.0, 4.0, 0, NULL,
                             "bound of the uniform initial weights"),
};
KEEL_PARAMS_MATCH(kit_params, P_COUNT);

#ifdef KIT_STATIC_SCRATCH
/* The bug: activations kept in one buffer shared by every instance and
 * thread, instead of the caller's workspace. */
static float kit_scratch[4096];
#endif

static int kit_create(const keel_host *host, const keel_value *params,
                      size_t n_in, size_t n_out, void **self, keel_error *err)
{
#ifdef KIT_STATIC_SCRATCH
  if (n_out * 64 > KEEL_COUNT(kit_scratch))
    return host->fail(err, KEEL_EINVAL, "at most %zu outputs",
                      KEEL_COUNT(kit_scratch) / 64);
#endif
  kit_model *m = host->alloc(sizeof *m);
  if (!m)
    return host->fail(err, KEEL_ENOMEM, "out of memory");
  m->n_in = n_in;
  m->n_out = n_out;
  m->scale = (float)params[P_SCALE].f;
  *self = m;
  return KEEL_OK;
}

static void kit_destroy(const keel_host *host, void *self)
{
  host->free(self);
}

static size_t kit_n_weights(const void *self)
{
  const kit_model *m = self;
  return m->n_in * m->n_out + m->n_out;
}

static size_t kit_workspace_floats(const void *self, size_t n_rows)
{
  const kit_model *m = self;
  return n_rows * m->n_out;
}

static void kit_init(const void *self, float *w, uint64_t seed)
{
  const kit_model *m = self;
  size_t n = kit_n_weights(self);
  for (size_t i = 0; i < n; i++)
    w[i] = (float)(2.0 * keel_rng_uniform(seed, 0, i) - 1.0) * m->scale;
}

static float *kit_acts(float *ws, size_t n_rows)
{
#ifdef KIT_STATIC_SCRATCH
  (void)ws;
  (void)n_rows;
  return kit_scratch;
#else
  (void)n_rows;
  return ws;
#endif
}

static void kit_forward(const void *self, const float *w, const float *x,
                        size_t n_rows, float *out, float *ws)
{
  const kit_model *m = self;
  const float *b = w + m->n_in * m->n_out;
  float *a = kit_acts(ws, n_rows);
  for (size_t r = 0; r < n_rows; r++)
    for (size_t k = 0; k < m->n_out; k++) {
      float s = b[k];
      for (size_t i = 0; i < m->n_in; i++)
        s += x[r * m->n_in + i] * w[i * m->n_out + k];
      a[r * m->n_out + k] = tanhf(s);
    }
  memcpy(out, a, n_rows * m->n_out * sizeof *out);
}

static void kit_backward(const void *self, const float *w, const float *x,
                         size_t n_rows, const float *d_out, float *grad,
                         float *ws)
{
  const kit_model *m = self;
  (void)w;
  const float *a = kit_acts(ws, n_rows);
  float *gb = grad + m->n_in * m->n_out;
#ifndef KIT_ACCUMULATE
  memset(grad, 0, kit_n_weights(self) * sizeof *grad);
#endif /* else the bug: grad is added to, not overwritten */
  for (size_t r = 0; r < n_rows; r++)
    for (size_t k = 0; k < m->n_out; k++) {
      float act = a[r * m->n_out + k];
      float d = d_out[r * m->n_out + k] * (1.0f - act * act);
      for (size_t i = 0; i < m->n_in; i++)
        grad[i * m->n_out + k] += x[r * m->n_in + i] * d;
#ifdef KIT_WRONG_GRADIENT
      gb[k] -= d; /* the bug: the bias gradient's sign */
#else
      gb[k] += d;
#endif
    }
}

static int kit_tensor(const void *self, size_t index, keel_tensor_info *out)
{
  const kit_model *m = self;
  if (index == 0) {
    *out = (keel_tensor_info){
        .name = "W", .offset = 0, .ndim = 2, .shape = {m->n_in, m->n_out}};
    return KEEL_OK;
  }
  if (index == 1) {
    *out = (keel_tensor_info){.name = "b",
                              .offset = m->n_in * m->n_out,
                              .ndim = 1,
                              .shape = {m->n_out}};
    return KEEL_OK;
  }
  return KEEL_ENOTFOUND;
}

static const keel_model_api kit_api = {
    KEEL_MODEL_API_HEADER,
    .create = kit_create,
    .destroy = kit_destroy,
    .n_weights = kit_n_weights,
    .workspace_floats = kit_workspace_floats,
    .init = kit_init,
    .forward = kit_forward,
    .backward = kit_backward,
    .tensor = kit_tensor,
};

static const keel_plugin kit_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = KIT_NAME,
    .version = "1.0.0",
    .summary = "a tanh layer for the plugin-test kit's own tests",
    .license = "MIT",
    .params = kit_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_REGRESSION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &kit_api,
};

KEEL_PLUGIN_DEFINE(kit_plugin)
