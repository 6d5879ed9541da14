/* The gzip layer of a bundle, checked beyond what a reader needs: keel's
 * header with its seal (gzseg.h: the SHA-256 of the whole file), CRC-32
 * and length, nothing after the stream. Readers ignore a flip that changes
 * no member (a padding bit, a match distance that copies the same bytes,
 * the header's time); the seal does not. */
#ifndef KEEL_BUNDLE_GZCHECK_H
#define KEEL_BUNDLE_GZCHECK_H

#include <stddef.h>

/* Returns NULL when data[0..n) is a gzip stream keel wrote and nothing in
 * it changed since (or not gzip at all: the tar reader decides), else a
 * malloc'd description of the first problem. */
char *keel_gzip_layer_problem(const unsigned char *data, size_t n);

#endif
