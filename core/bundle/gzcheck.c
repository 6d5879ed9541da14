/* keel_gzip_layer_problem: see gzcheck.h. zlib inflates the stream to
 * check CRC-32, length and that nothing follows (libarchive accepts a bad
 * CRC or trailing bytes); then the seal is recomputed. */
#include "bundle/gzcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/sha256.h"
#include "bundle/gzseg.h"

static char *problem(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *problem(const char *fmt, ...)
{
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return strdup(buf);
}

/* CRC-32, length, truncation, trailing bytes. */
static char *stream_problem(const unsigned char *data, size_t n)
{
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return strdup("out of memory checking the gzip stream");
  unsigned char out[65536];
  size_t fed = 0;
  char *why = NULL;
  for (;;) {
    /* zlib counts in uInt: feed at most 1 GiB at a time */
    if (zs.avail_in == 0 && fed < n) {
      size_t chunk = n - fed < (1u << 30) ? n - fed : (1u << 30);
      zs.next_in = (unsigned char *)data + fed;
      zs.avail_in = (uInt)chunk;
      fed += chunk;
    }
    zs.next_out = out;
    zs.avail_out = sizeof out;
    int zr = inflate(&zs, Z_NO_FLUSH);
    if (zr == Z_STREAM_END) {
      if (zs.avail_in > 0 || fed < n)
        why = problem("bytes after the end of the gzip stream, from byte %zu",
                      fed - zs.avail_in);
      break;
    }
    if (zr == Z_BUF_ERROR && zs.avail_in == 0 && fed == n) {
      why = strdup("the gzip stream is truncated");
      break;
    }
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      why = problem("the gzip stream is corrupt near byte %zu (bad data, "
                    "CRC or length)",
                    fed - zs.avail_in);
      break;
    }
  }
  inflateEnd(&zs);
  return why;
}

char *keel_gzip_layer_problem(const unsigned char *data, size_t n)
{
  if (n < 2 || data[0] != 0x1f || data[1] != 0x8b)
    return NULL;
  if (n < KEEL_GZSEG_HEADER_SIZE ||
      memcmp(data, keel_gzseg_header_prefix, KEEL_GZSEG_SEAL_OFFSET) != 0)
    return strdup("the gzip header is not the one keel writes (no seal, or "
                  "a name, time or flag set: re-compressed?)");
  char *why = stream_problem(data, n);
  if (why)
    return why;
  static const unsigned char zeros[KEEL_GZSEG_SEAL_SIZE];
  const size_t rest = KEEL_GZSEG_SEAL_OFFSET + KEEL_GZSEG_SEAL_SIZE;
  unsigned char got[32];
  keel_sha256 *h = keel_sha256_new();
  if (!h)
    return strdup("out of memory checking the gzip seal");
  keel_sha256_update(h, data, KEEL_GZSEG_SEAL_OFFSET);
  keel_sha256_update(h, zeros, sizeof zeros);
  keel_sha256_update(h, data + rest, n - rest);
  keel_sha256_final(h, got);
  if (memcmp(got, data + KEEL_GZSEG_SEAL_OFFSET, sizeof got) != 0)
    return strdup("the file's seal (SHA-256 in its gzip header) does not "
                  "match its bytes: the compressed file was altered");
  return NULL;
}
