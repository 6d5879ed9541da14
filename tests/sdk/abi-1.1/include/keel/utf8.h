/* keel SDK: the host's UTF-8 rule, for plugins and the host alike
 * (header-only, plain C).
 *
 * Every text the host takes from a plugin (column names, categorical
 * dictionaries, text cells, fitted-state strings) must be valid UTF-8: the
 * host refuses anything else, naming the plugin and the column or key
 * (docs/plugin-guide.md). Valid means RFC 3629: no overlong encodings, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence. A source that reads bytes of another encoding transcodes them
 * (keel_latin1_to_utf8) or refuses them with the place they were found. */
#ifndef KEEL_UTF8_H
#define KEEL_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The length (2..4) of the valid sequence that starts at p[0] (a byte
 * >= 0x80) within p[0, n); 0 when it is invalid there; -1 when it is a
 * valid but incomplete start cut off at n. */
static inline int keel_utf8_seq_len(const unsigned char *p, size_t n)
{
  int len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    len = 2;
  } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
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
  } else {
    return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
  }
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n)
      return -1;
    unsigned char c = p[i];
    if (i == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xbf))
      return 0;
  }
  return len;
}

/* The offset of the first byte of s[0, n) that is not part of a valid
 * UTF-8 sequence (a truncated one at the end included), or n when all of
 * it is valid. ASCII is checked eight bytes at a time: only bytes >= 0x80
 * take the slow path. */
static inline size_t keel_utf8_check(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      uint64_t w;
      memcpy(&w, p + i, sizeof w);
      if (!(w & UINT64_C(0x8080808080808080))) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    int len = keel_utf8_seq_len(p + i, n - i);
    if (len <= 0)
      return i;
    i += (size_t)len;
  }
  return n;
}

/* Writes the UTF-8 form of the Latin-1 (ISO 8859-1) bytes src[0, n) to dst,
 * which holds at least 2 * n bytes, and returns its length. Lossless: each
 * byte is the code point of the same number. */
static inline size_t keel_latin1_to_utf8(const char *src, size_t n, char *dst)
{
  const unsigned char *p = (const unsigned char *)src;
  unsigned char *d = (unsigned char *)dst;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x80) {
      *d++ = p[i];
    } else {
      *d++ = (unsigned char)(0xc0 | (p[i] >> 6));
      *d++ = (unsigned char)(0x80 | (p[i] & 0x3f));
    }
  }
  return (size_t)(d - (unsigned char *)dst);
}

#endif /* KEEL_UTF8_H */
