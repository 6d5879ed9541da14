/* fsutil: durable file-system writes shared by the core modules (bundles,
 * prepared data, .npy, checkpoints, signatures, Containerfiles).
 *
 * One way to write a file: a temporary file beside the target (same folder,
 * so the rename cannot cross file systems), fsync, rename (or link, never
 * replacing), then fsync of the folder. A reader never sees a partial file
 * at the target, and a crash leaves either the old file or the new one. */
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

/* For writers that stream: opens a new temporary file beside path (named
 * .<base>.tmp-XXXXXX) and returns its fd (>= 0), with its name in *tmp
 * (malloc'd), or a negative KEEL_E* code. Hand both to
 * keel_fs_temp_commit, or close, unlink and free them yourself. */
int keel_fs_temp_open(const char *path, char **tmp, keel_error *err);

/* fsyncs and closes fd, moves tmp to path (rename, or link with
 * no_replace), then fsyncs the folder. Removes tmp on failure; frees tmp
 * always. */
int keel_fs_temp_commit(int fd, char *tmp, const char *path, int no_replace,
                        keel_error *err);

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

/* Creates dir and every missing folder above it (mode 0755), like
 * mkdir -p; folders that exist are fine. */
int keel_fs_mkdir_p(const char *dir, keel_error *err);

/* fsyncs the folder that holds path, so a rename or link into it is
 * durable. Returns 0, or KEEL_EIO / KEEL_ENOMEM with err naming path
 * (EINVAL from a file system that cannot fsync folders counts as
 * success). */
int keel_fs_sync_dir_of(const char *path, keel_error *err);

#endif
