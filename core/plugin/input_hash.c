/* keel_input_hash: see input_hash.h. The copy is made in the caller's
 * thread and shared (keel_input_hash_copy) with the inputs that read the
 * file. At one thread the hash is the copy's window callback: each window
 * is hashed while it is still in the cache. With a thread of its own the
 * hash follows the copy (keel_file_copy_follow), so the read the parse
 * waits for does not also wait for the hash. */
#define _GNU_SOURCE
#include "plugin/input_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/filecopy.h"
#include "base/sha256.h"
#include "base/status.h"

struct keel_input_hash {
  char *path;
  char *name;
  keel_file_copy *copy; /* the bytes hashed; shared with the readers */
  keel_sha256 *sha;     /* fed by one thread at a time, in file order */
  struct stat before;   /* the file when hashing began */
  pthread_t thread;
  int threaded;
  /* results, written by whichever thread hashes */
  int rc;
  keel_error err;
  char hex[65];
  uint64_t bytes;
};

static void hash_window(void *arg, const unsigned char *p, size_t n)
{
  keel_sha256_update(arg, p, n);
}

static void *hash_thread(void *arg)
{
  keel_input_hash *h = arg;
  const unsigned char *data = keel_file_copy_data(h->copy);
  size_t len = keel_file_copy_len(h->copy), have = 0;
  for (;;) {
    size_t now = keel_file_copy_follow(h->copy, have, &h->err);
    if (now == have)
      break;
    keel_sha256_update(h->sha, data + have, now - have);
    have = now;
  }
  if (have < len || h->err.code) /* the copy failed: err is its failure */
    h->rc = h->err.code ? h->err.code : KEEL_EIO;
  return NULL;
}

int keel_input_hash_start(const char *path, const char *name, int background,
                          keel_input_hash **out, keel_error *err)
{
  *out = NULL;
  keel_input_hash *h = calloc(1, sizeof *h);
  if (!h || !(h->path = strdup(path)) || !(h->name = strdup(name)) ||
      !(h->sha = keel_sha256_new())) {
    keel_input_hash_free(h);
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
               ? keel_file_copy_open(fd, (size_t)h->before.st_size, name,
                                     background ? NULL : hash_window, h->sha,
                                     &h->copy, err)
               : keel_fail(err, KEEL_EINVAL, "%s: not a regular file", name);
  close(fd);
  if (!rc && background)
    h->threaded = pthread_create(&h->thread, NULL, hash_thread, h) == 0;
  if (!rc && !h->threaded) {
    rc = keel_file_copy_fill(h->copy, keel_file_copy_len(h->copy), err);
    if (!rc && background) /* no thread to be had: hash it here */
      keel_sha256_update(h->sha, keel_file_copy_data(h->copy),
                         keel_file_copy_len(h->copy));
  }
  if (rc) {
    keel_input_hash_free(h);
    return rc;
  }
  *out = h;
  return KEEL_OK;
}

static int same_time(struct timespec a, struct timespec b)
{
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The same file, unchanged: identity, size and times. */
static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size && same_time(a->st_mtim, b->st_mtim) &&
         same_time(a->st_ctim, b->st_ctim);
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
  if (stat(h->path, &now) != 0 || !same_file(&now, &h->before))
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: the file changed while this run was reading it "
                     "(size, inode or modification time differ from when "
                     "its lineage hash was taken); run again on a file "
                     "nothing writes to",
                     h->name);
  if (h->sha) {
    keel_sha256_final_hex(h->sha, h->hex); /* frees it */
    h->sha = NULL;
    h->bytes = keel_file_copy_len(h->copy);
  }
  memcpy(hex, h->hex, 65);
  *bytes = h->bytes;
  return KEEL_OK;
}

keel_file_copy *keel_input_hash_copy(keel_input_hash *h, const struct stat *now)
{
  return same_file(now, &h->before) ? keel_file_copy_ref(h->copy) : NULL;
}

void keel_input_hash_free(keel_input_hash *h)
{
  if (!h)
    return;
  if (h->threaded)
    pthread_join(h->thread, NULL);
  keel_file_copy_unref(h->copy);
  if (h->sha) {
    char unused[65];
    keel_sha256_final_hex(h->sha, unused); /* the only way to free it */
  }
  free(h->path);
  free(h->name);
  free(h);
}
