/* The central audit log: reading it back and checking its chain and the
 * anchors bundles carry (see audit_log.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/sha256.h"
#include "base/status.h"
#include "data/audit_log.h"

static int is_hex64(const char *s)
{
  if (!s || strlen(s) != 64)
    return 0;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return 0;
  return 1;
}

static void parse_line(keel_audit_line *l)
{
  json_error_t je;
  l->seq = -1;
  l->prev[0] = '\0';
  keel_sha256_hex(l->text, l->len, l->hash);
  l->obj = l->len ? json_loadb(l->text, l->len, 0, &je) : NULL;
  if (l->obj && !json_is_object(l->obj)) {
    json_decref(l->obj);
    l->obj = NULL;
  }
  json_t *seq = json_object_get(l->obj, "seq");
  const char *prev = json_string_value(json_object_get(l->obj, "prev"));
  if (json_is_integer(seq) && json_integer_value(seq) > 0)
    l->seq = (long long)json_integer_value(seq);
  if (is_hex64(prev))
    memcpy(l->prev, prev, 65);
}

static int split_lines(keel_audit_log *log, size_t n)
{
  const char *p = (const char *)log->data, *end = p + n;
  size_t count = 0;
  for (const char *q = p; q < end; q++)
    count += *q == '\n';
  count += n && p[n - 1] != '\n';
  log->lines = calloc(count ? count : 1, sizeof *log->lines);
  if (!log->lines)
    return KEEL_ENOMEM;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    keel_audit_line *l = &log->lines[log->n_lines];
    l->lineno = ++log->n_lines;
    l->text = p;
    l->len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    l->terminated = nl != NULL;
    parse_line(l);
    p = nl ? nl + 1 : end;
  }
  return KEEL_OK;
}

int keel_audit_log_read(const char *path, keel_audit_log *log, keel_error *err)
{
  memset(log, 0, sizeof *log);
  if (!(log->path = strdup(path)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (access(path, F_OK) != 0)
    return keel_fail(err, KEEL_ENOTFOUND, "audit log %s does not exist", path);
  /* Shared while reading, so no append is seen half-written; a log in a
   * folder we may not write is read without the lock. */
  keel_error lerr = {0};
  int lock = keel_fs_lock_beside(path, 1, &lerr);
  if (lock >= 0)
    keel_fs_lock_share(lock);
  size_t n = 0;
  int rc = keel_read_file(path, &log->data, &n, err);
  if (lock >= 0)
    close(lock);
  if (!rc && split_lines(log, n))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  return rc;
}

void keel_audit_log_free(keel_audit_log *log)
{
  for (size_t i = 0; i < log->n_lines; i++)
    json_decref(log->lines[i].obj);
  free(log->lines);
  free(log->data);
  free(log->path);
  memset(log, 0, sizeof *log);
}

static int chains_onto(const keel_audit_line *l, const keel_audit_line *before)
{
  return l->seq == before->seq + 1 && strcmp(l->prev, before->hash) == 0;
}

/* What broke the link into line i (0-based; i > 0): the likeliest of a
 * removed, inserted, reordered or altered line, said in problems. */
static void explain_break(const keel_audit_log *log, size_t i, keel_buf *out)
{
  const keel_audit_line *l = &log->lines[i], *b = &log->lines[i - 1];
  const keel_audit_line *next = i + 1 < log->n_lines ? l + 1 : NULL;
  long long want = b->seq + 1;
  if (strcmp(l->prev, b->hash) == 0) {
    keel_buf_printf(out,
                    "line %zu was altered: its seq is %lld where %lld "
                    "follows line %zu (its prev does chain onto line %zu)\n",
                    l->lineno, l->seq, want, b->lineno, b->lineno);
    return;
  }
  /* a later line holds the seq due here: the lines were moved */
  for (size_t j = i + 1; l->seq > want && j < log->n_lines; j++)
    if (log->lines[j].seq == want) {
      keel_buf_printf(out,
                      "line %zu (seq %lld) is out of order: seq %lld, which "
                      "follows line %zu, is at line %zu (lines reordered)\n",
                      l->lineno, l->seq, want, b->lineno, log->lines[j].lineno);
      return;
    }
  if (next && chains_onto(next, b)) {
    keel_buf_printf(out,
                    "line %zu was inserted: line %zu chains onto line %zu, "
                    "not onto it\n",
                    l->lineno, next->lineno, b->lineno);
    return;
  }
  if (i >= 2 && chains_onto(l, b - 1)) {
    keel_buf_printf(out,
                    "line %zu was inserted: line %zu chains onto line %zu, "
                    "not onto it\n",
                    b->lineno, l->lineno, (b - 1)->lineno);
    return;
  }
  if (l->seq > 0 && l->seq < want) {
    keel_buf_printf(out,
                    "line %zu (seq %lld) is out of order: it comes after "
                    "line %zu (seq %lld) (lines reordered or repeated)\n",
                    l->lineno, l->seq, b->lineno, b->seq);
    return;
  }
  if (l->seq > want) {
    char seqs[64];
    if (l->seq - 1 > want)
      snprintf(seqs, sizeof seqs, "%lld..%lld", want, l->seq - 1);
    else
      snprintf(seqs, sizeof seqs, "%lld", want);
    keel_buf_printf(out,
                    "removed: seq %s missing between line %zu and line %zu "
                    "(line %zu's prev is not the hash of line %zu)\n",
                    seqs, b->lineno, l->lineno, l->lineno, b->lineno);
    return;
  }
  keel_buf_printf(out,
                  "line %zu was altered: its SHA-256 %.12s... is not the "
                  "prev %.12s... that line %zu records\n",
                  b->lineno, b->hash, l->prev, l->lineno);
}

size_t keel_audit_log_verify(const keel_audit_log *log, keel_buf *problems)
{
  static const char zero[] =
      "0000000000000000000000000000000000000000000000000000000000000000";
  for (size_t i = 0; i < log->n_lines; i++) {
    const keel_audit_line *l = &log->lines[i];
    if (!l->terminated) {
      keel_buf_printf(problems,
                      "line %zu is torn: it has no line end (an append cut "
                      "short, or the log cut inside a line)\n",
                      l->lineno);
      return 1;
    }
    if (!l->obj || l->seq < 1 || !l->prev[0]) {
      keel_buf_printf(problems,
                      "line %zu is malformed: %s (altered, or not a keel "
                      "audit line)\n",
                      l->lineno,
                      !l->obj      ? "not a JSON object"
                      : l->seq < 1 ? "no positive \"seq\""
                                   : "no 64-hex-digit \"prev\"");
      return 1;
    }
    if (i == 0) {
      if (l->seq != 1 || strcmp(l->prev, zero) != 0) {
        keel_buf_printf(problems,
                        "line 1 (seq %lld) does not start the chain (seq 1, "
                        "prev of zeros): lines before it were removed\n",
                        l->seq);
        return 1;
      }
      continue;
    }
    if (!chains_onto(l, l - 1)) {
      explain_break(log, i, problems);
      return 1;
    }
  }
  return 0;
}

static const keel_audit_line *line_at_seq(const keel_audit_log *log,
                                          long long seq)
{
  /* in a sound log, seq s is line s */
  if (seq >= 1 && (size_t)seq <= log->n_lines && log->lines[seq - 1].seq == seq)
    return &log->lines[seq - 1];
  for (size_t i = 0; i < log->n_lines; i++)
    if (log->lines[i].seq == seq)
      return &log->lines[i];
  return NULL;
}

static long long last_seq(const keel_audit_log *log)
{
  return log->n_lines ? log->lines[log->n_lines - 1].seq : 0;
}

size_t keel_audit_log_check_anchor(const keel_audit_log *log,
                                   const json_t *chain, const char *what,
                                   keel_buf *problems)
{
  json_t *seqj = json_object_get(chain, "seq");
  const char *head = json_string_value(json_object_get(chain, "head"));
  if (json_is_null(seqj))
    return 0; /* the run appended nothing */
  if (!json_is_integer(seqj) || !is_hex64(head)) {
    keel_buf_printf(problems,
                    "%s: audit_chain.json is malformed (expected an integer "
                    "\"seq\" and a 64-hex-digit \"head\")\n",
                    what);
    return 1;
  }
  long long seq = (long long)json_integer_value(seqj);
  const keel_audit_line *l = line_at_seq(log, seq);
  size_t n = 0;
  if (!l) {
    keel_buf_printf(problems,
                    "truncated: %s was sealed with the log at seq %lld "
                    "(head %.12s...), but the log ends at seq %lld (line %zu): "
                    "its tail was cut or rewritten\n",
                    what, seq, head, last_seq(log), log->n_lines);
    return 1;
  }
  if (strcmp(l->hash, head) != 0) {
    keel_buf_printf(problems,
                    "rewritten: line %zu (seq %lld) is not the line %s "
                    "anchored (head %.12s..., the log's line hashes to "
                    "%.12s...)\n",
                    l->lineno, seq, what, head, l->hash);
    n++;
  }
  size_t i;
  json_t *text;
  json_array_foreach(json_object_get(chain, "lines"), i, text)
  {
    const char *s = json_string_value(text);
    json_error_t je;
    json_t *o = s ? json_loads(s, 0, &je) : NULL;
    json_t *sj = json_object_get(o, "seq");
    long long ls = json_is_integer(sj) ? (long long)json_integer_value(sj) : -1;
    json_decref(o);
    const keel_audit_line *m = ls > 0 ? line_at_seq(log, ls) : NULL;
    if (!m) {
      keel_buf_printf(problems,
                      "removed: %s's line %zu of its run (seq %lld) is not "
                      "in the log\n",
                      what, i + 1, ls);
      n++;
    } else if (m->len != strlen(s) || memcmp(m->text, s, m->len) != 0) {
      keel_buf_printf(problems,
                      "altered: line %zu (seq %lld) differs from %s's copy "
                      "of it\n",
                      m->lineno, ls, what);
      n++;
    }
  }
  return n;
}
