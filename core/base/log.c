/* The process-wide log sink (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

static keel_log_sink sink_fn;
static void *sink_ctx;

void keel_log_set_sink(keel_log_sink fn, void *ctx)
{
  sink_fn = fn;
  sink_ctx = ctx;
}

void keel_log_vemit(keel_log_level level, const char *fmt, va_list ap)
{
  if (!sink_fn)
    return;
  char line[4096];
  vsnprintf(line, sizeof line, fmt, ap);
  sink_fn(sink_ctx, level, line);
}

void keel_log_emit(keel_log_level level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  keel_log_vemit(level, fmt, ap);
  va_end(ap);
}
