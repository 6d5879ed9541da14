/* fsutil: durable file-system writes shared by the core modules (bundles,
 * prepared data, .npy, checkpoints, signatures, Containerfiles).
 *
 * One way to write a file: a temporary file beside the target (same folder,
 * so the rename cannot cross file systems), fsync, rename (or link, never
 * replacing), then fsync of the folder. A reader never sees a partial file
 * at the target, and a crash leaves either the old file or the new one.
 *
 * A temporary is held locked (flock, exclusive) by its writer for its whole
 * life, so a temporary that a killed writer left is one that can be locked:
 * keel_fs_sweep_stale_temps removes those, and only those. */
#ifndef KEEL_BASE_FSUTIL_H
#define KEEL_BASE_FSUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "keel/error.h"

/* Writes data[0..n) to path atomically with permission bits `mode`. With
 * no_replace the file is linked into place and an existing path is refused
 * (KEEL_EINVAL, "exists already"); otherwise it is renamed over path.
 * Returns 0 or KEEL_EIO/KEEL_ENOMEM with err naming path. */
int keel_write_file_atomic(const char *path, const void *data, size_t n,
                           unsigned mode, int no_replace, keel_error *err);

/* The mark in a temporary's name: .<base>.tmp-XXXXXX */
#define KEEL_FS_TEMP_MARK ".tmp-"

/* For writers that stream: opens a new temporary file beside path (named
 * .<base>.tmp-XXXXXX, locked while fd is open) and returns its fd (>= 0),
 * with its name in *tmp (malloc'd), or a negative KEEL_E* code. Hand both
 * to keel_fs_temp_commit, or unlink, close and free them yourself (in that
 * order: closed first, the file is stale and may be swept). */
int keel_fs_temp_open(const char *path, char **tmp, keel_error *err);

/* fsyncs fd, moves tmp to path (rename, or link with no_replace), fsyncs
 * the folder, then closes fd. Removes tmp on failure; frees tmp always. */
int keel_fs_temp_commit(int fd, char *tmp, const char *path, int no_replace,
                        keel_error *err);

/* 1 when name (a folder entry, no slash) has the form of
 * keel_fs_temp_open's temporaries, .<base>.tmp-XXXXXX; else 0. */
int keel_fs_is_temp_name(const char *name);

/* Removes the stale temporaries in dir: the regular files whose name
 * keel_fs_is_temp_name accepts and that no process holds locked (a writer
 * killed before it could commit or remove its temporary). Each removal is
 * said through the log sink (base/log.h), naming the file; a live
 * temporary, and every other file, stays. Returns how many were removed
 * (0 when dir does not exist), or KEEL_EIO when dir cannot be listed. */
int keel_fs_sweep_stale_temps(const char *dir, keel_error *err);

/* Opens the regular file at path for reading ("rb"). NULL with *rc set
 * and err naming path: KEEL_ENOTFOUND, KEEL_EIO, or KEEL_EINVAL for a
 * folder, device or pipe ("not a regular file": /dev/zero would be read
 * forever, a FIFO would block). With st, its fstat is stored there. */
FILE *keel_fs_open_regular(const char *path, struct stat *st, int *rc,
                           keel_error *err);

/* Reads the whole regular file at path into a malloc'd buffer (*out, *n;
 * one spare byte, NUL, after the data). Returns 0, or the codes of
 * keel_fs_open_regular, or KEEL_EIO / KEEL_ENOMEM, with err naming path. */
int keel_read_file(const char *path, unsigned char **out, size_t *n,
                   keel_error *err);

/* Removes dir and everything below it, without following links (what a
 * failed step leaves half-made, a replay's temporary folder). */
void keel_fs_remove_tree(const char *dir);

/* Creates dir and every missing folder above it (mode 0755), like
 * mkdir -p; folders that exist are fine. */
int keel_fs_mkdir_p(const char *dir, keel_error *err);

/* fsyncs the folder that holds path, so a rename or link into it is
 * durable. Returns 0, or KEEL_EIO / KEEL_ENOMEM with err naming path
 * (EINVAL from a file system that cannot fsync folders counts as
 * success). */
int keel_fs_sync_dir_of(const char *path, keel_error *err);

/* An exclusive flock on PATH.lock, the lock file beside path (created,
 * mode 0644, and kept: removing a lock file would let two processes hold
 * two locks). Returns the fd holding the lock (close it to release), or a
 * negative code: KEEL_EUNSUPPORTED when wait is 0 and another process
 * holds it (err untouched), KEEL_EIO or KEEL_ENOMEM with err naming the
 * lock file otherwise. */
int keel_fs_lock_beside(const char *path, int wait, keel_error *err);

/* A shared flock on PATH.lock, waiting while a writer holds it
 * exclusively: the fd, or a negative code as keel_fs_lock_beside. */
int keel_fs_lock_beside_shared(const char *path, keel_error *err);

/* Turns the exclusive lock fd holds (keel_fs_lock_beside) into a shared
 * one: other readers may take theirs, a writer waits for all of them.
 * KEEL_OK or KEEL_EIO. */
int keel_fs_lock_share(int fd);

#endif
