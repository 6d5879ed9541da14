/* A sweep's frozen plan (sweep_plan.h). plan/plan.json names every
 * frozen file relative to plan/, with its SHA-256 and where it came from:
 *   {"format": "keel-sweep-plan/1", "sweep_id", "keel_revision",
 *    "launch": {manifest, overrides, plugin_paths, catalog, data_cache,
 *               ca_bundle, policy},
 *    "manifest": {file, sha256}, "templates": [{name, version, path, file,
 *    sha256}], "dataset": {id, file, sha256} | null, "plugins": [{kind,
 *    name, version, path, file, sha256}], "data": [{name, path, file,
 *    sha256, bytes}], "space": (config/tune_space.h's JSON), "sweep": the
 *    launch's knobs} */
#include "run/sweep_plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/revision.h"
#include "config/dataset.h"
#include "config/load.h"
#include "data/access.h"
#include "data/pipeline.h"
#include "plugin/host.h"
#include "run/check_data.h"
#include "run/tune_check.h"

/* ---- files -------------------------------------------------------------- */

/* Copies src into folder dir as dir/<its SHA-256>, hashing as it copies;
 * the hash and size out. The copy is what trials read. */
static int copy_hashed(const char *src, const char *dir, char sha[65],
                       uint64_t *bytes, char **dst_out, keel_error *err)
{
  int rc = KEEL_OK;
  FILE *in = keel_fs_open_regular(src, NULL, &rc, err);
  if (!in)
    return rc;
  char *probe = keel_path_join(dir, "copy");
  char *tmp = NULL;
  int fd = probe ? keel_fs_temp_open(probe, &tmp, err) : KEEL_ENOMEM;
  free(probe);
  if (fd < 0) {
    fclose(in);
    return fd == KEEL_ENOMEM ? keel_fail(err, fd, "out of memory") : fd;
  }
  keel_sha256 *h = keel_sha256_new();
  unsigned char buf[1 << 16];
  size_t n;
  *bytes = 0;
  while (h && (n = fread(buf, 1, sizeof buf, in)) > 0) {
    keel_sha256_update(h, buf, n);
    *bytes += n;
    for (size_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        rc = keel_fail(err, KEEL_EIO, "%s: cannot write: %s", tmp,
                       strerror(errno));
        break;
      }
      off += (size_t)w;
    }
    if (rc)
      break;
  }
  if (!rc && ferror(in))
    rc = keel_fail(err, KEEL_EIO, "%s: cannot read: %s", src, strerror(errno));
  fclose(in);
  if (h)
    keel_sha256_final_hex(h, sha);
  else if (!rc)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  char *dst = rc ? NULL : keel_path_join(dir, sha);
  if (!rc && !dst)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc) {
    unlink(tmp);
    close(fd);
    free(tmp);
    free(dst);
    return rc;
  }
  rc = keel_fs_temp_commit(fd, tmp, dst, 0, err);
  if (rc)
    free(dst);
  else
    *dst_out = dst;
  return rc;
}

static int write_text(const char *path, const void *data, size_t n,
                      char sha[65], keel_error *err)
{
  if (sha)
    keel_sha256_hex(data, n, sha);
  return keel_write_file_atomic(path, data, n, 0644, 1, err);
}

static int mkdir_new(const char *dir, keel_error *err)
{
  if (mkdir(dir, 0755) == 0)
    return KEEL_OK;
  return keel_fail(err, errno == EEXIST ? KEEL_EINVAL : KEEL_EIO,
                   "%s: cannot create the sweep's folder: %s", dir,
                   strerror(errno));
}

/* ---- the plan in memory ------------------------------------------------- */

void keel_sweep_plan_free(keel_sweep_plan *p)
{
  if (!p)
    return;
  free(p->dir);
  free(p->id);
  json_decref(p->doc);
  keel_tune_space_free(p->space);
  free(p->manifest);
  free(p->template_path);
  free(p->catalog);
  for (size_t i = 0; i < p->n_plugins; i++)
    free(p->plugins[i]);
  free(p->plugins);
  for (size_t i = 0; i < p->n_data; i++) {
    free(p->data_names[i]);
    free(p->data_files[i]);
  }
  free(p->data_names);
  free(p->data_files);
  for (size_t i = 0; i < p->n_overrides; i++)
    free(p->overrides[i]);
  free(p->overrides);
  free(p);
}

char *keel_sweep_plan_remap(void *plan, const char *name)
{
  const keel_sweep_plan *p = plan;
  for (size_t i = 0; i < p->n_data; i++)
    if (strcmp(p->data_names[i], name) == 0)
      return strdup(p->data_files[i]);
  return NULL;
}

/* Whether plan.json's `file` stays inside plan/: relative, no ".."
 * component. A sweep folder is the user's own, but its plugins are loaded
 * from these names, so a tampered plan.json must not point elsewhere. */
static int inside_plan(const char *file)
{
  if (!file || !file[0] || file[0] == '/')
    return 0;
  for (const char *c = file; *c;) {
    size_t n = strcspn(c, "/");
    if ((n == 2 && c[0] == '.' && c[1] == '.') || n == 0)
      return 0;
    c += n;
    if (*c == '/')
      c++;
  }
  return 1;
}

static char *plan_path(const char *dir, const char *file)
{
  if (!inside_plan(file))
    return NULL;
  char *plan = keel_path_join(dir, "plan");
  char *full = plan ? keel_path_join(plan, file) : NULL;
  free(plan);
  return full;
}

/* Fills the file lists of p from p->doc (paths below p->dir/plan). */
static int fill_from_doc(keel_sweep_plan *p, keel_error *err)
{
  const json_t *d = p->doc;
  const char *tfile = json_string_value(json_object_get(
      json_array_get(json_object_get(d, "templates"), 0), "file"));
  const char *mfile = json_string_value(
      json_object_get(json_object_get(d, "manifest"), "file"));
  const json_t *ds = json_object_get(d, "dataset");
  const json_t *plugins = json_object_get(d, "plugins"),
               *data = json_object_get(d, "data"),
               *ovr =
                   json_object_get(json_object_get(d, "launch"), "overrides");
  if (!tfile || !mfile || !json_is_array(plugins) || !json_is_array(data) ||
      !json_is_array(ovr))
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s/plan/plan.json: malformed (expected manifest, "
                     "templates, plugins, data and launch.overrides)",
                     p->dir);
  int oom = !(p->manifest = plan_path(p->dir, mfile)) ||
            !(p->template_path = plan_path(p->dir, tfile));
  if (json_is_object(ds))
    oom |= !(p->catalog = plan_path(
                 p->dir, json_string_value(json_object_get(ds, "file"))
                             ? json_string_value(json_object_get(ds, "file"))
                             : "dataset.ini"));
  size_t np = json_array_size(plugins), nd = json_array_size(data),
         no = json_array_size(ovr);
  p->plugins = calloc(np + 1, sizeof *p->plugins);
  p->data_names = calloc(nd + 1, sizeof *p->data_names);
  p->data_files = calloc(nd + 1, sizeof *p->data_files);
  p->overrides = calloc(no + 1, sizeof *p->overrides);
  oom |= !p->plugins || !p->data_names || !p->data_files || !p->overrides;
  for (size_t i = 0; !oom && i < np; i++) {
    const char *f =
        json_string_value(json_object_get(json_array_get(plugins, i), "file"));
    oom |= !f || !(p->plugins[p->n_plugins++] = plan_path(p->dir, f));
  }
  for (size_t i = 0; !oom && i < nd; i++) {
    const json_t *e = json_array_get(data, i);
    const char *n = json_string_value(json_object_get(e, "name")),
               *f = json_string_value(json_object_get(e, "file"));
    oom |= !n || !f || !(p->data_names[p->n_data] = strdup(n)) ||
           !(p->data_files[p->n_data] = plan_path(p->dir, f));
    if (!oom)
      p->n_data++;
  }
  for (size_t i = 0; !oom && i < no; i++) {
    const char *o = json_string_value(json_array_get(ovr, i));
    oom |= !o || !(p->overrides[p->n_overrides++] = strdup(o));
  }
  return oom ? keel_fail(err, KEEL_EINTEGRITY,
                         "%s/plan/plan.json: malformed (a file name missing, "
                         "or one outside plan/), or out of memory",
                         p->dir)
             : KEEL_OK;
}

/* ---- freezing ----------------------------------------------------------- */

/* The plain-path source's files, copied as the source opens them during
 * the freezing read (host.h's remap). */
typedef struct freezer {
  const char *base_dir; /* the manifest's folder */
  char *data_dir;       /* plan/data */
  json_t *data;         /* plan.json's "data" */
  keel_sweep_plan *plan;
  keel_error err;
  int failed;
} freezer;

static char *freeze_remap(void *ctx, const char *name)
{
  freezer *f = ctx;
  char *known = keel_sweep_plan_remap(f->plan, name);
  if (known || f->failed)
    return known;
  char *src = keel_path_join(f->base_dir, name);
  char sha[65], *dst = NULL;
  uint64_t bytes = 0;
  keel_error e = {0};
  if (!src || copy_hashed(src, f->data_dir, sha, &bytes, &dst, &e)) {
    /* the source then opens the original and fails with its own message */
    free(src);
    return NULL;
  }
  keel_sweep_plan *p = f->plan;
  char **names = realloc(p->data_names, (p->n_data + 1) * sizeof *names);
  if (names)
    p->data_names = names;
  char **files =
      names ? realloc(p->data_files, (p->n_data + 1) * sizeof *files) : NULL;
  if (files)
    p->data_files = files;
  char *abs = realpath(src, NULL);
  char rel[80];
  snprintf(rel, sizeof rel, "data/%s", sha);
  if (!names || !files || !(names[p->n_data] = strdup(name))) {
    f->failed = 1;
    keel_fail(&f->err, KEEL_ENOMEM, "out of memory");
    free(dst);
    free(src);
    free(abs);
    return NULL;
  }
  files[p->n_data++] = dst;
  json_array_append_new(f->data,
                        json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", name,
                                  "path", abs ? abs : src, "file", rel,
                                  "sha256", sha, "bytes", (json_int_t)bytes));
  free(src);
  free(abs);
  return strdup(dst);
}

/* The data a trial reads, copied into plan/data: a catalog entry's bytes
 * as the access shim finds them (hash-checked against the catalog), or
 * what a plain source opens while it reads once (the data checks' read). */
static int freeze_data(const keel_run_config *cfg, const keel_sweep_inputs *in,
                       keel_sweep_plan *p, json_t *doc, keel_error *err)
{
  freezer f = {.base_dir = cfg->manifest_dir, .plan = p};
  f.data = json_array();
  json_object_set_new(doc, "data", f.data);
  f.data_dir = plan_path(p->dir, "data");
  if (!f.data_dir)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = mkdir_new(f.data_dir, err);
  keel_host_context ctx = {0};
  keel_host host;
  if (!rc && keel_host_context_init(&ctx, cfg->manifest_dir))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc) {
    free(f.data_dir);
    return rc;
  }
  keel_host_bind(&host, &ctx);
  if (cfg->dataset) {
    const keel_catalog_entry *e = cfg->dataset->entry;
    keel_data_access_options o = {.cache_root = in->data_cache,
                                  .ca_bundle = in->ca_bundle,
                                  .purpose = cfg->purpose,
                                  .policy = in->policy};
    keel_data_access *a = NULL;
    rc = keel_data_access_open(cfg->dataset, &o, &ctx, &a, err);
    char sha[65], *dst = NULL;
    uint64_t bytes = 0;
    if (!rc)
      rc = copy_hashed(keel_data_access_path(a), f.data_dir, sha, &bytes, &dst,
                       err);
    if (!rc && strcmp(sha, e->sha256) != 0)
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "%s: the bytes read (SHA-256 %s) are not the catalogued "
                     "ones (%s); nothing was frozen",
                     e->id, sha, e->sha256);
    if (!rc) {
      char rel[80];
      snprintf(rel, sizeof rel, "data/%s", sha);
      p->data_names = calloc(1, sizeof *p->data_names);
      p->data_files = calloc(1, sizeof *p->data_files);
      if (!p->data_names || !p->data_files ||
          !(p->data_names[0] = strdup(e->id)))
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      else {
        p->data_files[p->n_data++] = dst;
        dst = NULL;
        json_array_append_new(
            f.data, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", e->id,
                              "path", keel_data_access_path(a), "file", rel,
                              "sha256", sha, "bytes", (json_int_t)bytes));
      }
    }
    free(dst);
    keel_data_access_close(a);
  } else {
    ctx.remap = freeze_remap;
    ctx.remap_ctx = &f;
    keel_stage_schemas schemas;
    memset(&schemas, 0, sizeof schemas);
    rc = keel_pipeline_check(cfg, &host, &schemas, err);
    int have_schemas = rc == KEEL_OK;
    keel_data_report report = {0};
    if (!rc)
      rc = keel_check_data(cfg, &schemas, &ctx, &report, err);
    keel_data_report_free(&report);
    if (have_schemas)
      keel_stage_schemas_free(&schemas);
    if (f.failed) {
      *err = f.err;
      rc = f.err.code;
    }
  }
  keel_host_context_free(&ctx);
  free(f.data_dir);
  return rc;
}

/* Copies plugin pl (the one the run resolved, or a slot choice) once. */
static int freeze_plugin(keel_sweep_plan *p, json_t *list,
                         const keel_loaded_plugin *pl, keel_error *err)
{
  const char *kind = keel_kind_name((int)pl->desc.kind);
  size_t i;
  json_t *e;
  json_array_foreach(
      list, i, e) if (strcmp(json_string_value(json_object_get(e, "sha256")),
                             pl->sha256) == 0 &&
                      strcmp(json_string_value(json_object_get(e, "name")),
                             pl->desc.name) == 0) return KEEL_OK;
  char rel[256];
  snprintf(rel, sizeof rel, "plugins/%s-%s-%s.so", kind, pl->desc.name,
           pl->desc.version);
  char *dst = plan_path(p->dir, rel);
  unsigned char *bytes = NULL;
  size_t n = 0;
  int rc = dst ? keel_read_file(pl->path, &bytes, &n, err)
               : keel_fail(err, KEEL_ENOMEM, "out of memory");
  char sha[65];
  if (!rc)
    rc = write_text(dst, bytes, n, sha, err);
  free(bytes);
  free(dst);
  if (!rc && strcmp(sha, pl->sha256) != 0)
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "%s: changed while the sweep was planned (SHA-256 %s, "
                   "loaded as %s)",
                   pl->path, sha, pl->sha256);
  if (!rc)
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", kind, "name",
                        pl->desc.name, "version", pl->desc.version, "path",
                        pl->path, "file", rel, "sha256", sha));
  return rc;
}

/* Every plugin a trial can run: the resolved stages' and each choice a
 * [tune] slot offers. */
static int freeze_plugins(const keel_run_config *cfg, const keel_registry *reg,
                          const keel_tune_space *space, keel_sweep_plan *p,
                          json_t *doc, keel_error *err)
{
  json_t *list = json_array();
  json_object_set_new(doc, "plugins", list);
  char *dir = plan_path(p->dir, "plugins");
  int rc =
      dir ? mkdir_new(dir, err) : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(dir);
  const keel_stage *stages[3] = {&cfg->model, &cfg->loss, &cfg->optimizer};
  if (!rc && cfg->source.plugin)
    rc = freeze_plugin(p, list, cfg->source.plugin, err);
  for (size_t i = 0; !rc && i < cfg->n_transforms; i++)
    rc = freeze_plugin(p, list, cfg->transforms[i].plugin, err);
  for (size_t i = 0; !rc && i < 3; i++)
    rc = freeze_plugin(p, list, stages[i]->plugin, err);
  for (size_t i = 0; !rc && i < space->n; i++) {
    const keel_tune_param *t = &space->params[i];
    if (t->plugin || strncmp(t->name, "train.", 6) == 0)
      continue;
    char kind[16];
    snprintf(kind, sizeof kind, "%.*s", (int)strcspn(t->name, "."), t->name);
    for (size_t c = 0; !rc && c < t->n_choices; c++) {
      const keel_loaded_plugin *pl = keel_registry_find(
          reg, (keel_kind)keel_kind_from_name(kind), t->choices[c]);
      rc = pl ? freeze_plugin(p, list, pl, err)
              : keel_fail(err, KEEL_ENOTFOUND,
                          "[tune] %s offers plugin %s, which cannot be "
                          "loaded",
                          kind, t->choices[c]);
    }
  }
  return rc;
}

static json_t *str_list(const char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *str_or_null(const char *s)
{
  return s ? json_string(s) : json_null();
}

int keel_sweep_plan_freeze(const keel_sweep_inputs *in, const char *dir,
                           const char *id, json_t *knobs, keel_sweep_plan **out,
                           keel_error *err)
{
  *out = NULL;
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_tune_space *space = NULL;
  int declares = 0, made_dir = 0;
  int rc = keel_config_load(in->manifest_path, in->overrides, in->n_overrides,
                            in->plugin_paths, in->n_plugin_paths, 0, NULL,
                            in->catalog, &reg, &cfg, err);
  keel_tune_load load = {.manifest_path = in->manifest_path,
                         .overrides = in->overrides,
                         .n_overrides = in->n_overrides,
                         .plugin_paths = in->plugin_paths,
                         .n_plugin_paths = in->n_plugin_paths,
                         .catalog = in->catalog};
  if (!rc)
    rc = keel_tune_space_load(&load, cfg, &space, &declares, err);
  if (!rc && !space)
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: nothing to tune: neither the manifest nor its "
                   "template has a [tune] section (docs/tuning.md)",
                   in->manifest_path);
  keel_sweep_plan *p = rc ? NULL : calloc(1, sizeof *p);
  if (!rc && (!p || !(p->dir = strdup(dir)) || !(p->id = strdup(id))))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_t *doc = rc ? NULL : json_object();
  char *plan_dir = rc ? NULL : keel_path_join(dir, "plan");
  /* the space passed: only now does anything appear on disk */
  char *parent = rc ? NULL : keel_path_dirname(dir);
  if (!rc)
    rc = parent ? keel_fs_mkdir_p(parent, err)
                : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(parent);
  if (!rc && (rc = mkdir_new(dir, err)) == KEEL_OK)
    made_dir = 1;
  if (!rc)
    rc = mkdir_new(plan_dir, err);
  if (!rc) {
    char *abs = realpath(in->manifest_path, NULL);
    json_object_set_new(doc, "format", json_string("keel-sweep-plan/1"));
    json_object_set_new(doc, "sweep_id", json_string(id));
    json_object_set_new(doc, "keel_revision", json_string(keel_build_revision));
    json_object_set_new(
        doc, "launch",
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "manifest",
                  abs ? abs : in->manifest_path, "overrides",
                  str_list(in->overrides, in->n_overrides), "plugin_paths",
                  str_list(in->plugin_paths, in->n_plugin_paths), "catalog",
                  str_or_null(in->catalog), "data_cache",
                  str_or_null(in->data_cache), "ca_bundle",
                  str_or_null(in->ca_bundle), "policy",
                  str_or_null(in->policy)));
    free(abs);
  }
  /* the manifest, byte for byte: trials read this copy */
  unsigned char *bytes = NULL;
  size_t n = 0;
  char sha[65];
  if (!rc)
    rc = keel_read_file(in->manifest_path, &bytes, &n, err);
  /* under its own file name: a trial's run.json and registry entry name
   * the manifest as the user knows it */
  const char *base = strrchr(in->manifest_path, '/');
  base = base ? base + 1 : in->manifest_path;
  if (!base[0] || base[0] == '.' || strcmp(base, "plan.json") == 0 ||
      strcmp(base, "dataset.ini") == 0)
    base = "manifest.ini";
  char *path = rc ? NULL : plan_path(dir, base);
  if (!rc)
    rc = path ? write_text(path, bytes, n, sha, err)
              : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(bytes);
  free(path);
  if (!rc)
    json_object_set_new(doc, "manifest",
                        json_pack("{s:s, s:s}", "file", base, "sha256", sha));
  /* the template chain, derived first, each as NAME.ini */
  char *tdir = rc ? NULL : plan_path(dir, "templates");
  if (!rc)
    rc = tdir ? mkdir_new(tdir, err)
              : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(tdir);
  json_t *chain = json_array();
  json_object_set_new(doc, "templates", chain);
  for (size_t i = 0; !rc && i < cfg->n_chain; i++) {
    const keel_template_file *t = &cfg->chain[i];
    char rel[128];
    snprintf(rel, sizeof rel, "templates/%s.ini", t->name);
    char *tp = plan_path(dir, rel);
    rc = tp ? write_text(tp, t->text, strlen(t->text), sha, err)
            : keel_fail(err, KEEL_ENOMEM, "out of memory");
    free(tp);
    if (!rc)
      json_array_append_new(chain,
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "name",
                                      t->name, "version", t->version, "path",
                                      t->path, "file", rel, "sha256", sha));
  }
  /* the catalog entry, as a catalog of one */
  if (!rc && cfg->dataset) {
    keel_buf b = KEEL_BUF_INIT;
    keel_buf_printf(&b,
                    "; The catalog entry the sweep %s froze; its bytes "
                    "are plan/data/SHA256.\n\n",
                    id);
    char *dp = plan_path(dir, "dataset.ini");
    rc = !dp || keel_dataset_catalog_text(cfg->dataset,
                                          cfg->checks.drift_reference, &b)
             ? keel_fail(err, KEEL_ENOMEM, "out of memory")
             : write_text(dp, b.data, b.len, sha, err);
    free(dp);
    keel_buf_free(&b);
    if (!rc)
      json_object_set_new(doc, "dataset",
                          json_pack("{s:s, s:s, s:s, s:s}", "id",
                                    cfg->dataset->entry->id, "file",
                                    "dataset.ini", "sha256", sha, "data_sha256",
                                    cfg->dataset->entry->sha256));
  } else if (!rc)
    json_object_set_new(doc, "dataset", json_null());
  if (!rc)
    rc = freeze_plugins(cfg, reg, space, p, doc, err);
  if (!rc)
    rc = freeze_data(cfg, in, p, doc, err);
  if (!rc) {
    json_object_set_new(doc, "space", keel_tune_space_json(space));
    json_object_set(doc, "sweep", knobs);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *pj = plan_path(dir, "plan.json");
    rc = text && pj ? write_text(pj, text, strlen(text), NULL, err)
                    : keel_fail(err, KEEL_ENOMEM, "out of memory");
    free(text);
    free(pj);
  }
  free(plan_dir);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
  if (!rc) {
    /* the data's list was filled while freezing; the rest from the doc */
    for (size_t i = 0; i < p->n_data; i++) {
      free(p->data_names[i]);
      free(p->data_files[i]);
    }
    free(p->data_names);
    free(p->data_files);
    p->data_names = p->data_files = NULL;
    p->n_data = 0;
    p->doc = doc;
    doc = NULL;
    rc = fill_from_doc(p, err);
  }
  json_decref(doc);
  if (rc) {
    if (made_dir) /* no half-made sweep folder is left behind */
      keel_fs_remove_tree(dir);
    keel_tune_space_free(space);
    keel_sweep_plan_free(p);
    return rc;
  }
  p->space = space;
  *out = p;
  return KEEL_OK;
}

/* ---- reopening ---------------------------------------------------------- */

static int check_hash(const char *dir, const json_t *e, keel_error *err)
{
  const char *file = json_string_value(json_object_get(e, "file")),
             *want = json_string_value(json_object_get(e, "sha256"));
  if (!file || !want)
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s/plan/plan.json: an entry without file or sha256", dir);
  if (!inside_plan(file))
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s/plan/plan.json: file '%s' is outside plan/", dir,
                     file);
  char *path = plan_path(dir, file);
  char sha[65];
  int rc = path ? keel_sha256_file(path, sha, NULL, err)
                : keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc && strcmp(sha, want) != 0)
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "%s: SHA-256 %s, but plan.json froze it as %s; the "
                   "sweep's plan was altered",
                   path, sha, want);
  else if (rc && rc != KEEL_ENOMEM)
    rc = keel_fail(err, KEEL_EINTEGRITY, "%s: the frozen copy is gone (%s)",
                   path, err->message);
  free(path);
  return rc;
}

int keel_sweep_plan_open(const char *dir, int verify, keel_sweep_plan **out,
                         keel_error *err)
{
  *out = NULL;
  char *pj = plan_path(dir, "plan.json");
  json_error_t je;
  json_t *doc = pj ? json_load_file(pj, 0, &je) : NULL;
  if (!doc) {
    int rc = keel_fail(err, pj ? KEEL_EINVAL : KEEL_ENOMEM,
                       "%s: not a sweep's plan (%s); expected the folder "
                       "keel sweep made",
                       pj ? pj : dir, pj ? je.text : "out of memory");
    free(pj);
    return rc;
  }
  free(pj);
  int rc = KEEL_OK;
  const char *format = json_string_value(json_object_get(doc, "format"));
  if (!format || strcmp(format, "keel-sweep-plan/1") != 0)
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s/plan/plan.json: format %s is not one this keel reads "
                   "(expected keel-sweep-plan/1)",
                   dir, format ? format : "(absent)");
  if (!rc && verify)
    rc = check_hash(dir, json_object_get(doc, "manifest"), err);
  const char *lists[] = {"templates", "plugins", "data"};
  for (size_t l = 0; !rc && verify && l < 3; l++) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, lists[l]), i, e) if (!rc) rc =
        check_hash(dir, e, err);
  }
  if (!rc && verify && json_is_object(json_object_get(doc, "dataset")))
    rc = check_hash(dir, json_object_get(doc, "dataset"), err);
  keel_sweep_plan *p = rc ? NULL : calloc(1, sizeof *p);
  if (!rc && (!p || !(p->dir = strdup(dir)) ||
              !(p->id = strdup(
                    json_string_value(json_object_get(doc, "sweep_id"))
                        ? json_string_value(json_object_get(doc, "sweep_id"))
                        : "?"))))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc) {
    p->doc = doc;
    doc = NULL;
    rc = fill_from_doc(p, err);
  }
  /* the space again, from the frozen inputs: the same text gives the same
   * space */
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  if (!rc && verify)
    rc = keel_config_load(p->manifest, (const char *const *)p->overrides,
                          p->n_overrides, (const char *const *)p->plugins,
                          p->n_plugins, 1, p->template_path, p->catalog, &reg,
                          &cfg, err);
  if (!rc && verify) {
    keel_tune_load load = {.manifest_path = p->manifest,
                           .overrides = (const char *const *)p->overrides,
                           .n_overrides = p->n_overrides,
                           .plugin_paths = (const char *const *)p->plugins,
                           .n_plugin_paths = p->n_plugins,
                           .only_explicit_paths = 1,
                           .template_path = p->template_path,
                           .catalog = p->catalog};
    int declares = 0;
    rc = keel_tune_space_load(&load, cfg, &p->space, &declares, err);
    if (!rc && !p->space)
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "%s/plan/manifest.ini: no tuning space", dir);
  }
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
  json_decref(doc);
  if (rc) {
    keel_sweep_plan_free(p);
    return rc;
  }
  *out = p;
  return KEEL_OK;
}

/* ---- the original inputs against the plan ------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

static void differ(keel_buf *d, const char *what, const char *name,
                   const char *now, const char *frozen)
{
  keel_buf_printf(d, "%s %s: SHA-256 %s now, %s frozen\n", what, name, now,
                  frozen);
}

int keel_sweep_plan_compare(const keel_sweep_plan *p, keel_buf *diffs,
                            keel_error *err)
{
  const json_t *launch = json_object_get(p->doc, "launch");
  const char *manifest = jstr(launch, "manifest");
  const json_t *pp = json_object_get(launch, "plugin_paths");
  size_t n_pp = json_array_size(pp);
  const char **paths = calloc(n_pp + 1, sizeof *paths);
  if (!paths)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n_pp; i++)
    paths[i] = json_string_value(json_array_get(pp, i));
  const char *catalog = json_string_value(json_object_get(launch, "catalog"));
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  int rc = keel_config_load(manifest, (const char *const *)p->overrides,
                            p->n_overrides, paths, n_pp, 0, NULL, catalog, &reg,
                            &cfg, err);
  free(paths);
  if (rc) {
    keel_buf_printf(diffs, "manifest %s no longer resolves: %s\n", manifest,
                    err->message);
    keel_registry_destroy(reg);
    return rc;
  }
  char sha[65];
  const json_t *m = json_object_get(p->doc, "manifest");
  if (keel_sha256_file(manifest, sha, NULL, err) == KEEL_OK &&
      strcmp(sha, jstr(m, "sha256")) != 0)
    differ(diffs, "manifest", manifest, sha, jstr(m, "sha256"));
  const json_t *chain = json_object_get(p->doc, "templates");
  if (json_array_size(chain) != cfg->n_chain)
    keel_buf_printf(diffs, "template chain: %zu templates now, %zu frozen\n",
                    cfg->n_chain, json_array_size(chain));
  for (size_t i = 0; i < cfg->n_chain && i < json_array_size(chain); i++) {
    const json_t *t = json_array_get(chain, i);
    keel_sha256_hex(cfg->chain[i].text, strlen(cfg->chain[i].text), sha);
    if (strcmp(sha, jstr(t, "sha256")) != 0 ||
        strcmp(cfg->chain[i].name, jstr(t, "name")) != 0)
      differ(diffs, "template", cfg->chain[i].path, sha, jstr(t, "sha256"));
  }
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(p->doc, "plugins"), i, e)
  {
    const keel_loaded_plugin *pl = keel_registry_find(
        reg, (keel_kind)keel_kind_from_name(jstr(e, "kind")), jstr(e, "name"));
    if (!pl)
      keel_buf_printf(diffs, "plugin %s %s: no longer found\n", jstr(e, "kind"),
                      jstr(e, "name"));
    else if (strcmp(pl->sha256, jstr(e, "sha256")) != 0)
      differ(diffs, "plugin", pl->path, pl->sha256, jstr(e, "sha256"));
  }
  const json_t *ds = json_object_get(p->doc, "dataset");
  if (json_is_object(ds) != (cfg->dataset != NULL))
    keel_buf_printf(diffs, "dataset: %s now, %s frozen\n",
                    cfg->dataset ? cfg->dataset->entry->id : "none",
                    json_is_object(ds) ? jstr(ds, "id") : "none");
  else if (cfg->dataset &&
           (strcmp(cfg->dataset->entry->id, jstr(ds, "id")) != 0 ||
            strcmp(cfg->dataset->entry->sha256, jstr(ds, "data_sha256")) != 0))
    keel_buf_printf(diffs, "dataset: %s (SHA-256 %s) now, %s (%s) frozen\n",
                    cfg->dataset->entry->id, cfg->dataset->entry->sha256,
                    jstr(ds, "id"), jstr(ds, "data_sha256"));
  else if (!cfg->dataset)
    json_array_foreach(json_object_get(p->doc, "data"), i, e)
    {
      keel_error herr = {0};
      if (keel_sha256_file(jstr(e, "path"), sha, NULL, &herr))
        keel_buf_printf(diffs, "data %s: %s\n", jstr(e, "path"), herr.message);
      else if (strcmp(sha, jstr(e, "sha256")) != 0)
        differ(diffs, "data", jstr(e, "path"), sha, jstr(e, "sha256"));
    }
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
  return diffs->failed ? keel_fail(err, KEEL_ENOMEM, "out of memory") : KEEL_OK;
}
