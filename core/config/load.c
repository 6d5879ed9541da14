/* Loading a run's configuration (see load.h). */
#include "config/load.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/manifest.h"
#include "config/resolve.h"
#include "config/settings.h"
#include "config/template.h"
#include "keel/utf8.h"

/* Text from the command line goes into config.json like manifest text,
 * so it follows the same policy: UTF-8, or a refusal naming it. */
static int check_arg(const char *what, size_t index, const char *s,
                     keel_error *err)
{
  size_t n = s ? strlen(s) : 0, bad = s ? keel_utf8_check(s, n) : 0;
  if (bad == n)
    return KEEL_OK;
  return keel_fail(err, KEEL_EINVAL,
                   "command line: %s%.0zu '%s' is not valid UTF-8 (byte "
                   "0x%02x at byte %zu); expected UTF-8 text",
                   what, index, s, (unsigned char)s[bad], bad + 1);
}

/* Whether p came from one of the built-in folders, entries n_user.. */
static int is_default_entry(const keel_registry *reg, size_t n_user,
                            const keel_loaded_plugin *p)
{
  for (size_t i = n_user; i < keel_registry_path_count(reg); i++)
    if (keel_registry_path_at(reg, i) == p->search_entry)
      return 1;
  return 0;
}

int keel_registry_build(const char *const *plugin_paths, size_t n_paths,
                        const char *const *manifest_paths,
                        size_t n_manifest_paths, int only_explicit,
                        keel_registry **out, keel_error *err)
{
  *out = NULL;
  keel_registry *reg = NULL;
  int rc = keel_registry_create(&reg, err);
  for (size_t i = 0; !rc && i < n_paths; i++)
    rc = keel_registry_add_path(reg, plugin_paths[i], err);
  if (!only_explicit && n_paths == 0) {
    /* The plugin_path setting (KEEL_PLUGIN_PATH, config.ini); the flag,
     * when given, replaces it (settings.h). */
    char *setting = NULL;
    if (!rc)
      rc = keel_setting_value(KEEL_SETTING_PLUGIN_PATH, &setting, err);
    if (!rc)
      rc = keel_registry_add_path_list(reg, setting, err);
    free(setting);
  }
  size_t n_user = 0; /* entries before the built-in folders */
  if (!only_explicit) {
    for (size_t i = 0; !rc && i < n_manifest_paths; i++)
      rc = keel_registry_add_path(reg, manifest_paths[i], err);
    n_user = keel_registry_path_count(reg);
    if (!rc)
      rc = keel_registry_add_default_paths(reg, err);
  }
  if (!rc)
    rc = keel_registry_scan(reg, err);
  /* Shadowing is legitimate (a newer build first on the path) but never
   * silent: every command that builds a registry says it. The build tree
   * hiding an installed keel's plugins is the design, not news. */
  for (size_t i = 0; !rc && i < keel_registry_shadowed_count(reg); i++) {
    const keel_loaded_plugin *s = keel_registry_shadowed_at(reg, i);
    if (!only_explicit && is_default_entry(reg, n_user, s->shadowed_by))
      continue;
    keel_log_emit(KEEL_LOG_WARN, "%s plugin '%s': %s shadows %s",
                  keel_kind_name((int)s->desc.kind), s->desc.name,
                  s->shadowed_by->path, s->path);
  }
  if (rc) {
    keel_registry_destroy(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

int keel_config_load(const char *manifest_path, const char *const *overrides,
                     size_t n_overrides, const char *const *plugin_paths,
                     size_t n_plugin_paths, int only_explicit_paths,
                     const char *template_override, const char *catalog_flag,
                     keel_registry **reg_out, keel_run_config **cfg_out,
                     keel_error *err)
{
  keel_catalog_choice catalog = {0};
  *reg_out = NULL;
  *cfg_out = NULL;
  keel_manifest *m = NULL;
  keel_template *t = NULL;
  keel_registry *reg = NULL;
  char *tpath = NULL;
  int rc = check_arg("the manifest path", 0, manifest_path, err);
  if (!rc)
    rc = check_arg("the template path", 0, template_override, err);
  for (size_t i = 0; !rc && i < n_overrides; i++)
    rc = check_arg("override ", i + 1, overrides[i], err);
  if (!rc)
    rc = keel_manifest_load(manifest_path, &m, err);
  if (rc)
    goto out;
  if (template_override) {
    tpath = strdup(template_override);
    if (!tpath)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else {
    keel_error e2 = {0};
    rc = keel_template_locate(m->template_ref->value, m->dir, &tpath, &e2);
    if (rc)
      keel_config_fail(err, rc, m->ini->path, m->template_ref->line,
                       "[keel] template: %s", e2.message);
  }
  if (!rc)
    rc = keel_template_load(tpath, &t, err);
  if (!rc)
    rc = keel_registry_build(plugin_paths, n_plugin_paths,
                             (const char *const *)m->plugin_paths,
                             m->n_plugin_paths, only_explicit_paths, &reg, err);
  if (!rc)
    rc = keel_catalog_choose(catalog_flag, m->ini->path, m->dir, m->catalog,
                             &catalog, err);
  if (!rc)
    rc = keel_config_resolve(m, t, reg, overrides, n_overrides, &catalog,
                             cfg_out, err);
  if (rc) {
    keel_registry_destroy(reg);
    reg = NULL;
  }
out:
  *reg_out = reg;
  keel_catalog_choice_free(&catalog);
  free(tpath);
  keel_template_free(t);
  keel_manifest_free(m);
  return rc;
}

int keel_config_exit_code(int status)
{
  if (status == 0)
    return KEEL_EXIT_OK;
  if (status == KEEL_ENOMEM || status == KEEL_EDIVERGED)
    return KEEL_EXIT_RUNTIME;
  return KEEL_EXIT_CONFIG;
}
