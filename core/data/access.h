/* access: the access shim (docs/data-access.md, "How a run reads a
 * dataset"). Every byte of a catalog dataset reaches a source plugin
 * through here and the host's input services:
 *
 *   file: and sqlite: entries are read where they are (a file that has
 *     gone is served from the cache when an entry there has its hash);
 *   http(s): entries are read from the data cache (data_cache.h), fetched
 *     into it first when missing, verified before they are kept.
 *
 * The entry's id becomes a host route (plugin/host.h) to the local file
 * with the catalogued SHA-256, so the hash computed beside the parse is
 * checked against the catalog before anything computed from the bytes is
 * used, and the result does not depend on where the bytes came from. A
 * cache hit is not re-hashed before the parse (that would read the data
 * twice): when the parse's hash does not match, keel_data_access_recover
 * replaces the entry and the data is read again; the bad bytes are never
 * used. The access holds a shared lock on a cache entry while it is open,
 * so `keel data gc` and refills wait for the run. */
#ifndef KEEL_DATA_ACCESS_H
#define KEEL_DATA_ACCESS_H

#include <jansson.h>

#include "config/dataset.h"
#include "config/policy.h"
#include "data/audit_log.h"
#include "data/data_cache.h"
#include "data/fetch_http.h"
#include "plugin/host.h"

/* How fetches are made: the data_cache and ca_bundle settings (or their
 * flags) and the limits of fetch_http.h (0: its defaults). */
typedef struct keel_data_access_options {
  const char *cache_root; /* NULL: the data_cache setting */
  const char *ca_bundle;  /* NULL: the ca_bundle setting; "": the system's */
  int max_attempts;
  long stall_seconds;
  /* The access policy (config/policy.h): the file (NULL: the policy
   * setting), the manifest's purpose, whether the bytes go into the
   * bundle, and a decision already made by keel_data_access_decide
   * (NULL: keel_data_access_open decides). */
  const char *policy;
  const char *purpose;
  int include_data;
  const keel_policy_decision *decision;
  keel_audit_trail *audit; /* the run's audit trail (NULL: none kept) */
} keel_data_access_options;

/* How entry e is fetched: the limits and CA bundle of o (ca_bundle
 * resolved), the entry's credentials. */
keel_fetch_options keel_data_fetch_options(const keel_catalog_entry *e,
                                           const char *ca_bundle,
                                           int max_attempts,
                                           long stall_seconds);

/* A keel_cache_fill_fn fetching an entry's location; ctx is a
 * keel_data_fill. */
typedef struct keel_data_fill {
  const keel_catalog_entry *entry;
  keel_fetch_options fetch;
} keel_data_fill;
int keel_data_fill_from_location(void *ctx, const keel_fetch_sink *sink,
                                 keel_error *err);

typedef struct keel_data_access keel_data_access;

/* Decides whether the current user may read ds's entry (and carry it
 * into a bundle) under the access policy, before any byte is read. *d
 * (zeroed first; keel_policy_decision_free) is filled whether allowed or
 * denied, for the run's record. KEEL_OK when allowed, else KEEL_EINVAL
 * (exit 2) naming the dataset, scope, user and policy FILE:LINE. */
int keel_data_access_decide(const keel_dataset *ds,
                            const keel_data_access_options *o,
                            keel_policy_decision *d, keel_error *err);

/* Makes the bytes of ds's entry readable and routes its id in ctx, once
 * the access policy allows it (o->decision, or decided here: a denial is
 * KEEL_EINVAL and nothing is read). KEEL_ENOTFOUND for a file that is gone (and
 * not cached), KEEL_EIO for a fetch that failed, KEEL_EINTEGRITY for fetched
 * bytes with another SHA-256 (nothing cached), KEEL_EINVAL for credentials that
 * cannot be read; each message names the entry, its catalog and the printable
 * location. */
/* Makes the bytes of ds's entry readable and routes its id in ctx.
 * KEEL_ENOTFOUND for a file that is gone (and not cached), KEEL_EIO for a
 * fetch that failed, KEEL_EINTEGRITY for fetched bytes with another
 * SHA-256 (nothing cached), KEEL_EINVAL for credentials that cannot be
 * read; each message names the entry, its catalog and the printable
 * location. Each outcome (read, cache hit, fetched, failed) is appended
 * to o->audit; when that append fails, so does the access. */
int keel_data_access_open(const keel_dataset *ds,
                          const keel_data_access_options *o,
                          keel_host_context *ctx, keel_data_access **out,
                          keel_error *err);

/* After settling failed on a routed input (`bad`): when its bytes came
 * from an unverified cache hit, re-checks the entry (removed and fetched
 * again when it does not match), forgets the inputs read and returns
 * KEEL_OK: read the data again. Otherwise returns `code` (err kept). */
int keel_data_access_recover(keel_data_access *a, keel_host_context *ctx,
                             const keel_input_record *bad, int code,
                             keel_error *err);

/* The audit event about catalog entry e: id, SHA-256, scope, printable
 * location (written into loc, n bytes, for a URL), action and detail. */
keel_audit_event keel_data_entry_event(const keel_catalog_entry *e,
                                       const char *action, const char *detail,
                                       char *loc, size_t n);

/* Appends the policy's decision d about ds to trail t (NULL: none kept):
 * action "policy", decision allowed or denied, the rule FILE:LINE (or
 * "built-in"), and why (NULL: the decision's reason). */
int keel_data_access_audit_decision(keel_audit_trail *t, const keel_dataset *ds,
                                    const keel_policy_decision *d,
                                    const char *why, keel_error *err);

/* Appends to the run's audit trail whether the bytes read matched the
 * catalogued SHA-256 after the parse: "hash-verified" (ok) or
 * "hash-mismatch". A NULL access appends nothing. */
int keel_data_access_audit_hash(keel_data_access *a, int ok, keel_error *err);

/* Where the bytes were read, for the bundle (outside the result digest):
 * {"id", "location" (printable), "auth" (the method), "read_from"
 * ("location", "cache", "fetched"), "cache_entry" (path or null)}. */
json_t *keel_data_access_json(const keel_data_access *a);

/* The policy decision the access was opened under. */
const keel_policy_decision *
keel_data_access_decision(const keel_data_access *a);

/* The route's local file (a cache entry or the catalogued file). */
const char *keel_data_access_path(const keel_data_access *a);

/* Releases the cache lock; NULL is a no-op. */
void keel_data_access_close(keel_data_access *a);

#endif
