/* The plugin test kit's driver: the property list, parameter sets (the
 * defaults, or the plugin's own fixtures from keel.ext/plugin-test/1),
 * their scratch files, the records, and the helpers every kind's file
 * shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/path.h"
#include "base/status.h"
#include "data/pipeline.h"
#include "keel/test_host.h"
#include "plugin/table.h"
#include "run/plugin_test_internal.h"

static const char *const pt_properties[] = {"lint.descriptor",
                                            "lint.params",
                                            "lint.determinism",
                                            "model.create",
                                            "model.gradient",
                                            "model.backward_overwrites",
                                            "model.chunking",
                                            "model.threads",
                                            "model.reentrant",
                                            "model.init_seed",
                                            "transform.fit_deterministic",
                                            "transform.schema_matches",
                                            "transform.state_roundtrip",
                                            "loss.gradient",
                                            "loss.evaluate_agrees",
                                            "loss.chunking",
                                            "optimizer.resume",
                                            "optimizer.update_agrees",
                                            "source.schema_matches",
                                            NULL};

const char *const *keel_plugin_test_properties(void)
{
  return pt_properties;
}

int keel_plugin_test_property_kind(const char *property)
{
  const char *dot = strchr(property, '.');
  if (!dot)
    return -1;
  char kind[16];
  snprintf(kind, sizeof kind, "%.*s", (int)(dot - property), property);
  return strcmp(kind, "lint") == 0 ? 0 : keel_kind_from_name(kind);
}

int pt_wanted(const pt_ctx *c, const char *name)
{
  return c->only == NULL || strcmp(c->only, name) == 0;
}

int pt_record(pt_ctx *c, const char *property, keel_pt_result result,
              const char *fmt, ...)
{
  keel_pt_report *r = c->report;
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 32;
    keel_pt_record *items = realloc(r->items, cap * sizeof *items);
    if (!items)
      return KEEL_ENOMEM;
    r->items = items;
    r->cap = cap;
  }
  char detail[1024];
  int used = 0;
  if (c->fixture)
    used = snprintf(detail, sizeof detail, "[%s] ", c->fixture);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail + used, sizeof detail - (size_t)used, fmt, ap);
  va_end(ap);
  keel_pt_record *rec = &r->items[r->n];
  rec->property = strdup(property);
  rec->detail = strdup(detail);
  rec->result = result;
  if (!rec->property || !rec->detail) {
    free(rec->property);
    free(rec->detail);
    return KEEL_ENOMEM;
  }
  r->n++;
  return 0;
}

void keel_pt_report_free(keel_pt_report *report)
{
  for (size_t i = 0; i < report->n; i++) {
    free(report->items[i].property);
    free(report->items[i].detail);
  }
  free(report->items);
  memset(report, 0, sizeof *report);
}

double pt_uniform(uint64_t seed, uint64_t stream, uint64_t index, double lo,
                  double hi)
{
  return lo + (hi - lo) * keel_rng_uniform(seed, stream, index);
}

size_t pt_between(uint64_t seed, uint64_t stream, uint64_t index, size_t lo,
                  size_t hi)
{
  return lo + (size_t)keel_rng_below(seed, stream, index, hi - lo + 1);
}

size_t pt_first_diff(const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (memcmp(&a[i], &b[i], sizeof a[i]) != 0)
      return i;
  return n;
}

/* Flag names for messages. */
static const char *flag_text(uint32_t flags)
{
  static const char *const text[] = {"", " may-miss", " may-be-nonfinite",
                                     " may-miss may-be-nonfinite"};
  return text[flags & 3u];
}

const char *pt_schema_diff(const keel_schema *decl, const keel_schema *got,
                           char *buf, size_t size)
{
  size_t c = 0;
  for (size_t k = 0; k < decl->n_cols; k++) {
    const keel_column_schema *d = &decl->cols[k];
    size_t wp = keel_schema_group_prefix(d->name);
    for (; c < got->n_cols; c++) {
      const keel_column_schema *a = &got->cols[c];
      if (wp ? strncmp(a->name, d->name, wp) != 0 : strcmp(a->name, d->name))
        break;
      if (a->type != d->type || (a->flags & ~d->flags)) {
        snprintf(buf, size, "column %zu: declared '%s' %s%s, actual '%s' %s%s",
                 c, d->name, keel_col_type_name(d->type), flag_text(d->flags),
                 a->name, keel_col_type_name(a->type), flag_text(a->flags));
        return buf;
      }
      if (!wp) {
        c++;
        break;
      }
    }
    if (!wp && (c == 0 || strcmp(got->cols[c - 1].name, d->name) != 0)) {
      snprintf(buf, size,
               "declared column '%s' is not column %zu of the "
               "actual table (%s)",
               d->name, c,
               c < got->n_cols ? got->cols[c].name : "which has no more");
      return buf;
    }
  }
  if (c != got->n_cols) {
    snprintf(buf, size,
             "the actual table has column '%s' (%zu), which is "
             "not declared",
             got->cols[c].name, c);
    return buf;
  }
  return NULL;
}

float *pt_floats(size_t n)
{
  return calloc(n ? n : 1, sizeof(float));
}

/* Values for every declaration (keel/test_host.h's rule: defaults, then
 * the fixture's "key=value" texts). A required parameter the fixture
 * leaves unset is named in *missing (borrowed), with *out NULL. */
static int pt_params(const keel_plugin *d, const keel_test_fixture *fx,
                     keel_value **out, const char **missing, keel_error *err)
{
  *out = NULL;
  *missing = NULL;
  for (size_t i = 0; d->params && i < d->n_params; i++) {
    if (!(d->params[i].flags & KEEL_PARAM_REQUIRED))
      continue;
    size_t len = strlen(d->params[i].name), k = 0;
    while (fx && fx->params && fx->params[k] &&
           !(strncmp(fx->params[k], d->params[i].name, len) == 0 &&
             fx->params[k][len] == '='))
      k++;
    if (!fx || !fx->params || !fx->params[k]) {
      *missing = d->params[i].name;
      return 0;
    }
  }
  int rc = keel_test_params(d, fx ? fx->params : NULL, out, err);
  if (rc && fx)
    keel_error_prefix(err, "test fixture '%s'", fx->name ? fx->name : "?");
  return rc;
}

/* The fixture's files in a new scratch folder (*dir, malloc'd). */
static int pt_write_files(const keel_test_fixture *fx, char **dir,
                          keel_error *err)
{
  const char *tmp = getenv("TMPDIR");
  char *tmpl =
      keel_path_join(tmp && *tmp ? tmp : "/tmp", "keel-plugin-test-XXXXXX");
  if (!tmpl)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!mkdtemp(tmpl)) {
    int rc = keel_fail(err, KEEL_EIO, "cannot make a scratch folder %s: %s",
                       tmpl, strerror(errno));
    free(tmpl);
    return rc;
  }
  *dir = tmpl;
  for (size_t i = 0; i < fx->n_files; i++) {
    const keel_test_file *f = &fx->files[i];
    if (!f->name || !*f->name || strchr(f->name, '/') ||
        strcmp(f->name, ".") == 0 || strcmp(f->name, "..") == 0)
      return keel_fail(err, KEEL_EINVAL,
                       "test fixture '%s': file %zu has name '%s'; expected "
                       "a plain file name",
                       fx->name ? fx->name : "?", i,
                       f->name ? f->name : "(null)");
    char *path = keel_path_join(tmpl, f->name);
    FILE *fp = path ? fopen(path, "wb") : NULL;
    int bad = !fp || (f->len && fwrite(f->bytes, 1, f->len, fp) != f->len);
    if (fp && fclose(fp) != 0)
      bad = 1;
    free(path);
    if (bad)
      return keel_fail(err, KEEL_EIO, "cannot write %s/%s: %s", tmpl, f->name,
                       strerror(errno));
  }
  return 0;
}

static void pt_remove_files(const keel_test_fixture *fx, char *dir)
{
  if (!dir)
    return;
  for (size_t i = 0; i < fx->n_files; i++) {
    char *path = fx->files[i].name && !strchr(fx->files[i].name, '/')
                     ? keel_path_join(dir, fx->files[i].name)
                     : NULL;
    if (path)
      unlink(path);
    free(path);
  }
  rmdir(dir);
  free(dir);
}

static int pt_kind(pt_ctx *c)
{
  switch (c->plugin->desc.kind) {
  case KEEL_KIND_MODEL: return pt_model(c);
  case KEEL_KIND_TRANSFORM: return pt_transform(c);
  case KEEL_KIND_LOSS: return pt_loss(c);
  case KEEL_KIND_OPTIMIZER: return pt_optimizer(c);
  case KEEL_KIND_SOURCE: return pt_source(c);
  default: return 0;
  }
}

/* Skips the kind's properties: parameter `missing` is required and no
 * fixture sets it. */
static int pt_skip_kind(pt_ctx *c, const char *missing)
{
  const char *kind = keel_kind_name((int)c->plugin->desc.kind);
  for (size_t i = 0; pt_properties[i]; i++) {
    if (keel_plugin_test_property_kind(pt_properties[i]) !=
            (int)c->plugin->desc.kind ||
        !pt_wanted(c, pt_properties[i]))
      continue;
    if (pt_record(c, pt_properties[i], KEEL_PT_SKIP,
                  "parameter '%s' is required and the plugin names no test "
                  "fixture setting it (" KEEL_EXT_PLUGIN_TEST
                  ", docs/plugin-guide.md); the %s properties need one",
                  missing, kind))
      return KEEL_ENOMEM;
  }
  return 0;
}

/* One parameter set: its values, its files, the kind's properties. */
static int pt_one(pt_ctx *c, const keel_test_fixture *fx, const char *pdir,
                  keel_error *err)
{
  const keel_plugin *d = &c->plugin->desc;
  const char *missing = NULL;
  char *dir = NULL;
  int rc = pt_params(d, fx, &c->params, &missing, err);
  if (rc)
    return rc;
  if (missing)
    return pt_skip_kind(c, missing);
  if (fx && fx->n_files) {
    rc = pt_write_files(fx, &dir, err);
    if (rc)
      goto out;
  }
  rc = keel_host_context_init(&c->ctx, dir ? dir : pdir);
  if (rc) {
    rc = keel_fail(err, rc, "out of memory");
    goto out;
  }
  keel_host_bind(&c->host, &c->ctx);
  rc = pt_kind(c);
  keel_error settle;
  keel_host_context_settle(&c->ctx, &settle);
  keel_host_context_free(&c->ctx);
  if (rc)
    keel_fail(err, rc, "%s", rc == KEEL_ENOMEM ? "out of memory" : "failed");
out:
  if (fx)
    pt_remove_files(fx, dir);
  else
    free(dir);
  keel_test_params_free(d, c->params);
  c->params = NULL;
  return rc;
}

int keel_plugin_test_run(const keel_loaded_plugin *p, uint64_t seed,
                         const char *only, keel_pt_report *report,
                         keel_error *err)
{
  pt_ctx c = {.plugin = p, .seed = seed, .only = only, .report = report};
  keel_host_bind(&c.host, NULL);
  int rc = pt_lint(&c);
  if (rc)
    return keel_fail(err, rc, "out of memory");
  char *pdir = keel_path_dirname(p->path);
  if (!pdir)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  const keel_plugin_test_ext *ext =
      p->desc.extension ? p->desc.extension(KEEL_EXT_PLUGIN_TEST) : NULL;
  if (ext && ext->struct_size >= sizeof *ext && ext->n_fixtures > 0) {
    for (size_t i = 0; rc == 0 && i < ext->n_fixtures; i++) {
      c.fixture = ext->fixtures[i].name ? ext->fixtures[i].name : "?";
      rc = pt_one(&c, &ext->fixtures[i], pdir, err);
    }
  } else {
    rc = pt_one(&c, NULL, pdir, err);
  }
  free(pdir);
  return rc;
}
