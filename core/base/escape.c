/* The one escaping rule for text shown to a person (see escape.h). */
#include "base/escape.h"

#include <string.h>

#include "keel/utf8.h"

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
      int len = keel_utf8_seq_len(p + i, n - i);
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
