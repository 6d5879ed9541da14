/* Run bundles: one deterministic, hash-verified tar.gz per run.
 *
 * Writing (bundle_builder.c, bundle_worker.c, bundle_tar.c, bundle_seal.c;
 * bundle_write_internal.h says which does what): a builder collects named
 * entries in memory and seals them into <out_dir>/<run_id>.tar.gz:
 * entries sorted, owner 0:0, mode 0644 (0755 folders), mtime 0, gzip
 * header without time or name, so the same entries give the same bytes.
 * Written to a temporary file in out_dir, fsync'd, renamed, and the folder
 * fsync'd: an interrupted seal never leaves a partial bundle under the
 * final name.
 *
 * Reading (bundle_read.c): a bundle is untrusted input. Every member's name,
 * type and size is checked after libarchive decoded the header and before
 * any data is read; members are then read into memory. Nothing touches the
 * file system until keel_bundle_extract (bundle_extract.c), which writes
 * only regular files and folders below a folder the caller created.
 * Checking (bundle_check.c) recomputes every hash, the digest and the
 * signature.
 *
 * Layout (docs/bundle-format.md), inside one folder named after the run id:
 *   manifest.ini template.ini templates/NAME.ini templates.json config.json
 *   plugins.json
 * plugins/<kind>-<name>-<version>.so lineage.json data/...
 * preprocess/NN-<section>.json weights/<t>.npy optimizer_state.npy
 * metrics.jsonl metrics.json environment.json audit.jsonl README.md run.json
 * digest.txt SHA256SUMS [SIGNATURE]
 *
 * RESULT DIGEST CONTRACT (bundle_digest.c, bundle_format.c). The result
 * digest covers exactly the entries the bundle's format covers
 * (keel_bundle_format_covers); formats 2 and 3 (written today):
 *   config.json, lineage.json, metrics.json, metrics.jsonl,
 *   optimizer_state.npy, preprocess/..., weights/..., optimizer/...
 * (format 1 also covered plugins.json). It is SHA-256 over the text of
 * "<sha256>  <name>\n" lines of those entries sorted by name. Everything a
 * replay must reproduce goes into those entries, so they must NOT contain
 * volatile facts or provenance: no paths or manifest file names (record
 * data paths as the manifest gave them), no times, host, user or thread
 * count, no origins of values, no plugin binary hashes (plugins are pinned
 * there by name and version; plugins.json and config_full.json hold the
 * SHA-256s). The manifest and template texts, config_full.json,
 * plugins.json, the plugin .so bytes, data copies (their SHA-256 is in
 * lineage.json), environment.json, audit.jsonl, README.md and run.json are
 * outside the digest. */
#ifndef KEEL_BUNDLE_BUNDLE_H
#define KEEL_BUNDLE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keel/error.h"

/* ---- run ids ----------------------------------------------------------- */

/* "keel-run-20250102T030405Z-1a2b3c4d": UTC time (sortable) and 32 random
 * bits from getrandom(). malloc'd; NULL on failure. */
char *keel_new_run_id(void);

/* ---- writing ----------------------------------------------------------- */

typedef struct keel_bundle_builder keel_bundle_builder;

/* A builder for run run_id (copied; a safe name: [A-Za-z0-9._-]). Records
 * the start time now. NULL on ENOMEM or a bad id. Single-threaded. */
keel_bundle_builder *keel_bundle_builder_new(const char *run_id);
void keel_bundle_builder_free(keel_bundle_builder *b);

/* Adds an entry NAME (relative, '/'-separated, no "..", no leading '/')
 * with a copy of data[0..n). Adding a name twice is KEEL_EINVAL. Names the
 * builder generates (run.json, digest.txt, SHA256SUMS, SIGNATURE, README.md,
 * plugins.json, audit.jsonl) are refused: use the calls below. */
int keel_bundle_add_bytes(keel_bundle_builder *b, const char *name,
                          const void *data, size_t n, keel_error *err);
/* Same with the bytes of the file at path (read now, whole). */
int keel_bundle_add_file(keel_bundle_builder *b, const char *name,
                         const char *path, keel_error *err);
/* Same with json serialized canonically (2-space indent, insertion order,
 * doubles with 17 significant digits, trailing newline). json borrowed. */
int keel_bundle_add_json(keel_bundle_builder *b, const char *name,
                         const json_t *json, keel_error *err);
/* The resolved configuration: full (keel_run_config_to_json's shape, with
 * paths, origins, overrides and plugin SHA-256s) as config_full.json,
 * outside the digest, and values (keel_run_config_values_json's shape:
 * the resolved values alone) as config.json, inside it. Both borrowed. */
int keel_bundle_add_config(keel_bundle_builder *b, const json_t *full,
                           const json_t *values, keel_error *err);
/* A float32 / float64 array as a numpy .npy v1.0 file (little-endian,
 * C order); shape has ndim (1..8) entries. */
int keel_bundle_add_npy_f32(keel_bundle_builder *b, const char *name,
                            const float *data, const size_t *shape, size_t ndim,
                            keel_error *err);
int keel_bundle_add_npy_f64(keel_bundle_builder *b, const char *name,
                            const double *data, const size_t *shape,
                            size_t ndim, keel_error *err);

/* Records one plugin that ran: an entry of plugins.json {name, kind,
 * version, abi, sha256, file} and an audit event; with include_so the .so
 * at path is copied to plugins/<kind>-<name>-<version>.so. kind is "model"
 * etc.; abi is "1.0". */
int keel_bundle_add_plugin(keel_bundle_builder *b, const char *kind,
                           const char *name, const char *version,
                           const char *abi, const char *path,
                           const char sha256[65], int include_so,
                           keel_error *err);

/* Appends an event to audit.jsonl: {"seq","time","user","action",
 * "object","sha256"}; sha256 may be NULL. */
int keel_bundle_audit(keel_bundle_builder *b, const char *action,
                      const char *object, const char *sha256, keel_error *err);

/* Extra string facts for run.json ("command", "manifest_path",
 * "manifest_dir" — replay resolves unbundled relative data paths against
 * manifest_dir). value copied; a key set twice keeps the last. */
int keel_bundle_set_info(keel_bundle_builder *b, const char *key,
                         const char *value, keel_error *err);
/* The same for a JSON value (an object such as run.json's "sweep");
 * takes the reference to value. */
int keel_bundle_set_info_json(keel_bundle_builder *b, const char *key,
                              json_t *value, keel_error *err);
/* How the run ended (run.json): exit code, error message (NULL when ok)
 * and the thread count used. Default: exit 0, no error, threads 0. */
void keel_bundle_set_outcome(keel_bundle_builder *b, int exit_code,
                             const char *error, int threads);
/* run.json's "status" for an outcome that is neither "ok" nor "failed"
 * ("interrupted"); copied. Default: "failed" when an error or a non-zero
 * exit code was set, else "ok". */
int keel_bundle_set_status(keel_bundle_builder *b, const char *status,
                           keel_error *err);

/* Seals: adds plugins.json, audit.jsonl, environment.json (captured now
 * unless added), README.md, run.json (with end time, host, user, wall and
 * CPU time, peak RSS, result digest), digest.txt, SHA256SUMS and, with
 * sign_key (Ed25519 private key PEM path), SIGNATURE; writes the tar.gz
 * atomically to out_dir (created if missing). *final_path gets the malloc'd
 * bundle path, digest_hex the result digest. The builder can only be
 * sealed once. */
int keel_bundle_seal(keel_bundle_builder *b, const char *out_dir,
                     const char *sign_key, char **final_path,
                     char digest_hex[65], keel_error *err);

/* ---- reading ----------------------------------------------------------- */

typedef struct keel_bundle_limits {
  uint64_t max_member_bytes; /* one member */
  uint64_t max_total_bytes;  /* all members together */
  size_t max_members;
} keel_bundle_limits;

/* 512 MiB per member, 2 GiB in all, 100000 members. */
extern const keel_bundle_limits keel_bundle_default_limits;

typedef struct keel_bundle_member {
  char *name; /* relative to the top folder ("weights/w.npy") */
  int is_dir;
  unsigned char *data; /* size bytes (+ a NUL after them), NULL for dirs */
  size_t size;
} keel_bundle_member;

typedef struct keel_bundle {
  char *path;                  /* as opened */
  char *top;                   /* the top-level folder ("keel-run-...") */
  keel_bundle_member *members; /* sorted by name */
  size_t n_members;
  /* What is wrong with the compressed stream itself (bad CRC or length,
   * trailing bytes, a gzip header other than keel's), or NULL. Not a
   * refusal by itself: keel_bundle_check reports it as a problem. */
  char *archive_problem;
} keel_bundle;

/* Reads and checks a bundle (limits NULL = defaults). KEEL_EINTEGRITY for
 * a hostile, truncated or non-tar.gz file (err names the member and the
 * reason); KEEL_EIO / KEEL_ENOTFOUND when the file cannot be read. */
int keel_bundle_open(const char *path, const keel_bundle_limits *limits,
                     keel_bundle **out, keel_error *err);
void keel_bundle_close(keel_bundle *b);
/* The regular-file member NAME, or NULL. */
const keel_bundle_member *keel_bundle_find(const keel_bundle *b,
                                           const char *name);
/* Parses member NAME as JSON (new reference) or NULL with err set. */
json_t *keel_bundle_json(const keel_bundle *b, const char *name,
                         keel_error *err);
/* Writes every member below dir (an existing, empty folder the caller
 * made, e.g. with mkdtemp): dir/<top>/<name>. Files are created with
 * O_EXCL|O_NOFOLLOW, so nothing is written outside dir. */
int keel_bundle_extract(const keel_bundle *b, const char *dir, keel_error *err);

/* ---- checking ---------------------------------------------------------- */

/* Outcome of keel_bundle_check. problems: one line per finding
 * ("modified: weights/w.npy", "missing: x", "extra: y", "digest: ...",
 * "signature: ..."), malloc'd, NULL when none. */
typedef struct keel_bundle_report {
  char *problems;
  size_t n_problems;
  size_t n_files;        /* files listed in SHA256SUMS */
  char digest[65];       /* recomputed result digest */
  int signed_;           /* SIGNATURE present */
  int signature_checked; /* and verified with the given public key */
} keel_bundle_report;

/* Recomputes every hash, the result digest and (with pubkey_path) the
 * signature. 0 when intact, KEEL_EINTEGRITY with report->problems naming
 * every file otherwise; other codes for I/O errors. */
int keel_bundle_check(const keel_bundle *b, const char *pubkey_path,
                      keel_bundle_report *report, keel_error *err);
void keel_bundle_report_free(keel_bundle_report *r);

/* The signature alone: 0 when SIGNATURE is a valid Ed25519 signature of
 * SHA256SUMS by the public key PEM at pubkey_path; KEEL_ENOTFOUND when the
 * bundle is unsigned; KEEL_EINTEGRITY when malformed or made by another
 * key; other codes when the key cannot be read (err names it). Proves
 * the members only together with keel_bundle_check (replay's trust). */
int keel_bundle_signed_by(const keel_bundle *b, const char *pubkey_path,
                          keel_error *err);

/* ---- format versions (bundle_format.c) ---------------------------------- */

/* What one version of the format means to a reader. */
typedef struct keel_bundle_format {
  int version;                       /* 1, 2, ... */
  const char *name;                  /* run.json's "format": "keel-bundle/2" */
  const char *const *covered_exact;  /* digest-covered names, NULL-ended */
  const char *const *covered_prefix; /* and folders ("weights/") */
  int replay_runs_recorded_values;   /* replay pins config.json's values
                                        (2); else re-resolves the bundled
                                        manifest and overrides (1) */
} keel_bundle_format;

/* The format keel writes. */
const keel_bundle_format *keel_bundle_format_current(void);
/* The format of an opened bundle, from run.json; KEEL_EINTEGRITY (err says
 * why) when run.json is missing, does not parse or names no known format. */
int keel_bundle_format_of(const keel_bundle *b, const keel_bundle_format **out,
                          keel_error *err);
/* 1 when entry NAME is covered by the result digest of format f. */
int keel_bundle_format_covers(const keel_bundle_format *f, const char *name);
/* 1 when formats a and b compute the result digest by one rule (2 and 3:
 * format 3 only adds members outside it), so equal results have equal
 * digests. */
int keel_bundle_format_same_digest_rule(const keel_bundle_format *a,
                                        const keel_bundle_format *b);

/* ---- result digest (bundle_digest.c) ------------------------------------ */

/* 1 when entry NAME is covered by the result digest of the current format. */
int keel_bundle_digest_covers(const char *name);
/* Digest over n (name, sha256 hex) pairs (any order; only names the
 * current format covers count). lines_out (may be NULL) gets the malloc'd
 * canonical text. */
int keel_bundle_digest_compute(const char *const *names,
                               const char *const *sha256s, size_t n,
                               char digest_hex[65], char **lines_out,
                               keel_error *err);
/* The digest of an opened bundle's covered members, by the bundle's own
 * format (keel_bundle_format_of; its error when unknown). */
int keel_bundle_digest_of(const keel_bundle *b, char digest_hex[65],
                          keel_error *err);

/* The digest b's results have under the current format: the digest of a
 * current-format bundle; an older bundle's covered members as the current
 * writer writes them (format 1: config.json without origins, ranges and
 * plugin SHA-256s, lineage.json without the source plugin's SHA-256,
 * plugins.json not covered). What replay compares a re-run with. */
int keel_bundle_digest_current(const keel_bundle *b, char digest_hex[65],
                               keel_error *err);

/* Maps a keel_bundle_open/check status to the CLI exit code. */
int keel_bundle_exit_code(int status);

#endif
