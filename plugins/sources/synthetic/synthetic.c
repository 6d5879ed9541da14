/* synthetic: a seeded generator of classification and regression tables of
 * any size, so tests and benchmarks need no committed large files.
 *
 * Features x1..xF are uniform in [-1, 1), drawn from Philox keyed by the
 * seed (stream KEEL_RNG_STREAM_SYNTHETIC, one counter per cell, column by
 * column). A random linear teacher W (uniform in [-1, 1), one column per
 * class, or one for regression) and bias b label the rows:
 *   classification: y = argmax_c (x . W[:,c] + b[c]) (lowest c on ties),
 *                   then with probability `noise` y is replaced by a class
 *                   drawn uniformly;
 *   regression:     y = x . w + b + noise * s * u, u uniform with unit
 *                   variance and s the teacher output's standard deviation
 *                   (sqrt(sum w^2 / 3), analytic).
 * Sums run over features in order, so the values depend only on the
 * parameters. The label column "y" is numeric (class index 0..C-1 for
 * classification). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

static const char *const task_choices[] = {"classification", "regression",
                                           NULL};

enum { P_TASK, P_ROWS, P_FEATURES, P_CLASSES, P_NOISE, P_SEED, P_COUNT };

static const keel_param_decl synthetic_params[] = {
    [P_TASK] =
        KEEL_P_ENUM("task", "classification", task_choices,
                    "classification (labels 0..classes-1) or regression"),
    [P_ROWS] =
        KEEL_P_INT("rows", 1000, 1, 100000000, "rows", "rows to generate"),
    [P_FEATURES] = KEEL_P_INT("features", 10, 1, 100000, "columns",
                              "feature columns x1..xN, uniform in [-1, 1)"),
    [P_CLASSES] = KEEL_P_INT("classes", 2, 2, 100, "classes",
                             "number of classes (classification only)"),
    [P_NOISE] =
        KEEL_P_FLOAT("noise", 0.0, 0.0, 1.0, 0, NULL,
                     "classification: probability a label is replaced by a "
                     "random class; regression: noise std as a fraction of the "
                     "teacher output's std"),
    [P_SEED] = KEEL_P_INT("seed", 1, 0, 9007199254740991.0, NULL,
                          "generator seed (Philox key)"),
};
KEEL_PARAMS_MATCH(synthetic_params, P_COUNT);

/* Counter layout within KEEL_RNG_STREAM_SYNTHETIC: the top byte picks the
 * purpose, so cells, teacher and noise never share a counter. */
#define CTR_CELLS 0ull
#define CTR_TEACHER (1ull << 56)
#define CTR_NOISE (2ull << 56)
#define CTR_FLIP (3ull << 56)
#define CTR_DRAW (4ull << 56)

static double uniform_pm1(uint64_t seed, uint64_t ctr)
{
  return 2.0 * keel_rng_uniform(seed, KEEL_RNG_STREAM_SYNTHETIC, ctr) - 1.0;
}

static int synthetic_schema(const keel_host *host, const keel_value *params,
                            keel_schema *out, keel_error *err)
{
  char name[32];
  for (int64_t j = 0; j < params[P_FEATURES].i; j++) {
    snprintf(name, sizeof name, "x%lld", (long long)(j + 1));
    int rc = host->schema_add(out, name, KEEL_COL_NUMERIC, 0, err);
    if (rc)
      return rc;
  }
  return host->schema_add(out, "y", KEEL_COL_NUMERIC, 0, err);
}

static int synthetic_read(const keel_host *host, const keel_value *params,
                          keel_table **out, keel_error *err)
{
  const int regression = params[P_TASK].i == 1;
  const size_t rows = (size_t)params[P_ROWS].i;
  const size_t feats = (size_t)params[P_FEATURES].i;
  const size_t k = regression ? 1 : (size_t)params[P_CLASSES].i;
  const uint64_t seed = (uint64_t)params[P_SEED].i;
  const double noise = params[P_NOISE].f;
  int rc = KEEL_OK;
  *out = NULL;
  double *score = calloc(rows * k, sizeof *score);
  double *w = malloc((feats + 1) * k * sizeof *w);
  keel_table *t = host->table_new(rows);
  if (!score || !w || !t) {
    rc = host->fail(err, KEEL_ENOMEM,
                    "out of memory for %zu rows "
                    "x %zu features",
                    rows, feats);
    goto out;
  }
  /* teacher: w[j*k + c] for features, then the bias row */
  for (size_t i = 0; i < (feats + 1) * k; i++)
    w[i] = uniform_pm1(seed, CTR_TEACHER + i);
  for (size_t i = 0; i < rows; i++)
    for (size_t c = 0; c < k; c++)
      score[i * k + c] = w[feats * k + c];
  char name[32];
  for (size_t j = 0; j < feats; j++) {
    snprintf(name, sizeof name, "x%zu", j + 1);
    keel_column *col = host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err);
    if (!col) {
      rc = err && err->code ? err->code : KEEL_ENOMEM;
      goto out;
    }
    /* two 53-bit uniforms per Philox block */
    uint64_t base = CTR_CELLS + (uint64_t)j * (uint64_t)rows;
    for (size_t i = 0; i < rows; i++) {
      uint64_t ctr = base + i;
      keel_rng_block b =
          keel_rng_philox(seed, KEEL_RNG_STREAM_SYNTHETIC, ctr >> 1);
      uint64_t bits = (ctr & 1) ? (((uint64_t)b.v[2] << 32) | b.v[3])
                                : (((uint64_t)b.v[0] << 32) | b.v[1]);
      double x = 2.0 * ((double)(bits >> 11) * 0x1.0p-53) - 1.0;
      col->num[i] = x;
      for (size_t c = 0; c < k; c++)
        score[i * k + c] += x * w[j * k + c];
    }
  }
  keel_column *y = host->table_add(t, "y", KEEL_COL_NUMERIC, NULL, 0, err);
  if (!y) {
    rc = err && err->code ? err->code : KEEL_ENOMEM;
    goto out;
  }
  if (regression) {
    double ss = 0.0;
    for (size_t j = 0; j < feats; j++)
      ss += w[j] * w[j];
    const double scale = noise * sqrt(ss / 3.0) * sqrt(3.0);
    for (size_t i = 0; i < rows; i++)
      y->num[i] = score[i] + scale * uniform_pm1(seed, CTR_NOISE + i);
  } else {
    for (size_t i = 0; i < rows; i++) {
      size_t best = 0;
      for (size_t c = 1; c < k; c++)
        if (score[i * k + c] > score[i * k + best])
          best = c;
      if (noise > 0.0 && keel_rng_uniform(seed, KEEL_RNG_STREAM_SYNTHETIC,
                                          CTR_FLIP + i) < noise)
        best = (size_t)keel_rng_below(seed, KEEL_RNG_STREAM_SYNTHETIC,
                                      CTR_DRAW + i, k);
      y->num[i] = (double)best;
    }
  }
  *out = t;
  t = NULL;
out:
  if (t)
    host->table_free(t);
  free(w);
  free(score);
  return rc;
}

static const keel_source_api synthetic_api = {
    KEEL_SOURCE_API_HEADER,
    .schema = synthetic_schema,
    .read = synthetic_read,
};

static const keel_plugin synthetic_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "synthetic",
    .version = "1.0.0",
    .summary = "seeded synthetic classification/regression table (linear "
               "teacher on uniform features)",
    .license = "MIT",
    .params = synthetic_params,
    .n_params = KEEL_COUNT(synthetic_params),
    .api = &synthetic_api,
};

KEEL_PLUGIN_DEFINE(synthetic_plugin)
