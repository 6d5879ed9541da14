/* Settings outside a run (see settings.h): the one table and the one
 * precedence. The config file is read with config/ini.c, so it gets the
 * same defensive reading (and FILE:LINE messages) as a manifest. */
#include "config/settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/params.h"
#include "base/path.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/ini.h"

static const keel_setting_decl decls[KEEL_SETTING_COUNT] = {
    [KEEL_SETTING_PLUGIN_PATH] = {"plugin_path", "KEEL_PLUGIN_PATH", "paths",
                                  "plugin_path", "plugin-path", 0, "",
                                  "installed plugin folders and .so files, "
                                  "searched before the built-in folder"},
    [KEEL_SETTING_TEMPLATE_PATH] = {"template_path", "KEEL_TEMPLATE_PATH",
                                    "paths", "template_path", NULL, 0, "",
                                    "folders searched first for a template "
                                    "named in a manifest (NAME.ini)"},
    [KEEL_SETTING_TRUSTED_KEYS] = {"trusted_keys", "KEEL_TRUSTED_KEYS", "trust",
                                   "keys", "trusted-key", 'd', "trusted-keys",
                                   "Ed25519 public keys (files, or folders "
                                   "of *.pub) whose signed bundles may run "
                                   "their own plugins"},
    [KEEL_SETTING_CATALOG] = {"catalog", "KEEL_CATALOG", "data", "catalog",
                              "catalog", 'd', "catalog.ini",
                              "the data catalog file `keel data` reads "
                              "(docs/data-access.md)"},
    [KEEL_SETTING_CA_BUNDLE] = {"ca_bundle", "KEEL_CA_BUNDLE", "network",
                                "ca_bundle", "ca-bundle", 0, "",
                                "PEM file of the certificate authorities "
                                "https fetches trust (empty: the system's)"},
    [KEEL_SETTING_DATA_CACHE] = {"data_cache", "KEEL_DATA_CACHE", "data",
                                 "cache", "cache", 'c', "data",
                                 "the folder of the content-addressed data "
                                 "cache (docs/data-access.md)"},
    [KEEL_SETTING_POLICY] = {"policy", "KEEL_POLICY", "data", "policy",
                             "policy", 'g', "policy.ini",
                             "the access policy file: who may read which "
                             "data (docs/data-access.md)"},
    [KEEL_SETTING_AUDIT_LOG] = {"audit_log", "KEEL_AUDIT_LOG", "data",
                                "audit_log", NULL, 'd', "audit.jsonl",
                                "the central hash-chained audit log every "
                                "data access and run appends to "
                                "(docs/data-access.md)"},
    [KEEL_SETTING_REGISTRY] = {"registry", "KEEL_REGISTRY", "runs", "registry",
                               "registry", 'd', "registry.db",
                               "the run registry every sealed run is "
                               "indexed in (docs/registry.md)"},
};

const keel_setting_decl *keel_setting_decls(void)
{
  return decls;
}

const char *keel_setting_source_name(keel_setting_source source)
{
  switch (source) {
  case KEEL_SETTING_FROM_FLAG: return "flag";
  case KEEL_SETTING_FROM_ENV: return "env";
  case KEEL_SETTING_FROM_FILE: return "file";
  case KEEL_SETTING_FROM_DEFAULT: break;
  }
  return "default";
}

static int set_value(keel_setting *it, const char *value,
                     keel_setting_source source, int line, keel_error *err)
{
  char *copy = strdup(value);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(it->value);
  it->value = copy;
  it->source = source;
  it->line = line;
  return 0;
}

/* The built-in default, below its XDG folder when it names one. */
static int set_default(keel_setting *it, keel_error *err)
{
  const keel_setting_decl *d = it->decl;
  char *dir = NULL, *keel = NULL, *path = NULL;
  int rc;
  if (!d->base)
    return set_value(it, d->deflt, KEEL_SETTING_FROM_DEFAULT, 0, err);
  dir = d->base == 'c'   ? keel_path_xdg_dir("XDG_CACHE_HOME", ".cache")
        : d->base == 'g' ? keel_path_xdg_dir("XDG_CONFIG_HOME", ".config")
                         : keel_path_xdg_dir("XDG_DATA_HOME", ".local/share");
  keel = dir ? keel_path_join(dir, "keel") : NULL;
  path = keel ? keel_path_join(keel, d->deflt) : NULL;
  rc = path ? set_value(it, path, KEEL_SETTING_FROM_DEFAULT, 0, err)
            : keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(dir);
  free(keel);
  free(path);
  return rc;
}

/* value with each relative ':'-entry joined to dir. Blanks around an
 * entry are dropped: a list may continue on indented lines, which the INI
 * reader joins with a space. */
static char *relative_to(const char *dir, const char *value)
{
  keel_buf b = {0};
  const char *p = value;
  while (1) {
    const char *end = strchr(p, ':');
    const char *q = p;
    size_t n = end ? (size_t)(end - p) : strlen(p);
    while (n && (*q == ' ' || *q == '\t'))
      q++, n--;
    while (n && (q[n - 1] == ' ' || q[n - 1] == '\t'))
      n--;
    if (p != value)
      keel_buf_append(&b, ":", 1);
    if (n && q[0] != '/') {
      keel_buf_append(&b, dir, strlen(dir));
      keel_buf_append(&b, "/", 1);
    }
    keel_buf_append(&b, q, n);
    if (!end)
      break;
    p = end + 1;
  }
  return keel_buf_take(&b);
}

static const keel_setting_decl *decl_at(const char *section, const char *key)
{
  for (size_t i = 0; i < KEEL_SETTING_COUNT; i++)
    if (strcmp(decls[i].section, section) == 0 &&
        (!key || strcmp(decls[i].key, key) == 0))
      return &decls[i];
  return NULL;
}

/* Refuses a section or key no setting declares, with a "did you mean". */
static int check_known(const keel_ini *ini, keel_error *err)
{
  const char *names[KEEL_SETTING_COUNT];
  for (size_t s = 0; s < ini->n_sections; s++) {
    const keel_ini_section *sec = &ini->sections[s];
    size_t n = 0;
    if (!decl_at(sec->name, NULL)) {
      for (size_t i = 0; i < KEEL_SETTING_COUNT; i++)
        names[n++] = decls[i].section;
      const char *near = keel_did_you_mean(sec->name, names, n);
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, sec->line,
          "unknown section [%s]%s%s%s; expected [paths] or [trust] "
          "(docs/configuration.md)",
          sec->name, near ? " (did you mean [" : "", near ? near : "",
          near ? "]?)" : "");
    }
    for (size_t e = 0; e < sec->n_entries; e++) {
      const keel_ini_entry *en = &sec->entries[e];
      if (decl_at(sec->name, en->key))
        continue;
      keel_buf keys = {0};
      n = 0;
      for (size_t i = 0; i < KEEL_SETTING_COUNT; i++)
        if (strcmp(decls[i].section, sec->name) == 0) {
          names[n++] = decls[i].key;
          keel_buf_printf(&keys, "%s%s", keys.len ? ", " : "", decls[i].key);
        }
      const char *near = keel_did_you_mean(en->key, names, n);
      int rc = keel_config_fail(
          err, KEEL_EINVAL, ini->path, en->line,
          "unknown key '%s' in [%s]%s%s%s; expected one of: %s", en->key,
          sec->name, near ? " (did you mean '" : "", near ? near : "",
          near ? "'?)" : "", keys.data ? (const char *)keys.data : "");
      keel_buf_free(&keys);
      return rc;
    }
  }
  return 0;
}

/* config.ini's values over the defaults. A missing file is no error. */
static int apply_file(keel_settings *s, keel_error *err)
{
  keel_ini *ini = NULL;
  struct stat st;
  char *dir = NULL;
  int rc = 0;
  if (stat(s->config_path, &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return 0;
    return keel_fail(err, KEEL_EIO, "%s: %s", s->config_path, strerror(errno));
  }
  if ((rc = keel_ini_parse_file(s->config_path, &ini, err)) != 0)
    return rc == KEEL_EIO ? rc : KEEL_EINVAL;
  s->config_present = 1;
  if ((rc = check_known(ini, err)) != 0)
    goto out;
  if (!(dir = keel_path_dirname(s->config_path))) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < KEEL_SETTING_COUNT && !rc; i++) {
    const keel_ini_entry *en = keel_ini_entry_find(
        keel_ini_section_find(ini, decls[i].section), decls[i].key);
    char *v = en ? relative_to(dir, en->value) : NULL;
    if (en && !v)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    else if (v)
      rc = set_value(&s->items[i], v, KEEL_SETTING_FROM_FILE, en->line, err);
    free(v);
  }
out:
  free(dir);
  keel_ini_free(ini);
  return rc;
}

int keel_settings_load(keel_settings *s, keel_error *err)
{
  char *cfg_dir = keel_path_xdg_dir("XDG_CONFIG_HOME", ".config");
  int rc = 0;
  memset(s, 0, sizeof *s);
  s->config_path = cfg_dir ? keel_path_join(cfg_dir, "keel/config.ini") : NULL;
  free(cfg_dir);
  if (!s->config_path)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < KEEL_SETTING_COUNT && !rc; i++) {
    s->items[i].decl = &decls[i];
    rc = set_default(&s->items[i], err);
  }
  if (!rc)
    rc = apply_file(s, err);
  for (size_t i = 0; i < KEEL_SETTING_COUNT && !rc; i++) {
    const char *v = getenv(decls[i].env);
    if (v && v[0])
      rc = set_value(&s->items[i], v, KEEL_SETTING_FROM_ENV, 0, err);
  }
  return rc;
}

int keel_settings_set_flag(keel_settings *s, keel_setting_id id,
                           const char *const *values, size_t n, keel_error *err)
{
  keel_buf b = {0};
  char *v;
  int rc;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    keel_buf_printf(&b, "%s%s", i ? ":" : "", values[i]);
  if (!(v = keel_buf_take(&b)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  rc = set_value(&s->items[id], v, KEEL_SETTING_FROM_FLAG, 0, err);
  free(v);
  return rc;
}

void keel_settings_free(keel_settings *s)
{
  for (size_t i = 0; i < KEEL_SETTING_COUNT; i++)
    free(s->items[i].value);
  free(s->config_path);
  memset(s, 0, sizeof *s);
}

int keel_setting_value(keel_setting_id id, char **out, keel_error *err)
{
  keel_settings s;
  int rc = keel_settings_load(&s, err);
  *out = NULL;
  if (!rc && !(*out = strdup(s.items[id].value)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_settings_free(&s);
  return rc;
}
