/* Manifests: reading and structural checks (see manifest.h). */
#include "config/manifest.h"

#include "base/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/semver.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/policy.h"
#include "config/tune_space.h"
#include "plugin/loader.h"

static int is_instance_name(const char *s)
{
  if (!(*s >= 'a' && *s <= 'z'))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '-'))
      return 0;
  return 1;
}

int keel_manifest_section_kind(const char *s)
{
  if (strcmp(s, "keel") == 0)
    return -1;
  if (strcmp(s, "data") == 0 || strcmp(s, "train") == 0)
    return 0;
  if (strcmp(s, "source") == 0)
    return KEEL_KIND_SOURCE;
  if (strcmp(s, "model") == 0)
    return KEEL_KIND_MODEL;
  if (strcmp(s, "loss") == 0)
    return KEEL_KIND_LOSS;
  if (strcmp(s, "optimizer") == 0)
    return KEEL_KIND_OPTIMIZER;
  if (strncmp(s, "transform.", 10) == 0 && is_instance_name(s + 10))
    return KEEL_KIND_TRANSFORM;
  return -2;
}

static int check_section_name(const keel_ini *ini, const keel_ini_section *sec,
                              keel_error *err)
{
  if (keel_manifest_section_kind(sec->name) != -2)
    return 0;
  int is_tune = 0;
  int rc = keel__tune_check_section(ini, sec, &is_tune, err);
  if (rc || is_tune)
    return rc; /* the sweep's space (docs/tuning.md); a run ignores it */
  static const char *const known[] = {"keel",      "data",     "train",
                                      "source",    "model",    "loss",
                                      "optimizer", "transform"};
  const char *dym = NULL;
  char guess[KEEL_INI_MAX_SECTION + 16];
  const char *dot = strchr(sec->name, '.');
  if (dot) {
    /* "transfrom.scale" -> "transform.scale" */
    char head[KEEL_INI_MAX_SECTION + 1];
    snprintf(head, sizeof head, "%.*s", (int)(dot - sec->name), sec->name);
    const char *const t[] = {"transform"};
    if (keel_did_you_mean(head, t, 1) && is_instance_name(dot + 1)) {
      snprintf(guess, sizeof guess, "transform%s", dot);
      dym = guess;
    }
  } else if (strcmp(sec->name, "transform") == 0) {
    return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                            "[transform]: a transform needs a name; expected "
                            "[transform.NAME] such as [transform.scale]");
  } else {
    dym = keel_did_you_mean(sec->name, known, sizeof known / sizeof known[0]);
    if (dym && strcmp(dym, "transform") == 0)
      dym = "transform.NAME";
  }
  if (dym)
    return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                            "[%s]: unknown section; did you mean [%s]?",
                            sec->name, dym);
  return keel_config_fail(
      err, KEEL_EINVAL, ini->path, sec->line,
      "[%s]: unknown section; expected [keel], [data], [source], "
      "[transform.NAME], [model], [loss], [optimizer], [train], [tune] or "
      "[tune.SECTION]",
      sec->name);
}

static int parse_keel_section(keel_manifest *m, const keel_ini_section *sec,
                              keel_error *err)
{
  const keel_ini *ini = m->ini;
  static const char *const keys[] = {"template", "template_version",
                                     "plugin_path", "catalog", "purpose"};
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    if (strcmp(e->key, "template") == 0)
      m->template_ref = e;
    else if (strcmp(e->key, "template_version") == 0)
      m->template_version = e;
    else if (strcmp(e->key, "plugin_path") == 0)
      m->plugin_path_line = e->line;
    else if (strcmp(e->key, "catalog") == 0) {
      if (!*e->value)
        return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                                "[keel] catalog: empty; expected the path of "
                                "a catalog file (relative to the manifest)");
      m->catalog = e;
    } else if (strcmp(e->key, "purpose") == 0) {
      if (!keel_policy_purpose_valid(e->value))
        return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                                "[keel] purpose: '%s'; expected what the run "
                                "reads its data for, [a-z0-9][a-z0-9._-]* "
                                "(e.g. churn-model), as the access policy "
                                "names it",
                                e->value);
      m->purpose = e;
    } else {
      const char *dym = keel_did_you_mean(e->key, keys, 5);
      if (dym)
        return keel_config_fail(
            err, KEEL_EINVAL, ini->path, e->line,
            "[keel] key '%s' is not known; did you mean '%s'?", e->key, dym);
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, e->line,
          "[keel] key '%s' is not known; expected template, "
          "template_version, plugin_path, catalog or purpose",
          e->key);
    }
  }
  if (!m->template_ref || !*m->template_ref->value)
    return keel_config_fail(
        err, KEEL_EINVAL, ini->path,
        m->template_ref ? m->template_ref->line : sec->line,
        "[keel] template: missing; expected the template's name "
        "(e.g. tabular-classification) or a path to it");
  if (!m->template_version)
    return keel_config_fail(
        err, KEEL_EINVAL, ini->path, sec->line,
        "[keel] template_version: missing; expected a version "
        "range such as '>=1.0 <2'");
  keel_error e2;
  if (keel_semver_range_check(m->template_version->value, &e2))
    return keel_config_fail(err, KEEL_EINVAL, ini->path,
                            m->template_version->line,
                            "[keel] template_version: %s", e2.message);
  const keel_ini_entry *pp = keel_ini_entry_find(sec, "plugin_path");
  if (pp) {
    char *copy = strdup(pp->value);
    if (!copy)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ":", &save); tok;
         tok = strtok_r(NULL, ":", &save)) {
      char **grown =
          realloc(m->plugin_paths, (m->n_plugin_paths + 1) * sizeof *grown);
      if (!grown) {
        free(copy);
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      }
      m->plugin_paths = grown;
      char *p = keel_path_join(m->dir, tok);
      if (!p) {
        free(copy);
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      }
      m->plugin_paths[m->n_plugin_paths++] = p;
    }
    free(copy);
    if (m->n_plugin_paths == 0)
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, pp->line,
          "[keel] plugin_path: empty; expected folders separated "
          "by ':'");
  }
  return 0;
}

int keel_manifest_load(const char *path, keel_manifest **out, keel_error *err)
{
  *out = NULL;
  keel_manifest *m = calloc(1, sizeof *m);
  if (!m)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = keel_ini_parse_file(path, &m->ini, err);
  if (rc)
    goto fail;
  m->dir = keel_path_dirname(path);
  if (!m->dir) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < m->ini->n_sections; i++) {
    rc = check_section_name(m->ini, &m->ini->sections[i], err);
    if (rc)
      goto fail;
  }
  const keel_ini_section *k = keel_ini_section_find(m->ini, "keel");
  if (!k) {
    rc = keel_config_fail(
        err, KEEL_EINVAL, m->ini->path, 1,
        "missing [keel] section; expected [keel] with template = "
        "NAME and template_version = RANGE");
    goto fail;
  }
  m->keel_line = k->line;
  rc = parse_keel_section(m, k, err);
  if (rc)
    goto fail;
  *out = m;
  return 0;
fail:
  keel_manifest_free(m);
  return rc;
}

void keel_manifest_free(keel_manifest *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n_plugin_paths; i++)
    free(m->plugin_paths[i]);
  free(m->plugin_paths);
  free(m->dir);
  keel_ini_free(m->ini);
  free(m);
}
