/* Training benchmarks (prints figures; not a test).
 *
 *   bench_train digits PLUGIN_DIR DIGITS_CSV[.gz] [--threads N] [--reps R]
 *       digits MLP 64-128-10, ReLU, xent, Adam lr 1e-3, batch 64, 20
 *       epochs, chunk_rows 16: keel's loop + plugins vs mono_mlp.c (the
 *       same arithmetic, monolithic); per-epoch medians, ratio, and a
 *       check that both produce the same weight bits.
 *   bench_train synth PLUGIN_DIR [--threads N] [--reps R]
 *       logistic regression on 200,000 x 100 synthetic rows (160k train,
 *       40k test), xent, SGD lr 0.1, batch 256, 5 epochs; samples/s.
 *
 * Data split and standardization follow the peers (tests/bench/peers/common.py)
 * in spirit (80/20, standardized on train), with keel's own Philox split,
 * so accuracies are comparable but not row-for-row identical. Output:
 * one "key=value ..." line per measurement (like the peer scripts). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/params.h"
#include "config/config.h"
#include "mono_mlp.h"
#include "plugin/loader.h"
#include "train/progress.h"
#include "train/train.h"

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const keel_loaded_plugin *load(const char *dir, const char *name)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.so", dir, name);
  keel_loaded_plugin *p = NULL;
  keel_error err = {0};
  if (keel_plugin_load_file(path, &p, &err) != KEEL_OK) {
    fprintf(stderr, "bench: %s\n", err.message);
    exit(2);
  }
  return p;
}

static keel_value *defaults(const keel_param_decl *d, size_t n)
{
  keel_value *v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++) {
    keel_error err = {0};
    if (keel_param_default(&d[i], &v[i], &err) != KEEL_OK) {
      fprintf(stderr, "bench: %s\n", err.message);
      exit(2);
    }
  }
  return v;
}

static long pidx(const keel_loaded_plugin *p, const char *name)
{
  for (size_t i = 0; i < p->desc.n_params; i++)
    if (strcmp(p->desc.params[i].name, name) == 0)
      return (long)i;
  fprintf(stderr, "bench: %s has no parameter %s\n", p->desc.name, name);
  exit(2);
}

/* Shuffles row order with Philox and splits 80/20; standardizes both on
 * the training part (population std, 1 where constant). */
static void split_standardize(const float *x, const float *y, size_t n,
                              size_t nf, int standardize, float **xtr,
                              float **ytr, size_t *ntr, float **xte,
                              float **yte, size_t *nte)
{
  size_t *perm = malloc(n * sizeof *perm);
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)keel_rng_below(0, KEEL_RNG_STREAM_SPLIT, i, i + 1);
    size_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  *nte = (n + 4) / 5;
  *ntr = n - *nte;
  *xtr = malloc(*ntr * nf * sizeof(float));
  *xte = malloc(*nte * nf * sizeof(float));
  *ytr = malloc(*ntr * sizeof(float));
  *yte = malloc(*nte * sizeof(float));
  for (size_t r = 0; r < n; r++) {
    int tr = r < *ntr;
    size_t k = tr ? r : r - *ntr;
    memcpy((tr ? *xtr : *xte) + k * nf, x + perm[r] * nf, nf * sizeof(float));
    (tr ? *ytr : *yte)[k] = y[perm[r]];
  }
  if (standardize)
    for (size_t j = 0; j < nf; j++) {
      double s = 0, ss = 0;
      for (size_t r = 0; r < *ntr; r++)
        s += (*xtr)[r * nf + j];
      double mean = s / (double)*ntr;
      for (size_t r = 0; r < *ntr; r++) {
        double d = (*xtr)[r * nf + j] - mean;
        ss += d * d;
      }
      double sd = sqrt(ss / (double)*ntr);
      if (sd == 0)
        sd = 1;
      for (size_t r = 0; r < *ntr; r++)
        (*xtr)[r * nf + j] = (float)(((*xtr)[r * nf + j] - mean) / sd);
      for (size_t r = 0; r < *nte; r++)
        (*xte)[r * nf + j] = (float)(((*xte)[r * nf + j] - mean) / sd);
    }
  free(perm);
}

/* digits CSV: a header, then 64 pixel values and the digit per line. */
static size_t read_digits(const char *path, float **x, float **y)
{
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bench: cannot open %s\n", path);
    exit(2);
  }
  char line[4096];
  size_t cap = 2048, n = 0;
  *x = malloc(cap * 64 * sizeof(float));
  *y = malloc(cap * sizeof(float));
  if (!gzgets(f, line, sizeof line)) {
    fprintf(stderr, "bench: %s is empty\n", path);
    exit(2);
  }
  while (gzgets(f, line, sizeof line)) {
    if (n == cap) {
      cap *= 2;
      *x = realloc(*x, cap * 64 * sizeof(float));
      *y = realloc(*y, cap * sizeof(float));
    }
    char *p = line, *end;
    for (int j = 0; j <= 64; j++) {
      double v = strtod(p, &end);
      if (end == p) {
        fprintf(stderr, "bench: %s: bad line %zu\n", path, n + 2);
        exit(2);
      }
      if (j < 64)
        (*x)[n * 64 + (size_t)j] = (float)v;
      else
        (*y)[n] = (float)v;
      p = end + (*end == ',');
    }
    n++;
  }
  gzclose(f);
  return n;
}

typedef struct args {
  int threads, reps;
} args;

static void parse_opts(int argc, char **argv, int first, args *a)
{
  a->threads = 1;
  a->reps = 5;
  for (int i = first; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      a->threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--reps") == 0)
      a->reps = atoi(argv[i + 1]);
  }
  if (a->threads < 1)
    a->threads = 1;
  if (a->reps < 1)
    a->reps = 1;
}

static keel_value *train_values(int epochs, int batch, int chunk)
{
  keel_value *tv = defaults(keel_train_decls, KEEL_TRAIN_N_PARAMS);
  tv[KEEL_TRAIN_EPOCHS].i = epochs;
  tv[KEEL_TRAIN_BATCH_SIZE].i = batch;
  tv[KEEL_TRAIN_CHUNK_ROWS].i = chunk;
  tv[KEEL_TRAIN_SEED].i = 0;
  return tv;
}

static int bench_digits(const char *pdir, const char *csv, const args *a)
{
  float *x, *y, *xtr, *ytr, *xte, *yte;
  size_t ntr, nte, n = read_digits(csv, &x, &y);
  split_standardize(x, y, n, 64, 1, &xtr, &ytr, &ntr, &xte, &yte, &nte);
  const int epochs = 20, batch = 64, chunk = 16;
  keel_train_setup s = {0};
  s.model = load(pdir, "mlp");
  s.loss = load(pdir, "xent");
  s.optimizer = load(pdir, "adam");
  s.model_values = defaults(s.model->desc.params, s.model->desc.n_params);
  s.loss_values = defaults(s.loss->desc.params, s.loss->desc.n_params);
  keel_value *ov =
      defaults(s.optimizer->desc.params, s.optimizer->desc.n_params);
  ov[pidx(s.optimizer, "lr")].f = 1e-3;
  s.optimizer_values = ov;
  s.train_values = train_values(epochs, batch, chunk);
  s.task = KEEL_TASK_CLASSIFICATION;
  s.n_classes = 10;
  s.threads = a->threads;
  keel_train_data tr = {xtr, ytr, ntr, 64, NULL, NULL},
                  te = {xte, yte, nte, 64, NULL, NULL};

  mono_config mc = {.hidden = 128,
                    .n_out = 10,
                    .batch = batch,
                    .chunk = chunk,
                    .epochs = epochs,
                    .seed = 0,
                    .lr = 1e-3,
                    .beta1 = 0.9,
                    .beta2 = 0.999,
                    .eps = 1e-8,
                    .threads = a->threads};
  size_t nw = mono_n_weights(&mc, 64);
  float *wm = malloc(nw * sizeof *wm);
  double *tk = malloc((size_t)a->reps * sizeof *tk);
  double *tm = malloc((size_t)a->reps * sizeof *tm);
  keel_train_result r = {0};
  /* alternate the two so drift on a shared machine hits both alike */
  for (int rep = 0; rep < a->reps; rep++) {
    keel_train_result_free(&r);
    keel_error err = {0};
    double t0 = keel_progress_now();
    if (keel_train_run(&s, &tr, NULL, &r, &err) != KEEL_OK) {
      fprintf(stderr, "bench: %s\n", err.message);
      return 1;
    }
    tk[rep] = (keel_progress_now() - t0) / epochs;
    t0 = keel_progress_now();
    mono_mlp_train(&mc, xtr, ytr, ntr, 64, wm);
    tm[rep] = (keel_progress_now() - t0) / epochs;
  }
  keel_metrics m;
  keel_error err = {0};
  keel_train_evaluate(&s, r.weights, r.n_weights, &te, &m, &err);
  int same = r.n_weights == nw && memcmp(r.weights, wm, nw * sizeof *wm) == 0;
  double mk = median(tk, a->reps), mm = median(tm, a->reps);
  printf("peer=keel task=digits_mlp threads=%d epochs=%d batch=%d reps=%d "
         "train_s=%.4g epoch_s=%.4g samples_per_s=%.0f test_acc=%.4f\n",
         a->threads, epochs, batch, a->reps, mk * epochs, mk, (double)ntr / mk,
         m.accuracy);
  printf("peer=mono task=digits_mlp threads=%d epochs=%d batch=%d reps=%d "
         "train_s=%.4g epoch_s=%.4g samples_per_s=%.0f "
         "keel_over_mono=%.3f same_weight_bits=%s\n",
         a->threads, epochs, batch, a->reps, mm * epochs, mm, (double)ntr / mm,
         mk / mm, same ? "yes" : "NO");
  keel_train_result_free(&r);
  return same ? 0 : 1;
}

/* x ~ N(0,1) (Box-Muller on Philox), w ~ N(0,1), y = 1[x.w/|w| + 0.3 n > 0] */
static int bench_synth(const char *pdir, const args *a)
{
  const size_t N = 200000, D = 100;
  float *x = malloc(N * D * sizeof *x), *y = malloc(N * sizeof *y);
  double w[100], norm = 0;
  for (size_t j = 0; j < D; j++) {
    double u1 = keel_rng_uniform(0, KEEL_RNG_STREAM_SYNTHETIC, 2 * j);
    double u2 = keel_rng_uniform(0, KEEL_RNG_STREAM_SYNTHETIC, 2 * j + 1);
    w[j] = sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
    norm += w[j] * w[j];
  }
  norm = sqrt(norm);
#pragma omp parallel for
  for (size_t r = 0; r < N; r++) {
    double m = 0;
    for (size_t j = 0; j <= D; j++) {
      uint64_t k = 1000 + r * (D + 1) + j;
      double u1 = keel_rng_uniform(0, KEEL_RNG_STREAM_SYNTHETIC, 2 * k);
      double u2 = keel_rng_uniform(0, KEEL_RNG_STREAM_SYNTHETIC, 2 * k + 1);
      double z = sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
      if (j < D) {
        x[r * D + j] = (float)z;
        m += (double)x[r * D + j] * w[j] / norm;
      } else {
        y[r] = m + 0.3 * z > 0 ? 1.0f : 0.0f;
      }
    }
  }
  keel_train_setup s = {0};
  s.model = load(pdir, "logistic");
  s.loss = load(pdir, "xent");
  s.optimizer = load(pdir, "sgd");
  s.model_values = defaults(s.model->desc.params, s.model->desc.n_params);
  s.loss_values = defaults(s.loss->desc.params, s.loss->desc.n_params);
  keel_value *ov =
      defaults(s.optimizer->desc.params, s.optimizer->desc.n_params);
  ov[pidx(s.optimizer, "lr")].f = 0.1;
  s.optimizer_values = ov;
  const int epochs = 5, batch = 256;
  int chunk = 32;
  const char *env = getenv("KEEL_BENCH_CHUNK");
  if (env)
    chunk = atoi(env);
  s.train_values = train_values(epochs, batch, chunk);
  s.task = KEEL_TASK_CLASSIFICATION;
  s.n_classes = 2;
  s.threads = a->threads;
  size_t ntr = 160000;
  keel_train_data tr = {x, y, ntr, D, NULL, NULL},
                  te = {x + ntr * D, y + ntr, N - ntr, D, NULL, NULL};
  double *t = malloc((size_t)a->reps * sizeof *t);
  keel_train_result r = {0};
  for (int rep = 0; rep < a->reps; rep++) {
    keel_train_result_free(&r);
    keel_error err = {0};
    double t0 = keel_progress_now();
    if (keel_train_run(&s, &tr, NULL, &r, &err) != KEEL_OK) {
      fprintf(stderr, "bench: %s\n", err.message);
      return 1;
    }
    t[rep] = keel_progress_now() - t0;
  }
  keel_metrics m;
  keel_error err = {0};
  keel_train_evaluate(&s, r.weights, r.n_weights, &te, &m, &err);
  double med = median(t, a->reps);
  printf("peer=keel task=synth_logreg threads=%d epochs=%d batch=%d "
         "chunk_rows=%d reps=%d train_s=%.4g samples_per_s=%.0f "
         "test_acc=%.4f\n",
         a->threads, epochs, batch, chunk, a->reps, med,
         (double)ntr * epochs / med, m.accuracy);
  keel_train_result_free(&r);
  return 0;
}

int main(int argc, char **argv)
{
  args a;
  if (argc >= 4 && strcmp(argv[1], "digits") == 0) {
    parse_opts(argc, argv, 4, &a);
    return bench_digits(argv[2], argv[3], &a);
  }
  if (argc >= 3 && strcmp(argv[1], "synth") == 0) {
    parse_opts(argc, argv, 3, &a);
    return bench_synth(argv[2], &a);
  }
  fprintf(stderr,
          "usage: bench_train digits PLUGIN_DIR DIGITS_CSV [--threads N] "
          "[--reps R]\n       bench_train synth PLUGIN_DIR [--threads N] "
          "[--reps R]\n");
  return 2;
}
