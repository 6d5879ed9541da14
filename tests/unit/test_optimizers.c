/* Optimizer plugins against updates computed by hand (in double, compared
 * with a float tolerance): plain SGD, momentum, Nesterov, weight decay,
 * learning-rate scale, Adam and AdamW. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static long idx(const keel_loaded_plugin *p, const char *name)
{
  for (size_t i = 0; i < p->desc.n_params; i++)
    if (strcmp(p->desc.params[i].name, name) == 0)
      return (long)i;
  CU_FAIL("parameter missing");
  return 0;
}

#define CLOSE(a, b) CU_ASSERT(fabs((double)(a) - (b)) <= 1e-6 * (1 + fabs(b)))

static void test_sgd_plain(void)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, "sgd");
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  v[idx(p, "lr")].f = 0.1;
  CU_ASSERT_EQUAL(api->state_floats(v, 10), 0);
  float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, -1.0f};
  api->step(v, w, g, NULL, 2, 1, 1.0);
  CLOSE(w[0], 0.95);
  CLOSE(w[1], -1.9);
  api->step(v, w, g, NULL, 2, 2, 0.5); /* lr_scale halves the step */
  CLOSE(w[0], 0.925);
  CLOSE(w[1], -1.85);
  /* weight decay adds wd * w to the gradient */
  v[idx(p, "weight_decay")].f = 0.01;
  float w2[1] = {2.0f}, g2[1] = {1.0f};
  api->step(v, w2, g2, NULL, 1, 1, 1.0);
  CLOSE(w2[0], 2.0 - 0.1 * (1.0 + 0.01 * 2.0));
}

static void test_sgd_momentum(void)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, "sgd");
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  for (int nesterov = 0; nesterov <= 1; nesterov++) {
    keel_value *v = keel_test_default_values(p);
    v[idx(p, "lr")].f = 0.1;
    v[idx(p, "momentum")].f = 0.9;
    v[idx(p, "nesterov")].i = nesterov;
    CU_ASSERT_EQUAL(api->state_floats(v, 3), 3);
    float w[1] = {1.0f}, st[1] = {0.0f};
    float gs[3] = {0.5f, -0.25f, 1.0f};
    double ew = 1.0, ev = 0.0;
    for (int t = 0; t < 3; t++) {
      api->step(v, w, &gs[t], st, 1, (uint64_t)t + 1, 1.0);
      ev = 0.9 * ev + gs[t];
      double upd = nesterov ? gs[t] + 0.9 * ev : ev;
      ew -= 0.1 * upd;
      CLOSE(st[0], ev);
      CLOSE(w[0], ew);
    }
  }
}

static void test_adam(void)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, "adam");
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  v[idx(p, "lr")].f = lr;
  CU_ASSERT_EQUAL(v[idx(p, "beta1")].f, b1);
  CU_ASSERT_EQUAL(v[idx(p, "beta2")].f, b2);
  CU_ASSERT_EQUAL(v[idx(p, "eps")].f, eps);
  CU_ASSERT_EQUAL(api->state_floats(v, 5), 10);
  float w[2] = {1.0f, -1.0f}, st[4] = {0, 0, 0, 0};
  float gs[3][2] = {{0.5f, -2.0f}, {0.1f, 1.0f}, {-0.3f, 0.0f}};
  double ew[2] = {1.0, -1.0}, m[2] = {0, 0}, s[2] = {0, 0};
  /* step 1 moves each weight by about lr against the gradient's sign */
  for (int t = 1; t <= 3; t++) {
    api->step(v, w, gs[t - 1], st, 2, (uint64_t)t, 1.0);
    for (int i = 0; i < 2; i++) {
      double g = gs[t - 1][i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      s[i] = b2 * s[i] + (1 - b2) * g * g;
      double mh = m[i] / (1 - pow(b1, t)), sh = s[i] / (1 - pow(b2, t));
      ew[i] -= lr * mh / (sqrt(sh) + eps);
      CLOSE(w[i], ew[i]);
      CLOSE(st[i], m[i]);
      CLOSE(st[2 + i], s[i]);
    }
    if (t == 1) {
      CLOSE(w[0], 1.0 - lr);
      CLOSE(w[1], -1.0 + lr);
    }
  }
}

static void test_adamw(void)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, "adam");
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  for (int decoupled = 0; decoupled <= 1; decoupled++) {
    keel_value *v = keel_test_default_values(p);
    double lr = 0.01, wd = 0.1;
    v[idx(p, "lr")].f = lr;
    v[idx(p, "weight_decay")].f = wd;
    v[idx(p, "decoupled")].i = decoupled;
    float w[1] = {2.0f}, st[2] = {0, 0}, g[1] = {0.5f};
    api->step(v, w, g, st, 1, 1, 0.5);
    double lr_t = lr * 0.5, ew = 2.0, ge = 0.5;
    if (decoupled)
      ew *= 1 - lr_t * wd;
    else
      ge += wd * 2.0;
    double m = 0.1 * ge, s = 0.001 * ge * ge;
    ew -= lr_t * (m / 0.1) / (sqrt(s / 0.001) + 1e-8);
    CLOSE(w[0], ew);
  }
}

static void test_declarations(void)
{
  const char *names[2] = {"sgd", "adam"};
  for (int i = 0; i < 2; i++) {
    const keel_loaded_plugin *p =
        keel_test_plugin(KEEL_KIND_OPTIMIZER, names[i]);
    CU_ASSERT_FATAL(p != NULL);
    const keel_param_decl *lr = &p->desc.params[idx(p, "lr")];
    CU_ASSERT(lr->flags & KEEL_PARAM_LOG_SCALE);
    for (size_t k = 0; k < p->desc.n_params; k++)
      CU_ASSERT_PTR_NOT_NULL(p->desc.params[k].doc);
  }
}

/* update (ABI 1.2) of optimizer `name` with parameters set by `set`: the
 * bits of step over a few steps, weights and state. */
static void same_as_step(const char *name, const char *key, double value)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, name);
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  CU_ASSERT_FATAL(api->update != NULL);
  keel_value *v = keel_test_default_values(p);
  if (key)
    v[idx(p, key)].f = value;
  float w1[3] = {1.0f, -2.0f, 0.25f}, w2[3], g[3] = {0.5f, -1.0f, 3.0f};
  float s1[6] = {0}, s2[6] = {0};
  memcpy(w2, w1, sizeof w1);
  CU_ASSERT_FATAL(api->state_floats(v, 3) <= 6);
  keel_error err = {0};
  for (uint64_t t = 1; t <= 3; t++) {
    api->step(v, w1, g, s1, 3, t, 0.5);
    CU_ASSERT_EQUAL(
        api->update(keel_test_host(), v, w2, g, s2, 3, t, 0.5, &err), KEEL_OK);
  }
  CU_ASSERT_EQUAL(memcmp(w1, w2, sizeof w1), 0);
  CU_ASSERT_EQUAL(memcmp(s1, s2, sizeof s1), 0);
  /* a host bug, refused before any weight moves */
  float keep[3];
  memcpy(keep, w2, sizeof w2);
  CU_ASSERT_EQUAL(api->update(keel_test_host(), v, w2, g, s2, 3, 4, NAN, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "learning-rate factor"));
  CU_ASSERT_EQUAL(memcmp(keep, w2, sizeof w2), 0);
}

static void test_update(void)
{
  same_as_step("sgd", NULL, 0);
  same_as_step("sgd", "momentum", 0.9);
  same_as_step("adam", NULL, 0);
  same_as_step("adam", "weight_decay", 0.01);
  /* Adam's bias correction divides by 1 - beta1^step: step 0 refused */
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_OPTIMIZER, "adam");
  CU_ASSERT_FATAL(p != NULL);
  const keel_optimizer_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  float w[1] = {1.0f}, g[1] = {1.0f}, s[2] = {0};
  keel_error err = {0};
  CU_ASSERT_EQUAL(api->update(keel_test_host(), v, w, g, s, 1, 0, 1.0, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "steps count from 1"));
  CU_ASSERT_EQUAL(w[0], 1.0f);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"sgd: plain, lr_scale, weight decay", test_sgd_plain},
      {"sgd: momentum and nesterov", test_sgd_momentum},
      {"adam: three steps by hand", test_adam},
      {"adam: L2 vs decoupled (AdamW) decay", test_adamw},
      {"declarations: lr log-scale, docs", test_declarations},
      {"update: step's bits, a bad factor or step refused", test_update},
      {NULL, NULL},
  };
  return keel_test_run_suite("optimizers", tests);
}
