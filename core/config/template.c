/* Templates: loading, structural checks, lookup, allow lists. */
#include "config/template.h"
#include "base/path.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buffer.h"
#include "base/install_layout.h"
#include "base/params.h"
#include "base/semver.h"
#include "base/sha256.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/manifest.h"
#include "config/settings.h"
#include "config/tune_space.h"
#include "plugin/loader.h"

static int is_regular_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

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
int keel__template_check_keys(const keel_ini *ini, const keel_ini_section *sec,
                              const char *const *names, size_t n,
                              keel_error *err)
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

static int is_hex64(const char *s, size_t n)
{
  if (n != 64)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

/* What follows a plugin name in an allow entry: an optional semver range,
 * then an optional "sha256:HEX" pin on the plugin file. */
static int parse_allow_rest(keel_template *t, const keel_ini_section *sec,
                            int line, const char *r, size_t rlen,
                            keel_template_allow *a, keel_error *err)
{
  while (rlen && (*r == ' ' || *r == '\t')) {
    r++;
    rlen--;
  }
  const char *pin = NULL;
  for (size_t i = 0; i + 7 <= rlen; i++)
    if (strncmp(r + i, "sha256:", 7) == 0 &&
        (i == 0 || r[i - 1] == ' ' || r[i - 1] == '\t')) {
      if (pin)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, line,
                                "[%s] allow: %s pinned twice; expected at "
                                "most one sha256:HEX",
                                sec->name, a->plugin ? a->plugin : "?");
      pin = r + i;
    }
  size_t range_len = pin ? (size_t)(pin - r) : rlen;
  while (range_len && (r[range_len - 1] == ' ' || r[range_len - 1] == '\t'))
    range_len--;
  if (pin) {
    size_t plen = rlen - (size_t)(pin - r);
    if (!is_hex64(pin + 7, plen - 7))
      return keel_config_fail(err, KEEL_EINVAL, t->ini->path, line,
                              "[%s] allow: %s: '%.*s' is not a pin; expected "
                              "sha256: and 64 lower-case hex digits, last",
                              sec->name, a->plugin ? a->plugin : "?", (int)plen,
                              pin);
    if (!(a->sha256 = strndup(pin + 7, 64)))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  if (range_len && !(a->range = strndup(r, range_len)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return 0;
}

static int parse_allow(keel_template *t, keel_template_slot *slot,
                       const keel_ini_section *sec, keel_error *err)
{
  const keel_ini_entry *e = keel_ini_entry_find(sec, "allow");
  static const char *const keys[] = {"allow"};
  int rc = keel__template_check_keys(t->ini, sec, keys, 1, err);
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
    int rc2 = parse_allow_rest(t, sec, e->line, p + nlen, len - nlen, &a, err);
    if (rc2) {
      free(a.plugin);
      free(a.range);
      free(a.sha256);
      return rc2;
    }
    keel_template_allow *grown =
        realloc(slot->allow, (slot->n_allow + 1) * sizeof *grown);
    if (!a.plugin || !grown) {
      free(a.plugin);
      free(a.range);
      free(a.sha256);
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

/* The templates being loaded, derived first: for cycles and messages. */
#define MAX_CHAIN 16
typedef struct chain_ctx {
  const char *names[MAX_CHAIN];
  const char *paths[MAX_CHAIN];
  char *real[MAX_CHAIN];
  size_t n;
} chain_ctx;

static int load_level(const char *path, chain_ctx *ch, keel_template **out,
                      keel_error *err);

/* "a (a.ini) -> b (b.ini)" for messages, then " -> NEXT" when given. */
static void chain_text(const chain_ctx *ch, const char *next, char *buf,
                       size_t size)
{
  buf[0] = '\0';
  for (size_t i = 0; i < ch->n; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, "%s%s (%s)", i ? " -> " : "",
             ch->names[i], ch->paths[i]);
  }
  if (next) {
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, " -> %s", next);
  }
}

/* Finds the base named by "extends = NAME RANGE": the derived file's own
 * folder first (sibling templates; replay's sealed chain), then where a
 * manifest's template is looked for. */
static int load_base(keel_template *t, const keel_ini_entry *ext, chain_ctx *ch,
                     keel_error *err)
{
  const char *v = ext->value;
  size_t nlen = strcspn(v, " \t");
  const char *range = v + nlen;
  while (*range == ' ' || *range == '\t')
    range++;
  char name[128];
  snprintf(name, sizeof name, "%.*s", (int)(nlen < 127 ? nlen : 127), v);
  char chain[KEEL_ERROR_SIZE / 2];
  chain_text(ch, NULL, chain, sizeof chain);
  if (!is_plugin_name(v, nlen) || nlen >= sizeof name || !*range)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: '%s'; expected NAME RANGE "
                            "such as tabular-classification >=1 <2",
                            v);
  keel_error e2 = {0};
  if (keel_semver_range_check(range, &e2))
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: %s", e2.message);
  if (ch->n >= MAX_CHAIN)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: more than %d levels (%s); "
                            "expected a shorter chain",
                            MAX_CHAIN, chain);
  char *dir = keel_path_dirname(t->ini->path);
  char file[160];
  snprintf(file, sizeof file, "%s.ini", name);
  char *path = dir ? keel_path_join(dir, file) : NULL;
  int rc = 0;
  if (!dir || !path)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  else if (!is_regular_file(path)) {
    free(path);
    path = NULL;
    rc = keel_template_locate(name, dir, &path, &e2);
    if (rc)
      keel_config_fail(err, rc, t->ini->path, ext->line,
                       "[template] extends: %s; in the chain %s", e2.message,
                       chain);
  }
  free(dir);
  if (rc)
    return rc;
  char *real = realpath(path, NULL);
  for (size_t i = 0; real && i < ch->n; i++)
    if (ch->real[i] && strcmp(ch->real[i], real) == 0) {
      chain_text(ch, name, chain, sizeof chain);
      free(real);
      free(path);
      return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                              "[template] extends: a cycle: %s; expected a "
                              "chain that ends in a template without extends",
                              chain);
    }
  free(real);
  /* a bundle seals each file of the chain as templates/NAME.ini */
  for (size_t i = 0; i < ch->n; i++)
    if (strcmp(ch->names[i], name) == 0) {
      rc = keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: %s (%s) has the name of %s "
                            "in the chain %s; expected each template of a "
                            "chain to have its own name",
                            name, path, ch->paths[i], chain);
      free(path);
      return rc;
    }
  rc = load_level(path, ch, &t->base, err);
  free(path);
  if (rc)
    return rc;
  const keel_template *b = t->base;
  int match = 0;
  if (strcmp(b->name, name) != 0)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: %s names template '%s'; "
                            "expected '%s'",
                            b->ini->path, b->name, name);
  if (keel_semver_satisfies(b->version, range, &match, &e2))
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: %s", e2.message);
  if (!match)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, ext->line,
                            "[template] extends: %s is version %s (%s), "
                            "outside '%s'; expected a base in that range",
                            name, b->version, b->ini->path, range);
  return 0;
}

static int parse_template_section(keel_template *t, const keel_ini_section *sec,
                                  chain_ctx *ch, keel_error *err)
{
  static const char *const keys[] = {"name", "version", "task", "summary",
                                     "extends"};
  int rc = keel__template_check_keys(t->ini, sec, keys, 5, err);
  if (rc)
    return rc;
  const keel_ini_entry *name = keel_ini_entry_find(sec, "name");
  const keel_ini_entry *version = keel_ini_entry_find(sec, "version");
  const keel_ini_entry *task = keel_ini_entry_find(sec, "task");
  const keel_ini_entry *summary = keel_ini_entry_find(sec, "summary");
  const keel_ini_entry *ext = keel_ini_entry_find(sec, "extends");
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
  t->name = name->value;
  t->version = version->value;
  t->summary = summary ? summary->value : "";
  if (ext) {
    t->extends_line = ext->line;
    ch->names[ch->n] = t->name;
    ch->paths[ch->n] = t->ini->path;
    ch->real[ch->n] = realpath(t->ini->path, NULL);
    ch->n++;
    rc = load_base(t, ext, ch, err);
    ch->n--;
    free(ch->real[ch->n]);
    if (rc)
      return rc;
    t->checks = t->base->checks;
    /* a level owns its copy of the columns: it may tighten them */
    if (keel_column_checks_dup(t->base->checks.columns,
                               t->base->checks.n_columns, &t->checks.columns))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    memcpy(t->check_at, t->base->check_at, sizeof t->check_at);
  }
  if (!task && t->base) {
    t->task = t->base->task;
    t->task_at = t->base->task_at;
    return 0;
  }
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
  if (t->base && t->task != t->base->task)
    return keel_config_fail(
        err, KEEL_EINVAL, t->ini->path, task->line,
        "[template] task: '%s' differs from base template %s (%s:%d); "
        "expected the base's task or none",
        task->value, t->base->name, t->base->task_at.file,
        t->base->task_at.line);
  t->task_at = (keel_template_origin){t->ini->path, task->line};
  return 0;
}

/* A derived template loosening what its base requires:
 * "FILE:LINE: [SEC] KEY: WHAT of base template NAME (BASEFILE:LINE)". */
static int widened(keel_template *t, const keel_ini_section *sec,
                   const keel_ini_entry *e, int which, const char *what,
                   keel_error *err)
{
  const keel_template_origin *o = &t->check_at[which];
  return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                          "[%s] %s: '%s' %s of base template %s (%s:%d); "
                          "expected a derived template to tighten, never "
                          "loosen, its base",
                          sec->name, e->key, e->value, what, t->base->name,
                          o->file, o->line);
}

static int parse_contract(keel_template *t, const keel_ini_section *sec,
                          keel_error *err)
{
  static const char *const keys[] = {"features", "missing", "finite", "catalog",
                                     "freshness"};
  int rc = keel__template_check_keys(t->ini, sec, keys, 5, err);
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
      continue;
    }
    if (strcmp(e->key, "catalog") == 0) {
      int req = strcmp(v, "required") == 0;
      if (!req && strcmp(v, "optional") != 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[contract] catalog: '%s'; expected required "
                                "or optional",
                                v);
      if (!req && t->base && t->checks.catalog_required)
        return widened(t, sec, e, KEEL_TCHECK_CATALOG, "drops what is required",
                       err);
      t->checks.catalog_required |= req;
      t->check_at[KEEL_TCHECK_CATALOG] =
          (keel_template_origin){t->ini->path, e->line};
      continue;
    }
    if (strcmp(e->key, "freshness") == 0) {
      int fail = strcmp(v, "fail") == 0;
      if (!fail && strcmp(v, "warn") != 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[contract] freshness: '%s'; expected warn "
                                "or fail",
                                v);
      if (!fail && t->base && t->checks.freshness_fail)
        return widened(t, sec, e, KEEL_TCHECK_FRESHNESS,
                       "warns where the base fails", err);
      t->checks.freshness_fail |= fail;
      t->check_at[KEEL_TCHECK_FRESHNESS] =
          (keel_template_origin){t->ini->path, e->line};
      continue;
    }
    int missing = strcmp(e->key, "missing") == 0;
    const char *on = missing ? "forbidden" : "required";
    const char *off = missing ? "allowed" : "optional";
    uint32_t flag = missing ? KEEL_CONTRACT_NO_MISSING : KEEL_CONTRACT_FINITE;
    int which = missing ? KEEL_TCHECK_MISSING : KEEL_TCHECK_FINITE;
    if (strcmp(v, on) != 0 && strcmp(v, off) != 0)
      return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                              "[contract] %s: '%s'; expected %s or %s", e->key,
                              v, on, off);
    if (strcmp(v, off) == 0 && t->base && (t->checks.contract_flags & flag))
      return widened(t, sec, e, which, "drops what is required", err);
    if (strcmp(v, on) == 0)
      t->checks.contract_flags |= flag;
    t->check_at[which] = (keel_template_origin){t->ini->path, e->line};
  }
  return 0;
}

/* The names of [governance] require and allowed_scopes, by bit. */
static const char *const gov_keys[] = {"owner", "intended_use", "legal_basis",
                                       "description"};
static const char *const gov_scopes[] = {NULL, "public", "internal",
                                         "restricted", "pii"};

/* Reads a comma list of names (names[i] is bit 1 << i) into *bits. */
static int name_bits(const char *list, const char *const *names, size_t n,
                     uint32_t *bits, char *bad, size_t bad_size)
{
  *bits = 0;
  const char *p = list;
  while (1) {
    while (*p == ' ' || *p == '\t')
      p++;
    size_t len = strcspn(p, ",");
    size_t w = len;
    while (w && (p[w - 1] == ' ' || p[w - 1] == '\t'))
      w--;
    size_t i = 0;
    while (i < n &&
           !(names[i] && strlen(names[i]) == w && strncmp(names[i], p, w) == 0))
      i++;
    if (i == n) {
      snprintf(bad, bad_size, "%.*s", (int)(w < 60 ? w : 60), p);
      return -1;
    }
    *bits |= 1u << i;
    if (!p[len])
      return 0;
    p += len + 1;
  }
}

/* [governance]: what the data's catalog entry must say (require) and the
 * scopes it may have (allowed_scopes). A derived template adds to its
 * base's require and may only narrow its allowed scopes. */
static int parse_governance(keel_template *t, const keel_ini_section *sec,
                            keel_error *err)
{
  static const char *const keys[] = {"require", "allowed_scopes"};
  int rc = keel__template_check_keys(t->ini, sec, keys, 2, err);
  for (size_t i = 0; !rc && i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    int req = strcmp(e->key, "require") == 0;
    uint32_t bits = 0;
    char bad[64] = "";
    if (req ? name_bits(e->value, gov_keys, 4, &bits, bad, sizeof bad)
            : name_bits(e->value, gov_scopes, 5, &bits, bad, sizeof bad))
      return keel_config_fail(
          err, KEEL_EINVAL, t->ini->path, e->line,
          "[governance] %s: '%s' is not known; expected %s", e->key, bad,
          req ? "catalog keys among owner, intended_use, legal_basis, "
                "description"
              : "scopes among public, internal, restricted, pii");
    int which = req ? KEEL_TCHECK_GOV_REQUIRE : KEEL_TCHECK_GOV_SCOPES;
    if (!req && t->base && t->checks.gov_scopes &&
        (bits & ~t->checks.gov_scopes))
      return widened(t, sec, e, which, "allows a scope its base does not", err);
    if (req)
      t->checks.gov_require |= bits;
    else
      t->checks.gov_scopes = bits;
    t->check_at[which] = (keel_template_origin){t->ini->path, e->line};
  }
  return rc;
}

/* [checks] after = STAGE, ...: each "transform.NAME" (or NAME); a derived
 * template adds stages to its base's (more checking, never less). */
static int parse_after(keel_template *t, const keel_ini_entry *e,
                       keel_error *err)
{
  keel_template_checks *c = &t->checks;
  const char *p = e->value;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    size_t len = strcspn(p, ",");
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    char name[64];
    int pre = strncmp(p, "transform.", 10) == 0;
    int ok = len && len + (pre ? 0 : 10) < sizeof name && !memchr(p, ' ', len);
    if (ok)
      snprintf(name, sizeof name, "%s%.*s", pre ? "" : "transform.", (int)len,
               p);
    if (!ok || !name[10])
      return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                              "[checks] after: '%s'; expected transform "
                              "section names (transform.NAME or NAME) "
                              "separated by ', '",
                              e->value);
    size_t i = 0;
    while (i < c->n_after && strcmp(c->after[i], name) != 0)
      i++;
    if (i == c->n_after) {
      if (c->n_after == KEEL_CHECKS_AFTER_MAX)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[checks] after: more than %d stages",
                                KEEL_CHECKS_AFTER_MAX);
      snprintf(c->after[c->n_after++], sizeof c->after[0], "%s", name);
    }
    p += strcspn(p, ",");
    if (!*p)
      break;
    p++;
  }
  snprintf(c->after_file, sizeof c->after_file, "%s", t->ini->path);
  c->after_line = e->line;
  t->check_at[KEEL_TCHECK_AFTER] =
      (keel_template_origin){t->ini->path, e->line};
  return KEEL_OK;
}

static int parse_checks(keel_template *t, const keel_ini_section *sec,
                        keel_error *err)
{
  static const char *const keys[] = {"min_rows",
                                     "max_rows",
                                     "max_missing_fraction",
                                     "min_class_count",
                                     "max_class_imbalance",
                                     "drift_reference",
                                     "after"};
  int rc = keel__template_check_keys(t->ini, sec, keys, 7, err);
  if (rc)
    return rc;
  keel_template_checks *c = &t->checks;
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    if (strcmp(e->key, "after") == 0) {
      if ((rc = parse_after(t, e, err)))
        return rc;
    } else if (strcmp(e->key, "drift_reference") == 0) {
      /* NAME@VERSION exactly: a range could move the reference under a
       * template that was reviewed against one version. */
      const char *at = strchr(e->value, '@');
      keel_semver v;
      if (!at || at == e->value ||
          keel_semver_parse(at + 1, &v, NULL) != KEEL_OK ||
          strlen(e->value) >= sizeof c->drift_reference)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[checks] drift_reference: '%s'; expected "
                                "NAME@MAJOR.MINOR.PATCH of a catalog entry",
                                e->value);
      snprintf(c->drift_reference, sizeof c->drift_reference, "%s", e->value);
      t->check_at[KEEL_TCHECK_DRIFT_REFERENCE] =
          (keel_template_origin){t->ini->path, e->line};
    } else if (strcmp(e->key, "max_missing_fraction") == 0 ||
               strcmp(e->key, "max_class_imbalance") == 0) {
      int miss = e->key[4] == 'm';
      double d;
      if (keel_parse_double(e->value, &d, NULL) || d < (miss ? 0 : 1) ||
          (miss && d > 1))
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[checks] %s: '%s'; expected a number %s",
                                e->key, e->value, miss ? "in 0 .. 1" : ">= 1");
      double *slot = miss ? &c->max_missing_fraction : &c->max_class_imbalance;
      int which = miss ? KEEL_TCHECK_MAX_MISSING : KEEL_TCHECK_MAX_IMBALANCE;
      if (t->base && *slot >= 0 && d > *slot)
        return widened(t, sec, e, which, "is above the maximum", err);
      *slot = d;
      t->check_at[which] = (keel_template_origin){t->ini->path, e->line};
    } else {
      int64_t n;
      if (keel_parse_int64(e->value, &n, NULL) || n < 0)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[checks] %s: '%s'; expected an integer >= 0",
                                e->key, e->value);
      int which = strcmp(e->key, "min_rows") == 0 ? KEEL_TCHECK_MIN_ROWS
                  : strcmp(e->key, "max_rows") == 0
                      ? KEEL_TCHECK_MAX_ROWS
                      : KEEL_TCHECK_MIN_CLASS_COUNT;
      int64_t *slot = which == KEEL_TCHECK_MIN_ROWS   ? &c->min_rows
                      : which == KEEL_TCHECK_MAX_ROWS ? &c->max_rows
                                                      : &c->min_class_count;
      int upper = which == KEEL_TCHECK_MAX_ROWS;
      if (t->base && *slot >= 0 && (upper ? n > *slot : n < *slot))
        return widened(t, sec, e, which,
                       upper ? "is above the maximum" : "is below the minimum",
                       err);
      *slot = n;
      t->check_at[which] = (keel_template_origin){t->ini->path, e->line};
    }
  }
  if (c->min_rows >= 0 && c->max_rows >= 0 && c->min_rows > c->max_rows)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, sec->line,
                            "[checks] min_rows = %lld is above max_rows = "
                            "%lld; expected min_rows <= max_rows",
                            (long long)c->min_rows, (long long)c->max_rows);
  return 0;
}

/* Whether plugin `name` is in the slot of `kind` anywhere in the chain. */
static int chain_lists(const keel_template *t, int kind, const char *name)
{
  for (; t; t = t->base)
    for (size_t i = 0; i < t->slots[kind].n_allow; i++)
      if (strcmp(t->slots[kind].allow[i].plugin, name) == 0)
        return 1;
  return 0;
}

static int chain_has_slot(const keel_template *t, int kind)
{
  for (; t; t = t->base)
    if (t->slots[kind].present)
      return 1;
  return 0;
}

/* Splits a template range into numbers ("LO .. HI", *is_num) or choices;
 * 0 when it reads as neither. */
static int range_parts(const char *v, int *is_num, double *lo, double *hi)
{
  const char *dots = strstr(v, "..");
  *is_num = dots != NULL;
  if (!dots)
    return 1;
  char a[64], b[64];
  snprintf(a, sizeof a, "%.*s", (int)(dots - v < 63 ? dots - v : 63), v);
  snprintf(b, sizeof b, "%s", dots + 2);
  for (char *p = a + strlen(a); p > a && (p[-1] == ' ' || p[-1] == '\t');)
    *--p = '\0';
  char *bs = b;
  while (*bs == ' ' || *bs == '\t')
    bs++;
  char *as = a;
  while (*as == ' ' || *as == '\t')
    as++;
  for (char *p = bs + strlen(bs); p > bs && (p[-1] == ' ' || p[-1] == '\t');)
    *--p = '\0';
  return keel_parse_double(as, lo, NULL) == 0 &&
         keel_parse_double(bs, hi, NULL) == 0;
}

/* Whether choice list `sub` ("a | b") names only choices of `of`. */
static int choices_within(const char *sub, const char *of)
{
  char *copy = strdup(sub);
  int ok = copy != NULL;
  char *save = NULL;
  for (char *tok = copy ? strtok_r(copy, "|", &save) : NULL; ok && tok;
       tok = strtok_r(NULL, "|", &save)) {
    while (*tok == ' ' || *tok == '\t')
      tok++;
    size_t n = strlen(tok);
    while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
      n--;
    ok = 0;
    for (const char *p = of; *p;) {
      while (*p == ' ' || *p == '\t' || *p == '|')
        p++;
      size_t m = strcspn(p, "|");
      size_t k = m;
      while (k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
        k--;
      if (k == n && strncmp(p, tok, n) == 0)
        ok = 1;
      p += m;
    }
  }
  free(copy);
  return ok;
}

/* A derived [ranges.REST] may only narrow its base's: the plugin's
 * declaration is not known here, so numbers and choices are compared as
 * written (resolution checks each against the plugin's own range). */
static int check_narrowing(keel_template *t, const keel_ini_section *sec,
                           const char *rest, keel_error *err)
{
  for (size_t i = 0; t->base && i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    const char *bfile = NULL;
    const keel_ini_entry *be =
        keel_template_range_entry(t->base, rest, e->key, &bfile);
    if (!be)
      continue;
    int dn, bn, ok;
    double dlo = 0, dhi = 0, blo = 0, bhi = 0;
    int dparsed = range_parts(e->value, &dn, &dlo, &dhi);
    int bparsed = range_parts(be->value, &bn, &blo, &bhi);
    if (dn != bn || !dparsed || !bparsed)
      ok = 0;
    else if (dn)
      ok = dlo >= blo && dhi <= bhi && dlo <= dhi;
    else
      ok = choices_within(e->value, be->value);
    if (!ok)
      return keel_config_fail(
          err, KEEL_EINVAL, t->ini->path, e->line,
          "[%s] %s: '%s' is not inside '%s' of base template %s (%s:%d); "
          "expected a derived template to narrow, never widen, a range",
          sec->name, e->key, e->value, be->value, t->base->name, bfile,
          be->line);
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
    return keel__template_check_keys(t->ini, sec, names, n, err);
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
  if (chain_lists(t, kind, dot + 1))
    return 0;
  return keel_config_fail(
      err, KEEL_EINVAL, t->ini->path, sec->line,
      "[%s]: plugin '%s' is not allowed in [slot.%s]; expected "
      "one of the plugins its allow list names",
      sec->name, dot + 1, kind_name);
}

static int check_structure(keel_template *t, chain_ctx *ch, keel_error *err)
{
  const keel_ini *ini = t->ini;
  const keel_ini_section *tsec = keel_ini_section_find(ini, "template");
  if (!tsec)
    return keel_config_fail(
        err, KEEL_EINVAL, ini->path, 1,
        "missing [template] section; expected name, version and "
        "task");
  int rc = parse_template_section(t, tsec, ch, err);
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
    if (!chain_has_slot(t, (int)required[i]))
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, tsec->line,
          "missing [slot.%s] section; expected an allow list for "
          "every required slot (source, model, loss, optimizer)",
          keel_kind_name((int)required[i]));
  static const char *const known[] = {
      "template",       "slot.source",    "slot.transform", "slot.model",
      "slot.loss",      "slot.optimizer", "contract",       "checks",
      "defaults.train", "defaults.data",  "ranges.train",   "ranges.data",
      "governance"};
  for (size_t i = 0; i < ini->n_sections; i++) {
    const keel_ini_section *sec = &ini->sections[i];
    const char *n = sec->name;
    if (strcmp(n, "template") == 0 || strncmp(n, "slot.", 5) == 0)
      continue;
    int is_tune = 0;
    if ((rc = keel__tune_check_section(ini, sec, &is_tune, err)))
      return rc;
    if (is_tune)
      continue; /* the sweep's space: config/tune_space.c */
    if (strcmp(n, "contract") == 0)
      rc = parse_contract(t, sec, err);
    else if (strcmp(n, "governance") == 0)
      rc = parse_governance(t, sec, err);
    else if (strcmp(n, "checks") == 0)
      rc = parse_checks(t, sec, err);
    else if (strncmp(n, "checks.column.", 14) == 0)
      rc = keel__template_parse_column(t, sec, err);
    else if (strncmp(n, "defaults.", 9) == 0)
      rc = check_param_section(t, sec, n + 9, err);
    else if (strncmp(n, "ranges.", 7) == 0) {
      rc = check_param_section(t, sec, n + 7, err);
      if (!rc)
        rc = check_narrowing(t, sec, n + 7, err);
    } else {
      const char *dym =
          keel_did_you_mean(n, known, sizeof known / sizeof known[0]);
      if (dym)
        return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                                "[%s]: unknown section; did you mean [%s]?", n,
                                dym);
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, sec->line,
          "[%s]: unknown section; expected [template], "
          "[slot.KIND], [contract], [checks], [checks.column.NAME], "
          "[governance], [defaults.*], [ranges.*], [tune] or [tune.*]",
          n);
    }
    if (rc)
      return rc;
  }
  return 0;
}

static int load_level(const char *path, chain_ctx *ch, keel_template **out,
                      keel_error *err)
{
  *out = NULL;
  keel_template *t = calloc(1, sizeof *t);
  if (!t)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  t->checks.min_rows = -1;
  t->checks.max_rows = -1;
  t->checks.max_missing_fraction = -1;
  t->checks.min_class_count = -1;
  t->checks.max_class_imbalance = -1;
  int rc = keel_ini_parse_file(path, &t->ini, err);
  if (!rc)
    rc = check_structure(t, ch, err);
  if (rc) {
    keel_template_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

int keel_template_load(const char *path, keel_template **out, keel_error *err)
{
  chain_ctx ch = {.n = 0};
  return load_level(path, &ch, out, err);
}

void keel_template_free(keel_template *t)
{
  if (!t)
    return;
  for (size_t k = 0; k <= KEEL_KIND_OPTIMIZER; k++) {
    for (size_t i = 0; i < t->slots[k].n_allow; i++) {
      free(t->slots[k].allow[i].plugin);
      free(t->slots[k].allow[i].range);
      free(t->slots[k].allow[i].sha256);
    }
    free(t->slots[k].allow);
  }
  keel_column_checks_free(t->checks.columns, t->checks.n_columns);
  keel_template_free(t->base);
  keel_ini_free(t->ini);
  free(t);
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

/* The chain's templates, base first (the order rules are listed in). */
static size_t chain_base_first(const keel_template *t,
                               const keel_template **out)
{
  size_t n = 0;
  for (const keel_template *l = t; l && n < MAX_CHAIN + 1; l = l->base)
    n++;
  size_t i = n;
  for (const keel_template *l = t; l && i; l = l->base)
    out[--i] = l;
  return n;
}

static void allow_entry_text(keel_buf *b, const keel_template_allow *a)
{
  keel_buf_printf(b, "%s", a->plugin);
  if (a->range)
    keel_buf_printf(b, " %s", a->range);
  if (a->sha256)
    keel_buf_printf(b, " sha256:%s", a->sha256);
}

char *keel_template_allow_text(const keel_template *t, keel_kind kind)
{
  const keel_template *lv[MAX_CHAIN + 1];
  size_t n = chain_base_first(t, lv);
  keel_buf b = KEEL_BUF_INIT;
  int first = 1;
  for (size_t l = 0; l < n; l++) {
    const keel_template_slot *s = &lv[l]->slots[kind];
    for (size_t i = 0; i < s->n_allow; i++) {
      keel_buf_printf(&b, "%s", first ? "" : ", ");
      allow_entry_text(&b, &s->allow[i]);
      first = 0;
    }
  }
  return keel_buf_take(&b);
}

int keel_template_allows(const keel_template *t, keel_kind kind,
                         const char *name, const char *version,
                         const char *sha256, keel_error *err)
{
  const char *kn = keel_kind_name((int)kind);
  if (!chain_has_slot(t, (int)kind))
    return keel_fail(err, KEEL_EINVAL,
                     "template %s %s has no [slot.%s]; expected no [%s] "
                     "section",
                     t->name, t->version, kn, kn);
  int listed = 0;
  for (const keel_template *l = t; l; l = l->base) {
    const keel_template_slot *s = &l->slots[kind];
    for (size_t i = 0; i < s->n_allow; i++) {
      const keel_template_allow *a = &s->allow[i];
      if (strcmp(a->plugin, name) != 0)
        continue;
      listed = 1;
      if (a->range) {
        int match = 0;
        keel_error e2;
        if (keel_semver_satisfies(version, a->range, &match, &e2))
          return keel_fail(err, KEEL_EINVAL, "%s", e2.message);
        if (!match)
          return keel_fail(err, KEEL_EINVAL,
                           "%s version %s is outside the template's range; "
                           "expected %s %s (template %s %s, %s:%d)",
                           name, version, name, a->range, l->name, l->version,
                           l->ini->path, s->line);
      }
      if (a->sha256 && (!sha256 || strcmp(a->sha256, sha256) != 0))
        return keel_fail(err, KEEL_EINVAL,
                         "%s:%d: [slot.%s] allow: %s is pinned to "
                         "sha256:%s, but the plugin file found has "
                         "sha256:%s; expected the pinned build",
                         l->ini->path, s->line, kn, name, a->sha256,
                         sha256 ? sha256 : "(unknown)");
    }
  }
  if (listed)
    return 0;
  char *allowed = keel_template_allow_text(t, kind);
  keel_fail(err, KEEL_EINVAL,
            "plugin '%s' is not allowed by template %s %s; expected one "
            "of: %s",
            name, t->name, t->version, allowed ? allowed : "?");
  free(allowed);
  return KEEL_EINVAL;
}

static const keel_ini_entry *nearest_entry(const keel_template *t,
                                           const char *prefix, const char *sec,
                                           const char *key, const char **file)
{
  char name[KEEL_INI_MAX_SECTION + 16];
  snprintf(name, sizeof name, "%s.%s", prefix, sec);
  for (; t; t = t->base) {
    const keel_ini_entry *e =
        keel_ini_entry_find(keel_ini_section_find(t->ini, name), key);
    if (e) {
      if (file)
        *file = t->ini->path;
      return e;
    }
  }
  return NULL;
}

const keel_ini_entry *keel_template_default_entry(const keel_template *t,
                                                  const char *sec,
                                                  const char *key,
                                                  const char **file)
{
  return nearest_entry(t, "defaults", sec, key, file);
}

const keel_ini_entry *keel_template_range_entry(const keel_template *t,
                                                const char *sec,
                                                const char *key,
                                                const char **file)
{
  return nearest_entry(t, "ranges", sec, key, file);
}

/* ---- the chain and its rules, copied for the run configuration -------- */

static int add_rule(keel_run_config *c, size_t *cap, keel_buf *text,
                    const char *file, int line)
{
  if (text->failed)
    return KEEL_ENOMEM;
  if (c->n_rules == *cap) {
    size_t nc = *cap ? *cap * 2 : 32;
    keel_template_rule *g = realloc(c->rules, nc * sizeof *g);
    if (!g)
      return KEEL_ENOMEM;
    c->rules = g;
    *cap = nc;
  }
  keel_template_rule *r = &c->rules[c->n_rules];
  r->text = strdup(text->data ? (const char *)text->data : "");
  r->file = strdup(file);
  r->line = line;
  c->n_rules++;
  return r->text && r->file ? 0 : KEEL_ENOMEM;
}

/* Whether a rule starting "WORD SECTION KEY =" was listed already (a
 * nearer template's default or range hides a base's). */
static int rule_listed(const keel_run_config *c, const char *text)
{
  size_t n = strlen(text);
  for (size_t i = 0; i < c->n_rules; i++)
    if (strncmp(c->rules[i].text, text, n) == 0)
      return 1;
  return 0;
}

/* [defaults.*] and [ranges.*]: the nearest entry of each key. */
static int param_rules(const keel_template *t, keel_run_config *c, size_t *cap,
                       const char *prefix, const char *word)
{
  size_t plen = strlen(prefix);
  int rc = 0;
  for (const keel_template *l = t; l && !rc; l = l->base)
    for (size_t i = 0; i < l->ini->n_sections && !rc; i++) {
      const keel_ini_section *sec = &l->ini->sections[i];
      if (strncmp(sec->name, prefix, plen) != 0)
        continue;
      for (size_t k = 0; k < sec->n_entries && !rc; k++) {
        const keel_ini_entry *e = &sec->entries[k];
        keel_buf key = KEEL_BUF_INIT, b = KEEL_BUF_INIT;
        keel_buf_printf(&key, "%s %s %s =", word, sec->name + plen, e->key);
        if (!key.failed && !rule_listed(c, (const char *)key.data)) {
          keel_buf_printf(&b, "%s %s", (const char *)key.data, e->value);
          rc = add_rule(c, cap, &b, l->ini->path, e->line);
        }
        /* the key alone marks it listed, whatever its value */
        keel_buf_free(&b);
        keel_buf_free(&key);
      }
    }
  return rc;
}

int keel_template_chain_copy(const keel_template *t, keel_run_config *c,
                             keel_error *err)
{
  size_t n = 0, cap = 0;
  for (const keel_template *l = t; l; l = l->base)
    n++;
  c->chain = calloc(n, sizeof *c->chain);
  int rc = c->chain ? 0 : KEEL_ENOMEM;
  for (const keel_template *l = t; l && !rc; l = l->base) {
    keel_template_file *f = &c->chain[c->n_chain++];
    f->name = strdup(l->name);
    f->version = strdup(l->version);
    f->path = strdup(l->ini->path);
    f->text = strdup(l->ini->text);
    keel_sha256_hex(l->ini->text, l->ini->size, f->sha256);
    if (!f->name || !f->version || !f->path || !f->text)
      rc = KEEL_ENOMEM;
  }
  const keel_template *lv[MAX_CHAIN + 1];
  size_t nl = chain_base_first(t, lv);
  for (int k = 1; k <= KEEL_KIND_OPTIMIZER && !rc; k++)
    for (size_t l = 0; l < nl && !rc; l++) {
      const keel_template_slot *s = &lv[l]->slots[k];
      for (size_t i = 0; i < s->n_allow && !rc; i++) {
        keel_buf b = KEEL_BUF_INIT;
        keel_buf_printf(&b, "allow %s ", keel_kind_name(k));
        allow_entry_text(&b, &s->allow[i]);
        rc = add_rule(c, &cap, &b, lv[l]->ini->path, s->line);
        keel_buf_free(&b);
      }
    }
  static const char *const check_names[KEEL_TCHECK_N] = {
      "check min_rows",
      "check max_missing_fraction",
      "check min_class_count",
      "contract missing",
      "contract finite",
      "contract catalog",
      "governance require",
      "governance allowed_scopes",
      "contract freshness",
      "check max_rows",
      "check max_class_imbalance",
      "check drift_reference",
      "check after"};
  const keel_template_checks *k = &t->checks;
  for (int i = 0; i < KEEL_TCHECK_N && !rc; i++) {
    const keel_template_origin *o = &t->check_at[i];
    if (!o->file)
      continue;
    keel_buf b = KEEL_BUF_INIT;
    keel_buf_printf(&b, "%s = ", check_names[i]);
    if (i == KEEL_TCHECK_MIN_ROWS)
      keel_buf_printf(&b, "%lld", (long long)k->min_rows);
    else if (i == KEEL_TCHECK_MAX_MISSING)
      keel_buf_printf(&b, "%g", k->max_missing_fraction);
    else if (i == KEEL_TCHECK_MIN_CLASS_COUNT)
      keel_buf_printf(&b, "%lld", (long long)k->min_class_count);
    else if (i == KEEL_TCHECK_MISSING)
      keel_buf_printf(&b, "%s",
                      k->contract_flags & KEEL_CONTRACT_NO_MISSING ? "forbidden"
                                                                   : "allowed");
    else if (i == KEEL_TCHECK_FINITE)
      keel_buf_printf(&b, "%s",
                      k->contract_flags & KEEL_CONTRACT_FINITE ? "required"
                                                               : "optional");
    else if (i == KEEL_TCHECK_CATALOG)
      keel_buf_printf(&b, "%s", k->catalog_required ? "required" : "optional");
    else if (i == KEEL_TCHECK_FRESHNESS)
      keel_buf_printf(&b, "%s", k->freshness_fail ? "fail" : "warn");
    else if (i == KEEL_TCHECK_MAX_ROWS)
      keel_buf_printf(&b, "%lld", (long long)k->max_rows);
    else if (i == KEEL_TCHECK_MAX_IMBALANCE)
      keel_buf_printf(&b, "%g", k->max_class_imbalance);
    else if (i == KEEL_TCHECK_DRIFT_REFERENCE)
      keel_buf_printf(&b, "%s", k->drift_reference);
    else if (i == KEEL_TCHECK_AFTER)
      for (size_t j = 0; j < k->n_after; j++)
        keel_buf_printf(&b, "%s%s", j ? ", " : "", k->after[j]);
    else
      for (size_t j = 0, shown = 0; j < 5; j++) {
        uint32_t bits =
            i == KEEL_TCHECK_GOV_REQUIRE ? k->gov_require : k->gov_scopes;
        const char *name = i == KEEL_TCHECK_GOV_REQUIRE
                               ? (j < 4 ? gov_keys[j] : NULL)
                               : gov_scopes[j];
        if (name && (bits & (1u << j)))
          keel_buf_printf(&b, "%s%s", shown++ ? ", " : "", name);
      }
    rc = add_rule(c, &cap, &b, o->file, o->line);
    keel_buf_free(&b);
  }
  for (size_t i = 0; i < k->n_columns && !rc; i++) {
    const keel_column_check *cc = &k->columns[i];
    keel_buf b = KEEL_BUF_INIT;
    keel_buf_printf(&b, "check column %s:", cc->name);
    const char *sep = " ";
    for (int j = 0; j < KEEL_CB_N; j++)
      if (!isnan(cc->bound[j])) {
        keel_buf_printf(&b, "%s%s = %g", sep,
                        keel_column_bound_key((keel_column_bound)j),
                        cc->bound[j]);
        sep = ", ";
      }
    for (size_t j = 0; j < cc->n_categories; j++)
      keel_buf_printf(&b, "%s%s",
                      j        ? ", "
                      : sep[1] ? "; categories = "
                               : " categories = ",
                      cc->categories[j]);
    rc = add_rule(c, &cap, &b, cc->file, cc->line);
    keel_buf_free(&b);
  }
  if (!rc)
    rc = param_rules(t, c, &cap, "ranges.", "range");
  if (!rc)
    rc = param_rules(t, c, &cap, "defaults.", "default");
  return rc ? keel_fail(err, KEEL_ENOMEM, "out of memory") : 0;
}
