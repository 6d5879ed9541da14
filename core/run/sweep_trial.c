/* One trial of a sweep (sweep_trial.h): the frozen plan run with the
 * trial's overrides, as `keel replay` runs a bundle's frozen inputs. */
#include "run/sweep_trial.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "run/run.h"
#include "run/sweep_cache.h"
#include "run/sweep_plan.h"
#include "train/progress.h"

char *keel_sweep_trial_file(const char *dir, unsigned long k,
                            const char *suffix)
{
  char name[64];
  snprintf(name, sizeof name, "trials/%lu%s", k, suffix);
  return keel_path_join(dir, name);
}

/* The objective's value in a bundle's metrics.json: "valid.accuracy" is
 * metrics["valid"]["accuracy"]; NaN when absent or null. */
static double objective_of(const keel_bundle *b, const char *metric)
{
  keel_error e = {0};
  json_t *m = keel_bundle_json(b, "metrics.json", &e);
  size_t split = strcspn(metric, ".");
  char name[32];
  snprintf(name, sizeof name, "%.*s", (int)split, metric);
  const json_t *v = json_object_get(json_object_get(m, name),
                                    metric[split] ? metric + split + 1 : "");
  double x = json_is_number(v) ? json_number_value(v) : NAN;
  json_decref(m);
  return x;
}

/* An option the sweep was launched with (plan.json's "launch"), or NULL. */
static const char *launch_option(const keel_sweep_plan *p, const char *key)
{
  return json_string_value(
      json_object_get(json_object_get(p->doc, "launch"), key));
}

/* ---- median pruning ---------------------------------------------------- */

/* What the trial watches as it trains, when the sweep prunes: the
 * objective after each epoch against the medians of the earlier rounds'
 * curves, which it must not fall behind from epoch `after` on. It also forwards
 * a signal the process got to the run's stop flag, which it owns so that it can
 * raise the flag itself. */
typedef struct watch {
  const char *split; /* "train" or "valid": the objective's split */
  const char *name;  /* "accuracy" */
  int maximize;
  const json_t *medians; /* per epoch, a number or null; NULL: no pruning */
  unsigned long after;   /* epochs before the first judgement */
  const volatile sig_atomic_t *signal; /* the process's signal flag */
  volatile sig_atomic_t stop;          /* the run's interrupt flag */
  const char *reason;                  /* "pruned ..." once pruned */
  char reason_text[200];
  unsigned long pruned_at; /* epochs done when pruned; 0: not pruned */
  double last;             /* the objective after the last epoch */
} watch;

static double metric_value(const keel_metrics *m, const char *name)
{
  if (!m)
    return NAN;
  return strcmp(name, "loss") == 0       ? m->loss
         : strcmp(name, "accuracy") == 0 ? m->accuracy
         : strcmp(name, "macro_f1") == 0 ? m->macro_f1
         : strcmp(name, "rmse") == 0     ? m->rmse
         : strcmp(name, "mae") == 0      ? m->mae
         : strcmp(name, "r2") == 0       ? m->r2
                                         : NAN;
}

static void watch_batch(void *ctx, const keel_progress_batch_event *ev)
{
  watch *w = ctx;
  (void)ev;
  if (w->signal && *w->signal && !w->stop)
    w->stop = *w->signal;
}

static void watch_epoch(void *ctx, const keel_progress_epoch_event *ev)
{
  watch *w = ctx;
  if (w->signal && *w->signal && !w->stop)
    w->stop = *w->signal;
  const keel_metrics *m = strcmp(w->split, "train") == 0   ? ev->train
                          : ev->valid && ev->valid->n_rows ? ev->valid
                                                           : NULL;
  double v = metric_value(m, w->name);
  w->last = v;
  unsigned long done = (unsigned long)ev->epoch + 1;
  const json_t *med = json_array_get(w->medians, (size_t)ev->epoch);
  if (!w->medians || w->stop || done < w->after || !json_is_number(med) ||
      done >= ev->epochs)
    return;
  double mv = json_number_value(med);
  /* worse than the median, or not a number at all */
  if (isfinite(v) && (w->maximize ? v >= mv : v <= mv))
    return;
  snprintf(w->reason_text, sizeof w->reason_text,
           "pruned after epoch %lu: %s.%s %.6g is worse than %.6g, the median "
           "of the earlier rounds' trials at that epoch",
           done, w->split, w->name, v, mv);
  w->reason = w->reason_text;
  w->pruned_at = done;
  w->stop = SIGTERM; /* the run stops at its next batch, sealed */
}

/* The objective after each epoch, from metrics.jsonl ("valid_accuracy"
 * for valid.accuracy): what median pruning compares later trials with. */
static json_t *curve_of(const keel_bundle *b, const char *metric)
{
  json_t *curve = json_array();
  const keel_bundle_member *m = keel_bundle_find(b, "metrics.jsonl");
  char key[64];
  snprintf(key, sizeof key, "%s", metric);
  key[strcspn(key, ".")] = '_';
  for (size_t off = 0; m && off < m->size;) {
    const char *line = (const char *)m->data + off;
    const char *nl = memchr(line, '\n', m->size - off);
    size_t n = nl ? (size_t)(nl - line) : m->size - off;
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    const json_t *v = json_object_get(o, key);
    json_array_append_new(curve, json_is_number(v)
                                     ? json_real(json_number_value(v))
                                     : json_null());
    json_decref(o);
    off += n + 1;
  }
  return curve;
}

typedef struct reuse_ctx {
  int (*find)(void *ctx, const char *input_digest, char **bundle);
  void *ctx;
  char *bundle; /* what find returned */
} reuse_ctx;

static int reuse_hook(void *ctx, const char *input_digest)
{
  reuse_ctx *r = ctx;
  return r->find && r->find(r->ctx, input_digest, &r->bundle) == 1 ? 1 : 0;
}

/* The outcome's bundle facts: path (relative to the sweep when inside
 * it), its SHA-256, run id, result digest and the objective. */
static int describe_bundle(const char *dir, const char *path,
                           const char *metric, json_t *out, keel_error *err)
{
  keel_bundle *b = NULL;
  char sha[65];
  int rc = keel_sha256_file(path, sha, NULL, err);
  if (!rc)
    rc = keel_bundle_open(path, NULL, &b, err);
  if (rc)
    return rc;
  keel_error e = {0};
  json_t *run = keel_bundle_json(b, "run.json", &e);
  size_t n = strlen(dir);
  const char *rel =
      strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
  json_object_set_new(out, "bundle", json_string(rel));
  json_object_set_new(out, "bundle_sha256", json_string(sha));
  json_object_set(out, "run_id", json_object_get(run, "run_id"));
  json_object_set(out, "result_digest", json_object_get(run, "result_digest"));
  json_t *input = json_object_get(run, "input_digest");
  json_object_set(out, "input_digest", input ? input : json_null());
  json_object_set_new(out, "curve", curve_of(b, metric));
  double x = objective_of(b, metric);
  json_object_set_new(out, "objective",
                      isfinite(x) ? json_real(x) : json_null());
  json_decref(run);
  keel_bundle_close(b);
  return KEEL_OK;
}

int keel_sweep_run_trial(const char *dir, unsigned long k, int threads,
                         const volatile sig_atomic_t *interrupt,
                         const char *registry, int reuse, keel_error *err)
{
  char *out_file = keel_sweep_trial_file(dir, k, ".json");
  char *req_file = keel_sweep_trial_file(dir, k, ".request.json");
  char *trials = keel_path_join(dir, "trials");
  if (!out_file || !req_file || !trials) {
    free(out_file);
    free(req_file);
    free(trials);
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return KEEL_EXIT_RUNTIME;
  }
  /* One process per trial: an orphan of a killed sweep that still runs
   * it holds the lock, and its outcome is then taken as is. */
  int lock = keel_fs_lock_beside(out_file, 1, err);
  int code = lock < 0 ? KEEL_EXIT_RUNTIME : KEEL_EXIT_OK;
  struct stat st;
  keel_sweep_plan *plan = NULL;
  json_error_t je;
  json_t *req = NULL, *out = NULL;
  if (!code && stat(out_file, &st) == 0)
    goto done;
  if (!code && keel_sweep_plan_open(dir, 0, &plan, err))
    code = KEEL_EXIT_RUNTIME;
  if (!code && !(req = json_load_file(req_file, 0, &je))) {
    keel_fail(err, KEEL_EIO, "%s: %s", req_file, je.text);
    code = KEEL_EXIT_RUNTIME;
  }
  if (code)
    goto done;
  json_t *ovr = json_object_get(req, "overrides");
  const char *metric = json_string_value(json_object_get(req, "objective"));
  const char *sweep_id = json_string_value(json_object_get(req, "sweep_id"));
  size_t n_ovr = plan->n_overrides + json_array_size(ovr);
  const char **all = calloc(n_ovr + 1, sizeof *all);
  if (!all || !metric || !sweep_id) {
    free(all);
    keel_fail(err, KEEL_EINVAL, "%s: malformed trial request", req_file);
    code = KEEL_EXIT_RUNTIME;
    goto done;
  }
  for (size_t i = 0; i < plan->n_overrides; i++)
    all[i] = plan->overrides[i];
  for (size_t i = 0; i < json_array_size(ovr); i++)
    all[plan->n_overrides + i] = json_string_value(json_array_get(ovr, i));
  keel_run_sweep_info info = {
      .id = sweep_id,
      .trial = k,
      .objective = metric,
      .maximize =
          strcmp(json_string_value(json_object_get(req, "direction"))
                     ? json_string_value(json_object_get(req, "direction"))
                     : "max",
                 "max") == 0};
  /* the objective's split and metric, and the pruning rule */
  watch w = {.maximize = info.maximize, .signal = interrupt};
  char split[16];
  snprintf(split, sizeof split, "%.*s", (int)strcspn(metric, "."), metric);
  w.split = split;
  w.name = strchr(metric, '.') ? strchr(metric, '.') + 1 : metric;
  const json_t *prune = json_object_get(req, "prune");
  if (json_is_object(prune) && strcmp(split, "test") != 0) {
    w.medians = json_object_get(prune, "medians");
    w.after =
        (unsigned long)json_integer_value(json_object_get(prune, "after"));
  }
  keel_progress_sink sink = {
      .batch = watch_batch, .epoch = watch_epoch, .ctx = &w};
  reuse_ctx rctx = {.find = reuse ? keel_sweep_cache_find : NULL,
                    .ctx = (void *)registry};
  keel_run_options opt = {.manifest_path = plan->manifest,
                          .overrides = all,
                          .n_overrides = n_ovr,
                          .plugin_paths = (const char *const *)plan->plugins,
                          .n_plugin_paths = plan->n_plugins,
                          .no_default_plugin_paths = 1,
                          .template_path = plan->template_path,
                          .catalog = plan->catalog,
                          /* the launch's data options: the policy decides each
                           * trial's read as it decided the plan's */
                          .data_cache = launch_option(plan, "data_cache"),
                          .ca_bundle = launch_option(plan, "ca_bundle"),
                          .policy = launch_option(plan, "policy"),
                          .data_remap = keel_sweep_plan_remap,
                          .data_remap_ctx = plan,
                          .out_dir = trials,
                          .threads = threads,
                          .interrupt = &w.stop,
                          .interrupt_reason = &w.reason,
                          .progress = &sink,
                          .include_plugins = 1,
                          .reuse = reuse_hook,
                          .reuse_ctx = &rctx,
                          .sweep = &info};
  keel_run_outcome ro;
  keel_error rerr = {0};
  keel_run_execute(&opt, &ro, &rerr);
  free(all);
  if (ro.interrupted_by && !w.pruned_at) {
    /* not an outcome: a resumed sweep runs this trial again */

    code = ro.exit_code;
    keel_run_outcome_free(&ro);
    goto done;
  }
  out = json_object();
  json_object_set_new(out, "trial", json_integer((json_int_t)k));
  json_object_set(out, "point", json_object_get(req, "point"));
  json_object_set(out, "overrides", ovr);
  json_object_set_new(out, "exit_code", json_integer(ro.exit_code));
  json_object_set_new(out, "reused", json_boolean(ro.reused));
  const char *bundle = ro.reused ? rctx.bundle : ro.bundle_path;
  keel_error berr = {0};
  int described = bundle ? describe_bundle(dir, bundle, metric, out, &berr)
                         : KEEL_ENOTFOUND;
  const char *status = "ok";
  char why[sizeof rerr.message + 64] = "";
  if (ro.exit_code) {
    status = "failed";
    snprintf(why, sizeof why, "%s", rerr.message);
  } else if (described) {
    status = "failed";
    snprintf(why, sizeof why, "the trial's bundle cannot be read: %s",
             berr.message);
  } else if (!json_is_number(json_object_get(out, "objective"))) {
    status = "failed";
    snprintf(why, sizeof why,
             "the objective %s is not a finite number in the trial's "
             "metrics.json (the run diverged, or does not report it)",
             metric);
  }
  if (described) {
    json_object_set_new(out, "bundle", json_null());
    json_object_set_new(out, "objective", json_null());
  }
  if (w.pruned_at) {
    /* a pruned trial's bundle is sealed as interrupted; its outcome is
     * the objective it had reached */
    status = "pruned";
    snprintf(why, sizeof why, "%s", w.reason_text);
    json_object_set_new(out, "objective",
                        isfinite(w.last) ? json_real(w.last) : json_null());
    json_object_set_new(out, "step", json_integer((json_int_t)w.pruned_at));
  }
  json_object_set_new(out, "status", json_string(status));
  json_object_set_new(out, "error", why[0] ? json_string(why) : json_null());
  if (ro.bundle_path && !ro.reused)
    keel_sweep_cache_register(registry, ro.bundle_path);
  keel_run_outcome_free(&ro);
  char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (!text ||
      keel_write_file_atomic(out_file, text, strlen(text), 0644, 0, err))
    code = KEEL_EXIT_RUNTIME;
  if (!text)
    keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(text);
  free(rctx.bundle);
done:
  json_decref(req);
  json_decref(out);
  keel_sweep_plan_free(plan);
  if (lock >= 0)
    close(lock);
  free(out_file);
  free(req_file);
  free(trials);
  return code;
}
