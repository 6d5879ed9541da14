/* The training loop (keel_train_run): epoch after epoch, the trainer's
 * minibatches, then the epoch's metrics line, early stopping and the
 * checkpoint; resume from a checkpoint; evaluation of a split. The
 * engine is trainer.c, the rules checked first train_check.c. */
#include "train/train.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/status.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/train_internal.h"

/* Early stopping's state across epochs (and in checkpoints). */
typedef struct early_stop {
  int metric;          /* KEEL__ES_* */
  int64_t patience;    /* epochs without a better value; 0: never stop */
  uint64_t best_epoch; /* 1-based epoch of the best value, 0: none yet */
  uint64_t bad_epochs; /* epochs since the best one */
  double best;
} early_stop;

/* What the loop keeps across epochs besides the result. */
typedef struct train_loop {
  const keel_train_setup *s;
  const keel_train_data *train, *valid; /* valid NULL when empty */
  keel__trainer T;
  size_t *perm, *draws; /* the epoch's row order, and scratch for it */
  uint64_t *conf;       /* the epoch's class counts, K * K */
  char *ck_path;        /* where checkpoints go, or NULL */
  keel_buf lines;       /* metrics.jsonl so far */
  early_stop es;
  uint64_t epoch0, epochs, seed, step;
  size_t steps_per_epoch;
  long lr_idx; /* the optimizer's "lr" parameter, or -1 */
  double ss_train, ss_valid;
  keel_progress prog;
  /* A checkpoint taken inside epoch epoch0: its batches done, and the
   * epoch's training sums and class counts (K * K) so far. */
  uint64_t first_batch;
  keel_metric_sums first_sums;
  uint64_t *first_conf;
} train_loop;

/* ---- the metrics line -----------------------------------------------------
 */

/* ,"key":value, or null when not finite. "%.17g": these bytes are
 * metrics.jsonl, which the result digest covers. */
static void json_num(keel_buf *b, const char *key, double v)
{
  if (isfinite(v))
    keel_buf_printf(b, ",\"%s\":%.17g", key, v);
  else
    keel_buf_printf(b, ",\"%s\":null", key);
}

static void metrics_json(keel_buf *b, const char *prefix, keel_task task,
                         const keel_metrics *m)
{
  char key[32];
  snprintf(key, sizeof key, "%s_loss", prefix);
  json_num(b, key, m->loss);
  if (task == KEEL_TASK_CLASSIFICATION) {
    snprintf(key, sizeof key, "%s_accuracy", prefix);
    json_num(b, key, m->accuracy);
    snprintf(key, sizeof key, "%s_macro_f1", prefix);
    json_num(b, key, m->macro_f1);
  } else {
    snprintf(key, sizeof key, "%s_rmse", prefix);
    json_num(b, key, m->rmse);
    snprintf(key, sizeof key, "%s_mae", prefix);
    json_num(b, key, m->mae);
    snprintf(key, sizeof key, "%s_r2", prefix);
    json_num(b, key, m->r2);
  }
}

/* Appends epoch e's line of metrics.jsonl (its shape: train.h). */
static void metrics_line(train_loop *L, uint64_t e, double lr_scale,
                         const keel_train_result *out)
{
  keel_buf *b = &L->lines;
  keel_buf_printf(b, "{\"epoch\":%llu,\"step\":%llu", (unsigned long long)e + 1,
                  (unsigned long long)L->step);
  json_num(b, "lr_scale", lr_scale);
  if (L->lr_idx >= 0)
    json_num(b, "lr", L->s->optimizer_values[L->lr_idx].f * lr_scale);
  metrics_json(b, "train", L->T.task, &out->train);
  metrics_json(b, "valid", L->T.task, &out->valid);
  keel_buf_printf(b, "}\n");
}

/* Index of the optimizer's "lr" parameter, or -1. */
static long optimizer_lr_index(const keel_loaded_plugin *opt)
{
  for (size_t i = 0; i < opt->desc.n_params; i++)
    if (opt->desc.params[i].name && strcmp(opt->desc.params[i].name, "lr") == 0)
      return (long)i;
  return -1;
}

/* ---- early stopping -------------------------------------------------------
 */

/* The early-stopping value of m, and whether lower is better. */
static double es_value(int metric, const keel_metrics *m, int *lower)
{
  *lower = metric == KEEL__ES_LOSS || metric == KEEL__ES_RMSE ||
           metric == KEEL__ES_MAE;
  switch (metric) {
  case KEEL__ES_LOSS: return m->loss;
  case KEEL__ES_ACCURACY: return m->accuracy;
  case KEEL__ES_MACRO_F1: return m->macro_f1;
  case KEEL__ES_RMSE: return m->rmse;
  case KEEL__ES_MAE: return m->mae;
  case KEEL__ES_R2: return m->r2;
  default: return NAN;
  }
}

/* Takes epoch e's validation metrics into es; 1 when the run should stop
 * (patience epochs without a better value). */
static int early_stop_update(early_stop *es, const keel_metrics *valid,
                             uint64_t e)
{
  int lower;
  double v = es_value(es->metric, valid, &lower);
  int better = isfinite(v) &&
               (es->best_epoch == 0 || (lower ? v < es->best : v > es->best));
  if (better) {
    es->best = v;
    es->best_epoch = e + 1;
    es->bad_epochs = 0;
  } else {
    es->bad_epochs++;
  }
  return es->patience > 0 && es->bad_epochs >= (uint64_t)es->patience;
}

/* ---- checkpoints ----------------------------------------------------------
 */

/* The run's state as a checkpoint: epochs_done epochs finished, then
 * batch batches of the next one (0: none) with its sums and class counts
 * so far (conf NULL at an epoch's end). Borrows from L and out. */
static keel_checkpoint checkpoint_of(const train_loop *L,
                                     const keel_train_result *out,
                                     uint64_t epochs_done, uint64_t batch,
                                     const keel_metric_sums *sums,
                                     uint64_t *conf)
{
  const keel_train_setup *s = L->s;
  keel_checkpoint w = {
      .fingerprint = (char *)(s->fingerprint ? s->fingerprint : ""),
      .epoch = epochs_done,
      .step = L->step,
      .best_epoch = L->es.best_epoch,
      .bad_epochs = L->es.bad_epochs,
      .best_value = L->es.best,
      .weights = out->weights,
      .n_weights = L->T.nw,
      .opt_state = out->opt_state,
      .n_opt_state = L->T.nopt,
      .metrics_jsonl = (char *)(L->lines.data ? (char *)L->lines.data : ""),
      .batch = batch};
  if (batch) {
    w.loss_sum = sums->loss;
    w.sq_err_sum = sums->sq_err;
    w.abs_err_sum = sums->abs_err;
    w.confusion = conf;
    w.n_confusion = conf ? L->T.n_classes * L->T.n_classes : 0;
  }
  return w;
}

/* Writes the state after epoch e (0-based) to L->ck_path, atomically. */
static int checkpoint_save(const train_loop *L, const keel_train_result *out,
                           uint64_t e, keel_error *err)
{
  keel_checkpoint w = checkpoint_of(L, out, e + 1, 0, NULL, NULL);
  return keel_checkpoint_write(L->ck_path, &w, err);
}

/* Ends the run where it stands: interrupted, with the checkpoint that
 * continues it in out->checkpoint (see checkpoint_of). */
static int stop_here(train_loop *L, keel_train_result *out,
                     uint64_t epochs_done, uint64_t batch,
                     const keel_metric_sums *sums, uint64_t *conf,
                     keel_error *err)
{
  const keel_train_setup *s = L->s;
  out->interrupted = 1;
  out->interrupt_signal = s->interrupt ? (int)*s->interrupt : 0;
  out->stop_batch = batch;
  keel_checkpoint w = checkpoint_of(L, out, epochs_done, batch, sums, conf);
  return keel_checkpoint_encode(&w, &out->checkpoint, &out->checkpoint_size,
                                err);
}

/* Restores the checkpoint at s->resume_path into the run: weights,
 * optimizer state, metric lines, step, early stopping. */
static int resume_from(train_loop *L, keel_train_result *out, keel_error *err)
{
  const keel_train_setup *s = L->s;
  const char *path = s->resume_path;
  keel_checkpoint ck = {0};
  int rc = s->resume_data ? keel_checkpoint_parse(
                                s->resume_data, s->resume_size, path, &ck, err)
                          : keel_checkpoint_read(path, &ck, err);
  if (rc != KEEL_OK)
    return rc;
  size_t kk = L->T.n_classes * L->T.n_classes;
  const char *want = s->fingerprint ? s->fingerprint : "";
  if (strcmp(ck.fingerprint, want) != 0)
    rc = keel_fail(err, KEEL_EINVAL,
                   "checkpoint %s belongs to another run: its fingerprint "
                   "is '%.24s', this run's is '%.24s' (resume only with the "
                   "manifest, overrides and data that wrote it)",
                   path, ck.fingerprint, want);
  else if (ck.n_weights != L->T.nw || ck.n_opt_state != L->T.nopt)
    rc = keel_fail(err, KEEL_EINVAL,
                   "checkpoint %s holds %zu weights and %zu optimizer "
                   "floats, this model and optimizer need %zu and %zu",
                   path, ck.n_weights, ck.n_opt_state, L->T.nw, L->T.nopt);
  else if (ck.epoch > L->epochs)
    rc = keel_fail(err, KEEL_EINVAL,
                   "checkpoint %s is at epoch %llu, past the run's %llu "
                   "epochs",
                   path, (unsigned long long)ck.epoch,
                   (unsigned long long)L->epochs);
  else if (ck.batch && (ck.epoch >= L->epochs ||
                        ck.batch >= L->steps_per_epoch || ck.n_confusion != kk))
    rc = keel_fail(err, KEEL_EINVAL,
                   "checkpoint %s stopped after batch %llu of epoch %llu "
                   "with %zu class counts; this run has %llu epochs of %zu "
                   "batches and %zu class counts",
                   path, (unsigned long long)ck.batch,
                   (unsigned long long)ck.epoch + 1, ck.n_confusion,
                   (unsigned long long)L->epochs, L->steps_per_epoch, kk);
  if (rc == KEEL_OK && ck.batch) {
    L->first_batch = ck.batch;
    L->first_sums =
        (keel_metric_sums){ck.loss_sum, ck.sq_err_sum, ck.abs_err_sum};
    if (kk)
      memcpy(L->first_conf, ck.confusion, kk * sizeof *L->first_conf);
  }
  if (rc == KEEL_OK) {
    memcpy(out->weights, ck.weights, L->T.nw * sizeof(float));
    if (L->T.nopt)
      memcpy(out->opt_state, ck.opt_state, L->T.nopt * sizeof(float));
    keel_buf_append(&L->lines, ck.metrics_jsonl, strlen(ck.metrics_jsonl));
    L->epoch0 = ck.epoch;
    L->step = ck.step;
    L->es.best_epoch = ck.best_epoch;
    L->es.bad_epochs = ck.bad_epochs;
    L->es.best = ck.best_value;
    out->epochs_run = L->epoch0;
    out->steps = L->step;
    out->best_epoch = L->es.best_epoch;
  }
  keel_checkpoint_free(&ck);
  return rc;
}

/* ---- the loop -------------------------------------------------------------
 */

static int copy_tensors(keel__trainer *T, keel_train_result *out,
                        keel_error *err)
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
      return keel_fail(err, KEEL_EPLUGIN,
                       "[model] %s: tensor %s starts at "
                       "%zu, past the %zu weights",
                       keel__plugin_name(T->s->model), name, info.offset,
                       T->nw);
  }
  return KEEL_OK;
}

/* The trainer, the result's arrays and the loop's own buffers. */
static int loop_alloc(train_loop *L, keel_train_result *out, keel_error *err)
{
  const keel_train_setup *s = L->s;
  size_t n = L->train->n_rows;
  size_t B = (size_t)s->train_values[KEEL_TRAIN_BATCH_SIZE].i;
  int rc = keel__trainer_init(&L->T, s, L->train->n_features, B, err);
  if (rc != KEEL_OK)
    return rc;
  keel__trainer *T = &L->T;
  out->threads = T->nt;
  out->n_outputs = T->width;
  out->n_weights = T->nw;
  out->n_opt_state = T->nopt;
  out->weights = malloc(T->nw * sizeof(float) + 1);
  out->opt_state = calloc(T->nopt + 1, sizeof(float));
  L->perm = malloc(n * sizeof *L->perm);
  L->draws = calloc(n, sizeof *L->draws);
  L->conf = calloc(T->n_classes * T->n_classes + 1, sizeof *L->conf);
  L->first_conf = calloc(T->n_classes * T->n_classes + 1, sizeof *L->conf);
  out->batches = L->steps_per_epoch;
  if (!out->weights || !out->opt_state || !L->perm || !L->draws || !L->conf ||
      !L->first_conf)
    return keel_fail(err, KEEL_ENOMEM, "train: out of memory");
  rc = copy_tensors(T, out, err);
  if (rc != KEEL_OK)
    return rc;
  if (s->checkpoint_dir && s->train_values[KEEL_TRAIN_CHECKPOINT_EVERY].i > 0) {
    size_t len = strlen(s->checkpoint_dir) + sizeof KEEL_CHECKPOINT_FILE + 2;
    L->ck_path = malloc(len);
    if (!L->ck_path)
      return keel_fail(err, KEEL_ENOMEM, "train: out of memory");
    snprintf(L->ck_path, len, "%s/%s", s->checkpoint_dir, KEEL_CHECKPOINT_FILE);
  }
  return KEEL_OK;
}

/* The initial state, or the checkpoint's, and the progress display. */
static int loop_start(train_loop *L, keel_train_result *out, keel_error *err)
{
  const keel_train_setup *s = L->s;
  L->T.mapi->init(L->T.model, out->weights, L->seed);
  if (s->resume_path) {
    int rc = resume_from(L, out, err);
    if (rc != KEEL_OK)
      return rc;
  }
  if (s->task == KEEL_TASK_REGRESSION) {
    L->ss_train = keel_metrics_ss_tot(L->train->y, L->train->n_rows);
    if (L->valid)
      L->ss_valid = keel_metrics_ss_tot(L->valid->y, L->valid->n_rows);
  }
  if (L->es.metric != KEEL__ES_NONE && L->es.patience > 0 &&
      L->es.bad_epochs >= (uint64_t)L->es.patience) {
    out->stopped_early = 1; /* the checkpoint was taken at the stop */
    L->epoch0 = L->epochs;
  }
  keel_progress_init(&L->prog, s->progress, L->epoch0, L->epochs,
                     L->steps_per_epoch, L->train->n_rows);
  return KEEL_OK;
}

/* Epoch e: its minibatches, its metrics and their line, early stopping,
 * its checkpoint. *stop: the run ends after it (early stopping,
 * s->stop_after_epoch, or an interrupt, which may also end it inside
 * the epoch, after a batch). */
static int run_epoch(train_loop *L, keel_train_result *out, uint64_t e,
                     int *stop, keel_error *err)
{
  keel__trainer *T = &L->T;
  size_t n = L->train->n_rows;
  keel_progress_epoch_begin(&L->prog, e);
  keel__train_shuffle(L->perm, L->draws, n, L->seed, e, T->nt);
  memset(T->conf, 0, (size_t)T->nt * T->conf_stride * sizeof *T->conf);
  keel_metric_sums esum = {0, 0, 0};
  size_t first_batch = 0;
  if (e == L->epoch0 && L->first_batch) { /* resumed inside this epoch */
    first_batch = (size_t)L->first_batch;
    esum = L->first_sums;
    memcpy(T->conf, L->first_conf,
           T->n_classes * T->n_classes * sizeof *T->conf);
  }
  double lr_scale = 1.0;
  keel__epoch_run E = {.d = L->train,
                       .perm = L->perm,
                       .w = out->weights,
                       .opt = out->opt_state,
                       .epoch = e,
                       .step = &L->step,
                       .esum = &esum,
                       .lr_scale = &lr_scale,
                       .prog = &L->prog,
                       .err = err,
                       .first_batch = first_batch};
  int rc = keel__trainer_epoch(T, &E);
  out->steps = L->step;
  if (rc != KEEL_OK)
    return rc;
  keel__trainer_confusion_collect(T, L->conf);
  if (E.halted_at) { /* interrupted inside the epoch */
    *stop = 1;
    return stop_here(L, out, e, E.halted_at, &esum,
                     T->n_classes ? L->conf : NULL, err);
  }
  keel_metrics_finish(&out->train, T->task, T->n_classes, &esum, L->conf, n,
                      L->ss_train);
  char at[48];
  snprintf(at, sizeof at, "epoch %llu, ", (unsigned long long)e + 1);
  rc = keel__trainer_evaluate(T, out->weights, L->valid, L->ss_valid, at,
                              &out->valid, err);
  if (rc != KEEL_OK)
    return rc;
  out->epochs_run = e + 1;
  metrics_line(L, e, lr_scale, out);
  keel_progress_epoch_end(&L->prog, e, T->task, &out->train,
                          L->valid ? &out->valid : NULL);
  int early = 0;
  if (L->es.metric != KEEL__ES_NONE) {
    early = early_stop_update(&L->es, &out->valid, e);
    out->best_epoch = L->es.best_epoch;
  }
  if (L->lines.failed)
    return keel_fail(err, KEEL_ENOMEM, "train: out of memory");
  int64_t every = L->s->train_values[KEEL_TRAIN_CHECKPOINT_EVERY].i;
  if (L->ck_path && (e + 1) % (uint64_t)every == 0) {
    rc = checkpoint_save(L, out, e, err);
    if (rc != KEEL_OK)
      return rc;
  }
  if (early) {
    out->stopped_early = 1;
    *stop = 1;
  } else if (e + 1 < L->epochs &&
             ((L->s->stop_after_epoch > 0 && e + 1 >= L->s->stop_after_epoch) ||
              (L->s->interrupt && *L->s->interrupt))) {
    *stop = 1;
    return stop_here(L, out, e + 1, 0, NULL, NULL, err);
  }
  return KEEL_OK;
}

/* 1 when early stopping has ended the run (patience epochs without a
 * better value), as after early_stop_update returned 1. */
static int early_stop_done(const early_stop *es)
{
  return es->metric != KEEL__ES_NONE && es->patience > 0 &&
         es->bad_epochs >= (uint64_t)es->patience;
}

/* A resume from the checkpoint of the run's last epoch (written before
 * the run sealed, so a kill while sealing leaves it) has no epoch to run:
 * the final training metrics are that epoch's, read back from its
 * metrics.jsonl line (printed with 17 digits: exact), and the validation
 * metrics are recomputed from the weights, as the finished run had them. */
static int finish_resumed(train_loop *L, keel_train_result *out,
                          keel_error *err)
{
  const char *text = L->lines.data ? (const char *)L->lines.data : "";
  size_t n = L->lines.len;
  while (n > 0 && text[n - 1] == '\n')
    n--;
  size_t start = n;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  json_t *line = json_loadb(text + start, n - start, 0, NULL);
  if (!json_is_object(line)) {
    json_decref(line);
    return keel_fail(err, KEEL_EINTEGRITY,
                     "train: the checkpoint's metrics hold no line for its "
                     "last epoch");
  }
  static const struct {
    const char *key;
    size_t offset;
  } fields[] = {
      {"train_loss", offsetof(keel_metrics, loss)},
      {"train_accuracy", offsetof(keel_metrics, accuracy)},
      {"train_macro_f1", offsetof(keel_metrics, macro_f1)},
      {"train_rmse", offsetof(keel_metrics, rmse)},
      {"train_mae", offsetof(keel_metrics, mae)},
      {"train_r2", offsetof(keel_metrics, r2)},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    json_t *v = json_object_get(line, fields[i].key);
    if (v)
      *(double *)((char *)&out->train + fields[i].offset) =
          json_is_number(v) ? json_number_value(v) : NAN;
  }
  out->train.n_rows = L->train->n_rows;
  json_decref(line);
  if (!L->valid)
    return KEEL_OK;
  return keel__trainer_evaluate(&L->T, out->weights, L->valid, L->ss_valid, "",
                                &out->valid, err);
}

int keel_train_run(const keel_train_setup *s, const keel_train_data *train,
                   const keel_train_data *valid, keel_train_result *out,
                   keel_error *err)
{
  memset(out, 0, sizeof *out);
  keel_metrics_clear(&out->train);
  keel_metrics_clear(&out->valid);
  int rc = keel__train_check_setup(s, train, valid, err);
  if (rc != KEEL_OK)
    return rc;
  const keel_value *tv = s->train_values;
  size_t B = (size_t)tv[KEEL_TRAIN_BATCH_SIZE].i;
  train_loop L = {.s = s,
                  .train = train,
                  .valid = valid && valid->n_rows > 0 ? valid : NULL,
                  .lines = KEEL_BUF_INIT,
                  .es = {.metric = (int)tv[KEEL_TRAIN_EARLY_STOP_METRIC].i,
                         .patience = tv[KEEL_TRAIN_PATIENCE].i,
                         .best = NAN},
                  .epochs = (uint64_t)tv[KEEL_TRAIN_EPOCHS].i,
                  .seed = (uint64_t)tv[KEEL_TRAIN_SEED].i,
                  .steps_per_epoch = (train->n_rows + B - 1) / B,
                  .lr_idx = optimizer_lr_index(s->optimizer)};
  rc = loop_alloc(&L, out, err);
  if (rc == KEEL_OK)
    rc = loop_start(&L, out, err);
  if (rc == KEEL_OK && L.first_batch == 0 && early_stop_done(&L.es)) {
    /* the checkpoint of the epoch at which early stopping ended the run
     * (a kill while it sealed): it is finished */
    out->stopped_early = 1;
    L.epochs = L.epoch0;
  }
  for (uint64_t e = L.epoch0; rc == KEEL_OK && e < L.epochs; e++) {
    int stop = 0;
    rc = run_epoch(&L, out, e, &stop, err);
    if (stop)
      break;
  }
  if (rc == KEEL_OK && L.epoch0 >= L.epochs)
    /* nothing left to run after a resume */
    rc = finish_resumed(&L, out, err);
  if (L.lines.failed && rc == KEEL_OK)
    rc = keel_fail(err, KEEL_ENOMEM, "train: out of memory");
  out->metrics_jsonl = keel_buf_take(&L.lines);
  if (!out->metrics_jsonl) /* out of memory: the lines are lost */
    out->metrics_jsonl = strdup("");
  if (rc != KEEL_OK && err)
    err->code = rc;
  free(L.conf);
  free(L.first_conf);
  free(L.ck_path);
  free(L.perm);
  free(L.draws);
  keel__trainer_free(&L.T);
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
  int rc = keel__train_check_labels(s, data, "evaluated", err);
  if (rc != KEEL_OK)
    return rc;
  keel__trainer T;
  rc = keel__trainer_init(&T, s, data->n_features, 1, err);
  if (rc == KEEL_OK && T.nw != n_weights)
    rc = keel_fail(err, KEEL_EINVAL,
                   "evaluate: %zu weights given, the "
                   "model has %zu",
                   n_weights, T.nw);
  if (rc == KEEL_OK) {
    double ss = s->task == KEEL_TASK_REGRESSION
                    ? keel_metrics_ss_tot(data->y, data->n_rows)
                    : 0.0;
    rc = keel__trainer_evaluate(&T, weights, data, ss, "", out, err);
  }
  keel__trainer_free(&T);
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
  free(r->checkpoint);
  memset(r, 0, sizeof *r);
}
