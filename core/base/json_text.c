/* Checked JSON strings (see json_text.h). */
#include "base/json_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buffer.h"
#include "base/escape.h"
#include "base/status.h"
#include "keel/utf8.h"

/* The longest piece of the offending text a message quotes. */
#define SHOWN_MAX 60

static json_t *text_v(const char *s, keel_error *err, const char *what,
                      va_list ap)
{
  size_t n = strlen(s);
  size_t bad = keel_utf8_check(s, n);
  if (bad == n) {
    json_t *j = json_stringn(s, n);
    if (!j)
      keel_fail(err, KEEL_ENOMEM, "out of memory");
    return j;
  }
  char label[KEEL_ERROR_SIZE / 2];
  vsnprintf(label, sizeof label, what, ap);
  keel_buf shown = KEEL_BUF_INIT;
  keel_escape(&shown, s, n > SHOWN_MAX ? SHOWN_MAX : n, 0);
  keel_fail(
      err, KEEL_EINVAL,
      "%s is not valid UTF-8 (byte 0x%02x at byte %zu): '%.*s%s'; "
      "expected UTF-8 text",
      label, (unsigned char)s[bad], bad + 1, shown.failed ? 0 : (int)shown.len,
      shown.data ? (const char *)shown.data : "", n > SHOWN_MAX ? "..." : "");
  keel_buf_free(&shown);
  return NULL;
}

json_t *keel_json_text(const char *s, keel_error *err, const char *what, ...)
{
  va_list ap;
  va_start(ap, what);
  json_t *j = text_v(s ? s : "", err, what, ap);
  va_end(ap);
  return j;
}

int keel_json_set_text(json_t *obj, const char *key, const char *s,
                       keel_error *err, const char *what, ...)
{
  va_list ap;
  va_start(ap, what);
  json_t *j = text_v(s ? s : "", err, what, ap);
  va_end(ap);
  if (!j)
    return err && err->code ? err->code : KEEL_EINVAL;
  if (json_object_set_new(obj, key, j)) /* a key not UTF-8, or no memory */
    return keel_fail(err, KEEL_EINVAL, "JSON key '%s' could not be set", key);
  return KEEL_OK;
}

int keel_json_append_text(json_t *arr, const char *s, keel_error *err,
                          const char *what, ...)
{
  va_list ap;
  va_start(ap, what);
  json_t *j = text_v(s ? s : "", err, what, ap);
  va_end(ap);
  if (!j)
    return err && err->code ? err->code : KEEL_EINVAL;
  if (json_array_append_new(arr, j))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

json_t *keel_json_message(const char *s)
{
  keel_buf b = KEEL_BUF_INIT;
  keel_escape(&b, s ? s : "", s ? strlen(s) : 0, KEEL_ESCAPE_KEEP_NEWLINE);
  json_t *j =
      b.failed ? NULL : json_stringn(b.data ? (const char *)b.data : "", b.len);
  keel_buf_free(&b);
  return j;
}
