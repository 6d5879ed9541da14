/* The training loop: bit-identical results for 1, 2 and 3 threads and for
 * two runs; resume from a checkpoint equals the uninterrupted run (also
 * when stopped between checkpoints); early stopping; refusals: divergence,
 * batch larger than the split, task mismatches, corrupted and foreign
 * checkpoints. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/params.h"
#include "base/sha256.h"
#include "config/config.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/train.h"

#define NF 6
#define N_TRAIN 240
#define N_VALID 60

static float X[(N_TRAIN + N_VALID) * NF];
static float Y_CLS[N_TRAIN + N_VALID];
static float Y_REG[N_TRAIN + N_VALID];

/* Three classes: arg-max of fixed linear scores, plus a regression target. */
static void make_data(void)
{
  static int done;
  if (done)
    return;
  done = 1;
  for (size_t r = 0; r < N_TRAIN + N_VALID; r++) {
    double s[3] = {0, 0, 0}, t = 0.5;
    for (size_t j = 0; j < NF; j++) {
      double x = 2.0 * keel_rng_uniform(11, 9000, r * NF + j) - 1.0;
      X[r * NF + j] = (float)x;
      for (int k = 0; k < 3; k++)
        s[k] += x * (double)((int)((j * 7 + (size_t)k * 3) % 5) - 2);
      t += x * (double)(j + 1) * 0.5;
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
      if (s[k] > s[best])
        best = k;
    Y_CLS[r] = (float)best;
    Y_REG[r] = (float)(t + 0.1 * keel_rng_uniform(11, 9001, r));
  }
}

typedef struct fixture {
  keel_train_setup s;
  keel_value tv[KEEL_TRAIN_N_PARAMS];
  keel_train_data train, valid;
} fixture;

static long pidx(const keel_loaded_plugin *p, const char *name)
{
  for (size_t i = 0; i < p->desc.n_params; i++)
    if (strcmp(p->desc.params[i].name, name) == 0)
      return (long)i;
  CU_FAIL("no such parameter");
  return 0;
}

static int enum_index(const keel_param_decl *d, const char *name)
{
  for (int i = 0; d->choices[i]; i++)
    if (strcmp(d->choices[i], name) == 0)
      return i;
  CU_FAIL("no such choice");
  return 0;
}

static void set_enum(fixture *f, int key, const char *name)
{
  f->tv[key].i = enum_index(&keel_train_decls[key], name);
  f->tv[key].s = name;
}

static void fixture_init(fixture *f, const char *model, const char *loss,
                         const char *opt, keel_task task)
{
  make_data();
  memset(f, 0, sizeof *f);
  for (int i = 0; i < KEEL_TRAIN_N_PARAMS; i++)
    CU_ASSERT_EQUAL_FATAL(
        keel_param_default(&keel_train_decls[i], &f->tv[i], NULL), KEEL_OK);
  f->tv[KEEL_TRAIN_EPOCHS].i = 6;
  f->tv[KEEL_TRAIN_BATCH_SIZE].i = 50; /* last batch 40 rows */
  f->tv[KEEL_TRAIN_CHUNK_ROWS].i = 8;  /* last chunk 2 rows */
  f->tv[KEEL_TRAIN_SEED].i = 5;
  f->s.model = keel_test_plugin(KEEL_KIND_MODEL, model);
  f->s.loss = keel_test_plugin(KEEL_KIND_LOSS, loss);
  f->s.optimizer = keel_test_plugin(KEEL_KIND_OPTIMIZER, opt);
  CU_ASSERT_FATAL(f->s.model && f->s.loss && f->s.optimizer);
  f->s.model_values = keel_test_default_values(f->s.model);
  f->s.loss_values = keel_test_default_values(f->s.loss);
  f->s.optimizer_values = keel_test_default_values(f->s.optimizer);
  f->s.train_values = f->tv;
  f->s.task = task;
  f->s.n_classes = task == KEEL_TASK_CLASSIFICATION ? 3 : 0;
  f->s.host = keel_test_host();
  f->s.fingerprint = "fp-test";
  const float *y = task == KEEL_TASK_CLASSIFICATION ? Y_CLS : Y_REG;
  f->train = (keel_train_data){X, y, N_TRAIN, NF, NULL, "train"};
  f->valid = (keel_train_data){X + N_TRAIN * NF, y + N_TRAIN, N_VALID, NF, NULL,
                               "valid"};
}

/* A small mlp with Adam, cosine schedule and warm-up. */
static void fixture_mlp(fixture *f)
{
  fixture_init(f, "mlp", "xent", "adam", KEEL_TASK_CLASSIFICATION);
  static const int64_t hidden[2] = {16, 8};
  keel_value *mv = (keel_value *)f->s.model_values;
  mv[pidx(f->s.model, "hidden")].n = 2;
  mv[pidx(f->s.model, "hidden")].ints = hidden;
  keel_value *ov = (keel_value *)f->s.optimizer_values;
  ov[pidx(f->s.optimizer, "lr")].f = 0.01;
  set_enum(f, KEEL_TRAIN_LR_SCHEDULE, "cosine");
  f->tv[KEEL_TRAIN_WARMUP_EPOCHS].i = 1;
}

static int run(fixture *f, keel_train_result *r, keel_error *err)
{
  memset(err, 0, sizeof *err);
  int rc = keel_train_run(&f->s, &f->train, &f->valid, r, err);
  if (rc != KEEL_OK && rc != KEEL_EDIVERGED && rc != KEEL_EINVAL &&
      rc != KEEL_EINTEGRITY && rc != KEEL_EDATA)
    fprintf(stderr, "\ntrain: %s\n", err->message);
  return rc;
}

static int same(const keel_train_result *a, const keel_train_result *b)
{
  return a->n_weights == b->n_weights && a->n_opt_state == b->n_opt_state &&
         memcmp(a->weights, b->weights, a->n_weights * sizeof(float)) == 0 &&
         memcmp(a->opt_state, b->opt_state, a->n_opt_state * sizeof(float)) ==
             0 &&
         strcmp(a->metrics_jsonl, b->metrics_jsonl) == 0 &&
         a->steps == b->steps && a->epochs_run == b->epochs_run;
}

static size_t count_lines(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static void check_threads(fixture *f)
{
  keel_error err;
  keel_train_result r[3];
  for (int t = 0; t < 3; t++) {
    f->s.threads = t + 1;
    CU_ASSERT_EQUAL_FATAL(run(f, &r[t], &err), KEEL_OK);
    CU_ASSERT_EQUAL(r[t].threads, t + 1);
  }
  CU_ASSERT(same(&r[0], &r[1]));
  CU_ASSERT(same(&r[0], &r[2]));
  CU_ASSERT_EQUAL(count_lines(r[0].metrics_jsonl), 6);
  CU_ASSERT_EQUAL(r[0].steps, 6 * 5);
  for (int t = 0; t < 3; t++)
    keel_train_result_free(&r[t]);
}

static void test_threads_mlp(void)
{
  fixture f;
  fixture_mlp(&f);
  check_threads(&f);
}

/* A wide mlp with small chunks: the chunk gradients (12 x 7k floats)
 * exceed the replicated-step limit, so 2 and 3 threads take the other
 * path (parallel combination over blocks, step on one thread). */
static void test_threads_wide_mlp(void)
{
  fixture f;
  fixture_mlp(&f);
  static const int64_t hidden[1] = {1000};
  keel_value *mv = (keel_value *)f.s.model_values;
  mv[pidx(f.s.model, "hidden")].n = 1;
  mv[pidx(f.s.model, "hidden")].ints = hidden;
  f.tv[KEEL_TRAIN_CHUNK_ROWS].i = 4;
  check_threads(&f);
}

static void test_threads_regression(void)
{
  fixture f;
  fixture_init(&f, "linear", "huber", "sgd", KEEL_TASK_REGRESSION);
  keel_value *ov = (keel_value *)f.s.optimizer_values;
  ov[pidx(f.s.optimizer, "lr")].f = 0.05;
  ov[pidx(f.s.optimizer, "momentum")].f = 0.9;
  ov[pidx(f.s.optimizer, "nesterov")].i = 1;
  set_enum(&f, KEEL_TRAIN_LR_SCHEDULE, "step");
  f.tv[KEEL_TRAIN_STEP_EPOCHS].i = 2;
  f.tv[KEEL_TRAIN_STEP_GAMMA].f = 0.5;
  check_threads(&f);
  keel_train_result r;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(run(&f, &r, &err), KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.metrics_jsonl, "\"valid_r2\":"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r.metrics_jsonl, "\"lr\":0.0125"));
  CU_ASSERT(r.valid.r2 > 0.7);
  keel_train_result_free(&r);
}

static void test_two_runs_and_quality(void)
{
  fixture f;
  fixture_mlp(&f);
  f.tv[KEEL_TRAIN_EPOCHS].i = 20;
  keel_train_result a, b;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(run(&f, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(run(&f, &b, &err), KEEL_OK);
  CU_ASSERT(same(&a, &b));
  CU_ASSERT(a.valid.accuracy > 0.75);
  CU_ASSERT(a.valid.macro_f1 > 0.75);
  CU_ASSERT(a.train.loss < 0.5);
  /* tensors of a 6-16-8-3 mlp */
  CU_ASSERT_EQUAL(a.n_tensors, 6);
  CU_ASSERT_STRING_EQUAL(a.tensors[0].name, "W1");
  CU_ASSERT_EQUAL(a.tensors[0].shape[0], 6);
  CU_ASSERT_EQUAL(a.tensors[0].shape[1], 16);
  CU_ASSERT_STRING_EQUAL(a.tensors[5].name, "b3");
  /* evaluate() gives the loop's validation metrics */
  keel_metrics m;
  CU_ASSERT_EQUAL(
      keel_train_evaluate(&f.s, a.weights, a.n_weights, &f.valid, &m, &err),
      KEEL_OK);
  CU_ASSERT_EQUAL(m.loss, a.valid.loss);
  CU_ASSERT_EQUAL(m.accuracy, a.valid.accuracy);
  /* another seed, other weights */
  f.tv[KEEL_TRAIN_SEED].i = 6;
  keel_train_result c;
  CU_ASSERT_EQUAL_FATAL(run(&f, &c, &err), KEEL_OK);
  CU_ASSERT(memcmp(a.weights, c.weights, a.n_weights * sizeof(float)) != 0);
  keel_train_result_free(&a);
  keel_train_result_free(&b);
  keel_train_result_free(&c);
}

static const char *ckpt_dir(const char *name)
{
  const char *dir = keel_test_tmp_path(name);
  mkdir(dir, 0755);
  return dir;
}

static char *ckpt_file(const char *dir)
{
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, KEEL_CHECKPOINT_FILE);
  return path;
}

/* Stops after epoch `stop` with checkpoints every `every`, then resumes
 * with fresh state from the file; compares with the uninterrupted run. */
static void check_resume(uint64_t stop, int64_t every, const char *name)
{
  fixture f;
  fixture_mlp(&f);
  f.tv[KEEL_TRAIN_EPOCHS].i = 7;
  keel_train_result full, part, rest;
  keel_error err;
  f.s.threads = 2;
  CU_ASSERT_EQUAL_FATAL(run(&f, &full, &err), KEEL_OK);

  const char *dir = ckpt_dir(name);
  f.tv[KEEL_TRAIN_CHECKPOINT_EVERY].i = every;
  f.s.checkpoint_dir = dir;
  f.s.stop_after_epoch = stop;
  f.s.threads = 1;
  CU_ASSERT_EQUAL_FATAL(run(&f, &part, &err), KEEL_OK);
  CU_ASSERT_EQUAL(part.interrupted, 1);
  CU_ASSERT_EQUAL(part.epochs_run, stop);

  keel_checkpoint ck;
  CU_ASSERT_EQUAL_FATAL(keel_checkpoint_read(ckpt_file(dir), &ck, &err),
                        KEEL_OK);
  uint64_t at = stop / (uint64_t)every * (uint64_t)every;
  CU_ASSERT_EQUAL(ck.epoch, at);
  CU_ASSERT_EQUAL(count_lines(ck.metrics_jsonl), at);
  keel_checkpoint_free(&ck);

  fixture g; /* a fresh call: nothing carried over but the file */
  fixture_mlp(&g);
  g.tv[KEEL_TRAIN_EPOCHS].i = 7;
  g.tv[KEEL_TRAIN_CHECKPOINT_EVERY].i = every;
  g.s.checkpoint_dir = dir;
  g.s.resume_path = ckpt_file(dir);
  g.s.threads = 3;
  CU_ASSERT_EQUAL_FATAL(run(&g, &rest, &err), KEEL_OK);
  CU_ASSERT(same(&full, &rest));
  keel_train_result_free(&full);
  keel_train_result_free(&part);
  keel_train_result_free(&rest);
}

static void test_resume_at_checkpoint(void)
{
  check_resume(4, 2, "resume-at");
}

static void test_resume_between_checkpoints(void)
{
  /* "killed" after epoch 5, the last checkpoint is epoch 4 */
  check_resume(5, 2, "resume-between");
}

/* An interrupt (the flag a signal handler sets) raised from the progress
 * sink after batch `batch` (0-based) of epoch `epoch`: the loop is to stop
 * after that batch, inside the epoch or at its end. */
static volatile sig_atomic_t interrupt_flag;
static uint64_t interrupt_epoch;
static size_t interrupt_batch;

static void raise_at(void *ctx, const keel_progress_batch_event *ev)
{
  (void)ctx;
  if (ev->epoch == interrupt_epoch && ev->batch == interrupt_batch)
    interrupt_flag = SIGTERM;
}

/* Interrupted at `threads` threads after (epoch, batch), then resumed from
 * the result's checkpoint bytes at 1 and 3 threads: the same bits as the
 * uninterrupted run. */
static void check_interrupt(fixture *f, uint64_t epoch, size_t batch)
{
  static const keel_progress_sink sink = {raise_at, NULL, NULL};
  keel_train_result full, part, rest;
  keel_error err;
  f->s.threads = 2;
  CU_ASSERT_EQUAL_FATAL(run(f, &full, &err), KEEL_OK);
  interrupt_flag = 0;
  interrupt_epoch = epoch;
  interrupt_batch = batch;
  f->s.interrupt = &interrupt_flag;
  f->s.progress = &sink;
  CU_ASSERT_EQUAL_FATAL(run(f, &part, &err), KEEL_OK);
  f->s.interrupt = NULL;
  f->s.progress = NULL;
  CU_ASSERT_EQUAL(part.interrupted, 1);
  CU_ASSERT_EQUAL(part.interrupt_signal, SIGTERM);
  int at_end = batch + 1 == part.batches;
  CU_ASSERT_EQUAL(part.epochs_run, at_end ? epoch + 1 : epoch);
  CU_ASSERT_EQUAL(part.stop_batch, at_end ? 0 : batch + 1);
  CU_ASSERT_EQUAL(part.steps, epoch * part.batches + batch + 1);
  CU_ASSERT_FATAL(part.checkpoint != NULL);
  for (int t = 1; t <= 3; t += 2) {
    f->s.resume_data = part.checkpoint;
    f->s.resume_size = part.checkpoint_size;
    f->s.resume_path = "test (interrupted)";
    f->s.threads = t;
    CU_ASSERT_EQUAL_FATAL(run(f, &rest, &err), KEEL_OK);
    CU_ASSERT(same(&full, &rest));
    CU_ASSERT_EQUAL(rest.interrupted, 0);
    keel_train_result_free(&rest);
  }
  f->s.resume_data = NULL;
  f->s.resume_path = NULL;
  keel_train_result_free(&full);
  keel_train_result_free(&part);
}

static void test_interrupt_inside_epoch(void)
{
  fixture f;
  fixture_mlp(&f);
  check_interrupt(&f, 1, 1); /* 5 batches an epoch */
  check_interrupt(&f, 0, 3);
  fixture_mlp(&f);
  static const int64_t hidden[1] = {1000}; /* the barrier schedule */
  keel_value *mv = (keel_value *)f.s.model_values;
  mv[pidx(f.s.model, "hidden")].n = 1;
  mv[pidx(f.s.model, "hidden")].ints = hidden;
  f.tv[KEEL_TRAIN_EPOCHS].i = 3;
  check_interrupt(&f, 1, 2);
  fixture_init(&f, "linear", "huber", "sgd", KEEL_TASK_REGRESSION);
  check_interrupt(&f, 2, 0);
}

static void test_interrupt_at_epoch_end(void)
{
  fixture f;
  fixture_mlp(&f);
  check_interrupt(&f, 2, 4); /* the last batch: stops at the epoch's end */
}

/* A version 1 checkpoint (older keels: no batch line, no class counts)
 * still resumes to the same bits: made here from a version 2 one taken at
 * an epoch's end by dropping its 40 bytes of in-epoch state. */
static void test_checkpoint_version_1(void)
{
  fixture f;
  fixture_mlp(&f);
  keel_train_result full, part, rest;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(run(&f, &full, &err), KEEL_OK);
  f.s.stop_after_epoch = 2;
  CU_ASSERT_EQUAL_FATAL(run(&f, &part, &err), KEEL_OK);
  f.s.stop_after_epoch = 0;
  CU_ASSERT_FATAL(part.checkpoint != NULL && part.checkpoint_size > 160);
  const size_t v1_header = 88, extra = 40;
  size_t n = part.checkpoint_size - extra;
  unsigned char *v1 = malloc(n);
  CU_ASSERT_FATAL(v1 != NULL);
  memcpy(v1, part.checkpoint, v1_header);
  v1[8] = 1; /* version, little-endian u32 */
  memcpy(v1 + v1_header, part.checkpoint + v1_header + extra,
         n - v1_header - 32);
  keel_sha256 *h = keel_sha256_new();
  keel_sha256_update(h, v1, n - 32);
  keel_sha256_final(h, v1 + n - 32);
  f.s.resume_data = v1;
  f.s.resume_size = n;
  f.s.resume_path = "version-1";
  f.s.threads = 3;
  CU_ASSERT_EQUAL_FATAL(run(&f, &rest, &err), KEEL_OK);
  CU_ASSERT(same(&full, &rest));
  keel_train_result_free(&rest);
  v1[8] = 3; /* a version this keel does not know, hashed as it is */
  h = keel_sha256_new();
  keel_sha256_update(h, v1, n - 32);
  keel_sha256_final(h, v1 + n - 32);
  CU_ASSERT_EQUAL(run(&f, &rest, &err), KEEL_EUNSUPPORTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "version 3"));
  keel_train_result_free(&rest);
  free(v1);
  keel_train_result_free(&full);
  keel_train_result_free(&part);
}

static void test_early_stopping(void)
{
  fixture f;
  fixture_init(&f, "softmax", "xent", "sgd", KEEL_TASK_CLASSIFICATION);
  keel_value *ov = (keel_value *)f.s.optimizer_values;
  ov[pidx(f.s.optimizer, "lr")].f = 1e-8; /* accuracy cannot move */
  f.tv[KEEL_TRAIN_EPOCHS].i = 10;
  set_enum(&f, KEEL_TRAIN_EARLY_STOP_METRIC, "accuracy");
  f.tv[KEEL_TRAIN_PATIENCE].i = 2;
  keel_train_result r;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(run(&f, &r, &err), KEEL_OK);
  CU_ASSERT_EQUAL(r.stopped_early, 1);
  CU_ASSERT_EQUAL(r.epochs_run, 3);
  CU_ASSERT_EQUAL(r.best_epoch, 1);
  CU_ASSERT_EQUAL(count_lines(r.metrics_jsonl), 3);
  keel_train_result_free(&r);

  /* a metric of the other task is refused */
  set_enum(&f, KEEL_TRAIN_EARLY_STOP_METRIC, "rmse");
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "early_stop_metric"));
  keel_train_result_free(&r);
}

static void test_divergence(void)
{
  fixture f;
  fixture_init(&f, "linear", "mse", "sgd", KEEL_TASK_REGRESSION);
  static float big[N_TRAIN * NF];
  for (size_t i = 0; i < N_TRAIN * NF; i++)
    big[i] = X[i] * 1e30f;
  f.train.x = big;
  keel_value *ov = (keel_value *)f.s.optimizer_values;
  ov[pidx(f.s.optimizer, "lr")].f = 1.0;
  keel_train_result r;
  keel_error err;
  /* every thread count stops at the same step with the same message */
  for (int t = 1; t <= 3; t++) {
    f.s.threads = t;
    CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EDIVERGED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "epoch 1, step 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "smaller learning rate"));
    CU_ASSERT_EQUAL(r.epochs_run, 0);
    CU_ASSERT_PTR_NOT_NULL(r.metrics_jsonl);
    keel_train_result_free(&r);
  }
}

static void test_bad_configuration(void)
{
  keel_train_result r;
  keel_error err;
  fixture f;
  fixture_mlp(&f);
  f.tv[KEEL_TRAIN_BATCH_SIZE].i = N_TRAIN + 1;
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "larger than the training"));
  keel_train_result_free(&r);

  fixture_init(&f, "softmax", "mse", "sgd", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[loss] mse fits regression"));
  keel_train_result_free(&r);

  fixture_init(&f, "logistic", "xent", "sgd", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EINVAL); /* 3 classes */
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[model] logistic"));
  keel_train_result_free(&r);

  fixture_init(&f, "linear", "mse", "sgd", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[model] linear fits"));
  keel_train_result_free(&r);

  /* a label that is not a class index */
  fixture_init(&f, "softmax", "xent", "sgd", KEEL_TASK_CLASSIFICATION);
  f.s.n_classes = 2;
  CU_ASSERT_EQUAL(run(&f, &r, &err), KEEL_EDATA);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected a class index"));
  keel_train_result_free(&r);
}

static void write_bytes(const char *path, const unsigned char *p, size_t n)
{
  FILE *fp = fopen(path, "wb");
  CU_ASSERT_FATAL(fp != NULL);
  CU_ASSERT_EQUAL(fwrite(p, 1, n, fp), n);
  fclose(fp);
}

static void test_bad_checkpoints(void)
{
  fixture f;
  fixture_mlp(&f);
  const char *dir = ckpt_dir("bad-ckpt");
  f.tv[KEEL_TRAIN_CHECKPOINT_EVERY].i = 1;
  f.s.checkpoint_dir = dir;
  f.s.stop_after_epoch = 1;
  keel_train_result r;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(run(&f, &r, &err), KEEL_OK);
  keel_train_result_free(&r);
  const char *path = ckpt_file(dir);
  size_t n = 0;
  unsigned char *bytes = keel_test_read_file(path, &n);
  CU_ASSERT_FATAL(bytes != NULL && n > 200);

  fixture g;
  fixture_mlp(&g);
  g.s.resume_path = path;
  /* foreign: another configuration's fingerprint */
  g.s.fingerprint = "another-manifest";
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "belongs to another run"));
  keel_train_result_free(&r);
  /* foreign: same fingerprint, another model shape */
  g.s.fingerprint = "fp-test";
  static const int64_t wider[2] = {17, 8};
  ((keel_value *)g.s.model_values)[pidx(g.s.model, "hidden")].ints = wider;
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "weights"));
  keel_train_result_free(&r);
  fixture_mlp(&g);

  char bad[1100];
  snprintf(bad, sizeof bad, "%s/broken.ckpt", dir);
  g.s.resume_path = bad;
  /* one flipped bit in the weights */
  bytes[n / 2] ^= 0x10;
  write_bytes(bad, bytes, n);
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "corrupted"));
  keel_train_result_free(&r);
  bytes[n / 2] ^= 0x10;
  /* truncated */
  write_bytes(bad, bytes, n - 7);
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "corrupted"));
  keel_train_result_free(&r);
  /* not a checkpoint at all */
  write_bytes(bad, (const unsigned char *)"hello", 5);
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a keel checkpoint"));
  keel_train_result_free(&r);
  /* intact copy still resumes */
  write_bytes(bad, bytes, n);
  CU_ASSERT_EQUAL(run(&g, &r, &err), KEEL_OK);
  keel_train_result_free(&r);
  /* no temporary files left behind */
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s/%s.tmp.%ld", dir, KEEL_CHECKPOINT_FILE,
           (long)getpid());
  CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
  free(bytes);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"mlp/adam/cosine: 1, 2, 3 threads bit-identical", test_threads_mlp},
      {"linear/huber/sgd-nesterov/step: threads bit-identical",
       test_threads_regression},
      {"two runs identical; quality; evaluate", test_two_runs_and_quality},
      {"resume at a checkpoint = uninterrupted", test_resume_at_checkpoint},
      {"resume after a stop between checkpoints",
       test_resume_between_checkpoints},
      {"interrupt inside an epoch, resumed = uninterrupted",
       test_interrupt_inside_epoch},
      {"interrupt after an epoch's last batch", test_interrupt_at_epoch_end},
      {"version 1 checkpoints still resume", test_checkpoint_version_1},
      {"early stopping with patience", test_early_stopping},
      {"divergence names epoch and step", test_divergence},
      {"1/2/3 threads, wide mlp (parallel combination)", test_threads_wide_mlp},
      {"batch > split, task mismatches, bad labels", test_bad_configuration},
      {"corrupted and foreign checkpoints refused", test_bad_checkpoints},
      {NULL, NULL},
  };
  return keel_test_run_suite("train", tests);
}
