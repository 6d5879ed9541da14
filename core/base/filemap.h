/* A read-only view of a whole regular file without copying it: mmap where
 * the file system allows it, else the bytes read into memory. */
#ifndef KEEL_BASE_FILEMAP_H
#define KEEL_BASE_FILEMAP_H

#include <stddef.h>

#include "keel/error.h"

typedef struct keel_file_map {
  const unsigned char *data; /* len bytes; NULL when len is 0 */
  size_t len;
  int mapped; /* 1: munmap on close; 0: free */
} keel_file_map;

/* Views the first len bytes of the open file fd (its size when opened;
 * name is for messages). The view stays valid after fd is closed. A file
 * truncated by another process while mapped makes access fault (SIGBUS):
 * data files must not be rewritten in place during a run (docs/data.md). */
int keel_file_map_open(int fd, size_t len, const char *name, keel_file_map *m,
                       keel_error *err);
void keel_file_map_close(keel_file_map *m);

/* One mapping with several owners: the lineage hash of a data file and
 * every input that reads the same file view the same pages, so the file
 * is mapped (and its page table filled) once per run, not once per
 * reader. Freed with the last reference; references may be dropped from
 * any thread. */
typedef struct keel_shared_map keel_shared_map;

/* Maps fd as keel_file_map_open does; the caller holds one reference. */
int keel_shared_map_open(int fd, size_t len, const char *name,
                         keel_shared_map **out, keel_error *err);
/* Another reference to m (returned). */
keel_shared_map *keel_shared_map_ref(keel_shared_map *m);
/* Drops one reference; NULL is a no-op. */
void keel_shared_map_unref(keel_shared_map *m);
/* The view, valid while a reference is held. */
const keel_file_map *keel_shared_map_view(const keel_shared_map *m);

#endif
