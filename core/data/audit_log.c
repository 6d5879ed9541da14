/* The central audit log: appending (see audit_log.h). */
#include "data/audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_text.h"
#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "config/settings.h"

/* A line longer than this is not one keel wrote: refused, not chained. */
#define AUDIT_LINE_MAX (1u << 20)

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

int keel_audit_log_path(char **out, keel_error *err)
{
  return keel_setting_value(KEEL_SETTING_AUDIT_LOG, out, err);
}

/* The last line of the log open at fd (size bytes): its seq and hash into
 * *last; seq 0 and the zero hash for an empty log. */
static int read_last(int fd, off_t size, const char *path,
                     keel_audit_mark *last, keel_error *err)
{
  last->seq = 0;
  memcpy(last->hash, zero_hash, sizeof zero_hash);
  if (size == 0)
    return KEEL_OK;
  size_t want =
      size > (off_t)AUDIT_LINE_MAX + 1 ? AUDIT_LINE_MAX + 1 : (size_t)size;
  char *buf = malloc(want);
  if (!buf)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  ssize_t got = pread(fd, buf, want, size - (off_t)want);
  if (got != (ssize_t)want) {
    rc = keel_fail(err, KEEL_EIO, "audit log %s: cannot read its last line: %s",
                   path, got < 0 ? strerror(errno) : "short read");
    goto out;
  }
  if (buf[want - 1] != '\n') {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "audit log %s: its last line has no line end (torn); "
                   "nothing is chained onto it: see `keel audit verify %s`",
                   path, path);
    goto out;
  }
  size_t start = want - 1;
  while (start > 0 && buf[start - 1] != '\n')
    start--;
  if (start == 0 && (off_t)want < size) {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "audit log %s: its last line is longer than %u bytes: not "
                   "a keel audit line",
                   path, AUDIT_LINE_MAX);
    goto out;
  }
  size_t len = want - 1 - start;
  json_error_t je;
  json_t *o = json_loadb(buf + start, len, 0, &je);
  json_t *seq = json_object_get(o, "seq");
  if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "audit log %s: its last line is not a keel audit line "
                   "(%s); nothing is chained onto it: see `keel audit verify`",
                   path, o ? "no positive \"seq\"" : je.text);
  } else {
    last->seq = (long long)json_integer_value(seq);
    keel_sha256_hex(buf + start, len, last->hash);
  }
  json_decref(o);
out:
  free(buf);
  return rc;
}

static void iso_time_now(char out[32])
{
  struct timespec ts;
  struct tm tm;
  char base[24];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000L % 1000));
}

/* {"name", "uid"} of the real uid: who runs keel, not whom it runs as. */
static json_t *user_json(void)
{
  struct passwd pw, *res = NULL;
  char tmp[1024];
  uid_t uid = getuid();
  json_t *name = NULL;
  if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
    name = json_string(pw.pw_name);
  return json_pack("{s:o, s:I}", "name", name ? name : json_null(), "uid",
                   (json_int_t)uid);
}

static const char *const fact_keys[] = {"dataset",  "sha256",   "scope",
                                        "location", "decision", "policy"};

/* The line for ev after `last`, without its newline. */
static char *compose(const keel_audit_mark *last, const char *run_id,
                     const keel_audit_event *ev, keel_error *err)
{
  char when[32], host[256] = "";
  iso_time_now(when);
  gethostname(host, sizeof host - 1);
  json_t *h = json_string(host);
  json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:I}", "seq",
                        (json_int_t)(last->seq + 1), "prev", last->hash, "time",
                        when, "user", user_json(), "host", h ? h : json_null(),
                        "pid", (json_int_t)getpid());
  if (!o) {
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return NULL;
  }
  const char *facts[] = {ev->dataset,  ev->sha256,   ev->scope,
                         ev->location, ev->decision, ev->policy};
  int rc =
      run_id ? keel_json_set_text(o, "run_id", run_id, err, "run id") : KEEL_OK;
  if (!rc)
    rc = keel_json_set_text(o, "action", ev->action ? ev->action : "", err,
                            "audit action");
  for (size_t i = 0; !rc && i < sizeof facts / sizeof facts[0]; i++)
    if (facts[i])
      rc = keel_json_set_text(o, fact_keys[i], facts[i], err, "audit fact %s",
                              fact_keys[i]);
  /* a note may echo an error message: escaped, never refused */
  if (!rc && ev->detail &&
      json_object_set_new(o, "detail", keel_json_message(ev->detail)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  char *text = rc ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!rc && !text)
    keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_decref(o);
  return text;
}

/* Opens (creating) the log for appending, its folder made first. */
static int open_log(const char *path, keel_error *err)
{
  char *dir = keel_path_dirname(path);
  if (!dir)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = keel_fs_mkdir_p(dir, err);
  free(dir);
  if (rc)
    return rc;
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return keel_fail(err, KEEL_EIO, "audit log %s cannot be opened: %s", path,
                     strerror(errno));
  return fd;
}

static int append_locked(int fd, const char *path, const char *run_id,
                         const keel_audit_event *ev, keel_audit_mark *mark,
                         char **line, keel_error *err)
{
  struct stat st;
  keel_audit_mark last;
  if (fstat(fd, &st) != 0)
    return keel_fail(err, KEEL_EIO, "audit log %s: %s", path, strerror(errno));
  int rc = read_last(fd, st.st_size, path, &last, err);
  char *text = rc ? NULL : compose(&last, run_id, ev, err);
  if (!text)
    return rc ? rc : err->code ? err->code : KEEL_ENOMEM;
  size_t len = strlen(text);
  text[len] = '\n'; /* one write: the line and its end together */
  ssize_t put = write(fd, text, len + 1);
  text[len] = '\0';
  if (put != (ssize_t)(len + 1) || fsync(fd) != 0) {
    int e = put < 0 ? errno : errno ? errno : ENOSPC;
    if (put > 0 && ftruncate(fd, st.st_size) != 0) {
      /* the torn line stays; the next append refuses it */
    }
    free(text);
    return keel_fail(err, KEEL_EIO, "audit log %s cannot be written: %s", path,
                     strerror(e));
  }
  if (mark) {
    mark->seq = last.seq + 1;
    keel_sha256_hex(text, len, mark->hash);
  }
  if (line)
    *line = text;
  else
    free(text);
  return KEEL_OK;
}

int keel_audit_append(const char *path, const char *run_id,
                      const keel_audit_event *ev, keel_audit_mark *mark,
                      char **line, keel_error *err)
{
  char *own = NULL;
  if (line)
    *line = NULL;
  if (!path) {
    int rc = keel_audit_log_path(&own, err);
    if (rc)
      return rc;
    path = own;
  }
  int fd = open_log(path, err);
  int lock = fd >= 0 ? keel_fs_lock_beside(path, 1, err) : -1;
  int rc = fd < 0 ? fd : lock < 0 ? lock : KEEL_OK;
  if (!rc)
    rc = append_locked(fd, path, run_id, ev, mark, line, err);
  if (lock >= 0)
    close(lock);
  if (fd >= 0)
    close(fd);
  free(own);
  return rc;
}

struct keel_audit_trail {
  char *path;
  char *run_id;
  json_t *lines; /* the run's lines, verbatim */
  keel_audit_mark last;
};

int keel_audit_trail_open(const char *path, const char *run_id,
                          keel_audit_trail **out, keel_error *err)
{
  keel_audit_trail *t = calloc(1, sizeof *t);
  int rc = t ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  *out = NULL;
  if (!rc)
    rc = path ? ((t->path = strdup(path))
                     ? KEEL_OK
                     : keel_fail(err, KEEL_ENOMEM, "out of memory"))
              : keel_audit_log_path(&t->path, err);
  if (!rc && (!(t->run_id = strdup(run_id)) || !(t->lines = json_array())))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc) {
    keel_audit_trail_free(t);
    return rc;
  }
  *out = t;
  return KEEL_OK;
}

int keel_audit_trail_append(keel_audit_trail *t, const keel_audit_event *ev,
                            keel_error *err)
{
  if (!t)
    return KEEL_OK;
  char *line = NULL;
  keel_audit_mark mark;
  int rc = keel_audit_append(t->path, t->run_id, ev, &mark, &line, err);
  if (rc)
    return rc;
  /* the line came from jansson, so it is valid UTF-8 */
  if (json_array_append_new(t->lines, json_string(line)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(line);
  t->last = mark;
  return rc;
}

json_t *keel_audit_trail_json(const keel_audit_trail *t)
{
  json_t *log = json_string(t->path);
  return json_pack(
      "{s:s, s:o, s:s, s:o, s:o, s:O}", "format", "keel-audit-chain/1", "log",
      log ? log : json_null(), "run_id", t->run_id, "seq",
      t->last.seq ? json_integer((json_int_t)t->last.seq) : json_null(), "head",
      t->last.seq ? json_string(t->last.hash) : json_null(), "lines", t->lines);
}

void keel_audit_trail_free(keel_audit_trail *t)
{
  if (!t)
    return;
  free(t->path);
  free(t->run_id);
  json_decref(t->lines);
  free(t);
}
