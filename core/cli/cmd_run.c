/* keel run: parse the command line into keel_run_options and hand over to
 * run.c. The bundle's path is the last line on stdout, so scripts can do
 * b=$(keel run m.ini). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress_view.h"
#include "run/registry.h"
#include "run/run.h"

typedef struct run_args {
  const char *out;
  int threads;
  int quiet;
  const char *resume;
  const char *sign;
  int include_data;
  int no_plugins;
  int until_transforms;
  keel_cli_list plugin_paths;
  const char *catalog;
  const char *cache;
  const char *ca_bundle;
  const char *policy;
  const char *registry;
  int no_register;
  int reuse;
} run_args;

static const keel_cli_option run_options[] = {
    {"out", 0, KEEL_CLI_PATH, "DIR", "where the bundle goes (default runs/)",
     offsetof(run_args, out), 0, 0},
    {"threads", 0, KEEL_CLI_INT, "N",
     "OpenMP threads; the result does not depend on them",
     offsetof(run_args, threads), 1, 1024},
    {"quiet", 'q', KEEL_CLI_FLAG, NULL, "no progress on stderr",
     offsetof(run_args, quiet), 0, 0},
    {"resume", 0, KEEL_CLI_PATH, "CHECKPOINT",
     "continue from a checkpoint under OUT/checkpoints/, or from the "
     "bundle of an interrupted run",
     offsetof(run_args, resume), 0, 0},
    {"sign", 0, KEEL_CLI_PATH, "KEY",
     "sign the bundle with an Ed25519 private key from `keel keygen`",
     offsetof(run_args, sign), 0, 0},
    {"include-data", 0, KEEL_CLI_FLAG, NULL,
     "copy the data files into the bundle", offsetof(run_args, include_data), 0,
     0},
    {"no-plugins", 0, KEEL_CLI_FLAG, NULL,
     "leave the plugin .so files out of the bundle (their hashes stay)",
     offsetof(run_args, no_plugins), 0, 0},
    {"until-transforms", 0, KEEL_CLI_FLAG, NULL,
     "stop after preprocessing; write its results to OUT/transforms-NAME/",
     offsetof(run_args, until_transforms), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "add a plugin folder or .so file before the defaults",
     offsetof(run_args, plugin_paths), 0, 0},
    {"catalog", 0, KEEL_CLI_PATH, "FILE",
     "look [source] dataset up in this catalog (before the manifest's "
     "[keel] catalog and the `catalog` setting)",
     offsetof(run_args, catalog), 0, 0},
    {"cache", 0, KEEL_CLI_PATH, "DIR",
     "the data cache an http(s) dataset is read from and fetched into "
     "(the `data_cache` setting)",
     offsetof(run_args, cache), 0, 0},
    {"ca-bundle", 0, KEEL_CLI_PATH, "FILE",
     "trust these CAs when fetching an https dataset (the `ca_bundle` "
     "setting)",
     offsetof(run_args, ca_bundle), 0, 0},
    {"policy", 0, KEEL_CLI_PATH, "FILE",
     "decide access to the dataset by this access policy (the `policy` "
     "setting; docs/data-access.md)",
     offsetof(run_args, policy), 0, 0},
    {"registry", 0, KEEL_CLI_PATH, "FILE",
     "index the bundle in this run registry (the `registry` setting; "
     "docs/registry.md)",
     offsetof(run_args, registry), 0, 0},
    {"reuse", 0, KEEL_CLI_FLAG, NULL,
     "return the registered, verified bundle of a run with the same inputs "
     "instead of training again (docs/registry.md)",
     offsetof(run_args, reuse), 0, 0},
    {"no-register", 0, KEEL_CLI_FLAG, NULL,
     "do not index the bundle in the run registry",
     offsetof(run_args, no_register), 0, 0},
};

const keel_cli_command keel_cli_run = {
    .name = "run",
    .main = keel_cmd_run,
    .summary = "train and seal the run into a bundle; prints the bundle path "
               "last on stdout",
    .operands = "MANIFEST",
    .overrides = 1,
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no manifest given",
    .too_many = "expected one manifest (overrides look like "
                "section.key=value)",
    .options = run_options,
    .n_options = KEEL_CLI_COUNT(run_options),
};

/* Where an interrupted run stopped, and how to continue it (stderr). */
static void say_interrupted(const keel_run_outcome *r, const char *manifest)
{
  const char *sig = keel_run_signal_name(r->interrupted_by);
  if (!r->bundle_path) {
    keel_cli_error("run", "interrupted by %s before anything was written", sig);
  } else if (!r->checkpoint_path) {
    keel_cli_error("run",
                   "interrupted by %s before training: sealed as "
                   "interrupted, without a checkpoint (run it again)",
                   sig);
  } else {
    unsigned long long e = r->stop_epochs + (r->stop_batch ? 1 : 0);
    unsigned long long b = r->stop_batch ? r->stop_batch : r->batches;
    keel_cli_error("run",
                   "interrupted by %s after batch %llu of %zu of epoch %llu; "
                   "checkpoint %s; continue with: keel run %s --resume %s",
                   sig, b, r->batches, e, r->checkpoint_path, manifest,
                   r->bundle_path);
  }
}

/* Indexes a sealed bundle (ok, failed or interrupted). The bundle is the
 * truth: a registry that cannot take it is a warning, never a failure of
 * the run. */
static void register_bundle(const run_args *a, const char *bundle)
{
  keel_run_registry *r = NULL;
  keel_error err = {0};
  int rc = keel_run_registry_open(a->registry, 1, &r, &err);
  if (!rc)
    rc = keel_run_registry_add_bundle(r, bundle, 0, NULL, &err);
  if (rc)
    keel_log_emit(KEEL_LOG_WARN,
                  "the run was not indexed in the run registry: %s (the "
                  "bundle is complete; `keel runs import` indexes it later)",
                  err.message);
  keel_run_registry_close(r);
}

/* The run cache, asked once the input digest is known: with --reuse an
 * earlier verified bundle stops the run; without, it is only named
 * (unless --quiet). A registry that cannot be asked is a warning, and the
 * run trains. */
typedef struct reuse_state {
  const run_args *a;
  char *bundle, *run_id;
} reuse_state;

static int reuse_hook(void *ctx, const char *input_digest)
{
  reuse_state *s = ctx;
  keel_error err = {0};
  int rc = keel_run_registry_find_reusable(s->a->registry, input_digest,
                                           &s->bundle, &s->run_id, &err);
  if (rc < 0) {
    keel_log_emit(KEEL_LOG_WARN, "the run cache was not consulted: %s",
                  err.message);
    return 0;
  }
  if (rc == 1 && s->a->reuse)
    return 1;
  if (rc == 1 && !s->a->quiet)
    keel_log_emit(KEEL_LOG_INFO,
                  "run %s (%s) has the same inputs; keel run --reuse would "
                  "return it",
                  s->run_id, s->bundle);
  return 0;
}

/* Runs what the command line asked for; returns the exit code. */
static int run_parsed(const run_args *a, const keel_cli_operands *ops)
{
  keel_run_options opt = {
      .manifest_path = ops->args.items[0],
      .overrides = ops->overrides.items,
      .n_overrides = ops->overrides.n,
      .plugin_paths = a->plugin_paths.items,
      .n_plugin_paths = a->plugin_paths.n,
      .out_dir = a->out,
      .threads = a->threads,
      .resume = a->resume,
      .sign_key = a->sign,
      .include_data = a->include_data,
      .include_plugins = !a->no_plugins,
      .until_transforms = a->until_transforms,
      .catalog = a->catalog,
      .data_cache = a->cache,
      .ca_bundle = a->ca_bundle,
      .policy = a->policy,
  };
  reuse_state reuse = {.a = a};
  if (!a->until_transforms) {
    opt.reuse = reuse_hook;
    opt.reuse_ctx = &reuse;
  }
  opt.interrupt = keel_cli_interrupt_install();
  keel_progress_view view;
  if (!a->quiet)
    opt.progress = keel_progress_view_init(&view, keel_cli_terminal_stderr());
  keel_run_outcome result = {0};
  keel_error err = {0};
  int rc = keel_run_execute(&opt, &result, &err);
  if (opt.progress && view.tty && view.drawn) { /* a run stopped mid-epoch */
    fputc('\n', view.fp);
    fflush(view.fp);
  }
  if (rc != KEEL_OK)
    keel_cli_error("run", "%s", err.message);
  if (result.interrupted_by)
    say_interrupted(&result, opt.manifest_path);
  else if (*opt.interrupt)
    keel_cli_error("run",
                   "%s came after training had finished: the run is "
                   "complete and sealed as such",
                   keel_run_signal_name(*opt.interrupt));
  if (result.bundle_path && !a->no_register && !a->until_transforms)
    register_bundle(a, result.bundle_path);
  if (result.reused && rc == KEEL_OK) {
    if (!a->quiet)
      keel_log_emit(KEEL_LOG_INFO,
                    "reused run %s: it has the same inputs (nothing trained)",
                    reuse.run_id);
    printf("%s\n", reuse.bundle);
  } else if (result.bundle_path) {
    printf("%s\n", result.bundle_path);
  }
  free(reuse.bundle);
  free(reuse.run_id);
  int code = result.exit_code;
  if (rc != KEEL_OK && code == KEEL_EXIT_OK)
    code = KEEL_EXIT_RUNTIME;
  keel_run_outcome_free(&result);
  return code;
}

int keel_cmd_run(int argc, char **argv)
{
  run_args a = {.out = "runs"};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_run, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = run_parsed(&a, &ops);
  keel_cli_free(&keel_cli_run, &a, &ops);
  return code;
}
