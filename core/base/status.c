/* Status codes as text and keel_error formatting (see status.h). */
#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *keel_strerror(int code)
{
  switch (code) {
  case KEEL_OK: return "ok";
  case KEEL_EINVAL: return "invalid argument or configuration";
  case KEEL_ENOMEM: return "out of memory";
  case KEEL_EIO: return "input/output error";
  case KEEL_EDATA: return "bad data";
  case KEEL_ESCHEMA: return "schema mismatch";
  case KEEL_EPLUGIN: return "bad plugin";
  case KEEL_EINTEGRITY: return "integrity check failed";
  case KEEL_ENOTFOUND: return "not found";
  case KEEL_ERANGE: return "value out of range";
  case KEEL_EDIVERGED: return "training diverged";
  case KEEL_EUNSUPPORTED: return "not supported";
  default: return "unknown error";
  }
}

int keel_fail(keel_error *err, int code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

static void prefix_v(keel_error *err, const char *fmt, va_list ap)
{
  char prefix[KEEL_ERROR_SIZE];
  char old[KEEL_ERROR_SIZE];
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  memcpy(old, err->message, sizeof old);
  char joined[2 * KEEL_ERROR_SIZE + 2];
  snprintf(joined, sizeof joined, "%s: %s", prefix, old);
  memcpy(err->message, joined, sizeof err->message - 1);
  err->message[sizeof err->message - 1] = '\0';
}

void keel_error_prefix(keel_error *err, const char *fmt, ...)
{
  if (!err)
    return;
  va_list ap;
  va_start(ap, fmt);
  prefix_v(err, fmt, ap);
  va_end(ap);
}

void keel_error_prefix_plugin(keel_error *err, const char *plugin,
                              const char *fmt, ...)
{
  if (!err)
    return;
  size_t n = plugin ? strlen(plugin) : 0;
  if (n && strncmp(err->message, plugin, n) == 0 &&
      strncmp(err->message + n, ": ", 2) == 0)
    memmove(err->message, err->message + n + 2,
            strlen(err->message + n + 2) + 1);
  va_list ap;
  va_start(ap, fmt);
  prefix_v(err, fmt, ap);
  va_end(ap);
}
