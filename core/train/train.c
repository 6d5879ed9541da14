#include "train/train.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "train/progress.h"
#include "base/status.h"

enum { SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE };
enum { ES_NONE, ES_LOSS, ES_ACCURACY, ES_MACRO_F1, ES_RMSE, ES_MAE, ES_R2 };
static const char *const es_names[] = {"none", "loss",  "accuracy", "macro_f1",
                                       "rmse", "mae",   "r2"};

/* Weights per block of the parallel gradient combination. */
#define COMBINE_BLOCK 2048
/* Below this many chunk-gradient floats per batch (at several threads)
 * the combination runs on the thread that takes the optimizer step, and
 * batches are scheduled without barriers (train_epoch_claimed). */
#define COMBINE_SERIAL_FLOATS 65536
/* Per-thread and per-chunk buffers start 128 bytes apart at least, so two
 * threads never write to one cache line (or one adjacent-line pair). */
#define PAD_FLOATS 32
#define PAD_U64 16

/* -- a growable string ------------------------------------------------ */

typedef struct strbuf {
  char *p;
  size_t n, cap;
  int failed;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
  if (b->failed)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->n;
    int k = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
    va_end(ap);
    if (k < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)k < room) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->n + (size_t)k + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

/* A JSON number, or null when not finite. */
static void sb_num(strbuf *b, const char *key, double v)
{
  if (isfinite(v))
    sb_printf(b, ",\"%s\":%.17g", key, v);
  else
    sb_printf(b, ",\"%s\":null", key);
}

/* -- element-wise kernels (SSE2 and AVX2 builds, same bits) ---------------- */

/* GCC's generic vectors: element-wise IEEE operations, two xmm registers
 * on the baseline build, one ymm on the AVX2 build. Nothing here sums
 * across elements, so every build gives the same bits. */
typedef float tv8 __attribute__((vector_size(32)));
#define TV_LD(v, p) memcpy(&(v), (p), sizeof(tv8))
#define TV_ST(p, v) memcpy((p), &(v), sizeof(tv8))

/* The pairwise tree over the chunk gradients g[c] (c * gs floats apart)
 * for the weights lo..hi (g[c] += g[c + stride], stride 1, 2, 4, ...),
 * then out = g[0] / rows. */
static inline __attribute__((always_inline)) void
combine_body(float *g, size_t gs, size_t n_chunks, size_t lo, size_t hi,
             float *out, float rows)
{
  for (size_t stride = 1; stride < n_chunks; stride *= 2)
    for (size_t c = 0; c + stride < n_chunks; c += 2 * stride) {
      float *dst = g + c * gs;
      const float *src = g + (c + stride) * gs;
      size_t j = lo;
      for (; j + 8 <= hi; j += 8) {
        tv8 a, b;
        TV_LD(a, dst + j);
        TV_LD(b, src + j);
        a += b;
        TV_ST(dst + j, a);
      }
      for (; j < hi; j++)
        dst[j] += src[j];
    }
  size_t j = lo;
  for (; j + 8 <= hi; j += 8) {
    tv8 a;
    TV_LD(a, g + j);
    a = a / rows;
    TV_ST(out + j, a);
  }
  for (; j < hi; j++)
    out[j] = g[j] / rows;
}

/* 1 when every w[i] is finite: NaN or Inf times zero is NaN, and a sum of
 * zeros and NaNs is NaN in any order. */
static inline __attribute__((always_inline)) int all_finite_body(
    const float *w, size_t n)
{
  tv8 acc = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    tv8 a;
    TV_LD(a, w + i);
    acc += a * 0.0f;
  }
  float t = 0.0f;
  for (size_t k = 0; k < 8; k++)
    t += acc[k];
  for (; i < n; i++)
    t += w[i] * 0.0f;
  return t == 0.0f;
}

typedef struct train_kernels {
  void (*combine)(float *g, size_t gs, size_t n_chunks, size_t lo, size_t hi,
                  float *out, float rows);
  int (*all_finite)(const float *w, size_t n);
} train_kernels;

static void combine_base(float *g, size_t gs, size_t n_chunks, size_t lo,
                         size_t hi, float *out, float rows)
{
  combine_body(g, gs, n_chunks, lo, hi, out, rows);
}

static int all_finite_base(const float *w, size_t n)
{
  return all_finite_body(w, n);
}

static const train_kernels kernels_base = {combine_base, all_finite_base};

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void
combine_avx2(float *g, size_t gs, size_t n_chunks, size_t lo, size_t hi,
             float *out, float rows)
{
  combine_body(g, gs, n_chunks, lo, hi, out, rows);
}

__attribute__((target("avx2"))) static int all_finite_avx2(const float *w,
                                                            size_t n)
{
  return all_finite_body(w, n);
}

static const train_kernels kernels_avx2 = {combine_avx2, all_finite_avx2};
#endif

static const train_kernels *select_kernels(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return &kernels_avx2;
#endif
  return &kernels_base;
}

static size_t pad_floats(size_t n)
{
  return (n + PAD_FLOATS - 1) / PAD_FLOATS * PAD_FLOATS;
}

/* -- the trainer ----------------------------------------------------------- */

typedef struct trainer {
  const keel_train_setup *s;
  const keel_host *host;
  const keel_model_api *mapi;
  const keel_loss_api *lapi;
  const keel_optimizer_api *oapi;
  void *model;
  keel_task task;
  size_t n_classes; /* confusion size for classification, else 0 */
  size_t nf, width, nw, nopt;
  size_t chunk, batch, max_chunks;
  int nt;
  const train_kernels *k;
  /* per-thread scratch, thread t at t * stride (padded, see PAD_FLOATS) */
  float *xbuf, *ybuf, *obuf, *dbuf, *ws;
  size_t xs, ys, os, ws_floats, wss;
  uint64_t *conf; /* nt * conf_stride, K * K used */
  size_t conf_stride;
  /* per-chunk results */
  float *grads; /* max_chunks * gs */
  size_t gs;
  keel_metric_sums *csums;
  float *grad; /* combined gradient */
  /* several threads and small chunk gradients: train_epoch_claimed */
  int claimed;
} trainer;

static const char *plugin_name(const keel_loaded_plugin *p)
{
  return p && p->desc.name ? p->desc.name : "?";
}

/* Forward (and backward when grad is not NULL) of one chunk of n rows on
 * thread t. rows == NULL: the rows start..start+n of d in order. */
static void run_chunk(const trainer *T, const float *w,
                      const keel_train_data *d, const size_t *rows,
                      size_t start, size_t n, int t, float *grad,
                      keel_metric_sums *sums)
{
  size_t nf = T->nf;
  const float *x, *y;
  if (rows) {
    float *xb = T->xbuf + (size_t)t * T->xs;
    float *yb = T->ybuf + (size_t)t * T->ys;
    /* Shuffled rows are cache misses: ask for all of the chunk's lines
     * first so the misses overlap (no effect on the values). */
    for (size_t r = 0; r < n; r++) {
      const char *row = (const char *)(d->x + rows[start + r] * nf);
      for (size_t b = 0; b < nf * sizeof(float); b += 64)
        __builtin_prefetch(row + b);
    }
    for (size_t r = 0; r < n; r++) {
      size_t src = rows[start + r];
      memcpy(xb + r * nf, d->x + src * nf, nf * sizeof *xb);
      yb[r] = d->y[src];
    }
    x = xb;
    y = yb;
  } else {
    x = d->x + start * nf;
    y = d->y + start;
  }
  float *out = T->obuf + (size_t)t * T->os;
  float *dout = T->dbuf + (size_t)t * T->os;
  float *ws = T->ws + (size_t)t * T->wss;
  T->mapi->forward(T->model, w, x, n, out, ws);
  /* summed locally: chunks of two threads may share a line of *sums */
  keel_metric_sums sm;
  sm.loss = T->lapi->value_grad(T->s->loss_values, out, y, n, T->width,
                                grad ? dout : NULL);
  sm.sq_err = sm.abs_err = 0.0;
  uint64_t *conf = T->conf + (size_t)t * T->conf_stride;
  keel_metric_sums_add_rows(&sm, conf, T->task, T->n_classes, out, y, n,
                            T->width);
  *sums = sm;
  if (grad)
    T->mapi->backward(T->model, w, x, n, dout, grad, ws);
}

/* Sums the per-thread class counts into conf_total and clears them. */
static void confusion_collect(trainer *T, uint64_t *total)
{
  size_t kk = T->n_classes * T->n_classes;
  memset(total, 0, kk * sizeof *total);
  for (int t = 0; t < T->nt; t++) {
    uint64_t *c = T->conf + (size_t)t * T->conf_stride;
    for (size_t i = 0; i < kk; i++)
      total[i] += c[i];
    memset(c, 0, kk * sizeof *c);
  }
}

/* Metrics of w on split d (rows in order, chunks of T->chunk rows). */
static int evaluate(trainer *T, const float *w, const keel_train_data *d,
                    double ss_tot, keel_metrics *m)
{
  keel_metrics_clear(m);
  if (!d || d->n_rows == 0)
    return KEEL_OK;
  size_t n = d->n_rows, C = T->chunk, n_chunks = (n + C - 1) / C;
  keel_metric_sums *sums = calloc(n_chunks, sizeof *sums);
  uint64_t *conf = calloc(T->n_classes * T->n_classes + 1, sizeof *conf);
  if (!sums || !conf) {
    free(sums);
    free(conf);
    return KEEL_ENOMEM;
  }
  memset(T->conf, 0, (size_t)T->nt * T->conf_stride * sizeof *T->conf);
#pragma omp parallel for num_threads(T->nt) schedule(static) \
    if (n_chunks > 1)
  for (size_t c = 0; c < n_chunks; c++) {
    size_t start = c * C, len = n - start < C ? n - start : C;
    run_chunk(T, w, d, NULL, start, len, omp_get_thread_num(), NULL,
              &sums[c]);
  }
  keel_metric_sums_tree(sums, n_chunks);
  confusion_collect(T, conf);
  keel_metrics_finish(m, T->task, T->n_classes, &sums[0], conf, n, ss_tot);
  free(sums);
  free(conf);
  return KEEL_OK;
}

/* Fisher-Yates with draw i ~ U{0..i}: the 64-bit word u_i times (i + 1),
 * high half (Lemire, bias below 2^-64 (i + 1)). One Philox block keyed by
 * (seed, epoch stream) at counter i / 2 gives u_i: words 0-1 for even i,
 * 2-3 for odd i. The permutation depends on (seed, epoch) only: it
 * restarts from the identity every epoch, so a resumed run shuffles like
 * an uninterrupted one. The draws are independent, so they are computed
 * in parallel. */
static void shuffle_rows(size_t *perm, size_t *draws, size_t n,
                         uint64_t seed, uint64_t epoch, int nt)
{
  uint64_t stream = ((epoch + 1) << 32) | KEEL_RNG_STREAM_SHUFFLE;
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  size_t pairs = n / 2 + 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (n > 65536)
  for (size_t p = 0; p < pairs; p++) {
    keel_rng_block b = keel_rng_philox(seed, stream, p);
    for (size_t h = 0; h < 2; h++) {
      size_t i = 2 * p + h;
      if (i == 0 || i >= n)
        continue;
      uint64_t u = ((uint64_t)b.v[2 * h] << 32) | b.v[2 * h + 1];
      keel__u128 m = (keel__u128)u * ((uint64_t)i + 1);
      draws[i] = (size_t)(m >> 64);
    }
  }
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = draws[i];
    size_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

/* The learning-rate factor of global step `step` (0-based). */
static double lr_scale_at(const keel_value *tv, uint64_t step, uint64_t epoch,
                          size_t steps_per_epoch)
{
  double scale = 1.0;
  uint64_t epochs = (uint64_t)tv[KEEL_TRAIN_EPOCHS].i;
  uint64_t warm = (uint64_t)tv[KEEL_TRAIN_WARMUP_EPOCHS].i * steps_per_epoch;
  uint64_t total = epochs * steps_per_epoch;
  switch ((int)tv[KEEL_TRAIN_LR_SCHEDULE].i) {
  case SCHED_STEP: {
    int64_t every = tv[KEEL_TRAIN_STEP_EPOCHS].i;
    if (every > 0)
      scale = pow(tv[KEEL_TRAIN_STEP_GAMMA].f,
                  (double)(epoch / (uint64_t)every));
    break;
  }
  case SCHED_COSINE:
    if (step >= warm && total > warm)
      scale = 0.5 * (1.0 + cos(M_PI * (double)(step - warm) /
                               (double)(total - warm)));
    break;
  default:
    break;
  }
  if (step < warm)
    scale *= (double)(step + 1) / (double)warm;
  return scale;
}

/* Index of the optimizer's "lr" parameter, or -1. */
static long optimizer_lr_index(const keel_loaded_plugin *opt)
{
  for (size_t i = 0; i < opt->desc.n_params; i++)
    if (opt->desc.params[i].name &&
        strcmp(opt->desc.params[i].name, "lr") == 0)
      return (long)i;
  return -1;
}

static void metrics_json(strbuf *b, const char *prefix, keel_task task,
                         const keel_metrics *m)
{
  char key[32];
  snprintf(key, sizeof key, "%s_loss", prefix);
  sb_num(b, key, m->loss);
  if (task == KEEL_TASK_CLASSIFICATION) {
    snprintf(key, sizeof key, "%s_accuracy", prefix);
    sb_num(b, key, m->accuracy);
    snprintf(key, sizeof key, "%s_macro_f1", prefix);
    sb_num(b, key, m->macro_f1);
  } else {
    snprintf(key, sizeof key, "%s_rmse", prefix);
    sb_num(b, key, m->rmse);
    snprintf(key, sizeof key, "%s_mae", prefix);
    sb_num(b, key, m->mae);
    snprintf(key, sizeof key, "%s_r2", prefix);
    sb_num(b, key, m->r2);
  }
}

/* The early-stopping value of m, and whether lower is better. */
static double es_value(int metric, const keel_metrics *m, int *lower)
{
  *lower = metric == ES_LOSS || metric == ES_RMSE || metric == ES_MAE;
  switch (metric) {
  case ES_LOSS: return m->loss;
  case ES_ACCURACY: return m->accuracy;
  case ES_MACRO_F1: return m->macro_f1;
  case ES_RMSE: return m->rmse;
  case ES_MAE: return m->mae;
  case ES_R2: return m->r2;
  default: return NAN;
  }
}

/* Labels: class indexes for classification, finite targets otherwise. */
static int check_labels(const keel_train_setup *s, const keel_train_data *d,
                        const char *split, keel_error *err)
{
  for (size_t r = 0; r < d->n_rows; r++) {
    double y = (double)d->y[r];
    if (s->task == KEEL_TASK_CLASSIFICATION) {
      if (!(y >= 0 && y < (double)s->n_classes) || y != floor(y))
        return keel_fail(err, KEEL_EDATA,
                         "train: %s row %zu has label %g, expected a class "
                         "index in [0, %zu)", split, r, y, s->n_classes);
    } else if (!isfinite(y)) {
      return keel_fail(err, KEEL_EDATA,
                       "train: %s row %zu has a non-finite target", split,
                       r);
    }
  }
  return KEEL_OK;
}

/* The rules that need no data: plugins of the right kinds, model and loss
 * fit the task, [train] values, early stopping. has_valid: 1 when a
 * validation split exists or will exist, 0 when it is empty. */
static int check_config(const keel_train_setup *s, int has_valid,
                        keel_error *err)
{
  if (!s || !s->model || !s->loss || !s->optimizer || !s->train_values)
    return keel_fail(err, KEEL_EINVAL, "train: missing model, loss, "
                     "optimizer or [train] values");
  if (s->model->desc.kind != KEEL_KIND_MODEL ||
      s->loss->desc.kind != KEEL_KIND_LOSS ||
      s->optimizer->desc.kind != KEEL_KIND_OPTIMIZER)
    return keel_fail(err, KEEL_EINVAL, "train: the model, loss and "
                     "optimizer slots hold plugins of the wrong kind");
  const char *task_name =
      s->task == KEEL_TASK_CLASSIFICATION ? "classification" : "regression";
  const keel_loaded_plugin *pl[2] = {s->model, s->loss};
  const char *slot[2] = {"model", "loss"};
  for (int i = 0; i < 2; i++) {
    uint32_t tasks = pl[i]->desc.contract.tasks;
    if (tasks != 0 && !(tasks & (uint32_t)s->task))
      return keel_fail(err, KEEL_EINVAL,
                       "[%s] %s fits %s only, but the task is %s",
                       slot[i], plugin_name(pl[i]),
                       tasks & KEEL_TASK_CLASSIFICATION ? "classification"
                                                        : "regression",
                       task_name);
  }
  const keel_value *tv = s->train_values;
  int64_t batch = tv[KEEL_TRAIN_BATCH_SIZE].i;
  if (tv[KEEL_TRAIN_EPOCHS].i < 1 || batch < 1 ||
      tv[KEEL_TRAIN_CHUNK_ROWS].i < 1)
    return keel_fail(err, KEEL_EINVAL, "[train] epochs, batch_size and "
                     "chunk_rows must be at least 1 (got %lld, %lld, %lld)",
                     (long long)tv[KEEL_TRAIN_EPOCHS].i, (long long)batch,
                     (long long)tv[KEEL_TRAIN_CHUNK_ROWS].i);
  int es = (int)tv[KEEL_TRAIN_EARLY_STOP_METRIC].i;
  if (es < ES_NONE || es > ES_R2)
    return keel_fail(err, KEEL_EINVAL, "[train] early_stop_metric: unknown "
                     "choice %d", es);
  if (es != ES_NONE) {
    int cls = s->task == KEEL_TASK_CLASSIFICATION;
    if ((cls && es >= ES_RMSE) || (!cls && (es == ES_ACCURACY ||
                                            es == ES_MACRO_F1)))
      return keel_fail(err, KEEL_EINVAL,
                       "[train] early_stop_metric = %s does not exist for "
                       "%s", es_names[es], task_name);
    if (!has_valid)
      return keel_fail(err, KEEL_EINVAL,
                       "[train] early_stop_metric = %s needs a validation "
                       "split, but it is empty (set [data] valid_fraction)",
                       es_names[es]);
  }
  return KEEL_OK;
}

/* The loss serves n_classes (0: regression) and the model can be built
 * for n_in inputs and the loss's width: what trainer_init will do. */
static int check_widths(const keel_train_setup *s, size_t n_in,
                        size_t n_classes, keel_error *err)
{
  const keel_loss_api *lapi = s->loss->api;
  const keel_model_api *mapi = s->model->api;
  size_t width = 0;
  int rc = lapi->output_width(s->loss_values, s->task, n_classes, &width,
                              err);
  if (rc != KEEL_OK) {
    keel_error_prefix(err, "[loss] %s", plugin_name(s->loss));
    return rc;
  }
  const keel_host *host = s->host ? s->host : keel_host_services();
  void *model = NULL;
  rc = mapi->create(host, s->model_values, n_in, width, &model, err);
  if (rc != KEEL_OK) {
    keel_error_prefix(err, "[model] %s", plugin_name(s->model));
    return rc;
  }
  mapi->destroy(host, model);
  return KEEL_OK;
}

int keel_train_check(const keel_run_config *cfg, size_t n_features,
                     size_t n_classes, keel_error *err)
{
  if (!cfg)
    return keel_fail(err, KEEL_EINVAL, "train check: no configuration");
  keel_train_setup s = {
      .model = cfg->model.plugin, .loss = cfg->loss.plugin,
      .optimizer = cfg->optimizer.plugin,
      .model_values = cfg->model.values, .loss_values = cfg->loss.values,
      .optimizer_values = cfg->optimizer.values,
      .train_values = cfg->train.values, .task = cfg->task};
  int has_valid = !cfg->data.values ||
                  cfg->data.values[KEEL_DATA_VALID_FRACTION].f > 0.0;
  int rc = check_config(&s, has_valid, err);
  if (rc != KEEL_OK)
    return rc;
  size_t n_in = n_features > 0 ? n_features : 1;
  if (cfg->task != KEEL_TASK_CLASSIFICATION)
    return check_widths(&s, n_in, 0, err);
  if (n_classes > 0)
    return check_widths(&s, n_in, n_classes, err);
  /* Class count unknown until the labels are read: refuse only what can
   * serve neither two classes nor three or more. */
  keel_error two = {0};
  if (check_widths(&s, n_in, 2, &two) == KEEL_OK)
    return KEEL_OK;
  rc = check_widths(&s, n_in, 3, err);
  if (rc != KEEL_OK) {
    char three[sizeof err->message];
    snprintf(three, sizeof three, "%s", err->message);
    rc = keel_fail(err, rc, "the model and loss serve no class count: with "
                   "2 classes: %s; with 3 or more: %s", two.message, three);
  }
  return rc;
}

/* Checks the configuration and the data before anything is allocated. */
static int check_setup(const keel_train_setup *s,
                       const keel_train_data *train,
                       const keel_train_data *valid, keel_error *err)
{
  if (!train)
    return keel_fail(err, KEEL_EINVAL, "train: no training data");
  int rc = check_config(s, valid && valid->n_rows > 0, err);
  if (rc != KEEL_OK)
    return rc;
  if (train->n_rows == 0 || train->n_features == 0)
    return keel_fail(err, KEEL_EDATA, "train: the training split is empty "
                     "(%zu rows, %zu features)", train->n_rows,
                     train->n_features);
  if (valid && valid->n_rows > 0 && valid->n_features != train->n_features)
    return keel_fail(err, KEEL_EDATA, "train: the validation split has %zu "
                     "features, the training split %zu", valid->n_features,
                     train->n_features);
  int64_t batch = s->train_values[KEEL_TRAIN_BATCH_SIZE].i;
  if ((uint64_t)batch > train->n_rows)
    return keel_fail(err, KEEL_EINVAL,
                     "[train] batch_size = %lld is larger than the training "
                     "split (%zu rows); set batch_size to at most %zu",
                     (long long)batch, train->n_rows, train->n_rows);
  rc = check_labels(s, train, "training", err);
  if (rc == KEEL_OK && valid)
    rc = check_labels(s, valid, "validation", err);
  return rc;
}

static void trainer_free(trainer *T)
{
  if (T->model)
    T->mapi->destroy(T->host, T->model);
  free(T->xbuf);
  free(T->ybuf);
  free(T->obuf);
  free(T->dbuf);
  free(T->ws);
  free(T->conf);
  free(T->grads);
  free(T->csums);

  free(T->grad);
  memset(T, 0, sizeof *T);
}

/* Creates the model instance and the scratch buffers. */
static int trainer_init(trainer *T, const keel_train_setup *s, size_t nf,
                        size_t max_rows_per_batch, keel_error *err)
{
  memset(T, 0, sizeof *T);
  T->s = s;
  T->host = s->host ? s->host : keel_host_services();
  T->mapi = s->model->api;
  T->lapi = s->loss->api;
  T->oapi = s->optimizer->api;
  T->task = s->task;
  T->n_classes = s->task == KEEL_TASK_CLASSIFICATION ? s->n_classes : 0;
  T->nf = nf;
  const keel_value *tv = s->train_values;
  T->chunk = (size_t)tv[KEEL_TRAIN_CHUNK_ROWS].i;
  T->batch = max_rows_per_batch;
  T->max_chunks = (T->batch + T->chunk - 1) / T->chunk;
  int nt = s->threads > 0 ? s->threads : (int)tv[KEEL_TRAIN_THREADS].i;
  T->nt = nt > 0 ? nt : omp_get_max_threads();
  if (T->nt < 1)
    T->nt = 1;

  int rc = T->lapi->output_width(s->loss_values, s->task, s->n_classes,
                                 &T->width, err);
  if (rc != KEEL_OK) {
    keel_error_prefix(err, "[loss] %s", plugin_name(s->loss));
    return rc;
  }
  rc = T->mapi->create(T->host, s->model_values, nf, T->width, &T->model,
                       err);
  if (rc != KEEL_OK) {
    T->model = NULL;
    keel_error_prefix(err, "[model] %s", plugin_name(s->model));
    return rc;
  }
  T->nw = T->mapi->n_weights(T->model);
  T->nopt = T->oapi->state_floats(s->optimizer_values, T->nw);
  T->ws_floats = T->mapi->workspace_floats(T->model, T->chunk);
  T->k = select_kernels();
  size_t nt_ = (size_t)T->nt, C = T->chunk, kk = T->n_classes * T->n_classes;
  T->xs = pad_floats(C * nf);
  T->ys = pad_floats(C);
  T->os = pad_floats(C * T->width);
  T->wss = pad_floats(T->ws_floats);
  T->conf_stride = (kk + PAD_U64 - 1) / PAD_U64 * PAD_U64;
  T->gs = pad_floats(T->nw);
  T->xbuf = malloc(nt_ * T->xs * sizeof(float) + 1);
  T->ybuf = malloc(nt_ * T->ys * sizeof(float) + 1);
  T->obuf = malloc(nt_ * T->os * sizeof(float) + 1);
  T->dbuf = malloc(nt_ * T->os * sizeof(float) + 1);
  T->ws = malloc(nt_ * T->wss * sizeof(float) + 1);
  T->conf = calloc(nt_ * T->conf_stride + 1, sizeof *T->conf);
  T->claimed = T->nt > 1 && T->max_chunks * T->nw <= COMBINE_SERIAL_FLOATS;
  T->grads = malloc(T->max_chunks * T->gs * sizeof(float) + 1);
  T->csums = calloc(T->max_chunks, sizeof *T->csums);
  T->grad = malloc(T->nw * sizeof(float) + 1);
  if (!T->xbuf || !T->ybuf || !T->obuf || !T->dbuf || !T->ws || !T->conf ||
      !T->grads || !T->csums || !T->grad)
    return keel_fail(err, KEEL_ENOMEM, "train: out of memory for %zu chunk "
                     "gradients of %zu weights", T->max_chunks, T->nw);
  return KEEL_OK;
}

/* What one epoch of minibatches needs besides the trainer. */
typedef struct epoch_run {
  const keel_train_data *d;
  const size_t *perm;
  float *w, *opt;
  uint64_t epoch;
  uint64_t *step;
  keel_metric_sums *esum;
  double *lr_scale;
  keel_progress *prog;
  keel_error *err;
} epoch_run;

/* The serial part of a batch, on one thread: loss sums tree, divergence
 * check, learning-rate factor, optimizer step, finiteness of the weights.
 * Returns 0 or KEEL_EDIVERGED. */
static int batch_finish(trainer *T, epoch_run *E, size_t b, size_t steps,
                        size_t n_chunks, size_t first, size_t rows)
{
  keel_metric_sums_tree(T->csums, n_chunks);
  keel_metric_sums bsum = T->csums[0];
  if (!isfinite(bsum.loss))
    return keel_fail(E->err, KEEL_EDIVERGED,
                     "training diverged at epoch %llu, step %llu (batch "
                     "%zu of %zu): the loss became %s; try a smaller "
                     "learning rate (optimizer.lr)",
                     (unsigned long long)E->epoch + 1,
                     (unsigned long long)*E->step + 1, b + 1, steps,
                     isnan(bsum.loss) ? "NaN" : "infinite");
  E->esum->loss += bsum.loss;
  E->esum->sq_err += bsum.sq_err;
  E->esum->abs_err += bsum.abs_err;
  const keel_train_setup *s = T->s;
  *E->lr_scale = lr_scale_at(s->train_values, *E->step, E->epoch, steps);
  ++*E->step;
  T->oapi->step(s->optimizer_values, E->w, T->grad, E->opt, T->nw, *E->step,
                *E->lr_scale);
  if (!T->k->all_finite(E->w, T->nw))
    return keel_fail(E->err, KEEL_EDIVERGED,
                     "training diverged at epoch %llu, step %llu (batch "
                     "%zu of %zu): a weight became NaN or infinite after "
                     "the optimizer step; try a smaller learning rate "
                     "(optimizer.lr)", (unsigned long long)E->epoch + 1,
                     (unsigned long long)*E->step, b + 1, steps);
  keel_progress_batch(E->prog, E->epoch, b,
                      E->esum->loss / (double)(first + rows));
  return KEEL_OK;
}

/* The fixed-order combination of n_chunks chunk gradients into T->grad,
 * all weights on the calling thread, block after block. */
static void combine_serial(const trainer *T, size_t n_chunks, size_t rows)
{
  for (size_t lo = 0; lo < T->nw; lo += COMBINE_BLOCK)
    T->k->combine(T->grads, T->gs, n_chunks, lo,
                  lo + COMBINE_BLOCK < T->nw ? lo + COMBINE_BLOCK : T->nw,
                  T->grad, (float)rows);
}

/* Spin briefly, then give the CPU away: on a machine whose cores are
 * busy with other work a waiting thread must not hold one. */
static void wait_a_little(unsigned *spins)
{
  if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    sched_yield();
  }
}

/* The claimed epoch (small models, several threads): no barrier per
 * batch. The chunks of the epoch are numbered b * max_chunks + c; a
 * thread claims the next one (atomic counter) once the weights for its
 * batch are published, computes it into chunk c's buffers and counts it
 * done; the thread that completes a batch's last chunk combines the
 * chunk gradients in the fixed tree order, steps, and publishes the
 * batch. Which thread computes a chunk varies from run to run, what it
 * computes does not, so the bits are those of every other schedule. A
 * thread held up elsewhere (another process on its core) delays a batch
 * only while it holds an unfinished chunk, not at every barrier. */
static int train_epoch_claimed(trainer *T, epoch_run *E)
{
  size_t n = E->d->n_rows, B = T->batch, C = T->chunk, M = T->max_chunks;
  size_t steps = (n + B - 1) / B;
  size_t last_rows = n - (steps - 1) * B;
  size_t last_nc = (last_rows + C - 1) / C;
  size_t total = (steps - 1) * M + last_nc;
  atomic_size_t next, done, published;
  atomic_int stop;
  atomic_init(&next, 0);
  atomic_init(&done, 0);
  atomic_init(&published, 0);
  atomic_init(&stop, 0);
  int rc = KEEL_OK;
#pragma omp parallel num_threads(T->nt)
  {
    int t = omp_get_thread_num();
    unsigned spins = 0;
    for (;;) {
      if (atomic_load(&stop))
        break;
      size_t g = atomic_load(&next);
      if (g >= total)
        break;
      size_t b = g / M;
      if (atomic_load(&published) < b) { /* batch b - 1 not stepped */
        wait_a_little(&spins);
        continue;
      }
      if (!atomic_compare_exchange_weak(&next, &g, g + 1))
        continue;
      spins = 0;
      size_t c = g - b * M, first = b * B;
      size_t rows = n - first < B ? n - first : B;
      size_t len = rows - c * C < C ? rows - c * C : C;
      run_chunk(T, E->w, E->d, E->perm, first + c * C, len, t,
                T->grads + c * T->gs, &T->csums[c]);
      size_t nc = b + 1 < steps ? M : last_nc;
      if (atomic_fetch_add(&done, 1) + 1 == b * M + nc) {
        combine_serial(T, nc, rows);
        int r = batch_finish(T, E, b, steps, nc, first, rows);
        if (r != KEEL_OK) { /* batch b + 1 is never published */
          rc = r;
          atomic_store(&stop, 1);
        } else {
          atomic_store(&published, b + 1);
        }
      }
    }
  }
  return rc;
}

/* All minibatches of one epoch in one parallel region: per batch, the
 * chunks (omp for), the fixed-order combination (omp for over blocks of
 * weights, or on the stepping thread when it is small), then the serial
 * step (omp single). Two or three barriers a batch, no fork/join. */
static int train_epoch(trainer *T, epoch_run *E)
{
  if (T->claimed)
    return train_epoch_claimed(T, E);
  size_t n = E->d->n_rows, B = T->batch, C = T->chunk, nw = T->nw;
  size_t steps = (n + B - 1) / B;
  int rc = KEEL_OK;
#pragma omp parallel num_threads(T->nt)
  {
    int t = omp_get_thread_num();
    for (size_t b = 0; b < steps; b++) {
      size_t first = b * B, rows = n - first < B ? n - first : B;
      size_t n_chunks = (rows + C - 1) / C;
      int serial = n_chunks * nw <= COMBINE_SERIAL_FLOATS || T->nt == 1;
#pragma omp for schedule(static)
      for (size_t c = 0; c < n_chunks; c++) {
        size_t len = rows - c * C < C ? rows - c * C : C;
        run_chunk(T, E->w, E->d, E->perm, first + c * C, len, t,
                  T->grads + c * T->gs, &T->csums[c]);
      }
      if (!serial) {
        size_t n_blocks = (nw + COMBINE_BLOCK - 1) / COMBINE_BLOCK;
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_blocks; k++) {
          size_t lo = k * COMBINE_BLOCK;
          size_t hi = lo + COMBINE_BLOCK < nw ? lo + COMBINE_BLOCK : nw;
          T->k->combine(T->grads, T->gs, n_chunks, lo, hi, T->grad,
                        (float)rows);
        }
      }
#pragma omp single
      {
        if (serial)
          combine_serial(T, n_chunks, rows);
        rc = batch_finish(T, E, b, steps, n_chunks, first, rows);
      }
      /* rc is shared and read after the single's barrier: every thread
       * leaves at the same batch */
      if (rc != KEEL_OK)
        break;
    }
  }
  return rc;
}

static int copy_tensors(trainer *T, keel_train_result *out, keel_error *err)
{
  size_t n = 0;
  keel_tensor_info info;
  while (T->mapi->tensor(T->model, n, &info) == KEEL_OK)
    n++;
  out->tensors = calloc(n + 1, sizeof *out->tensors);
  if (!out->tensors)
    return keel_fail(err, KEEL_ENOMEM, "train: out of memory");
  for (size_t i = 0; i < n; i++) {
    T->mapi->tensor(T->model, i, &info);
    char *name = strdup(info.name ? info.name : "?");
    if (!name)
      return keel_fail(err, KEEL_ENOMEM, "train: out of memory");
    out->tensors[i] = info;
    out->tensors[i].name = name;
    out->n_tensors = i + 1;
    if (info.offset > T->nw)
      return keel_fail(err, KEEL_EPLUGIN, "[model] %s: tensor %s starts at "
                       "%zu, past the %zu weights", plugin_name(T->s->model),
                       name, info.offset, T->nw);
  }
  return KEEL_OK;
}

/* Restores the state of a checkpoint into the run. */
static int resume_from(const keel_train_setup *s, const trainer *T,
                       keel_checkpoint *ck, keel_train_result *out,
                       strbuf *lines, keel_error *err)
{
  const char *path = s->resume_path;
  int rc = keel_checkpoint_read(path, ck, err);
  if (rc != KEEL_OK)
    return rc;
  const char *want = s->fingerprint ? s->fingerprint : "";
  if (strcmp(ck->fingerprint, want) != 0)
    return keel_fail(err, KEEL_EINVAL,
                     "checkpoint %s belongs to another run: its fingerprint "
                     "is '%.24s', this run's is '%.24s' (resume only with the "
                     "manifest, overrides and data that wrote it)",
                     path, ck->fingerprint, want);
  if (ck->n_weights != T->nw || ck->n_opt_state != T->nopt)
    return keel_fail(err, KEEL_EINVAL,
                     "checkpoint %s holds %zu weights and %zu optimizer "
                     "floats, this model and optimizer need %zu and %zu",
                     path, ck->n_weights, ck->n_opt_state, T->nw, T->nopt);
  uint64_t epochs = (uint64_t)s->train_values[KEEL_TRAIN_EPOCHS].i;
  if (ck->epoch > epochs)
    return keel_fail(err, KEEL_EINVAL,
                     "checkpoint %s is at epoch %llu, past the run's %llu "
                     "epochs", path, (unsigned long long)ck->epoch,
                     (unsigned long long)epochs);
  memcpy(out->weights, ck->weights, T->nw * sizeof(float));
  if (T->nopt)
    memcpy(out->opt_state, ck->opt_state, T->nopt * sizeof(float));
  sb_printf(lines, "%s", ck->metrics_jsonl);
  return KEEL_OK;
}

int keel_train_run(const keel_train_setup *s, const keel_train_data *train,
                   const keel_train_data *valid, keel_train_result *out,
                   keel_error *err)
{
  memset(out, 0, sizeof *out);
  keel_metrics_clear(&out->train);
  keel_metrics_clear(&out->valid);
  int rc = check_setup(s, train, valid, err);
  if (rc != KEEL_OK)
    return rc;
  if (valid && valid->n_rows == 0)
    valid = NULL;
  const keel_value *tv = s->train_values;
  size_t n = train->n_rows, B = (size_t)tv[KEEL_TRAIN_BATCH_SIZE].i;
  uint64_t epochs = (uint64_t)tv[KEEL_TRAIN_EPOCHS].i;
  uint64_t seed = (uint64_t)tv[KEEL_TRAIN_SEED].i;
  int es = (int)tv[KEEL_TRAIN_EARLY_STOP_METRIC].i;
  int64_t patience = tv[KEEL_TRAIN_PATIENCE].i;
  int64_t ck_every = tv[KEEL_TRAIN_CHECKPOINT_EVERY].i;
  size_t steps_per_epoch = (n + B - 1) / B;
  long lr_idx = optimizer_lr_index(s->optimizer);

  trainer T;
  keel_checkpoint ck = {0};
  strbuf lines = {0};
  size_t *perm = NULL;
  size_t *draws = NULL;
  uint64_t *conf = NULL; /* the epoch's class counts, K * K */
  char *ck_path = NULL;
  rc = trainer_init(&T, s, train->n_features, B, err);
  if (rc != KEEL_OK)
    goto done;
  out->threads = T.nt;
  out->n_outputs = T.width;
  out->n_weights = T.nw;
  out->n_opt_state = T.nopt;
  out->weights = malloc(T.nw * sizeof(float) + 1);
  out->opt_state = calloc(T.nopt + 1, sizeof(float));
  perm = malloc(n * sizeof *perm);
  draws = calloc(n, sizeof *draws);
  if (!out->weights || !out->opt_state || !perm || !draws) {
    rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
    goto done;
  }
  rc = copy_tensors(&T, out, err);
  if (rc != KEEL_OK)
    goto done;
  if (s->checkpoint_dir && ck_every > 0) {
    size_t len = strlen(s->checkpoint_dir) + sizeof KEEL_CHECKPOINT_FILE + 2;
    ck_path = malloc(len);
    if (!ck_path) {
      rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
      goto done;
    }
    snprintf(ck_path, len, "%s/%s", s->checkpoint_dir, KEEL_CHECKPOINT_FILE);
  }

  /* Initial state, or the checkpoint's. */
  uint64_t epoch0 = 0, step = 0, best_epoch = 0, bad_epochs = 0;
  double best = NAN;
  T.mapi->init(T.model, out->weights, seed);
  if (s->resume_path) {
    rc = resume_from(s, &T, &ck, out, &lines, err);
    if (rc != KEEL_OK)
      goto done;
    epoch0 = ck.epoch;
    step = ck.step;
    best_epoch = ck.best_epoch;
    bad_epochs = ck.bad_epochs;
    best = ck.best_value;
    out->epochs_run = epoch0;
    out->steps = step;
    out->best_epoch = best_epoch;
  }
  double ss_train = 0, ss_valid = 0;
  if (s->task == KEEL_TASK_REGRESSION) {
    ss_train = keel_metrics_ss_tot(train->y, n);
    if (valid)
      ss_valid = keel_metrics_ss_tot(valid->y, valid->n_rows);
  }
  if (es != ES_NONE && patience > 0 && bad_epochs >= (uint64_t)patience) {
    out->stopped_early = 1; /* the checkpoint was taken at the stop */
    epoch0 = epochs;
  }

  keel_progress prog;
  keel_progress_init(&prog, s->progress, epoch0, epochs,
                     steps_per_epoch, n);
  conf = calloc(T.n_classes * T.n_classes + 1, sizeof *conf);
  if (!conf) {
    rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
    goto done;
  }
  for (uint64_t e = epoch0; e < epochs; e++) {
    keel_progress_epoch_begin(&prog, e);
    shuffle_rows(perm, draws, n, seed, e, T.nt);
    memset(T.conf, 0, (size_t)T.nt * T.conf_stride * sizeof *T.conf);
    keel_metric_sums esum = {0, 0, 0};
    double lr_scale = 1.0;
    epoch_run E = {.d = train, .perm = perm, .w = out->weights,
                   .opt = out->opt_state, .epoch = e, .step = &step,
                   .esum = &esum, .lr_scale = &lr_scale, .prog = &prog,
                   .err = err};
    rc = train_epoch(&T, &E);
    out->steps = step;
    if (rc != KEEL_OK)
      goto done;
    confusion_collect(&T, conf);
    keel_metrics_finish(&out->train, T.task, T.n_classes, &esum, conf, n,
                        ss_train);
    rc = evaluate(&T, out->weights, valid, ss_valid, &out->valid);
    if (rc != KEEL_OK) {
      keel_fail(err, rc, "train: out of memory evaluating");
      goto done;
    }
    out->epochs_run = e + 1;

    sb_printf(&lines, "{\"epoch\":%llu,\"step\":%llu",
              (unsigned long long)e + 1, (unsigned long long)step);
    sb_num(&lines, "lr_scale", lr_scale);
    if (lr_idx >= 0)
      sb_num(&lines, "lr", s->optimizer_values[lr_idx].f * lr_scale);
    metrics_json(&lines, "train", T.task, &out->train);
    metrics_json(&lines, "valid", T.task, &out->valid);
    sb_printf(&lines, "}\n");
    keel_progress_epoch_end(&prog, e, T.task, &out->train,
                            valid ? &out->valid : NULL);

    int stop = 0;
    if (es != ES_NONE) {
      int lower;
      double v = es_value(es, &out->valid, &lower);
      int better = isfinite(v) && (best_epoch == 0 || (lower ? v < best
                                                             : v > best));
      if (better) {
        best = v;
        best_epoch = e + 1;
        bad_epochs = 0;
      } else {
        bad_epochs++;
      }
      out->best_epoch = best_epoch;
      stop = patience > 0 && bad_epochs >= (uint64_t)patience;
    }
    if (lines.failed) {
      rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
      goto done;
    }
    if (ck_path && (e + 1) % (uint64_t)ck_every == 0) {
      keel_checkpoint w = {
          .fingerprint = (char *)(s->fingerprint ? s->fingerprint : ""),
          .epoch = e + 1, .step = step, .best_epoch = best_epoch,
          .bad_epochs = bad_epochs, .best_value = best,
          .weights = out->weights, .n_weights = T.nw,
          .opt_state = out->opt_state, .n_opt_state = T.nopt,
          .metrics_jsonl = lines.p};
      rc = keel_checkpoint_write(ck_path, &w, err);
      if (rc != KEEL_OK)
        goto done;
    }
    if (stop) {
      out->stopped_early = 1;
      break;
    }
    if (s->stop_after_epoch > 0 && e + 1 >= s->stop_after_epoch &&
        e + 1 < epochs) {
      out->interrupted = 1;
      break;
    }
  }
  if (epoch0 >= epochs && valid) /* nothing left to run after a resume */
    rc = evaluate(&T, out->weights, valid, ss_valid, &out->valid);
done:
  if (lines.failed && rc == KEEL_OK)
    rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
  out->metrics_jsonl = lines.p ? lines.p : strdup("");
  if (rc != KEEL_OK && err)
    err->code = rc;
  keel_checkpoint_free(&ck);
  free(conf);
  free(ck_path);
  free(perm);
  free(draws);
  trainer_free(&T);
  return rc;
}

int keel_train_evaluate(const keel_train_setup *s, const float *weights,
                        size_t n_weights, const keel_train_data *data,
                        keel_metrics *out, keel_error *err)
{
  keel_metrics_clear(out);
  if (!data || data->n_rows == 0)
    return KEEL_OK;
  if (!s || !s->model || !s->loss || !s->optimizer || !s->train_values)
    return keel_fail(err, KEEL_EINVAL, "evaluate: incomplete setup");
  int rc = check_labels(s, data, "evaluated", err);
  if (rc != KEEL_OK)
    return rc;
  trainer T;
  rc = trainer_init(&T, s, data->n_features, 1, err);
  if (rc == KEEL_OK && T.nw != n_weights)
    rc = keel_fail(err, KEEL_EINVAL, "evaluate: %zu weights given, the "
                   "model has %zu", n_weights, T.nw);
  if (rc == KEEL_OK) {
    double ss = s->task == KEEL_TASK_REGRESSION
                    ? keel_metrics_ss_tot(data->y, data->n_rows)
                    : 0.0;
    rc = evaluate(&T, weights, data, ss, out);
    if (rc != KEEL_OK)
      keel_fail(err, rc, "evaluate: out of memory");
  }
  trainer_free(&T);
  return rc;
}

void keel_train_result_free(keel_train_result *r)
{
  if (!r)
    return;
  free(r->weights);
  free(r->opt_state);
  for (size_t i = 0; i < r->n_tensors; i++)
    free((char *)r->tensors[i].name);
  free(r->tensors);
  free(r->metrics_jsonl);
  memset(r, 0, sizeof *r);
}
