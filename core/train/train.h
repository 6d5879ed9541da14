/* The training loop: epochs, shuffled minibatches, parallel chunks,
 * fixed-order combination, optimizer steps, metrics, early stopping and
 * checkpoints. Models, losses and optimizers are plugins; the loop is
 * the host's.
 *
 * Determinism contract: for the same inputs the weights, optimizer state
 * and metrics text are bit-identical for any thread count, for two runs,
 * and for a run resumed from a checkpoint:
 *   - rows are shuffled each epoch by a Fisher-Yates permutation whose
 *     draws come from Philox keyed by (seed, epoch);
 *   - each minibatch is cut into chunks of chunk_rows rows (the last one
 *     shorter), independent of the thread count; one thread computes one
 *     chunk's forward, loss and backward into that chunk's own buffer;
 *   - chunk gradients and loss sums are combined by a pairwise tree over
 *     chunk index (c += c + stride for stride 1, 2, 4, ...), then divided
 *     by the batch's row count;
 *   - the optimizer runs on one thread.
 * See docs/training.md. */
#ifndef KEEL_TRAIN_TRAIN_H
#define KEEL_TRAIN_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "keel/keel.h"
#include "plugin/loader.h"
#include "train/metrics.h"

/* One split as the data pipeline produced it. Borrowed. */
typedef struct keel_train_data {
  const float *x; /* n_rows x n_features, row-major */
  const float *y; /* n_rows targets (class index as float) */
  size_t n_rows;
  size_t n_features;
  /* For messages, both optional: the source data row (0-based) of each
   * row, and the split's name ("train"; NULL: "evaluated"). A loss
   * that fails names its row through them. */
  const size_t *rows;
  const char *name;
} keel_train_data;

/* Everything a run needs besides the data. All pointers are borrowed for
 * the duration of the call. */
typedef struct keel_train_setup {
  const keel_loaded_plugin *model, *loss, *optimizer;
  /* Parameter values in each plugin's declaration order. */
  const keel_value *model_values, *loss_values, *optimizer_values;
  /* KEEL_TRAIN_N_PARAMS values, indexed by enum keel_train_param. */
  const keel_value *train_values;
  keel_task task;
  size_t n_classes; /* classification: labels in [0, n); else 0 */
  int threads;      /* > 0 overrides [train] threads */
  /* Where progress events go; NULL: nowhere (the library never prints). */
  const struct keel_progress_sink *progress;
  const char *checkpoint_dir; /* where checkpoint.ckpt goes; NULL: none */
  const char *resume_path;    /* checkpoint to continue from, or NULL */
  /* Not NULL: the checkpoint's bytes (a bundle member), read instead of
   * resume_path, which then only names them in messages. */
  const unsigned char *resume_data;
  size_t resume_size;
  /* Identity of the configuration and data (for example the hex digest of
   * the resolved manifest and the data hashes); stored in checkpoints and
   * compared on resume, so a foreign checkpoint is refused. NULL = "". */
  const char *fingerprint;
  const keel_host *host; /* NULL: keel_host_services() */
  /* > 0: return after this (1-based) epoch, its checkpoint written, as if
   * the process had been stopped there (tests, time-boxed runs); the
   * result has interrupted = 1. 0: run all epochs. */
  uint64_t stop_after_epoch;
  /* Read by the thread that steps, after each batch's step (never inside
   * a chunk): nonzero (a signal handler stores its signal number) ends
   * the run after that batch, with interrupted = 1 and the state in the
   * result's checkpoint. A signal handler only stores it. NULL: never. */
  const volatile sig_atomic_t *interrupt;
} keel_train_setup;

/* What a run produced. Owned by the caller: keel_train_result_free. On an
 * error return it still holds what was done (weights after the last step,
 * the metric lines of finished epochs), so a failed run can be recorded. */
typedef struct keel_train_result {
  float *weights;
  size_t n_weights;
  float *opt_state;
  size_t n_opt_state;
  keel_tensor_info *tensors; /* the model's tensors; names owned here */
  size_t n_tensors;
  size_t n_outputs; /* model outputs per row (the loss width) */
  /* One JSON object per epoch, each ending in '\n':
   *   {"epoch":1,"step":23,"lr_scale":1,"lr":0.01,
   *    "train_loss":..,"train_accuracy":..,"train_macro_f1":..,
   *    "valid_loss":..,"valid_accuracy":..,"valid_macro_f1":..}
   * (regression: _rmse, _mae, _r2 instead of _accuracy, _macro_f1;
   * "lr" only when the optimizer has a parameter named lr; null for a
   * value that does not exist, e.g. no validation rows). Train metrics
   * are accumulated over the epoch's minibatches, before each step. */
  char *metrics_jsonl;
  keel_metrics train; /* metrics of the last epoch run */
  keel_metrics valid;
  uint64_t epochs_run;  /* epochs completed, resumed ones included */
  uint64_t steps;       /* optimizer steps taken */
  int stopped_early;    /* early stopping ended the run */
  int interrupted;      /* stop_after_epoch or setup->interrupt ended it */
  int interrupt_signal; /* *setup->interrupt when it ended the run, or 0 */
  /* Interrupted inside epoch epochs_run + 1: the batches of it stepped
   * (of batches per epoch); 0 when it stopped at an epoch's end. */
  uint64_t stop_batch;
  size_t batches;
  /* Interrupted: where it stopped, as the bytes of a checkpoint file
   * (train/checkpoint.h) that resumes it; else NULL. */
  unsigned char *checkpoint;
  size_t checkpoint_size;
  uint64_t best_epoch; /* early stopping: 1-based best epoch, or 0 */
  int threads;         /* threads used */
} keel_train_result;

/* Trains a model. valid may be NULL or empty. Returns 0 or a KEEL_E*:
 * KEEL_EINVAL (bad configuration: task/loss/model mismatch, batch larger
 * than the training split, ...), KEEL_EDATA (a bad label), KEEL_EDIVERGED
 * (NaN/Inf loss or weights; the message names epoch and step),
 * KEEL_EINTEGRITY (corrupted checkpoint), KEEL_EIO, KEEL_ENOMEM. Fills out
 * in every case. Reports progress to setup->progress. */
int keel_train_run(const keel_train_setup *setup, const keel_train_data *train,
                   const keel_train_data *valid, keel_train_result *out,
                   keel_error *err);

/* Metrics of `weights` (from keel_train_run) on one split, computed in
 * parallel chunks with the same fixed-order combination. */
int keel_train_evaluate(const keel_train_setup *setup, const float *weights,
                        size_t n_weights, const keel_train_data *data,
                        keel_metrics *out, keel_error *err);

void keel_train_result_free(keel_train_result *r);

/* A setup with the plugins, their values, the [train] values and the task
 * of cfg (borrowed from it); every other field zero. */
keel_train_setup keel_train_setup_of(const keel_run_config *cfg);

/* The training rules that need no data, for `keel check` and for a run
 * before it reads anything: the model and loss fit cfg->task; the [train]
 * values (epochs, batch_size, chunk_rows at least 1; an early-stopping
 * metric of the task, and a validation split when one is used, judged by
 * [data] valid_fraction); the loss serves the task and the model can be
 * built for the loss's output width (the plugins' own create and
 * output_width are called, nothing is trained). n_features: the model
 * input width to probe create with (0: unknown, 1 is used); width_exact:
 * 0 when it is a placeholder (the width is known only after fit), and
 * then a model's refusal says so. n_classes: the class count when known,
 * else 0, and then a classification setup is refused only when it can
 * serve neither 2 classes nor 3. Returns 0 or KEEL_EINVAL (or the
 * plugin's code) with a message naming the section and plugin. */
int keel_train_check(const keel_run_config *cfg, size_t n_features,
                     int width_exact, size_t n_classes, keel_error *err);

/* The rule only the training row count can refute: [train] batch_size
 * (train_values, borrowed) at most n_train_rows. The one message both a
 * run and `keel check --data` give. KEEL_EINVAL when refused. */
int keel_train_check_batch(const keel_value *train_values, size_t n_train_rows,
                           keel_error *err);

/* The name of the checkpoint file inside checkpoint_dir. */
#define KEEL_CHECKPOINT_FILE "checkpoint.ckpt"

#endif
