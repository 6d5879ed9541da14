/* How the config layer reports a failure (see config_error.h). */
#include "config/config_error.h"

#include <stdio.h>

int keel_config_vfail(keel_error *err, int code, const char *file, int line,
                      const char *fmt, va_list ap)
{
  if (!err)
    return code;
  size_t size = sizeof err->message;
  size_t used = 0;
  if (file) {
    int n = snprintf(err->message, size, "%s:%d: ", file, line);
    used = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
  }
  err->message[used] = '\0';
  vsnprintf(err->message + used, size - used, fmt, ap);
  err->code = code;
  return code;
}

int keel_config_fail(keel_error *err, int code, const char *file, int line,
                     const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = keel_config_vfail(err, code, file, line, fmt, ap);
  va_end(ap);
  return rc;
}
