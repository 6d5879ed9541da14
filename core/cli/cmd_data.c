/* keel data list | show REF | verify [REF] [--catalog FILE] [--json]
 *
 * Reads the data catalog (config/catalog.h; which file: the `catalog`
 * setting, docs/configuration.md) and lists its entries, shows one, or
 * re-hashes the stored bytes of file: and sqlite: entries against the
 * SHA-256 the catalog records. Exit codes: 0; 1 a file cannot be read or
 * an entry cannot be checked here; 2 a catalog or reference that does not
 * parse, or no such entry; 3 bytes that differ from the catalog. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/catalog.h"
#include "config/load.h"
#include "config/settings.h"
#include "data/access.h"
#include "data/audit_log.h"
#include "data/data_cache.h"
#include "data/fetch_http.h"
#include "plugin/table.h"
#include "run/data_add.h"

typedef struct data_args {
  int json;
  const char *catalog;
  const char *ca_bundle;
  int attempts;
  int stall_seconds;
  const char *cache;
  const char *max_size;
  /* add */
  const char *name, *version, *plugin, *label, *owner, *scope, *license, *as_of,
      *description, *auth;
  int max_age_days;
  keel_cli_list options;
  keel_cli_list plugin_paths;
} data_args;

static const keel_cli_option data_options[] = {
    {"catalog", 0, KEEL_CLI_PATH, "FILE",
     "read this catalog instead of the `catalog` setting's",
     offsetof(data_args, catalog), 0, 0},
    {"json", 0, KEEL_CLI_FLAG, NULL, "print JSON instead of text",
     offsetof(data_args, json), 0, 0},
    {"ca-bundle", 0, KEEL_CLI_PATH, "FILE",
     "verify, fetch: trust these CAs for https (the `ca_bundle` setting)",
     offsetof(data_args, ca_bundle), 0, 0},
    {"attempts", 0, KEEL_CLI_INT, "N",
     "verify, fetch: requests per http(s) entry before giving up "
     "(default 5)",
     offsetof(data_args, attempts), 1, 100},
    {"stall-seconds", 0, KEEL_CLI_INT, "S",
     "verify, fetch: a transfer that receives nothing this long is a stall, "
     "retried (default 30)",
     offsetof(data_args, stall_seconds), 1, 3600},
    {"cache", 0, KEEL_CLI_PATH, "DIR",
     "fetch, gc: the data cache folder (the `data_cache` setting)",
     offsetof(data_args, cache), 0, 0},
    {"max-size", 0, KEEL_CLI_STRING, "SIZE",
     "gc: keep at most SIZE bytes (suffix K, M, G: powers of 1024)",
     offsetof(data_args, max_size), 0, 0},
    {"name", 0, KEEL_CLI_STRING, "NAME", "add: the dataset's name (required)",
     offsetof(data_args, name), 0, 0},
    {"version", 0, KEEL_CLI_STRING, "V",
     "add: the new version (default: one minor above the newest, or 1.0.0)",
     offsetof(data_args, version), 0, 0},
    {"plugin", 0, KEEL_CLI_STRING, "P",
     "add: the source plugin (default: by extension: csv, libsvm)",
     offsetof(data_args, plugin), 0, 0},
    {"option", 0, KEEL_CLI_LIST, "KEY=VALUE",
     "add: a parameter of the source plugin", offsetof(data_args, options), 0,
     0},
    {"label", 0, KEEL_CLI_STRING, "COLUMN", "add: the label column",
     offsetof(data_args, label), 0, 0},
    {"owner", 0, KEEL_CLI_STRING, "WHO",
     "add: who answers for the data "
     "(required)",
     offsetof(data_args, owner), 0, 0},
    {"scope", 0, KEEL_CLI_STRING, "SCOPE",
     "add: public, internal, restricted or pii (required)",
     offsetof(data_args, scope), 0, 0},
    {"license", 0, KEEL_CLI_STRING, "ID", "add: the data's licence (required)",
     offsetof(data_args, license), 0, 0},
    {"as-of", 0, KEEL_CLI_STRING, "YYYY-MM-DD",
     "add: the day the data was taken (default: today, UTC)",
     offsetof(data_args, as_of), 0, 0},
    {"max-age-days", 0, KEEL_CLI_INT, "N",
     "add: days after as-of the data counts as fresh",
     offsetof(data_args, max_age_days), 1, 36600},
    {"description", 0, KEEL_CLI_STRING, "TEXT", "add: what the data is",
     offsetof(data_args, description), 0, 0},
    {"auth", 0, KEEL_CLI_STRING, "METHOD",
     "add: none, netrc, bearer-env:VAR or header-file:PATH (http(s))",
     offsetof(data_args, auth), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "add: search these plugin folders first (the `plugin_path` setting)",
     offsetof(data_args, plugin_paths), 0, 0},
};

const keel_cli_command keel_cli_data = {
    .name = "data",
    .main = keel_cmd_data,
    .summary = "the data catalog: list its entries, show one (NAME, "
               "NAME@VERSION, NAME@RANGE), verify the stored bytes against "
               "their SHA-256, fetch http(s) entries into the cache, gc "
               "the cache, add a new version read from a file or URL",
    .operands = "list|show|verify|fetch|gc|add [NAME[@RANGE]|SOURCE]",
    .min_operands = 1,
    .max_operands = 2,
    .missing = "no subcommand given (expected: list, show, verify, fetch, "
               "gc or add)",
    .too_many = "one subcommand and at most one dataset at a time",
    .options = data_options,
    .n_options = KEEL_CLI_COUNT(data_options),
};

/* A location as keel prints it: without the query and fragment, which
 * may carry tokens (user information is refused by the catalog). */
static const char *printable_location(const keel_catalog_entry *e, char *buf,
                                      size_t n)
{
  return keel_url_printable(e->location, buf, n);
}

static json_t *entry_json(const keel_catalog_entry *e)
{
  char loc[1024];
  json_t *o = json_object(), *cols = json_array(), *opts = json_object();
  json_object_set_new(o, "id", json_string(e->id));
  json_object_set_new(o, "name", json_string(e->name));
  json_object_set_new(o, "version", json_string(e->version));
  json_object_set_new(o, "line", json_integer(e->line));
  json_object_set_new(o, "location",
                      json_string(printable_location(e, loc, sizeof loc)));
  json_object_set_new(o, "scheme",
                      json_string(keel_location_scheme_name(e->scheme)));
  json_object_set_new(o, "plugin", json_string(e->plugin));
  for (size_t i = 0; i < e->n_options; i++)
    json_object_set_new(opts, e->options[i].key,
                        json_string(e->options[i].value));
  json_object_set_new(o, "options", opts);
  json_object_set_new(o, "sha256", json_string(e->sha256));
  json_object_set_new(o, "rows", json_integer((json_int_t)e->rows));
  for (size_t i = 0; i < e->n_columns; i++) {
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(e->columns[i].name));
    json_object_set_new(c, "type",
                        json_string(keel_col_type_name(e->columns[i].type)));
    json_object_set_new(c, "label", json_boolean(e->columns[i].label));
    json_array_append_new(cols, c);
  }
  json_object_set_new(o, "schema", cols);
  json_object_set_new(o, "owner", json_string(e->owner));
  json_object_set_new(o, "scope", json_string(keel_data_scope_name(e->scope)));
  json_object_set_new(o, "auth", json_string(keel_auth_method_name(e->auth)));
  json_object_set_new(o, "as_of", json_string(e->as_of));
  json_object_set_new(o, "max_age_days",
                      e->max_age_days ? json_integer(e->max_age_days)
                                      : json_null());
  json_object_set_new(o, "license", json_string(e->license));
  json_object_set_new(o, "description", json_string(e->description));
  return o;
}

static int print_json(json_t *root)
{
  FILE *out = keel_cli_machine_stdout();
  int rc = json_dumpf(root, out, JSON_INDENT(2));
  fputc('\n', out);
  json_decref(root);
  return rc ? KEEL_EXIT_RUNTIME : KEEL_EXIT_OK;
}

static int data_list(const keel_catalog *c, int json)
{
  char loc[1024];
  if (json) {
    json_t *root = json_object(), *list = json_array();
    json_object_set_new(root, "catalog", json_string(c->path));
    for (size_t i = 0; i < c->n_entries; i++)
      json_array_append_new(list, entry_json(&c->entries[i]));
    json_object_set_new(root, "entries", list);
    return print_json(root);
  }
  printf("catalog %s: %zu entr%s\n", c->path, c->n_entries,
         c->n_entries == 1 ? "y" : "ies");
  for (size_t i = 0; i < c->n_entries; i++) {
    const keel_catalog_entry *e = &c->entries[i];
    printf("%-24s %-10s %8llu rows  %-8s %s\n", e->id,
           keel_data_scope_name(e->scope), (unsigned long long)e->rows,
           e->plugin, printable_location(e, loc, sizeof loc));
  }
  return KEEL_EXIT_OK;
}

static int data_show(const keel_catalog *c, const keel_catalog_entry *e,
                     int json)
{
  char loc[1024];
  if (json)
    return print_json(entry_json(e));
  printf("%s  (%s:%d)\n", e->id, c->path, e->line);
  printf("  location     %s\n", printable_location(e, loc, sizeof loc));
  if (e->path && strcmp(e->path, e->location) != 0)
    printf("  file         %s\n", e->path);
  printf("  plugin       %s\n", e->plugin);
  for (size_t i = 0; i < e->n_options; i++)
    printf("  option       %s = %s\n", e->options[i].key, e->options[i].value);
  printf("  sha256       %s\n", e->sha256);
  printf("  rows         %llu\n", (unsigned long long)e->rows);
  printf("  schema       ");
  for (size_t i = 0; i < e->n_columns; i++)
    printf("%s%s:%s%s", i ? ", " : "", e->columns[i].name,
           keel_col_type_name(e->columns[i].type),
           e->columns[i].label ? " (label)" : "");
  printf("\n  owner        %s\n", e->owner);
  printf("  scope        %s\n", keel_data_scope_name(e->scope));
  printf("  auth         %s%s%s\n", keel_auth_method_name(e->auth),
         e->auth_ref ? ":" : "", e->auth_ref ? e->auth_ref : "");
  printf("  as of        %s", e->as_of);
  if (e->max_age_days)
    printf(" (at most %u days old)", e->max_age_days);
  printf("\n  license      %s\n", e->license);
  if (e->description[0])
    printf("  description  %s\n", e->description);
  return KEEL_EXIT_OK;
}

/* The fetched body, hashed as it arrives. */
typedef struct hashing_sink {
  keel_sha256 *h;
} hashing_sink;

static int sink_write(void *ctx, const void *data, size_t n, keel_error *err)
{
  (void)err;
  keel_sha256_update(((hashing_sink *)ctx)->h, data, n);
  return KEEL_OK;
}

static int sink_restart(void *ctx, keel_error *err)
{
  hashing_sink *s = ctx;
  unsigned char dropped[32];
  keel_sha256_final(s->h, dropped); /* frees it */
  s->h = keel_sha256_new();
  return s->h ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

/* The value of a setting, or the flag's when given (malloc'd into *out).
 * Returns an exit code, having said what went wrong. */
static int flag_or_setting(const char *flag, keel_setting_id id, char **out)
{
  keel_error err = {0};
  *out = NULL;
  if (flag) {
    *out = strdup(flag);
    return *out ? KEEL_EXIT_OK : KEEL_EXIT_RUNTIME;
  }
  if (keel_setting_value(id, out, &err)) {
    keel_cli_error("data", "%s", err.message);
    return KEEL_EXIT_CONFIG;
  }
  return KEEL_EXIT_OK;
}

/* How entry e is fetched: the command's limits, the CA bundle ("": the
 * system's), the entry's credentials (data/access.h, one rule for all). */
static keel_fetch_options fetch_options(const data_args *a, const char *ca,
                                        const keel_catalog_entry *e)
{
  return keel_data_fetch_options(e, ca, a->attempts, a->stall_seconds);
}

/* SHA-256 of an http(s) entry's bytes, fetched. */
static int hash_remote(const data_args *a, const char *ca_bundle,
                       const keel_catalog_entry *e, char hex[65],
                       keel_error *err)
{
  hashing_sink s = {keel_sha256_new()};
  if (!s.h)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_fetch_sink sink = {&s, sink_write, sink_restart};
  keel_fetch_options opt = fetch_options(a, ca_bundle, e);
  int rc = keel_fetch_url(e->location, &opt, &sink, NULL, err);
  char got[65];
  if (s.h)
    keel_sha256_final_hex(s.h, got); /* frees it */
  if (!rc)
    memcpy(hex, got, 65);
  return rc;
}

/* One line of the central audit log about entry e (data-access.md,
 * "Audit trail"): what `keel data verify` and `fetch` read is accounted
 * for like a run's reads. A failure to append is the command's failure
 * (exit 1, said on stderr). */
static int audit_entry(const keel_catalog_entry *e, const char *action,
                       const char *detail)
{
  char loc[1024];
  keel_audit_event ev =
      keel_data_entry_event(e, action, detail, loc, sizeof loc);
  keel_error err = {0};
  if (keel_audit_append(NULL, NULL, &ev, NULL, NULL, &err) == KEEL_OK)
    return KEEL_EXIT_OK;
  keel_cli_error("data", "%s: not recorded in the audit log: %s", e->id,
                 err.message);
  return KEEL_EXIT_RUNTIME;
}

/* Re-hashes one entry's stored bytes. Returns an exit code and prints
 * one line: "OK ID", "FAILED ID: ..." or "NOT CHECKED ID: ...". */
static int verify_entry(const data_args *a, const char *ca_bundle,
                        const keel_catalog_entry *e, json_t *results)
{
  char hex[65] = "", loc[1024];
  const char *status = "ok", *what = e->path;
  char reason[2048] = "";
  int code = KEEL_EXIT_OK;
  keel_error err = {0};
  uint64_t bytes = 0;
  int rc = e->path ? keel_sha256_file(e->path, hex, &bytes, &err)
                   : hash_remote(a, ca_bundle, e, hex, &err);
  if (!e->path)
    what = printable_location(e, loc, sizeof loc);
  if (rc == KEEL_EINVAL) {
    status = "not-checked";
    snprintf(reason, sizeof reason, "%s", err.message);
    code = KEEL_EXIT_CONFIG;
  } else if (rc != KEEL_OK) {
    status = "unreadable";
    snprintf(reason, sizeof reason, "%s", err.message);
    code = KEEL_EXIT_RUNTIME;
  } else if (strcmp(hex, e->sha256) != 0) {
    status = "mismatch";
    snprintf(reason, sizeof reason,
             "%s has SHA-256 %s; the catalog records %s (the bytes "
             "changed after they were catalogued)",
             what, hex, e->sha256);
    code = KEEL_EXIT_INTEGRITY;
  }
  const char *why = reason[0] ? reason : NULL;
  int logged = audit_entry(e,
                           code == KEEL_EXIT_OK          ? "hash-verified"
                           : code == KEEL_EXIT_INTEGRITY ? "hash-mismatch"
                                                         : "access-failed",
                           why ? why : "keel data verify");
  if (results) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "sha256",
                        hex[0] && !rc ? json_string(hex) : json_null());
    json_object_set_new(o, "expected", json_string(e->sha256));
    json_object_set_new(o, "reason", why ? json_string(why) : json_null());
    json_array_append_new(results, o);
  } else if (code == KEEL_EXIT_OK) {
    printf("OK %s\n", e->id);
  } else {
    printf("%s %s: %s\n",
           code == KEEL_EXIT_INTEGRITY ? "FAILED" : "NOT CHECKED", e->id, why);
  }
  return code ? code : logged;
}

/* The worst of two exit codes: integrity over configuration over
 * runtime over ok. */
static int worse(int a, int b)
{
  static const int rank[] = {[KEEL_EXIT_OK] = 0,
                             [KEEL_EXIT_RUNTIME] = 1,
                             [KEEL_EXIT_CONFIG] = 2,
                             [KEEL_EXIT_INTEGRITY] = 3};
  return rank[a] >= rank[b] ? a : b;
}

static int data_verify(const data_args *a, const keel_catalog *c,
                       const keel_catalog_entry *only)
{
  int json = a->json;
  char *ca = NULL;
  int ca_code = flag_or_setting(a->ca_bundle, KEEL_SETTING_CA_BUNDLE, &ca);
  if (ca_code)
    return ca_code;
  json_t *results = json ? json_array() : NULL;
  int code = KEEL_EXIT_OK;
  for (size_t i = 0; i < c->n_entries; i++)
    if (!only || only == &c->entries[i])
      code = worse(code, verify_entry(a, ca, &c->entries[i], results));
  free(ca);
  if (json) {
    json_t *root = json_object();
    json_object_set_new(root, "catalog", json_string(c->path));
    json_object_set_new(root, "entries", results);
    int rc = print_json(root);
    return code ? code : rc;
  }
  return code;
}

/* ---- fetch and gc ------------------------------------------------------ */

static int data_fetch(const data_args *a, const keel_catalog *c,
                      const keel_catalog_entry *only)
{
  char *root = NULL, *ca = NULL;
  keel_error err = {0};
  int code = flag_or_setting(a->cache, KEEL_SETTING_DATA_CACHE, &root);
  if (!code)
    code = flag_or_setting(a->ca_bundle, KEEL_SETTING_CA_BUNDLE, &ca);
  int failed = KEEL_EXIT_OK;
  for (size_t i = 0; !code && i < c->n_entries; i++) {
    const keel_catalog_entry *e = &c->entries[i];
    if ((only && only != e) || e->path)
      continue; /* file: and sqlite: entries are read where they are */
    keel_data_fill f = {e, fetch_options(a, ca, e)};
    char *path = NULL, loc[1024];
    keel_cache_outcome what;
    int rc = keel_cache_get(root, e->sha256, keel_data_fill_from_location, &f,
                            &path, &what, &err);
    int logged = audit_entry(e,
                             rc                            ? "access-failed"
                             : what == KEEL_CACHE_HIT      ? "cache-hit"
                             : what == KEEL_CACHE_REFILLED ? "cache-refill"
                                                           : "fetched",
                             rc ? err.message : "keel data fetch");
    failed = worse(failed, logged);
    if (rc) {
      printf("NOT CACHED %s: %s\n", e->id, err.message);
      /* one failure does not stop the others */
      failed = worse(failed, rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY
                             : rc == KEEL_EINVAL   ? KEEL_EXIT_CONFIG
                                                   : KEEL_EXIT_RUNTIME);
      continue;
    }
    printf("%s %s  %s  (%s)\n",
           what == KEEL_CACHE_HIT        ? "CACHED"
           : what == KEEL_CACHE_REFILLED ? "REFETCHED"
                                         : "FETCHED",
           e->id, path, printable_location(e, loc, sizeof loc));
    free(path);
  }
  free(ca);
  free(root);
  return code ? code : failed;
}

/* "123", "10K", "5M", "2G" (powers of 1024) into *out. */
static int parse_size(const char *text, uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (!text[0] || text[0] == '-' || end == text || errno == ERANGE)
    return -1;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k')
    shift = 10;
  else if (*end == 'M' || *end == 'm')
    shift = 20;
  else if (*end == 'G' || *end == 'g')
    shift = 30;
  if (shift)
    end++;
  if (*end || (shift && v > (UINT64_MAX >> shift)))
    return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

static int data_gc(const data_args *a)
{
  uint64_t max = 0;
  if (!a->max_size || parse_size(a->max_size, &max) != 0) {
    keel_cli_error("data",
                   "gc needs --max-size SIZE: bytes, or with a suffix K, M "
                   "or G (powers of 1024), e.g. --max-size 500M%s%s%s",
                   a->max_size ? "; not '" : "", a->max_size ? a->max_size : "",
                   a->max_size ? "'" : "");
    return KEEL_EXIT_CONFIG;
  }
  char *root = NULL;
  int code = flag_or_setting(a->cache, KEEL_SETTING_DATA_CACHE, &root);
  if (code)
    return code;
  keel_cache_usage before, after;
  keel_error err = {0};
  if (keel_cache_gc(root, max, &before, &after, &err)) {
    keel_cli_error("data", "%s", err.message);
    free(root);
    return KEEL_EXIT_RUNTIME;
  }
  printf("cache %s: %zu entries, %llu bytes -> %zu entries, %llu bytes "
         "(at most %llu)\n",
         root, before.entries, (unsigned long long)before.bytes, after.entries,
         (unsigned long long)after.bytes, (unsigned long long)max);
  free(root);
  return KEEL_EXIT_OK;
}

/* keel data add SOURCE: a new catalog version. */
static int data_add(const data_args *a, const char *source)
{
  static const char *const required[] = {"name", "owner", "scope", "license"};
  const char *given[] = {a->name, a->owner, a->scope, a->license};
  for (size_t i = 0; i < 4; i++)
    if (!given[i]) {
      keel_cli_error("data",
                     "add needs --%s (and --name, --owner, --scope, "
                     "--license)",
                     required[i]);
      return KEEL_EXIT_CONFIG;
    }
  char *catalog = NULL, *root = NULL, *ca = NULL;
  keel_error err = {0};
  int code = flag_or_setting(a->catalog, KEEL_SETTING_CATALOG, &catalog);
  if (!code)
    code = flag_or_setting(a->cache, KEEL_SETTING_DATA_CACHE, &root);
  if (!code)
    code = flag_or_setting(a->ca_bundle, KEEL_SETTING_CA_BUNDLE, &ca);
  if (code) {
    free(catalog);
    free(root);
    free(ca);
    return code;
  }
  keel_data_add_request req = {
      .catalog_path = catalog,
      .source = source,
      .name = a->name,
      .version = a->version,
      .plugin = a->plugin,
      .options = (const char *const *)a->options.items,
      .n_options = a->options.n,
      .label = a->label,
      .owner = a->owner,
      .scope = a->scope,
      .license = a->license,
      .as_of = a->as_of,
      .description = a->description,
      .auth = a->auth,
      .max_age_days = (uint32_t)a->max_age_days,
      .cache_root = root,
      .fetch = {.max_attempts = a->attempts,
                .stall_seconds = a->stall_seconds,
                .ca_bundle = ca && ca[0] ? ca : NULL},
      .plugin_paths = (const char *const *)a->plugin_paths.items,
      .n_plugin_paths = a->plugin_paths.n,
  };
  keel_data_add_result res;
  int rc = keel_data_add(&req, &res, &err);
  if (rc) {
    keel_cli_error("data", "%s", err.message);
    code = rc == KEEL_EINVAL || rc == KEEL_ERANGE || rc == KEEL_ESCHEMA
               ? KEEL_EXIT_CONFIG
               : KEEL_EXIT_RUNTIME;
  } else {
    printf("ADDED %s to %s: %llu rows, %zu columns, sha256 %s, statistics "
           "%s\n",
           res.id, catalog, (unsigned long long)res.rows, res.n_columns,
           res.sha256, res.stats_path);
    free(res.stats_path);
  }
  free(catalog);
  free(root);
  free(ca);
  return code;
}

/* The catalog file: --catalog, else the `catalog` setting. */
static int open_catalog(const data_args *a, keel_catalog **out)
{
  keel_error err = {0};
  char *path = NULL;
  int rc = KEEL_OK, code;
  if (a->catalog)
    path = strdup(a->catalog);
  else
    rc = keel_setting_value(KEEL_SETTING_CATALOG, &path, &err);
  if (!rc && !path)
    rc = keel_fail(&err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = keel_catalog_load(path, out, &err);
  if (rc == KEEL_EIO || rc == KEEL_ENOTFOUND) {
    /* No catalog is a configuration problem: say how to name one. */
    keel_cli_error("data",
                   "%s; name the catalog with --catalog FILE, KEEL_CATALOG "
                   "or [data] catalog in config.ini (`keel config show` "
                   "prints where it is looked for; docs/data-access.md)",
                   err.message);
    code = KEEL_EXIT_CONFIG;
  } else if (rc) {
    keel_cli_error("data", "%s", err.message);
    code = keel_config_exit_code(rc);
  } else {
    code = KEEL_EXIT_OK;
  }
  free(path);
  return code;
}

static int data_main(const data_args *a, const keel_cli_operands *ops)
{
  const char *sub = ops->args.items[0];
  const char *ref = ops->args.n > 1 ? ops->args.items[1] : NULL;
  static const char *const subs[] = {"list",  "show", "verify",
                                     "fetch", "gc",   "add"};
  size_t which = 0;
  while (which < 6 && strcmp(sub, subs[which]) != 0)
    which++;
  if (which == 6) {
    keel_cli_error("data",
                   "unknown subcommand '%s'; expected list, show, verify, "
                   "fetch, gc or add",
                   sub);
    return KEEL_EXIT_CONFIG;
  }
  if (which == 5) {
    if (!ref) {
      keel_cli_error("data", "add needs the file or URL to read: keel data "
                             "add SOURCE --name NAME ...");
      return KEEL_EXIT_CONFIG;
    }
    return data_add(a, ref);
  }
  int is_list = which == 0, is_show = which == 1, is_verify = which == 2,
      is_fetch = which == 3, is_gc = which == 4;
  if (((is_list || is_gc) && ref) || (is_show && !ref)) {
    keel_cli_error("data", "%s",
                   is_show ? "show needs a dataset: NAME[@RANGE]"
                           : "list and gc take no dataset");
    return KEEL_EXIT_CONFIG;
  }
  if (is_gc)
    return data_gc(a);
  keel_catalog *c = NULL;
  int code = open_catalog(a, &c);
  if (code)
    return code;
  const keel_catalog_entry *e = NULL;
  keel_error err = {0};
  if (ref && keel_catalog_find(c, ref, &e, &err) != KEEL_OK) {
    keel_cli_error("data", "%s", err.message);
    code = KEEL_EXIT_CONFIG;
  } else if (is_list) {
    code = data_list(c, a->json);
  } else if (is_show) {
    code = data_show(c, e, a->json);
  } else if (is_fetch) {
    code = data_fetch(a, c, e);
  } else if (is_verify) {
    code = data_verify(a, c, e);
  }
  keel_catalog_free(c);
  return code;
}

int keel_cmd_data(int argc, char **argv)
{
  data_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_data, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = data_main(&a, &ops);
  keel_cli_free(&keel_cli_data, &a, &ops);
  return code;
}
