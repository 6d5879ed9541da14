/* Templates: loading, structural checks, lookup, allow lists. */
#include "config/template.h"
#include "base/path.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/install_layout.h"
#include "base/params.h"
#include "base/semver.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/manifest.h"
#include "config/settings.h"
#include "plugin/loader.h"

static int is_plugin_name(const char *s, size_t n)
{
  if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return 0;
  }
  return 1;
}

/* Refuses keys of `sec` not in `names`. */
static int check_keys(const keel_ini *ini, const keel_ini_section *sec,
                      const char *const *names, size_t n, keel_error *err)
{
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    size_t j;
    for (j = 0; j < n; j++)
      if (strcmp(e->key, names[j]) == 0)
        break;
    if (j < n)
      continue;
    const char *dym = keel_did_you_mean(e->key, names, n);
    char expected[256] = "";
    for (j = 0; j < n; j++) {
      size_t used = strlen(expected);
      snprintf(expected + used, sizeof expected - used, "%s%s", j ? ", " : "",
               names[j]);
    }
    if (dym)
      return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                              "[%s] unknown key '%s'; did you mean '%s'?",
                              sec->name, e->key, dym);
    return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                            "[%s] unknown key '%s'; expected one of: %s",
                            sec->name, e->key, expected);
  }
  return 0;
}

static int parse_allow(keel_template *t, keel_template_slot *slot,
                       const keel_ini_section *sec, keel_error *err)
{
  const keel_ini_entry *e = keel_ini_entry_find(sec, "allow");
  static const char *const keys[] = {"allow"};
  int rc = check_keys(t->ini, sec, keys, 1, err);
  if (rc)
    return rc;
  if (!e)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, sec->line,
                            "[%s] allow: missing; expected a list like "
                            "'allow = csv >=1 <2, libsvm'",
                            sec->name);
  slot->present = 1;
  slot->line = e->line;
  const char *p = e->value;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) {
      p++;
      len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    size_t nlen = strcspn(p, " \t,");
    if (nlen > len)
      nlen = len;
    if (!is_plugin_name(p, nlen))
      return keel_config_fail(
          err, KEEL_EINVAL, t->ini->path, e->line,
          "[%s] allow: '%.*s' is not a plugin name; expected "
          "NAME [RANGE] entries separated by ','",
          sec->name, (int)len, p);
    keel_template_allow a = {0};
    a.plugin = strndup(p, nlen);
    if (len > nlen) {
      const char *r = p + nlen;
      size_t rlen = len - nlen;
      while (rlen && (*r == ' ' || *r == '\t')) {
        r++;
        rlen--;
      }
      a.range = strndup(r, rlen);
    }
    keel_template_allow *grown =
        realloc(slot->allow, (slot->n_allow + 1) * sizeof *grown);
    if (!a.plugin || (len > nlen && !a.range) || !grown) {
      free(a.plugin);
      free(a.range);
      if (grown)
        slot->allow = grown;
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
    slot->allow = grown;
    slot->allow[slot->n_allow++] = a;
    if (a.range) {
      keel_error e2;
      if (keel_semver_range_check(a.range, &e2))
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[%s] allow: %s: %s", sec->name, a.plugin,
                                e2.message);
    }
    for (size_t i = 0; i + 1 < slot->n_allow; i++)
      if (strcmp(slot->allow[i].plugin, a.plugin) == 0)
        return keel_config_fail(
            err, KEEL_EINVAL, t->ini->path, e->line,
            "[%s] allow: plugin '%s' listed twice; expected each "
            "plugin once",
            sec->name, a.plugin);
    if (!comma)
      break;
    p = comma + 1;
    if (!*p)
      return keel_config_fail(
          err, KEEL_EINVAL, t->ini->path, e->line,
          "[%s] allow: trailing ','; expected another plugin", sec->name);
  }
  if (slot->n_allow == 0)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                            "[%s] allow: empty; expected at least one plugin",
                            sec->name);
  return 0;
}

static int parse_template_section(keel_template *t, const keel_ini_section *sec,
                                  keel_error *err)
{
  static const char *const keys[] = {"name", "version", "task", "summary"};
  int rc = check_keys(t->ini, sec, keys, 4, err);
  if (rc)
    return rc;
  const keel_ini_entry *name = keel_ini_entry_find(sec, "name");
  const keel_ini_entry *version = keel_ini_entry_find(sec, "version");
  const keel_ini_entry *task = keel_ini_entry_find(sec, "task");
  const keel_ini_entry *summary = keel_ini_entry_find(sec, "summary");
  if (!name || !is_plugin_name(name->value, strlen(name->value)))
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path,
                            name ? name->line : sec->line,
                            "[template] name: %s; expected a name like "
                            "tabular-classification",
                            name ? "not a valid name" : "missing");
  if (!version)
    return keel_config_fail(
        err, KEEL_EINVAL, t->ini->path, sec->line,
        "[template] version: missing; expected MAJOR.MINOR.PATCH");
  keel_semver v;
  keel_error e2;
  if (keel_semver_parse(version->value, &v, &e2))
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, version->line,
                            "[template] version: %s", e2.message);
  if (!task)
    return keel_config_fail(
        err, KEEL_EINVAL, t->ini->path, sec->line,
        "[template] task: missing; expected classification or "
        "regression");
  if (strcmp(task->value, "classification") == 0)
    t->task = KEEL_TASK_CLASSIFICATION;
  else if (strcmp(task->value, "regression") == 0)
    t->task = KEEL_TASK_REGRESSION;
  else
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, task->line,
                            "[template] task: '%s'; expected classification or "
                            "regression",
                            task->value);
  t->name = name->value;
  t->version = version->value;
  t->summary = summary ? summary->value : "";
  return 0;
}

static int parse_contract(keel_template *t, const keel_ini_section *sec,
                          keel_error *err)
{
  static const char *const keys[] = {"features", "missing", "finite"};
  int rc = check_keys(t->ini, sec, keys, 3, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    const char *v = e->value;
    if (strcmp(e->key, "features") == 0) {
      if (strcmp(v, "numeric") != 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[contract] features: '%s'; expected numeric",
                                v);
    } else if (strcmp(e->key, "missing") == 0) {
      if (strcmp(v, "forbidden") == 0)
        t->checks.contract_flags |= KEEL_CONTRACT_NO_MISSING;
      else if (strcmp(v, "allowed") != 0)
        return keel_config_fail(
            err, KEEL_EINVAL, t->ini->path, e->line,
            "[contract] missing: '%s'; expected forbidden or "
            "allowed",
            v);
    } else { /* finite */
      if (strcmp(v, "required") == 0)
        t->checks.contract_flags |= KEEL_CONTRACT_FINITE;
      else if (strcmp(v, "optional") != 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[contract] finite: '%s'; expected required or "
                                "optional",
                                v);
    }
  }
  return 0;
}

static int parse_checks(keel_template *t, const keel_ini_section *sec,
                        keel_error *err)
{
  static const char *const keys[] = {"min_rows", "max_missing_fraction",
                                     "min_class_count"};
  int rc = check_keys(t->ini, sec, keys, 3, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    if (strcmp(e->key, "max_missing_fraction") == 0) {
      double d;
      if (keel_parse_double(e->value, &d, NULL) || d < 0 || d > 1)
        return keel_config_fail(
            err, KEEL_EINVAL, t->ini->path, e->line,
            "[checks] max_missing_fraction: '%s'; expected a "
            "number in 0 .. 1",
            e->value);
      t->checks.max_missing_fraction = d;
    } else {
      int64_t n;
      if (keel_parse_int64(e->value, &n, NULL) || n < 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[checks] %s: '%s'; expected an integer >= 0",
                                e->key, e->value);
      if (strcmp(e->key, "min_rows") == 0)
        t->checks.min_rows = n;
      else
        t->checks.min_class_count = n;
    }
  }
  return 0;
}

/* The kind of "KIND" or "KIND.PLUGIN" after "defaults."/"ranges."; checks
 * that PLUGIN is allowed in that slot (slots parsed already). */
static int check_param_section(keel_template *t, const keel_ini_section *sec,
                               const char *rest, keel_error *err)
{
  if (strcmp(rest, "data") == 0 || strcmp(rest, "train") == 0) {
    const keel_param_decl *decls =
        rest[0] == 'd' ? keel_data_decls : keel_train_decls;
    size_t n = rest[0] == 'd' ? KEEL_DATA_N_PARAMS : KEEL_TRAIN_N_PARAMS;
    const char *names[KEEL_TRAIN_N_PARAMS + KEEL_DATA_N_PARAMS];
    for (size_t i = 0; i < n; i++)
      names[i] = decls[i].name;
    return check_keys(t->ini, sec, names, n, err);
  }
  const char *dot = strchr(rest, '.');
  char kind_name[32];
  size_t klen = dot ? (size_t)(dot - rest) : strlen(rest);
  snprintf(kind_name, sizeof kind_name, "%.*s", (int)klen, rest);
  int kind = keel_kind_from_name(kind_name);
  if (!dot || kind == 0 || !is_plugin_name(dot + 1, strlen(dot + 1)))
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, sec->line,
                            "[%s]: unknown section; expected [%.*sdata], "
                            "[%.*strain] or [%.*sKIND.PLUGIN] such as "
                            "[%.*soptimizer.sgd]",
                            sec->name, (int)(rest - sec->name), sec->name,
                            (int)(rest - sec->name), sec->name,
                            (int)(rest - sec->name), sec->name,
                            (int)(rest - sec->name), sec->name);
  const keel_template_slot *slot = &t->slots[kind];
  for (size_t i = 0; i < slot->n_allow; i++)
    if (strcmp(slot->allow[i].plugin, dot + 1) == 0)
      return 0;
  return keel_config_fail(
      err, KEEL_EINVAL, t->ini->path, sec->line,
      "[%s]: plugin '%s' is not allowed in [slot.%s]; expected "
      "one of the plugins its allow list names",
      sec->name, dot + 1, kind_name);
}

static int check_structure(keel_template *t, keel_error *err)
{
  const keel_ini *ini = t->ini;
  const keel_ini_section *tsec = keel_ini_section_find(ini, "template");
  if (!tsec)
    return keel_config_fail(
        err, KEEL_EINVAL, ini->path, 1,
        "missing [template] section; expected name, version and "
        "task");
  int rc = parse_template_section(t, tsec, err);
  if (rc)
    return rc;
  /* Slots first: defaults/ranges refer to them. */
  for (size_t i = 0; i < ini->n_sections; i++) {
    const keel_ini_section *sec = &ini->sections[i];
    if (strncmp(sec->name, "slot.", 5) != 0)
      continue;
    int kind = keel_kind_from_name(sec->name + 5);
    if (kind <= 0 || kind > KEEL_KIND_OPTIMIZER) {
      const char *dym = keel_did_you_mean(sec->name + 5, keel_kind_names(),
                                          KEEL_KIND_OPTIMIZER);
      return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                              "[%s]: unknown slot%s%s%s; expected slot.source, "
                              "slot.transform, slot.model, slot.loss or "
                              "slot.optimizer",
                              sec->name, dym ? " (did you mean 'slot." : "",
                              dym ? dym : "", dym ? "'?)" : "");
    }
    rc = parse_allow(t, &t->slots[kind], sec, err);
    if (rc)
      return rc;
  }
  static const keel_kind required[] = {KEEL_KIND_SOURCE, KEEL_KIND_MODEL,
                                       KEEL_KIND_LOSS, KEEL_KIND_OPTIMIZER};
  for (size_t i = 0; i < 4; i++)
    if (!t->slots[required[i]].present)
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, tsec->line,
          "missing [slot.%s] section; expected an allow list for "
          "every required slot (source, model, loss, optimizer)",
          keel_kind_name((int)required[i]));
  static const char *const known[] = {
      "template",       "slot.source",    "slot.transform", "slot.model",
      "slot.loss",      "slot.optimizer", "contract",       "checks",
      "defaults.train", "defaults.data",  "ranges.train",   "ranges.data"};
  for (size_t i = 0; i < ini->n_sections; i++) {
    const keel_ini_section *sec = &ini->sections[i];
    const char *n = sec->name;
    if (strcmp(n, "template") == 0 || strncmp(n, "slot.", 5) == 0)
      continue;
    if (strcmp(n, "contract") == 0)
      rc = parse_contract(t, sec, err);
    else if (strcmp(n, "checks") == 0)
      rc = parse_checks(t, sec, err);
    else if (strncmp(n, "defaults.", 9) == 0)
      rc = check_param_section(t, sec, n + 9, err);
    else if (strncmp(n, "ranges.", 7) == 0)
      rc = check_param_section(t, sec, n + 7, err);
    else {
      const char *dym =
          keel_did_you_mean(n, known, sizeof known / sizeof known[0]);
      if (dym)
        return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                                "[%s]: unknown section; did you mean [%s]?", n,
                                dym);
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, sec->line,
          "[%s]: unknown section; expected [template], "
          "[slot.KIND], [contract], [checks], [defaults.*] or "
          "[ranges.*]",
          n);
    }
    if (rc)
      return rc;
  }
  return 0;
}

int keel_template_load(const char *path, keel_template **out, keel_error *err)
{
  *out = NULL;
  keel_template *t = calloc(1, sizeof *t);
  if (!t)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  t->checks.min_rows = -1;
  t->checks.max_missing_fraction = -1;
  t->checks.min_class_count = -1;
  int rc = keel_ini_parse_file(path, &t->ini, err);
  if (!rc)
    rc = check_structure(t, err);
  if (rc) {
    keel_template_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

void keel_template_free(keel_template *t)
{
  if (!t)
    return;
  for (size_t k = 0; k <= KEEL_KIND_OPTIMIZER; k++) {
    for (size_t i = 0; i < t->slots[k].n_allow; i++) {
      free(t->slots[k].allow[i].plugin);
      free(t->slots[k].allow[i].range);
    }
    free(t->slots[k].allow);
  }
  keel_ini_free(t->ini);
  free(t);
}

static int is_regular_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int keel_template_locate(const char *ref, const char *manifest_dir,
                         char **path_out, keel_error *err)
{
  *path_out = NULL;
  size_t rlen = strlen(ref);
  if (rlen == 0)
    return keel_fail(err, KEEL_EINVAL,
                     "empty template name; expected a name such as "
                     "tabular-classification or a path ending in .ini");
  if (strchr(ref, '/') || (rlen > 4 && strcmp(ref + rlen - 4, ".ini") == 0)) {
    char *p = keel_path_join(manifest_dir, ref);
    if (!p)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (!is_regular_file(p)) {
      keel_fail(err, KEEL_ENOTFOUND, "template file '%s' not found", p);
      free(p);
      return KEEL_ENOTFOUND;
    }
    *path_out = p;
    return 0;
  }
  if (!is_plugin_name(ref, rlen))
    return keel_fail(err, KEEL_EINVAL,
                     "template name '%s' is not valid; expected lower-case "
                     "letters, digits, '-' and '_', or a path to a .ini "
                     "file",
                     ref);
  /* Search list, in order. */
  char *dirs[64];
  size_t nd = 0;
  /* The template_path setting (KEEL_TEMPLATE_PATH, config.ini). */
  char *envcopy = NULL;
  int src = keel_setting_value(KEEL_SETTING_TEMPLATE_PATH, &envcopy, err);
  if (src)
    return src;
  {
    char *save = NULL;
    for (char *tok = strtok_r(envcopy, ":", &save); tok && nd < 60;
         tok = strtok_r(NULL, ":", &save))
      dirs[nd++] = strdup(tok);
  }
  dirs[nd++] = keel_path_join(
      manifest_dir && *manifest_dir ? manifest_dir : ".", "templates");
  free(envcopy);
  /* Last, the shipped templates beside the binary (base/install_layout.h):
   * the source tree's when it runs from the build tree, else the install's
   * own share/keel/manifests/templates, wherever the install was moved. */
  char *shipped = NULL;
  src = keel_install_dir(KEEL_INSTALL_TEMPLATES, &shipped, err);
  if (src) {
    for (size_t i = 0; i < nd; i++)
      free(dirs[i]);
    return src;
  }
  if (shipped)
    dirs[nd++] = shipped;
  int rc = KEEL_ENOTFOUND;
  char searched[KEEL_ERROR_SIZE / 2] = "";
  char file[128];
  snprintf(file, sizeof file, "%s.ini", ref);
  for (size_t i = 0; i < nd; i++) {
    if (!dirs[i]) {
      rc = KEEL_ENOMEM;
      break;
    }
    char *p = keel_path_join(dirs[i], file);
    if (!p) {
      rc = KEEL_ENOMEM;
      break;
    }
    if (is_regular_file(p)) {
      *path_out = p;
      rc = 0;
      break;
    }
    free(p);
    size_t used = strlen(searched);
    snprintf(searched + used, sizeof searched - used, "%s%s", used ? ", " : "",
             dirs[i]);
  }
  for (size_t i = 0; i < nd; i++)
    free(dirs[i]);
  if (rc == KEEL_ENOMEM)
    return keel_fail(err, rc, "out of memory");
  if (rc)
    return keel_fail(err, rc,
                     "template '%s' not found (looked for %s in: %s); set "
                     "KEEL_TEMPLATE_PATH (or template_path in config.ini) "
                     "or give a path",
                     ref, file, searched);
  return 0;
}

char *keel_template_allow_text(const keel_template *t, keel_kind kind)
{
  const keel_template_slot *s = &t->slots[kind];
  size_t n = 1;
  for (size_t i = 0; i < s->n_allow; i++)
    n += strlen(s->allow[i].plugin) + 3 +
         (s->allow[i].range ? strlen(s->allow[i].range) + 1 : 0);
  char *out = malloc(n);
  if (!out)
    return NULL;
  out[0] = '\0';
  for (size_t i = 0; i < s->n_allow; i++) {
    if (i)
      strcat(out, ", ");
    strcat(out, s->allow[i].plugin);
    if (s->allow[i].range) {
      strcat(out, " ");
      strcat(out, s->allow[i].range);
    }
  }
  return out;
}

int keel_template_allows(const keel_template *t, keel_kind kind,
                         const char *name, const char *version, keel_error *err)
{
  const keel_template_slot *s = &t->slots[kind];
  const char *kn = keel_kind_name((int)kind);
  if (!s->present)
    return keel_fail(err, KEEL_EINVAL,
                     "template %s %s has no [slot.%s]; expected no [%s] "
                     "section",
                     t->name, t->version, kn, kn);
  for (size_t i = 0; i < s->n_allow; i++) {
    if (strcmp(s->allow[i].plugin, name) != 0)
      continue;
    if (!s->allow[i].range)
      return 0;
    int match = 0;
    keel_error e2;
    if (keel_semver_satisfies(version, s->allow[i].range, &match, &e2))
      return keel_fail(err, KEEL_EINVAL, "%s", e2.message);
    if (match)
      return 0;
    return keel_fail(err, KEEL_EINVAL,
                     "%s version %s is outside the template's range; "
                     "expected %s %s (template %s %s)",
                     name, version, name, s->allow[i].range, t->name,
                     t->version);
  }
  char *allowed = keel_template_allow_text(t, kind);
  keel_fail(err, KEEL_EINVAL,
            "plugin '%s' is not allowed by template %s %s; expected one "
            "of: %s",
            name, t->name, t->version, allowed ? allowed : "?");
  free(allowed);
  return KEEL_EINVAL;
}

static const keel_ini_section *
find_prefixed(const keel_template *t, const char *prefix, const char *key)
{
  char name[KEEL_INI_MAX_SECTION + 16];
  snprintf(name, sizeof name, "%s.%s", prefix, key);
  return keel_ini_section_find(t->ini, name);
}

const keel_ini_section *keel_template_defaults(const keel_template *t,
                                               const char *key)
{
  return find_prefixed(t, "defaults", key);
}

const keel_ini_section *keel_template_ranges(const keel_template *t,
                                             const char *key)
{
  return find_prefixed(t, "ranges", key);
}
