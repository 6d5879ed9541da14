/* `keel data add`: read through the source plugin, append a catalog
 * version (data_add.h). */
#include "run/data_add.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/fsutil.h"
#include "base/params.h"
#include "base/path.h"
#include "base/semver.h"
#include "base/sha256.h"
#include "base/status.h"
#include "config/catalog.h"
#include "config/load.h"
#include "data/data_cache.h"
#include "data/drift.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/table.h"

/* ---- the version ----------------------------------------------------------
 */

/* req->version (which must be new), else one minor above the newest
 * version of the name, else 1.0.0. */
static int choose_version(const keel_catalog *c, const keel_data_add_request *r,
                          char *out, size_t n, keel_error *err)
{
  const keel_catalog_entry *newest = NULL;
  for (size_t i = 0; i < c->n_entries; i++)
    if (strcmp(c->entries[i].name, r->name) == 0)
      newest = &c->entries[i]; /* sorted: the last one is the newest */
  if (!r->version) {
    if (newest)
      snprintf(out, n, "%llu.%llu.0", (unsigned long long)newest->semver.major,
               (unsigned long long)newest->semver.minor + 1);
    else
      snprintf(out, n, "1.0.0");
    return KEEL_OK;
  }
  keel_semver v;
  keel_error verr = {0};
  if (keel_semver_parse(r->version, &v, &verr))
    return keel_fail(err, KEEL_EINVAL, "--version %s: %s", r->version,
                     verr.message);
  for (size_t i = 0; i < c->n_entries; i++)
    if (strcmp(c->entries[i].name, r->name) == 0 &&
        keel_semver_compare(&c->entries[i].semver, &v) == 0)
      return keel_fail(err, KEEL_EINVAL,
                       "%s@%s is already in %s (line %d); a version is "
                       "written once: give a new --version or leave it out",
                       r->name, r->version, c->path, c->entries[i].line);
  snprintf(out, n, "%s", r->version);
  return KEEL_OK;
}

/* ---- reading the data -----------------------------------------------------
 */

static int ends_with(const char *s, const char *tail)
{
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

static const char *plugin_for(const char *source)
{
  const char *base = keel_path_basename(source);
  size_t cut = strcspn(base, "?#");
  char name[512];
  snprintf(name, sizeof name, "%.*s", (int)cut, base);
  if (ends_with(name, ".csv") || ends_with(name, ".csv.gz") ||
      ends_with(name, ".tsv") || ends_with(name, ".tsv.gz"))
    return "csv";
  if (ends_with(name, ".libsvm") || ends_with(name, ".svm") ||
      ends_with(name, ".libsvm.gz") || ends_with(name, ".svm.gz"))
    return "libsvm";
  return NULL;
}

/* The plugin's values: defaults, the KEY=VALUE options, path = file. */
static int make_values(const keel_plugin *d, const keel_data_add_request *r,
                       const char *file, keel_value **out, keel_error *err)
{
  keel_value *v = calloc(d->n_params ? d->n_params : 1, sizeof *v);
  if (!v)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  *out = v;
  int has_path = 0, rc = KEEL_OK;
  const char **names = calloc(d->n_params + 1, sizeof *names);
  if (!names)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t p = 0; p < d->n_params; p++)
    names[p] = d->params[p].name;
  for (size_t p = 0; !rc && p < d->n_params; p++) {
    const keel_param_decl *decl = &d->params[p];
    const char *text = NULL;
    for (size_t o = 0; o < r->n_options; o++) {
      size_t k = strcspn(r->options[o], "=");
      if (strlen(decl->name) == k && strncmp(r->options[o], decl->name, k) == 0)
        text = r->options[o] + k + 1;
    }
    if (strcmp(decl->name, "path") == 0) {
      has_path = 1;
      if (text) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "--option path=...: the file is the SOURCE operand");
        break;
      }
      text = file;
    }
    keel_error perr = {0};
    if (text)
      rc = keel_param_parse(decl, text, &v[p], &perr);
    else if (decl->flags & KEEL_PARAM_REQUIRED)
      rc = keel_fail(&perr, KEEL_EINVAL, "required; give --option %s=VALUE",
                     decl->name);
    else
      rc = keel_param_default(decl, &v[p], &perr);
    if (rc)
      rc = keel_fail(err, KEEL_EINVAL, "source plugin '%s', parameter %s: %s",
                     d->name, decl->name, perr.message);
  }
  for (size_t o = 0; !rc && o < r->n_options; o++) {
    const char *opt = r->options[o];
    size_t k = strcspn(opt, "=");
    size_t p = 0;
    while (p < d->n_params &&
           !(strlen(names[p]) == k && strncmp(opt, names[p], k) == 0))
      p++;
    if (!opt[k])
      rc =
          keel_fail(err, KEEL_EINVAL, "--option '%s': expected KEY=VALUE", opt);
    else if (p == d->n_params) {
      char key[64];
      snprintf(key, sizeof key, "%.*s", (int)(k < 63 ? k : 63), opt);
      const char *near = keel_did_you_mean(key, names, d->n_params);
      rc = keel_fail(err, KEEL_EINVAL,
                     "--option %s: source plugin '%s' has no such "
                     "parameter%s%s%s (`keel plugins %s` lists them)",
                     key, d->name, near ? "; did you mean '" : "",
                     near ? near : "", near ? "'?" : "", d->name);
    }
  }
  if (!rc && !has_path)
    rc = keel_fail(err, KEEL_EINVAL,
                   "source plugin '%s' reads no file (it has no `path` "
                   "parameter): only file-reading sources can be catalogued",
                   d->name);
  free(names);
  return rc;
}

/* ---- statistics -----------------------------------------------------------
 */

static json_t *column_stats(const keel_column *c, size_t n_rows)
{
  json_t *o = json_object();
  size_t missing = 0;
  for (size_t i = 0; i < n_rows; i++)
    missing += c->missing[i] != 0;
  json_object_set_new(o, "name", json_string(c->name));
  json_object_set_new(o, "type", json_string(keel_col_type_name(c->type)));
  json_object_set_new(o, "missing", json_integer((json_int_t)missing));
  if (c->type == KEEL_COL_NUMERIC || c->type == KEEL_COL_DATE) {
    /* in row order, two passes: the same bits on every machine */
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    size_t n = 0, nonfinite = 0;
    for (size_t i = 0; i < n_rows; i++) {
      double x = c->num[i];
      if (c->missing[i])
        continue;
      if (!isfinite(x)) {
        nonfinite++;
        continue;
      }
      sum += x;
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
      n++;
    }
    double mean = n ? sum / (double)n : 0, ss = 0;
    for (size_t i = 0; i < n_rows; i++)
      if (!c->missing[i] && isfinite(c->num[i]))
        ss += (c->num[i] - mean) * (c->num[i] - mean);
    json_object_set_new(o, "count", json_integer((json_int_t)n));
    json_object_set_new(o, "nonfinite", json_integer((json_int_t)nonfinite));
    if (n) {
      json_object_set_new(o, "mean", json_real(mean));
      json_object_set_new(o, "sd",
                          json_real(n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0));
      json_object_set_new(o, "min", json_real(lo));
      json_object_set_new(o, "max", json_real(hi));
    }
    /* the reference a later version's drift check compares with */
    keel_drift_profile prof;
    if (c->type == KEEL_COL_NUMERIC &&
        keel_drift_profile_make(c->num, c->missing, NULL, n_rows, &prof,
                                NULL) == KEEL_OK)
      json_object_set_new(o, "drift", keel_drift_profile_json(&prof));
  } else if (c->type == KEEL_COL_CATEGORICAL) {
    json_t *counts = json_object();
    size_t *k = calloc(c->n_dict ? c->n_dict : 1, sizeof *k);
    for (size_t i = 0; k && i < n_rows; i++)
      if (!c->missing[i] && c->code[i] >= 0 && (size_t)c->code[i] < c->n_dict)
        k[c->code[i]]++;
    for (size_t d = 0; k && d < c->n_dict; d++)
      json_object_set_new(counts, c->dict[d], json_integer((json_int_t)k[d]));
    free(k);
    json_object_set_new(o, "counts", counts);
  } else {
    json_object_set_new(o, "count",
                        json_integer((json_int_t)(n_rows - missing)));
  }
  return o;
}

/* ---- the new section ------------------------------------------------------
 */

static void today(char out[11])
{
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the whole add --------------------------------------------------------
 */

typedef struct url_fill {
  const keel_data_add_request *r;
  keel_auth_method auth;
  const char *auth_ref;
} url_fill;

static int fill_url(void *ctx, const keel_fetch_sink *sink, keel_error *err)
{
  const url_fill *f = ctx;
  keel_fetch_options opt = f->r->fetch;
  opt.auth = f->auth;
  opt.auth_ref = f->auth_ref;
  return keel_fetch_url(f->r->source, &opt, sink, NULL, err);
}

int keel_data_add(const keel_data_add_request *r, keel_data_add_result *out,
                  keel_error *err)
{
  memset(out, 0, sizeof *out);
  int remote = strncmp(r->source, "http://", 7) == 0 ||
               strncmp(r->source, "https://", 8) == 0;
  const char *plugin = r->plugin ? r->plugin : plugin_for(r->source);
  if (!plugin)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: cannot tell the source plugin from the name; give "
                     "--plugin NAME (csv, libsvm, ...)",
                     r->source);
  keel_auth_method auth = KEEL_AUTH_NONE;
  char *auth_ref = NULL;
  if (r->auth && keel_catalog_auth_parse(r->auth, &auth, &auth_ref, err))
    return KEEL_EINVAL;
  int lock = keel_fs_lock_beside(r->catalog_path, 1, err);
  if (lock < 0) {
    free(auth_ref);
    return lock;
  }
  keel_catalog *cat = NULL;
  unsigned char *old = NULL;
  size_t old_n = 0;
  keel_registry *reg = NULL;
  keel_value *values = NULL;
  keel_table *table = NULL;
  char *file = NULL, *location = NULL, *stats_rel = NULL, *stats_abs = NULL;
  char *catdir = keel_path_dirname(r->catalog_path);
  keel_host_context ctx;
  int ctx_ok = 0;
  keel_buf text = {0};
  struct stat st;
  int rc = KEEL_OK;
  if (stat(r->catalog_path, &st) == 0) {
    rc = keel_read_file(r->catalog_path, &old, &old_n, err);
    if (!rc)
      rc = keel_catalog_parse(r->catalog_path, (const char *)old, old_n, &cat,
                              err);
  } else {
    static const char header[] = "; a keel data catalog (docs/data-access.md)"
                                 "\n[catalog]\nformat = 1\n";
    old = (unsigned char *)strdup(header);
    old_n = sizeof header - 1;
    rc = old ? keel_catalog_parse(r->catalog_path, header, old_n, &cat, err)
             : keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  char version[80];
  if (!rc)
    rc = choose_version(cat, r, version, sizeof version, err);
  if (!rc)
    snprintf(out->id, sizeof out->id, "%s@%s", r->name, version);
  /* The bytes: a local file as it is, a URL fetched into the cache. */
  if (!rc && remote) {
    url_fill f = {r, auth, auth_ref};
    rc = keel_cache_add(r->cache_root, fill_url, &f, out->sha256, &file, err);
    location = rc ? NULL : strdup(r->source);
  } else if (!rc) {
    file = realpath(r->source, NULL);
    if (!file)
      rc = keel_fail(err, errno == ENOENT ? KEEL_EINVAL : KEEL_EIO, "%s: %s",
                     r->source, strerror(errno));
    char *realdir = catdir ? realpath(catdir, NULL) : NULL;
    if (!rc) {
      size_t dl = realdir ? strlen(realdir) : 0;
      int inside =
          realdir && strncmp(file, realdir, dl) == 0 && file[dl] == '/';
      size_t n = strlen(file) + 8;
      location = malloc(n);
      if (location)
        snprintf(location, n, "file:%s", inside ? file + dl + 1 : file);
      uint64_t bytes = 0;
      rc = keel_sha256_file(file, out->sha256, &bytes, err);
    }
    free(realdir);
  }
  if (!rc && !location)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  /* Read it through the plugin, as a run would. */
  if (!rc)
    rc = keel_registry_build(r->plugin_paths, r->n_plugin_paths, NULL, 0, 0,
                             &reg, err);
  const keel_loaded_plugin *lp =
      rc ? NULL : keel_registry_find(reg, KEEL_KIND_SOURCE, plugin);
  if (!rc && !lp)
    rc = keel_fail(err, KEEL_EINVAL,
                   "no source plugin '%s' on the plugin path (`keel "
                   "plugins` lists them)",
                   plugin);
  if (!rc)
    rc = make_values(&lp->desc, r, file, &values, err);
  if (!rc && !(rc = keel_host_context_init(&ctx, "/"))) {
    ctx_ok = 1;
    keel_host host;
    keel_host_bind(&host, &ctx);
    const keel_source_api *api = lp->api;
    rc = api->read(&host, values, &table, err);
    if (!rc)
      rc = keel_host_context_settle(&ctx, err);
    if (rc)
      keel_error_prefix_plugin(err, plugin, "[source] %s", plugin);
  }
  /* The section, then the statistics beside the catalog. */
  int label_seen = !r->label;
  if (!rc) {
    out->rows = table->n_rows;
    out->n_columns = table->n_cols;
    keel_buf schema = {0};
    json_t *stats = json_object(), *cols = json_array();
    for (size_t c = 0; c < table->n_cols; c++) {
      const keel_column *col = &table->cols[c];
      int is_label = r->label && strcmp(col->name, r->label) == 0;
      label_seen |= is_label;
      keel_buf_printf(&schema, "%s%s:%s%s", c ? ", " : "", col->name,
                      keel_col_type_name(col->type), is_label ? ":label" : "");
      json_array_append_new(cols, column_stats(col, table->n_rows));
    }
    json_object_set_new(stats, "dataset", json_string(out->id));
    json_object_set_new(stats, "sha256", json_string(out->sha256));
    json_object_set_new(stats, "rows", json_integer((json_int_t)table->n_rows));
    json_object_set_new(stats, "columns", cols);
    if (!label_seen)
      rc = keel_fail(err, KEEL_EINVAL,
                     "--label %s: the data has no such column", r->label);
    const char *stem = keel_path_basename(r->catalog_path);
    size_t n = strlen(stem) + strlen(out->id) + 32;
    stats_rel = rc ? NULL : malloc(n);
    if (stats_rel)
      snprintf(stats_rel, n, "%s.stats/%s.json", stem, out->id);
    stats_abs = stats_rel ? keel_path_join(catdir, stats_rel) : NULL;
    char *stats_dir = stats_abs ? keel_path_dirname(stats_abs) : NULL;
    char *json = json_dumps(stats, JSON_INDENT(2));
    if (!rc && (!stats_abs || !stats_dir || !json))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (!rc)
      rc = keel_fs_mkdir_p(stats_dir, err);
    char as_of[11];
    if (!rc) {
      keel_buf_printf(&text, "%.*s", (int)old_n, (const char *)old);
      if (old_n && old[old_n - 1] != '\n')
        keel_buf_printf(&text, "\n");
      today(as_of);
      keel_buf_printf(&text, "\n[%s]\nlocation = %s\nplugin = %s\n", out->id,
                      location, plugin);
      for (size_t o = 0; o < r->n_options; o++) {
        size_t k = strcspn(r->options[o], "=");
        keel_buf_printf(&text, "option.%.*s = %s\n", (int)k, r->options[o],
                        r->options[o] + k + 1);
      }
      keel_buf_printf(&text, "sha256 = %s\nrows = %llu\n", out->sha256,
                      (unsigned long long)table->n_rows);
      keel_catalog_put_value(&text, "schema",
                             schema.data ? (const char *)schema.data : "");
      keel_buf_printf(&text, "owner = %s\nscope = %s\n", r->owner, r->scope);
      if (r->auth)
        keel_buf_printf(&text, "auth = %s\n", r->auth);
      keel_buf_printf(&text, "as_of = %s\n", r->as_of ? r->as_of : as_of);
      if (r->max_age_days)
        keel_buf_printf(&text, "max_age_days = %u\n", r->max_age_days);
      keel_buf_printf(&text, "license = %s\n", r->license);
      if (r->description && r->description[0])
        keel_catalog_put_value(&text, "description", r->description);
      char stats_hex[65];
      keel_sha256_hex(json, strlen(json), stats_hex);
      keel_buf_printf(&text, "stats = %s\nstats_sha256 = %s\n", stats_rel,
                      stats_hex);
    }
    /* The whole new catalog must read back before anything is written. */
    keel_catalog *check = NULL;
    if (!rc && !text.data)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (!rc)
      rc = keel_catalog_parse(r->catalog_path, (const char *)text.data,
                              text.len, &check, err);
    keel_catalog_free(check);
    if (!rc)
      rc = keel_write_file_atomic(stats_abs, json, strlen(json), 0644, 0, err);
    if (!rc)
      rc = keel_write_file_atomic(r->catalog_path, text.data, text.len, 0644, 0,
                                  err);
    free(json);
    free(stats_dir);
    json_decref(stats);
    keel_buf_free(&schema);
  }
  if (!rc) {
    out->stats_path = stats_abs;
    stats_abs = NULL;
  }
  keel_buf_free(&text);
  if (table)
    keel_table_free(table);
  if (values && lp)
    for (size_t p = 0; p < lp->desc.n_params; p++)
      keel_value_clear(&lp->desc.params[p], &values[p]);
  free(values);
  if (ctx_ok)
    keel_host_context_free(&ctx);
  keel_registry_destroy(reg);
  keel_catalog_free(cat);
  free(old);
  free(file);
  free(location);
  free(stats_rel);
  free(stats_abs);
  free(catdir);
  free(auth_ref);
  close(lock);
  return rc;
}
