/* keel_file_map: mmap a data file so parsers and the lineage hash read the
 * page cache directly. Reading 520 MB into fresh heap pages costs about as
 * much as hashing it (page faults and the copy); mapping it costs ~5% of
 * that (tests/bench/run_csv_bench.sh). */
#define _GNU_SOURCE
#include "base/filemap.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/status.h"

/* Fallback for file systems without mmap: read the bytes. */
static int read_whole(int fd, size_t len, const char *name, keel_file_map *m,
                      keel_error *err)
{
  unsigned char *buf = malloc(len);
  if (!buf)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory (%zu bytes)", name,
                     len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      free(buf);
      return keel_fail(err, KEEL_EIO, "%s: read failed: %s", name,
                       n < 0 ? strerror(errno) : "file shrank while reading");
    }
    got += (size_t)n;
  }
  m->data = buf;
  m->len = len;
  m->mapped = 0;
  return KEEL_OK;
}

int keel_file_map_open(int fd, size_t len, const char *name, keel_file_map *m,
                       keel_error *err)
{
  memset(m, 0, sizeof *m);
  if (len == 0)
    return KEEL_OK;
  /* No MAP_POPULATE: filling the whole page table up front ran in the
   * opening thread alone (~0.06 s for 520 MB), while faults (the kernel
   * maps a window of pages per fault) are taken by whichever threads read
   * first, in parallel; single reads of the 520 MB bench file were 4-8%
   * faster at one thread and 3-11% at two without it. */
  void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED)
    return read_whole(fd, len, name, m, err);
  m->data = p;
  m->len = len;
  m->mapped = 1;
  return KEEL_OK;
}

void keel_file_map_close(keel_file_map *m)
{
  if (!m || !m->data)
    return;
  if (m->mapped)
    munmap((void *)m->data, m->len);
  else
    free((void *)m->data);
  memset(m, 0, sizeof *m);
}

struct keel_shared_map {
  keel_file_map map;
  atomic_int refs;
};

int keel_shared_map_open(int fd, size_t len, const char *name,
                         keel_shared_map **out, keel_error *err)
{
  *out = NULL;
  keel_shared_map *m = calloc(1, sizeof *m);
  if (!m)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", name);
  int rc = keel_file_map_open(fd, len, name, &m->map, err);
  if (rc) {
    free(m);
    return rc;
  }
  atomic_init(&m->refs, 1);
  *out = m;
  return KEEL_OK;
}

keel_shared_map *keel_shared_map_ref(keel_shared_map *m)
{
  atomic_fetch_add(&m->refs, 1);
  return m;
}

void keel_shared_map_unref(keel_shared_map *m)
{
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
    return;
  keel_file_map_close(&m->map);
  free(m);
}

const keel_file_map *keel_shared_map_view(const keel_shared_map *m)
{
  return &m->map;
}
