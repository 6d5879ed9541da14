/* The environment a run ran in, as JSON (environment.json of a bundle),
 * the drift between two such records, and a Containerfile that rebuilds
 * one on the Debian release and package versions it names. */
#ifndef KEEL_BUNDLE_ENVINFO_H
#define KEEL_BUNDLE_ENVINFO_H

#include <stddef.h>

#include <jansson.h>

#include "keel/error.h"

/* Captures now: keel version and revision, OS and kernel (uname),
 * /etc/os-release, CPU model and flags, compiler and flags, libc and the
 * linked libraries' versions, Debian package versions (dpkg-query, when
 * available) and the CPUs online. Nothing of the run (its thread count
 * lives in run.json), so two runs on one machine record the same
 * environment. New reference; NULL only on ENOMEM. */
json_t *keel_envinfo_capture(void);

/* Compares two environment records (then = the bundle's, now = here).
 * *report gets malloc'd lines "what: bundle X, here Y" (NULL when no
 * drift), *n_drift their count. */
int keel_envinfo_drift(const json_t *then, const json_t *now, char **report,
                       size_t *n_drift, keel_error *err);

/* A Containerfile text (malloc'd) pinned to env's Debian codename and
 * package versions; snapshot_date ("20250102T000000Z" or NULL) names a
 * snapshot.debian.org date to pin the archive to. */
int keel_envinfo_containerfile(const json_t *env, const char *run_id,
                               const char *snapshot_date, char **text,
                               keel_error *err);

/* JSON flattened to sorted ("a.b[2].c", scalar text) pairs, for
 * comparing records key by key (env drift, keel diff). Strings are given
 * as-is, numbers as JSON writes them, null as "null". */
typedef struct keel_flat {
  char *key;
  char *value;
} keel_flat;

int keel_json_flatten(const json_t *j, keel_flat **out, size_t *n);
void keel_flat_free(keel_flat *f, size_t n);

#endif
