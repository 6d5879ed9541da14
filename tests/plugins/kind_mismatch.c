/* Broken on purpose: the descriptor says transform, but its `api` points
 * at a complete model table (KEEL_MODEL_API_HEADER) -- the slip of copying
 * a model's table into a transform. Before ABI 1.2 the loader took it and
 * `keel check` called create() as if it were schema() (a crash); the 1.2
 * table header names the table's kind, so the loader refuses the file. */
#include <stdint.h>

#include <keel/keel.h>

/* An instance only records its shapes; the host owns the weights. */
typedef struct shapes {
  size_t n_in, n_out;
} shapes;

static int m_create(const keel_host *host, const keel_value *params,
                    size_t n_in, size_t n_out, void **self, keel_error *err)
{
  (void)params;
  shapes *s = host->alloc(sizeof *s);
  if (s == NULL)
    return host->fail(err, KEEL_ENOMEM, "kind_mismatch: out of memory");
  s->n_in = n_in;
  s->n_out = n_out;
  *self = s;
  return KEEL_OK;
}

static void m_destroy(const keel_host *host, void *self)
{
  host->free(self);
}

static size_t m_n_weights(const void *self)
{
  const shapes *s = self;
  return s->n_in * s->n_out;
}

static size_t m_workspace_floats(const void *self, size_t n_rows)
{
  (void)self;
  (void)n_rows;
  return 0;
}

static void m_init(const void *self, float *w, uint64_t seed)
{
  for (size_t i = 0; i < m_n_weights(self); i++)
    w[i] = (float)(keel_rng_uniform(seed, KEEL_RNG_STREAM_INIT, i) - 0.5);
}

static void m_forward(const void *self, const float *w, const float *x,
                      size_t n_rows, float *out, float *ws)
{
  const shapes *s = self;
  (void)ws;
  for (size_t r = 0; r < n_rows; r++)
    for (size_t o = 0; o < s->n_out; o++) {
      float acc = 0.0f;
      for (size_t i = 0; i < s->n_in; i++)
        acc += w[o * s->n_in + i] * x[r * s->n_in + i];
      out[r * s->n_out + o] = acc;
    }
}

static void m_backward(const void *self, const float *w, const float *x,
                       size_t n_rows, const float *d_out, float *grad,
                       float *ws)
{
  const shapes *s = self;
  (void)w, (void)ws;
  for (size_t i = 0; i < s->n_in * s->n_out; i++)
    grad[i] = 0.0f;
  for (size_t r = 0; r < n_rows; r++)
    for (size_t o = 0; o < s->n_out; o++)
      for (size_t i = 0; i < s->n_in; i++)
        grad[o * s->n_in + i] += d_out[r * s->n_out + o] * x[r * s->n_in + i];
}

static int m_tensor(const void *self, size_t index, keel_tensor_info *out)
{
  const shapes *s = self;
  if (index > 0)
    return KEEL_ENOTFOUND;
  *out = (keel_tensor_info){
      .name = "W", .offset = 0, .ndim = 2, .shape = {s->n_out, s->n_in}};
  return KEEL_OK;
}

static const keel_model_api api = {
    KEEL_MODEL_API_HEADER,
    .create = m_create,
    .destroy = m_destroy,
    .n_weights = m_n_weights,
    .workspace_floats = m_workspace_floats,
    .init = m_init,
    .forward = m_forward,
    .backward = m_backward,
    .tensor = m_tensor,
};

static const keel_plugin desc = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM) /* the defect */,
    .name = "kind_mismatch",
    .version = "1.0.0",
    .summary = "a transform descriptor holding a model table",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(desc)
