/* A bundle's facts as the registry indexes them (registry.h): read from
 * its JSON members with jansson, each member optional, since a run that
 * failed early seals only some of them. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "run/registry.h"

static char *dup_str(const json_t *j)
{
  const char *s = json_string_value(j);
  return s ? strdup(s) : NULL;
}

static int grow(void **arr, size_t n, size_t size)
{
  void *p = realloc(*arr, (n + 1) * size);
  if (!p)
    return KEEL_ENOMEM;
  *arr = p;
  memset((char *)p + n * size, 0, size);
  return 0;
}

/* config.json: every stage's parameters as SECTION.NAME. */
static int add_params(keel_run_registry_record *rec, const json_t *config)
{
  size_t i, j;
  json_t *stage, *p;
  json_array_foreach(json_object_get(config, "stages"), i, stage)
  {
    const char *section = json_string_value(json_object_get(stage, "section"));
    if (!section)
      continue;
    json_array_foreach(json_object_get(stage, "params"), j, p)
    {
      const char *name = json_string_value(json_object_get(p, "name"));
      const char *text = json_string_value(json_object_get(p, "text"));
      if (!name || !text)
        continue;
      if (grow((void **)&rec->params, rec->n_params, sizeof *rec->params))
        return KEEL_ENOMEM;
      keel_run_registry_param *q = &rec->params[rec->n_params++];
      size_t n = strlen(section) + strlen(name) + 2;
      if (!(q->key = malloc(n)))
        return KEEL_ENOMEM;
      snprintf(q->key, n, "%s.%s", section, name);
      q->stage = dup_str(json_object_get(stage, "kind"));
      q->plugin =
          dup_str(json_object_get(json_object_get(stage, "plugin"), "name"));
      q->type = dup_str(json_object_get(p, "type"));
      q->text = strdup(text);
      const json_t *v = json_object_get(p, "value");
      if (json_is_number(v)) {
        q->num = json_number_value(v);
        q->has_num = 1;
      } else if (json_is_boolean(v)) {
        q->num = json_is_true(v);
        q->has_num = 1;
      }
      if (!q->text)
        return KEEL_ENOMEM;
    }
  }
  return 0;
}

static int add_metric(keel_run_registry_record *rec, const char *split,
                      const char *name, long epoch, const json_t *v)
{
  if (grow((void **)&rec->metrics, rec->n_metrics, sizeof *rec->metrics))
    return KEEL_ENOMEM;
  keel_run_registry_metric *m = &rec->metrics[rec->n_metrics++];
  size_t n = strlen(split) + strlen(name) + 2;
  if (!(m->key = malloc(n)))
    return KEEL_ENOMEM;
  snprintf(m->key, n, "%s.%s", split, name);
  m->epoch = epoch;
  if (json_is_number(v) && isfinite(json_number_value(v)))
    m->value = json_number_value(v);
  else
    m->is_nan = 1;
  return 0;
}

/* "train_loss" -> split "train", name "loss"; 0 for other keys. */
static int epoch_key(const char *key, char split[8], const char **name)
{
  static const char *const splits[] = {"train", "valid", "test"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(splits[i]);
    if (strncmp(key, splits[i], n) == 0 && key[n] == '_' && key[n + 1]) {
      strcpy(split, splits[i]);
      *name = key + n + 1;
      return 1;
    }
  }
  return 0;
}

/* metrics.json's splits, then metrics.jsonl's epochs. A final value
 * written as null is a NaN when the run reports that metric per epoch
 * (it diverged), and left out when it does not (rmse of a classifier). */
static int add_metrics(keel_run_registry_record *rec, const json_t *final,
                       const keel_bundle_member *lines)
{
  json_t *epochs = json_array();
  int rc = epochs ? 0 : KEEL_ENOMEM;
  for (const char *p = lines ? (const char *)lines->data : NULL;
       !rc && p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    json_t *o = json_loadb(p, n, 0, NULL);
    if (json_is_object(o))
      json_array_append(epochs, o);
    json_decref(o);
    p = nl ? nl + 1 : p + n;
  }
  json_t *first = json_array_get(epochs, 0);
  static const char *const splits[] = {"train", "valid", "test"};
  for (size_t s = 0; !rc && s < 3; s++) {
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(final, splits[s]), key, v)
    {
      if (strcmp(key, "rows") == 0)
        continue;
      char per_epoch[64];
      snprintf(per_epoch, sizeof per_epoch, "%s_%s", splits[s], key);
      if (json_is_null(v) && !json_object_get(first, per_epoch))
        continue;
      if ((rc = add_metric(rec, splits[s], key, 0, v)))
        break;
    }
  }
  size_t i;
  json_t *o;
  json_array_foreach(epochs, i, o)
  {
    json_int_t epoch = json_integer_value(json_object_get(o, "epoch"));
    const char *key;
    json_t *v;
    if (rc || epoch <= 0)
      continue;
    json_object_foreach(o, key, v)
    {
      char split[8];
      const char *name;
      if (epoch_key(key, split, &name) &&
          (rc = add_metric(rec, split, name, (long)epoch, v)))
        break;
    }
  }
  json_decref(epochs);
  return rc;
}

static int add_lineage(keel_run_registry_record *rec, const json_t *lineage)
{
  const json_t *source = json_object_get(lineage, "source");
  const json_t *ds = json_object_get(source, "dataset");
  rec->dataset = dup_str(json_object_get(ds, "name"));
  rec->dataset_version = dup_str(json_object_get(ds, "version"));
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(source, "files"), i, f)
  {
    const char *path = json_string_value(json_object_get(f, "path"));
    if (!path)
      continue;
    if (grow((void **)&rec->data, rec->n_data, sizeof *rec->data))
      return KEEL_ENOMEM;
    keel_run_registry_data *d = &rec->data[rec->n_data++];
    d->path = strdup(path);
    d->sha256 = dup_str(json_object_get(f, "sha256"));
    d->bytes = (long long)json_integer_value(json_object_get(f, "bytes"));
    if (!d->path)
      return KEEL_ENOMEM;
  }
  return 0;
}

static int add_plugins(keel_run_registry_record *rec, const json_t *plugins)
{
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(plugins, "plugins"), i, p)
  {
    const char *kind = json_string_value(json_object_get(p, "kind"));
    const char *name = json_string_value(json_object_get(p, "name"));
    if (!kind || !name)
      continue;
    if (grow((void **)&rec->plugins, rec->n_plugins, sizeof *rec->plugins))
      return KEEL_ENOMEM;
    keel_run_registry_plugin *q = &rec->plugins[rec->n_plugins++];
    q->kind = strdup(kind);
    q->name = strdup(name);
    q->version = dup_str(json_object_get(p, "version"));
    q->sha256 = dup_str(json_object_get(p, "sha256"));
    if (!q->kind || !q->name)
      return KEEL_ENOMEM;
  }
  return 0;
}

static void add_run(keel_run_registry_record *rec, const json_t *run)
{
  rec->run_id = dup_str(json_object_get(run, "run_id"));
  rec->status = dup_str(json_object_get(run, "status"));
  rec->exit_code = (long)json_integer_value(json_object_get(run, "exit_code"));
  rec->error = dup_str(json_object_get(run, "error"));
  rec->result_digest = dup_str(json_object_get(run, "result_digest"));
  rec->input_digest = dup_str(json_object_get(run, "input_digest"));
  rec->started_at = dup_str(json_object_get(run, "started_at"));
  rec->ended_at = dup_str(json_object_get(run, "ended_at"));
  rec->user = dup_str(json_object_get(run, "user"));
  rec->host = dup_str(json_object_get(run, "host"));
  rec->format = dup_str(json_object_get(run, "format"));
  const char *mp = json_string_value(json_object_get(run, "manifest_path"));
  if (mp)
    rec->name = strdup(keel_path_basename(mp));
  const json_t *sweep = json_object_get(run, "sweep");
  if (json_is_object(sweep)) {
    rec->sweep_id = dup_str(json_object_get(sweep, "id"));
    rec->sweep_trial =
        (long)json_integer_value(json_object_get(sweep, "trial"));
    rec->sweep_objective = dup_str(json_object_get(sweep, "objective"));
    rec->sweep_direction = dup_str(json_object_get(sweep, "direction"));
  }
}

int keel_run_registry_record_from_bundle(const keel_bundle *b,
                                         const char *abs_path,
                                         const char sha[65],
                                         keel_run_registry_record *rec,
                                         keel_error *err)
{
  memset(rec, 0, sizeof *rec);
  json_t *run = keel_bundle_json(b, "run.json", NULL);
  json_t *config = keel_bundle_json(b, "config.json", NULL);
  json_t *final = keel_bundle_json(b, "metrics.json", NULL);
  json_t *lineage = keel_bundle_json(b, "lineage.json", NULL);
  json_t *plugins = keel_bundle_json(b, "plugins.json", NULL);
  int rc = 0;
  add_run(rec, run);
  if (!rec->run_id || !rec->status) {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "%s: run.json holds no run_id or status", abs_path);
    goto out;
  }
  const json_t *tpl = json_object_get(config, "template");
  rec->template_name = dup_str(json_object_get(tpl, "name"));
  rec->template_version = dup_str(json_object_get(tpl, "version"));
  const keel_bundle_member *m = keel_bundle_find(b, "manifest.ini");
  if (m && (rec->manifest_sha256 = malloc(65)))
    keel_sha256_hex(m->data, m->size, rec->manifest_sha256);
  rec->bundle_path = strdup(abs_path);
  memcpy(rec->bundle_sha256, sha, 65);
  if (!rec->bundle_path || add_params(rec, config) ||
      add_metrics(rec, final, keel_bundle_find(b, "metrics.jsonl")) ||
      add_lineage(rec, lineage) || add_plugins(rec, plugins))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
out:
  json_decref(run);
  json_decref(config);
  json_decref(final);
  json_decref(lineage);
  json_decref(plugins);
  if (rc)
    keel_run_registry_record_free(rec);
  return rc;
}

void keel_run_registry_record_free(keel_run_registry_record *rec)
{
  char **strs[] = {&rec->run_id,
                   &rec->name,
                   &rec->template_name,
                   &rec->template_version,
                   &rec->manifest_sha256,
                   &rec->input_digest,
                   &rec->result_digest,
                   &rec->status,
                   &rec->error,
                   &rec->started_at,
                   &rec->ended_at,
                   &rec->user,
                   &rec->host,
                   &rec->format,
                   &rec->dataset,
                   &rec->dataset_version,
                   &rec->sweep_id,
                   &rec->sweep_direction,
                   &rec->sweep_objective,
                   &rec->bundle_path};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    free(*strs[i]);
  for (size_t i = 0; i < rec->n_params; i++) {
    free(rec->params[i].key);
    free(rec->params[i].stage);
    free(rec->params[i].plugin);
    free(rec->params[i].type);
    free(rec->params[i].text);
  }
  for (size_t i = 0; i < rec->n_metrics; i++)
    free(rec->metrics[i].key);
  for (size_t i = 0; i < rec->n_data; i++) {
    free(rec->data[i].path);
    free(rec->data[i].sha256);
  }
  for (size_t i = 0; i < rec->n_plugins; i++) {
    free(rec->plugins[i].kind);
    free(rec->plugins[i].name);
    free(rec->plugins[i].version);
    free(rec->plugins[i].sha256);
  }
  free(rec->params);
  free(rec->metrics);
  free(rec->data);
  free(rec->plugins);
  memset(rec, 0, sizeof *rec);
}
