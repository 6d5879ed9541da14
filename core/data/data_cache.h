/* data_cache: fetched data kept by content (docs/data-access.md, "Cache").
 *
 * An entry is the bytes whose SHA-256 is HEX, stored at
 * ROOT/sha256/HE/HEX (two-character fan-out, as DVC and git). Entries are
 * written to a temporary beside their place, hashed while written, and
 * renamed into place only when the hash is the expected one, so a reader
 * never sees a partial or wrong entry. A per-entry lock file
 * (ROOT/sha256/HE/HEX.lock, flock) makes concurrent processes that fill
 * the same entry fetch it once: the first fills it, the others wait and
 * find it. An entry is re-hashed whenever it is used; one that no longer
 * matches (corrupted, truncated) is removed and filled again, never
 * used. Use refreshes an entry's modification time, which `gc` takes as
 * its last use. */
#ifndef KEEL_DATA_DATA_CACHE_H
#define KEEL_DATA_DATA_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "data/fetch_http.h"
#include "keel/error.h"

/* Fills a cache entry: writes the bytes into sink (which the cache
 * provides) and returns KEEL_OK, or a KEEL_E* code with err set. */
typedef int (*keel_cache_fill_fn)(void *ctx, const keel_fetch_sink *sink,
                                  keel_error *err);

/* What keel_cache_get did. */
typedef enum keel_cache_outcome {
  KEEL_CACHE_HIT = 1, /* the entry was there and matched */
  KEEL_CACHE_FILLED,  /* it was missing and was filled */
  KEEL_CACHE_REFILLED /* it was there but did not match: replaced */
} keel_cache_outcome;

/* The path of entry `sha256` (64 lowercase hex) under root, ready to
 * read: a hit is re-hashed first; a miss (or a mismatch, removed) calls
 * fill under the entry's lock, and the filled bytes must hash to sha256
 * (else KEEL_EINTEGRITY naming both hashes, nothing kept). *path is
 * malloc'd. *outcome (may be NULL) says which happened. */
int keel_cache_get(const char *root, const char *sha256,
                   keel_cache_fill_fn fill, void *fill_ctx, char **path,
                   keel_cache_outcome *outcome, keel_error *err);

/* 1 when root holds a file for entry sha256 (not checked, not locked):
 * a lookup that must not make folders or lock files asks this first. */
int keel_cache_has(const char *root, const char *sha256);

/* For a reader that hashes the bytes itself as it parses them (a run:
 * "Hash beside parse"), so a hit costs no extra pass over the data: the
 * entry's path (*path, malloc'd) with a shared lock on it (*lock_fd;
 * close it when done reading; gc and refills wait for it). A missing
 * entry is filled (and verified) first; *verified is 1 then, 0 for a hit,
 * which the reader must check and, when it does not match, hand to
 * keel_cache_get (which re-hashes, removes and refills). */
int keel_cache_open(const char *root, const char *sha256,
                    keel_cache_fill_fn fill, void *fill_ctx, char **path,
                    int *lock_fd, int *verified, keel_error *err);

/* Fills a new entry whose hash is not known in advance (`keel data add`
 * of a URL): fill writes into a temporary under root, and the bytes are
 * moved into place under the hash they turn out to have, written into
 * hex. *path (malloc'd) is the entry. */
int keel_cache_add(const char *root, keel_cache_fill_fn fill, void *fill_ctx,
                   char hex[65], char **path, keel_error *err);

/* Totals of the cache under root. */
typedef struct keel_cache_usage {
  size_t entries;
  uint64_t bytes;
} keel_cache_usage;

/* Removes the least recently used entries until the cache holds at most
 * max_bytes; entries locked by a process filling or using them stay.
 * before and after (may be NULL) get the totals. A root that does not
 * exist is an empty cache. */
int keel_cache_gc(const char *root, uint64_t max_bytes,
                  keel_cache_usage *before, keel_cache_usage *after,
                  keel_error *err);

#endif
