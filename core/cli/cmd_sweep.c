/* keel sweep: tune a manifest inside its template's space (run/sweep.h),
 * showing trial k/N, the running trials and the best so far, and at the
 * end a ranked table. The sweep bundle's path is the last line on stdout.
 * `keel sweep --trial K DIR` is what the driver starts for each trial. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/sweep_view.h"
#include "run/sweep.h"
#include "run/sweep_trial.h"

typedef struct sweep_args {
  const char *out;
  int trials;
  int jobs;
  const char *strategy;
  int seed;
  int threads;
  int quiet;
  const char *resume;
  int trial;
  const char *registry;
  int no_reuse;
  keel_cli_list plugin_paths;
  const char *catalog;
  const char *cache;
  const char *ca_bundle;
  const char *policy;
} sweep_args;

static const keel_cli_option sweep_options[] = {
    {"trials", 0, KEEL_CLI_INT, "N",
     "trials to run (default: the space's [tune] trials; grid: every point)",
     offsetof(sweep_args, trials), 1, 1000000},
    {"jobs", 'j', KEEL_CLI_INT, "J",
     "trials run at once, each in its own process; the trials and their "
     "results do not depend on it",
     offsetof(sweep_args, jobs), 1, 256},
    {"strategy", 0, KEEL_CLI_STRING, "grid|random|tpe",
     "how trials are proposed (default: the space's [tune] strategy)",
     offsetof(sweep_args, strategy), 0, 0},
    {"seed", 0, KEEL_CLI_INT, "S",
     "the sampler's seed (default 0): same seed, same trials",
     offsetof(sweep_args, seed), 0, 2147483647},
    {"threads", 0, KEEL_CLI_INT, "N",
     "threads in all, divided between the jobs (default: the CPUs online)",
     offsetof(sweep_args, threads), 1, 1024},
    {"out", 0, KEEL_CLI_PATH, "DIR",
     "where the sweep's folder goes (default runs/)", offsetof(sweep_args, out),
     0, 0},
    {"quiet", 'q', KEEL_CLI_FLAG, NULL, "no progress on stderr",
     offsetof(sweep_args, quiet), 0, 0},
    {"resume", 0, KEEL_CLI_PATH, "SWEEP_DIR",
     "continue an interrupted sweep, after checking its inputs still match "
     "its frozen plan",
     offsetof(sweep_args, resume), 0, 0},
    {"trial", 0, KEEL_CLI_INT, "K",
     "run trial K of the planned sweep SWEEP_DIR (what the driver starts "
     "for each trial)",
     offsetof(sweep_args, trial), 0, 1000000},
    {"registry", 0, KEEL_CLI_PATH, "FILE",
     "the run registry trials register in and are reused from (the "
     "`registry` setting)",
     offsetof(sweep_args, registry), 0, 0},
    {"no-reuse", 0, KEEL_CLI_FLAG, NULL,
     "train every trial, even one whose inputs a registered bundle already "
     "has (the run cache)",
     offsetof(sweep_args, no_reuse), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "add a plugin folder or .so file before the defaults",
     offsetof(sweep_args, plugin_paths), 0, 0},
    {"catalog", 0, KEEL_CLI_PATH, "FILE",
     "look [source] dataset up in this catalog", offsetof(sweep_args, catalog),
     0, 0},
    {"cache", 0, KEEL_CLI_PATH, "DIR",
     "the data cache (the `data_cache` setting)", offsetof(sweep_args, cache),
     0, 0},
    {"ca-bundle", 0, KEEL_CLI_PATH, "FILE",
     "trust these CAs when fetching an https dataset",
     offsetof(sweep_args, ca_bundle), 0, 0},
    {"policy", 0, KEEL_CLI_PATH, "FILE", "the access policy file",
     offsetof(sweep_args, policy), 0, 0},
};

const keel_cli_command keel_cli_sweep = {
    .name = "sweep",
    .main = keel_cmd_sweep,
    .summary = "tune a manifest inside its template's [tune] space: grid, "
               "random or TPE trials, each a sealed run, the sweep sealed "
               "too; prints its bundle last on stdout",
    .operands = "MANIFEST",
    .overrides = 1,
    .min_operands = 0,
    .max_operands = 1,
    .missing = "no manifest given",
    .too_many = "expected one manifest (overrides look like "
                "section.key=value)",
    .options = sweep_options,
    .n_options = KEEL_CLI_COUNT(sweep_options),
};

/* ---- progress ----------------------------------------------------------- */

typedef struct view {
  FILE *fp;
  char objective[64];
} view;

static void on_planned(void *ctx, const char *dir, unsigned long n,
                       const char *strategy, const char *objective,
                       int maximize)
{
  view *v = ctx;
  snprintf(v->objective, sizeof v->objective, "%s", objective);
  fprintf(v->fp, "sweep ");
  keel_escape_fputs(v->fp, dir);
  fprintf(v->fp, ": %lu trials, %s, objective %s %s\n", n, strategy, objective,
          maximize ? "max" : "min");
  fflush(v->fp);
}

static void on_started(void *ctx, unsigned long k, unsigned long n,
                       const char *values, size_t running)
{
  view *v = ctx;
  (void)n;
  fprintf(v->fp, "trial %lu started: ", k);
  keel_escape_fputs(v->fp, values ? values : "");
  fprintf(v->fp, "  [%zu running]\n", running);
  fflush(v->fp);
}

static void on_ended(void *ctx, const json_t *t, const json_t *best,
                     unsigned long done, unsigned long n, size_t running)
{
  view *v = ctx;
  long long k = json_integer_value(json_object_get(t, "trial"));
  const char *status = json_string_value(json_object_get(t, "status"));
  const json_t *obj = json_object_get(t, "objective");
  fprintf(v->fp, "trial %lld %s", k, status ? status : "?");
  if (json_is_number(obj))
    fprintf(v->fp, "  %s %.6g", v->objective, json_number_value(obj));
  if (json_is_true(json_object_get(t, "reused")))
    fprintf(v->fp, " (reused)");
  const char *error = json_string_value(json_object_get(t, "error"));
  if (error) {
    fprintf(v->fp, ": ");
    keel_escape_fputs(v->fp, error);
  }
  fprintf(v->fp, "  [%lu/%lu done, %zu running", done, n, running);
  if (best)
    fprintf(v->fp, ", best %.6g (trial %lld)",
            json_number_value(json_object_get(best, "objective")),
            json_integer_value(json_object_get(best, "trial")));
  fprintf(v->fp, "]\n");
  fflush(v->fp);
}

/* ---- the command -------------------------------------------------------- */

static int run_trial(const sweep_args *a, const keel_cli_operands *ops)
{
  if (ops->args.n != 1 || ops->overrides.n)
    return keel_cli_usage_error(&keel_cli_sweep,
                                "--trial K takes the sweep's folder alone");
  keel_error err = {0};
  int code = keel_sweep_run_trial(ops->args.items[0], (unsigned long)a->trial,
                                  a->threads, keel_cli_interrupt_install(),
                                  a->registry, !a->no_reuse, &err);
  if (err.code)
    keel_cli_error("sweep", "trial %d: %s", a->trial, err.message);
  return code;
}

static int run_sweep(const sweep_args *a, const keel_cli_operands *ops)
{
  if (a->resume && (ops->args.n || ops->overrides.n || a->strategy ||
                    a->trials || a->seed)) {
    keel_cli_error("sweep", "--resume takes no manifest, override, "
                            "--strategy, --trials or --seed: the sweep "
                            "continues as it was planned");
    return KEEL_EXIT_CONFIG;
  }
  if (!a->resume && ops->args.n != 1)
    return keel_cli_usage_error(&keel_cli_sweep, "no manifest given");
  view v = {.fp = stderr};
  keel_sweep_progress progress = {.ctx = &v,
                                  .planned = on_planned,
                                  .started = on_started,
                                  .ended = on_ended};
  keel_sweep_options opt = {
      .in = {.manifest_path = ops->args.n ? ops->args.items[0] : NULL,
             .overrides = ops->overrides.items,
             .n_overrides = ops->overrides.n,
             .plugin_paths = a->plugin_paths.items,
             .n_plugin_paths = a->plugin_paths.n,
             .catalog = a->catalog,
             .data_cache = a->cache,
             .ca_bundle = a->ca_bundle,
             .policy = a->policy},
      .resume_dir = a->resume,
      .out_dir = a->out,
      .strategy = a->strategy,
      .trials = (unsigned long)a->trials,
      .seed = (uint64_t)a->seed,
      .jobs = a->jobs ? (unsigned)a->jobs : 1,
      .threads = a->threads,
      .self_exe = "/proc/self/exe",
      .registry = a->registry,
      .no_reuse = a->no_reuse,
      .progress = a->quiet ? NULL : &progress,
      .interrupt = keel_cli_interrupt_install()};
  char *self = realpath("/proc/self/exe", NULL);
  if (self)
    opt.self_exe = self;
  keel_sweep_outcome out = {0};
  keel_error err = {0};
  snprintf(v.objective, sizeof v.objective, "objective");
  int rc = keel_sweep_execute(&opt, &out, &err);
  if (out.sweep) {
    keel_sweep_print_trials(out.sweep);
    const json_t *best = json_object_get(out.sweep, "best");
    if (json_is_object(best)) {
      printf("\nbest: trial %lld, %s %.17g, bundle ",
             json_integer_value(json_object_get(best, "trial")),
             json_string_value(json_object_get(out.sweep, "objective")),
             json_number_value(json_object_get(best, "objective")));
      keel_escape_fputs(stdout,
                        json_string_value(json_object_get(best, "bundle"))
                            ? json_string_value(json_object_get(best, "bundle"))
                            : "-");
      putchar('\n');
    }
    printf("sweep result digest %s\n", out.digest);
  }
  if (rc != KEEL_OK)
    keel_cli_error("sweep", "%s", err.message);
  if (out.exit_code >= KEEL_EXIT_SIGNAL && out.dir)
    keel_cli_error("sweep",
                   "interrupted: the trials that ended are kept; continue "
                   "with: keel sweep --resume %s",
                   out.dir);
  if (out.bundle_path)
    printf("%s\n", out.bundle_path);
  int code = out.exit_code;
  if (rc != KEEL_OK && code == KEEL_EXIT_OK)
    code = KEEL_EXIT_RUNTIME;
  keel_sweep_outcome_free(&out);
  free(self);
  return code;
}

int keel_cmd_sweep(int argc, char **argv)
{
  sweep_args a = {.out = "runs", .trial = -1};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_sweep, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = a.trial >= 0 ? run_trial(&a, &ops) : run_sweep(&a, &ops);
  keel_cli_free(&keel_cli_sweep, &a, &ops);
  return code;
}
