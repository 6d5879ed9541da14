/* keel_input_hash: see input_hash.h. The file is hashed through a mapping
 * (filemap.c), so hashing costs no copy. The mapping is made in the
 * caller's thread and shared (keel_input_hash_map) with the inputs that
 * read the file; the background thread only reads it and the caller only
 * waits in finish, so the two share nothing else. */
#define _GNU_SOURCE
#include "plugin/input_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/filemap.h"
#include "base/sha256.h"
#include "base/status.h"

struct keel_input_hash {
  char *path;
  char *name;
  keel_shared_map *map; /* the bytes hashed; shared with the readers */
  struct stat before;   /* the file when hashing began */
  pthread_t thread;
  int threaded;
  /* results, written by whichever thread hashes */
  int rc;
  keel_error err;
  char hex[65];
  uint64_t bytes;
};

static void compute(keel_input_hash *h)
{
  const keel_file_map *m = keel_shared_map_view(h->map);
  keel_sha256 *s = keel_sha256_new();
  if (!s) {
    h->rc = keel_fail(&h->err, KEEL_ENOMEM, "%s: out of memory", h->name);
    return;
  }
  keel_sha256_update(s, m->data, m->len);
  keel_sha256_final_hex(s, h->hex);
  h->bytes = m->len;
}

static void *hash_thread(void *arg)
{
  compute(arg);
  return NULL;
}

int keel_input_hash_start(const char *path, const char *name, int background,
                          keel_input_hash **out, keel_error *err)
{
  *out = NULL;
  keel_input_hash *h = calloc(1, sizeof *h);
  if (!h || !(h->path = strdup(path)) || !(h->name = strdup(name))) {
    if (h)
      free(h->path);
    free(h);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &h->before) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    keel_input_hash_free(h);
    return keel_fail(err, e == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot open: %s", name, strerror(e));
  }
  int rc = S_ISREG(h->before.st_mode)
               ? keel_shared_map_open(fd, (size_t)h->before.st_size, name,
                                      &h->map, err)
               : keel_fail(err, KEEL_EINVAL, "%s: not a regular file", name);
  close(fd);
  if (rc) {
    keel_input_hash_free(h);
    return rc;
  }
  h->threaded =
      background && pthread_create(&h->thread, NULL, hash_thread, h) == 0;
  if (!h->threaded)
    compute(h);
  *out = h;
  return KEEL_OK;
}

static int same_time(struct timespec a, struct timespec b)
{
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

int keel_input_hash_finish(keel_input_hash *h, char hex[65], uint64_t *bytes,
                           keel_error *err)
{
  if (h->threaded) {
    pthread_join(h->thread, NULL);
    h->threaded = 0;
  }
  if (h->rc) {
    if (err)
      *err = h->err;
    return h->rc;
  }
  /* By path: a file replaced by rename is a change too. */
  struct stat now;
  if (stat(h->path, &now) != 0 || now.st_dev != h->before.st_dev ||
      now.st_ino != h->before.st_ino || now.st_size != h->before.st_size ||
      !same_time(now.st_mtim, h->before.st_mtim) ||
      !same_time(now.st_ctim, h->before.st_ctim))
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: the file changed while this run was reading it "
                     "(size, inode or modification time differ from when "
                     "its lineage hash was taken); run again on a file "
                     "nothing writes to",
                     h->name);
  memcpy(hex, h->hex, 65);
  *bytes = h->bytes;
  return KEEL_OK;
}

keel_shared_map *keel_input_hash_map(keel_input_hash *h)
{
  return keel_shared_map_ref(h->map);
}

void keel_input_hash_free(keel_input_hash *h)
{
  if (!h)
    return;
  if (h->threaded)
    pthread_join(h->thread, NULL);
  keel_shared_map_unref(h->map);
  free(h->path);
  free(h->name);
  free(h);
}
