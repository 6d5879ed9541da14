/* The access shim (see access.h). */
#include "data/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/log.h"
#include "base/path.h"
#include "base/status.h"
#include "base/url.h"
#include "config/settings.h"

struct keel_data_access {
  const keel_dataset *ds;
  char *cache_root;
  char *ca_bundle;
  int max_attempts;
  long stall_seconds;
  char *path;            /* the local file routed */
  char *cache_entry;     /* when path is a cache entry */
  int lock_fd;           /* shared lock on the cache entry, or -1 */
  int verified;          /* the bytes at path were hashed when fetched */
  int recovered;         /* recover ran once */
  const char *read_from; /* "location", "cache", "fetched" */
  char *what;            /* the route's description */
  keel_policy_decision decision;
  keel_audit_trail *audit;
};

keel_fetch_options keel_data_fetch_options(const keel_catalog_entry *e,
                                           const char *ca_bundle,
                                           int max_attempts, long stall_seconds)
{
  keel_fetch_options opt = {
      .max_attempts = max_attempts,
      .stall_seconds = stall_seconds,
      .ca_bundle = ca_bundle && ca_bundle[0] ? ca_bundle : NULL,
      .auth = e->auth,
      .auth_ref = e->auth_ref,
  };
  return opt;
}

int keel_data_fill_from_location(void *ctx, const keel_fetch_sink *sink,
                                 keel_error *err)
{
  const keel_data_fill *f = ctx;
  return keel_fetch_url(f->entry->location, &f->fetch, sink, NULL, err);
}

static int is_remote(const keel_catalog_entry *e)
{
  return e->scheme == KEEL_LOCATION_HTTP || e->scheme == KEEL_LOCATION_HTTPS;
}

static const char *shown_location(const keel_catalog_entry *e, char *buf,
                                  size_t n)
{
  return is_remote(e) ? keel_url_printable(e->location, buf, n) : e->location;
}

/* A setting's value unless the caller gave one. */
static int setting_or(const char *given, keel_setting_id id, char **out,
                      keel_error *err)
{
  if (given) {
    *out = strdup(given);
    return *out ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  return keel_setting_value(id, out, err);
}

keel_audit_event keel_data_entry_event(const keel_catalog_entry *e,
                                       const char *action, const char *detail,
                                       char *loc, size_t n)
{
  keel_audit_event ev = {.action = action,
                         .dataset = e->id,
                         .sha256 = e->sha256,
                         .scope = keel_data_scope_name(e->scope),
                         .location = shown_location(e, loc, n),
                         .detail = detail};
  return ev;
}

/* One audit line about the entry's bytes; a failure to record it fails
 * the access (an unaccounted read is what the trail exists to prevent). */
static int audit(keel_data_access *a, const char *action, const char *detail,
                 keel_error *err)
{
  char loc[2048];
  keel_audit_event ev =
      keel_data_entry_event(a->ds->entry, action, detail, loc, sizeof loc);
  return keel_audit_trail_append(a->audit, &ev, err);
}

int keel_data_access_audit_decision(keel_audit_trail *t, const keel_dataset *ds,
                                    const keel_policy_decision *d,
                                    const char *why, keel_error *err)
{
  char loc[2048], rule[4096];
  if (d->policy_path)
    snprintf(rule, sizeof rule, "%s:%d", d->policy_path, d->line);
  else
    snprintf(rule, sizeof rule, "built-in");
  keel_audit_event ev = keel_data_entry_event(
      ds->entry, "policy", why ? why : d->reason, loc, sizeof loc);
  ev.decision = d->allowed ? "allowed" : "denied";
  ev.policy = rule;
  return keel_audit_trail_append(t, &ev, err);
}

/* "read", "cache-hit", "fetched": where the access found the bytes. */
static const char *read_action(const keel_data_access *a)
{
  if (!a->read_from || strcmp(a->read_from, "location") == 0)
    return "read";
  return strcmp(a->read_from, "cache") == 0 ? "cache-hit" : "fetched";
}

/* Prefixes err's message with what the access was for. */
static int fail_for(keel_data_access *a, int rc, keel_error *err)
{
  keel_error inner = *err;
  return keel_fail(err, rc, "%s: %s", a->what, inner.message);
}

/* The cache entry of the dataset's hash, filled from the location when
 * missing (remote entries) or only looked up (files: fill refuses). */
static int no_fill(void *ctx, const keel_fetch_sink *sink, keel_error *err)
{
  (void)sink;
  (void)ctx;
  return keel_fail(err, KEEL_ENOTFOUND, "not in the cache");
}

static int open_cached(keel_data_access *a, int may_fetch, keel_error *err)
{
  const keel_catalog_entry *e = a->ds->entry;
  keel_data_fill f = {e,
                      keel_data_fetch_options(e, a->ca_bundle, a->max_attempts,
                                              a->stall_seconds)};
  int rc = keel_cache_open(a->cache_root, e->sha256,
                           may_fetch ? keel_data_fill_from_location : no_fill,
                           &f, &a->cache_entry, &a->lock_fd, &a->verified, err);
  if (rc)
    return rc;
  a->read_from = a->verified ? "fetched" : "cache";
  a->path = strdup(a->cache_entry);
  return a->path ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

/* A file: or sqlite: entry: the file where it is, or, when it is gone,
 * a cache entry holding its hash. */
static int open_local(keel_data_access *a, keel_error *err)
{
  const keel_catalog_entry *e = a->ds->entry;
  struct stat st;
  if (stat(e->path, &st) == 0) {
    a->read_from = "location";
    a->path = strdup(e->path);
    return a->path ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  int gone = errno;
  keel_error cerr = {0};
  /* only an entry that exists is opened: a lookup makes no folders */
  if (keel_cache_has(a->cache_root, e->sha256) &&
      open_cached(a, 0, &cerr) == KEEL_OK) {
    keel_log_emit(KEEL_LOG_INFO, "%s: %s is gone; reading the cache entry %s",
                  e->id, e->path, a->path);
    return KEEL_OK;
  }
  return keel_fail(err, gone == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                   "%s cannot be read: %s, and the data cache (%s) has no "
                   "entry with SHA-256 %s",
                   e->path, strerror(gone), a->cache_root, e->sha256);
}

int keel_data_access_decide(const keel_dataset *ds,
                            const keel_data_access_options *o,
                            keel_policy_decision *d, keel_error *err)
{
  memset(d, 0, sizeof *d);
  char *path = NULL;
  int explicit_path = o && o->policy;
  int rc;
  if (explicit_path) {
    path = strdup(o->policy);
    rc = path ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else {
    keel_settings s;
    rc = keel_settings_load(&s, err);
    const keel_setting *it = &s.items[KEEL_SETTING_POLICY];
    if (!rc) {
      explicit_path = it->source != KEEL_SETTING_FROM_DEFAULT;
      path = strdup(it->value);
      if (!path)
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
    keel_settings_free(&s);
  }
  if (rc)
    return rc;
  const keel_catalog_entry *e = ds->entry;
  keel_policy_request q = {.dataset_id = e->id,
                           .dataset_name = e->name,
                           .scope = e->scope,
                           .purpose = o ? o->purpose : NULL,
                           .legal_basis = e->legal_basis,
                           .include_data = o ? o->include_data : 0};
  rc = keel_policy_decide(path, explicit_path, &q, d, err);
  free(path);
  return rc;
}

/* Copies what the record needs of decision src into dst. */
static int keep_decision(keel_policy_decision *dst,
                         const keel_policy_decision *src)
{
  *dst = *src;
  char **fields[] = {&dst->policy_path, &dst->searched,    &dst->version,
                     &dst->user,        &dst->groups,      &dst->dataset,
                     &dst->purpose,     &dst->legal_basis, &dst->reason};
  int ok = 1;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (*fields[i] && !(*fields[i] = strdup(*fields[i])))
      ok = 0;
  return ok ? KEEL_OK : KEEL_ENOMEM;
}

int keel_data_access_open(const keel_dataset *ds,
                          const keel_data_access_options *o,
                          keel_host_context *ctx, keel_data_access **out,
                          keel_error *err)
{
  *out = NULL;
  const keel_catalog_entry *e = ds->entry;
  keel_data_access *a = calloc(1, sizeof *a);
  if (!a)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  a->ds = ds;
  a->lock_fd = -1;
  a->max_attempts = o ? o->max_attempts : 0;
  a->stall_seconds = o ? o->stall_seconds : 0;
  /* No byte is read before the policy allows it. */
  int prc = o && o->decision
                ? keep_decision(&a->decision, o->decision)
                : keel_data_access_decide(ds, o, &a->decision, err);
  if (prc == KEEL_ENOMEM)
    prc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  else if (!prc && !a->decision.allowed)
    prc = keel_fail(err, KEEL_EINVAL, "access denied: %s",
                    a->decision.reason ? a->decision.reason : "by policy");
  a->audit = o ? o->audit : NULL;
  if (!(o && o->decision) && prc != KEEL_ENOMEM) { /* decided here */
    keel_error aerr = {0}, inner = *err;
    if (keel_data_access_audit_decision(a->audit, ds, &a->decision,
                                        prc ? inner.message : NULL, &aerr))
      prc = prc ? keel_fail(err, prc, "%s (and the audit log: %s)",
                            inner.message, aerr.message)
                : keel_fail(err, aerr.code, "%s", aerr.message);
  }
  if (prc) {
    keel_data_access_close(a);
    return prc;
  }
  char loc[2048];
  keel_buf what = KEEL_BUF_INIT;
  keel_buf_printf(&what, "dataset %s (catalog %s:%d, %s)", e->id,
                  ds->catalog_path, e->line,
                  shown_location(e, loc, sizeof loc));
  a->what = what.failed ? NULL : keel_buf_take(&what);
  keel_buf_free(&what);
  int rc = a->what ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = setting_or(o ? o->cache_root : NULL, KEEL_SETTING_DATA_CACHE,
                    &a->cache_root, err);
  if (!rc && is_remote(e))
    rc = setting_or(o ? o->ca_bundle : NULL, KEEL_SETTING_CA_BUNDLE,
                    &a->ca_bundle, err);
  if (!rc)
    rc = is_remote(e) ? open_cached(a, 1, err) : open_local(a, err);
  if (rc) {
    rc = fail_for(a, rc, err);
    keel_error aerr = {0}, inner = *err;
    if (a->what && audit(a, "access-failed", inner.message, &aerr))
      keel_fail(err, rc, "%s (and the audit log: %s)", inner.message,
                aerr.message);
  } else if ((rc = audit(a, read_action(a),
                         a->cache_entry && !is_remote(e) ? "the file is gone"
                         : a->verified ? "not in the cache: fetched"
                                       : NULL,
                         err))) {
  } else if (keel_host_context_route(ctx, e->id, a->path, e->sha256, a->what) !=
             KEEL_OK) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  if (rc) {
    keel_data_access_close(a);
    return rc;
  }
  *out = a;
  return KEEL_OK;
}

int keel_data_access_recover(keel_data_access *a, keel_host_context *ctx,
                             const keel_input_record *bad, int code,
                             keel_error *err)
{
  if (!a || !bad || a->recovered || a->verified || !a->cache_entry ||
      strcmp(bad->resolved, a->cache_entry) != 0)
    return code;
  a->recovered = 1;
  keel_log_emit(KEEL_LOG_WARN,
                "%s: the cache entry %s does not hold the catalogued bytes "
                "(corrupted or truncated); nothing read from it is used: "
                "replacing it and reading again",
                a->ds->entry->id, a->cache_entry);
  close(a->lock_fd); /* keel_cache_get locks the entry exclusively */
  a->lock_fd = -1;
  const keel_catalog_entry *e = a->ds->entry;
  keel_data_fill f = {e,
                      keel_data_fetch_options(e, a->ca_bundle, a->max_attempts,
                                              a->stall_seconds)};
  char *path = NULL;
  keel_error gerr = {0};
  int rc = keel_cache_get(a->cache_root, e->sha256,
                          is_remote(e) ? keel_data_fill_from_location : no_fill,
                          &f, &path, NULL, &gerr);
  free(path);
  free(a->cache_entry);
  a->cache_entry = NULL;
  free(a->path);
  a->path = NULL;
  if (!rc)
    rc = open_cached(a, is_remote(e), &gerr);
  if (rc) {
    *err = gerr;
    return fail_for(a, rc, err);
  }
  a->verified = 1; /* keel_cache_get just hashed it */
  if ((rc = audit(a, "cache-refill",
                  "the cache entry did not hold the catalogued bytes", err)))
    return rc;
  keel_host_context_forget_inputs(ctx);
  if (keel_host_context_route(ctx, e->id, a->path, e->sha256, a->what))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

int keel_data_access_audit_hash(keel_data_access *a, int ok, keel_error *err)
{
  return a ? audit(a, ok ? "hash-verified" : "hash-mismatch", NULL, err)
           : KEEL_OK;
}

json_t *keel_data_access_json(const keel_data_access *a)
{
  const keel_catalog_entry *e = a->ds->entry;
  char loc[2048];
  json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", e->id, "location",
                        shown_location(e, loc, sizeof loc), "auth",
                        keel_auth_method_name(e->auth), "read_from",
                        a->read_from ? a->read_from : "location");
  if (o)
    json_object_set_new(o, "cache_entry",
                        a->cache_entry ? json_string(a->cache_entry)
                                       : json_null());
  return o;
}

const keel_policy_decision *keel_data_access_decision(const keel_data_access *a)
{
  return &a->decision;
}

const char *keel_data_access_path(const keel_data_access *a)
{
  return a->path;
}

void keel_data_access_close(keel_data_access *a)
{
  if (!a)
    return;
  if (a->lock_fd >= 0)
    close(a->lock_fd);
  free(a->cache_root);
  free(a->ca_bundle);
  free(a->path);
  free(a->cache_entry);
  free(a->what);
  keel_policy_decision_free(&a->decision);
  free(a);
}
