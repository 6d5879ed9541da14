/* The sweep samplers' common contract and the grid and random strategies
 * (core/run/sampler*.c): determinism, bounds, inactive parameters as NaN,
 * the grid enumerated exactly once, its refusals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/sampler.h"
#include "sampler_fixture.h"
#include "test_util.h"

static char *models[] = {"softmax", "mlp", "tree"};
static char *acts[] = {"relu", "tanh"};

/* model = choice(softmax, mlp, tree); mlp: hidden int(1,3), act
 * choice(relu, tanh) and under tanh a gain uniform(0,1) steps 4; softmax:
 * lr loguniform(1e-3, 1e-1) steps 3; tree: nothing; top-level batch
 * int(16, 17). Grid size: (3 * (2 + 4)... ) as computed in test_grid. */
static keel_tune_param mixed_params[7];

static keel_tune_space mixed_space(void)
{
  mixed_params[0] = fx_choice("model.plugin", models, 3);
  mixed_params[1] =
      fx_under(fx_num("model.hidden", KEEL_TUNE_INT, 1, 3, 0), 0, 1);
  mixed_params[2] = fx_under(fx_choice("model.act", acts, 2), 0, 1);
  mixed_params[3] =
      fx_under(fx_num("model.gain", KEEL_TUNE_UNIFORM, 0, 1, 4), 2, 1);
  mixed_params[4] = fx_under(
      fx_num("optimizer.lr", KEEL_TUNE_LOGUNIFORM, 1e-3, 1e-1, 3), 0, 0);
  mixed_params[5] = fx_num("train.batch_size", KEEL_TUNE_INT, 16, 17, 0);
  mixed_params[6] = fx_num("train.l2", KEEL_TUNE_UNIFORM, 0.5, 0.5, 0);
  return fx_space(mixed_params, 7);
}

/* Grid size of mixed_space: model: softmax 3 + mlp 3 * (1 + 4) + tree 1
 * = 19; times batch 2, times l2 1. */
#define MIXED_GRID 38u

static int active_ok(const keel_tune_space *s, const double *x)
{
  for (size_t i = 0; i < s->n; i++) {
    const keel_tune_param *p = &s->params[i];
    int active = p->parent < 0 || (!isnan(x[p->parent]) &&
                                   x[p->parent] == (double)p->parent_choice);
    if (active == isnan(x[i]))
      return 0;
    if (!active)
      continue;
    double v = x[i];
    switch (p->kind) {
    case KEEL_TUNE_CHOICE:
      if (!(v >= 0 && v < (double)p->n_choices && v == floor(v)))
        return 0;
      break;
    case KEEL_TUNE_INT:
      if (!(v >= p->lo && v <= p->hi && v == floor(v)))
        return 0;
      break;
    default:
      if (!(v >= p->lo && v <= p->hi))
        return 0;
    }
  }
  return 1;
}

static void test_strategy_names(void)
{
  keel_sampler_strategy s;
  keel_error err = {0};
  for (int k = KEEL_SAMPLER_GRID; k <= KEEL_SAMPLER_TPE; k++) {
    CU_ASSERT_EQUAL(
        keel_sampler_strategy_from_name(
            keel_sampler_strategy_name((keel_sampler_strategy)k), &s, &err),
        0);
    CU_ASSERT_EQUAL((int)s, k);
  }
  CU_ASSERT_EQUAL(keel_sampler_strategy_from_name("bayes", &s, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'bayes'"));
}

static void test_random_bounds_and_inactive(void)
{
  keel_tune_space s = mixed_space();
  keel_error err = {0};
  double x[7];
  unsigned seen_model[3] = {0}, seen_hi = 0, seen_lo = 0;
  for (uint64_t t = 0; t < 3000; t++) {
    CU_ASSERT_EQUAL_FATAL(keel_sampler_random(&s, 5, t, x, &err), 0);
    CU_ASSERT_FATAL(active_ok(&s, x));
    seen_model[(int)x[0]]++;
    if (!isnan(x[1])) {
      seen_lo += x[1] == 1;
      seen_hi += x[1] == 3;
    }
    CU_ASSERT_EQUAL(x[6], 0.5);
  }
  for (int c = 0; c < 3; c++)
    CU_ASSERT(seen_model[c] > 850 && seen_model[c] < 1150);
  /* INT is inclusive at both ends */
  CU_ASSERT(seen_lo > 200 && seen_hi > 200);
}

/* LOGUNIFORM is uniform in log: half the draws of loguniform(1e-4, 1)
 * fall below 1e-2. */
static void test_random_log_scale(void)
{
  keel_tune_param p[1] = {fx_num("lr", KEEL_TUNE_LOGUNIFORM, 1e-4, 1, 0)};
  keel_tune_space s = fx_space(p, 1);
  keel_error err = {0};
  unsigned below = 0;
  double x[1];
  for (uint64_t t = 0; t < 4000; t++) {
    CU_ASSERT_EQUAL_FATAL(keel_sampler_random(&s, 9, t, x, &err), 0);
    CU_ASSERT_FATAL(x[0] >= 1e-4 && x[0] <= 1);
    below += x[0] < 1e-2;
  }
  CU_ASSERT(below > 1850 && below < 2150);
}

static void test_determinism(void)
{
  keel_tune_space s = mixed_space();
  keel_error err = {0};
  double a[7], b[7], c[7], d[7];
  for (int st = KEEL_SAMPLER_GRID; st <= KEEL_SAMPLER_TPE; st++) {
    unsigned differ = 0, differ_seed = 0;
    for (uint64_t t = 0; t < 30; t++) {
      CU_ASSERT_EQUAL_FATAL(
          keel_sampler_propose(&s, st, 42, t, NULL, 0, a, &err), 0);
      CU_ASSERT_EQUAL_FATAL(
          keel_sampler_propose(&s, st, 42, t, NULL, 0, b, &err), 0);
      CU_ASSERT(fx_same_point(a, b, 7));
      CU_ASSERT_EQUAL_FATAL(
          keel_sampler_propose(&s, st, 42, t + 1, NULL, 0, c, &err), 0);
      differ += !fx_same_point(a, c, 7);
      CU_ASSERT_EQUAL_FATAL(
          keel_sampler_propose(&s, st, 43, t, NULL, 0, d, &err), 0);
      differ_seed += !fx_same_point(a, d, 7);
    }
    /* grid points never repeat; random ones almost never (the space has a
     * continuous parameter under one of its branches only) */
    if (st == KEEL_SAMPLER_GRID)
      CU_ASSERT_EQUAL(differ, 30);
    CU_ASSERT(differ >= 25);
    CU_ASSERT(differ_seed >= 20);
  }
  /* random and TPE's start-up draws are the same bits */
  for (uint64_t t = 0; t < 10; t++) {
    CU_ASSERT_EQUAL(keel_sampler_random(&s, 3, t, a, &err), 0);
    CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 3, t, NULL, 0, b, &err), 0);
    CU_ASSERT(fx_same_point(a, b, 7));
  }
}

static int point_cmp(const void *pa, const void *pb)
{
  return memcmp(pa, pb, 7 * sizeof(double));
}

static void test_grid_enumerates_once(void)
{
  keel_tune_space s = mixed_space();
  keel_error err = {0};
  uint64_t size = 0;
  CU_ASSERT_EQUAL_FATAL(keel_sampler_grid_size(&s, &size, &err), 0);
  CU_ASSERT_EQUAL_FATAL(size, MIXED_GRID);
  double(*pts)[7] = calloc(size, sizeof *pts);
  double(*perm)[7] = calloc(size, sizeof *perm);
  CU_ASSERT_FATAL(pts && perm);
  unsigned gains = 0, lrs = 0, ends = 0;
  for (uint64_t k = 0; k < size; k++) {
    CU_ASSERT_EQUAL_FATAL(keel_sampler_grid_point(&s, k, pts[k], &err), 0);
    CU_ASSERT(active_ok(&s, pts[k]));
    gains += !isnan(pts[k][3]);
    lrs += !isnan(pts[k][4]);
    ends += pts[k][4] == 1e-3 || pts[k][4] == 1e-1 || pts[k][3] == 0 ||
            pts[k][3] == 1;
    CU_ASSERT_EQUAL_FATAL(keel_sampler_propose(&s, KEEL_SAMPLER_GRID, 7, k,
                                               NULL, 0, perm[k], &err),
                          0);
  }
  CU_ASSERT_EQUAL(gains, 3 * 4 * 2); /* hidden x gain x batch */
  CU_ASSERT_EQUAL(lrs, 3 * 2);
  CU_ASSERT_EQUAL(ends, 2 * 2 + 3 * 2 * 2); /* endpoints are exact */
  /* lexicographic: the first parameter varies slowest */
  CU_ASSERT_EQUAL(pts[0][0], 0);
  CU_ASSERT_EQUAL(pts[size - 1][0], 2);
  CU_ASSERT_EQUAL(pts[0][5], 16);
  CU_ASSERT_EQUAL(pts[1][5], 17);
  /* every point once, and the seeded order is a permutation of them */
  unsigned moved = 0;
  for (uint64_t k = 0; k < size; k++)
    moved += !fx_same_point(pts[k], perm[k], 7);
  CU_ASSERT(moved > size / 2);
  qsort(pts, size, sizeof *pts, point_cmp);
  qsort(perm, size, sizeof *perm, point_cmp);
  for (uint64_t k = 0; k + 1 < size; k++)
    CU_ASSERT(!fx_same_point(pts[k], pts[k + 1], 7));
  for (uint64_t k = 0; k < size; k++)
    CU_ASSERT(fx_same_point(pts[k], perm[k], 7));
  free(pts);
  free(perm);
  /* past the end */
  double x[7];
  CU_ASSERT_EQUAL(
      keel_sampler_propose(&s, KEEL_SAMPLER_GRID, 7, size, NULL, 0, x, &err),
      KEEL_ERANGE);
}

static void test_grid_order_bijection(void)
{
  static const uint64_t sizes[] = {1, 2, 3, 5, 16, 17, 255, 1000, 4097};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    uint64_t n = sizes[s];
    unsigned char *hit = calloc(n, 1);
    CU_ASSERT_FATAL(hit != NULL);
    for (uint64_t t = 0; t < n; t++) {
      uint64_t v = keel_sampler_grid_order(11, n, t);
      CU_ASSERT_FATAL(v < n);
      CU_ASSERT(!hit[v]);
      hit[v] = 1;
    }
    free(hit);
  }
  /* a huge grid: still in range, and seeds give different orders */
  uint64_t big = (1ull << 62) + 12345;
  CU_ASSERT(keel_sampler_grid_order(1, big, 99) < big);
  CU_ASSERT(keel_sampler_grid_order(1, big, 99) !=
            keel_sampler_grid_order(2, big, 99));
}

/* The grid points of one continuous parameter, in order. */
static void grid_points(keel_tune_kind kind, double lo, double hi,
                        unsigned steps, double *out)
{
  keel_tune_param p[1] = {fx_num("x", kind, lo, hi, steps)};
  keel_tune_space s = fx_space(p, 1);
  keel_error err = {0};
  for (unsigned k = 0; k < steps; k++)
    CU_ASSERT_EQUAL_FATAL(keel_sampler_grid_point(&s, k, &out[k], &err), 0);
}

static int same_doubles(const double *a, const double *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) {
      fprintf(stderr, "point %zu: %.17g, expected %.17g\n", i, a[i], b[i]);
      return 0;
    }
  return 1;
}

/* Continuous grid points are short decimals (12 significant digits),
 * clamped into the range; endpoints exact; a range narrower than 12
 * digits keeps distinct points; random draws are not rounded. */
static void test_grid_short_decimals(void)
{
  double x[8];
  /* computed: 0.010000000000000004 */
  grid_points(KEEL_TUNE_LOGUNIFORM, 0.001, 0.1, 3, x);
  CU_ASSERT(same_doubles(x, (double[]){0.001, 0.01, 0.1}, 3));
  grid_points(KEEL_TUNE_LOGUNIFORM, 0.0001, 1, 5, x);
  CU_ASSERT(same_doubles(x, (double[]){0.0001, 0.001, 0.01, 0.1, 1}, 5));
  grid_points(KEEL_TUNE_LOGUNIFORM, 0.0001, 0.1, 4, x);
  CU_ASSERT(same_doubles(x, (double[]){0.0001, 0.001, 0.01, 0.1}, 4));
  grid_points(KEEL_TUNE_UNIFORM, 0, 0.99, 3, x);
  CU_ASSERT(same_doubles(x, (double[]){0, 0.495, 0.99}, 3));
  /* 0.1 and 0.7 are not what lo + t * (hi - lo) computes; 0 is within
   * 1e-12 of the range's magnitude of the computed point */
  grid_points(KEEL_TUNE_UNIFORM, -0.2, 1, 7, x);
  CU_ASSERT(same_doubles(x, (double[]){-0.2, 0, 0.2, 0.4, 0.6, 0.8, 1}, 7));
  grid_points(KEEL_TUNE_UNIFORM, -0.1, 0.2, 4, x);
  CU_ASSERT(same_doubles(x, (double[]){-0.1, 0, 0.1, 0.2}, 4));
  /* 1/3 and 2/3: 12 digits, not the double nearest a third */
  grid_points(KEEL_TUNE_UNIFORM, 0, 1, 4, x);
  CU_ASSERT(same_doubles(x,
                         (double[]){0, strtod("0.333333333333", NULL),
                                    strtod("0.666666666667", NULL), 1},
                         4));
  /* 12 digits cannot tell these apart: the points stay as computed,
   * distinct, increasing and inside the range */
  grid_points(KEEL_TUNE_UNIFORM, 1, 1 + 4e-12, 5, x);
  for (int k = 0; k < 4; k++)
    CU_ASSERT(x[k] < x[k + 1]);
  CU_ASSERT(x[0] == 1 && x[4] == 1 + 4e-12);
  grid_points(KEEL_TUNE_LOGUNIFORM, 1e-9, 1.00000000001e-9, 3, x);
  CU_ASSERT(x[0] < x[1] && x[1] < x[2]);
  /* random proposals stay exact: most need 17 digits */
  keel_tune_param p[1] = {fx_num("x", KEEL_TUNE_LOGUNIFORM, 0.001, 0.1, 3)};
  keel_tune_space s = fx_space(p, 1);
  keel_error err = {0};
  unsigned long_text = 0;
  for (uint64_t t = 0; t < 20; t++) {
    char buf[32];
    CU_ASSERT_EQUAL_FATAL(keel_sampler_random(&s, 4, t, x, &err), 0);
    snprintf(buf, sizeof buf, "%.12g", x[0]);
    long_text += strtod(buf, NULL) != x[0];
  }
  CU_ASSERT(long_text >= 18);
}

static void test_grid_refusals(void)
{
  keel_error err = {0};
  uint64_t size;
  keel_tune_param p[2] = {
      fx_num("train.batch_size", KEEL_TUNE_INT, 1, 4, 0),
      fx_num("optimizer.lr", KEEL_TUNE_LOGUNIFORM, 1e-4, 1e-1, 0)};
  keel_tune_space s = fx_space(p, 2);
  CU_ASSERT_EQUAL(keel_sampler_grid_size(&s, &size, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "test.ini:9: optimizer.lr"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "steps"));
  double x[2];
  CU_ASSERT_EQUAL(
      keel_sampler_propose(&s, KEEL_SAMPLER_GRID, 1, 0, NULL, 0, x, &err),
      KEEL_EINVAL);
  /* random and TPE need no steps */
  CU_ASSERT_EQUAL(
      keel_sampler_propose(&s, KEEL_SAMPLER_RANDOM, 1, 0, NULL, 0, x, &err), 0);
  /* 2^70 points do not fit */
  keel_tune_param many[70];
  for (int i = 0; i < 70; i++)
    many[i] = fx_num("bit", KEEL_TUNE_INT, 0, 1, 0);
  keel_tune_space big = fx_space(many, 70);
  CU_ASSERT_EQUAL(keel_sampler_grid_size(&big, &size, &err), KEEL_ERANGE);
  big.n = 63;
  CU_ASSERT_EQUAL(keel_sampler_grid_size(&big, &size, &err), 0);
  CU_ASSERT_EQUAL(size, 1ull << 63);
}

static void test_space_refusals(void)
{
  keel_error err = {0};
  double x[2];
  keel_tune_param p[2] = {fx_choice("model.plugin", models, 3),
                          fx_num("lr", KEEL_TUNE_LOGUNIFORM, 0, 1, 0)};
  keel_tune_space s = fx_space(p, 2);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 0, x, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "test.ini:9: lr"));
  p[1] = fx_under(fx_num("lr", KEEL_TUNE_UNIFORM, 0, 1, 0), 0, 3);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 0, x, &err), KEEL_EINVAL);
  p[1] = fx_under(fx_num("lr", KEEL_TUNE_UNIFORM, 0, 1, 0), 1, 0);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 0, x, &err), KEEL_EINVAL);
  p[1] = fx_num("n", KEEL_TUNE_INT, 0.5, 3, 0);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 0, x, &err), KEEL_EINVAL);
  p[1] = fx_num("u", KEEL_TUNE_UNIFORM, 2, 1, 0);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 0, x, &err), KEEL_EINVAL);
  p[1] = fx_num("u", KEEL_TUNE_UNIFORM, 1, 2, 0);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 1ull << 32, x, &err), KEEL_ERANGE);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"strategy names", test_strategy_names},
      {"random: bounds, integers, inactive is NaN",
       test_random_bounds_and_inactive},
      {"random: loguniform is uniform in log", test_random_log_scale},
      {"same inputs give the same bits, other trials differ", test_determinism},
      {"grid: every point once, conditional, seeded order",
       test_grid_enumerates_once},
      {"grid order is a bijection", test_grid_order_bijection},
      {"grid: continuous points are short decimals", test_grid_short_decimals},
      {"grid refuses a continuous range without steps, and overflow",
       test_grid_refusals},
      {"malformed spaces are refused", test_space_refusals},
      {NULL, NULL},
  };
  return keel_test_run_suite("sampler", tests);
}
