/* The versioned data catalog: reading and checking it (catalog.h). */
#include "config/catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/params.h"
#include "base/path.h"
#include "base/status.h"
#include "config/ini.h"

#define CATALOG_FORMAT "1"
#define NAME_MAX_BYTES 32

static const char *const scope_names[] = {NULL, "public", "internal",
                                          "restricted", "pii"};
static const char *const auth_names[] = {NULL, "none", "netrc", "bearer-env",
                                         "header-file"};
static const char *const scheme_names[] = {NULL, "file", "http", "https",
                                           "sqlite"};

const char *keel_data_scope_name(keel_data_scope scope)
{
  return scope >= KEEL_SCOPE_PUBLIC && scope <= KEEL_SCOPE_PII
             ? scope_names[scope]
             : "unknown";
}

const char *keel_auth_method_name(keel_auth_method auth)
{
  return auth >= KEEL_AUTH_NONE && auth <= KEEL_AUTH_HEADER_FILE
             ? auth_names[auth]
             : "unknown";
}

const char *keel_location_scheme_name(keel_location_scheme scheme)
{
  return scheme >= KEEL_LOCATION_FILE && scheme <= KEEL_LOCATION_SQLITE
             ? scheme_names[scheme]
             : "unknown";
}

/* ---- free ------------------------------------------------------------- */

static void entry_free(keel_catalog_entry *e)
{
  free(e->id);
  free(e->name);
  free(e->version);
  free(e->location);
  free(e->path);
  free(e->plugin);
  for (size_t i = 0; i < e->n_options; i++) {
    free(e->options[i].key);
    free(e->options[i].value);
  }
  free(e->options);
  for (size_t i = 0; i < e->n_columns; i++)
    free(e->columns[i].name);
  free(e->columns);
  free(e->owner);
  free(e->auth_ref);
  free(e->as_of);
  free(e->license);
  free(e->description);
  free(e->stats);
  free(e->intended_use);
  free(e->legal_basis);
}

void keel_catalog_free(keel_catalog *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n_entries; i++)
    entry_free(&c->entries[i]);
  free(c->entries);
  free(c->path);
  free(c->dir);
  free(c);
}

/* ---- one value at a time ---------------------------------------------- */

/* What a message points at: the file, and the entry being read. */
typedef struct reader {
  const char *file;
  const char *dir;
  keel_error *err;
  const char *id; /* the section: "penguins@1.0.0" or "catalog" */
} reader;

/* Fails with "FILE:LINE: [SECTION] KEY: what" (KEY may be NULL). */
__attribute__((format(printf, 4, 5))) static int
fail_at(const reader *r, int line, const char *key, const char *fmt, ...)
{
  char msg[KEEL_ERROR_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (key)
    return keel_fail(r->err, KEEL_EINVAL, "%s:%d: [%s] %s: %s", r->file, line,
                     r->id, key, msg);
  return keel_fail(r->err, KEEL_EINVAL, "%s:%d: [%s] %s", r->file, line, r->id,
                   msg);
}

static int oom(const reader *r)
{
  return keel_fail(r->err, KEEL_ENOMEM, "%s: out of memory reading the catalog",
                   r->file);
}

/* [a-z][a-z0-9_-]*, at most `max` bytes: dataset, plugin and option names. */
static int valid_name(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n == 0 || n > max || !islower((unsigned char)s[0]))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
        s[i] != '_' && s[i] != '-')
      return 0;
  return 1;
}

/* An environment variable name: [A-Z_][A-Z0-9_]*. */
static int valid_env_name(const char *s)
{
  if (!s[0] || isdigit((unsigned char)s[0]))
    return 0;
  for (const char *p = s; *p; p++)
    if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return 0;
  return 1;
}

/* Looks up `word` in names[1..n]; 0 when absent. */
static int word_index(const char *word, const char *const *names, int n)
{
  for (int i = 1; i <= n; i++)
    if (strcmp(word, names[i]) == 0)
      return i;
  return 0;
}

/* file:PATH, sqlite:PATH, http://HOST/..., https://HOST/... */
static int read_location(const reader *r, const keel_ini_entry *kv,
                         keel_catalog_entry *e)
{
  const char *v = kv->value;
  for (const char *p = v; *p; p++)
    if (isspace((unsigned char)*p))
      return fail_at(r, kv->line, kv->key,
                     "a location has no blanks (percent-encode them as %%20)");
  const char *rest = NULL;
  if (strncmp(v, "file:", 5) == 0) {
    e->scheme = KEEL_LOCATION_FILE;
    rest = v + 5;
  } else if (strncmp(v, "sqlite:", 7) == 0) {
    e->scheme = KEEL_LOCATION_SQLITE;
    rest = v + 7;
  } else if (strncmp(v, "http://", 7) == 0) {
    e->scheme = KEEL_LOCATION_HTTP;
    rest = v + 7;
  } else if (strncmp(v, "https://", 8) == 0) {
    e->scheme = KEEL_LOCATION_HTTPS;
    rest = v + 8;
  } else {
    return fail_at(r, kv->line, kv->key,
                   "'%s' has no known scheme; expected file:PATH, "
                   "sqlite:PATH, http://HOST/PATH or https://HOST/PATH",
                   v);
  }
  if (!rest[0])
    return fail_at(r, kv->line, kv->key, "'%s' names nothing after the scheme",
                   v);
  if (e->scheme == KEEL_LOCATION_HTTP || e->scheme == KEEL_LOCATION_HTTPS) {
    size_t host_len = strcspn(rest, "/?#");
    if (host_len == 0)
      return fail_at(r, kv->line, kv->key, "'%s' has no host", v);
    /* Secrets are referenced (auth = ...), never written into the
     * catalog, which is shared and sealed into bundles. */
    if (memchr(rest, '@', host_len))
      return fail_at(r, kv->line, kv->key,
                     "user information in a URL is refused (the catalog is "
                     "shared and sealed into bundles); remove it and name "
                     "the credentials with auth = netrc, bearer-env:VAR or "
                     "header-file:PATH");
    return KEEL_OK;
  }
  e->path = keel_path_join(r->dir, rest);
  return e->path ? KEEL_OK : oom(r);
}

/* 64 lowercase hex digits. */
static int read_sha256(const reader *r, const keel_ini_entry *kv, char *out)
{
  size_t n = strlen(kv->value);
  int ok = n == 64;
  for (size_t i = 0; ok && i < n; i++)
    ok = isdigit((unsigned char)kv->value[i]) ||
         (kv->value[i] >= 'a' && kv->value[i] <= 'f');
  if (!ok)
    return fail_at(r, kv->line, kv->key,
                   "'%s' is not a SHA-256; expected 64 lowercase hex digits "
                   "(sha256sum of the bytes as stored)",
                   kv->value);
  memcpy(out, kv->value, 65);
  return KEEL_OK;
}

/* A decimal count: digits only, no sign, fits 64 bits. */
static int read_count(const reader *r, const keel_ini_entry *kv, uint64_t *out)
{
  const char *v = kv->value;
  int ok = v[0] != 0;
  for (const char *p = v; ok && *p; p++)
    ok = isdigit((unsigned char)*p);
  errno = 0;
  unsigned long long x = ok ? strtoull(v, NULL, 10) : 0;
  if (!ok || errno == ERANGE)
    return fail_at(r, kv->line, kv->key,
                   "'%s' is not a count; expected a whole number of 0 or "
                   "more, digits only",
                   v);
  *out = x;
  return KEEL_OK;
}

static int read_column_type(const char *word, keel_col_type *out)
{
  static const struct {
    const char *name;
    keel_col_type type;
  } types[] = {{"numeric", KEEL_COL_NUMERIC},
               {"categorical", KEEL_COL_CATEGORICAL},
               {"text", KEEL_COL_TEXT},
               {"date", KEEL_COL_DATE}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(word, types[i].name) == 0) {
      *out = types[i].type;
      return 1;
    }
  return 0;
}

/* schema = NAME:TYPE[:label], ... (at most one label, names unique). */
static int read_schema(const reader *r, const keel_ini_entry *kv,
                       keel_catalog_entry *e)
{
  char *text = strdup(kv->value);
  if (!text)
    return oom(r);
  int rc = KEEL_OK, labels = 0;
  char *save = NULL;
  for (char *item = strtok_r(text, ",", &save); item && !rc;
       item = strtok_r(NULL, ",", &save)) {
    while (isspace((unsigned char)*item))
      item++;
    char *end = item + strlen(item);
    while (end > item && isspace((unsigned char)end[-1]))
      *--end = 0;
    char *type = strchr(item, ':');
    char *mark = type ? strchr(type + 1, ':') : NULL;
    if (type)
      *type++ = 0;
    if (mark)
      *mark++ = 0;
    keel_col_type t;
    if (!item[0] || !type) {
      rc = fail_at(r, kv->line, kv->key,
                   "column %zu is not NAME:TYPE; expected e.g. "
                   "'species:categorical:label, mass:numeric'",
                   e->n_columns + 1);
    } else if (!read_column_type(type, &t)) {
      rc = fail_at(r, kv->line, kv->key,
                   "column '%s' has type '%s'; expected numeric, "
                   "categorical, text or date",
                   item, type);
    } else if (mark && strcmp(mark, "label") != 0) {
      rc = fail_at(r, kv->line, kv->key,
                   "column '%s' is marked '%s'; the only mark is 'label'", item,
                   mark);
    } else if (mark && ++labels > 1) {
      rc = fail_at(r, kv->line, kv->key,
                   "column '%s' is a second label; an entry has at most one",
                   item);
    } else {
      for (size_t c = 0; c < e->n_columns && !rc; c++)
        if (strcmp(e->columns[c].name, item) == 0)
          rc = fail_at(r, kv->line, kv->key, "column '%s' appears twice", item);
      keel_catalog_column *grown =
          rc ? NULL : realloc(e->columns, (e->n_columns + 1) * sizeof *grown);
      if (!rc && !grown)
        rc = oom(r);
      if (!rc) {
        e->columns = grown;
        keel_catalog_column *col = &e->columns[e->n_columns];
        col->name = strdup(item);
        col->type = t;
        col->label = mark != NULL;
        if (!col->name)
          rc = oom(r);
        else
          e->n_columns++;
      }
    }
  }
  free(text);
  if (!rc && e->n_columns == 0)
    rc = fail_at(r, kv->line, kv->key, "no columns; expected NAME:TYPE, ...");
  return rc;
}

/* YYYY-MM-DD, a real calendar day. */
static int read_date(const reader *r, const keel_ini_entry *kv,
                     keel_catalog_entry *e)
{
  const char *v = kv->value;
  int y, m, d, used = 0;
  struct tm tm = {0};
  int ok = strlen(v) == 10 &&
           sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && used == 10 &&
           v[4] == '-' && v[7] == '-' && isdigit((unsigned char)v[0]);
  if (ok) {
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    struct tm back;
    ok = t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_year == y - 1900 &&
         back.tm_mon == m - 1 && back.tm_mday == d;
    if (ok)
      e->as_of_days = (int32_t)(t / 86400);
  }
  if (!ok)
    return fail_at(r, kv->line, kv->key,
                   "'%s' is not a date; expected YYYY-MM-DD (a real day)", v);
  e->as_of = strdup(v);
  return e->as_of ? KEEL_OK : oom(r);
}

int keel_catalog_auth_parse(const char *v, keel_auth_method *method,
                            char **ref_out, keel_error *err)
{
  *ref_out = NULL;
  const char *colon = strchr(v, ':');
  size_t head = colon ? (size_t)(colon - v) : strlen(v);
  const char *ref = colon ? colon + 1 : NULL;
  if (head == 4 && strncmp(v, "none", 4) == 0 && !ref) {
    *method = KEEL_AUTH_NONE;
    return KEEL_OK;
  }
  if (head == 5 && strncmp(v, "netrc", 5) == 0 && !ref) {
    *method = KEEL_AUTH_NETRC;
    return KEEL_OK;
  }
  if (head == 10 && strncmp(v, "bearer-env", 10) == 0 && ref) {
    if (!valid_env_name(ref))
      return keel_fail(err, KEEL_EINVAL,
                       "'%s' is not an environment variable name; expected "
                       "bearer-env:VAR with VAR as [A-Z_][A-Z0-9_]* (the "
                       "token itself never goes into the catalog)",
                       ref);
    *method = KEEL_AUTH_BEARER_ENV;
  } else if (head == 11 && strncmp(v, "header-file", 11) == 0 && ref &&
             ref[0]) {
    *method = KEEL_AUTH_HEADER_FILE;
  } else {
    return keel_fail(err, KEEL_EINVAL,
                     "'%s' is not an authentication method; expected none, "
                     "netrc, bearer-env:VAR or header-file:PATH",
                     v);
  }
  *ref_out = strdup(ref);
  return *ref_out ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

/* auth = none | netrc | bearer-env:VAR | header-file:PATH */
static int read_auth(const reader *r, const keel_ini_entry *kv,
                     keel_catalog_entry *e)
{
  keel_error aerr = {0};
  int rc = keel_catalog_auth_parse(kv->value, &e->auth, &e->auth_ref, &aerr);
  if (rc == KEEL_ENOMEM)
    return oom(r);
  return rc ? fail_at(r, kv->line, kv->key, "%s", aerr.message) : KEEL_OK;
}

/* option.KEY = VALUE: a parameter of the source plugin (not its path,
 * which the location gives). */
static int read_option(const reader *r, const keel_ini_entry *kv,
                       keel_catalog_entry *e)
{
  const char *key = kv->key + strlen("option.");
  if (!valid_name(key, 47) || strchr(key, '-'))
    return fail_at(r, kv->line, kv->key,
                   "'%s' is not a parameter name; expected option.NAME with "
                   "NAME as [a-z][a-z0-9_]*",
                   key);
  if (strcmp(key, "path") == 0)
    return fail_at(r, kv->line, kv->key,
                   "the source's path comes from `location`; remove this "
                   "line");
  keel_catalog_option *grown =
      realloc(e->options, (e->n_options + 1) * sizeof *grown);
  if (!grown)
    return oom(r);
  e->options = grown;
  keel_catalog_option *o = &e->options[e->n_options];
  o->key = strdup(key);
  o->value = strdup(kv->value);
  o->line = kv->line;
  if (!o->key || !o->value) {
    free(o->key);
    free(o->value);
    return oom(r);
  }
  e->n_options++;
  return KEEL_OK;
}

/* ---- one entry -------------------------------------------------------- */

/* The keys of an entry section; `required` ones must appear. */
static const struct {
  const char *key;
  int required;
} entry_keys[] = {
    {"location", 1},     {"plugin", 1},       {"sha256", 1},
    {"rows", 1},         {"schema", 1},       {"owner", 1},
    {"scope", 1},        {"auth", 0},         {"as_of", 1},
    {"max_age_days", 0}, {"license", 1},      {"description", 0},
    {"stats", 0},        {"intended_use", 0}, {"legal_basis", 0},
    {"stats_sha256", 0},
};
#define N_ENTRY_KEYS (sizeof entry_keys / sizeof entry_keys[0])

/* Splits "NAME@VERSION" into the entry's name and version. */
static int read_entry_name(reader *r, const keel_ini_section *sec,
                           keel_catalog_entry *e)
{
  const char *at = strchr(sec->name, '@');
  if (!at)
    return keel_fail(r->err, KEEL_EINVAL,
                     "%s:%d: [%s]: a dataset section is named NAME@VERSION "
                     "(e.g. [penguins@1.0.0]); the only other section is "
                     "[catalog]",
                     r->file, sec->line, sec->name);
  e->name = strndup(sec->name, (size_t)(at - sec->name));
  e->version = strdup(at + 1);
  e->id = strdup(sec->name);
  if (!e->name || !e->version || !e->id)
    return oom(r);
  r->id = e->id;
  if (!valid_name(e->name, NAME_MAX_BYTES))
    return fail_at(r, sec->line, NULL,
                   "'%s' is not a dataset name; expected [a-z][a-z0-9_-]*, "
                   "at most %d bytes",
                   e->name, NAME_MAX_BYTES);
  keel_error verr = {0};
  if (keel_semver_parse(e->version, &e->semver, &verr))
    return fail_at(r, sec->line, NULL, "version '%s': %s", e->version,
                   verr.message);
  e->line = sec->line;
  return KEEL_OK;
}

static int read_value(const reader *r, const keel_ini_entry *kv,
                      keel_catalog_entry *e)
{
  const char *k = kv->key, *v = kv->value;
  if (strncmp(k, "option.", 7) == 0)
    return read_option(r, kv, e);
  size_t i = 0;
  while (i < N_ENTRY_KEYS && strcmp(entry_keys[i].key, k) != 0)
    i++;
  if (i == N_ENTRY_KEYS)
    return fail_at(r, kv->line, k,
                   "unknown key; expected location, plugin, option.NAME, "
                   "sha256, rows, schema, owner, scope, auth, as_of, "
                   "max_age_days, license, description, stats, intended_use or "
                   "legal_basis");
  if (!v[0] && strcmp(k, "description") != 0)
    return fail_at(r, kv->line, k, "empty value");
  if (strcmp(k, "location") == 0) {
    e->location = strdup(v);
    return e->location ? read_location(r, kv, e) : oom(r);
  }
  if (strcmp(k, "plugin") == 0) {
    if (!valid_name(v, 47))
      return fail_at(r, kv->line, k,
                     "'%s' is not a plugin name; expected [a-z][a-z0-9_-]*", v);
    e->plugin = strdup(v);
    return e->plugin ? KEEL_OK : oom(r);
  }
  if (strcmp(k, "sha256") == 0)
    return read_sha256(r, kv, e->sha256);
  if (strcmp(k, "stats_sha256") == 0)
    return read_sha256(r, kv, e->stats_sha256);
  if (strcmp(k, "rows") == 0)
    return read_count(r, kv, &e->rows);
  if (strcmp(k, "schema") == 0)
    return read_schema(r, kv, e);
  if (strcmp(k, "scope") == 0) {
    int s = word_index(v, scope_names, KEEL_SCOPE_PII);
    if (!s)
      return fail_at(r, kv->line, k,
                     "'%s' is not an access scope; expected public, "
                     "internal, restricted or pii",
                     v);
    e->scope = (keel_data_scope)s;
    return KEEL_OK;
  }
  if (strcmp(k, "auth") == 0)
    return read_auth(r, kv, e);
  if (strcmp(k, "as_of") == 0)
    return read_date(r, kv, e);
  if (strcmp(k, "max_age_days") == 0) {
    uint64_t days = 0;
    int rc = read_count(r, kv, &days);
    if (!rc && (days == 0 || days > 36600))
      rc = fail_at(r, kv->line, k,
                   "%s days; expected 1 to 36600 (leave the key out for no "
                   "maximum)",
                   v);
    e->max_age_days = (uint32_t)days;
    return rc;
  }
  if (strcmp(k, "stats") == 0) {
    e->stats = keel_path_join(r->dir, v);
    return e->stats ? KEEL_OK : oom(r);
  }
  char **slot = strcmp(k, "owner") == 0          ? &e->owner
                : strcmp(k, "license") == 0      ? &e->license
                : strcmp(k, "intended_use") == 0 ? &e->intended_use
                : strcmp(k, "legal_basis") == 0  ? &e->legal_basis
                                                 : &e->description;
  *slot = strdup(v);
  return *slot ? KEEL_OK : oom(r);
}

static int read_entry(reader *r, const keel_ini_section *sec,
                      keel_catalog_entry *e)
{
  int rc = read_entry_name(r, sec, e);
  for (size_t i = 0; !rc && i < sec->n_entries; i++)
    rc = read_value(r, &sec->entries[i], e);
  for (size_t i = 0; !rc && i < N_ENTRY_KEYS; i++)
    if (entry_keys[i].required && !keel_ini_entry_find(sec, entry_keys[i].key))
      rc = fail_at(r, sec->line, NULL, "missing key '%s'", entry_keys[i].key);
  if (rc)
    return rc;
  if (!e->auth)
    e->auth = KEEL_AUTH_NONE;
  if (!e->description && !(e->description = strdup("")))
    return oom(r);
  if (e->stats_sha256[0] && !e->stats)
    return fail_at(r, keel_ini_entry_find(sec, "stats_sha256")->line,
                   "stats_sha256",
                   "names the hash of statistics the entry does not have; "
                   "expected a stats key beside it");
  /* Personal data is read only on a recorded consent or legal basis
   * (docs/data-access.md, "Access policy"). */
  if (e->scope == KEEL_SCOPE_PII && !e->legal_basis)
    return fail_at(r, keel_ini_entry_find(sec, "scope")->line, "scope",
                   "pii data needs a consent or legal basis; expected a key "
                   "legal_basis (e.g. legal_basis = consent, or GDPR art. "
                   "6(1)(f) legitimate interest)");
  if (e->auth != KEEL_AUTH_NONE && e->scheme != KEEL_LOCATION_HTTP &&
      e->scheme != KEEL_LOCATION_HTTPS)
    return fail_at(r, keel_ini_entry_find(sec, "auth")->line, "auth",
                   "%s applies to http(s) locations only; this entry's "
                   "location is %s:",
                   keel_auth_method_name(e->auth),
                   keel_location_scheme_name(e->scheme));
  return KEEL_OK;
}

/* ---- the catalog ------------------------------------------------------ */

static int read_header(reader *r, const keel_ini *ini)
{
  if (ini->n_sections == 0 || strcmp(ini->sections[0].name, "catalog") != 0)
    return keel_fail(r->err, KEEL_EINVAL,
                     "%s:%d: a catalog begins with a [catalog] section "
                     "holding format = " CATALOG_FORMAT,
                     r->file, ini->n_sections ? ini->sections[0].line : 1);
  const keel_ini_section *sec = &ini->sections[0];
  r->id = "catalog";
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *kv = &sec->entries[i];
    if (strcmp(kv->key, "format") != 0)
      return fail_at(r, kv->line, kv->key, "unknown key; expected format");
    if (strcmp(kv->value, CATALOG_FORMAT) != 0)
      return fail_at(
          r, kv->line, kv->key,
          "format '%s' is not one this keel reads; expected " CATALOG_FORMAT,
          kv->value);
  }
  if (!keel_ini_entry_find(sec, "format"))
    return fail_at(r, sec->line, NULL, "missing key 'format' (= %s)",
                   CATALOG_FORMAT);
  return KEEL_OK;
}

static int entry_order(const void *a, const void *b)
{
  const keel_catalog_entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : keel_semver_compare(&x->semver, &y->semver);
}

static int catalog_from_ini(const char *path, const keel_ini *ini,
                            keel_catalog **out, keel_error *err)
{
  keel_catalog *c = calloc(1, sizeof *c);
  if (!c)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  c->path = strdup(path);
  c->dir = keel_path_dirname(path);
  reader r = {.file = path, .dir = c->dir, .err = err};
  int rc = c->path && c->dir ? read_header(&r, ini) : oom(&r);
  if (!rc && ini->n_sections > 1 &&
      !(c->entries = calloc(ini->n_sections - 1, sizeof *c->entries)))
    rc = oom(&r);
  for (size_t i = 1; !rc && i < ini->n_sections; i++) {
    rc = read_entry(&r, &ini->sections[i], &c->entries[c->n_entries]);
    c->n_entries++; /* counted even on failure: freed below */
  }
  if (rc) {
    keel_catalog_free(c);
    return rc;
  }
  if (c->n_entries > 1) /* qsort takes no NULL base, even for 0 items */
    qsort(c->entries, c->n_entries, sizeof *c->entries, entry_order);
  /* Two sections may spell one version differently ("1.0.0+a", "1.0.0"). */
  for (size_t i = 1; i < c->n_entries; i++)
    if (entry_order(&c->entries[i - 1], &c->entries[i]) == 0) {
      r.id = c->entries[i].id;
      rc = fail_at(&r, c->entries[i].line, NULL,
                   "the same version as [%s] (line %d); a version is "
                   "written once",
                   c->entries[i - 1].id, c->entries[i - 1].line);
      keel_catalog_free(c);
      return rc;
    }
  *out = c;
  return KEEL_OK;
}

int keel_catalog_parse(const char *path, const char *text, size_t size,
                       keel_catalog **out, keel_error *err)
{
  *out = NULL;
  keel_ini *ini = NULL;
  int rc = keel_ini_parse_buffer(path, text, size, &ini, err);
  if (!rc)
    rc = catalog_from_ini(path, ini, out, err);
  keel_ini_free(ini);
  return rc;
}

int keel_catalog_load(const char *path, keel_catalog **out, keel_error *err)
{
  *out = NULL;
  keel_ini *ini = NULL;
  int rc = keel_ini_parse_file(path, &ini, err);
  if (!rc)
    rc = catalog_from_ini(path, ini, out, err);
  keel_ini_free(ini);
  return rc;
}

/* ---- finding an entry ------------------------------------------------- */

/* "1.0.0, 1.1.0" or "a, b" into buf. */
static void list_into(char *buf, size_t n, const keel_catalog *c,
                      const char *name)
{
  size_t used = 0;
  buf[0] = 0;
  for (size_t i = 0; i < c->n_entries && used + 1 < n; i++) {
    const keel_catalog_entry *e = &c->entries[i];
    const char *word = name ? e->version : e->name;
    if (name && strcmp(e->name, name) != 0)
      continue;
    if (!name && i > 0 && strcmp(c->entries[i - 1].name, e->name) == 0)
      continue;
    int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", word);
    if (w < 0 || (size_t)w >= n - used)
      break;
    used += (size_t)w;
  }
}

int keel_catalog_find(const keel_catalog *c, const char *ref,
                      const keel_catalog_entry **out, keel_error *err)
{
  *out = NULL;
  const char *at = strchr(ref, '@');
  size_t name_len = at ? (size_t)(at - ref) : strlen(ref);
  char name[NAME_MAX_BYTES + 1];
  if (name_len == 0 || name_len > NAME_MAX_BYTES)
    return keel_fail(err, KEEL_EINVAL,
                     "'%s' is not a dataset reference; expected NAME, "
                     "NAME@VERSION or NAME@RANGE (e.g. penguins@^1)",
                     ref);
  memcpy(name, ref, name_len);
  name[name_len] = 0;
  const char *range = at ? at + 1 : "*";
  keel_error rerr = {0};
  if (!valid_name(name, NAME_MAX_BYTES) || !range[0] ||
      keel_semver_range_check(range, &rerr))
    return keel_fail(err, KEEL_EINVAL,
                     "'%s' is not a dataset reference; expected NAME, "
                     "NAME@VERSION or NAME@RANGE (e.g. penguins@^1)%s%s",
                     ref, rerr.message[0] ? ": " : "", rerr.message);
  char seen[256];
  int any = 0;
  for (size_t i = c->n_entries; i-- > 0;) {
    const keel_catalog_entry *e = &c->entries[i];
    if (strcmp(e->name, name) != 0)
      continue;
    any = 1;
    int match = 0;
    if (keel_semver_satisfies(e->version, range, &match, err))
      return KEEL_EINVAL;
    if (match) {
      *out = e; /* entries are sorted: the first match is the newest */
      return KEEL_OK;
    }
  }
  list_into(seen, sizeof seen, c, any ? name : NULL);
  if (!any) {
    const char **names = malloc((c->n_entries + 1) * sizeof *names);
    const char *near = NULL;
    if (names) {
      for (size_t i = 0; i < c->n_entries; i++)
        names[i] = c->entries[i].name;
      near = keel_did_you_mean(name, names, c->n_entries);
    }
    int rc =
        keel_fail(err, KEEL_ENOTFOUND,
                  "no dataset '%s' in the catalog %s%s%s%s (it has: %s)", name,
                  c->path, near ? "; did you mean '" : "", near ? near : "",
                  near ? "'?" : "", seen[0] ? seen : "no entries");
    free(names);
    return rc;
  }
  return keel_fail(err, KEEL_ENOTFOUND,
                   "no version of '%s' in the catalog %s satisfies '%s' "
                   "(versions: %s)",
                   name, c->path, range, seen);
}
