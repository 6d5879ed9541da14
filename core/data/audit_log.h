/* audit_log: the central, hash-chained audit log (docs/data-access.md,
 * "Audit trail"). One JSON object per line; each line's "prev" is the
 * SHA-256 (hex) of the previous line's bytes (without its newline; the
 * first line's prev is 64 zeros) and its "seq" is the previous seq + 1,
 * so a line removed, altered, inserted or reordered breaks the chain.
 *
 * Appending (audit_log.c) holds an exclusive flock on LOG.lock, reads the
 * last line's hash and seq, and writes the whole new line with one
 * write() on an O_APPEND descriptor, then fsyncs: concurrent writers
 * interleave whole lines and the chain stays valid. A write that comes up
 * short is cut off again (still under the lock), so no torn line stays.
 * A log whose last line is torn or not ours is refused (KEEL_EINTEGRITY):
 * nothing is chained onto what cannot be hashed as a line.
 *
 * Checking (audit_check.c) reads a log and names the first break of its
 * chain, and checks the anchor a bundle carries (audit_chain.json: the
 * seq and hash of the last line written by or before its run) against
 * the log, which detects a truncated or rewritten tail. */
#ifndef KEEL_DATA_AUDIT_LOG_H
#define KEEL_DATA_AUDIT_LOG_H

#include <jansson.h>
#include <stddef.h>

#include "base/buffer.h"
#include "keel/error.h"

/* The facts of one event; NULL members are left out of the line. */
typedef struct keel_audit_event {
  const char *action;   /* "run-start", "cache-hit", "denied", ... */
  const char *dataset;  /* the catalog id, name@version */
  const char *sha256;   /* the bytes' SHA-256 */
  const char *scope;    /* the entry's access scope */
  const char *location; /* printable (base/url.h): never a secret */
  const char *decision; /* "allowed" or "denied" */
  const char *policy;   /* "FILE:LINE" of the rule that decided */
  const char *detail;   /* a short note: the exit code, an error */
} keel_audit_event;

/* Where a line sits in the chain. */
typedef struct keel_audit_mark {
  long long seq;
  char hash[65]; /* SHA-256 of the line's bytes */
} keel_audit_mark;

/* The audit_log setting (config/settings.h) as a malloc'd path. */
int keel_audit_log_path(char **out, keel_error *err);

/* Appends ev to the log at path (NULL: the audit_log setting), with
 * run_id when not NULL; *mark (optional) gets the line's seq and hash,
 * *line (optional) a malloc'd copy of its text without the newline.
 * KEEL_EIO naming the log when it cannot be written, KEEL_EINTEGRITY
 * when its last line is torn or malformed. Thread-safe; process-safe. */
int keel_audit_append(const char *path, const char *run_id,
                      const keel_audit_event *ev, keel_audit_mark *mark,
                      char **line, keel_error *err);

/* A run's part of the log: the lines it appended, kept for its bundle. */
typedef struct keel_audit_trail keel_audit_trail;

/* A trail for run_id (copied) appending to path (NULL: the setting). */
int keel_audit_trail_open(const char *path, const char *run_id,
                          keel_audit_trail **out, keel_error *err);
/* Appends ev for the trail's run; a NULL trail appends nothing. */
int keel_audit_trail_append(keel_audit_trail *t, const keel_audit_event *ev,
                            keel_error *err);
/* The bundle's audit_chain.json: {"format": "keel-audit-chain/1", "log",
 * "run_id", "seq", "head", "lines": [the run's lines, verbatim]}; seq and
 * head name the trail's last line (null before any). New reference. */
json_t *keel_audit_trail_json(const keel_audit_trail *t);
void keel_audit_trail_free(keel_audit_trail *t);

/* ---- checking (audit_check.c) ------------------------------------------ */

typedef struct keel_audit_line {
  size_t lineno;    /* 1-based line number in the file */
  const char *text; /* into the log's data; not NUL-terminated */
  size_t len;       /* without the newline */
  int terminated;   /* ended with a newline */
  json_t *obj;      /* the parsed object, or NULL when it does not parse */
  long long seq;    /* -1 when absent */
  char prev[65];    /* "" when absent or malformed */
  char hash[65];    /* SHA-256 of text[0..len) */
} keel_audit_line;

typedef struct keel_audit_log {
  char *path;
  unsigned char *data;
  size_t n_lines;
  keel_audit_line *lines;
} keel_audit_log;

/* Reads the whole log at path (under a shared lock when one can be
 * taken). A missing log is KEEL_ENOTFOUND. Release with
 * keel_audit_log_free, also after a failure. */
int keel_audit_log_read(const char *path, keel_audit_log *log, keel_error *err);
void keel_audit_log_free(keel_audit_log *log);

/* Walks the chain; for the first break appends one line to problems
 * naming the line number and what is wrong (a line removed, altered,
 * inserted, reordered, torn or malformed). Returns the number of breaks
 * found (0: the chain holds). */
size_t keel_audit_log_verify(const keel_audit_log *log, keel_buf *problems);

/* Checks a bundle's audit_chain.json (chain) against the log: its head is
 * the line at its seq, and its lines are in the log byte for byte; what
 * names the bundle in the problems. Returns the number of problems. */
size_t keel_audit_log_check_anchor(const keel_audit_log *log,
                                   const json_t *chain, const char *what,
                                   keel_buf *problems);

#endif
