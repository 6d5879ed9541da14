/* A host-owned copy of a whole regular file, read with pread in bounded
 * windows. Nothing maps the file, so a file that another process
 * truncates, grows or rewrites underneath is an error with a message
 * (KEEL_EINTEGRITY), never a signal (DESIGN.md, "Hash beside parse").
 *
 * The copy is filled on demand by whoever needs bytes (keel_file_copy_fill)
 * and may be followed, window by window, by another thread
 * (keel_file_copy_follow): the lineage hash reads each window right after
 * the read that brought it in. A copy has several owners (the hash and
 * every input of the file), each holding a reference; references may be
 * taken and dropped from any thread. */
#ifndef KEEL_BASE_FILECOPY_H
#define KEEL_BASE_FILECOPY_H

#include <stddef.h>

#include "keel/error.h"

/* The bytes one pread asks for: small enough that a window is still in
 * the cache when the hash follows, large enough that a syscall per window
 * costs nothing measurable. */
#define KEEL_FILE_WINDOW ((size_t)2 << 20)

typedef struct keel_file_copy keel_file_copy;

/* Called after each window is read, in file order, in the thread that
 * read it, before any reader sees the window. */
typedef void (*keel_file_copy_window_fn)(void *arg, const unsigned char *p,
                                         size_t n);

/* A copy of the first len bytes (the file's size when it was opened) of
 * the regular file open as fd; fd is duplicated, the caller keeps its
 * own. name is for messages. Nothing is read yet. on_window (or NULL)
 * sees every window as it is read. The caller holds one reference. */
int keel_file_copy_open(int fd, size_t len, const char *name,
                        keel_file_copy_window_fn on_window, void *arg,
                        keel_file_copy **out, keel_error *err);

/* Reads windows until at least min(upto, len) bytes are in memory; once
 * all len are, checks that the file holds no more. A file that ends early
 * or grows is KEEL_EINTEGRITY naming it; an I/O error KEEL_EIO. Once the
 * copy failed every later call returns that failure. Any thread. */
int keel_file_copy_fill(keel_file_copy *c, size_t upto, keel_error *err);

/* keel_file_copy_fill of the whole file with up to `threads` threads
 * reading windows at once (this one included), so page faults of the copy
 * are taken in parallel; one thread where the copy has a window callback
 * (it sees windows in order). */
int keel_file_copy_fill_all(keel_file_copy *c, int threads, keel_error *err);

/* For a thread that consumes the bytes in order behind the readers:
 * returns how many bytes are in memory, waiting until that is more than
 * have. When nobody else is reading, reads the next window itself. Returns
 * have when the copy is complete (have == len) or failed (then err holds
 * the failure, as keel_file_copy_fill gives it). */
size_t keel_file_copy_follow(keel_file_copy *c, size_t have, keel_error *err);

/* The bytes (the first keel_file_copy_fill'ed ones valid); NULL when the
 * file is empty. Valid while a reference is held. */
const unsigned char *keel_file_copy_data(const keel_file_copy *c);
size_t keel_file_copy_len(const keel_file_copy *c);

/* Another reference to c (returned). */
keel_file_copy *keel_file_copy_ref(keel_file_copy *c);
/* Drops one reference; the last frees the bytes and closes the file.
 * NULL is a no-op. */
void keel_file_copy_unref(keel_file_copy *c);

#endif
