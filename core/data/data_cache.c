/* The content-addressed data cache (data_cache.h). */
#include "data/data_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"

static int valid_hex64(const char *s)
{
  if (!s || strlen(s) != 64)
    return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return 0;
  return 1;
}

/* ROOT/sha256/HE and ROOT/sha256/HE/HEX; malloc'd. */
static int entry_paths(const char *root, const char *hex, char **dir,
                       char **file)
{
  size_t n = strlen(root) + 80;
  *dir = malloc(n);
  *file = malloc(n + 70);
  if (!*dir || !*file)
    return KEEL_ENOMEM;
  snprintf(*dir, n, "%s/sha256/%.2s", root, hex);
  snprintf(*file, n + 70, "%s/%s", *dir, hex);
  return KEEL_OK;
}

/* The entry file of sha256 under root (*file, malloc'd), its fan-out
 * folder made: where a lookup that may fill starts. */
static int entry_file_made(const char *root, const char *sha256, char **file,
                           keel_error *err)
{
  *file = NULL;
  if (!valid_hex64(sha256))
    return keel_fail(err, KEEL_EINVAL,
                     "'%s' is not a SHA-256 (64 lowercase hex digits)", sha256);
  char *dir = NULL;
  int rc = entry_paths(root, sha256, &dir, file)
               ? keel_fail(err, KEEL_ENOMEM, "out of memory")
               : keel_fs_mkdir_p(dir, err);
  free(dir);
  if (rc) {
    free(*file);
    *file = NULL;
  }
  return rc;
}

/* ---- filling ------------------------------------------------------------ */

typedef struct temp_sink {
  int fd;
  const char *tmp;
  keel_sha256 *h;
  uint64_t bytes;
} temp_sink;

static int temp_write(void *ctx, const void *data, size_t n, keel_error *err)
{
  temp_sink *t = ctx;
  const char *p = data;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(t->fd, p + done, n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return keel_fail(err, KEEL_EIO, "%s: cannot write the cache entry: %s",
                       t->tmp, strerror(errno));
    done += (size_t)w;
  }
  keel_sha256_update(t->h, data, n);
  t->bytes += n;
  return KEEL_OK;
}

static int temp_restart(void *ctx, keel_error *err)
{
  temp_sink *t = ctx;
  if (ftruncate(t->fd, 0) != 0 || lseek(t->fd, 0, SEEK_SET) != 0)
    return keel_fail(err, KEEL_EIO, "%s: cannot start the entry over: %s",
                     t->tmp, strerror(errno));
  unsigned char dropped[32];
  keel_sha256_final(t->h, dropped); /* frees it */
  t->h = keel_sha256_new();
  t->bytes = 0;
  return t->h ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

/* Fills `file` through fill, keeping it only when its hash is `hex`. */
static int fill_entry(const char *file, const char *hex,
                      keel_cache_fill_fn fill, void *fill_ctx, keel_error *err)
{
  char *tmp = NULL;
  int fd = keel_fs_temp_open(file, &tmp, err);
  if (fd < 0)
    return fd;
  temp_sink t = {.fd = fd, .tmp = tmp, .h = keel_sha256_new()};
  keel_fetch_sink sink = {&t, temp_write, temp_restart};
  int rc = t.h ? fill(fill_ctx, &sink, err)
               : keel_fail(err, KEEL_ENOMEM, "out of memory");
  char got[65] = "";
  if (t.h)
    keel_sha256_final_hex(t.h, got); /* frees it */
  if (!rc && strcmp(got, hex) != 0)
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "the %llu bytes fetched have SHA-256 %s; the catalog "
                   "records %s (nothing was cached)",
                   (unsigned long long)t.bytes, got, hex);
  if (rc) {
    unlink(tmp);
    close(fd);
    free(tmp);
    return rc;
  }
  return keel_fs_temp_commit(fd, tmp, file, 0, err);
}

int keel_cache_get(const char *root, const char *sha256,
                   keel_cache_fill_fn fill, void *fill_ctx, char **path_out,
                   keel_cache_outcome *outcome, keel_error *err)
{
  *path_out = NULL;
  char *file = NULL;
  int rc = entry_file_made(root, sha256, &file, err);
  if (rc)
    return rc;
  int lock = keel_fs_lock_beside(file, 1, err);
  if (lock < 0) {
    free(file);
    return lock;
  }
  keel_cache_outcome what = KEEL_CACHE_FILLED;
  struct stat st;
  if (stat(file, &st) == 0) {
    char hex[65];
    keel_error herr = {0};
    if (keel_sha256_file(file, hex, NULL, &herr) == KEEL_OK &&
        strcmp(hex, sha256) == 0) {
      what = KEEL_CACHE_HIT;
      utimensat(AT_FDCWD, file, NULL, 0); /* its last use, for gc */
    } else {
      keel_log_emit(KEEL_LOG_WARN,
                    "cache entry %s does not match its hash (corrupted or "
                    "truncated): removed, filling it again",
                    file);
      unlink(file);
      what = KEEL_CACHE_REFILLED;
    }
  }
  if (what != KEEL_CACHE_HIT)
    rc = fill_entry(file, sha256, fill, fill_ctx, err);
  close(lock);
  if (rc) {
    free(file);
    return rc;
  }
  *path_out = file;
  if (outcome)
    *outcome = what;
  return KEEL_OK;
}

static int is_entry(const char *file)
{
  struct stat st;
  return stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

int keel_cache_has(const char *root, const char *sha256)
{
  char *dir = NULL, *file = NULL;
  int has = valid_hex64(sha256) &&
            entry_paths(root, sha256, &dir, &file) == KEEL_OK && is_entry(file);
  free(dir);
  free(file);
  return has;
}

int keel_cache_open(const char *root, const char *sha256,
                    keel_cache_fill_fn fill, void *fill_ctx, char **path_out,
                    int *lock_fd, int *verified, keel_error *err)
{
  *path_out = NULL;
  *lock_fd = -1;
  *verified = 0;
  char *file = NULL;
  int rc = entry_file_made(root, sha256, &file, err);
  if (rc)
    return rc;
  /* Runs reading one entry share its lock and do not wait for each
   * other (an exclusive lock would wait for every run that holds the
   * entry, to its end). Its modification time (gc's last use) is set only
   * by a process holding the lock exclusively, when nobody reads it: a
   * reader checks that its file does not change while it reads. A miss is
   * filled under the exclusive lock, and the round starts over: the lock
   * is free for a moment (gc may take the entry), hence a few rounds. */
  int lock = -1, filled = 0;
  for (int round = 0; !rc && round < 8; round++) {
    lock = keel_fs_lock_beside(file, 0, err);
    int own = lock >= 0; /* exclusive: nobody else holds the entry */
    if (lock == KEEL_EUNSUPPORTED)
      lock = keel_fs_lock_beside_shared(file, err);
    if (lock < 0) {
      rc = lock;
      break;
    }
    if (is_entry(file) && own) {
      utimensat(AT_FDCWD, file, NULL, 0); /* its last use, for gc */
      if (keel_fs_lock_share(lock) != KEEL_OK)
        rc = keel_fail(err, KEEL_EIO, "%s: cannot share its lock: %s", file,
                       strerror(errno));
      own = 0;
    }
    if (rc || is_entry(file)) /* (sharing is not atomic: check again) */
      break;
    if (!own) {
      close(lock);
      lock = keel_fs_lock_beside(file, 1, err);
      if (lock < 0) {
        rc = lock;
        break;
      }
    }
    if (!is_entry(file)) { /* not filled by another process meanwhile */
      rc = fill_entry(file, sha256, fill, fill_ctx, err);
      filled = rc == KEEL_OK;
    }
    close(lock);
    lock = -1;
  }
  if (!rc && lock < 0)
    rc =
        keel_fail(err, KEEL_EIO,
                  "%s: removed again each time it was filled (8 rounds)", file);
  if (rc) {
    if (lock >= 0)
      close(lock);
    free(file);
    return rc;
  }
  *path_out = file;
  *lock_fd = lock;
  *verified = filled;
  return KEEL_OK;
}

int keel_cache_add(const char *root, keel_cache_fill_fn fill, void *fill_ctx,
                   char hex[65], char **path_out, keel_error *err)
{
  *path_out = NULL;
  char *incoming = keel_path_join(root, "incoming");
  char *slot = incoming ? keel_path_join(incoming, "fetch") : NULL;
  int rc = slot ? keel_fs_mkdir_p(incoming, err)
                : keel_fail(err, KEEL_ENOMEM, "out of memory");
  char *tmp = NULL;
  int fd = rc ? rc : keel_fs_temp_open(slot, &tmp, err);
  if (fd < 0) {
    free(incoming);
    free(slot);
    return fd;
  }
  temp_sink t = {.fd = fd, .tmp = tmp, .h = keel_sha256_new()};
  keel_fetch_sink sink = {&t, temp_write, temp_restart};
  rc = t.h ? fill(fill_ctx, &sink, err)
           : keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (t.h)
    keel_sha256_final_hex(t.h, hex); /* frees it */
  char *dir = NULL, *file = NULL;
  if (!rc && entry_paths(root, hex, &dir, &file))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = keel_fs_mkdir_p(dir, err);
  int lock = rc ? rc : keel_fs_lock_beside(file, 1, err);
  if (lock < 0) {
    unlink(tmp);
    close(fd);
    free(tmp);
  } else {
    /* An entry already there is the same bytes: replacing it is
     * harmless, and this one was hashed just now. */
    rc = keel_fs_temp_commit(fd, tmp, file, 0, err);
    close(lock);
  }
  free(incoming);
  free(slot);
  free(dir);
  if (lock < 0 || rc) {
    free(file);
    return lock < 0 ? lock : rc;
  }
  *path_out = file;
  return KEEL_OK;
}

/* ---- gc ----------------------------------------------------------------- */

typedef struct cached {
  char *file;
  uint64_t bytes;
  struct timespec used;
} cached;

static int by_last_use(const void *a, const void *b)
{
  const cached *x = a, *y = b;
  if (x->used.tv_sec != y->used.tv_sec)
    return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
  if (x->used.tv_nsec != y->used.tv_nsec)
    return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
  return strcmp(x->file, y->file);
}

/* Every entry under root (HEX files in two-character folders). */
static int list_entries(const char *root, cached **out, size_t *n,
                        keel_error *err)
{
  *out = NULL;
  *n = 0;
  char *base = keel_path_join(root, "sha256");
  if (!base)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  DIR *top = opendir(base);
  if (!top) {
    int missing = errno == ENOENT;
    int rc = missing ? KEEL_OK
                     : keel_fail(err, KEEL_EIO, "%s: cannot list: %s", base,
                                 strerror(errno));
    free(base);
    return rc;
  }
  int rc = KEEL_OK;
  size_t cap = 0;
  struct dirent *d;
  while (!rc && (d = readdir(top))) {
    if (strlen(d->d_name) != 2 || d->d_name[0] == '.')
      continue;
    char *sub = keel_path_join(base, d->d_name);
    if (!sub) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    keel_fs_sweep_stale_temps(sub, NULL);
    DIR *in = opendir(sub);
    struct dirent *e;
    while (!rc && in && (e = readdir(in))) {
      if (!valid_hex64(e->d_name) || strncmp(e->d_name, d->d_name, 2) != 0)
        continue;
      char *file = keel_path_join(sub, e->d_name);
      struct stat st;
      if (!file) {
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
        break;
      }
      if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(file);
        continue;
      }
      if (*n == cap) {
        cap = cap ? 2 * cap : 64;
        cached *grown = realloc(*out, cap * sizeof *grown);
        if (!grown) {
          free(file);
          rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
          break;
        }
        *out = grown;
      }
      (*out)[(*n)++] = (cached){file, (uint64_t)st.st_size, st.st_mtim};
    }
    if (in)
      closedir(in);
    free(sub);
  }
  closedir(top);
  free(base);
  return rc;
}

int keel_cache_gc(const char *root, uint64_t max_bytes,
                  keel_cache_usage *before, keel_cache_usage *after,
                  keel_error *err)
{
  cached *all = NULL;
  size_t n = 0;
  int rc = list_entries(root, &all, &n, err);
  keel_cache_usage use = {0};
  for (size_t i = 0; i < n; i++) {
    use.entries++;
    use.bytes += all[i].bytes;
  }
  if (before)
    *before = use;
  if (!rc && n > 1) /* qsort takes no NULL base, even for 0 items */
    qsort(all, n, sizeof *all, by_last_use);
  for (size_t i = 0; !rc && i < n && use.bytes > max_bytes; i++) {
    int lock = keel_fs_lock_beside(all[i].file, 0, err);
    if (lock == KEEL_EUNSUPPORTED)
      continue; /* being filled or used right now */
    if (lock < 0) {
      rc = lock;
      break;
    }
    /* The lock file stays: removing it could let two processes hold
     * "the" lock on two different files. */
    if (unlink(all[i].file) == 0) {
      use.entries--;
      use.bytes -= all[i].bytes;
    } else if (errno != ENOENT) {
      rc = keel_fail(err, KEEL_EIO, "%s: cannot remove: %s", all[i].file,
                     strerror(errno));
    }
    close(lock);
  }
  if (after)
    *after = use;
  for (size_t i = 0; i < n; i++)
    free(all[i].file);
  free(all);
  return rc;
}
