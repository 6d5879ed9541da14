/* policy: the access policy (docs/data-access.md, "Access policy").
 *
 * A versioned INI file maps Unix users (`[user.NAME]`) and groups
 * (`[group.NAME]`) to the scopes and datasets they may read, the purposes
 * for which they may read `pii` data, and the scopes whose data they may
 * carry into a bundle (`keel run --include-data`). `[everyone]` applies to
 * all; without it, everyone may read `public` and `internal` data. The
 * identity is the process's real uid, gid and supplementary groups, never
 * an environment variable.
 *
 * It fails closed: a policy that cannot be read, is malformed, or can be
 * changed by the user it governs (the file or its folder writable by that
 * uid, one of its groups, or anyone) refuses every read. It is a
 * governance guard-rail, not a security boundary: who can read the data
 * files can read them without keel. */
#ifndef KEEL_CONFIG_POLICY_H
#define KEEL_CONFIG_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/catalog.h"
#include "keel/error.h"

/* Who runs keel: the real uid and gid and the supplementary groups. */
typedef struct keel_identity {
  uid_t uid;
  char *user;    /* the name (getpwuid), or "#UID" when it has none */
  gid_t *gids;   /* real gid first, then the supplementary groups */
  char **groups; /* their names ("#GID" when one has none) */
  size_t n_groups;
} keel_identity;

/* Fills *id from getuid, getgid, getgroups. KEEL_ENOMEM or KEEL_EIO. */
int keel_identity_current(keel_identity *id, keel_error *err);
void keel_identity_free(keel_identity *id);

/* What a read asks for. */
typedef struct keel_policy_request {
  const char *dataset_id;   /* "penguins@1.0.0" */
  const char *dataset_name; /* "penguins" */
  keel_data_scope scope;
  const char *purpose;     /* the manifest's [keel] purpose, or NULL */
  const char *legal_basis; /* the catalog entry's, or NULL */
  int include_data;        /* the data is to be copied into the bundle */
} keel_policy_request;

/* The decision, recorded in the bundle (outside the result digest). All
 * strings malloc'd; release with keel_policy_decision_free. */
typedef struct keel_policy_decision {
  int allowed;
  char *policy_path; /* the file read; NULL: none existed (built-in) */
  char *searched;    /* the path the policy was looked for at */
  char *version;     /* [policy] version; "builtin" without a file */
  int line;          /* the rule that allowed or denied; 0: built-in */
  char *user;        /* who asked */
  uid_t uid;
  char *groups;  /* "staff, docker" */
  char *dataset; /* the id */
  keel_data_scope scope;
  char *purpose;     /* NULL when none was declared */
  char *legal_basis; /* NULL when the entry has none */
  int include_data;  /* asked for and allowed */
  int redact_user;   /* environment records leave the user name out */
  int redact_host;   /* ... and the host name */
  char *reason;      /* one sentence: why */
} keel_policy_decision;

/* Decides request q for the current identity under the policy at path
 * (explicit: named by a flag, KEEL_POLICY or config.ini, so a missing
 * file is an error; else a missing file means the built-in default).
 * *d is filled whether allowed or not (zero it first). KEEL_OK when
 * allowed; KEEL_EINVAL when denied or the policy is unusable, the
 * message naming the dataset, scope, user and the policy FILE:LINE. */
int keel_policy_decide(const char *path, int explicit_path,
                       const keel_policy_request *q, keel_policy_decision *d,
                       keel_error *err);

/* {"allowed", "policy", "version", "line", "user", "uid", "groups",
 * "dataset", "scope", "purpose", "legal_basis", "include_data",
 * "redact": [..], "reason"}. NULL on allocation failure. */
json_t *keel_policy_decision_json(const keel_policy_decision *d);

void keel_policy_decision_free(keel_policy_decision *d);

/* A purpose's grammar: [a-z0-9][a-z0-9._-]*, at most 64 bytes. */
int keel_policy_purpose_valid(const char *purpose);

#endif
