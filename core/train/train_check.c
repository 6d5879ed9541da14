/* The training rules that need no training: plugins of the right kinds,
 * model and loss fit for the task, [train] values and early stopping
 * (keel_train_check, for `keel check`), and, before a run allocates
 * anything, the splits and their labels. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "train/train_internal.h"

static const char *const es_names[] = {"none", "loss", "accuracy", "macro_f1",
                                       "rmse", "mae",  "r2"};

int keel__train_check_labels(const keel_train_setup *s,
                             const keel_train_data *d, const char *split,
                             keel_error *err)
{
  for (size_t r = 0; r < d->n_rows; r++) {
    double y = (double)d->y[r];
    if (s->task == KEEL_TASK_CLASSIFICATION) {
      if (!(y >= 0 && y < (double)s->n_classes) || y != floor(y))
        return keel_fail(err, KEEL_EDATA,
                         "train: %s row %zu has label %g, expected a class "
                         "index in [0, %zu)",
                         split, r, y, s->n_classes);
    } else if (!isfinite(y)) {
      return keel_fail(err, KEEL_EDATA,
                       "train: %s row %zu has a non-finite target", split, r);
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
    return keel_fail(err, KEEL_EINVAL,
                     "train: missing model, loss, "
                     "optimizer or [train] values");
  if (s->model->desc.kind != KEEL_KIND_MODEL ||
      s->loss->desc.kind != KEEL_KIND_LOSS ||
      s->optimizer->desc.kind != KEEL_KIND_OPTIMIZER)
    return keel_fail(err, KEEL_EINVAL,
                     "train: the model, loss and "
                     "optimizer slots hold plugins of the wrong kind");
  const char *task_name =
      s->task == KEEL_TASK_CLASSIFICATION ? "classification" : "regression";
  const keel_loaded_plugin *pl[2] = {s->model, s->loss};
  const char *slot[2] = {"model", "loss"};
  for (int i = 0; i < 2; i++) {
    uint32_t tasks = pl[i]->desc.contract.tasks;
    if (tasks != 0 && !(tasks & (uint32_t)s->task))
      return keel_fail(
          err, KEEL_EINVAL, "[%s] %s fits %s only, but the task is %s", slot[i],
          keel__plugin_name(pl[i]),
          tasks & KEEL_TASK_CLASSIFICATION ? "classification" : "regression",
          task_name);
  }
  const keel_value *tv = s->train_values;
  int64_t batch = tv[KEEL_TRAIN_BATCH_SIZE].i;
  if (tv[KEEL_TRAIN_EPOCHS].i < 1 || batch < 1 ||
      tv[KEEL_TRAIN_CHUNK_ROWS].i < 1)
    return keel_fail(err, KEEL_EINVAL,
                     "[train] epochs, batch_size and "
                     "chunk_rows must be at least 1 (got %lld, %lld, %lld)",
                     (long long)tv[KEEL_TRAIN_EPOCHS].i, (long long)batch,
                     (long long)tv[KEEL_TRAIN_CHUNK_ROWS].i);
  int es = (int)tv[KEEL_TRAIN_EARLY_STOP_METRIC].i;
  if (es < KEEL__ES_NONE || es > KEEL__ES_R2)
    return keel_fail(err, KEEL_EINVAL,
                     "[train] early_stop_metric: unknown "
                     "choice %d",
                     es);
  if (es != KEEL__ES_NONE) {
    int cls = s->task == KEEL_TASK_CLASSIFICATION;
    if ((cls && es >= KEEL__ES_RMSE) ||
        (!cls && (es == KEEL__ES_ACCURACY || es == KEEL__ES_MACRO_F1)))
      return keel_fail(err, KEEL_EINVAL,
                       "[train] early_stop_metric = %s does not exist for "
                       "%s",
                       es_names[es], task_name);
    if (!has_valid)
      return keel_fail(err, KEEL_EINVAL,
                       "[train] early_stop_metric = %s needs a validation "
                       "split, but it is empty (set [data] valid_fraction)",
                       es_names[es]);
  }
  return KEEL_OK;
}

/* The loss serves n_classes (0: regression) and the model can be built
 * for n_in inputs and the loss's width: what trainer_init will do.
 * *model_refused is set when create refused. */
static int check_widths(const keel_train_setup *s, size_t n_in,
                        size_t n_classes, int *model_refused, keel_error *err)
{
  const keel_loss_api *lapi = s->loss->api;
  const keel_model_api *mapi = s->model->api;
  size_t width = 0;
  int rc = lapi->output_width(s->loss_values, s->task, n_classes, &width, err);
  if (rc != KEEL_OK) {
    keel_error_prefix_plugin(err, keel__plugin_name(s->loss), "[loss] %s",
                             keel__plugin_name(s->loss));
    return rc;
  }
  const keel_host *host = s->host ? s->host : keel_host_services();
  void *model = NULL;
  rc = mapi->create(host, s->model_values, n_in, width, &model, err);
  if (rc != KEEL_OK) {
    keel_error_prefix_plugin(err, keel__plugin_name(s->model), "[model] %s",
                             keel__plugin_name(s->model));
    *model_refused = 1;
    return rc;
  }
  mapi->destroy(host, model);
  return KEEL_OK;
}

keel_train_setup keel_train_setup_of(const keel_run_config *cfg)
{
  return (keel_train_setup){.model = cfg->model.plugin,
                            .loss = cfg->loss.plugin,
                            .optimizer = cfg->optimizer.plugin,
                            .model_values = cfg->model.values,
                            .loss_values = cfg->loss.values,
                            .optimizer_values = cfg->optimizer.values,
                            .train_values = cfg->train.values,
                            .task = cfg->task};
}

int keel_train_check(const keel_run_config *cfg, size_t n_features,
                     int width_exact, size_t n_classes, keel_error *err)
{
  if (!cfg)
    return keel_fail(err, KEEL_EINVAL, "train check: no configuration");
  keel_train_setup s = keel_train_setup_of(cfg);
  int has_valid =
      !cfg->data.values || cfg->data.values[KEEL_DATA_VALID_FRACTION].f > 0.0;
  int rc = check_config(&s, has_valid, err);
  if (rc != KEEL_OK)
    return rc;
  size_t n_in = n_features > 0 ? n_features : 1;
  int refused = 0;
  if (cfg->task != KEEL_TASK_CLASSIFICATION || n_classes > 0) {
    size_t k = cfg->task == KEEL_TASK_CLASSIFICATION ? n_classes : 0;
    rc = check_widths(&s, n_in, k, &refused, err);
  } else {
    /* Class count unknown until the labels are read: refuse only what
     * can serve neither two classes nor three or more. */
    keel_error two = {0};
    if (check_widths(&s, n_in, 2, &refused, &two) == KEEL_OK)
      return KEEL_OK;
    rc = check_widths(&s, n_in, 3, &refused, err);
    if (rc != KEEL_OK) {
      char three[sizeof err->message];
      snprintf(three, sizeof three, "%s", err->message);
      rc = keel_fail(err, rc,
                     "the model and loss serve no class count: with "
                     "2 classes: %s; with 3 or more: %s",
                     two.message, three);
    }
  }
  /* The real width may be one the model accepts: say what was probed. */
  if (rc != KEEL_OK && refused && (!width_exact || n_features == 0)) {
    size_t used = strlen(err->message);
    snprintf(err->message + used, sizeof err->message - used,
             " (probed with a placeholder of %zu input%s: the model input "
             "width is known only after fit)",
             n_in, n_in == 1 ? "" : "s");
  }
  return rc;
}

int keel_train_check_batch(const keel_value *train_values, size_t n_train_rows,
                           keel_error *err)
{
  int64_t batch = train_values[KEEL_TRAIN_BATCH_SIZE].i;
  if ((uint64_t)batch > n_train_rows)
    return keel_fail(err, KEEL_EINVAL,
                     "[train] batch_size = %lld is larger than the training "
                     "split (%zu rows); set batch_size to at most %zu",
                     (long long)batch, n_train_rows, n_train_rows);
  return KEEL_OK;
}

int keel__train_check_setup(const keel_train_setup *s,
                            const keel_train_data *train,
                            const keel_train_data *valid, keel_error *err)
{
  if (!train)
    return keel_fail(err, KEEL_EINVAL, "train: no training data");
  int rc = check_config(s, valid && valid->n_rows > 0, err);
  if (rc != KEEL_OK)
    return rc;
  if (train->n_rows == 0 || train->n_features == 0)
    return keel_fail(err, KEEL_EDATA,
                     "train: the training split is empty "
                     "(%zu rows, %zu features)",
                     train->n_rows, train->n_features);
  if (valid && valid->n_rows > 0 && valid->n_features != train->n_features)
    return keel_fail(err, KEEL_EDATA,
                     "train: the validation split has %zu "
                     "features, the training split %zu",
                     valid->n_features, train->n_features);
  if ((rc = keel_train_check_batch(s->train_values, train->n_rows, err)))
    return rc;
  rc = keel__train_check_labels(s, train, "training", err);
  if (rc == KEEL_OK && valid)
    rc = keel__train_check_labels(s, valid, "validation", err);
  return rc;
}
