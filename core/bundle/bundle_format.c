/* The bundle format versions and what each means to a reader: the one
 * place that reads run.json's "format" (docs/bundle-format.md, "Format
 * versions"). A new version adds a row; an old row is never changed, so
 * every bundle keeps being verified by its own digest rule. Replay writes
 * the current format, so an older bundle's results are also read the way
 * the current writer would write them (keel_bundle_digest_current): one
 * reader per older version. */
#include "bundle/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle_write_internal.h"

static const char *const covered_exact_v1[] = {"config.json",
                                               "plugins.json",
                                               "lineage.json",
                                               "metrics.json",
                                               "metrics.jsonl",
                                               "optimizer_state.npy",
                                               NULL};
/* Format 2 leaves plugins.json out: a plugin's binary hash is checked
 * (verify, replay) and reported (diff), but a rebuild that computes the
 * same bits is the same result. */
static const char *const covered_exact_v2[] = {
    "config.json",   "lineage.json",        "metrics.json",
    "metrics.jsonl", "optimizer_state.npy", NULL};
static const char *const covered_prefix[] = {"preprocess/", "weights/",
                                             "optimizer/", NULL};

static const keel_bundle_format formats[] = {
    {1, "keel-bundle/1", covered_exact_v1, covered_prefix, 0, 0},
    {2, "keel-bundle/2", covered_exact_v2, covered_prefix, 1, 0},
    /* 3 adds the template chain (templates/, templates.json), outside
     * the digest: the digest rule is 2's. */
    {3, "keel-bundle/3", covered_exact_v2, covered_prefix, 1, 0},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

/* A sweep's bundle (docs/tuning.md, "The sweep bundle"): its result
 * digest covers trials.json alone, each trial's parameters, status,
 * objective and result digest in trial order. */
static const char *const covered_sweep[] = {"trials.json", NULL};
static const char *const covered_none[] = {NULL};
static const keel_bundle_format sweep_format = {
    1, "keel-sweep/1", covered_sweep, covered_none, 0, 1};

const keel_bundle_format *keel_bundle_format_sweep(void)
{
  return &sweep_format;
}

const keel_bundle_format *keel_bundle_format_current(void)
{
  return &formats[N_FORMATS - 1];
}

int keel_bundle_format_covers(const keel_bundle_format *f, const char *name)
{
  for (const char *const *e = f->covered_exact; *e; e++)
    if (strcmp(name, *e) == 0)
      return 1;
  for (const char *const *p = f->covered_prefix; *p; p++) {
    size_t n = strlen(*p);
    if (strncmp(name, *p, n) == 0 && name[n] != '\0')
      return 1;
  }
  return 0;
}

int keel_bundle_format_same_digest_rule(const keel_bundle_format *a,
                                        const keel_bundle_format *b)
{
  return a->covered_exact == b->covered_exact &&
         a->covered_prefix == b->covered_prefix;
}

int keel_bundle_format_of(const keel_bundle *b, const keel_bundle_format **out,
                          keel_error *err)
{
  keel_error e = {0};
  json_t *run = keel_bundle_find(b, "run.json")
                    ? keel_bundle_json(b, "run.json", &e)
                    : NULL;
  const char *name = json_string_value(json_object_get(run, "format"));
  int rc = KEEL_OK;
  *out = NULL;
  for (size_t i = 0; name && i < N_FORMATS; i++)
    if (strcmp(name, formats[i].name) == 0)
      *out = &formats[i];
  if (name && strcmp(name, sweep_format.name) == 0)
    *out = &sweep_format;
  if (!*out) {
    if (!keel_bundle_find(b, "run.json"))
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "run.json is missing, so the bundle's format is unknown");
    else if (!run)
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "run.json does not parse (%s), so the bundle's format "
                     "is unknown",
                     e.message);
    else
      rc =
          keel_fail(err, KEEL_EINTEGRITY,
                    "run.json format %s%s%s is not one this keel reads; "
                    "expected keel-bundle/1, /2 or /3, or keel-sweep/1",
                    name ? "'" : "(absent)", name ? name : "", name ? "'" : "");
  }
  json_decref(run);
  return rc;
}

/* ---- format 1 read as format 2 ------------------------------------------ */

/* A format-1 config.json (values with origins, ranges and the plugins'
 * SHA-256s) as format 2 writes it: the same values, in the same order
 * (config/config.c, keel_run_config_values_json). New reference or NULL. */
static json_t *config_v1_as_v2(const json_t *v1)
{
  const json_t *t = json_object_get(v1, "template");
  json_t *root = json_object(), *stages = json_array(), *st, *p;
  size_t i, k;
  if (!root || !stages || !t) {
    json_decref(root);
    json_decref(stages);
    return NULL;
  }
  json_object_set_new(root, "template",
                      json_pack("{s:O, s:O, s:O}", "name",
                                json_object_get(t, "name"), "version",
                                json_object_get(t, "version"), "task",
                                json_object_get(t, "task")));
  json_object_set(root, "checks", json_object_get(v1, "checks"));
  json_array_foreach(json_object_get(v1, "stages"), i, st)
  {
    const json_t *pin = json_object_get(st, "plugin");
    json_t *params = json_array(), *o;
    json_array_foreach(json_object_get(st, "params"), k, p)
    {
      json_array_append_new(params,
                            json_pack("{s:O, s:O, s:O, s:O}", "name",
                                      json_object_get(p, "name"), "type",
                                      json_object_get(p, "type"), "value",
                                      json_object_get(p, "value"), "text",
                                      json_object_get(p, "text")));
    }
    o = json_pack(
        "{s:O, s:O, s:o, s:o}", "section", json_object_get(st, "section"),
        "kind", json_object_get(st, "kind"), "plugin",
        json_is_object(pin)
            ? json_pack("{s:O, s:O}", "name", json_object_get(pin, "name"),
                        "version", json_object_get(pin, "version"))
            : json_null(),
        "params", params);
    json_array_append_new(stages, o);
  }
  json_object_set_new(root, "stages", stages);
  return root;
}

/* Member NAME of a format-1 bundle as format 2 writes it: config.json as
 * above, lineage.json without the source plugin's SHA-256 (plugins.json
 * has it); the SHA-256 of the result in hex, or -1 when the member does
 * not parse as the format-1 writer wrote it. */
static int member_v1_as_v2(const keel_bundle *b, const keel_bundle_member *m,
                           char hex[65])
{
  keel_error e = {0};
  json_t *j = keel_bundle_json(b, m->name, &e), *conv = NULL;
  char *text = NULL;
  if (!j)
    return -1;
  if (strcmp(m->name, "config.json") == 0) {
    conv = config_v1_as_v2(j);
  } else {
    json_object_del(json_object_get(j, "source"), "sha256");
    conv = json_incref(j);
  }
  text = conv ? keel__bundle_json_text(conv) : NULL;
  if (text)
    keel_sha256_hex(text, strlen(text), hex);
  free(text);
  json_decref(conv);
  json_decref(j);
  return text ? 0 : -1;
}

int keel_bundle_digest_current(const keel_bundle *b, char digest_hex[65],
                               keel_error *err)
{
  const keel_bundle_format *f, *now = keel_bundle_format_current();
  int rc = keel_bundle_format_of(b, &f, err);
  size_t n = b->n_members ? b->n_members : 1, m = 0;
  const char **names = NULL, **shas = NULL;
  char(*hex)[65] = NULL;
  if (rc || keel_bundle_format_same_digest_rule(f, now))
    return rc ? rc : keel_bundle_digest_of(b, digest_hex, err);
  names = calloc(n, sizeof *names);
  shas = calloc(n, sizeof *shas);
  hex = calloc(n, sizeof *hex);
  if (!names || !shas || !hex) {
    rc = keel_fail(err, KEEL_ENOMEM, "result digest: out of memory");
    goto out;
  }
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *mb = &b->members[i];
    if (mb->is_dir || !keel_bundle_format_covers(now, mb->name))
      continue;
    if (strcmp(mb->name, "config.json") == 0 ||
        strcmp(mb->name, "lineage.json") == 0) {
      if (member_v1_as_v2(b, mb, hex[m]) != 0) {
        rc = keel_fail(err, KEEL_EINTEGRITY,
                       "%s: %s is not what the %s writer wrote", b->path,
                       mb->name, f->name);
        goto out;
      }
    } else {
      keel_sha256_hex(mb->data, mb->size, hex[m]);
    }
    names[m] = mb->name;
    shas[m] = hex[m];
    m++;
  }
  rc = keel_bundle_digest_compute(names, shas, m, digest_hex, NULL, err);
out:
  free(names);
  free(shas);
  free(hex);
  return rc;
}
