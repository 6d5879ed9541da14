/* Segmented gzip: one gzip member (RFC 1952) whose deflate stream is a
 * chain of independently compressed segments.
 *
 * Each segment is a fresh raw deflate stream (zlib, windowBits -15, no
 * dictionary, nothing carried over from the previous segment) ended with
 * Z_SYNC_FLUSH: its blocks are not final and it ends on a byte boundary,
 * so segments can simply be concatenated. The writer ends the chain with
 * one empty final block and the gzip trailer (CRC-32 and length of all the
 * uncompressed bytes). Any gzip reader (zlib, gzip, libarchive) reads the
 * result as one ordinary member.
 *
 * A segment's bytes are a pure function of (its input bytes, its level)
 * for a given zlib: compressing it early, late or on another thread and
 * splicing it in gives the same file. That is what lets the bundle builder
 * compress members in the background while the run goes on and still
 * write byte-identical bundles. */
#ifndef KEEL_BUNDLE_GZSEG_H
#define KEEL_BUNDLE_GZSEG_H

#include <stddef.h>
#include <stdint.h>

#include "keel/error.h"

/* One compressed segment. */
typedef struct keel_gzseg_seg {
  unsigned char *data; /* raw deflate bytes (malloc'd; NULL when empty) */
  size_t size;
  uint64_t in_size;  /* uncompressed length */
  unsigned long crc; /* CRC-32 of the uncompressed bytes */
} keel_gzseg_seg;

/* Reusable compressor state, one zlib deflate stream per level, made on
 * first use and reset (deflateReset) between segments: making one costs
 * about 270 KB of fresh memory, more than compressing a few KB. zlib
 * documents a reset stream as equivalent to a new one, so the bytes are
 * the same either way. One thread at a time per deflater. Zero it
 * (= {0}) before use. */
typedef struct keel_gzseg_deflater {
  void *zs[10];
} keel_gzseg_deflater;
void keel_gzseg_deflater_free(keel_gzseg_deflater *d);
/* Makes d's stream for level now and runs it once over 64 KiB, so that
 * its first real segment pays neither for making it nor for the first
 * touch of its memory. 0, KEEL_EINVAL, KEEL_ENOMEM or KEEL_EIO. */
int keel_gzseg_deflater_warm(keel_gzseg_deflater *d, int level);

/* A piece of input. */
typedef struct keel_gzseg_span {
  const void *p;
  size_t n;
} keel_gzseg_span;

/* Compresses the concatenation of in[0..n_in) (without copying it) at
 * level (0 = stored .. 9) into *seg (cleared first), with d's stream for
 * that level (d NULL: a fresh one). The same bytes give the same segment,
 * however they are cut into spans; no bytes give an empty segment. 0, or
 * KEEL_ENOMEM / KEEL_EINVAL (bad level) / KEEL_EIO (zlib failure). */
int keel_gzseg_compressv(keel_gzseg_deflater *d, const keel_gzseg_span *in,
                         size_t n_in, int level, keel_gzseg_seg *seg);
void keel_gzseg_seg_free(keel_gzseg_seg *seg);

/* A gzip file being assembled: a list of pieces written out at the end
 * with writev, so segments made elsewhere are not copied. */
typedef struct keel_gzseg_piece {
  const unsigned char *p;
  size_t n;
  unsigned char *owned; /* p when the writer owns it, else NULL */
} keel_gzseg_piece;

/* The header keel writes: RFC 1952 with FLG = FEXTRA and one extra
 * subfield 'K' 'S' (keel seal) of 32 bytes holding the SHA-256 of the
 * whole file with those 32 bytes zero. Every gzip reader skips extra
 * fields; `keel verify` recomputes the seal, so a flipped bit anywhere in
 * the file — even one that changes no member, such as a padding bit or a
 * match distance that copies the same bytes — is caught. */
#define KEEL_GZSEG_HEADER_SIZE 48
#define KEEL_GZSEG_SEAL_OFFSET 16
#define KEEL_GZSEG_SEAL_SIZE 32
extern const unsigned char keel_gzseg_header_prefix[KEEL_GZSEG_SEAL_OFFSET];

typedef struct keel_gzseg_writer {
  keel_gzseg_piece *pieces;
  size_t n_pieces, cap_pieces;
  size_t len;        /* gzip bytes in all */
  unsigned long crc; /* of all uncompressed bytes so far */
  uint64_t isize;
  int finished;
  unsigned char header[KEEL_GZSEG_HEADER_SIZE]; /* the seal set by finish */
  unsigned char trailer[8];
  keel_gzseg_deflater *defl; /* for keel_gzseg_add and the final block */
  keel_gzseg_deflater own;   /* defl when begin was given none */
} keel_gzseg_writer;

/* Starts a gzip file in w (overwritten; w must not move until it is
 * written out): the 48-byte header above, with no name, no time, XFL 0
 * and OS 3 (Unix) on every machine: 1f 8b 08 04 00000000 00 03, XLEN 36,
 * 'K' 'S', LEN 32, the seal. d: the deflater keel_gzseg_add uses
 * (borrowed; NULL: the writer's own). 0 or KEEL_ENOMEM. */
int keel_gzseg_begin(keel_gzseg_writer *w, keel_gzseg_deflater *d);
/* Appends a segment made by keel_gzseg_compressv. Its bytes are borrowed:
 * seg must stay until the writer is written out or freed. */
int keel_gzseg_append(keel_gzseg_writer *w, const keel_gzseg_seg *seg);
/* Compresses in[0..n) at level now and appends it: the same bytes as
 * keel_gzseg_compressv of one span + keel_gzseg_append. */
int keel_gzseg_add(keel_gzseg_writer *w, const void *in, size_t n, int level);
/* Same with spans: the bytes of keel_gzseg_compressv + keel_gzseg_append. */
int keel_gzseg_addv(keel_gzseg_writer *w, const keel_gzseg_span *in,
                    size_t n_in, int level);
/* Ends the stream: an empty final deflate block, CRC-32, ISIZE; then
 * computes the seal into the header. */
int keel_gzseg_finish(keel_gzseg_writer *w);
/* Writes the whole (finished) file to fd. 0, or KEEL_EIO (KEEL_EINVAL
 * for an unfinished writer) with err naming path, the file fd is. */
int keel_gzseg_write_fd(const keel_gzseg_writer *w, int fd, const char *path,
                        keel_error *err);
void keel_gzseg_writer_free(keel_gzseg_writer *w);

#endif
