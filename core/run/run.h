/* One run end to end: resolve the configuration, load plugins, prepare the
 * data, train, and seal the bundle. Used by `keel run` and by `keel replay`
 * (which points it at a bundle's extracted files). */
#ifndef KEEL_RUN_RUN_H
#define KEEL_RUN_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

typedef struct keel_run_options {
  const char *manifest_path;    /* the manifest to run */
  const char *const *overrides; /* "section.key=value" from the CLI */
  size_t n_overrides;
  const char *const *plugin_paths; /* --plugin-path entries, in order */
  size_t n_plugin_paths;
  int no_default_plugin_paths; /* replay: only the bundle's plugins */
  const char *template_path;   /* replay: the bundle's template; else
                                  NULL to resolve from the manifest */
  /* Where a [source] dataset is looked up (--catalog; replay: the
   * bundle's dataset.ini), fetched and cached (--cache, --ca-bundle);
   * NULL: config/dataset.h's precedence and the settings. */
  const char *catalog;
  const char *data_cache;
  const char *ca_bundle;
  const char *policy; /* the access policy file; NULL: the setting */
  /* Replay: maps a data path the source asks for to a bundled copy;
   * returns malloc'd path or NULL for as-is. */
  char *(*data_remap)(void *ctx, const char *path);
  void *data_remap_ctx;
  const char *out_dir; /* where the bundle goes (runs/) */
  int threads;         /* 0 = the [train] value / OpenMP's */
  /* Training progress events; NULL: none (the library never prints). */
  const struct keel_progress_sink *progress;
  /* checkpoint to resume from, or the bundle of an interrupted run (its
   * member checkpoint/checkpoint.ckpt), or NULL */
  const char *resume;
  const char *sign_key; /* Ed25519 private key PEM, or NULL */
  int include_data;     /* copy data files into the bundle */
  int include_plugins;  /* copy plugin .so files (default 1) */
  int until_transforms; /* stop after preprocessing; write the
                           final matrices and fitted state */
  /* Set (to a signal's number) by the caller's signal handler: the run
   * stops at the next batch boundary, or the next stage before training,
   * and is sealed as "interrupted". NULL: never. */
  const volatile sig_atomic_t *interrupt;
  /* What stopped the run when the caller raised *interrupt itself rather
   * than a signal (a sweep pruning a trial): run.json's "interrupted_by"
   * then says *interrupt_reason instead of the signal's name. NULL, or
   * pointing at NULL: the signal's name. */
  const char *const *interrupt_reason;
  /* Replay: a stale dataset is reported, never refused
   * (data/freshness.h). */
  int freshness_report_only;
  /* Called once the run's input digest is known (run/input_digest.h: the
   * data read and hashed, before training): returning 1 stops the run
   * without sealing anything (outcome->reused = 1; `keel run --reuse`
   * and sweeps hand back an earlier bundle instead), 0 goes on. NULL:
   * none. */
  int (*reuse)(void *ctx, const char *input_digest);
  void *reuse_ctx;
  /* A sweep's trial (docs/tuning.md): recorded as run.json's "sweep"
   * object; NULL: not a trial. */
  const struct keel_run_sweep_info *sweep;
} keel_run_options;

/* Which sweep a run is a trial of, for run.json and the registry. */
typedef struct keel_run_sweep_info {
  const char *id;        /* the sweep's id */
  unsigned long trial;   /* the trial's number, from 0 */
  const char *objective; /* the metric it is judged by: "valid.accuracy" */
  int maximize;          /* 1: "max", 0: "min" */
} keel_run_sweep_info;

typedef struct keel_run_outcome {
  char *bundle_path;      /* the sealed bundle (malloc'd) or NULL */
  char result_digest[65]; /* hex, "" when no result */
  char input_digest[65];  /* hex, "" when the run stopped before its data
                             was read (run/input_digest.h) */
  int reused;             /* opt->reuse stopped it: nothing was sealed */
  int exit_code;          /* what `keel run` exits with */
  /* Interrupted: the signal's number, where training stopped (epochs
   * complete, then batches of the next of batches per epoch; all 0 when
   * it stopped before training) and the checkpoint file written (NULL:
   * none). */
  int interrupted_by;
  uint64_t stop_epochs, stop_batch, batches;
  char *checkpoint_path;
} keel_run_outcome;

int keel_run_execute(const keel_run_options *opt, keel_run_outcome *out,
                     keel_error *err);
void keel_run_outcome_free(keel_run_outcome *out);

/* "SIGINT", "SIGTERM", or "a signal" for another: how run.json's
 * "interrupted_by" and messages name an interrupting signal. */
const char *keel_run_signal_name(int sig);

#endif
