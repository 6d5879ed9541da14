/* The lineage hash of one data file: SHA-256 of its bytes on disk,
 * computed while the source plugin parses it, and checked at the end
 * against the file's identity so a file that changed during the run is an
 * error, not a hash that describes other bytes than the ones trained on.
 *
 * The file is read once, in bounded windows, into a host-owned copy
 * (base/filecopy.h) that the hash and every input of the file share: the
 * parse reads exactly the bytes hashed, and a file truncated underneath is
 * an error with a message, never a signal. */
#ifndef KEEL_PLUGIN_INPUT_HASH_H
#define KEEL_PLUGIN_INPUT_HASH_H

#include <stdint.h>
#include <sys/stat.h>

#include "base/filecopy.h"
#include "keel/error.h"

typedef struct keel_input_hash keel_input_hash;

/* Starts hashing the regular file at path (name is for messages). With
 * background != 0 a thread of its own hashes each window right behind
 * whoever reads it (reading the windows itself while nobody does), and
 * start returns at once; otherwise the whole file is read and hashed, a
 * window at a time, before start returns. */
int keel_input_hash_start(const char *path, const char *name, int background,
                          keel_input_hash **out, keel_error *err);

/* Waits for the hash, then checks the file still has the size, inode and
 * modification and change times it had when hashing began: KEEL_EINTEGRITY
 * naming the file if not, or the copy's own failure (a file that ended
 * early or grew while read). Fills hex and bytes on success. */
int keel_input_hash_finish(keel_input_hash *h, char hex[65], uint64_t *bytes,
                           keel_error *err);

/* A new reference to the copy being hashed, when `now` (an fstat of the
 * file as a reader opens it) shows the file hashing began on: readers of
 * the file read exactly the bytes hashed, and the file is read once. NULL
 * for a file changed since: that reader reads it afresh (and settling the
 * hash reports the change). */
keel_file_copy *keel_input_hash_copy(keel_input_hash *h,
                                     const struct stat *now);

/* Waits for a running hash and frees (the copy lives on while a reader
 * holds a reference). NULL is a no-op. */
void keel_input_hash_free(keel_input_hash *h);

#endif
