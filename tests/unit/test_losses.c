/* Loss plugins: values at known points, gradients against central finite
 * differences in double, numerical stability, and the task/width rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const keel_loss_api *loss_api(const char *name,
                                     const keel_loaded_plugin **pp)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_LOSS, name);
  if (pp)
    *pp = p;
  return p ? p->api : NULL;
}

/* Checks d_out against (L(out + h) - L(out - h)) / 2h per element. */
static void grad_check(const char *name, const float *out0, const float *y,
                       size_t n_rows, size_t width)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api(name, &p);
  CU_ASSERT_FATAL(api != NULL);
  keel_value *v = keel_test_default_values(p);
  size_t n = n_rows * width;
  float *out = malloc(n * sizeof *out), *g = malloc(n * sizeof *g);
  memcpy(out, out0, n * sizeof *out);
  double base = api->value_grad(v, out, y, n_rows, width, g);
  CU_ASSERT(isfinite(base));
  /* value without gradient is the same number */
  CU_ASSERT_EQUAL(api->value_grad(v, out, y, n_rows, width, NULL), base);
  int bad = 0;
  for (size_t j = 0; j < n; j++) {
    float keep = out[j], h = 1e-3f;
    out[j] = keep + h;
    double up = api->value_grad(v, out, y, n_rows, width, NULL);
    out[j] = keep - h;
    double down = api->value_grad(v, out, y, n_rows, width, NULL);
    out[j] = keep;
    double num = (up - down) / ((double)(keep + h) - (double)(keep - h));
    if (fabs(num - (double)g[j]) > 1e-3 + 1e-3 * fabs(num)) {
      fprintf(stderr, "\n%s: d_out[%zu] = %g, numeric %g\n", name, j,
              (double)g[j], num);
      bad++;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  free(out);
  free(g);
}

static void test_mse(void)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api("mse", &p);
  CU_ASSERT_FATAL(api != NULL);
  float out[3] = {1.0f, -2.0f, 0.5f}, y[3] = {0.0f, 1.0f, 0.5f}, g[3];
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(NULL, out, y, 3, 1, g), 10.0, 1e-12);
  CU_ASSERT_EQUAL(g[0], 2.0f);
  CU_ASSERT_EQUAL(g[1], -6.0f);
  CU_ASSERT_EQUAL(g[2], 0.0f);
  grad_check("mse", out, y, 3, 1);
}

static void test_huber(void)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api("huber", &p);
  CU_ASSERT_FATAL(api != NULL);
  keel_value *v = keel_test_default_values(p); /* delta = 1 */
  CU_ASSERT_EQUAL(v[0].f, 1.0);
  float out[2] = {0.5f, 3.0f}, y[2] = {0.0f, 0.0f}, g[2];
  /* 0.5 * 0.25 + 1 * (3 - 0.5) */
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(v, out, y, 2, 1, g), 2.625, 1e-12);
  CU_ASSERT_EQUAL(g[0], 0.5f);
  CU_ASSERT_EQUAL(g[1], 1.0f);
  float out2[4] = {0.3f, -0.7f, 2.5f, -4.0f}, y2[4] = {0, 0, 0, 0};
  grad_check("huber", out2, y2, 4, 1);
}

static void test_xent(void)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api("xent", &p);
  CU_ASSERT_FATAL(api != NULL);
  /* binary: z = 0 gives log 2 and gradient 0.5 - y */
  float z[2] = {0.0f, 0.0f}, yb[2] = {1.0f, 0.0f}, g[8];
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(NULL, z, yb, 2, 1, g), 2 * log(2.0),
                         1e-12);
  CU_ASSERT_EQUAL(g[0], -0.5f);
  CU_ASSERT_EQUAL(g[1], 0.5f);
  /* softmax: equal logits give log K */
  float z3[3] = {2.0f, 2.0f, 2.0f}, y3[1] = {1.0f};
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(NULL, z3, y3, 1, 3, g), log(3.0),
                         1e-12);
  /* stable for huge logits */
  float zb[3] = {1000.0f, -1000.0f, 0.0f}, yy[1] = {1.0f};
  double l = api->value_grad(NULL, zb, yy, 1, 3, g);
  CU_ASSERT(isfinite(l));
  CU_ASSERT_DOUBLE_EQUAL(l, 2000.0, 1e-9);
  float zbin[2] = {-1000.0f, 1000.0f}, ybin[2] = {1.0f, 0.0f};
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(NULL, zbin, ybin, 2, 1, g), 2000.0,
                         1e-9);
  /* a label that is no class index gives NaN */
  float ybad[1] = {1.5f};
  CU_ASSERT(isnan(api->value_grad(NULL, z3, ybad, 1, 3, g)));

  float o[8] = {0.3f, -1.2f, 2.0f, 0.1f, 1.0f, 0.0f, -0.5f, 0.7f};
  float yk[2] = {2.0f, 0.0f};
  grad_check("xent", o, yk, 2, 4);
  float yb4[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  grad_check("xent", o, yb4, 4, 1);
}

static void test_hinge(void)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api("hinge", &p);
  CU_ASSERT_FATAL(api != NULL);
  keel_value *v = keel_test_default_values(p); /* margin 1 */
  float z[3] = {0.5f, -2.0f, 2.0f}, y[3] = {1.0f, 0.0f, 0.0f}, g[9];
  /* 0.5 + 0 + 3 */
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(v, z, y, 3, 1, g), 3.5, 1e-12);
  CU_ASSERT_EQUAL(g[0], -1.0f);
  CU_ASSERT_EQUAL(g[1], 0.0f);
  CU_ASSERT_EQUAL(g[2], 1.0f);
  /* Crammer-Singer: 1 + max_{k != y} z_k - z_y */
  float zk[3] = {1.0f, 0.5f, 0.2f}, yk[1] = {2.0f};
  CU_ASSERT_DOUBLE_EQUAL(api->value_grad(v, zk, yk, 1, 3, g), 1.8, 1e-6);
  CU_ASSERT_EQUAL(g[0], 1.0f);
  CU_ASSERT_EQUAL(g[1], 0.0f);
  CU_ASSERT_EQUAL(g[2], -1.0f);
  float o[6] = {0.3f, -1.2f, 2.0f, 0.1f, 1.4f, 0.0f}, y2[2] = {0.0f, 2.0f};
  grad_check("hinge", o, y2, 2, 3);
}

static void test_widths(void)
{
  size_t w = 0;
  keel_error err = {0};
  const keel_loaded_plugin *p;
  /* regression losses */
  const char *reg[2] = {"mse", "huber"};
  for (int i = 0; i < 2; i++) {
    const keel_loss_api *api = loss_api(reg[i], &p);
    CU_ASSERT_FATAL(api != NULL);
    keel_value *v = keel_test_default_values(p);
    CU_ASSERT_EQUAL(p->desc.contract.tasks, KEEL_TASK_REGRESSION);
    CU_ASSERT_EQUAL(api->output_width(v, KEEL_TASK_REGRESSION, 0, &w, &err),
                    KEEL_OK);
    CU_ASSERT_EQUAL(w, 1);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(api->output_width(v, KEEL_TASK_CLASSIFICATION, 3, &w, &err),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "regression only"));
    CU_ASSERT_PTR_NULL(strstr(err.message, reg[i])); /* the host names it */
  }
  /* classification losses: 2 classes = 1 output, K classes = K */
  const char *cls[2] = {"xent", "hinge"};
  for (int i = 0; i < 2; i++) {
    const keel_loss_api *api = loss_api(cls[i], &p);
    CU_ASSERT_FATAL(api != NULL);
    keel_value *v = keel_test_default_values(p);
    CU_ASSERT_EQUAL(p->desc.contract.tasks, KEEL_TASK_CLASSIFICATION);
    CU_ASSERT_EQUAL(api->output_width(v, KEEL_TASK_CLASSIFICATION, 2, &w, NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL(w, 1);
    CU_ASSERT_EQUAL(
        api->output_width(v, KEEL_TASK_CLASSIFICATION, 10, &w, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(w, 10);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(api->output_width(v, KEEL_TASK_CLASSIFICATION, 1, &w, &err),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "at least 2 classes"));
    CU_ASSERT_PTR_NULL(strstr(err.message, cls[i])); /* the host names it */
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(api->output_width(v, KEEL_TASK_REGRESSION, 0, &w, &err),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "classification only"));
    CU_ASSERT_PTR_NULL(strstr(err.message, cls[i])); /* the host names it */
  }
}

/* evaluate (ABI 1.2) of loss `name` on a chunk: the same bits as
 * value_grad (one implementation), loss and gradient. */
static void same_as_value_grad(const char *name, const float *out,
                               const float *y, size_t n_rows, size_t width)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api(name, &p);
  CU_ASSERT_FATAL(api != NULL && api->evaluate != NULL);
  keel_value *v = keel_test_default_values(p);
  size_t n = n_rows * width;
  float *g1 = calloc(n, sizeof *g1), *g2 = calloc(n, sizeof *g2);
  double l1 = api->value_grad(v, out, y, n_rows, width, g1), l2 = -1.0;
  keel_error err = {0};
  CU_ASSERT_EQUAL(
      api->evaluate(keel_test_host(), v, out, y, n_rows, width, g2, &l2, &err),
      KEEL_OK);
  CU_ASSERT_EQUAL(memcmp(&l1, &l2, sizeof l1), 0);
  CU_ASSERT_EQUAL(memcmp(g1, g2, n * sizeof *g1), 0);
  free(g1);
  free(g2);
}

/* evaluate of loss `name` refuses the target y[bad] (the others valid):
 * KEEL_EDATA and a message that begins "row BAD: " and says `what`. */
static void refuses_row(const char *name, const float *out, const float *y,
                        size_t n_rows, size_t width, size_t bad,
                        const char *what)
{
  const keel_loaded_plugin *p;
  const keel_loss_api *api = loss_api(name, &p);
  CU_ASSERT_FATAL(api != NULL && api->evaluate != NULL);
  keel_value *v = keel_test_default_values(p);
  float g[16];
  double l = 0.0;
  keel_error err = {0};
  CU_ASSERT_EQUAL(
      api->evaluate(keel_test_host(), v, out, y, n_rows, width, g, &l, &err),
      KEEL_EDATA);
  char head[32];
  snprintf(head, sizeof head, "row %zu: ", bad);
  CU_ASSERT_EQUAL(strncmp(err.message, head, strlen(head)), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
  if (strncmp(err.message, head, strlen(head)) != 0 ||
      !strstr(err.message, what))
    fprintf(stderr, "\n%s: '%s'\n", name, err.message);
}

static void test_evaluate(void)
{
  float o[8] = {0.3f, -1.2f, 2.0f, 0.1f, 1.0f, 0.0f, -0.5f, 0.7f};
  float yr[4] = {0.5f, -1.0f, 2.5f, 0.0f}, yk[2] = {2.0f, 0.0f};
  float yb[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  same_as_value_grad("mse", o, yr, 4, 1);
  same_as_value_grad("huber", o, yr, 4, 1);
  same_as_value_grad("xent", o, yk, 2, 4);
  same_as_value_grad("xent", o, yb, 4, 1);
  same_as_value_grad("hinge", o, yk, 2, 4);
  same_as_value_grad("hinge", o, yb, 4, 1);
  /* what value_grad could only say as NaN */
  float ynan[4] = {0.5f, -1.0f, NAN, 0.0f}, yk_bad[2] = {2.0f, 4.0f};
  float yb_bad[4] = {1.0f, 0.0f, 2.0f, 1.0f};
  refuses_row("mse", o, ynan, 4, 1, 2, "must be finite");
  refuses_row("huber", o, ynan, 4, 1, 2, "must be finite");
  refuses_row("xent", o, yk_bad, 2, 4, 1, "label 4 is not a class index");
  refuses_row("xent", o, yb_bad, 4, 1, 2, "in [0, 2)");
  refuses_row("hinge", o, yk_bad, 2, 4, 1, "in [0, 4)");
  refuses_row("hinge", o, yb_bad, 4, 1, 2, "label 2 is not a class index");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"mse values and gradient", test_mse},
      {"huber values and gradient", test_huber},
      {"xent binary/softmax values, stability, gradient", test_xent},
      {"hinge binary/Crammer-Singer values and gradient", test_hinge},
      {"task and width rules", test_widths},
      {"evaluate: value_grad's bits, a bad target's row", test_evaluate},
      {NULL, NULL},
  };
  return keel_test_run_suite("losses", tests);
}
