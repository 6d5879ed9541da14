/* buffer: the one growable byte buffer of libkeel. Text (printf-style
 * appends, always NUL-terminated) and binary (raw appends) alike. A failed
 * allocation sets `failed` and turns every later append into a no-op, so a
 * writer appends freely and checks once at the end. */
#ifndef KEEL_BASE_BUFFER_H
#define KEEL_BASE_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

typedef struct keel_buf {
  unsigned char *data; /* NULL until the first append */
  size_t len;          /* bytes appended (the NUL after text not counted) */
  size_t cap;
  int failed; /* an allocation failed: the content is incomplete */
} keel_buf;

#define KEEL_BUF_INIT                                                          \
  {                                                                            \
    NULL, 0, 0, 0                                                              \
  }

/* Makes room for `more` bytes after len (and a NUL). 0 or KEEL_ENOMEM. */
int keel_buf_reserve(keel_buf *b, size_t more);
/* Appends n bytes. 0 or KEEL_ENOMEM (and b->failed set). */
int keel_buf_append(keel_buf *b, const void *src, size_t n);
/* Counts n more bytes as appended without writing them (room is made;
 * their content is unspecified): for a writer that must account for
 * bytes it will never read back, like the bundle's tar builder skipping
 * the data it compresses elsewhere. 0 or KEEL_ENOMEM. */
int keel_buf_advance(keel_buf *b, size_t n);
/* Appends formatted text; the data stays NUL-terminated. */
int keel_buf_printf(keel_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int keel_buf_vprintf(keel_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (NUL-terminated, never NULL unless the
 * buffer failed) and resets b; NULL when b->failed. */
char *keel_buf_take(keel_buf *b);
/* Frees the data and resets b. */
void keel_buf_free(keel_buf *b);

#endif
