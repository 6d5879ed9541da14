/* The one escaping rule for text shown to a person (see escape.h). */
#include "base/escape.h"

#include <string.h>

/* The length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 when it
 * is invalid, or -1 when it is a valid but incomplete start within n. */
static int utf8_len(const unsigned char *p, size_t n)
{
  int len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (p[0] >= 0xc2 && p[0] <= 0xdf)
    len = 2;
  else if (p[0] >= 0xe0 && p[0] <= 0xef) {
    len = 3;
    if (p[0] == 0xe0)
      lo = 0xa0; /* overlong */
    else if (p[0] == 0xed)
      hi = 0x9f; /* surrogates */
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    len = 4;
    if (p[0] == 0xf0)
      lo = 0x90; /* overlong */
    else if (p[0] == 0xf4)
      hi = 0x8f; /* above U+10FFFF */
  } else
    return 0;
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n)
      return -1;
    unsigned char c = p[i];
    if (i == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xbf))
      return 0;
  }
  return len;
}

size_t keel_escape(keel_buf *out, const char *text, size_t n, unsigned flags)
{
  const unsigned char *p = (const unsigned char *)text;
  size_t i = 0, run = 0; /* run: bytes from i - run to copy as they are */
  while (i < n) {
    unsigned char c = p[i];
    int keep;
    size_t step = 1;
    if (c < 0x80)
      keep = (c >= 0x20 && c != 0x7f) || c == '\t' ||
             (c == '\n' && (flags & KEEL_ESCAPE_KEEP_NEWLINE));
    else {
      int len = utf8_len(p + i, n - i);
      if (len < 0 && (flags & KEEL_ESCAPE_PARTIAL)) {
        keel_buf_append(out, p + i - run, run);
        return i;
      }
      keep = len > 0;
      if (keep)
        step = (size_t)len;
    }
    if (keep) {
      run += step;
      i += step;
      continue;
    }
    keel_buf_append(out, p + i - run, run);
    run = 0;
    keel_buf_printf(out, "\\x%02x", c);
    i++;
  }
  keel_buf_append(out, p + i - run, run);
  return n;
}

int keel_escape_fputs(FILE *fp, const char *text)
{
  keel_buf b = KEEL_BUF_INIT;
  keel_escape(&b, text, strlen(text), 0);
  int rc = 0;
  if (b.failed)
    rc = EOF;
  else if (b.len && fwrite(b.data, 1, b.len, fp) != b.len)
    rc = EOF;
  keel_buf_free(&b);
  return rc;
}
