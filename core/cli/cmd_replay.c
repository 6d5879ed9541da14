/* keel replay BUNDLE [--threads N] [--out DIR] [--keep] [--plugin-path DIR]
 *
 * Re-runs a bundle from its own files: verifies it, reports environment
 * drift, extracts it into a fresh temporary folder, runs the bundled
 * manifest against the bundled template with only the bundled plugins and
 * the bundled (or original, hash-checked) data, then compares result
 * digests. Prints REPRODUCED and exits 0, or exits 4 saying what differs. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bundle_cli.h"
#include "base/path.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "bundle/envinfo.h"
#include "config/manifest.h"
#include "run/run.h"
#include "base/sha256.h"
#include "base/status.h"

typedef struct replay_ctx {
  const keel_bundle *b;
  const char *root;       /* <tmp>/<top> */
  json_t *lineage;        /* may be NULL */
  const char *manifest_dir; /* original run's, from run.json; may be "" */
} replay_ctx;

static int usage(const char *why)
{
  fprintf(stderr,
          "keel replay: %s\nusage: keel replay BUNDLE [--threads N] "
          "[--out DIR] [--keep] [--plugin-path DIR]...\n",
          why);
  return KEEL_EXIT_CONFIG;
}

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
    json_array_foreach(j, i, v) if ((found = lineage_copy(v, path, b,
                                                           depth + 1)))
        return found;
    return NULL;
  }
  if (!json_is_object(j))
    return NULL;
  int names_path = 0;
  json_object_foreach((json_t *)j, key, v) if (json_is_string(v) &&
                                               strcmp(json_string_value(v),
                                                      path) == 0)
      names_path = 1;
  json_object_foreach((json_t *)j, key, v) {
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
  json_array_foreach(json_object_get(json_object_get(ctx->lineage, "source"),
                                     "files"), i, f) {
    const char *p = json_string_value(json_object_get(f, "path"));
    const char *sha = json_string_value(json_object_get(f, "sha256"));
    if (p && sha && strlen(sha) == 64 && strcmp(p, path) == 0) {
      snprintf(name, sizeof name, "data/input-%.16s", sha);
      if (keel_bundle_find(ctx->b, name))
        return keel_path_join(ctx->root, name);
    }
  }
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
    json_array_foreach(j, i, v) {
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
    if (path && want && strlen(want) == 64) {
      char *mapped = remap_data(ctx, path), hex[65];
      keel_error err = {0};
      const char *file = mapped ? mapped : path;
      if (keel_sha256_file(file, hex, NULL, &err) != 0) {
        fprintf(stderr, "keel replay: data %s: %s\n", path, err.message);
        free(mapped);
        return -1;
      }
      if (strcmp(hex, want) != 0) {
        fprintf(stderr,
                "keel replay: data %s (%s) has SHA-256 %s, the run read %s\n",
                path, file, hex, want);
        bad++;
      }
      free(mapped);
    }
  }
  json_object_foreach((json_t *)j, key, v) {
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
  json_array_foreach(json_object_get(plugins, "plugins"), i, p) {
    const char *file = json_string_value(json_object_get(p, "file"));
    const char *sha = json_string_value(json_object_get(p, "sha256"));
    const keel_bundle_member *m = file ? keel_bundle_find(b, file) : NULL;
    char hex[65];
    if (!m)
      continue;
    keel_sha256_hex(m->data, m->size, hex);
    if (!sha || strcmp(hex, sha) != 0) {
      fprintf(stderr,
              "keel replay: refusing plugin %s: its SHA-256 %s differs from "
              "plugins.json (%s)\n",
              file, hex, sha ? sha : "none");
      return KEEL_EXIT_INTEGRITY;
    }
    (*n_bundled)++;
  }
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* The original run's overrides (except the thread count), so the replay
 * resolves the same values. */
static const char **original_overrides(const keel_bundle *b, size_t *n,
                                       json_t **holder)
{
  json_t *cfg = keel_bundle_cli_json(b, "config_full.json");
  json_t *ovr, *v;
  const char **out;
  size_t i;
  if (!cfg)
    cfg = keel_bundle_cli_json(b, "config.json");
  *holder = cfg;
  *n = 0;
  ovr = json_object_get(cfg, "overrides");
  out = calloc(json_array_size(ovr) + 1, sizeof *out);
  if (!out)
    return NULL;
  json_array_foreach(ovr, i, v) {
    const char *s = json_string_value(v);
    if (s && strncmp(s, "train.threads=", 14) != 0)
      out[(*n)++] = s;
  }
  return out;
}

int keel_cmd_replay(int argc, char **argv)
{
  const char *path = NULL, *out_dir = NULL;
  const char **plugin_paths = calloc((size_t)argc + 1, sizeof *plugin_paths);
  const char **overrides = NULL;
  size_t n_paths = 0, n_overrides = 0, n_bundled = 0, n_drift = 0;
  int threads = 0, keep = 0, code;
  keel_bundle *b = NULL;
  keel_error err = {0};
  keel_run_options opt = {0};
  keel_run_outcome outcome = {0};
  json_t *env_then = NULL, *env_now = NULL, *plugins = NULL, *run = NULL,
         *cfg_holder = NULL;
  char tmp[] = "/tmp/keel-replay-XXXXXX", *root = NULL, *manifest = NULL,
       *template_path = NULL, *plugin_dir = NULL, *out_tmp = NULL,
       *drift = NULL, digest[65];
  replay_ctx ctx = {0};
  int made_tmp = 0;
  if (!plugin_paths)
    return KEEL_EXIT_RUNTIME;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
      if (keel_cli_parse_threads(argv[++i], &threads)) {
        char why[128];
        snprintf(why, sizeof why, KEEL_CLI_THREADS_HELP ", not '%.40s'",
                 argv[i]);
        free(plugin_paths);
        return usage(why);
      }
    } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (strcmp(a, "--plugin-path") == 0 && i + 1 < argc) {
      plugin_paths[1 + n_paths++] = argv[++i]; /* [0]: the bundle's */
    } else if (strcmp(a, "--keep") == 0) {
      keep = 1;
    } else if (a[0] == '-' && a[1]) {
      free(plugin_paths);
      return usage("unknown option");
    } else if (!path) {
      path = a;
    } else {
      free(plugin_paths);
      return usage("one bundle at a time");
    }
  }
  if (!path) {
    free(plugin_paths);
    return usage("no bundle given");
  }
  code = keel_bundle_cli_open("replay", path, 1, &b);
  if (code)
    goto out;

  /* Environment drift first: a replay on another machine may legitimately
   * differ, and the user should know why before the result. */
  env_then = keel_bundle_cli_json(b, "environment.json");
  env_now = keel_envinfo_capture();
  if (env_then && env_now &&
      keel_envinfo_drift(env_then, env_now, &drift, &n_drift, &err) == 0) {
    if (n_drift)
      fprintf(stderr, "keel replay: environment drift (%zu):\n%s", n_drift,
              drift);
    else
      fprintf(stderr, "keel replay: no environment drift\n");
  }

  plugins = keel_bundle_cli_json(b, "plugins.json");
  code = check_plugins(b, plugins, &n_bundled);
  if (code)
    goto out;
  if (!keel_bundle_find(b, "manifest.ini") ||
      !keel_bundle_find(b, "template.ini")) {
    fprintf(stderr, "keel replay: %s has no manifest.ini or template.ini "
                    "(the run failed before validation?)\n",
            path);
    code = KEEL_EXIT_INTEGRITY;
    goto out;
  }
  if (!mkdtemp(tmp)) {
    fprintf(stderr, "keel replay: cannot create a temporary folder\n");
    code = KEEL_EXIT_RUNTIME;
    goto out;
  }
  made_tmp = 1;
  if (keel_bundle_extract(b, tmp, &err) != 0) {
    fprintf(stderr, "keel replay: %s\n", err.message);
    code = KEEL_EXIT_RUNTIME;
    goto out;
  }
  root = keel_path_join(tmp, b->top);
  manifest = keel_path_join(root, "manifest.ini");
  template_path = keel_path_join(root, "template.ini");
  plugin_dir = keel_path_join(root, "plugins");
  out_tmp = keel_path_join(tmp, "out");
  if (!root || !manifest || !template_path || !plugin_dir || !out_tmp) {
    code = KEEL_EXIT_RUNTIME;
    goto out;
  }
  if (n_bundled == 0 && n_paths == 0) {
    fprintf(stderr, "keel replay: %s carries no plugins (made with "
                    "--no-plugins); pass --plugin-path DIR\n",
            path);
    code = KEEL_EXIT_CONFIG;
    goto out;
  }
  /* Only the bundle's plugins (first), then any --plugin-path given. */
  plugin_paths[0] = plugin_dir;
  run = keel_bundle_cli_json(b, "run.json");
  overrides = original_overrides(b, &n_overrides, &cfg_holder);
  ctx.b = b;
  ctx.root = root;
  ctx.lineage = keel_bundle_cli_json(b, "lineage.json");
  ctx.manifest_dir = keel_jstr(run, "manifest_dir");

  {
    int bad = check_data(&ctx, ctx.lineage, 0);
    if (bad < 0) {
      fprintf(stderr, "keel replay: cannot replay %s: a data file the run "
                      "read is neither bundled nor readable\n",
              b->top);
      code = KEEL_EXIT_RUNTIME;
      goto out;
    }
    if (bad > 0) {
      printf("NOT REPRODUCED %s: the data differs from what the run read\n",
             b->top);
      code = KEEL_EXIT_NOT_REPRODUCED;
      goto out;
    }
  }
  opt.manifest_path = manifest;
  opt.overrides = overrides;
  opt.n_overrides = n_overrides;
  opt.plugin_paths = n_bundled ? plugin_paths : plugin_paths + 1;
  opt.n_plugin_paths = n_paths + (n_bundled ? 1 : 0);
  opt.no_default_plugin_paths = 1;
  opt.template_path = template_path;
  opt.data_remap = remap_data;
  opt.data_remap_ctx = &ctx;
  opt.out_dir = out_dir ? out_dir : out_tmp;
  opt.threads = threads;
  opt.include_plugins = 1;
  {
    int rc = keel_run_execute(&opt, &outcome, &err);
    if (rc != 0 && !outcome.bundle_path) {
      fprintf(stderr, "keel replay: the replay failed: %s\n", err.message);
      code = KEEL_EXIT_NOT_REPRODUCED;
      goto out;
    }
    if (rc != 0)
      fprintf(stderr, "keel replay: the replayed run failed: %s\n",
              err.message);
  }
  if (keel_bundle_digest_of(b, digest, &err) != 0) {
    fprintf(stderr, "keel replay: %s\n", err.message);
    code = KEEL_EXIT_INTEGRITY;
    goto out;
  }
  if (strcmp(digest, outcome.result_digest) == 0) {
    printf("REPRODUCED %s (result digest %s)\n", b->top, digest);
    code = KEEL_EXIT_OK;
  } else {
    char *args[] = {"diff", (char *)path, outcome.bundle_path, NULL};
    fflush(stdout);
    keel_cmd_diff(3, args);
    printf("NOT REPRODUCED %s: result digest %s, replay gave %s\n", b->top,
           digest, outcome.result_digest[0] ? outcome.result_digest : "none");
    if (out_dir || keep)
      printf("replayed bundle: %s\n", outcome.bundle_path);
    code = KEEL_EXIT_NOT_REPRODUCED;
  }
out:
  if (made_tmp) {
    if (keep)
      fprintf(stderr, "keel replay: kept %s\n", tmp);
    else
      nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  keel_run_outcome_free(&outcome);
  json_decref(ctx.lineage);
  json_decref(cfg_holder);
  json_decref(run);
  json_decref(plugins);
  json_decref(env_then);
  json_decref(env_now);
  free(overrides);
  free(drift);
  free(root);
  free(manifest);
  free(template_path);
  free(plugin_dir);
  free(out_tmp);
  free(plugin_paths);
  keel_bundle_close(b);
  return code;
}
