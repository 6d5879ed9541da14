/* Model plugins: gradient checks against central finite differences (the
 * objective summed in double), tensor layout, deterministic init, shape
 * refusals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define N_ROWS 5
#define N_IN 6

typedef struct model_case {
  const char *name;
  size_t n_out;
  const char *activation; /* mlp only */
  int64_t hidden[3];
  size_t n_hidden;
} model_case;

static float frand(uint64_t i)
{
  return (float)(2.0 * keel_rng_uniform(77, 5000, i) - 1.0);
}

static int find_choice(const keel_param_decl *d, const char *name)
{
  for (int i = 0; d->choices[i]; i++)
    if (strcmp(d->choices[i], name) == 0)
      return i;
  return -1;
}

static long param_index(const keel_loaded_plugin *p, const char *name)
{
  for (size_t i = 0; i < p->desc.n_params; i++)
    if (strcmp(p->desc.params[i].name, name) == 0)
      return (long)i;
  return -1;
}

/* Objective sum_r,k c[r,k] out[r,k] in double. */
static double objective(const keel_model_api *api, const void *self,
                        const float *w, const float *x, const float *c,
                        size_t n_out, float *out, float *ws)
{
  api->forward(self, w, x, N_ROWS, out, ws);
  double s = 0;
  for (size_t i = 0; i < N_ROWS * n_out; i++)
    s += (double)c[i] * (double)out[i];
  return s;
}

static void check_case(const model_case *mc)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_MODEL, mc->name);
  CU_ASSERT_FATAL(p != NULL);
  const keel_model_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  if (mc->activation) {
    long ia = param_index(p, "activation"), ih = param_index(p, "hidden");
    CU_ASSERT_FATAL(ia >= 0 && ih >= 0);
    v[ia].i = find_choice(&p->desc.params[ia], mc->activation);
    v[ia].s = mc->activation;
    v[ih].n = mc->n_hidden;
    v[ih].ints = mc->hidden;
  }
  void *self = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(
      api->create(keel_test_host(), v, N_IN, mc->n_out, &self, &err), KEEL_OK);
  size_t nw = api->n_weights(self);
  size_t nws = api->workspace_floats(self, N_ROWS);
  float *w = malloc(nw * sizeof *w), *g = malloc(nw * sizeof *g);
  float *g2 = malloc(nw * sizeof *g2);
  float *ws = malloc((nws + 1) * sizeof *ws);
  float x[N_ROWS * N_IN], c[N_ROWS * 64], out[N_ROWS * 64];
  for (size_t i = 0; i < N_ROWS * N_IN; i++)
    x[i] = frand(i);
  for (size_t i = 0; i < N_ROWS * mc->n_out; i++)
    c[i] = frand(1000 + i);
  api->init(self, w, 42);
  /* Non-zero biases so their gradient path is exercised too. */
  for (size_t i = 0; i < nw; i++)
    w[i] += 0.05f * frand(2000 + i);

  api->forward(self, w, x, N_ROWS, out, ws);
  for (size_t i = 0; i < nw; i++)
    g[i] = 12345.0f; /* backward must overwrite, not accumulate */
  api->backward(self, w, x, N_ROWS, c, g, ws);
  api->forward(self, w, x, N_ROWS, out, ws);
  api->backward(self, w, x, N_ROWS, c, g2, ws);
  CU_ASSERT(memcmp(g, g2, nw * sizeof *g) == 0);

  int bad = 0;
  double worst = 0;
  for (size_t j = 0; j < nw; j++) {
    float keep = w[j];
    float h = 1e-3f;
    w[j] = keep + h;
    double up = objective(api, self, w, x, c, mc->n_out, out, ws);
    w[j] = keep - h;
    double down = objective(api, self, w, x, c, mc->n_out, out, ws);
    w[j] = keep;
    double hh = ((double)(keep + h) - (double)(keep - h));
    double num = (up - down) / hh;
    double diff = fabs(num - (double)g[j]);
    double tol = 2e-3 + 2e-2 * fabs(num);
    if (diff / (1 + fabs(num)) > worst)
      worst = diff / (1 + fabs(num));
    if (diff > tol)
      bad++;
  }
  if (bad)
    fprintf(stderr, "\n%s/%s: %d of %zu gradients off (worst %g)\n", mc->name,
            mc->activation ? mc->activation : "-", bad, nw, worst);
  CU_ASSERT_EQUAL(bad, 0);

  /* Tensors tile the weight vector exactly, in order. */
  size_t off = 0;
  keel_tensor_info t;
  size_t k = 0;
  for (; api->tensor(self, k, &t) == KEEL_OK; k++) {
    CU_ASSERT_EQUAL(t.offset, off);
    size_t n = 1;
    for (size_t d = 0; d < t.ndim; d++)
      n *= t.shape[d];
    off += n;
    CU_ASSERT_PTR_NOT_NULL(t.name);
  }
  CU_ASSERT(k >= 2);
  CU_ASSERT_EQUAL(off, nw);

  /* Init: a pure function of the seed. */
  float *a = malloc(nw * sizeof *a), *b = malloc(nw * sizeof *b);
  api->init(self, a, 7);
  api->init(self, b, 7);
  CU_ASSERT(memcmp(a, b, nw * sizeof *a) == 0);
  api->init(self, b, 8);
  CU_ASSERT(memcmp(a, b, nw * sizeof *a) != 0);
  free(a);
  free(b);
  api->destroy(keel_test_host(), self);
  free(w);
  free(g);
  free(g2);
  free(ws);
}

static void test_linear(void)
{
  model_case a = {"linear", 1, NULL, {0}, 0};
  model_case b = {"linear", 3, NULL, {0}, 0};
  check_case(&a);
  check_case(&b);
}

static void test_logistic(void)
{
  model_case a = {"logistic", 1, NULL, {0}, 0};
  check_case(&a);
}

static void test_softmax(void)
{
  model_case a = {"softmax", 4, NULL, {0}, 0};
  model_case b = {"softmax", 1, NULL, {0}, 0};
  check_case(&a);
  check_case(&b);
}

static void test_mlp_relu(void)
{
  model_case a = {"mlp", 3, "relu", {7, 5}, 2};
  model_case b = {"mlp", 1, "relu", {40}, 1}; /* a full 32-wide block */
  check_case(&a);
  check_case(&b);
}

static void test_mlp_tanh(void)
{
  model_case a = {"mlp", 3, "tanh", {7, 5}, 2};
  model_case b = {"mlp", 33, "tanh", {35}, 1};
  check_case(&a);
  check_case(&b);
}

static void test_mlp_gelu(void)
{
  model_case a = {"mlp", 3, "gelu", {7, 5}, 2};
  model_case b = {"mlp", 2, "gelu", {0}, 0}; /* no hidden layer */
  check_case(&a);
  check_case(&b);
}

/* Blocked and plain loops must agree bit for bit: the same network run on
 * one row at a time gives the same outputs as on all rows at once. */
static void test_mlp_rows_independent(void)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_MODEL, "mlp");
  CU_ASSERT_FATAL(p != NULL);
  const keel_model_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  void *self = NULL;
  CU_ASSERT_EQUAL_FATAL(api->create(keel_test_host(), v, 64, 10, &self, NULL),
                        KEEL_OK);
  size_t nw = api->n_weights(self);
  CU_ASSERT_EQUAL(nw, 64 * 128 + 128 + 128 * 10 + 10);
  float *w = malloc(nw * sizeof *w);
  float *ws = malloc(api->workspace_floats(self, 16) * sizeof *ws);
  float x[16 * 64], all[16 * 10], one[10];
  for (size_t i = 0; i < 16 * 64; i++)
    x[i] = frand(i);
  api->init(self, w, 1);
  api->forward(self, w, x, 16, all, ws);
  for (size_t r = 0; r < 16; r++) {
    api->forward(self, w, x + r * 64, 1, one, ws);
    CU_ASSERT(memcmp(one, all + r * 10, sizeof one) == 0);
  }
  api->destroy(keel_test_host(), self);
  free(w);
  free(ws);
}

static void test_refusals(void)
{
  keel_error err = {0};
  void *self = NULL;
  const keel_loaded_plugin *lg = keel_test_plugin(KEEL_KIND_MODEL, "logistic");
  CU_ASSERT_FATAL(lg != NULL);
  const keel_model_api *api = lg->api;
  CU_ASSERT_EQUAL(api->create(keel_test_host(), keel_test_default_values(lg), 4,
                              3, &self, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "softmax"));
  CU_ASSERT(lg->desc.contract.tasks == KEEL_TASK_CLASSIFICATION);

  const keel_loaded_plugin *mlp = keel_test_plugin(KEEL_KIND_MODEL, "mlp");
  CU_ASSERT_FATAL(mlp != NULL);
  keel_value *v = keel_test_default_values(mlp);
  static const int64_t many[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1,
                                   1, 1, 1, 1, 1, 1, 1, 1};
  long ih = param_index(mlp, "hidden");
  v[ih].n = 17;
  v[ih].ints = many;
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(((const keel_model_api *)mlp->api)
                      ->create(keel_test_host(), v, 4, 3, &self, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "at most 16"));

  const keel_loaded_plugin *lin = keel_test_plugin(KEEL_KIND_MODEL, "linear");
  CU_ASSERT_FATAL(lin != NULL);
  CU_ASSERT(lin->desc.contract.tasks == KEEL_TASK_REGRESSION);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"linear gradients (1 and 3 outputs)", test_linear},
      {"logistic gradients", test_logistic},
      {"softmax gradients", test_softmax},
      {"mlp relu gradients", test_mlp_relu},
      {"mlp tanh gradients", test_mlp_tanh},
      {"mlp gelu gradients", test_mlp_gelu},
      {"mlp rows independent of batching", test_mlp_rows_independent},
      {"shape refusals and contracts", test_refusals},
      {NULL, NULL},
  };
  return keel_test_run_suite("models", tests);
}
