/* The cross-references inside a bundle (keel verify): what one member says
 * about another. SHA256SUMS pins every member's bytes, but a bundle whose
 * SHA256SUMS and seal were recomputed after an edit passes those checks; the
 * members must then still agree with one another:
 *   plugins/<file>.so   against its entry in plugins.json (sha256), and
 *                       every plugin config.json and config_full.json pin
 *                       against plugins.json;
 *   data/...            against lineage.json source.files (sha256, bytes);
 *   weights/ and optimizer/ .npy, optimizer_state.npy
 *                       parse as .npy v1/v2 whose data fills the file;
 *   preprocess/NN-S.json against the transform stages of config.json;
 *   run.json run_id     against the top-level folder.
 * A consistent forgery of all of them is still undetectable without a
 * signature (docs/bundle-format.md). */
#define _GNU_SOURCE /* memmem */
#include "bundle/bundle_xref.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"

#define NOTE(...)                                                              \
  do {                                                                         \
    keel_buf_printf(out, __VA_ARGS__);                                         \
    (*n)++;                                                                    \
  } while (0)

static int starts(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static json_t *load(const keel_bundle *b, const char *name)
{
  keel_error e = {0};
  return keel_bundle_find(b, name) ? keel_bundle_json(b, name, &e) : NULL;
}

static void check_plugins(const keel_bundle *b, const json_t *plugins,
                          keel_buf *out, size_t *n)
{
  const json_t *list = json_object_get(plugins, "plugins");
  size_t i;
  json_t *p;
  if (!json_is_array(list))
    return; /* check_required reports it */
  json_array_foreach(list, i, p)
  {
    const char *file = json_string_value(json_object_get(p, "file"));
    const char *sha = json_string_value(json_object_get(p, "sha256"));
    const keel_bundle_member *m = file ? keel_bundle_find(b, file) : NULL;
    char hex[65];
    if (!file || !sha || !starts(file, "plugins/")) {
      NOTE("malformed: plugins.json entry %zu (no file or sha256)\n", i + 1);
      continue;
    }
    if (!m)
      continue; /* keel run --no-plugins */
    keel_sha256_hex(m->data, m->size, hex);
    if (strcmp(hex, sha) != 0)
      NOTE("mismatch: %s has SHA-256 %s but plugins.json says %s\n", file, hex,
           sha);
  }
  for (size_t k = 0; k < b->n_members; k++) {
    const keel_bundle_member *m = &b->members[k];
    int listed = 0;
    if (m->is_dir || !starts(m->name, "plugins/"))
      continue;
    json_array_foreach(list, i, p)
    {
      const char *file = json_string_value(json_object_get(p, "file"));
      listed |= file && strcmp(file, m->name) == 0;
    }
    if (!listed)
      NOTE("mismatch: %s is not listed in plugins.json\n", m->name);
  }
}

/* Every plugin configuration NAME (config.json, config_full.json) pins is
 * one plugins.json records: same name and, where the pin says them, the
 * same version and SHA-256 (format 2's config.json pins name and version,
 * config_full.json and format 1's config.json the SHA-256 too). */
static void check_pins(const json_t *plugins, const char *name,
                       const json_t *config, keel_buf *out, size_t *n)
{
  const json_t *list = json_object_get(plugins, "plugins");
  json_t *stage, *p;
  size_t i, j;
  if (!json_is_array(list))
    return; /* check_required reports it */
  json_array_foreach(json_object_get(config, "stages"), i, stage)
  {
    const json_t *pin = json_object_get(stage, "plugin");
    const char *pname = json_string_value(json_object_get(pin, "name"));
    const char *ver = json_string_value(json_object_get(pin, "version"));
    const char *sha = json_string_value(json_object_get(pin, "sha256"));
    int found = 0;
    if (!pname)
      continue;
    json_array_foreach(list, j, p)
    {
      const char *pn = json_string_value(json_object_get(p, "name"));
      const char *pv = json_string_value(json_object_get(p, "version"));
      const char *ps = json_string_value(json_object_get(p, "sha256"));
      found |= pn && strcmp(pn, pname) == 0 &&
               (!ver || (pv && strcmp(pv, ver) == 0)) &&
               (!sha || (ps && strcmp(ps, sha) == 0));
    }
    if (!found)
      NOTE("mismatch: %s pins plugin %s%s%s%s%s%s that plugins.json does "
           "not record\n",
           name, pname, ver ? " " : "", ver ? ver : "", sha ? " (SHA-256 " : "",
           sha ? sha : "", sha ? ")" : "");
  }
}

/* The member run.c stores a copy of lineage file PATH under. */
static void data_member_name(const char *path, const char *sha, char *buf,
                             size_t n)
{
  snprintf(buf, n, "data/%s", path);
  if (strstr(buf, "..") || path[0] == '/')
    snprintf(buf, n, "data/input-%.16s", sha);
}

static void check_data(const keel_bundle *b, const json_t *lineage,
                       keel_buf *out, size_t *n)
{
  const json_t *files =
      json_object_get(json_object_get(lineage, "source"), "files");
  if (!lineage)
    return; /* nothing records the data (a bundle cut short, or hand-made) */
  for (size_t k = 0; k < b->n_members; k++) {
    const keel_bundle_member *m = &b->members[k];
    size_t i;
    json_t *f;
    int found = 0;
    if (m->is_dir || !starts(m->name, "data/"))
      continue;
    json_array_foreach(files, i, f)
    {
      const char *path = json_string_value(json_object_get(f, "path"));
      const char *sha = json_string_value(json_object_get(f, "sha256"));
      const json_t *bytes = json_object_get(f, "bytes");
      char want[4200], hex[65];
      if (!path || !sha)
        continue;
      data_member_name(path, sha, want, sizeof want);
      if (strcmp(want, m->name) != 0)
        continue;
      found = 1;
      keel_sha256_hex(m->data, m->size, hex);
      if (strcmp(hex, sha) != 0)
        NOTE("mismatch: %s has SHA-256 %s but lineage.json says %s for %s\n",
             m->name, hex, sha, path);
      else if (!json_is_integer(bytes) ||
               (json_int_t)m->size != json_integer_value(bytes))
        NOTE("mismatch: %s holds %zu bytes but lineage.json says %s for %s\n",
             m->name, m->size, json_is_integer(bytes) ? "otherwise" : "no size",
             path);
    }
    if (!found)
      NOTE("mismatch: %s is not a data file lineage.json records\n", m->name);
  }
}

/* Bytes per element of a .npy descr keel may write, or 0. */
static size_t npy_itemsize(const char *h, size_t n)
{
  static const struct {
    const char *descr;
    size_t size;
  } known[] = {
      {"'<f4'", 4}, {"'<f8'", 8}, {"'<i4'", 4}, {"'<i8'", 8}, {"'|u1'", 1}};
  const char *d = memmem(h, n, "'descr':", 8);
  if (!d)
    return 0;
  d += 8;
  while (d < h + n && *d == ' ')
    d++;
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if ((size_t)(h + n - d) >= 5 && memcmp(d, known[i].descr, 5) == 0)
      return known[i].size;
  return 0;
}

/* NULL when m is a well-formed .npy (v1.0 or v2.0, a descr keel writes,
 * C order, a shape whose elements fill the data), else what is wrong. */
static const char *npy_problem(const keel_bundle_member *m)
{
  const unsigned char *p = m->data;
  size_t hlen, off, item, count = 1;
  if (m->size < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
    return "not a .npy file";
  if (p[6] == 1) {
    hlen = p[8] | (size_t)p[9] << 8;
    off = 10;
  } else if (p[6] == 2 && m->size >= 12) {
    hlen = p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    off = 12;
  } else {
    return "unknown .npy version";
  }
  if (hlen > m->size - off)
    return "truncated .npy header";
  const char *h = (const char *)p + off;
  if (!(item = npy_itemsize(h, hlen)))
    return "unknown .npy dtype";
  if (!memmem(h, hlen, "'fortran_order': False", 22))
    return ".npy not in C order";
  const char *s = memmem(h, hlen, "'shape': (", 10);
  if (!s)
    return ".npy header without a shape";
  s += 10;
  for (;;) {
    char *end;
    while (s < h + hlen && (*s == ' ' || *s == ','))
      s++;
    if (s >= h + hlen)
      return "malformed .npy shape";
    if (*s == ')')
      break;
    if (*s < '0' || *s > '9')
      return "malformed .npy shape";
    unsigned long long d = strtoull(s, &end, 10);
    if (end > h + hlen || (d && count > SIZE_MAX / d))
      return "malformed .npy shape";
    count *= (size_t)d;
    s = end;
  }
  if (count > SIZE_MAX / item || count * item != m->size - off - hlen)
    return "its shape does not match its data size";
  return NULL;
}

static void check_arrays(const keel_bundle *b, keel_buf *out, size_t *n)
{
  for (size_t k = 0; k < b->n_members; k++) {
    const keel_bundle_member *m = &b->members[k];
    const char *why;
    size_t len = strlen(m->name);
    if (m->is_dir || len < 4 || strcmp(m->name + len - 4, ".npy") != 0 ||
        !(starts(m->name, "weights/") || starts(m->name, "optimizer/") ||
          strcmp(m->name, "optimizer_state.npy") == 0))
      continue;
    if ((why = npy_problem(m)))
      NOTE("malformed: %s (%s)\n", m->name, why);
  }
}

/* preprocess/NN-<section>.json: the NNth transform stage of config.json is
 * <section>; a finished run has one for every transform stage. */
static void check_preprocess(const keel_bundle *b, const json_t *config,
                             const json_t *run, keel_buf *out, size_t *n)
{
  const json_t *stages = json_object_get(config, "stages");
  const char *status = json_string_value(json_object_get(run, "status"));
  int ok = status && strcmp(status, "ok") == 0;
  size_t n_transforms = 0, i;
  json_t *st;
  if (!config)
    return;
  json_array_foreach(stages, i, st)
  {
    const char *kind = json_string_value(json_object_get(st, "kind"));
    const char *section = json_string_value(json_object_get(st, "section"));
    char want[512];
    if (!kind || strcmp(kind, "transform") != 0 || !section)
      continue;
    n_transforms++;
    snprintf(want, sizeof want, "preprocess/%02zu-%s.json", n_transforms,
             section);
    if (ok && !keel_bundle_find(b, want))
      NOTE("mismatch: config.json has transform stage %s but %s is missing\n",
           section, want);
  }
  for (size_t k = 0; k < b->n_members; k++) {
    const keel_bundle_member *m = &b->members[k];
    size_t t = 0;
    int found = 0;
    if (m->is_dir || !starts(m->name, "preprocess/"))
      continue;
    json_array_foreach(stages, i, st)
    {
      const char *kind = json_string_value(json_object_get(st, "kind"));
      const char *section = json_string_value(json_object_get(st, "section"));
      char want[512];
      if (!kind || strcmp(kind, "transform") != 0 || !section)
        continue;
      snprintf(want, sizeof want, "preprocess/%02zu-%s.json", ++t, section);
      found |= strcmp(want, m->name) == 0;
    }
    if (!found)
      NOTE("mismatch: %s is not the fitted state of a transform stage in "
           "config.json\n",
           m->name);
  }
}

/* keel-bundle/3: each template of the chain templates.json lists is
 * in the bundle with the SHA-256 it records, and nothing else is in
 * templates/. */
static void check_templates(const keel_bundle *b, const json_t *tj,
                            keel_buf *out, size_t *n)
{
  const json_t *list = json_object_get(tj, "chain");
  size_t i;
  json_t *t;
  json_array_foreach(list, i, t)
  {
    const char *file = json_string_value(json_object_get(t, "member"));
    const char *sha = json_string_value(json_object_get(t, "sha256"));
    const keel_bundle_member *m = file ? keel_bundle_find(b, file) : NULL;
    char hex[65];
    if (!file || !sha || !starts(file, "templates/")) {
      NOTE("malformed: templates.json entry %zu (no member or sha256)\n",
           i + 1);
      continue;
    }
    if (!m) {
      NOTE("missing: %s, which templates.json lists\n", file);
      continue;
    }
    keel_sha256_hex(m->data, m->size, hex);
    if (strcmp(hex, sha) != 0)
      NOTE("mismatch: %s has SHA-256 %s but templates.json says %s\n", file,
           hex, sha);
  }
  for (size_t k = 0; k < b->n_members; k++) {
    const keel_bundle_member *m = &b->members[k];
    int listed = 0;
    if (m->is_dir || !starts(m->name, "templates/"))
      continue;
    json_array_foreach(list, i, t)
    {
      const char *file = json_string_value(json_object_get(t, "member"));
      listed |= file && strcmp(file, m->name) == 0;
    }
    if (!listed)
      NOTE("mismatch: %s is not listed in templates.json\n", m->name);
  }
}

void keel__bundle_check_refs(const keel_bundle *b, keel_buf *out, size_t *n)
{
  json_t *plugins = load(b, "plugins.json");
  json_t *config = load(b, "config.json");
  json_t *full = load(b, "config_full.json");
  json_t *lineage = load(b, "lineage.json");
  json_t *run = load(b, "run.json");
  const char *id = json_string_value(json_object_get(run, "run_id"));
  check_plugins(b, plugins, out, n);
  check_pins(plugins, "config.json", config, out, n);
  check_pins(plugins, "config_full.json", full, out, n);
  check_data(b, lineage, out, n);
  check_arrays(b, out, n);
  check_preprocess(b, config, run, out, n);
  json_t *templates = load(b, "templates.json");
  if (templates || keel_bundle_find(b, "templates/"))
    check_templates(b, templates, out, n);
  json_decref(templates);
  if (run && (!id || strcmp(id, b->top) != 0))
    NOTE("mismatch: run.json run_id %s but the bundle's folder is %s\n",
         id ? id : "(absent)", b->top);
  json_decref(plugins);
  json_decref(config);
  json_decref(full);
  json_decref(lineage);
  json_decref(run);
}
