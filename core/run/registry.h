/* The run registry: an SQLite file indexing every run bundle
 * (docs/registry.md). An index, not the truth: every fact in it is read
 * from a bundle, the bundle's path and whole-file SHA-256 are kept beside
 * it, and `keel runs verify` checks the one against the other.
 *
 * One connection per keel_run_registry, used from one thread. Every
 * connection sets a busy timeout (KEEL_RUN_REGISTRY_BUSY_MS) and foreign keys;
 * the file is in WAL mode, and every write is one BEGIN IMMEDIATE
 * transaction, so concurrent writers queue instead of failing on a stale
 * snapshot. Errors name the registry file: KEEL_EIO for a locked or
 * unwritable file, KEEL_EINTEGRITY for a file that is not an SQLite
 * database or is corrupt, KEEL_EUNSUPPORTED for a schema newer than this
 * keel's. */
#ifndef KEEL_RUN_REGISTRY_H
#define KEEL_RUN_REGISTRY_H

#include <stddef.h>

#include "keel/error.h"

struct keel_bundle;

/* The schema this keel writes (the schema_version table) and how long a
 * connection waits for another process's lock. */
#define KEEL_RUN_REGISTRY_SCHEMA 1
#define KEEL_RUN_REGISTRY_BUSY_MS 5000

typedef struct keel_run_registry keel_run_registry;

/* Opens the registry at path (NULL: the `registry` setting,
 * config/settings.h). With create, a missing file (and its folder) is
 * made and the schema created; without, a missing file is
 * KEEL_ENOTFOUND. */
int keel_run_registry_open(const char *path, int create,
                           keel_run_registry **out, keel_error *err);
void keel_run_registry_close(keel_run_registry *r);
/* The file's path as opened (owned by r). */
const char *keel_run_registry_path(const keel_run_registry *r);
/* The path the `registry` setting names (malloc'd), for messages about a
 * registry that could not be opened. */
int keel_run_registry_default_path(char **out, keel_error *err);

/* ---- one run, as indexed ------------------------------------------------ */

typedef struct keel_run_registry_param {
  char *key;    /* SECTION.NAME, as an override names it: optimizer.lr */
  char *stage;  /* the stage's kind: host, source, transform, model, ... */
  char *plugin; /* the plugin's name, or NULL for a host section */
  char *type;   /* bool, int, float, string, enum, ... */
  char *text;   /* the canonical text */
  double num;   /* the value when has_num (bool: 0 or 1) */
  int has_num;
} keel_run_registry_param;

typedef struct keel_run_registry_metric {
  char *key;  /* train.loss, valid.accuracy, ... */
  long epoch; /* 1-based for per-epoch values; 0 for a final one */
  double value;
  int is_nan; /* recorded as null (not a finite number): value is 0 */
} keel_run_registry_metric;

typedef struct keel_run_registry_data {
  char *path; /* as the manifest gave it, or the catalog id */
  char *sha256;
  long long bytes;
} keel_run_registry_data;

typedef struct keel_run_registry_plugin {
  char *kind, *name, *version, *sha256;
} keel_run_registry_plugin;

typedef struct keel_run_registry_record {
  char *run_id;
  char *name; /* the manifest's file name */
  char *template_name, *template_version;
  char *manifest_sha256; /* of manifest.ini */
  char *input_digest;    /* NULL when run.json has none */
  char *result_digest;
  char *status; /* ok, failed, interrupted */
  long exit_code;
  char *error;
  char *started_at, *ended_at, *user, *host, *format;
  char *dataset, *dataset_version; /* the catalog entry, or NULL */
  char *sweep_id;                  /* NULL: not a sweep's trial */
  long sweep_trial;
  char *sweep_objective; /* the metric the sweep judges by */
  char *sweep_direction; /* min, max */
  char *bundle_path;     /* absolute */
  char bundle_sha256[65];
  keel_run_registry_param *params;
  size_t n_params;
  keel_run_registry_metric *metrics; /* final ones (epoch 0), then per epoch */
  size_t n_metrics;
  keel_run_registry_data *data;
  size_t n_data;
  keel_run_registry_plugin *plugins;
  size_t n_plugins;
} keel_run_registry_record;

/* Fills rec (zeroed first) from an opened bundle whose file is at
 * abs_path with whole-file SHA-256 sha. A member that is missing or does
 * not parse leaves its facts out (a failed run has few); a run.json
 * without a run id is KEEL_EINTEGRITY. */
int keel_run_registry_record_from_bundle(const struct keel_bundle *b,
                                         const char *abs_path,
                                         const char sha[65],
                                         keel_run_registry_record *rec,
                                         keel_error *err);
void keel_run_registry_record_free(keel_run_registry_record *rec);

/* What adding one run did. */
typedef enum keel_run_registry_added {
  KEEL_RUN_REGISTRY_INSERTED, /* a new row */
  KEEL_RUN_REGISTRY_PRESENT,  /* that bundle (same SHA-256) was indexed */
  KEEL_RUN_REGISTRY_MOVED     /* indexed, its old path gone: path updated */
} keel_run_registry_added;

/* Indexes n records in one write transaction. Idempotent: a run id
 * already indexed with the same bundle SHA-256 is left (its path updated
 * when the recorded file no longer exists). A run id indexed with another
 * bundle SHA-256 is refused, never replaced (KEEL_EINTEGRITY naming both
 * files; nothing of the batch is written): the index keeps the bundle it
 * saw first until `keel runs verify` shows it gone. what[i] (may be NULL)
 * says what happened to rec[i]. */
int keel_run_registry_insert(keel_run_registry *r,
                             const keel_run_registry_record *recs, size_t n,
                             keel_run_registry_added *what, keel_error *err);

/* Opens the bundle at path, hashes the file and, with verify, checks it
 * with keel_bundle_check (every member hash and the result digest), and
 * fills rec from it (release with keel_run_registry_record_free). A bundle
 * that fails the check is KEEL_EINTEGRITY (err names the first finding).
 * Touches no registry: safe to call for many bundles before one
 * keel_run_registry_insert of them all. */
int keel_run_registry_read_bundle(const char *path, int verify,
                                  keel_run_registry_record *rec,
                                  keel_error *err);

/* keel_run_registry_read_bundle of n bundles on up to `threads` OpenMP
 * threads (0: OpenMP's default): recs[i], rcs[i] and errs[i] are bundle
 * i's, whatever thread read it, so the outcome does not depend on the
 * thread count. */
void keel_run_registry_read_bundles(const char *const *paths, size_t n,
                                    int verify, int threads,
                                    keel_run_registry_record *recs, int *rcs,
                                    keel_error *errs);

/* keel_run_registry_read_bundle, then keel_run_registry_insert of that one
 * record. */
int keel_run_registry_add_bundle(keel_run_registry *r, const char *path,
                                 int verify, keel_run_registry_added *what,
                                 keel_error *err);

/* ---- reading ------------------------------------------------------------ */

/* A table of text cells: n_rows x n_cols, cells[row * n_cols + col] NULL
 * where a run has no such value; numeric[col] says a column holds
 * numbers. */
typedef struct keel_run_registry_table {
  size_t n_cols, n_rows;
  char **cols;
  char **cells;
  int *numeric;
} keel_run_registry_table;
void keel_run_registry_table_free(keel_run_registry_table *t);

/* keel runs list: the runs matching `where` (the --where language,
 * registry_where.h; NULL: all) in `sort` order (NULL: newest first), at
 * most limit (0: all). Columns: run_id, started_at, status, template,
 * name, result_digest, then every key where and sort name. A malformed
 * where or sort is KEEL_EINVAL "--where: column N: ..." / "--sort: ...". */
int keel_run_registry_list(keel_run_registry *r, const char *where,
                           const char *sort, long limit,
                           keel_run_registry_table *out, keel_error *err);

/* keel runs best: the ok trials of sweep `sweep`, ranked by the value of
 * the objective metric their run.json names (a trial without a finite
 * value is left out), best first by the direction it records (max:
 * highest first). */
int keel_run_registry_best(keel_run_registry *r, const char *sweep, long limit,
                           keel_run_registry_table *out, keel_error *err);

/* The run whose id is `id` or starts with it (unique), read back from the
 * index into rec. KEEL_ENOTFOUND when none; KEEL_EINVAL naming the
 * candidates when the prefix is ambiguous. */
int keel_run_registry_get(keel_run_registry *r, const char *id,
                          keel_run_registry_record *rec, keel_error *err);

/* keel runs verify: every indexed bundle's file re-hashed. report gets one
 * line per run that does not match ("missing: RUN_ID PATH", "altered:
 * RUN_ID PATH (sha256 X, indexed Y)"), malloc'd, NULL when all match;
 * *n_runs the runs checked, *n_problems the lines. */
int keel_run_registry_verify(keel_run_registry *r, char **report,
                             size_t *n_runs, size_t *n_problems,
                             keel_error *err);

/* The run cache: an `ok` run with this input digest whose bundle file
 * still exists, still has the SHA-256 the index recorded and passes
 * keel_bundle_check. registry_path NULL: the `registry` setting. Returns
 * 1 (found: *bundle_path and *run_id malloc'd), 0 (none; a missing
 * registry file is none) or a negative KEEL_E* (err names the file).
 * Safe to call from several processes at once. */
int keel_run_registry_find_reusable(const char *registry_path,
                                    const char *input_digest,
                                    char **bundle_path, char **run_id,
                                    keel_error *err);

#endif
