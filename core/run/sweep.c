/* The sweep driver (sweep.h): plans or reopens a sweep, starts each
 * trial as `keel sweep --trial K DIR` in a process of its own when the
 * rounds allow it, records outcomes in trial order and seals the sweep. */
#include "run/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/path.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "run/sampler.h"
#include "run/sweep_trial.h"
#include "run/tune_check.h"

extern char **environ;

void keel_sweep_outcome_free(keel_sweep_outcome *out)
{
  free(out->dir);
  free(out->bundle_path);
  json_decref(out->sweep);
  memset(out, 0, sizeof *out);
}

/* ---- state -------------------------------------------------------------- */

typedef struct running_trial {
  pid_t pid;
  unsigned long k;
} running_trial;

typedef struct driver {
  const keel_sweep_options *opt;
  keel_sweep_plan *plan;
  keel_sampler_strategy strategy;
  uint64_t seed;
  unsigned long n;     /* trials in all */
  unsigned long round; /* round size */
  int maximize;
  json_t **done;   /* trials/K.json of each ended trial, NULL before */
  double **points; /* each proposed point */
  running_trial *running;
  size_t n_running;
  unsigned long n_done;
  int threads_each;
  keel_error *err;
} driver;

static double oriented(const driver *d, const json_t *t)
{
  const json_t *v = json_object_get(t, "objective");
  double x = json_is_number(v) ? json_number_value(v) : NAN;
  return d->maximize ? -x : x;
}

static int is_ok(const json_t *t)
{
  const char *s = json_string_value(json_object_get(t, "status"));
  return s && strcmp(s, "ok") == 0;
}

/* The best ended trial (ties: the earlier), or NULL. */
static const json_t *best_of(const driver *d)
{
  const json_t *best = NULL;
  for (unsigned long k = 0; k < d->n; k++)
    if (d->done[k] && is_ok(d->done[k]) &&
        (!best || oriented(d, d->done[k]) < oriented(d, best)))
      best = d->done[k];
  return best;
}

static json_t *point_json(const double *x, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, isnan(x[i]) ? json_null() : json_real(x[i]));
  return a;
}

/* ---- proposing ---------------------------------------------------------- */

/* The point of trial k: the sampler over the outcomes of the rounds
 * before k's, in trial order. */
static int propose(driver *d, unsigned long k, keel_error *err)
{
  const keel_tune_space *s = d->plan->space;
  unsigned long first = k - k % d->round;
  keel_sampler_obs *hist = calloc(first ? first : 1, sizeof *hist);
  double *x = malloc((s->n ? s->n : 1) * sizeof *x);
  double **xs = calloc(first ? first : 1, sizeof *xs);
  int rc =
      hist && x && xs ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  size_t nh = 0;
  for (unsigned long j = 0; !rc && j < first; j++) {
    const json_t *t = d->done[j];
    const json_t *pt = json_object_get(t, "point");
    if (!(xs[nh] = malloc((s->n ? s->n : 1) * sizeof **xs))) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    for (size_t i = 0; i < s->n; i++) {
      const json_t *v = json_array_get(pt, i);
      xs[nh][i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    hist[nh].x = xs[nh];
    hist[nh].value = oriented(d, t);
    const char *st = json_string_value(json_object_get(t, "status"));
    hist[nh].status = is_ok(t)                          ? KEEL_TRIAL_COMPLETE
                      : st && strcmp(st, "pruned") == 0 ? KEEL_TRIAL_PRUNED
                                                        : KEEL_TRIAL_FAILED;
    hist[nh].step = (unsigned)json_integer_value(json_object_get(t, "step"));
    nh++;
  }
  if (!rc)
    rc = keel_sampler_propose(s, d->strategy, d->seed, k, hist, nh, x, err);
  for (size_t j = 0; j < nh; j++)
    free(xs[j]);
  free(xs);
  free(hist);
  if (rc)
    free(x);
  else
    d->points[k] = x;
  return rc;
}

/* Median pruning (Optuna's MedianPruner): a trial is judged against the
 * complete trials of the rounds before its own, once at least this many
 * of them exist. */
#define PRUNE_STARTUP_TRIALS 5

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The medians, per epoch, of the curves of the complete trials of the
 * rounds before trial k's, or NULL when pruning is off or has too few. */
static json_t *prune_medians(const driver *d, unsigned long k)
{
  unsigned long first = k - k % d->round;
  size_t n = 0, longest = 0;
  for (unsigned long j = 0; j < first; j++)
    if (d->done[j] && is_ok(d->done[j])) {
      n++;
      size_t len = json_array_size(json_object_get(d->done[j], "curve"));
      longest = len > longest ? len : longest;
    }
  if (!d->plan->space->prune_after || n < PRUNE_STARTUP_TRIALS)
    return NULL;
  json_t *medians = json_array();
  double *v = malloc(n * sizeof *v);
  for (size_t e = 0; v && e < longest; e++) {
    size_t m = 0;
    for (unsigned long j = 0; j < first; j++) {
      const json_t *x =
          d->done[j] && is_ok(d->done[j])
              ? json_array_get(json_object_get(d->done[j], "curve"), e)
              : NULL;
      if (json_is_number(x))
        v[m++] = json_number_value(x);
    }
    if (!m) {
      json_array_append_new(medians, json_null());
      continue;
    }
    qsort(v, m, sizeof *v, cmp_double);
    double med = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
    json_array_append_new(medians, json_real(med));
  }
  free(v);
  return medians;
}

/* Writes trials/K.request.json: the point, its overrides, the objective. */
static int write_request(driver *d, unsigned long k, char **values,
                         keel_error *err)
{
  const keel_tune_space *s = d->plan->space;
  size_t n = 0;
  char **o = keel_tune_overrides(s, d->points[k], &n);
  if (!o)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_t *req = json_object(), *ov = json_array();
  keel_buf v = KEEL_BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(ov, json_string(o[i]));
    keel_buf_printf(&v, "%s%s", i ? " " : "", o[i]);
  }
  keel_tune_overrides_free(o, n);
  json_object_set_new(req, "trial", json_integer((json_int_t)k));
  json_object_set_new(req, "point", point_json(d->points[k], s->n));
  json_object_set_new(req, "overrides", ov);
  json_object_set_new(req, "objective", json_string(s->objective));
  json_object_set_new(req, "direction",
                      json_string(s->maximize ? "max" : "min"));
  json_object_set_new(req, "sweep_id", json_string(d->plan->id));
  json_t *medians = prune_medians(d, k);
  if (medians)
    json_object_set_new(req, "prune",
                        json_pack("{s:I, s:o}", "after",
                                  (json_int_t)s->prune_after, "medians",
                                  medians));
  char *text = json_dumps(req, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(req);
  char *path = keel_sweep_trial_file(d->plan->dir, k, ".request.json");
  int rc = text && path && !v.failed
               ? keel_write_file_atomic(path, text, strlen(text), 0644, 0, err)
               : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(text);
  free(path);
  if (rc)
    keel_buf_free(&v);
  else
    *values = keel_buf_take(&v);
  return rc;
}

/* ---- running ------------------------------------------------------------ */

static int spawn_trial(driver *d, unsigned long k, keel_error *err)
{
  char kbuf[32], tbuf[32];
  snprintf(kbuf, sizeof kbuf, "%lu", k);
  snprintf(tbuf, sizeof tbuf, "%d", d->threads_each);
  const char *argv[12];
  size_t a = 0;
  argv[a++] = "keel";
  argv[a++] = "sweep";
  argv[a++] = "--trial";
  argv[a++] = kbuf;
  argv[a++] = "--threads";
  argv[a++] = tbuf;
  if (d->opt->registry) {
    argv[a++] = "--registry";
    argv[a++] = d->opt->registry;
  }
  if (d->opt->no_reuse)
    argv[a++] = "--no-reuse";
  argv[a++] = d->plan->dir;
  argv[a] = NULL;
  char *log = keel_sweep_trial_file(d->plan->dir, k, ".log");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (log) {
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  pid_t pid = 0;
  int e = log ? posix_spawn(&pid, d->opt->self_exe, &fa, NULL,
                            (char *const *)argv, environ)
              : ENOMEM;
  posix_spawn_file_actions_destroy(&fa);
  free(log);
  if (e)
    return keel_fail(err, KEEL_EIO, "%s: cannot start trial %lu: %s",
                     d->opt->self_exe, k, strerror(e));
  d->running[d->n_running].pid = pid;
  d->running[d->n_running].k = k;
  d->n_running++;
  return KEEL_OK;
}

/* A trial's outcome file, or NULL when it has none (yet). */
static json_t *load_outcome(const char *dir, unsigned long k)
{
  char *path = keel_sweep_trial_file(dir, k, ".json");
  json_error_t je;
  json_t *t = path ? json_load_file(path, 0, &je) : NULL;
  free(path);
  return t;
}

/* Trial k's process ended with `status` but wrote no outcome: recorded
 * as failed, unless the sweep itself is being interrupted (the trial is
 * then run again on resume). */
static json_t *outcome_without_file(driver *d, unsigned long k, int status,
                                    keel_error *err)
{
  char why[256];
  if (WIFSIGNALED(status))
    snprintf(why, sizeof why,
             "the trial's process was killed by signal %d; see trials/%lu.log",
             WTERMSIG(status), k);
  else
    snprintf(why, sizeof why,
             "the trial's process ended with exit code %d and no outcome; "
             "see trials/%lu.log",
             WEXITSTATUS(status), k);
  size_t n = 0;
  char **o = keel_tune_overrides(d->plan->space, d->points[k], &n);
  json_t *t = json_object(), *ov = json_array();
  for (size_t i = 0; o && i < n; i++)
    json_array_append_new(ov, json_string(o[i]));
  keel_tune_overrides_free(o, n);
  json_object_set_new(t, "trial", json_integer((json_int_t)k));
  json_object_set_new(t, "point", point_json(d->points[k], d->plan->space->n));
  json_object_set_new(t, "overrides", ov);
  json_object_set_new(t, "exit_code",
                      json_integer(WIFEXITED(status) ? WEXITSTATUS(status)
                                                     : 128 + WTERMSIG(status)));
  json_object_set_new(t, "reused", json_false());
  json_object_set_new(t, "bundle", json_null());
  json_object_set_new(t, "objective", json_null());
  json_object_set_new(t, "status", json_string("failed"));
  json_object_set_new(t, "error", json_string(why));
  char *text = json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  char *path = keel_sweep_trial_file(d->plan->dir, k, ".json");
  if (!text || !path ||
      keel_write_file_atomic(path, text, strlen(text), 0644, 0, err)) {
    json_decref(t);
    t = NULL;
  }
  free(text);
  free(path);
  return t;
}

static int interrupted(const driver *d)
{
  return d->opt->interrupt && *d->opt->interrupt;
}

/* Waits for one running trial to end and records it. */
static int reap_one(driver *d, keel_error *err)
{
  for (;;) {
    for (size_t i = 0; i < d->n_running; i++) {
      int status = 0;
      pid_t r = waitpid(d->running[i].pid, &status, WNOHANG);
      if (r == 0)
        continue;
      unsigned long k = d->running[i].k;
      d->running[i] = d->running[--d->n_running];
      json_t *t = load_outcome(d->plan->dir, k);
      int by_signal_exit = WIFEXITED(status) && (WEXITSTATUS(status) == 130 ||
                                                 WEXITSTATUS(status) == 143);
      if (!t && (interrupted(d) || by_signal_exit))
        return KEEL_OK; /* not an outcome: runs again on resume */
      if (!t && !(t = outcome_without_file(d, k, status, err)))
        return err->code ? err->code : KEEL_EIO;
      d->done[k] = t;
      d->n_done++;
      if (d->opt->progress && d->opt->progress->ended)
        d->opt->progress->ended(d->opt->progress->ctx, t, best_of(d), d->n_done,
                                d->n, d->n_running);
      return KEEL_OK;
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Whether trial k may start: TPE and pruning need every trial of earlier
 * rounds ended (their history); grid and random alone need none. */
static int may_start(const driver *d, unsigned long k)
{
  if (d->strategy != KEEL_SAMPLER_TPE && !d->plan->space->prune_after)
    return 1; /* neither the sampler nor pruning looks back */
  unsigned long first = k - k % d->round;
  for (unsigned long j = 0; j < first; j++)
    if (!d->done[j])
      return 0;
  return 1;
}

static int run_trials(driver *d, keel_error *err)
{
  unsigned long next = 0;
  int rc = KEEL_OK;
  for (;;) {
    while (!rc && !interrupted(d) && next < d->n &&
           d->n_running < d->opt->jobs && may_start(d, next)) {
      unsigned long k = next++;
      if ((d->done[k] = load_outcome(d->plan->dir, k))) {
        d->n_done++; /* ended before a resume */
        continue;
      }
      char *values = NULL;
      rc = propose(d, k, err);
      if (!rc)
        rc = write_request(d, k, &values, err);
      if (!rc)
        rc = spawn_trial(d, k, err);
      if (!rc && d->opt->progress && d->opt->progress->started)
        d->opt->progress->started(d->opt->progress->ctx, k, d->n, values,
                                  d->n_running);
      free(values);
    }
    if (!d->n_running)
      break;
    int r = reap_one(d, err);
    if (!rc)
      rc = r;
  }
  return rc;
}

/* ---- sealing ------------------------------------------------------------ */

json_t *keel_sweep_ranked(const json_t *sweep)
{
  int maximize =
      strcmp(json_string_value(json_object_get(sweep, "direction"))
                 ? json_string_value(json_object_get(sweep, "direction"))
                 : "max",
             "max") == 0;
  json_t *ranked = json_array();
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(sweep, "trials"), i, t)
  {
    if (!is_ok(t))
      continue;
    double v = json_number_value(json_object_get(t, "objective"));
    size_t at = json_array_size(ranked);
    while (at > 0) {
      double w = json_number_value(
          json_object_get(json_array_get(ranked, at - 1), "objective"));
      if (maximize ? v > w : v < w)
        at--;
      else
        break;
    }
    json_array_insert(ranked, at, t);
  }
  return ranked;
}

/* "name=value" overrides as {"name": "value"}. */
static json_t *params_of(const json_t *overrides)
{
  json_t *p = json_object();
  size_t i;
  json_t *o;
  json_array_foreach(overrides, i, o)
  {
    const char *s = json_string_value(o);
    const char *eq = s ? strchr(s, '=') : NULL;
    if (!eq)
      continue;
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
    json_object_set_new(p, key, json_string(eq + 1));
  }
  return p;
}

static int add_plan_files(keel_bundle_builder *b, const keel_sweep_plan *p,
                          keel_error *err)
{
  char *pj = keel_path_join(p->dir, "plan/plan.json");
  int rc = pj ? keel_bundle_add_file(b, "plan/plan.json", pj, err)
              : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(pj);
  const char *mfile = json_string_value(
      json_object_get(json_object_get(p->doc, "manifest"), "file"));
  char mname[300];
  snprintf(mname, sizeof mname, "plan/%s", mfile ? mfile : "manifest.ini");
  if (!rc)
    rc = keel_bundle_add_file(b, mname, p->manifest, err);
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(p->doc, "templates"), i, e) if (!rc)
  {
    const char *file = json_string_value(json_object_get(e, "file"));
    char name[256], *full = NULL;
    snprintf(name, sizeof name, "plan/%s", file ? file : "?");
    full = keel_path_join(p->dir, name);
    rc = full ? keel_bundle_add_file(b, name, full, err)
              : keel_fail(err, KEEL_ENOMEM, "out of memory");
    free(full);
  }
  if (!rc && p->catalog)
    rc = keel_bundle_add_file(b, "plan/dataset.ini", p->catalog, err);
  json_array_foreach(json_object_get(p->doc, "plugins"), i, e) if (!rc) rc =
      keel_bundle_add_plugin(b, json_string_value(json_object_get(e, "kind")),
                             json_string_value(json_object_get(e, "name")),
                             json_string_value(json_object_get(e, "version")),
                             "", json_string_value(json_object_get(e, "path")),
                             json_string_value(json_object_get(e, "sha256")), 0,
                             err);
  return rc;
}

static int seal_sweep(driver *d, keel_sweep_outcome *out, keel_error *err)
{
  const keel_tune_space *s = d->plan->space;
  json_t *sweep = json_object(), *trials = json_array(),
         *covered = json_array();
  size_t n_ok = 0;
  for (unsigned long k = 0; k < d->n; k++) {
    json_t *t = d->done[k];
    if (!t)
      continue;
    n_ok += (size_t)is_ok(t);
    json_array_append(trials, t);
    json_t *c = json_object();
    json_object_set_new(c, "trial", json_integer((json_int_t)k));
    json_object_set_new(c, "params",
                        params_of(json_object_get(t, "overrides")));
    json_object_set(c, "status", json_object_get(t, "status"));
    json_object_set(c, "objective", json_object_get(t, "objective"));
    json_t *rd = json_object_get(t, "result_digest");
    json_object_set(c, "result_digest", rd ? rd : json_null());
    json_array_append_new(covered, c);
  }
  const json_t *doc = d->plan->doc;
  json_object_set_new(sweep, "format", json_string("keel-sweep/1"));
  json_object_set_new(sweep, "sweep_id", json_string(d->plan->id));
  json_object_set(sweep, "manifest",
                  json_object_get(json_object_get(doc, "launch"), "manifest"));
  json_object_set_new(sweep, "strategy",
                      json_string(keel_sampler_strategy_name(d->strategy)));
  json_object_set_new(sweep, "seed", json_integer((json_int_t)d->seed));
  json_object_set_new(sweep, "trials_planned", json_integer((json_int_t)d->n));
  json_object_set_new(sweep, "round_size", json_integer((json_int_t)d->round));
  json_object_set_new(sweep, "jobs", json_integer(d->opt->jobs));
  json_object_set_new(sweep, "objective", json_string(s->objective));
  json_object_set_new(sweep, "direction",
                      json_string(s->maximize ? "max" : "min"));
  json_object_set(sweep, "space", json_object_get(doc, "space"));
  json_t *inputs = json_object();
  static const char *const keys[] = {"manifest", "templates", "dataset",
                                     "plugins", "data"};
  for (size_t i = 0; i < 5; i++)
    json_object_set(inputs, keys[i], json_object_get(doc, keys[i]));
  json_object_set_new(sweep, "inputs", inputs);
  json_object_set_new(sweep, "trials", trials);
  json_t *ranked = keel_sweep_ranked(sweep);
  json_t *best = json_array_get(ranked, 0);
  json_object_set(sweep, "best", best ? best : json_null());
  json_decref(ranked);

  char *id = d->plan->id;
  keel_bundle_builder *b = keel_bundle_builder_new(id);
  int rc = b ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc) {
    keel_bundle_builder_set_format(b, keel_bundle_format_sweep());
    rc = keel_bundle_add_json(b, "sweep.json", sweep, err);
  }
  if (!rc)
    rc = keel_bundle_add_json(b, "trials.json", covered, err);
  if (!rc)
    rc = add_plan_files(b, d->plan, err);
  if (!rc)
    rc = keel_bundle_set_info(b, "manifest_path",
                              json_string_value(json_object_get(
                                  json_object_get(doc, "launch"), "manifest")),
                              err);
  int code = n_ok ? KEEL_EXIT_OK : KEEL_EXIT_RUNTIME;
  char error[128];
  snprintf(error, sizeof error, "no trial of %lu succeeded", d->n);
  if (!rc) {
    keel_bundle_set_outcome(b, code, n_ok ? NULL : error, d->threads_each);
    char digest[65] = "";
    rc =
        keel_bundle_seal(b, d->plan->dir, NULL, &out->bundle_path, digest, err);
    memcpy(out->digest, digest, sizeof digest);
  }
  keel_bundle_builder_free(b);
  json_decref(covered);
  out->sweep = sweep;
  out->exit_code = rc ? KEEL_EXIT_RUNTIME : code;
  if (!rc && !n_ok)
    keel_fail(err, KEEL_EIO, "%s", error);
  return rc;
}

/* A sweep resumed after it was sealed: its bundle is the answer (the
 * trials are the same files it was sealed from). 1 when it exists. */
static int sealed_already(driver *d, keel_sweep_outcome *out, keel_error *err)
{
  char name[160];
  snprintf(name, sizeof name, "%s.tar.gz", d->plan->id);
  char *path = keel_path_join(d->plan->dir, name);
  keel_bundle *b = NULL;
  struct stat st;
  if (!path || stat(path, &st) != 0) {
    free(path);
    return 0;
  }
  keel_error e = {0};
  json_t *sweep = NULL;
  if (keel_bundle_open(path, NULL, &b, &e) == 0 &&
      keel_bundle_digest_of(b, out->digest, &e) == 0)
    sweep = keel_bundle_json(b, "sweep.json", &e);
  keel_bundle_close(b);
  if (!sweep) {
    keel_fail(err, KEEL_EINTEGRITY, "%s: %s", path, e.message);
    out->exit_code = KEEL_EXIT_INTEGRITY;
    free(path);
    return 1;
  }
  out->bundle_path = path;
  out->sweep = sweep;
  out->exit_code = json_is_object(json_object_get(sweep, "best"))
                       ? KEEL_EXIT_OK
                       : KEEL_EXIT_RUNTIME;
  return 1;
}

/* ---- setup -------------------------------------------------------------- */

static char *new_sweep_id(void)
{
  char *run = keel_new_run_id(); /* keel-run-<time>-<random> */
  if (!run)
    return NULL;
  size_t n = strlen(run) + 8;
  char *id = malloc(n);
  if (id)
    snprintf(id, n, "keel-sweep-%s", run + strlen("keel-run-"));
  free(run);
  return id;
}

static int online_cpus(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int keel_sweep_execute(const keel_sweep_options *opt, keel_sweep_outcome *out,
                       keel_error *err)
{
  memset(out, 0, sizeof *out);
  driver d = {.opt = opt, .err = err};
  int rc = KEEL_OK, lock = -1;
  if (opt->resume_dir) {
    rc = keel_sweep_plan_open(opt->resume_dir, 1, &d.plan, err);
    if (rc) {
      out->exit_code =
          rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY : KEEL_EXIT_CONFIG;
      return rc;
    }
    keel_buf diffs = KEEL_BUF_INIT;
    keel_error cerr = {0};
    int crc = keel_sweep_plan_compare(d.plan, &diffs, &cerr);
    if (crc || diffs.len) {
      rc = keel_fail(err, KEEL_EINVAL,
                     "%s: the sweep's inputs changed since it was planned, "
                     "so resuming it would not give the uninterrupted "
                     "sweep's trials:\n%s",
                     opt->resume_dir,
                     diffs.len ? (const char *)diffs.data : cerr.message);
      keel_buf_free(&diffs);
      keel_sweep_plan_free(d.plan);
      out->exit_code = KEEL_EXIT_CONFIG;
      return rc;
    }
    keel_buf_free(&diffs);
  } else {
    char *id = new_sweep_id();
    char *dir = id ? keel_path_join(opt->out_dir, id) : NULL;
    json_t *knobs = json_object();
    if (opt->strategy)
      json_object_set_new(knobs, "strategy", json_string(opt->strategy));
    if (opt->trials)
      json_object_set_new(knobs, "trials",
                          json_integer((json_int_t)opt->trials));
    json_object_set_new(knobs, "seed", json_integer((json_int_t)opt->seed));
    rc = !dir ? keel_fail(err, KEEL_ENOMEM, "out of memory") : KEEL_OK;
    if (!rc)
      rc = keel_sweep_plan_freeze(&opt->in, dir, id, knobs, &d.plan, err);
    json_decref(knobs);
    free(id);
    free(dir);
    if (rc) {
      out->exit_code =
          rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY
          : rc == KEEL_EINVAL || rc == KEEL_ERANGE || rc == KEEL_ENOTFOUND
              ? KEEL_EXIT_CONFIG
              : KEEL_EXIT_RUNTIME;
      return rc;
    }
  }
  out->dir = strdup(d.plan->dir);
  /* the knobs as frozen: strategy, trials, seed */
  const json_t *knobs = json_object_get(d.plan->doc, "sweep");
  const keel_tune_space *s = d.plan->space;
  const char *strategy = json_string_value(json_object_get(knobs, "strategy"));
  rc = keel_sampler_strategy_from_name(strategy ? strategy : s->strategy,
                                       &d.strategy, err);
  d.seed = (uint64_t)json_integer_value(json_object_get(knobs, "seed"));
  d.n = (unsigned long)json_integer_value(json_object_get(knobs, "trials"));
  if (!d.n)
    d.n = s->trials;
  if (!rc && d.strategy == KEEL_SAMPLER_GRID) {
    uint64_t size = 0;
    rc = keel_sampler_grid_size(s, &size, err);
    if (!rc && (!json_object_get(knobs, "trials") || size < d.n))
      d.n = (unsigned long)size;
  }
  if (!rc)
    rc = keel_sampler_check_space(s, err);
  d.round = s->round_size ? s->round_size : 1;
  d.maximize = s->maximize;
  if (rc) {
    out->exit_code = KEEL_EXIT_CONFIG;
    keel_sweep_plan_free(d.plan);
    return rc;
  }
  /* one driver per sweep */
  char *lock_path = keel_path_join(d.plan->dir, "sweep");
  lock = lock_path ? keel_fs_lock_beside(lock_path, 0, err) : KEEL_ENOMEM;
  free(lock_path);
  if (lock < 0) {
    rc = lock == KEEL_EUNSUPPORTED
             ? keel_fail(err, KEEL_EINVAL,
                         "%s: another keel sweep is running this sweep",
                         d.plan->dir)
             : lock;
    out->exit_code = KEEL_EXIT_CONFIG;
    keel_sweep_plan_free(d.plan);
    return rc;
  }
  char *trials_dir = keel_path_join(d.plan->dir, "trials");
  if (!trials_dir || keel_fs_mkdir_p(trials_dir, err))
    rc = err->code ? err->code : KEEL_ENOMEM;
  free(trials_dir);
  unsigned jobs = opt->jobs ? opt->jobs : 1;
  int threads = opt->threads > 0 ? opt->threads : online_cpus();
  d.threads_each = threads / (int)jobs > 0 ? threads / (int)jobs : 1;
  d.done = calloc(d.n + 1, sizeof *d.done);
  d.points = calloc(d.n + 1, sizeof *d.points);
  d.running = calloc(jobs, sizeof *d.running);
  if (!rc && (!d.done || !d.points || !d.running))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc && opt->progress && opt->progress->planned)
    opt->progress->planned(opt->progress->ctx, d.plan->dir, d.n,
                           keel_sampler_strategy_name(d.strategy), s->objective,
                           s->maximize);
  if (!rc)
    rc = run_trials(&d, err);
  if (!rc && interrupted(&d))
    out->exit_code = KEEL_EXIT_SIGNAL + (int)*opt->interrupt;
  else if (!rc && sealed_already(&d, out, err))
    ; /* a resume of a finished sweep: its bundle stands */
  else if (!rc)
    seal_sweep(&d, out, err);
  else
    out->exit_code = KEEL_EXIT_RUNTIME;
  for (unsigned long k = 0; k < d.n; k++) {
    json_decref(d.done ? d.done[k] : NULL);
    free(d.points ? d.points[k] : NULL);
  }
  free(d.done);
  free(d.points);
  free(d.running);
  close(lock);
  keel_sweep_plan_free(d.plan);
  if (out->exit_code >= KEEL_EXIT_SIGNAL)
    return KEEL_OK; /* interrupted: the caller says how to resume */
  return out->exit_code ? (err->code ? err->code : KEEL_EIO) : KEEL_OK;
}
