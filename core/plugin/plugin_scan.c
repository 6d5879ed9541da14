/* The plugin scanner (see plugin_scan.h).
 *
 * The child is a fork of the host, not an exec of a helper binary (as
 * GStreamer's gst-plugin-scanner) nor of /proc/self/exe: the checks it
 * runs are the loader's own, already in this process, so nothing has to
 * be found next to the binary of a relocated install, and every program
 * linking libkeel (the unit tests, plugin test hosts) scans the same way.
 * The host forks while it is single-threaded (registries are built before
 * any OpenMP region), and the child only loads, checks, writes one JSON
 * text and leaves with _exit. */
#include "plugin/plugin_scan.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/status.h"

/* The end of the child's captured output kept for a crash message. */
#define TAIL_BYTES 400
/* How long a scan may take: loading and checking one file is
 * milliseconds; a constructor that never returns must not hang keel. */
#define SCAN_SECONDS 20

json_t *keel_plugin_facts(const keel_loaded_plugin *p)
{
  const keel_plugin *d = &p->desc;
  json_t *params = json_array();
  for (size_t i = 0; params && d->params && i < d->n_params; i++)
    json_array_append_new(params, json_string(d->params[i].name));
  return json_pack(
      "{s:b, s:i, s:s, s:s, s:s, s:s*, s:[i,i], s:[i,i,i], s:{s:i, s:i}, "
      "s:o*}",
      "ok", 1, "kind", (int)d->kind, "name", d->name, "version", d->version,
      "summary", d->summary, "license", d->license, "abi", (int)d->abi_major,
      (int)d->abi_minor, "contract", (int)d->contract.tasks,
      (int)d->contract.accepts, (int)d->contract.flags, "build", "flags",
      (int)d->build_flags, "flt_eval_method", (int)d->flt_eval_method, "params",
      params);
}

keel_loaded_plugin *keel_plugin_from_facts(const json_t *facts,
                                           const char *path, const char *sha256)
{
  int kind = 0, abi_major = 0, abi_minor = 0, tasks = 0, accepts = 0;
  int flags = 0, build = 0, fem = 0;
  const char *name, *version, *summary, *license = NULL;
  if (json_unpack((json_t *)facts,
                  "{s:i, s:s, s:s, s:s, s?s, s:[i,i], s:[i,i,i], "
                  "s:{s:i, s:i}}",
                  "kind", &kind, "name", &name, "version", &version, "summary",
                  &summary, "license", &license, "abi", &abi_major, &abi_minor,
                  "contract", &tasks, &accepts, &flags, "build", "flags",
                  &build, "flt_eval_method", &fem) != 0 ||
      !keel_kind_name(kind))
    return NULL;
  keel_loaded_plugin *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  const char *src[4] = {name, version, summary, license};
  for (int i = 0; i < 4; i++)
    if (src[i] && !(p->text[i] = strdup(src[i])))
      goto fail;
  if (!(p->path = strdup(path)))
    goto fail;
  snprintf(p->sha256, sizeof p->sha256, "%s", sha256);
  p->desc.kind = (uint32_t)kind;
  p->desc.name = p->text[0];
  p->desc.version = p->text[1];
  p->desc.summary = p->text[2];
  p->desc.license = p->text[3];
  p->desc.abi_major = (uint32_t)abi_major;
  p->desc.abi_minor = (uint32_t)abi_minor;
  p->desc.contract.tasks = (uint32_t)tasks;
  p->desc.contract.accepts = (uint32_t)accepts;
  p->desc.contract.flags = (uint32_t)flags;
  p->desc.build_flags = (uint32_t)build;
  p->desc.flt_eval_method = fem;
  return p;
fail:
  keel_loaded_plugin_free(p);
  return NULL;
}

/* In the child: load and check, answer on fd, leave without running the
 * host's exit handlers or flushing its stdio buffers. */
static void child_scan(const char *path, int answer_fd, int output_fd)
{
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  keel_loaded_plugin *p = NULL;
  int kind = 0;
  char name[48] = "";
  keel_error why = {0};
  json_t *facts;
  if (keel__plugin_load_identity(path, &p, &kind, name, &why) == KEEL_OK)
    facts = keel_plugin_facts(p);
  else
    facts = json_pack("{s:b, s:s, s:i, s:s?}", "ok", 0, "reason", why.message,
                      "kind", kind, "name", name[0] ? name : NULL);
  char *text = facts ? json_dumps(facts, JSON_COMPACT) : NULL;
  size_t n = text ? strlen(text) : 0, done = 0;
  while (done < n) {
    ssize_t w = write(answer_fd, text + done, n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      _exit(3);
    done += (size_t)w;
  }
  _exit(text ? 0 : 4);
}

/* Appends what fd has to b (all of it), or to the tail window. 0 at EOF. */
static int drain(int fd, keel_buf *b, char *tail, size_t *tail_len)
{
  char chunk[4096];
  ssize_t r = read(fd, chunk, sizeof chunk);
  if (r < 0)
    return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (r == 0)
    return 0;
  if (b)
    return keel_buf_append(b, chunk, (size_t)r) == 0 ? 1 : -1;
  for (ssize_t i = 0; i < r; i++) {
    if (*tail_len == TAIL_BYTES) {
      memmove(tail, tail + 1, TAIL_BYTES - 1);
      (*tail_len)--;
    }
    tail[(*tail_len)++] = chunk[i];
  }
  return 1;
}

/* The child's answer, or a refusal saying how it died. */
static json_t *answer_of(const char *path, keel_buf *answer, int status,
                         const char *tail, size_t tail_len)
{
  if (answer->len) {
    json_t *facts =
        json_loadb((const char *)answer->data, answer->len, 0, NULL);
    if (facts && json_is_object(facts))
      return facts;
    json_decref(facts);
  }
  char how[64];
  if (WIFSIGNALED(status))
    snprintf(how, sizeof how, "was killed by signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
  else
    snprintf(how, sizeof how, "exited with status %d",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  char reason[PATH_MAX + TAIL_BYTES + 256]; /* cut to KEEL_ERROR_SIZE later */
  /* the plugin's own output is untrusted text: only printable ASCII */
  char shown[TAIL_BYTES + 1];
  size_t k = 0;
  for (size_t i = 0; i < tail_len; i++)
    shown[k++] = tail[i] >= 0x20 && tail[i] < 0x7f ? tail[i] : ' ';
  shown[k] = '\0';
  snprintf(reason, sizeof reason,
           "%s: the plugin scanner %s while loading it (a crash in its "
           "constructors or checks)%s%s",
           path, how, k ? "; its output ended: " : "", shown);
  return json_pack("{s:b, s:s, s:i}", "ok", 0, "reason", reason, "kind", 0);
}

int keel_plugin_scan_file(const char *path, json_t **facts, keel_error *err)
{
  *facts = NULL;
  int ans[2], out[2];
  if (pipe(ans) != 0)
    return keel_fail(err, KEEL_EIO, "%s: cannot scan: pipe: %s", path,
                     strerror(errno));
  if (pipe(out) != 0) {
    close(ans[0]);
    close(ans[1]);
    return keel_fail(err, KEEL_EIO, "%s: cannot scan: pipe: %s", path,
                     strerror(errno));
  }
  fflush(NULL); /* nothing buffered is written twice */
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(ans[0]), close(ans[1]), close(out[0]), close(out[1]);
    return keel_fail(err, KEEL_EIO, "%s: cannot scan: fork: %s", path,
                     strerror(e));
  }
  if (pid == 0) {
    close(ans[0]);
    close(out[0]);
    child_scan(path, ans[1], out[1]);
  }
  close(ans[1]);
  close(out[1]);
  keel_buf answer = {0};
  char tail[TAIL_BYTES];
  size_t tail_len = 0;
  struct pollfd fds[2] = {{ans[0], POLLIN, 0}, {out[0], POLLIN, 0}};
  int open_fds = 2, rc = KEEL_OK, timed_out = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (open_fds > 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left_ms = SCAN_SECONDS * 1000L - (now.tv_sec - start.tv_sec) * 1000L -
                   (now.tv_nsec - start.tv_nsec) / 1000000L;
    int ready = left_ms > 0 ? poll(fds, 2, (int)left_ms) : 0;
    if (ready == 0) {
      /* the child, and whatever it started, holds the pipes: stop it */
      timed_out = 1;
      kill(pid, SIGKILL);
      break;
    }
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      int more = drain(fds[i].fd, i == 0 ? &answer : NULL, tail, &tail_len);
      if (more < 0)
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      if (more <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (fds[i].fd >= 0)
      close(fds[i].fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!rc && timed_out) {
    char reason[PATH_MAX + 160];
    snprintf(reason, sizeof reason,
             "%s: the plugin scanner did not finish loading it within %d s "
             "(a constructor that never returns?); stopped",
             path, SCAN_SECONDS);
    *facts = json_pack("{s:b, s:s, s:i, s:b}", "ok", 0, "reason", reason,
                       "kind", 0, "timed_out", 1);
    if (!*facts)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else if (!rc) {
    *facts = answer_of(path, &answer, status, tail, tail_len);
    if (!*facts)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  keel_buf_free(&answer);
  return rc;
}
