/* Shared CLI helpers (see cli_common.h). */
#define _GNU_SOURCE /* fopencookie */
#include "cli/cli_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/escape.h"

/* One filtered stream: the raw stream it writes to and the start of a
 * UTF-8 sequence that a write cut in two. */
typedef struct filter {
  FILE *raw;
  unsigned char pending[4];
  size_t n_pending;
} filter;

static filter out_filter, err_filter;
static FILE *raw_stdout, *raw_stderr;

static int filter_emit(filter *f, const char *buf, size_t size, unsigned fl)
{
  keel_buf in = KEEL_BUF_INIT, out = KEEL_BUF_INIT;
  keel_buf_append(&in, f->pending, f->n_pending);
  keel_buf_append(&in, buf, size);
  size_t used = in.failed ? 0
                          : keel_escape(&out, (const char *)in.data, in.len,
                                        KEEL_ESCAPE_KEEP_NEWLINE | fl);
  int rc = in.failed || out.failed ? -1 : 0;
  if (!rc) {
    f->n_pending = in.len - used; /* below 4: one incomplete sequence */
    memcpy(f->pending, in.data + used, f->n_pending);
    if (out.len && fwrite(out.data, 1, out.len, f->raw) != out.len)
      rc = -1;
  }
  keel_buf_free(&in);
  keel_buf_free(&out);
  return rc;
}

static ssize_t filter_write(void *c, const char *buf, size_t size)
{
  if (filter_emit(c, buf, size, KEEL_ESCAPE_PARTIAL))
    return -1;
  return (ssize_t)size;
}

static int filter_close(void *c)
{
  filter *f = c;
  int rc = filter_emit(f, "", 0, 0);
  return fflush(f->raw) || rc ? EOF : 0;
}

static void output_fini(void)
{
  if (!raw_stdout)
    return;
  fclose(stdout);
  fclose(stderr);
  stdout = raw_stdout;
  stderr = raw_stderr;
  raw_stdout = raw_stderr = NULL;
}

static FILE *filtered(filter *f, FILE *raw, int mode)
{
  f->raw = raw;
  f->n_pending = 0;
  cookie_io_functions_t io = {NULL, filter_write, NULL, filter_close};
  FILE *fp = fopencookie(f, "w", io);
  if (fp)
    setvbuf(fp, NULL, mode, BUFSIZ);
  return fp;
}

void keel_cli_output_init(void)
{
  if (raw_stdout)
    return;
  FILE *o =
      filtered(&out_filter, stdout, isatty(fileno(stdout)) ? _IOLBF : _IOFBF);
  FILE *e = filtered(&err_filter, stderr, _IONBF);
  if (!o || !e || atexit(output_fini)) {
    if (o)
      fclose(o);
    if (e)
      fclose(e);
    return; /* out of memory at start: print unfiltered rather than not */
  }
  raw_stdout = stdout;
  raw_stderr = stderr;
  stdout = o;
  stderr = e;
}

FILE *keel_cli_machine_stdout(void)
{
  if (!raw_stdout)
    return stdout;
  fflush(stdout);
  return raw_stdout;
}

FILE *keel_cli_terminal_stderr(void)
{
  return raw_stderr ? raw_stderr : stderr;
}

void keel_cli_error(const char *cmd, const char *fmt, ...)
{
  keel_buf msg = KEEL_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  keel_buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "keel %s: ", cmd);
  keel_escape_fputs(stderr, msg.failed ? "out of memory" : (char *)msg.data);
  fputc('\n', stderr);
  keel_buf_free(&msg);
}

void keel_cli_log_to_stderr(void *ctx, keel_log_level level,
                            const char *message)
{
  (void)ctx;
  static const char *const names[] = {"debug", "info", "warning"};
  fprintf(stderr, "keel: %s: ", names[level <= KEEL_LOG_WARN ? level : 2]);
  keel_escape_fputs(stderr, message);
  fputc('\n', stderr);
}
