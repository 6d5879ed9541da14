/* Shared CLI helpers (see cli_common.h). */
#include "cli_common.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "resolve.h"
#include "status.h"
#include "template.h"

int keel_cli_parse_threads(const char *text, int *out)
{
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (!text[0] || *end || v < 1 || v > 1024)
    return -1;
  *out = (int)v;
  return 0;
}

int keel_cli_is_override(const char *text)
{
  if (!text || text[0] == '-')
    return 0;
  const char *eq = strchr(text, '=');
  if (!eq)
    return 0;
  const char *dot = memchr(text, '.', (size_t)(eq - text));
  return dot != NULL;
}

static int push(const char ***list, size_t *n, const char *item)
{
  const char **grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (!grown)
    return KEEL_ENOMEM;
  grown[(*n)++] = item;
  *list = grown;
  return 0;
}

int keel_cli_parse_args(int argc, char **argv, const char *const *extra_flags,
                        int *flag_seen, keel_cli_args *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  int rc = 0;
  int only_positional = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || a[1] == '\0') {
      if (!only_positional && keel_cli_is_override(a))
        rc = push(&out->overrides, &out->n_overrides, a);
      else
        rc = push(&out->positional, &out->n_positional, a);
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (strcmp(a, "--plugin-path") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0]) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "--plugin-path needs a folder or .so file; expected "
                       "--plugin-path DIR");
        break;
      }
      rc = push(&out->plugin_paths, &out->n_plugin_paths, argv[++i]);
      continue;
    }
    if (strncmp(a, "--plugin-path=", 14) == 0) {
      if (!a[14]) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "--plugin-path= needs a folder or .so file; expected "
                       "--plugin-path=DIR");
        break;
      }
      rc = push(&out->plugin_paths, &out->n_plugin_paths, a + 14);
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      out->json = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      out->help = 1;
      continue;
    }
    size_t k;
    for (k = 0; extra_flags && extra_flags[k]; k++)
      if (strcmp(a, extra_flags[k]) == 0)
        break;
    if (extra_flags && extra_flags[k]) {
      if (flag_seen)
        flag_seen[k]++;
      continue;
    }
    rc = keel_fail(err, KEEL_EINVAL, "unknown option '%s'", a);
  }
  if (rc == KEEL_ENOMEM)
    keel_fail(err, rc, "out of memory");
  if (rc)
    keel_cli_args_free(out);
  return rc;
}

void keel_cli_args_free(keel_cli_args *a)
{
  free(a->plugin_paths);
  free(a->overrides);
  free(a->positional);
  memset(a, 0, sizeof *a);
}

int keel_cli_build_registry(const char *const *plugin_paths, size_t n_paths,
                            const char *const *manifest_paths,
                            size_t n_manifest_paths, int only_explicit,
                            keel_registry **out, keel_error *err)
{
  *out = NULL;
  keel_registry *reg = NULL;
  int rc = keel_registry_create(&reg, err);
  for (size_t i = 0; !rc && i < n_paths; i++)
    rc = keel_registry_add_path(reg, plugin_paths[i], err);
  if (!only_explicit) {
    const char *env = getenv("KEEL_PLUGIN_PATH");
    if (!rc && env && *env)
      rc = keel_registry_add_path_list(reg, env, err);
    for (size_t i = 0; !rc && i < n_manifest_paths; i++)
      rc = keel_registry_add_path(reg, manifest_paths[i], err);
    if (!rc)
      rc = keel_registry_add_default_paths(reg, err);
  }
  if (!rc)
    rc = keel_registry_scan(reg, err);
  if (rc) {
    keel_registry_destroy(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

int keel_cli_load_config(const char *manifest_path,
                         const char *const *overrides, size_t n_overrides,
                         const char *const *plugin_paths,
                         size_t n_plugin_paths, int only_explicit_paths,
                         const char *template_override,
                         keel_registry **reg_out, keel_run_config **cfg_out,
                         keel_error *err)
{
  *reg_out = NULL;
  *cfg_out = NULL;
  keel_manifest *m = NULL;
  keel_template *t = NULL;
  keel_registry *reg = NULL;
  char *tpath = NULL;
  int rc = keel_manifest_load(manifest_path, &m, err);
  if (rc)
    goto out;
  if (template_override) {
    tpath = strdup(template_override);
    if (!tpath)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else {
    rc = keel_template_locate(m->template_ref->value, m->dir, &tpath, err);
    if (rc)
      keel_error_prefix(err, "%s:%d: [keel] template", m->ini->path,
                        m->template_ref->line);
  }
  if (!rc)
    rc = keel_template_load(tpath, &t, err);
  if (!rc)
    rc = keel_cli_build_registry(plugin_paths, n_plugin_paths,
                                 (const char *const *)m->plugin_paths,
                                 m->n_plugin_paths, only_explicit_paths, &reg,
                                 err);
  if (!rc)
    rc = keel_config_resolve(m, t, reg, overrides, n_overrides, cfg_out, err);
  if (rc) {
    keel_registry_destroy(reg);
    reg = NULL;
  }
out:
  *reg_out = reg;
  free(tpath);
  keel_template_free(t);
  keel_manifest_free(m);
  return rc;
}

int keel_cli_exit_code(int status)
{
  if (status == 0)
    return KEEL_EXIT_OK;
  if (status == KEEL_ENOMEM || status == KEEL_EDIVERGED)
    return KEEL_EXIT_RUNTIME;
  return KEEL_EXIT_CONFIG;
}
