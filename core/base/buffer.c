/* The growable buffer (see buffer.h). */
#include "base/buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

int keel_buf_reserve(keel_buf *b, size_t more)
{
  if (b->failed)
    return KEEL_ENOMEM;
  if (more > (size_t)-1 / 2 - b->len) {
    b->failed = 1;
    return KEEL_ENOMEM;
  }
  size_t need = b->len + more + 1;
  if (need <= b->cap)
    return KEEL_OK;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  unsigned char *p = realloc(b->data, cap);
  if (!p) {
    b->failed = 1;
    return KEEL_ENOMEM;
  }
  b->data = p;
  b->cap = cap;
  return KEEL_OK;
}

int keel_buf_append(keel_buf *b, const void *src, size_t n)
{
  if (keel_buf_reserve(b, n))
    return KEEL_ENOMEM;
  if (n)
    memcpy(b->data + b->len, src, n);
  b->len += n;
  b->data[b->len] = '\0';
  return KEEL_OK;
}

int keel_buf_advance(keel_buf *b, size_t n)
{
  if (keel_buf_reserve(b, n))
    return KEEL_ENOMEM;
  b->len += n;
  b->data[b->len] = '\0';
  return KEEL_OK;
}

int keel_buf_vprintf(keel_buf *b, const char *fmt, va_list ap)
{
  if (b->failed)
    return KEEL_ENOMEM;
  va_list again;
  va_copy(again, ap);
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  int k = vsnprintf(room ? (char *)b->data + b->len : NULL, room, fmt, ap);
  if (k >= 0 && (size_t)k >= room) {
    if (keel_buf_reserve(b, (size_t)k) == KEEL_OK)
      vsnprintf((char *)b->data + b->len, (size_t)k + 1, fmt, again);
    else
      k = -1;
  }
  va_end(again);
  if (k < 0) {
    b->failed = 1;
    return KEEL_ENOMEM;
  }
  b->len += (size_t)k;
  return KEEL_OK;
}

int keel_buf_printf(keel_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = keel_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *keel_buf_take(keel_buf *b)
{
  if (b->failed) {
    keel_buf_free(b);
    return NULL;
  }
  if (!b->data) {
    if (keel_buf_reserve(b, 0))
      return NULL;
    b->data[0] = '\0';
  }
  char *s = (char *)b->data;
  *b = (keel_buf)KEEL_BUF_INIT;
  return s;
}

void keel_buf_free(keel_buf *b)
{
  free(b->data);
  *b = (keel_buf)KEEL_BUF_INIT;
}
