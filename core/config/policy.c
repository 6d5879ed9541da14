/* The access policy (see policy.h): reading the file safely, the
 * identity, and the decision. */
#include "config/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/path.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/ini.h"

/* A policy bigger than this is not a policy. */
#define POLICY_MAX_BYTES (1 << 20)

/* ---- identity --------------------------------------------------------- */

static char *id_name(const char *name, unsigned long n)
{
  if (name)
    return strdup(name);
  char buf[32];
  snprintf(buf, sizeof buf, "#%lu", n);
  return strdup(buf);
}

int keel_identity_current(keel_identity *id, keel_error *err)
{
  memset(id, 0, sizeof *id);
  id->uid = getuid();
  struct passwd *pw = getpwuid(id->uid);
  id->user = id_name(pw ? pw->pw_name : NULL, (unsigned long)id->uid);
  int n = getgroups(0, NULL);
  if (n < 0)
    return keel_fail(err, KEEL_EIO, "getgroups: %s", strerror(errno));
  id->gids = calloc((size_t)n + 1, sizeof *id->gids);
  id->groups = calloc((size_t)n + 1, sizeof *id->groups);
  if (!id->user || !id->gids || !id->groups)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  id->gids[0] = getgid();
  if (n > 0 && (n = getgroups(n, id->gids + 1)) < 0)
    return keel_fail(err, KEEL_EIO, "getgroups: %s", strerror(errno));
  size_t k = 1;
  for (int i = 1; i <= n; i++) /* the real gid is often listed again */
    if (id->gids[i] != id->gids[0])
      id->gids[k++] = id->gids[i];
  for (size_t i = 0; i < k; i++) {
    struct group *g = getgrgid(id->gids[i]);
    if (!(id->groups[i] =
              id_name(g ? g->gr_name : NULL, (unsigned long)id->gids[i])))
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    id->n_groups = i + 1;
  }
  return KEEL_OK;
}

void keel_identity_free(keel_identity *id)
{
  for (size_t i = 0; id->groups && i < id->n_groups; i++)
    free(id->groups[i]);
  free(id->groups);
  free(id->gids);
  free(id->user);
  memset(id, 0, sizeof *id);
}

static int in_groups(const keel_identity *id, gid_t g)
{
  for (size_t i = 0; i < id->n_groups; i++)
    if (id->gids[i] == g)
      return 1;
  return 0;
}

/* Who may change a file or folder with status st, as the policy's
 * subject sees it: NULL when that user cannot. A sticky folder lets no
 * one replace another's file. */
static const char *writable_by(const struct stat *st, const keel_identity *id,
                               int is_dir)
{
  if (is_dir && (st->st_mode & S_ISVTX) && st->st_uid != id->uid)
    return NULL;
  if (st->st_uid == id->uid && (st->st_mode & S_IWUSR))
    return "its owner, the user it governs";
  if (in_groups(id, st->st_gid) && (st->st_mode & S_IWGRP))
    return "its group, a group of the user it governs";
  if (st->st_mode & S_IWOTH)
    return "anyone";
  return NULL;
}

/* ---- reading the file ------------------------------------------------- */

/* Reads the policy at path into *text after checking that its subject
 * cannot change it. KEEL_ENOTFOUND when it does not exist. */
static int read_policy(const char *path, const keel_identity *id, char **text,
                       size_t *size, keel_error *err)
{
  *text = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    return KEEL_ENOTFOUND;
  if (fd < 0)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: the access policy cannot be read (%s); every read "
                     "of catalogued data is refused until it can",
                     path,
                     errno == ELOOP ? "a symbolic link" : strerror(errno));
  struct stat st, dst;
  char *dir = keel_path_dirname(path);
  int rc = KEEL_OK;
  const char *who = NULL;
  if (!dir)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    rc = keel_fail(err, KEEL_EINVAL, "%s: the access policy is not a file",
                   path);
  else if (st.st_size > POLICY_MAX_BYTES)
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: the access policy is %lld bytes; expected at most %d",
                   path, (long long)st.st_size, POLICY_MAX_BYTES);
  else if ((who = writable_by(&st, id, 0)) != NULL)
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: the access policy is writable by %s (%s, mode %04o, "
                   "owner uid %lu); a policy its subject can change governs "
                   "nothing: expected a file only others can write",
                   path, who, id->user, (unsigned)(st.st_mode & 07777),
                   (unsigned long)st.st_uid);
  else if (stat(dir, &dst) == 0 && (who = writable_by(&dst, id, 1)) != NULL)
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: the folder of the access policy (%s) is writable by "
                   "%s (%s, mode %04o); the file could be replaced: expected "
                   "a folder only others can write",
                   path, dir, who, id->user, (unsigned)(dst.st_mode & 07777));
  free(dir);
  if (!rc) {
    *text = malloc((size_t)st.st_size + 1);
    ssize_t got = *text ? read(fd, *text, (size_t)st.st_size + 1) : -1;
    if (!*text)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    else if (got < 0)
      rc = keel_fail(err, KEEL_EINVAL,
                     "%s: the access policy cannot be read "
                     "(%s)",
                     path, strerror(errno));
    else
      *size =
          (size_t)got < (size_t)st.st_size ? (size_t)got : (size_t)st.st_size;
  }
  close(fd);
  if (rc) {
    free(*text);
    *text = NULL;
  }
  return rc;
}

/* ---- lists ------------------------------------------------------------ */

/* Calls fn on each blank-trimmed, comma-separated item of list; stops at
 * the first nonzero answer and returns it. */
static int each_item(const char *list, int (*fn)(const char *item, void *ctx),
                     void *ctx)
{
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    while (n && (*p == ' ' || *p == '\t'))
      p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    char item[256];
    if (n >= sizeof item)
      n = sizeof item - 1; /* too long for any valid item: fails its check */
    memcpy(item, p, n);
    item[n] = '\0';
    int rc = fn(item, ctx);
    if (rc)
      return rc;
    if (!end)
      break;
    p = end + 1;
  }
  return 0;
}

static int equals(const char *item, void *ctx)
{
  return strcmp(item, (const char *)ctx) == 0;
}

static int list_has(const char *list, const char *word)
{
  return list && word && each_item(list, equals, (void *)word);
}

static int valid_token(const char *s, size_t max, int dots)
{
  size_t n = strlen(s);
  if (!n || n > max ||
      !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || (dots && (c == '.' || c == '@' || c == '+'))))
      return 0;
  }
  return 1;
}

int keel_policy_purpose_valid(const char *purpose)
{
  return valid_token(purpose, 64, 0) ||
         (valid_token(purpose, 64, 1) && !strchr(purpose, '@') &&
          !strchr(purpose, '+'));
}

/* Each list key's item check, with what a bad item gets told. */
static int bad_scope(const char *item, void *ctx)
{
  (void)ctx;
  for (int s = KEEL_SCOPE_PUBLIC; s <= KEEL_SCOPE_PII; s++)
    if (strcmp(item, keel_data_scope_name((keel_data_scope)s)) == 0)
      return 0;
  return 1;
}
static int bad_dataset(const char *item, void *ctx)
{
  (void)ctx;
  return !valid_token(item, 96, 1) || !(item[0] >= 'a' && item[0] <= 'z');
}
static int bad_purpose(const char *item, void *ctx)
{
  (void)ctx;
  return !keel_policy_purpose_valid(item);
}
static int bad_redact(const char *item, void *ctx)
{
  (void)ctx;
  return strcmp(item, "user") != 0 && strcmp(item, "host") != 0;
}

static int check_list(const keel_ini *ini, const keel_ini_entry *e,
                      const char *section, int (*bad)(const char *, void *),
                      const char *expected, keel_error *err)
{
  if (!*e->value || each_item(e->value, bad, NULL))
    return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                            "[%s] %s: '%s'; expected %s", section, e->key,
                            e->value, expected);
  return KEEL_OK;
}

static int check_header(const keel_ini *ini, keel_error *err)
{
  const keel_ini_section *h = ini->n_sections ? &ini->sections[0] : NULL;
  if (!h || strcmp(h->name, "policy") != 0)
    return keel_config_fail(err, KEEL_EINVAL, ini->path, h ? h->line : 1,
                            "an access policy starts with [policy] (format "
                            "= 1, version = ...)");
  const keel_ini_entry *f = keel_ini_entry_find(h, "format");
  const keel_ini_entry *v = keel_ini_entry_find(h, "version");
  if (!f || strcmp(f->value, "1") != 0)
    return keel_config_fail(err, KEEL_EINVAL, ini->path, f ? f->line : h->line,
                            "[policy] format: %s; expected format = 1",
                            f ? f->value : "missing");
  if (!v || !valid_token(v->value, 64, 1))
    return keel_config_fail(
        err, KEEL_EINVAL, ini->path, v ? v->line : h->line,
        "[policy] version: %s; expected the policy's version, "
        "[a-z0-9][a-z0-9._-]* (e.g. 2026.12.1), recorded in every bundle",
        v ? v->value : "missing");
  for (size_t i = 0; i < h->n_entries; i++) {
    const keel_ini_entry *e = &h->entries[i];
    int rc = KEEL_OK;
    if (strcmp(e->key, "redact") == 0)
      rc = check_list(ini, e, "policy", bad_redact, "user, host or both", err);
    else if (strcmp(e->key, "format") && strcmp(e->key, "version"))
      rc = keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                            "[policy] %s: unknown key; expected format, "
                            "version or redact",
                            e->key);
    if (rc)
      return rc;
  }
  return KEEL_OK;
}

/* Checks every section after [policy]: its name and its keys. */
static int check_rules(const keel_ini *ini, keel_error *err)
{
  for (size_t s = 1; s < ini->n_sections; s++) {
    const keel_ini_section *sec = &ini->sections[s];
    const char *n = sec->name;
    const char *who = strncmp(n, "user.", 5) == 0    ? n + 5
                      : strncmp(n, "group.", 6) == 0 ? n + 6
                      : strcmp(n, "everyone") == 0   ? "x"
                                                     : NULL;
    int ok = who && *who;
    for (const char *c = who; ok && *c; c++)
      ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
           (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.' ||
           *c == '#';
    if (!ok)
      return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                              "[%s]: unknown section; expected [everyone], "
                              "[user.NAME] or [group.NAME]",
                              n);
    for (size_t i = 0; i < sec->n_entries; i++) {
      const keel_ini_entry *e = &sec->entries[i];
      int rc;
      if (strcmp(e->key, "scopes") == 0 || strcmp(e->key, "include_data") == 0)
        rc = check_list(ini, e, n, bad_scope,
                        "scopes among public, internal, restricted, pii", err);
      else if (strcmp(e->key, "datasets") == 0)
        rc = check_list(ini, e, n, bad_dataset,
                        "dataset names or NAME@VERSION ids", err);
      else if (strcmp(e->key, "purposes") == 0)
        rc = check_list(ini, e, n, bad_purpose,
                        "purposes, [a-z0-9][a-z0-9._-]* each", err);
      else
        rc = keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                              "[%s] %s: unknown key; expected scopes, "
                              "datasets, purposes or include_data",
                              n, e->key);
      if (rc)
        return rc;
    }
  }
  return KEEL_OK;
}

/* ---- the decision ----------------------------------------------------- */

static int applies(const keel_ini_section *sec, const keel_identity *id)
{
  if (strcmp(sec->name, "everyone") == 0)
    return 1;
  if (strncmp(sec->name, "user.", 5) == 0) {
    char uid[32];
    snprintf(uid, sizeof uid, "#%lu", (unsigned long)id->uid);
    return strcmp(sec->name + 5, id->user) == 0 ||
           strcmp(sec->name + 5, uid) == 0;
  }
  for (size_t i = 0; i < id->n_groups; i++) {
    char gid[32];
    snprintf(gid, sizeof gid, "#%lu", (unsigned long)id->gids[i]);
    if (strcmp(sec->name + 6, id->groups[i]) == 0 ||
        strcmp(sec->name + 6, gid) == 0)
      return 1;
  }
  return 0;
}

static const char *value_of(const keel_ini_section *sec, const char *key)
{
  const keel_ini_entry *e = keel_ini_entry_find(sec, key);
  return e ? e->value : NULL;
}

/* Does the rule grant the dataset, leaving the purpose aside? */
static int grants(const keel_ini_section *sec, const keel_policy_request *q)
{
  return list_has(value_of(sec, "scopes"), keel_data_scope_name(q->scope)) ||
         list_has(value_of(sec, "datasets"), q->dataset_name) ||
         list_has(value_of(sec, "datasets"), q->dataset_id);
}

static char *joined_groups(const keel_identity *id)
{
  keel_buf b = KEEL_BUF_INIT;
  for (size_t i = 0; i < id->n_groups; i++)
    keel_buf_printf(&b, "%s%s", i ? ", " : "", id->groups[i]);
  keel_buf_printf(&b, "%s", "");
  char *s = b.failed ? NULL : keel_buf_take(&b);
  keel_buf_free(&b);
  return s;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* Fills d's identity and request fields. */
static int begin(keel_policy_decision *d, const keel_identity *id,
                 const keel_policy_request *q)
{
  d->user = strdup(id->user);
  d->uid = id->uid;
  d->groups = joined_groups(id);
  d->dataset = strdup(q->dataset_id);
  d->scope = q->scope;
  d->purpose = dup_or_null(q->purpose);
  d->legal_basis = dup_or_null(q->legal_basis);
  return d->user && d->groups && d->dataset && (!q->purpose || d->purpose) &&
         (!q->legal_basis || d->legal_basis);
}

/* Sets the reason (and the error when denied). */
static int conclude(keel_policy_decision *d, int allowed, int line,
                    keel_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int conclude(keel_policy_decision *d, int allowed, int line,
                    keel_error *err, const char *fmt, ...)
{
  char why[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  d->allowed = allowed;
  d->line = line;
  free(d->reason);
  d->reason = strdup(why);
  if (!d->reason)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (allowed)
    return KEEL_OK;
  char where[300];
  if (d->policy_path)
    snprintf(where, sizeof where, "%s:%d", d->policy_path, line);
  else
    snprintf(where, sizeof where, "the built-in policy (no policy file %s)",
             d->searched ? d->searched : "");
  return keel_fail(err, KEEL_EINVAL,
                   "access denied: dataset %s (scope %s) for user %s "
                   "(groups %s) by %s: %s",
                   d->dataset, keel_data_scope_name(d->scope), d->user,
                   d->groups, where, why);
}

/* The built-in policy: public and internal for everyone, nothing else. */
static int decide_builtin(const keel_policy_request *q, keel_policy_decision *d,
                          keel_error *err)
{
  if (q->scope == KEEL_SCOPE_PUBLIC || q->scope == KEEL_SCOPE_INTERNAL)
    return conclude(d, 1, 0, err, "%s data is open to everyone",
                    keel_data_scope_name(q->scope));
  return conclude(d, 0, 0, err,
                  "%s data needs a policy that grants it (default deny; "
                  "docs/data-access.md, \"Access policy\")",
                  keel_data_scope_name(q->scope));
}

static int decide_by_rules(const keel_ini *ini, const keel_identity *id,
                           const keel_policy_request *q,
                           keel_policy_decision *d, keel_error *err)
{
  int has_everyone = keel_ini_section_find(ini, "everyone") != NULL;
  const keel_ini_section *granted = NULL, *wrong_purpose = NULL;
  for (size_t s = 1; s < ini->n_sections; s++) {
    const keel_ini_section *sec = &ini->sections[s];
    if (!applies(sec, id) || !grants(sec, q))
      continue;
    if (q->scope == KEEL_SCOPE_PII &&
        !list_has(value_of(sec, "purposes"), q->purpose)) {
      if (!wrong_purpose)
        wrong_purpose = sec;
      continue;
    }
    /* The first granting rule decides, unless a later one also lets the
     * data into the bundle that was asked for. */
    if (!granted || (q->include_data &&
                     !list_has(value_of(granted, "include_data"),
                               keel_data_scope_name(q->scope)) &&
                     list_has(value_of(sec, "include_data"),
                              keel_data_scope_name(q->scope))))
      granted = sec;
  }
  int open_scope =
      q->scope == KEEL_SCOPE_PUBLIC || q->scope == KEEL_SCOPE_INTERNAL;
  if (!granted && !has_everyone && open_scope)
    return conclude(d, 1, 0, err,
                    "%s data is open to everyone (the policy has no "
                    "[everyone] rule)",
                    keel_data_scope_name(q->scope));
  if (!granted && wrong_purpose)
    return conclude(d, 0, wrong_purpose->line, err,
                    "[%s] grants it for the purposes %s, not for %s%s%s",
                    wrong_purpose->name,
                    value_of(wrong_purpose, "purposes")
                        ? value_of(wrong_purpose, "purposes")
                        : "(none)",
                    q->purpose ? "'" : "",
                    q->purpose ? q->purpose
                               : "a run without a "
                                 "purpose",
                    q->purpose ? "'" : "");
  if (!granted)
    return conclude(d, 0, ini->sections[0].line, err,
                    "no rule for this user or their groups grants scope %s or "
                    "dataset %s (default deny)",
                    keel_data_scope_name(q->scope), q->dataset_name);
  int restricted_scope = !open_scope;
  if (q->include_data && restricted_scope &&
      !list_has(value_of(granted, "include_data"),
                keel_data_scope_name(q->scope)))
    return conclude(d, 0, granted->line, err,
                    "[%s] grants reading it but not carrying it into a "
                    "bundle (--include-data needs include_data = %s in the "
                    "rule)",
                    granted->name, keel_data_scope_name(q->scope));
  d->include_data = q->include_data;
  return conclude(d, 1, granted->line, err, "granted by [%s]", granted->name);
}

int keel_policy_decide(const char *path, int explicit_path,
                       const keel_policy_request *q, keel_policy_decision *d,
                       keel_error *err)
{
  keel_identity id;
  int rc = keel_identity_current(&id, err);
  if (!rc && !begin(d, &id, q))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc) {
    keel_identity_free(&id);
    return rc;
  }
  char *text = NULL;
  size_t size = 0;
  keel_ini *ini = NULL;
  if (!(d->searched = strdup(path))) {
    keel_identity_free(&id);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  rc = read_policy(path, &id, &text, &size, err);
  if (rc == KEEL_ENOTFOUND && !explicit_path) {
    d->version = strdup("builtin");
    rc = d->version ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else if (rc == KEEL_ENOTFOUND) {
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: the access policy does not exist; every read of "
                   "catalogued data is refused until it does (or the policy "
                   "setting names another file)",
                   path);
  } else if (!rc) {
    d->policy_path = strdup(path);
    if (!d->policy_path)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (!rc)
      rc = keel_ini_parse_buffer(path, text, size, &ini, err);
    if (!rc)
      rc = check_header(ini, err);
    if (!rc)
      rc = check_rules(ini, err);
  }
  free(text);
  if (rc) { /* fails closed: the decision says denied, with why */
    free(d->reason);
    d->reason = strdup(err->message);
    d->allowed = 0;
  } else if (!ini && q->scope == KEEL_SCOPE_PII && !q->purpose) {
    rc = conclude(d, 0, 0, err,
                  "pii data is read only for a declared purpose; expected "
                  "[keel] purpose = ... in the manifest, one the policy "
                  "allows");
  } else if (!ini) {
    rc = decide_builtin(q, d, err);
  } else {
    const keel_ini_section *h = &ini->sections[0];
    d->version = strdup(keel_ini_entry_find(h, "version")->value);
    d->redact_user = list_has(value_of(h, "redact"), "user");
    d->redact_host = list_has(value_of(h, "redact"), "host");
    if (!d->version)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    else if (q->scope == KEEL_SCOPE_PII && !q->purpose)
      rc = conclude(d, 0, h->line, err,
                    "pii data is read only for a declared purpose; expected "
                    "[keel] purpose = ... in the manifest, one the policy "
                    "allows");
    else
      rc = decide_by_rules(ini, &id, q, d, err);
  }
  keel_ini_free(ini);
  keel_identity_free(&id);
  return rc;
}

json_t *keel_policy_decision_json(const keel_policy_decision *d)
{
  json_t *redact = json_array();
  if (redact && d->redact_user)
    json_array_append_new(redact, json_string("user"));
  if (redact && d->redact_host)
    json_array_append_new(redact, json_string("host"));
  json_t *o = json_pack(
      "{s:b, s:o, s:s, s:i, s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:b, s:o, "
      "s:s}",
      "allowed", d->allowed, "policy",
      d->policy_path ? json_string(d->policy_path) : json_null(), "version",
      d->version ? d->version : "", "line", d->line, "user",
      d->user ? d->user : "", "uid", (json_int_t)d->uid, "groups",
      d->groups ? d->groups : "", "dataset", d->dataset ? d->dataset : "",
      "scope", keel_data_scope_name(d->scope), "purpose",
      d->purpose ? json_string(d->purpose) : json_null(), "legal_basis",
      d->legal_basis ? json_string(d->legal_basis) : json_null(),
      "include_data", d->include_data, "redact", redact ? redact : json_null(),
      "reason", d->reason ? d->reason : "");
  return o;
}

void keel_policy_decision_free(keel_policy_decision *d)
{
  if (!d)
    return;
  free(d->policy_path);
  free(d->searched);
  free(d->version);
  free(d->user);
  free(d->groups);
  free(d->dataset);
  free(d->purpose);
  free(d->legal_basis);
  free(d->reason);
  memset(d, 0, sizeof *d);
}
