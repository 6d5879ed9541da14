/* Segmented gzip (gzseg.h): independently deflated segments chained into
 * one gzip member. zlib does all the compressing; this file only writes
 * the 10-byte gzip header and the 8-byte trailer around them (RFC 1952). */
#include "bundle/gzseg.h"
#include "base/sha256.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <zlib.h>

#include "base/status.h"
#include "keel/error.h"

/* Input is handed to zlib in pieces of at most this many bytes (avail_in
 * is an unsigned int). A fixed size, so the pieces, and with them the
 * output, depend on the input length only. */
#define FEED_MAX ((size_t)1 << 30)

static unsigned long crc_of(unsigned long crc, const unsigned char *p, size_t n)
{
  while (n) {
    size_t k = n < FEED_MAX ? n : FEED_MAX;
    crc = crc32(crc, p, (uInt)k);
    p += k;
    n -= k;
  }
  return crc;
}

static uInt clamp_uint(size_t n)
{
  return n > FEED_MAX ? (uInt)FEED_MAX : (uInt)n;
}

static z_stream *new_stream(int level)
{
  z_stream *zs = calloc(1, sizeof *zs);
  if (zs &&
      deflateInit2(zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    free(zs);
    zs = NULL;
  }
  return zs;
}

static void end_stream(z_stream *zs)
{
  if (zs) {
    deflateEnd(zs);
    free(zs);
  }
}

void keel_gzseg_deflater_free(keel_gzseg_deflater *d)
{
  if (!d)
    return;
  for (int i = 0; i < 10; i++)
    end_stream(d->zs[i]);
  memset(d, 0, sizeof *d);
}

static int deflate_raw(keel_gzseg_deflater *d, const keel_gzseg_span *in,
                       size_t n_in, int level, int flush, unsigned char **out,
                       size_t *out_n);

int keel_gzseg_deflater_warm(keel_gzseg_deflater *d, int level)
{
  enum { WARM = 1 << 16 }; /* zlib's window, hash chains, pending buffer */
  unsigned char *noise;
  unsigned char *out = NULL;
  size_t out_n;
  unsigned x = 1;
  keel_gzseg_span span;
  int rc;
  if (level < 0 || level > 9)
    return KEEL_EINVAL;
  if (!d->zs[level])
    d->zs[level] = new_stream(level);
  if (!d->zs[level])
    return KEEL_ENOMEM;
  /* zlib's buffers are allocated but not yet touched: compressing 64 KiB
   * of noise once makes the kernel map their pages now rather than during
   * the first real segment. */
  noise = malloc(WARM);
  if (!noise)
    return KEEL_ENOMEM;
  for (size_t i = 0; i < WARM; i++) {
    x = x * 1103515245u + 12345u;
    noise[i] = (unsigned char)(x >> 16);
  }
  span.p = noise;
  span.n = WARM;
  rc = deflate_raw(d, &span, 1, level, Z_SYNC_FLUSH, &out, &out_n);
  free(out);
  free(noise);
  return rc;
}

/* Deflates the concatenation of in[0..n_in) with a raw stream at level,
 * from d (reset) or a fresh one, ending with flush (Z_SYNC_FLUSH for a
 * segment, Z_FINISH for the final block). Input is fed span by span in
 * pieces of at most FEED_MAX; the output buffer starts at deflateBound +
 * 64 bytes and doubles when full. Both depend on the spans only, so the
 * bytes do too (level 0's stored blocks are cut where input or output
 * room ends; levels 1-9 do not depend on the pieces at all). */
static int deflate_raw(keel_gzseg_deflater *d, const keel_gzseg_span *in,
                       size_t n_in, int level, int flush, unsigned char **out,
                       size_t *out_n)
{
  z_stream *zs = d ? d->zs[level] : NULL, *fresh = NULL;
  unsigned char *buf;
  size_t cap, n = 0, left, produced, span = 0, span_at = 0;
  int zr, rc = 0;
  for (size_t i = 0; i < n_in; i++)
    n += in[i].n;
  left = n;
  *out = NULL;
  *out_n = 0;
  if (!zs) {
    zs = fresh = new_stream(level);
    if (!zs)
      return KEEL_ENOMEM;
    if (d) {
      d->zs[level] = zs;
      fresh = NULL; /* kept */
    }
  } else if (deflateReset(zs) != Z_OK) {
    return KEEL_EIO;
  }
  cap = (size_t)deflateBound(zs, (uLong)n) + 64;
  buf = malloc(cap);
  if (!buf) {
    end_stream(fresh);
    return KEEL_ENOMEM;
  }
  zs->next_out = buf;
  zs->avail_out = clamp_uint(cap);
  for (;;) {
    int mode;
    if (zs->avail_in == 0 && left) {
      size_t k;
      while (span_at == in[span].n) { /* next non-empty span */
        span++;
        span_at = 0;
      }
      k = in[span].n - span_at;
      if (k > FEED_MAX)
        k = FEED_MAX;
      /* zlib does not write through next_in */
      zs->next_in =
          (Bytef *)(uintptr_t)((const unsigned char *)in[span].p + span_at);
      zs->avail_in = (uInt)k;
      span_at += k;
      left -= k;
    }
    mode = left ? Z_NO_FLUSH : flush;
    if (zs->avail_out == 0) {
      unsigned char *grown;
      produced = (size_t)zs->total_out;
      if (produced == cap) {
        grown = realloc(buf, 2 * cap);
        if (!grown) {
          rc = KEEL_ENOMEM;
          break;
        }
        buf = grown;
        cap *= 2;
      }
      zs->next_out = buf + produced;
      zs->avail_out = clamp_uint(cap - produced);
    }
    zr = deflate(zs, mode);
    if (zr == Z_STREAM_END)
      break;
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = KEEL_EIO;
      break;
    }
    /* A flush is complete once it returned with output room to spare. */
    if (mode == Z_SYNC_FLUSH && zs->avail_in == 0 && zs->avail_out != 0)
      break;
  }
  produced = (size_t)zs->total_out;
  zs->next_in = NULL; /* nothing of the caller's stays in d */
  zs->next_out = NULL;
  end_stream(fresh);
  if (rc) {
    free(buf);
    return rc;
  }
  *out = buf;
  *out_n = produced;
  return 0;
}

int keel_gzseg_compressv(keel_gzseg_deflater *d, const keel_gzseg_span *in,
                         size_t n_in, int level, keel_gzseg_seg *seg)
{
  memset(seg, 0, sizeof *seg);
  if (level < 0 || level > 9)
    return KEEL_EINVAL;
  seg->crc = crc32(0L, Z_NULL, 0);
  for (size_t i = 0; i < n_in; i++) {
    seg->crc = crc_of(seg->crc, in[i].p, in[i].n);
    seg->in_size += in[i].n;
  }
  if (seg->in_size == 0)
    return 0;
  return deflate_raw(d, in, n_in, level, Z_SYNC_FLUSH, &seg->data, &seg->size);
}

void keel_gzseg_seg_free(keel_gzseg_seg *seg)
{
  if (!seg)
    return;
  free(seg->data);
  memset(seg, 0, sizeof *seg);
}

/* Adds a piece; owned (may be NULL) is freed with the writer, also when
 * this fails. */
static int put(keel_gzseg_writer *w, const unsigned char *p, size_t n,
               unsigned char *owned)
{
  if (w->n_pieces == w->cap_pieces) {
    size_t cap = w->cap_pieces ? 2 * w->cap_pieces : 64;
    keel_gzseg_piece *grown = realloc(w->pieces, cap * sizeof *grown);
    if (!grown) {
      free(owned);
      return KEEL_ENOMEM;
    }
    w->pieces = grown;
    w->cap_pieces = cap;
  }
  w->pieces[w->n_pieces].p = p;
  w->pieces[w->n_pieces].n = n;
  w->pieces[w->n_pieces].owned = owned;
  w->n_pieces++;
  w->len += n;
  return 0;
}

/* ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL=0 OS=Unix, XLEN=36, then
 * the subfield SI1 SI2 = 'K' 'S' with LEN=32; the seal follows. */
const unsigned char keel_gzseg_header_prefix[KEEL_GZSEG_SEAL_OFFSET] = {
    0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 36, 0, 'K', 'S', 32, 0};

int keel_gzseg_begin(keel_gzseg_writer *w, keel_gzseg_deflater *d)
{
  memset(w, 0, sizeof *w);
  w->defl = d ? d : &w->own;
  w->crc = crc32(0L, Z_NULL, 0);
  memcpy(w->header, keel_gzseg_header_prefix, sizeof keel_gzseg_header_prefix);
  return put(w, w->header, sizeof w->header, NULL);
}

/* The seal: SHA-256 of every piece, the seal's own bytes still zero. */
static int seal(keel_gzseg_writer *w)
{
  keel_sha256 *h = keel_sha256_new();
  if (!h)
    return KEEL_ENOMEM;
  for (size_t i = 0; i < w->n_pieces; i++)
    keel_sha256_update(h, w->pieces[i].p, w->pieces[i].n);
  keel_sha256_final(h, w->header + KEEL_GZSEG_SEAL_OFFSET);
  return 0;
}

static void account(keel_gzseg_writer *w, const keel_gzseg_seg *seg)
{
  w->crc = crc32_combine(w->crc, seg->crc, (z_off_t)seg->in_size);
  w->isize += seg->in_size;
}

int keel_gzseg_append(keel_gzseg_writer *w, const keel_gzseg_seg *seg)
{
  int rc;
  if (w->finished)
    return KEEL_EINVAL;
  rc = seg->size ? put(w, seg->data, seg->size, NULL) : 0;
  if (!rc)
    account(w, seg);
  return rc;
}

int keel_gzseg_add(keel_gzseg_writer *w, const void *in, size_t n, int level)
{
  keel_gzseg_span span = {in, n};
  return keel_gzseg_addv(w, &span, 1, level);
}

int keel_gzseg_addv(keel_gzseg_writer *w, const keel_gzseg_span *in,
                    size_t n_in, int level)
{
  keel_gzseg_seg seg;
  int rc;
  if (w->finished)
    return KEEL_EINVAL;
  rc = keel_gzseg_compressv(w->defl, in, n_in, level, &seg);
  if (rc)
    return rc;
  account(w, &seg);
  return seg.size ? put(w, seg.data, seg.size, seg.data) : 0;
}

int keel_gzseg_finish(keel_gzseg_writer *w)
{
  unsigned char *last;
  size_t last_n;
  int rc;
  if (w->finished)
    return KEEL_EINVAL;
  /* The empty final block, as zlib writes it (fixed Huffman: 03 00). */
  rc = deflate_raw(w->defl, NULL, 0, 1, Z_FINISH, &last, &last_n);
  if (rc)
    return rc;
  rc = put(w, last, last_n, last);
  if (rc)
    return rc;
  for (int i = 0; i < 4; i++) {
    w->trailer[i] = (unsigned char)((w->crc >> (8 * i)) & 0xff);
    w->trailer[4 + i] = (unsigned char)((w->isize >> (8 * i)) & 0xff);
  }
  rc = put(w, w->trailer, sizeof w->trailer, NULL);
  if (!rc)
    rc = seal(w);
  if (!rc)
    w->finished = 1;
  return rc;
}

int keel_gzseg_write_fd(const keel_gzseg_writer *w, int fd, const char *path,
                        keel_error *err)
{
  struct iovec iov[64];
  size_t at = 0, skip = 0; /* piece, bytes of it already written */
  if (!w->finished)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: the gzip stream is not "
                     "finished (internal error)",
                     path);
  while (at < w->n_pieces) {
    int k = 0;
    ssize_t done;
    for (size_t i = at; i < w->n_pieces && k < 64; i++, k++) {
      iov[k].iov_base =
          (void *)(uintptr_t)(w->pieces[i].p + (i == at ? skip : 0));
      iov[k].iov_len = w->pieces[i].n - (i == at ? skip : 0);
    }
    done = writev(fd, iov, k);
    if (done < 0 && errno == EINTR)
      continue;
    if (done <= 0)
      return keel_fail(err, KEEL_EIO, "%s: write failed: %s", path,
                       done == 0 ? "no progress" : strerror(errno));
    while (done > 0) {
      size_t left = w->pieces[at].n - skip;
      if ((size_t)done >= left) {
        done -= (ssize_t)left;
        at++;
        skip = 0;
      } else {
        skip += (size_t)done;
        done = 0;
      }
    }
  }
  return KEEL_OK;
}

void keel_gzseg_writer_free(keel_gzseg_writer *w)
{
  if (!w)
    return;
  for (size_t i = 0; i < w->n_pieces; i++)
    free(w->pieces[i].owned);
  free(w->pieces);
  keel_gzseg_deflater_free(&w->own);
  memset(w, 0, sizeof *w);
}
