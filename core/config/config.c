/* The resolved run configuration: release and JSON form (config.h,
 * config_json.h). */
#include "config/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_text.h"
#include "base/params.h"
#include "base/url.h"
#include "config/config_json.h"

const char *keel_origin_name(keel_origin o)
{
  switch (o) {
  case KEEL_ORIGIN_PLUGIN_DEFAULT: return "default";
  case KEEL_ORIGIN_TEMPLATE: return "template";
  case KEEL_ORIGIN_MANIFEST: return "manifest";
  case KEEL_ORIGIN_OVERRIDE: return "override";
  case KEEL_ORIGIN_CATALOG: return "catalog";
  default: return "unknown";
  }
}

static void stage_free(keel_stage *st)
{
  for (size_t i = 0; st->params && i < st->n_params; i++) {
    free(st->params[i].text);
    free(st->params[i].where);
  }
  for (size_t i = 0; st->values && i < st->n_params; i++)
    keel_value_clear(&st->decls[i], &st->values[i]);
  free(st->params);
  free(st->values);
  free(st->section);
}

void keel_run_config_free(keel_run_config *cfg)
{
  if (!cfg)
    return;
  stage_free(&cfg->data);
  stage_free(&cfg->train);
  stage_free(&cfg->source);
  keel_dataset_free(cfg->dataset);
  keel_column_checks_free(cfg->checks.columns, cfg->checks.n_columns);
  for (size_t i = 0; i < cfg->n_transforms; i++)
    stage_free(&cfg->transforms[i]);
  free(cfg->transforms);
  stage_free(&cfg->model);
  stage_free(&cfg->loss);
  stage_free(&cfg->optimizer);
  for (size_t i = 0; i < cfg->n_overrides; i++)
    free(cfg->overrides[i].text);
  free(cfg->overrides);
  free(cfg->manifest_path);
  free(cfg->manifest_dir);
  free(cfg->manifest_text);
  free(cfg->purpose);
  free(cfg->template_path);
  free(cfg->template_text);
  free(cfg->template_name);
  free(cfg->template_version);
  for (size_t i = 0; i < cfg->n_chain; i++) {
    free(cfg->chain[i].name);
    free(cfg->chain[i].version);
    free(cfg->chain[i].path);
    free(cfg->chain[i].text);
  }
  free(cfg->chain);
  for (size_t i = 0; i < cfg->n_rules; i++) {
    free(cfg->rules[i].text);
    free(cfg->rules[i].file);
  }
  free(cfg->rules);
  free(cfg);
}

json_t *keel_value_to_json(const keel_param_decl *d, const keel_value *v)
{
  switch (d->type) {
  case KEEL_PARAM_BOOL: return json_boolean(v->i != 0);
  case KEEL_PARAM_INT: return json_integer((json_int_t)v->i);
  case KEEL_PARAM_FLOAT: return json_real(v->f);
  case KEEL_PARAM_STRING:
  case KEEL_PARAM_ENUM: return json_string(v->s ? v->s : "");
  case KEEL_PARAM_INT_LIST: {
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n; i++)
      json_array_append_new(a, json_integer((json_int_t)v->ints[i]));
    return a;
  }
  case KEEL_PARAM_STRING_LIST: {
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n; i++)
      json_array_append_new(a, json_string(v->strings[i]));
    return a;
  }
  }
  return json_null();
}

/* A bound as JSON: a number, or null for an infinite one. */
static json_t *bound_json(double b)
{
  return isfinite(b) ? json_real(b) : json_null();
}

static json_t *stage_json(const keel_stage *st, const char *kind)
{
  json_t *o = json_object();
  if (!o)
    return NULL;
  json_object_set_new(o, "section",
                      json_string(st->section ? st->section : ""));
  json_object_set_new(o, "kind", json_string(kind));
  json_object_set_new(o, "line", json_integer(st->line));
  if (st->plugin) {
    const keel_loaded_plugin *p = st->plugin;
    json_object_set_new(o, "plugin",
                        json_pack("{s:s, s:s, s:s, s:s}", "name", p->desc.name,
                                  "version", p->desc.version, "sha256",
                                  p->sha256, "path", p->path ? p->path : ""));
  } else {
    json_object_set_new(o, "plugin", json_null());
  }
  json_t *params = json_array();
  for (size_t i = 0; params && st->params && i < st->n_params; i++) {
    const keel_resolved_param *rp = &st->params[i];
    const keel_param_decl *d = rp->decl;
    json_t *p = json_object();
    if (!p)
      break;
    json_object_set_new(p, "name", json_string(d->name));
    json_object_set_new(p, "type", json_string(keel_param_type_name(d->type)));
    json_object_set_new(p, "value", keel_value_to_json(d, &st->values[i]));
    json_object_set_new(p, "text", json_string(rp->text ? rp->text : ""));
    json_object_set_new(p, "origin", json_string(keel_origin_name(rp->origin)));
    json_object_set_new(p, "where",
                        rp->where ? json_string(rp->where) : json_null());
    if (d->type == KEEL_PARAM_INT || d->type == KEEL_PARAM_FLOAT ||
        d->type == KEEL_PARAM_INT_LIST) {
      json_object_set_new(p, "min", bound_json(rp->lo));
      json_object_set_new(p, "max", bound_json(rp->hi));
    }
    json_array_append_new(params, p);
  }
  json_object_set_new(o, "params", params ? params : json_null());
  return o;
}

/* The template's checks and contract, as both JSON forms record them. */
static json_t *checks_json(const keel_template_checks *c)
{
  json_t *checks = json_object();
  if (!checks)
    return NULL;
  json_object_set_new(checks, "min_rows",
                      c->min_rows >= 0 ? json_integer(c->min_rows)
                                       : json_null());
  json_object_set_new(checks, "max_missing_fraction",
                      c->max_missing_fraction >= 0
                          ? json_real(c->max_missing_fraction)
                          : json_null());
  json_object_set_new(checks, "min_class_count",
                      c->min_class_count >= 0 ? json_integer(c->min_class_count)
                                              : json_null());
  json_object_set_new(checks, "missing",
                      json_string(c->contract_flags & KEEL_CONTRACT_NO_MISSING
                                      ? "forbidden"
                                      : "allowed"));
  json_object_set_new(checks, "finite",
                      json_string(c->contract_flags & KEEL_CONTRACT_FINITE
                                      ? "required"
                                      : "optional"));
  /* Added after keel-bundle/3: written only when a template sets them,
   * so every older run keeps the bytes of its config.json (and digest). */
  if (c->max_rows >= 0)
    json_object_set_new(checks, "max_rows", json_integer(c->max_rows));
  if (c->max_class_imbalance >= 0)
    json_object_set_new(checks, "max_class_imbalance",
                        json_real(c->max_class_imbalance));
  if (c->drift_reference[0])
    json_object_set_new(checks, "drift_reference",
                        json_string(c->drift_reference));
  json_t *after = c->n_after ? json_array() : NULL;
  for (size_t i = 0; after && i < c->n_after; i++)
    json_array_append_new(after, json_string(c->after[i]));
  if (after)
    json_object_set_new(checks, "after", after);
  json_t *cols = c->n_columns ? json_object() : NULL;
  for (size_t i = 0; cols && i < c->n_columns; i++) {
    const keel_column_check *cc = &c->columns[i];
    json_t *o = json_object();
    for (int b = 0; o && b < KEEL_CB_N; b++)
      if (!isnan(cc->bound[b]))
        json_object_set_new(o, keel_column_bound_key((keel_column_bound)b),
                            json_real(cc->bound[b]));
    json_t *cats = cc->categories ? json_array() : NULL;
    for (size_t j = 0; cats && j < cc->n_categories; j++)
      json_array_append_new(cats, keel_json_message(cc->categories[j]));
    if (o && cats)
      json_object_set_new(o, "categories", cats);
    if (o)
      json_object_set_new(cols, cc->name, o);
  }
  if (cols)
    json_object_set_new(checks, "columns", cols);
  return checks;
}

json_t *keel_dataset_to_json(const keel_dataset *d)
{
  const keel_catalog_entry *e = d->entry;
  char shown[2048];
  const char *location =
      e->scheme == KEEL_LOCATION_HTTP || e->scheme == KEEL_LOCATION_HTTPS
          ? keel_url_printable(e->location, shown, sizeof shown)
          : e->path;
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
      "s:s, s:s, s:I}",
      "ref", d->ref, "where", d->where, "catalog", d->catalog_path,
      "catalog_origin", d->catalog_origin, "id", e->id, "name", e->name,
      "version", e->version, "sha256", e->sha256, "location", location,
      "scheme", keel_location_scheme_name(e->scheme), "auth",
      keel_auth_method_name(e->auth), "scope", keel_data_scope_name(e->scope),
      "license", e->license ? e->license : "", "owner",
      e->owner ? e->owner : "", "as_of", e->as_of, "max_age_days",
      (json_int_t)e->max_age_days);
  if (o) {
    json_object_set_new(o, "intended_use",
                        e->intended_use ? json_string(e->intended_use)
                                        : json_null());
    json_object_set_new(o, "legal_basis",
                        e->legal_basis ? json_string(e->legal_basis)
                                       : json_null());
  }
  return o ? o : json_null();
}

json_t *keel_run_config_to_json(const keel_run_config *cfg)
{
  json_t *root = json_object();
  if (!root)
    return NULL;
  json_object_set_new(root, "manifest",
                      json_pack("{s:s, s:s}", "path",
                                cfg->manifest_path ? cfg->manifest_path : "",
                                "dir",
                                cfg->manifest_dir ? cfg->manifest_dir : ""));
  json_object_set_new(
      root, "template",
      json_pack("{s:s, s:s, s:s, s:s}", "name",
                cfg->template_name ? cfg->template_name : "", "version",
                cfg->template_version ? cfg->template_version : "", "path",
                cfg->template_path ? cfg->template_path : "", "task",
                cfg->task == KEEL_TASK_REGRESSION ? "regression"
                                                  : "classification"));
  json_t *checks = checks_json(&cfg->checks);
  if (checks)
    json_object_set_new(root, "checks", checks);
  json_t *stages = json_array();
  if (stages) {
    json_array_append_new(stages, stage_json(&cfg->data, "host"));
    json_array_append_new(stages, stage_json(&cfg->source, "source"));
    for (size_t i = 0; i < cfg->n_transforms; i++)
      json_array_append_new(stages,
                            stage_json(&cfg->transforms[i], "transform"));
    json_array_append_new(stages, stage_json(&cfg->model, "model"));
    json_array_append_new(stages, stage_json(&cfg->loss, "loss"));
    json_array_append_new(stages, stage_json(&cfg->optimizer, "optimizer"));
    json_array_append_new(stages, stage_json(&cfg->train, "host"));
    json_object_set_new(root, "stages", stages);
  }
  if (cfg->dataset)
    json_object_set_new(root, "dataset", keel_dataset_to_json(cfg->dataset));
  if (cfg->purpose)
    json_object_set_new(root, "purpose", json_string(cfg->purpose));
  json_t *ov = json_array();
  for (size_t i = 0; ov && i < cfg->n_overrides; i++)
    json_array_append_new(ov, json_string(cfg->overrides[i].text));
  if (ov)
    json_object_set_new(root, "overrides", ov);
  return root;
}

/* One stage as config.json (format 2) records it: the plugin by name and
 * version, each value with its canonical text; no origin, place, range,
 * path or binary hash. A host parameter at its neutral value is left
 * out, as bundles sealed before it existed lack it. */
static json_t *stage_values_json(const keel_stage *st, const char *kind)
{
  json_t *o = json_object(), *params = json_array();
  if (!o || !params) {
    json_decref(o);
    json_decref(params);
    return NULL;
  }
  json_object_set_new(o, "section",
                      json_string(st->section ? st->section : ""));
  json_object_set_new(o, "kind", json_string(kind));
  json_object_set_new(o, "plugin",
                      st->plugin ? json_pack("{s:s, s:s}", "name",
                                             st->plugin->desc.name, "version",
                                             st->plugin->desc.version)
                                 : json_null());
  for (size_t i = 0; st->params && i < st->n_params; i++) {
    const keel_resolved_param *rp = &st->params[i];
    const keel_param_decl *d = rp->decl;
    const char *neutral = st->plugin || !st->section
                              ? NULL
                              : keel_host_neutral_text(st->section, d->name);
    /* The thread count never changes a result (docs/training.md). */
    if (!st->plugin && st->section && strcmp(st->section, "train") == 0 &&
        strcmp(d->name, "threads") == 0)
      continue;
    if (neutral && rp->text && strcmp(rp->text, neutral) == 0)
      continue;
    json_array_append_new(
        params, json_pack("{s:s, s:s, s:o, s:s}", "name", d->name, "type",
                          keel_param_type_name(d->type), "value",
                          keel_value_to_json(d, &st->values[i]), "text",
                          rp->text ? rp->text : ""));
  }
  json_object_set_new(o, "params", params);
  return o;
}

json_t *keel_run_config_values_json(const keel_run_config *cfg)
{
  json_t *root = json_object(), *stages = json_array();
  if (!root || !stages) {
    json_decref(root);
    json_decref(stages);
    return NULL;
  }
  json_object_set_new(
      root, "template",
      json_pack("{s:s, s:s, s:s}", "name",
                cfg->template_name ? cfg->template_name : "", "version",
                cfg->template_version ? cfg->template_version : "", "task",
                cfg->task == KEEL_TASK_REGRESSION ? "regression"
                                                  : "classification"));
  json_object_set_new(root, "checks", checks_json(&cfg->checks));
  json_array_append_new(stages, stage_values_json(&cfg->data, "host"));
  json_array_append_new(stages, stage_values_json(&cfg->source, "source"));
  for (size_t i = 0; i < cfg->n_transforms; i++)
    json_array_append_new(stages,
                          stage_values_json(&cfg->transforms[i], "transform"));
  json_array_append_new(stages, stage_values_json(&cfg->model, "model"));
  json_array_append_new(stages, stage_values_json(&cfg->loss, "loss"));
  json_array_append_new(stages,
                        stage_values_json(&cfg->optimizer, "optimizer"));
  json_array_append_new(stages, stage_values_json(&cfg->train, "host"));
  json_object_set_new(root, "stages", stages);
  return root;
}
