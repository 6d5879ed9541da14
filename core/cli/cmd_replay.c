/* keel replay BUNDLE [--threads N] [--out DIR] [--keep] [--plugin-path DIR]
 *                    [--trusted-key KEY] [--trust-bundled-plugins]
 *
 * Re-runs a bundle from its own files: verifies it, reports environment
 * drift, extracts it into a fresh temporary folder, runs the bundled
 * manifest against the bundled template with the plugins
 * run/plugin_trust.c allows (the bundle's own only when its signer is
 * trusted or the user says so; else installed ones with the pinned
 * SHA-256) and the bundled (or original, hash-checked) data, every value
 * pinned to what config.json records (format 2; format 1: the original
 * overrides), then compares result digests by the bundle's own rule.
 * Prints REPRODUCED and exits 0, or exits 4 saying what differs. The
 * temporary folder is made under $TMPDIR (else /tmp) and removed unless
 * --keep. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/envinfo.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/load.h"
#include "config/manifest.h"
#include "config/settings.h"
#include "run/plugin_trust.h"
#include "run/run.h"

typedef struct replay_ctx {
  const keel_bundle *b;
  const char *root;         /* <tmp>/<top> */
  json_t *lineage;          /* may be NULL */
  const char *manifest_dir; /* original run's, from run.json; may be "" */
  const char *dataset;      /* lineage source.dataset.id, or NULL */
} replay_ctx;

/* The bundled copy ("data/...") recorded next to `path` in some object of
 * the lineage, if that member exists. */
static const char *lineage_copy(const json_t *j, const char *path,
                                const keel_bundle *b, int depth)
{
  const char *key, *found = NULL;
  json_t *v;
  size_t i;
  if (depth > 16)
    return NULL;
  if (json_is_array(j)) {
    json_array_foreach(j, i, v) if ((found = lineage_copy(
                                         v, path, b, depth + 1))) return found;
    return NULL;
  }
  if (!json_is_object(j))
    return NULL;
  int names_path = 0;
  json_object_foreach((json_t *)j, key,
                      v) if (json_is_string(v) &&
                             strcmp(json_string_value(v), path) == 0)
      names_path = 1;
  json_object_foreach((json_t *)j, key, v)
  {
    const char *s = json_string_value(v);
    if (names_path && s && strncmp(s, "data/", 5) == 0 &&
        keel_bundle_find(b, s))
      return s;
    if ((json_is_object(v) || json_is_array(v)) &&
        (found = lineage_copy(v, path, b, depth + 1)))
      return found;
  }
  return NULL;
}

/* Maps a data path the source asks for: a bundled copy when there is one,
 * else the path relative to the original manifest's folder. */
static char *remap_data(void *vctx, const char *path)
{
  replay_ctx *ctx = vctx;
  const char *copy = lineage_copy(ctx->lineage, path, ctx->b, 0);
  const char *base = strrchr(path, '/');
  char name[1024];
  if (copy)
    return keel_path_join(ctx->root, copy);
  int is_dataset = ctx->dataset && strcmp(path, ctx->dataset) == 0;
  /* `keel run --include-data` stores a file as data/<path as given>. */
  snprintf(name, sizeof name, "data/%s", path);
  if (keel_bundle_find(ctx->b, name))
    return keel_path_join(ctx->root, name);
  snprintf(name, sizeof name, "data/%s", base ? base + 1 : path);
  if (keel_bundle_find(ctx->b, name))
    return keel_path_join(ctx->root, name);
  /* A path that is absolute or climbs out with ".." is bundled as
   * data/input-<first 16 hex of its SHA-256> (see run.c). */
  size_t i;
  json_t *f;
  json_array_foreach(
      json_object_get(json_object_get(ctx->lineage, "source"), "files"), i, f)
  {
    const char *p = json_string_value(json_object_get(f, "path"));
    const char *sha = json_string_value(json_object_get(f, "sha256"));
    if (p && sha && strlen(sha) == 64 && strcmp(p, path) == 0) {
      snprintf(name, sizeof name, "data/input-%.16s", sha);
      if (keel_bundle_find(ctx->b, name))
        return keel_path_join(ctx->root, name);
    }
  }
  if (is_dataset) /* not bundled: the access shim finds it (run.c) */
    return NULL;
  if (path[0] != '/' && ctx->manifest_dir && ctx->manifest_dir[0])
    return keel_path_join(ctx->manifest_dir, path);
  return NULL;
}

/* Checks every data file the lineage records ({"path", "sha256"} objects)
 * against the file the replay will read: a changed file cannot reproduce
 * the run, so it is named before anything runs. Returns the number of
 * mismatches (printed) or -1 when a file cannot be read. */
static int check_data(replay_ctx *ctx, const json_t *j, int depth)
{
  const char *key;
  json_t *v;
  size_t i;
  int bad = 0, r;
  if (depth > 16)
    return 0;
  if (json_is_array(j)) {
    json_array_foreach(j, i, v)
    {
      if ((r = check_data(ctx, v, depth + 1)) < 0)
        return r;
      bad += r;
    }
    return bad;
  }
  if (!json_is_object(j))
    return 0;
  {
    const char *path = json_string_value(json_object_get(j, "path"));
    const char *want = json_string_value(json_object_get(j, "sha256"));
    char *mapped =
        path && want && strlen(want) == 64 ? remap_data(ctx, path) : NULL;
    if (!mapped && path && ctx->dataset && strcmp(path, ctx->dataset) == 0)
      want = NULL; /* checked as the run reads it, against the catalog */
    if (path && want && strlen(want) == 64) {
      char hex[65];
      keel_error err = {0};
      const char *file = mapped ? mapped : path;
      if (keel_sha256_file(file, hex, NULL, &err) != 0) {
        keel_cli_error("replay", "data %s: %s", path, err.message);
        free(mapped);
        return -1;
      }
      if (strcmp(hex, want) != 0) {
        keel_cli_error("replay", "data %s (%s) has SHA-256 %s, the run read %s",
                       path, file, hex, want);
        bad++;
      }
    }
    free(mapped);
  }
  json_object_foreach((json_t *)j, key, v)
  {
    if (!json_is_object(v) && !json_is_array(v))
      continue;
    if ((r = check_data(ctx, v, depth + 1)) < 0)
      return r;
    bad += r;
  }
  return bad;
}

/* Refuses plugins whose bytes differ from plugins.json. */
static int check_plugins(const keel_bundle *b, const json_t *plugins,
                         size_t *n_bundled)
{
  json_t *p;
  size_t i;
  *n_bundled = 0;
  json_array_foreach(json_object_get(plugins, "plugins"), i, p)
  {
    const char *file = json_string_value(json_object_get(p, "file"));
    const char *sha = json_string_value(json_object_get(p, "sha256"));
    const keel_bundle_member *m = file ? keel_bundle_find(b, file) : NULL;
    char hex[65];
    if (!m)
      continue;
    keel_sha256_hex(m->data, m->size, hex);
    if (!sha || strcmp(hex, sha) != 0) {
      keel_cli_error("replay",
                     "refusing plugin %s: its SHA-256 %s differs from "
                     "plugins.json (%s)",
                     file, hex, sha ? sha : "none");
      return KEEL_EXIT_INTEGRITY;
    }
    (*n_bundled)++;
  }
  return 0;
}

/* The overrides a replay hands the run, owned. */
typedef struct override_list {
  char **items;
  size_t n;
} override_list;

/* Appends "SECTION.NAME=TEXT" (SECTION NULL: TEXT alone) to list. 0, or
 * -1 out of memory. */
static int push_override(override_list *list, const char *section,
                         const char *name, const char *text)
{
  size_t n = strlen(text) + 3 + (section ? strlen(section) + strlen(name) : 0);
  char *s = malloc(n);
  char **grown = realloc(list->items, (list->n + 1) * sizeof *grown);
  if (grown)
    list->items = grown;
  if (!s || !grown) {
    free(s);
    return -1;
  }
  if (section)
    snprintf(s, n, "%s.%s=%s", section, name, text);
  else
    snprintf(s, n, "%s", text);
  list->items[list->n++] = s;
  return 0;
}

/* 1 when stage SECTION of a recorded config.json lists parameter NAME. */
static int recorded(const json_t *cfg, const char *section, const char *name)
{
  json_t *st, *p;
  size_t i, k;
  json_array_foreach(json_object_get(cfg, "stages"), i, st)
  {
    if (strcmp(keel_jstr(st, "section"), section) != 0)
      continue;
    json_array_foreach(json_object_get(st, "params"), k, p)
    {
      if (strcmp(keel_jstr(p, "name"), name) == 0)
        return 1;
    }
  }
  return 0;
}

/* What the replay resolves, by the bundle's format (bundle_format.c):
 *   format 2 on: every value config.json records, pinned as an override,
 *     so neither the template nor a default of this keel can change it;
 *   format 1: the bundled manifest re-resolved with the original
 *     overrides (config_full.json, else config.json), its own rule;
 * both: the thread count left to --threads, and a host parameter the
 * bundle does not record at its neutral value (config.h). Returns 0 or
 * -1 out of memory. */
/* 1 when config_full.json says section.name came from the catalog entry
 * of a [source] dataset: the replay takes it from the sealed entry
 * (dataset.ini), as the run did, not as an override (which a dataset
 * refuses for what its entry sets). */
static int catalog_set(const json_t *full, const char *section,
                       const char *name)
{
  const json_t *st, *p;
  size_t i, k;
  json_array_foreach(json_object_get(full, "stages"), i, st)
  {
    if (strcmp(keel_jstr(st, "section") ? keel_jstr(st, "section") : "",
               section) != 0)
      continue;
    json_array_foreach(json_object_get(st, "params"), k, p)
    {
      const char *n = keel_jstr(p, "name"), *o = keel_jstr(p, "origin");
      if (n && o && strcmp(n, name) == 0)
        return strcmp(o, "catalog") == 0;
    }
  }
  return 0;
}

static int replay_overrides(const keel_bundle *b, const keel_bundle_format *f,
                            override_list *out)
{
  json_t *cfg = keel_bundle_cli_json(b, "config.json");
  json_t *full = keel_bundle_cli_json(b, "config_full.json");
  json_t *st, *p, *v;
  size_t i, k;
  int rc = 0;
  if (f->replay_runs_recorded_values) {
    json_array_foreach(json_object_get(cfg, "stages"), i, st)
    {
      const char *section = keel_jstr(st, "section");
      json_array_foreach(json_object_get(st, "params"), k, p)
      {
        const char *name = keel_jstr(p, "name");
        if (!rc &&
            !(strcmp(section, "train") == 0 && strcmp(name, "threads") == 0) &&
            !catalog_set(full, section, name))
          rc = push_override(out, section, name, keel_jstr(p, "text"));
      }
    }
  } else {
    json_array_foreach(json_object_get(full ? full : cfg, "overrides"), i, v)
    {
      const char *s = json_string_value(v);
      if (!rc && s && strncmp(s, "train.threads=", 14) != 0)
        rc = push_override(out, NULL, NULL, s);
    }
  }
  for (const keel_host_neutral *n = keel_host_neutrals; !rc && n->section; n++)
    if (!recorded(cfg, n->section, n->name))
      rc = push_override(out, n->section, n->name, n->text);
  json_decref(cfg);
  json_decref(full);
  return rc;
}

/* ---- the command ----------------------------------------------------------
 */

typedef struct replay_args {
  int threads;
  const char *out;
  int keep;
  const char *cache;
  const char *ca_bundle;
  keel_cli_list plugin_paths;
  keel_cli_list trusted_keys;
  int trust_bundled;
} replay_args;

static const keel_cli_option replay_options[] = {
    {"cache", 0, KEEL_CLI_PATH, "DIR",
     "the data cache a dataset is read from first (the `data_cache` "
     "setting)",
     offsetof(replay_args, cache), 0, 0},
    {"ca-bundle", 0, KEEL_CLI_PATH, "FILE",
     "trust these CAs when fetching an https dataset (the `ca_bundle` "
     "setting)",
     offsetof(replay_args, ca_bundle), 0, 0},
    {"threads", 0, KEEL_CLI_INT, "N",
     "OpenMP threads for the re-run; the result does not depend on them",
     offsetof(replay_args, threads), 1, 1024},
    {"out", 0, KEEL_CLI_PATH, "DIR",
     "keep the replayed bundle in DIR (default: the temporary folder)",
     offsetof(replay_args, out), 0, 0},
    {"keep", 0, KEEL_CLI_FLAG, NULL,
     "keep the temporary folder (the extracted bundle and the replay)",
     offsetof(replay_args, keep), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "installed plugin folder or .so file to find the bundle's plugins in "
     "by SHA-256 (replaces plugin_path)",
     offsetof(replay_args, plugin_paths), 0, 0},
    {"trusted-key", 0, KEEL_CLI_LIST, "KEY",
     "trust bundles signed by this Ed25519 public key (replaces "
     "trusted_keys)",
     offsetof(replay_args, trusted_keys), 0, 0},
    {"trust-bundled-plugins", 0, KEEL_CLI_FLAG, NULL,
     "load the bundle's own plugin binaries, signed or not: runs its code",
     offsetof(replay_args, trust_bundled), 0, 0},
};

const keel_cli_command keel_cli_replay = {
    .name = "replay",
    .main = keel_cmd_replay,
    .summary = "re-run a bundle offline and compare its result digest",
    .operands = "BUNDLE",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no bundle given",
    .too_many = "one bundle at a time",
    .options = replay_options,
    .n_options = KEEL_CLI_COUNT(replay_options),
};

/* One replay, from the opened bundle to the comparison; everything it
 * holds is released by replay_cleanup. */
typedef struct replay_job {
  const char *path;        /* the bundle as given (borrowed) */
  const replay_args *args; /* borrowed */
  keel_bundle *b;
  char *tmp; /* the temporary folder; NULL until made */
  char *root, *manifest, *template_path, *out_tmp;
  char *catalog;         /* <root>/dataset.ini when the run read a dataset */
  keel_plugin_plan plan; /* which file each plugin loads from */
  const char **plugin_paths; /* the plan's files, in its order */
  size_t n_bundled;          /* plugins the bundle carries */
  const keel_bundle_format *format;
  override_list overrides; /* what the replay resolves */
  json_t *plugins, *run;
  replay_ctx ctx;
  keel_run_outcome outcome;
} replay_job;

/* $TMPDIR/keel-replay-XXXXXX ($TMPDIR unset or empty: /tmp), made; NULL
 * after saying why. */
static char *make_temp_dir(void)
{
  const char *base = getenv("TMPDIR");
  char *dir;
  if (!base || !base[0])
    base = "/tmp";
  dir = keel_path_join(base, "keel-replay-XXXXXX");
  if (dir && mkdtemp(dir))
    return dir;
  keel_cli_error("replay", "cannot create a temporary folder in %s: %s", base,
                 dir ? strerror(errno) : "out of memory");
  free(dir);
  return NULL;
}

/* Environment drift first: a replay on another machine may legitimately
 * differ, and the user should know why before the result. */
static void report_drift(const keel_bundle *b)
{
  json_t *then = keel_bundle_cli_json(b, "environment.json");
  json_t *now = keel_envinfo_capture();
  char *drift = NULL;
  size_t n_drift = 0;
  keel_error err = {0};
  if (then && now &&
      keel_envinfo_drift(then, now, &drift, &n_drift, &err) == 0) {
    if (n_drift)
      fprintf(stderr, "keel replay: environment drift (%zu):\n%s", n_drift,
              drift);
    else
      keel_cli_error("replay", "no environment drift");
  }
  free(drift);
  json_decref(then);
  json_decref(now);
}

/* Opens and verifies the bundle, reports drift, and refuses a bundle whose
 * plugins or run files are not there to replay. Returns an exit code. */
static int replay_open(replay_job *j)
{
  keel_error err = {0};
  int code = keel_bundle_cli_open("replay", j->path, 1, &j->b);
  if (code)
    return code;
  if (keel_bundle_format_of(j->b, &j->format, &err) != 0) {
    keel_cli_error("replay", "%s: %s", j->path, err.message);
    return KEEL_EXIT_INTEGRITY;
  }
  if (j->format->sweep) { /* the trials are the runs */
    keel_cli_error("replay",
                   "%s is a sweep's bundle, not a run's: replay one of its "
                   "trials' bundles (keel show %s lists them)",
                   j->path, j->path);
    return KEEL_EXIT_CONFIG;
  }
  json_t *run = keel_bundle_json(j->b, "run.json", NULL);
  const char *status = json_string_value(json_object_get(run, "status"));
  int interrupted = status && strcmp(status, "interrupted") == 0;
  json_decref(run);
  if (interrupted) { /* no finished result to compare with */
    keel_cli_error("replay",
                   "%s is an interrupted run: there is no finished result "
                   "to reproduce; finish it with `keel run MANIFEST --resume "
                   "%s`, then replay that bundle",
                   j->path, j->path);
    return KEEL_EXIT_CONFIG;
  }
  report_drift(j->b);
  j->plugins = keel_bundle_cli_json(j->b, "plugins.json");
  code = check_plugins(j->b, j->plugins, &j->n_bundled);
  if (code)
    return code;
  if (!keel_bundle_find(j->b, "manifest.ini") ||
      !keel_bundle_find(j->b, "template.ini")) {
    keel_cli_error("replay",
                   "%s has no manifest.ini or template.ini "
                   "(the run failed before validation?)",
                   j->path);
    return KEEL_EXIT_INTEGRITY;
  }
  return 0;
}

/* Says which file each plugin loads from, and why it may. */
static void report_plan(const keel_plugin_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++) {
    const keel_plugin_pick *p = &plan->picks[i];
    if (p->origin == KEEL_PLUGIN_BUNDLED_SIGNED)
      keel_cli_error("replay", "%s %s %s: bundled-trusted (signed by %s)",
                     p->kind, p->name, p->version, plan->signer_key);
    else if (p->origin == KEEL_PLUGIN_BUNDLED_FLAG)
      keel_cli_error("replay", "%s %s %s: bundled (--trust-bundled-plugins)",
                     p->kind, p->name, p->version);
    else
      keel_cli_error("replay", "%s %s %s: installed %s", p->kind, p->name,
                     p->version, p->file);
  }
  if (plan->signed_untrusted)
    keel_cli_error("replay", "the bundle is signed by no trusted key: its "
                             "plugins were treated as unsigned");
}

/* The trust decision (run/plugin_trust.h) over the settings plugin_path
 * and trusted_keys (flags > KEEL_* > config.ini > defaults). Returns an
 * exit code. */
static int replay_choose_plugins(replay_job *j)
{
  const replay_args *a = j->args;
  keel_settings s;
  keel_error err = {0};
  int rc = keel_settings_load(&s, &err);
  if (!rc)
    rc = keel_settings_set_flag(&s, KEEL_SETTING_PLUGIN_PATH,
                                a->plugin_paths.items, a->plugin_paths.n, &err);
  if (!rc)
    rc = keel_settings_set_flag(&s, KEEL_SETTING_TRUSTED_KEYS,
                                a->trusted_keys.items, a->trusted_keys.n, &err);
  if (rc) {
    keel_cli_error("replay", "%s", err.message);
    keel_settings_free(&s);
    return keel_config_exit_code(rc);
  }
  const keel_setting *keys = &s.items[KEEL_SETTING_TRUSTED_KEYS];
  keel_plugin_trust_request rq = {
      .bundle = j->b,
      .root = j->root,
      .trusted_keys = keys->value,
      .keys_configured = keys->source != KEEL_SETTING_FROM_DEFAULT,
      .trust_bundled = a->trust_bundled,
      .search_path = s.items[KEEL_SETTING_PLUGIN_PATH].value,
  };
  rc = keel_plugin_plan_make(&rq, &j->plan, &err);
  keel_settings_free(&s);
  if (rc) {
    keel_cli_error("replay", "%s", err.message);
    return rc == KEEL_EINTEGRITY                 ? KEEL_EXIT_INTEGRITY
           : rc == KEEL_EIO || rc == KEEL_ENOMEM ? KEEL_EXIT_RUNTIME
                                                 : KEEL_EXIT_CONFIG;
  }
  report_plan(&j->plan);
  if (!(j->plugin_paths = calloc(j->plan.n + 1, sizeof *j->plugin_paths)))
    return KEEL_EXIT_RUNTIME;
  for (size_t i = 0; i < j->plan.n; i++)
    j->plugin_paths[i] = j->plan.picks[i].file;
  return 0;
}

/* Extracts the bundle into a fresh temporary folder and names the files
 * the run will read there. Returns an exit code. */
static int replay_extract(replay_job *j)
{
  keel_error err = {0};
  if (!(j->tmp = make_temp_dir()))
    return KEEL_EXIT_RUNTIME;
  if (keel_bundle_extract(j->b, j->tmp, &err) != 0) {
    keel_cli_error("replay", "%s", err.message);
    return KEEL_EXIT_RUNTIME;
  }
  j->root = keel_path_join(j->tmp, j->b->top);
  j->manifest = keel_path_join(j->root, "manifest.ini");
  /* keel-bundle/3: resolve against the sealed chain (the derived file
   * finds its bases beside it in templates/), never the template path */
  json_t *tj = keel_bundle_find(j->b, "templates.json")
                   ? keel_bundle_cli_json(j->b, "templates.json")
                   : NULL;
  const char *first = json_string_value(json_object_get(
      json_array_get(json_object_get(tj, "chain"), 0), "member"));
  j->template_path = keel_path_join(j->root, first ? first : "template.ini");
  json_decref(tj);
  j->out_tmp = keel_path_join(j->tmp, "out");
  if (!j->root || !j->manifest || !j->template_path || !j->out_tmp)
    return KEEL_EXIT_RUNTIME;
  return replay_choose_plugins(j);
}

/* Everything the run reads besides the files: the original overrides, the
 * data map, and the data itself checked against the lineage. Returns an
 * exit code. */
static int replay_prepare(replay_job *j)
{
  int code = replay_open(j);
  if (!code)
    code = replay_extract(j);
  if (code)
    return code;
  j->run = keel_bundle_cli_json(j->b, "run.json");
  if (replay_overrides(j->b, j->format, &j->overrides) != 0) {
    keel_cli_error("replay", "out of memory");
    return KEEL_EXIT_RUNTIME;
  }
  j->ctx.b = j->b;
  j->ctx.root = j->root;
  j->ctx.lineage = keel_bundle_cli_json(j->b, "lineage.json");
  j->ctx.manifest_dir = keel_jstr(j->run, "manifest_dir");
  j->ctx.dataset = keel_jstr(
      json_object_get(json_object_get(j->ctx.lineage, "source"), "dataset"),
      "id");
  /* A catalog dataset is looked up in the entry the run sealed, and read
   * through the access shim (cache first for http(s)), checked against
   * the catalogued hash as the run reads it. */
  if (keel_bundle_find(j->b, "dataset.ini") &&
      !(j->catalog = keel_path_join(j->root, "dataset.ini"))) {
    keel_cli_error("replay", "out of memory");
    return KEEL_EXIT_RUNTIME;
  }
  int bad = check_data(&j->ctx, j->ctx.lineage, 0);
  if (bad < 0) {
    keel_cli_error("replay",
                   "cannot replay %s: a data file the run "
                   "read is neither bundled nor readable",
                   j->b->top);
    return KEEL_EXIT_RUNTIME;
  }
  if (bad > 0) {
    printf("NOT REPRODUCED %s: the data differs from what the run read\n",
           j->b->top);
    return KEEL_EXIT_NOT_REPRODUCED;
  }
  return 0;
}

/* Re-runs the bundled manifest with only the bundle's template, plugins
 * and data. Returns an exit code; 0 when a replayed bundle was sealed. */
static int replay_execute(replay_job *j)
{
  keel_error err = {0};
  const replay_args *a = j->args;
  keel_run_options opt = {
      .manifest_path = j->manifest,
      .overrides = (const char *const *)j->overrides.items,
      .n_overrides = j->overrides.n,
      .plugin_paths = j->plugin_paths,
      .n_plugin_paths = j->plan.n,
      .no_default_plugin_paths = 1,
      .template_path = j->template_path,
      .catalog = j->catalog,
      .data_cache = a->cache,
      .ca_bundle = a->ca_bundle,
      .data_remap = remap_data,
      .data_remap_ctx = &j->ctx,
      .out_dir = a->out ? a->out : j->out_tmp,
      .threads = a->threads,
      .include_plugins = 1,
      .freshness_report_only = 1, /* the clock moved since the seal */
  };
  int rc = keel_run_execute(&opt, &j->outcome, &err);
  if (rc != 0 && !j->outcome.bundle_path) {
    keel_cli_error("replay", "the replay failed: %s", err.message);
    /* No bundle because the output could not be written (or memory ran
     * out) says nothing about the run: a runtime failure, as for `run`.
     * A re-run that failed in its computation is not reproduced. */
    if (j->outcome.exit_code == KEEL_EXIT_INTEGRITY)
      return KEEL_EXIT_INTEGRITY; /* the dataset's bytes are not the ones */
    return rc == KEEL_EIO || rc == KEEL_ENOMEM || rc == KEEL_ENOTFOUND
               ? KEEL_EXIT_RUNTIME
               : KEEL_EXIT_NOT_REPRODUCED;
  }
  if (rc != 0)
    keel_cli_error("replay", "the replayed run failed: %s", err.message);
  return 0;
}

/* REPRODUCED when the replay's result digest is the bundle's; else what
 * differs (keel diff) and exit 4. */
static int replay_compare(replay_job *j)
{
  keel_error err = {0};
  char digest[65];
  const char *got = j->outcome.result_digest;
  /* The bundle's results as this keel's format defines the digest (the
   * replay is sealed in it); for a current-format bundle its own. */
  if (keel_bundle_digest_current(j->b, digest, &err) != 0) {
    keel_cli_error("replay", "%s", err.message);
    return KEEL_EXIT_INTEGRITY;
  }
  if (strcmp(digest, got) == 0) {
    if (j->format == keel_bundle_format_current())
      printf("REPRODUCED %s (result digest %s)\n", j->b->top, digest);
    else
      printf("REPRODUCED %s (result digest %s as %s; the %s bundle's own "
             "is in its digest.txt)\n",
             j->b->top, digest, keel_bundle_format_current()->name,
             j->format->name);
    return KEEL_EXIT_OK;
  }
  char *args[] = {"diff", "--", (char *)j->path, j->outcome.bundle_path, NULL};
  fflush(stdout);
  keel_cmd_diff(4, args);
  printf("NOT REPRODUCED %s: result digest %s, replay gave %s\n", j->b->top,
         digest, got[0] ? got : "none");
  if (j->args->out || j->args->keep)
    printf("replayed bundle: %s\n", j->outcome.bundle_path);
  return KEEL_EXIT_NOT_REPRODUCED;
}

static void replay_cleanup(replay_job *j)
{
  if (j->tmp) {
    if (j->args->keep)
      keel_cli_error("replay", "kept %s", j->tmp);
    else
      keel_fs_remove_tree(j->tmp);
  }
  keel_run_outcome_free(&j->outcome);
  json_decref(j->ctx.lineage);
  json_decref(j->run);
  json_decref(j->plugins);
  for (size_t i = 0; i < j->overrides.n; i++)
    free(j->overrides.items[i]);
  free(j->overrides.items);
  free(j->plugin_paths);
  free(j->root);
  free(j->manifest);
  free(j->template_path);
  free(j->catalog);
  keel_plugin_plan_free(&j->plan);
  free(j->out_tmp);
  free(j->tmp);
  keel_bundle_close(j->b);
}

int keel_cmd_replay(int argc, char **argv)
{
  replay_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_replay, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO) {
    replay_job j = {.path = ops.args.items[0], .args = &a};
    code = replay_prepare(&j);
    if (!code)
      code = replay_execute(&j);
    if (!code)
      code = replay_compare(&j);
    replay_cleanup(&j);
  }
  keel_cli_free(&keel_cli_replay, &a, &ops);
  return code;
}
