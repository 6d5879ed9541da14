/* The lineage hash of one data file: SHA-256 of its bytes on disk,
 * computed while the source plugin parses it, on a thread of its own when
 * the run may use more than one, and checked at the end against the file's
 * identity so a file that changed during the run is an error, not a hash
 * that describes other bytes than the ones trained on. */
#ifndef KEEL_PLUGIN_INPUT_HASH_H
#define KEEL_PLUGIN_INPUT_HASH_H

#include <stdint.h>

#include "base/filemap.h"
#include "keel/error.h"

typedef struct keel_input_hash keel_input_hash;

/* Starts hashing the regular file at path (name is for messages). With
 * background != 0 the hash runs on its own thread and start returns at
 * once; otherwise it is computed before start returns. */
int keel_input_hash_start(const char *path, const char *name, int background,
                          keel_input_hash **out, keel_error *err);

/* Waits for the hash, then checks the file still has the size, inode and
 * modification and change times it had when hashing began: KEEL_EINTEGRITY
 * naming the file if not. Fills hex and bytes on success. */
int keel_input_hash_finish(keel_input_hash *h, char hex[65], uint64_t *bytes,
                           keel_error *err);

/* A new reference to the mapping being hashed: readers of the file view
 * exactly the bytes hashed, and the file is mapped once. */
keel_shared_map *keel_input_hash_map(keel_input_hash *h);

/* Waits for a running hash and frees (the mapping lives on while a reader
 * holds a reference). NULL is a no-op. */
void keel_input_hash_free(keel_input_hash *h);

#endif
