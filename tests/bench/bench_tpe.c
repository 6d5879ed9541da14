/* TPE against random search through the sweep samplers' C interface
 * (core/run/sampler.h), on standard test functions, with the driver's
 * rounds: trials are proposed round_size at a time from the history of
 * the earlier rounds only.
 *
 *   bench_tpe [--function branin|hartmann6|mixed] [--trials N]
 *             [--seeds S] [--round-size R] [--csv]
 *
 * For seeds 1..S (default 10) it runs N trials (default 40) of TPE and of
 * random search and prints, per seed, each one's best-so-far after N/4,
 * N/2 and N trials, then how many seeds TPE beat random and the medians
 * of the best values. --csv prints one line per seed and strategy
 * (function,strategy,round_size,seed,best) for run_tpe_bench.sh. The
 * functions are the ones tests/bench/tpe_optuna.py gives Optuna. Figures
 * only: nothing here passes or fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/sampler.h"

/* Branin on [-5, 10] x [0, 15]; minimum 0.397887 at three points. */
static double branin(const double *x)
{
  double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
         t = 1 / (8 * M_PI);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
  return a * u * u + s * (1 - t) * cos(x[0]) + s;
}

/* Hartmann-6 on [0, 1]^6; minimum -3.32237. */
static double hartmann6(const double *x)
{
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {
      {0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
      {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
      {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
      {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; i++) {
    double e = 0;
    for (int j = 0; j < 6; j++)
      e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * exp(-e);
  }
  return -sum;
}

/* A training-like surface over mixed parameters: optimizer = choice(sgd,
 * adam, rmsprop), lr = loguniform(1e-5, 1), layers = int(1, 8), and
 * momentum = uniform(0, 0.99) only under sgd. Minimum 0 at adam, lr =
 * 1e-3, layers = 5. */
static double mixed(const double *x)
{
  double l = log10(x[1]), f;
  switch ((int)x[0]) {
  case 0: f = (l + 1) * (l + 1) + 0.3 + 2 * (x[3] - 0.9) * (x[3] - 0.9); break;
  case 1: f = (l + 3) * (l + 3); break;
  default: f = (l + 3.5) * (l + 3.5) + 0.15; break;
  }
  return f + 0.05 * (x[2] - 5) * (x[2] - 5);
}

static char *optimizers[] = {"sgd", "adam", "rmsprop"};

typedef struct bench_fn {
  const char *name;
  double (*f)(const double *);
  keel_tune_param params[6];
  size_t n;
} bench_fn;

#define UNI(nm, a, b)                                                          \
  {                                                                            \
    .name = nm, .kind = KEEL_TUNE_UNIFORM, .lo = a, .hi = b, .parent = -1      \
  }

static bench_fn functions[] = {
    {"branin", branin, {UNI("x1", -5, 10), UNI("x2", 0, 15)}, 2},
    {"hartmann6",
     hartmann6,
     {UNI("x1", 0, 1), UNI("x2", 0, 1), UNI("x3", 0, 1), UNI("x4", 0, 1),
      UNI("x5", 0, 1), UNI("x6", 0, 1)},
     6},
    {"mixed",
     mixed,
     {{.name = "optimizer",
       .kind = KEEL_TUNE_CHOICE,
       .choices = optimizers,
       .n_choices = 3,
       .parent = -1},
      {.name = "lr",
       .kind = KEEL_TUNE_LOGUNIFORM,
       .lo = 1e-5,
       .hi = 1,
       .parent = -1},
      {.name = "layers", .kind = KEEL_TUNE_INT, .lo = 1, .hi = 8, .parent = -1},
      {.name = "momentum",
       .kind = KEEL_TUNE_UNIFORM,
       .lo = 0,
       .hi = 0.99,
       .parent = 0,
       .parent_choice = 0}},
     4},
};

/* One sweep of n trials in rounds of r; best-so-far after each trial into
 * best[0..n-1]. */
static int sweep(const bench_fn *fn, keel_sampler_strategy st, uint64_t seed,
                 unsigned n, unsigned r, double *best)
{
  keel_tune_space space = {.params = (keel_tune_param *)fn->params,
                           .n = fn->n,
                           .trials = n,
                           .round_size = r,
                           .startup = 10};
  double *xs = calloc((size_t)n * fn->n, sizeof *xs);
  keel_sampler_obs *h = calloc(n, sizeof *h);
  keel_error err = {0};
  int rc = xs && h ? 0 : KEEL_ENOMEM;
  double b = INFINITY;
  for (unsigned t0 = 0; t0 < n && !rc; t0 += r) {
    /* a round: every trial proposed from the history before it */
    unsigned end = t0 + r < n ? t0 + r : n;
    for (unsigned t = t0; t < end && !rc; t++)
      rc = keel_sampler_propose(&space, st, seed, t, h, t0, &xs[t * fn->n],
                                &err);
    for (unsigned t = t0; t < end && !rc; t++) {
      double f = fn->f(&xs[t * fn->n]);
      h[t] = (keel_sampler_obs){&xs[t * fn->n], f, 0, KEEL_TRIAL_COMPLETE};
      b = fmin(b, f);
      best[t] = b;
    }
  }
  if (rc)
    fprintf(stderr, "bench_tpe: %s\n", err.message);
  free(xs);
  free(h);
  return rc;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
  const char *name = "branin";
  unsigned trials = 40, seeds = 10, round_size = 1;
  int csv = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--function") && i + 1 < argc)
      name = argv[++i];
    else if (!strcmp(argv[i], "--trials") && i + 1 < argc)
      trials = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
      seeds = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--round-size") && i + 1 < argc)
      round_size = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--csv"))
      csv = 1;
    else {
      fprintf(stderr, "usage: bench_tpe [--function branin|hartmann6|mixed] "
                      "[--trials N] [--seeds S] [--round-size R] [--csv]\n");
      return 2;
    }
  }
  const bench_fn *fn = NULL;
  for (size_t k = 0; k < sizeof functions / sizeof *functions; k++)
    if (!strcmp(functions[k].name, name))
      fn = &functions[k];
  if (!fn || trials < 4 || seeds == 0 || round_size == 0) {
    fprintf(stderr, "bench_tpe: unknown function or bad counts\n");
    return 2;
  }
  double *bt = calloc(trials, sizeof *bt), *br = calloc(trials, sizeof *br);
  double *mt = calloc(seeds, sizeof *mt), *mr = calloc(seeds, sizeof *mr);
  if (!bt || !br || !mt || !mr)
    return 1;
  unsigned wins = 0;
  if (!csv)
    printf("function=%s trials=%u round_size=%u startup=10\n"
           "seed  tpe@%u  tpe@%u  tpe@%u  random@%u  random@%u  random@%u\n",
           fn->name, trials, round_size, trials / 4, trials / 2, trials,
           trials / 4, trials / 2, trials);
  for (unsigned s = 1; s <= seeds; s++) {
    if (sweep(fn, KEEL_SAMPLER_TPE, s, trials, round_size, bt) ||
        sweep(fn, KEEL_SAMPLER_RANDOM, s, trials, round_size, br))
      return 1;
    mt[s - 1] = bt[trials - 1];
    mr[s - 1] = br[trials - 1];
    wins += mt[s - 1] < mr[s - 1];
    if (csv)
      printf("%s,keel-tpe,%u,%u,%.17g\n%s,keel-random,%u,%u,%.17g\n", fn->name,
             round_size, s, mt[s - 1], fn->name, round_size, s, mr[s - 1]);
    else
      printf("%4u  %.6g  %.6g  %.6g  %.6g  %.6g  %.6g\n", s, bt[trials / 4 - 1],
             bt[trials / 2 - 1], bt[trials - 1], br[trials / 4 - 1],
             br[trials / 2 - 1], br[trials - 1]);
  }
  if (!csv)
    printf("TPE beat random in %u of %u seeds; median best: tpe %.6g, "
           "random %.6g\n",
           wins, seeds, median(mt, seeds), median(mr, seeds));
  free(bt);
  free(br);
  free(mt);
  free(mr);
  return 0;
}
