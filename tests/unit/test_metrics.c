/* Metrics: accuracy and macro-F1 from class counts, RMSE/MAE/R^2, the
 * fixed-order tree combination, and NaN for what does not apply. */
#include <math.h>
#include <string.h>

#include "test_util.h"
#include "train/metrics.h"

static void test_classification(void)
{
  /* truth 0 0 1 1 2 2, predictions (arg-max) 0 1 1 1 2 0 */
  float out[6 * 3] = {
      1, 0, 0, /**/ 0, 1, 0, /**/ 0, 1, 0, 0, 1, 0, /**/ 0, 0, 1, /**/ 2, 1, 1,
  };
  float y[6] = {0, 0, 1, 1, 2, 2};
  uint64_t conf[9] = {0};
  keel_metric_sums s = {3.0, 0, 0};
  keel_metric_sums_add_rows(&s, conf, KEEL_TASK_CLASSIFICATION, 3, out, y, 6,
                            3);
  CU_ASSERT_EQUAL(conf[0 * 3 + 0], 1);
  CU_ASSERT_EQUAL(conf[0 * 3 + 1], 1);
  CU_ASSERT_EQUAL(conf[2 * 3 + 0], 1);
  keel_metrics m;
  keel_metrics_finish(&m, KEEL_TASK_CLASSIFICATION, 3, &s, conf, 6, 0);
  CU_ASSERT_DOUBLE_EQUAL(m.loss, 0.5, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(m.accuracy, 4.0 / 6.0, 1e-15);
  /* F1: class 0: tp1 fp1 fn1 = 0.5; class 1: tp2 fp1 fn0 = 0.8;
   * class 2: tp1 fp0 fn1 = 2/3 */
  CU_ASSERT_DOUBLE_EQUAL(m.macro_f1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-15);
  CU_ASSERT(isnan(m.rmse) && isnan(m.mae) && isnan(m.r2));
}

static void test_binary_and_unseen(void)
{
  /* one logit: > 0 means class 1; class 2 of 3 never appears */
  float out[4] = {-1.0f, 2.0f, 0.0f, 3.0f}, y[4] = {0, 1, 1, 1};
  uint64_t conf[9] = {0};
  keel_metric_sums s = {0, 0, 0};
  keel_metric_sums_add_rows(&s, conf, KEEL_TASK_CLASSIFICATION, 3, out, y, 4,
                            1);
  keel_metrics m;
  keel_metrics_finish(&m, KEEL_TASK_CLASSIFICATION, 3, &s, conf, 4, 0);
  CU_ASSERT_DOUBLE_EQUAL(m.accuracy, 0.75, 1e-15);
  /* class 0: tp1 fp1 -> 2/3; class 1: tp2 fn1 -> 0.8; class 2 skipped */
  CU_ASSERT_DOUBLE_EQUAL(m.macro_f1, (2.0 / 3.0 + 0.8) / 2.0, 1e-15);
}

static void test_regression(void)
{
  float out[4] = {1, 2, 3, 5}, y[4] = {1, 3, 3, 3};
  keel_metric_sums s = {2.0, 0, 0};
  keel_metric_sums_add_rows(&s, NULL, KEEL_TASK_REGRESSION, 0, out, y, 4, 1);
  CU_ASSERT_DOUBLE_EQUAL(s.sq_err, 5.0, 0);
  CU_ASSERT_DOUBLE_EQUAL(s.abs_err, 3.0, 0);
  double ss = keel_metrics_ss_tot(y, 4); /* mean 2.5: 2.25+.25+.25+.25 */
  CU_ASSERT_DOUBLE_EQUAL(ss, 3.0, 1e-15);
  keel_metrics m;
  keel_metrics_finish(&m, KEEL_TASK_REGRESSION, 0, &s, NULL, 4, ss);
  CU_ASSERT_DOUBLE_EQUAL(m.rmse, sqrt(5.0 / 4.0), 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(m.mae, 0.75, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(m.r2, 1.0 - 5.0 / 3.0, 1e-15);
  CU_ASSERT(isnan(m.accuracy) && isnan(m.macro_f1));
  /* constant targets: R^2 undefined */
  keel_metrics_finish(&m, KEEL_TASK_REGRESSION, 0, &s, NULL, 4, 0.0);
  CU_ASSERT(isnan(m.r2));
  keel_metrics_finish(&m, KEEL_TASK_REGRESSION, 0, &s, NULL, 0, 0.0);
  CU_ASSERT_EQUAL(m.n_rows, 0);
  CU_ASSERT(isnan(m.loss));
}

static void test_tree_order(void)
{
  /* The tree adds (a0 + a1) + (a2 + a3), then + a4: with these values a
   * left-to-right sum gives a different double, so the order is pinned. */
  keel_metric_sums a[5] = {
      {1e16, 0, 0}, {1, 0, 0}, {-1e16, 0, 0}, {1, 0, 0}, {1, 0, 0}};
  double left = 0;
  for (int i = 0; i < 5; i++)
    left += a[i].loss;
  keel_metric_sums_tree(a, 5);
  double tree = ((1e16 + 1.0) + (-1e16 + 1.0)) + 1.0;
  CU_ASSERT_EQUAL(a[0].loss, tree);
  CU_ASSERT(left != tree);
  keel_metric_sums_tree(a, 0); /* no-op */
  keel_metric_sums one = {2.5, 0, 0};
  keel_metric_sums_tree(&one, 1);
  CU_ASSERT_EQUAL(one.loss, 2.5);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"accuracy and macro-F1 (3 classes)", test_classification},
      {"binary logit, class never seen", test_binary_and_unseen},
      {"rmse, mae, r2", test_regression},
      {"pairwise tree order", test_tree_order},
      {NULL, NULL},
  };
  return keel_test_run_suite("metrics", tests);
}
