/* TPE (core/run/sampler_tpe.c, parzen.c, truncnorm.c): the truncated
 * normal against SciPy's values, the Parzen estimator against Optuna
 * 3.1's (values printed by optuna.samplers._tpe.parzen_estimator on the
 * same observations, log densities included: keel keeps 3.1's kernel
 * term, parzen.c), history handling, and TPE finding the optimum of a
 * quadratic better than random search. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/parzen.h"
#include "run/sampler.h"
#include "run/truncnorm.h"
#include "sampler_fixture.h"
#include "test_util.h"

static int close_to(double got, double want, double tol)
{
  if (fabs(got - want) <= tol * fmax(1.0, fabs(want)))
    return 1;
  fprintf(stderr, "got %.17g, want %.17g\n", got, want);
  return 0;
}

/* scipy.stats.norm.logcdf and truncnorm.ppf (SciPy 1.10.1), Optuna 3.1's
 * _log_gauss_mass */
static void test_truncnorm_scipy(void)
{
  CU_ASSERT(close_to(keel__log_ndtr(-30.0), -454.32124395634327, 1e-13));
  CU_ASSERT(close_to(keel__log_ndtr(-5.0), -15.064998393988727, 1e-13));
  CU_ASSERT(close_to(keel__log_ndtr(8.0), -6.220960574271743e-16, 1e-6));
  CU_ASSERT(close_to(keel__log_ndtr(0.3), -0.4814101615884816, 1e-13));
  CU_ASSERT(
      close_to(keel__truncnorm_ppf(0.3, -1, 2), -0.24240381788922707, 1e-12));
  CU_ASSERT(
      close_to(keel__truncnorm_ppf(0.9, 0.5, 3), 1.851224070977836, 1e-12));
  CU_ASSERT(close_to(keel__truncnorm_ppf(0.01, -40, -30), -30.152946658582156,
                     1e-12));
  /* log mass of an interval: central, right tail, far left tail */
  CU_ASSERT(close_to(keel__log_gauss_mass(-1, 2), -0.20016629432446262, 1e-13));
  CU_ASSERT(close_to(keel__log_gauss_mass(3, 4), -6.631467786538224, 1e-12));
  CU_ASSERT(
      close_to(keel__log_gauss_mass(-40, -30), -454.32124395634315, 1e-13));
  CU_ASSERT(
      close_to(keel__log_gauss_mass(-0.5, 0), -1.6530635142555672, 1e-13));
  CU_ASSERT_EQUAL(keel__truncnorm_ppf(0, -1, 2), -1);
}

static void check_fit(const keel_tune_param *p, const double *obs, size_t n,
                      const double *w, const double *mu, const double *sg)
{
  keel__parzen pe;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, p, obs, n, &err), 0);
  CU_ASSERT_EQUAL(pe.k, n + 1);
  for (size_t j = 0; j <= n; j++) {
    CU_ASSERT(close_to(pe.w[j], w[j], 1e-15));
    if (mu) {
      CU_ASSERT(close_to(pe.mu[j], mu[j], 1e-15));
      CU_ASSERT(close_to(pe.sigma[j], sg[j], 1e-15));
    }
  }
  keel__parzen_free(&pe);
}

/* Kernels, bandwidths and weights as Optuna 3.1's _ParzenEstimator. */
static void test_parzen_as_optuna(void)
{
  keel_tune_param u = fx_num("u", KEEL_TUNE_UNIFORM, -10, 10, 0);
  double uo[] = {1.0, -3.0, 7.5, 2.0};
  double uw[] = {0.2, 0.2, 0.2, 0.2, 0.2}, umu[] = {1.0, -3.0, 7.5, 2.0, 0.0};
  double usg[] = {3.3333333333333335, 3.3333333333333335, 5.5, 5.5, 20.0};
  check_fit(&u, uo, 4, uw, umu, usg);
  keel__parzen pe;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, &u, uo, 4, &err), 0);
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 0), -0.7600220875764332, 1e-12));
  keel__parzen_free(&pe);

  keel_tune_param l = fx_num("l", KEEL_TUNE_LOGUNIFORM, 1e-3, 1, 0);
  double lo[] = {0.01, 0.5}, lw[] = {1 / 3.0, 1 / 3.0, 1 / 3.0};
  double lmu[] = {-4.605170185988091, -0.6931471805599453, -3.4538776394910684};
  double lsg[] = {1.7269388197455342, 2.760730458931123, 6.907755278982137};
  check_fit(&l, lo, 2, lw, lmu, lsg);
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, &l, lo, 2, &err), 0);
  CU_ASSERT(
      close_to(keel__parzen_log_pdf(&pe, 0.1), -0.5207745900316726, 1e-12));
  keel__parzen_free(&pe);

  /* INT: widened by 1/2, log mass of [x - 1/2, x + 1/2] */
  keel_tune_param i = fx_num("i", KEEL_TUNE_INT, 1, 8, 0);
  double io[] = {3, 3, 8}, iw[] = {0.25, 0.25, 0.25, 0.25};
  double imu[] = {3.0, 3.0, 8.0, 4.5}, isg[] = {1.6, 1.6, 3.5, 8.0};
  check_fit(&i, io, 3, iw, imu, isg);
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, &i, io, 3, &err), 0);
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 1), -2.3228629396257015, 1e-12));
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 3), -1.7068017369169786, 1e-12));
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 8), -2.486023627445721, 1e-12));
  keel__parzen_free(&pe);

  static char *abc[] = {"a", "b", "c"};
  keel_tune_param c = fx_choice("c", abc, 3);
  double co[] = {0, 2, 2};
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, &c, co, 3, &err), 0);
  CU_ASSERT(close_to(pe.cw[0], 0.7142857142857143, 1e-15));
  CU_ASSERT(close_to(pe.cw[1], 0.14285714285714285, 1e-15));
  CU_ASSERT(close_to(pe.cw[9], 1 / 3.0, 1e-15));
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 0), -1.0986122886681098, 1e-14));
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 1), -1.6582280766035324, 1e-14));
  CU_ASSERT(close_to(keel__parzen_log_pdf(&pe, 2), -0.7419373447293772, 1e-14));
  keel__parzen_free(&pe);

  /* 30 observations: the ramp over the oldest 5, the magic clip */
  keel_tune_param z = fx_num("z", KEEL_TUNE_UNIFORM, 0, 1, 0);
  double zo[30];
  for (int k = 0; k < 30; k++)
    zo[k] = (k / 29.0) * (k / 29.0);
  CU_ASSERT_EQUAL_FATAL(keel__parzen_fit(&pe, &z, zo, 30, &err), 0);
  CU_ASSERT(close_to(pe.w[0], 0.0011661807580174927, 1e-14));
  CU_ASSERT(close_to(pe.w[1], 0.009620991253644314, 1e-14));
  CU_ASSERT(close_to(pe.w[5], 0.034985422740524776, 1e-14));
  CU_ASSERT(close_to(pe.w[30], 0.034985422740524776, 1e-14));
  CU_ASSERT(close_to(pe.sigma[0], 0.03125, 1e-14));
  CU_ASSERT(close_to(pe.sigma[5], 0.03125, 1e-14));
  CU_ASSERT(close_to(pe.sigma[29], 0.06777645659928666, 1e-12));
  CU_ASSERT(close_to(pe.sigma[30], 1.0, 1e-15));
  keel__parzen_free(&pe);
}

/* f(x) = (x - 3)^2 on uniform(-10, 10): 40 trials one at a time. Returns
 * the mean distance to 3 of the last 20 proposals; *best the best value. */
static double run_quadratic(keel_sampler_strategy st, uint64_t seed,
                            double *best)
{
  keel_tune_param p[1] = {fx_num("x", KEEL_TUNE_UNIFORM, -10, 10, 0)};
  keel_tune_space s = fx_space(p, 1);
  double xs[40];
  keel_sampler_obs h[40];
  keel_error err = {0};
  double dist = 0;
  *best = INFINITY;
  for (unsigned t = 0; t < 40; t++) {
    CU_ASSERT_EQUAL_FATAL(
        keel_sampler_propose(&s, st, seed, t, h, t, &xs[t], &err), 0);
    double f = (xs[t] - 3) * (xs[t] - 3);
    h[t] = (keel_sampler_obs){&xs[t], f, 0, KEEL_TRIAL_COMPLETE};
    *best = fmin(*best, f);
    if (t >= 20)
      dist += fabs(xs[t] - 3) / 20;
  }
  return dist;
}

static void test_tpe_beats_random_on_quadratic(void)
{
  unsigned wins = 0;
  double sum_tpe = 0, sum_rnd = 0;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    double best_tpe, best_rnd;
    double dt = run_quadratic(KEEL_SAMPLER_TPE, seed, &best_tpe);
    double dr = run_quadratic(KEEL_SAMPLER_RANDOM, seed, &best_rnd);
    wins += dt < dr;
    sum_tpe += dt;
    sum_rnd += dr;
  }
  printf("\n  quadratic: TPE closer in %u of 10 seeds, mean distance %.3f "
         "(TPE) vs %.3f (random)\n",
         wins, sum_tpe / 10, sum_rnd / 10);
  CU_ASSERT(wins >= 9);
  CU_ASSERT(sum_tpe < 0.5 * sum_rnd);
}

/* choice of 4: choice 2 is best. After the start-up trials TPE proposes
 * it about 70% of the time (Optuna 3.1 on the same problem: 28 or 29 of
 * the last 40, seeds 1 to 5), random search 25%. */
static void test_tpe_categorical(void)
{
  static char *four[] = {"a", "b", "c", "d"};
  keel_tune_param p[1] = {fx_choice("c", four, 4)};
  keel_tune_space s = fx_space(p, 1);
  double xs[60];
  keel_sampler_obs h[60];
  keel_error err = {0};
  for (uint64_t seed = 1; seed <= 5; seed++) {
    unsigned hits = 0;
    for (unsigned t = 0; t < 60; t++) {
      CU_ASSERT_EQUAL_FATAL(keel_sampler_tpe(&s, seed, t, h, t, &xs[t], &err),
                            0);
      double f = (xs[t] == 2 ? 0 : 1) + t * 1e-3;
      h[t] = (keel_sampler_obs){&xs[t], f, 0, KEEL_TRIAL_COMPLETE};
      hits += t >= 20 && xs[t] == 2;
    }
    if (hits < 22)
      fprintf(stderr, "seed %llu: %u hits\n", (unsigned long long)seed, hits);
    CU_ASSERT(hits >= 22);
  }
}

/* A mixed, conditional space under TPE with a history: bounds, integers,
 * NaN exactly where inactive, failed trials ignored, same bits twice. */
static void test_tpe_mixed_history(void)
{
  static char *models[] = {"softmax", "mlp"};
  keel_tune_param p[4] = {
      fx_choice("model.plugin", models, 2),
      fx_under(fx_num("model.hidden", KEEL_TUNE_INT, 2, 64, 0), 0, 1),
      fx_num("optimizer.lr", KEEL_TUNE_LOGUNIFORM, 1e-4, 1, 0),
      fx_under(fx_num("model.l2", KEEL_TUNE_UNIFORM, 0, 1, 0), 0, 0)};
  keel_tune_space s = fx_space(p, 4);
  enum { N = 50 };
  static double xs[N + 5][4];
  keel_sampler_obs h[N + 5];
  keel_error err = {0};
  size_t n = 0;
  for (unsigned t = 0; t < N; t++) {
    CU_ASSERT_EQUAL_FATAL(keel_sampler_tpe(&s, 8, t, h, n, xs[n], &err), 0);
    double *x = xs[n];
    CU_ASSERT(x[0] == 0 || x[0] == 1);
    CU_ASSERT(isnan(x[1]) == (x[0] != 1));
    CU_ASSERT(isnan(x[3]) == (x[0] != 0));
    if (x[0] == 1)
      CU_ASSERT(x[1] >= 2 && x[1] <= 64 && x[1] == floor(x[1]));
    CU_ASSERT(x[2] >= 1e-4 && x[2] <= 1);
    double f = fabs(log10(x[2]) + 2) + (x[0] == 1 ? fabs(x[1] - 40) / 40 : 1);
    keel_trial_status st = t % 7 == 3   ? KEEL_TRIAL_FAILED
                           : t % 7 == 5 ? KEEL_TRIAL_PRUNED
                                        : KEEL_TRIAL_COMPLETE;
    h[n] = (keel_sampler_obs){x, st == KEEL_TRIAL_FAILED ? NAN : f, 2, st};
    n++;
  }
  /* failed trials change nothing: drop them and propose again */
  keel_sampler_obs kept[N];
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (h[i].status != KEEL_TRIAL_FAILED)
      kept[m++] = h[i];
  double a[4], b[4], c[4];
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 8, N, h, n, a, &err), 0);
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 8, N, kept, m, b, &err), 0);
  CU_ASSERT(fx_same_point(a, b, 4));
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 8, N, h, n, c, &err), 0);
  CU_ASSERT(fx_same_point(a, c, 4));
  /* the good trials pull lr towards 1e-2 */
  unsigned near = 0;
  for (unsigned t = N; t < N + 20; t++) {
    CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 8, t, h, n, a, &err), 0);
    near += fabs(log10(a[2]) + 2) < 1;
  }
  CU_ASSERT(near >= 12);
}

/* The start-up trials count completed and pruned trials, not trial
 * numbers; a history point outside its distribution is refused. */
static void test_tpe_startup_and_refusals(void)
{
  keel_tune_param p[1] = {fx_num("x", KEEL_TUNE_UNIFORM, 0, 1, 0)};
  keel_tune_space s = fx_space(p, 1);
  double xs[12], a[1], b[1];
  keel_sampler_obs h[12];
  keel_error err = {0};
  for (int i = 0; i < 12; i++) {
    xs[i] = i / 12.0;
    h[i] = (keel_sampler_obs){&xs[i], xs[i], 0, KEEL_TRIAL_FAILED};
  }
  /* 9 usable trials: still random */
  for (int i = 0; i < 9; i++)
    h[i].status = KEEL_TRIAL_COMPLETE;
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 1, 30, h, 12, a, &err), 0);
  CU_ASSERT_EQUAL(keel_sampler_random(&s, 1, 30, b, &err), 0);
  CU_ASSERT(fx_same_point(a, b, 1));
  h[9].status = KEEL_TRIAL_PRUNED;
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 1, 30, h, 12, a, &err), 0);
  CU_ASSERT(!fx_same_point(a, b, 1));
  CU_ASSERT(a[0] >= 0 && a[0] <= 1);
  xs[3] = 1.5;
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 1, 30, h, 12, a, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "entry 3: x = 1.5"));
}

/* Rounds: a round's first trial is the plain model's proposal; later ones
 * count the round's earlier proposals as running (constant liar), each
 * still a pure function of (seed, trial, history). */
static void test_tpe_rounds(void)
{
  keel_tune_param p[2] = {fx_num("x", KEEL_TUNE_UNIFORM, -5, 5, 0),
                          fx_num("n", KEEL_TUNE_INT, 1, 9, 0)};
  keel_tune_space s = fx_space(p, 2);
  double xs[16][2];
  keel_sampler_obs h[16];
  keel_error err = {0};
  for (unsigned t = 0; t < 12; t++) {
    CU_ASSERT_EQUAL_FATAL(keel_sampler_random(&s, 4, t, xs[t], &err), 0);
    h[t] = (keel_sampler_obs){xs[t], xs[t][0] * xs[t][0] + xs[t][1], 0,
                              KEEL_TRIAL_COMPLETE};
  }
  double one[4][2], four[4][2], again[2];
  for (unsigned k = 0; k < 4; k++) {
    s.round_size = 1;
    CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 4, 12 + k, h, 12, one[k], &err), 0);
    s.round_size = 4;
    CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 4, 12 + k, h, 12, four[k], &err), 0);
    CU_ASSERT(four[k][0] >= -5 && four[k][0] <= 5);
    CU_ASSERT(four[k][1] >= 1 && four[k][1] <= 9 &&
              four[k][1] == floor(four[k][1]));
  }
  /* asked out of order, trial 14 is the same */
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 4, 14, h, 12, again, &err), 0);
  CU_ASSERT(fx_same_point(again, four[2], 2));
  CU_ASSERT(fx_same_point(one[0], four[0], 2));
  unsigned differ = 0;
  for (unsigned k = 1; k < 4; k++)
    differ += !fx_same_point(one[k], four[k], 2);
  CU_ASSERT(differ >= 2);
  /* the same as passing the round's earlier trials as running */
  for (unsigned k = 0; k < 3; k++)
    h[12 + k] = (keel_sampler_obs){four[k], NAN, 0, KEEL_TRIAL_RUNNING};
  s.round_size = 1;
  CU_ASSERT_EQUAL(keel_sampler_tpe(&s, 4, 15, h, 15, again, &err), 0);
  CU_ASSERT(fx_same_point(again, four[3], 2));
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"truncated normal as SciPy", test_truncnorm_scipy},
      {"Parzen estimator as Optuna 3.1", test_parzen_as_optuna},
      {"TPE concentrates near a quadratic's optimum better than random",
       test_tpe_beats_random_on_quadratic},
      {"TPE finds the best choice", test_tpe_categorical},
      {"TPE on a mixed conditional space with history", test_tpe_mixed_history},
      {"TPE start-up trials and refusals", test_tpe_startup_and_refusals},
      {"TPE rounds: the constant liar, order-free", test_tpe_rounds},
      {NULL, NULL},
  };
  return keel_test_run_suite("sampler_tpe", tests);
}
