/* fsutil: atomic file writes, mkdir -p, folder fsync, the sweep of stale
 * temporaries (see fsutil.h). */
/* nftw (keel_fs_remove_tree) */
#define _XOPEN_SOURCE 700
#include "base/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/status.h"

int keel_fs_sync_dir_of(const char *path, keel_error *err)
{
  char *copy = strdup(path);
  int fd, rc = KEEL_OK;
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(copy);
  if (fd < 0)
    return keel_fail(err, KEEL_EIO,
                     "%s: cannot open its folder to fsync "
                     "it: %s",
                     path, strerror(errno));
  /* EINVAL: a file system that cannot fsync folders; nothing to do */
  if (fsync(fd) != 0 && errno != EINVAL)
    rc = keel_fail(err, KEEL_EIO, "%s: cannot fsync its folder: %s", path,
                   strerror(errno));
  close(fd);
  return rc;
}

/* Locks the temporary fd for its whole life (flock: per open file, so
 * never lost to another descriptor of this process, and seen across NFS
 * clients) and checks that tmp still names it: a sweep that found the file
 * before the lock was taken may have removed it. 1: ours and locked; 0:
 * gone, try another name. A file system without locks gives no lock, and
 * the sweep there cannot lock either, so it removes nothing. */
static int lock_temp(int fd, const char *tmp)
{
  int r;
  while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
    ;
  (void)r;
  struct stat mine, named;
  return fstat(fd, &mine) == 0 && lstat(tmp, &named) == 0 &&
         mine.st_dev == named.st_dev && mine.st_ino == named.st_ino;
}

int keel_fs_temp_open(const char *path, char **tmp, keel_error *err)
{
  char *copy = strdup(path), *dir;
  const char *base;
  size_t n;
  int fd = -1;
  *tmp = NULL;
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  dir = dirname(copy);
  base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  n = strlen(dir) + strlen(base) + 32;
  *tmp = malloc(n);
  if (!*tmp) {
    free(copy);
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  }
  for (int attempt = 0; attempt < 16; attempt++) {
    snprintf(*tmp, n, "%s/.%s" KEEL_FS_TEMP_MARK "XXXXXX", dir, base);
    fd = mkstemp(*tmp);
    if (fd >= 0) /* a child that execs must not inherit the lock */
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fd < 0 || lock_temp(fd, *tmp))
      break;
    close(fd); /* swept before we held it: the name is no longer ours */
    fd = -1;
    errno = EAGAIN;
  }
  free(copy);
  if (fd < 0) {
    int e = errno;
    free(*tmp);
    *tmp = NULL;
    return keel_fail(err, KEEL_EIO, "%s: cannot create a temporary file: %s",
                     path, strerror(e));
  }
  return fd;
}

int keel_fs_temp_commit(int fd, char *tmp, const char *path, int no_replace,
                        keel_error *err)
{
  /* fd (and with it the lock) stays open until tmp is gone or renamed:
   * closed earlier, a sweep could take the lock and remove the file */
  int rc = 0;
  if (fsync(fd) != 0) {
    rc =
        keel_fail(err, KEEL_EIO, "%s: fsync failed: %s", path, strerror(errno));
    goto out;
  }
  if (no_replace) {
    if (link(tmp, path) != 0) {
      int e = errno;
      rc =
          keel_fail(err, e == EEXIST ? KEEL_EINVAL : KEEL_EIO, "%s: %s", path,
                    e == EEXIST ? "exists already, not replaced" : strerror(e));
      goto out;
    }
  } else if (rename(tmp, path) != 0) {
    rc = keel_fail(err, KEEL_EIO, "%s: rename failed: %s", path,
                   strerror(errno));
    goto out;
  }
  rc = keel_fs_sync_dir_of(path, err);
out:
  if (rc || no_replace)
    unlink(tmp);
  if (close(fd) != 0 && !rc)
    rc =
        keel_fail(err, KEEL_EIO, "%s: close failed: %s", path, strerror(errno));
  free(tmp);
  return rc;
}

int keel_write_file_atomic(const char *path, const void *data, size_t n,
                           unsigned mode, int no_replace, keel_error *err)
{
  char *tmp = NULL;
  const unsigned char *p = data;
  int fd = keel_fs_temp_open(path, &tmp, err);
  if (fd < 0)
    return fd;
  if (fchmod(fd, (mode_t)mode) != 0)
    goto io_fail;
  while (n > 0) {
    /* one write of at most 1 GiB: Linux moves less than 2 GiB per call */
    ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      goto io_fail;
    p += w;
    n -= (size_t)w;
  }
  return keel_fs_temp_commit(fd, tmp, path, no_replace, err);
io_fail:
  keel_fail(err, KEEL_EIO, "%s: write failed: %s", path, strerror(errno));
  unlink(tmp);
  close(fd);
  free(tmp);
  return KEEL_EIO;
}

int keel_fs_mkdir_p(const char *dir, keel_error *err)
{
  char *copy = strdup(dir);
  int rc = 0;
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", dir);
  if (copy[0] == '\0') {
    free(copy);
    return keel_fail(err, KEEL_EINVAL, "cannot create a folder with no name");
  }
  for (char *p = copy + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
        rc = keel_fail(err, KEEL_EIO, "%s: cannot create folder: %s", copy,
                       strerror(errno));
        break;
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  free(copy);
  return rc;
}

FILE *keel_fs_open_regular(const char *path, struct stat *st, int *rc,
                           keel_error *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    *rc = keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                    "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat own;
  if (!st)
    st = &own;
  if (fstat(fileno(f), st) != 0 || !S_ISREG(st->st_mode)) {
    fclose(f);
    *rc = keel_fail(err, KEEL_EINVAL, "%s: not a regular file", path);
    return NULL;
  }
  *rc = KEEL_OK;
  return f;
}

int keel_read_file(const char *path, unsigned char **out, size_t *n,
                   keel_error *err)
{
  *out = NULL;
  *n = 0;
  int rc;
  struct stat st;
  FILE *f = keel_fs_open_regular(path, &st, &rc, err);
  if (!f)
    return rc;
  /* sized from fstat, grown if the file grows while read */
  size_t cap = (size_t)st.st_size + 1, len = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (buf && len == cap) {
      unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, 2 * cap) : NULL;
      if (!grown) {
        free(buf);
        buf = NULL;
      } else {
        buf = grown;
        cap *= 2;
      }
    }
    if (!buf) {
      fclose(f);
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    int e = errno;
    free(buf);
    fclose(f);
    return keel_fail(err, KEEL_EIO, "%s: read error: %s", path, strerror(e));
  }
  fclose(f);
  if (len == cap) { /* room for the NUL */
    unsigned char *grown = realloc(buf, cap + 1);
    if (!grown) {
      free(buf);
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
    }
    buf = grown;
  }
  buf[len] = 0;
  *out = buf;
  *n = len;
  return KEEL_OK;
}

/* .<base>.tmp-XXXXXX as keel_fs_temp_open makes them (mkstemp draws the
 * six characters from [A-Za-z0-9]); nothing else is ever swept. */
int keel_fs_is_temp_name(const char *name)
{
  size_t n = strlen(name), mark = strlen(KEEL_FS_TEMP_MARK);
  if (name[0] != '.' || n < 2 + mark + 6)
    return 0;
  const char *tail = name + n - mark - 6;
  if (memcmp(tail, KEEL_FS_TEMP_MARK, mark) != 0)
    return 0;
  for (size_t i = mark; i < mark + 6; i++) {
    char c = tail[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

int keel_fs_sweep_stale_temps(const char *dir, keel_error *err)
{
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    return keel_fail(err, KEEL_EIO, "%s: cannot list the folder: %s", dir,
                     strerror(errno));
  }
  int dfd = dirfd(d), removed = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!keel_fs_is_temp_name(e->d_name))
      continue;
    int fd =
        openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
      continue;
    struct stat held, named;
    /* stale: a regular file nobody holds locked, still under its name */
    if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
        flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat(dfd, e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_dev == held.st_dev && named.st_ino == held.st_ino) {
      if (unlinkat(dfd, e->d_name, 0) == 0) {
        removed++;
        keel_log_emit(
            KEEL_LOG_INFO,
            "removed a stale temporary file %s/%s (%lld bytes) that an "
            "interrupted keel left",
            dir, e->d_name, (long long)held.st_size);
      } else {
        keel_log_emit(KEEL_LOG_WARN,
                      "cannot remove the stale temporary file %s/%s: %s", dir,
                      e->d_name, strerror(errno));
      }
    }
    close(fd);
  }
  closedir(d);
  return removed;
}

/* flock(op) on PATH.lock, waiting or not: the fd, or a negative code. */
static int lock_file_beside(const char *path, int op, int wait, keel_error *err)
{
  size_t n = strlen(path) + 6;
  char *lock_path = malloc(n);
  if (!lock_path)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  snprintf(lock_path, n, "%s.lock", path);
  int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int rc = keel_fail(err, KEEL_EIO, "%s: cannot open the lock file: %s",
                       lock_path, strerror(errno));
    free(lock_path);
    return rc;
  }
  int r;
  while ((r = flock(fd, op | (wait ? 0 : LOCK_NB))) != 0 && errno == EINTR)
    ;
  if (r == 0) {
    free(lock_path);
    return fd;
  }
  int busy = errno == EWOULDBLOCK;
  int rc = busy ? KEEL_EUNSUPPORTED
                : keel_fail(err, KEEL_EIO, "%s: cannot lock: %s", lock_path,
                            strerror(errno));
  close(fd);
  free(lock_path);
  return rc;
}

int keel_fs_lock_beside(const char *path, int wait, keel_error *err)
{
  return lock_file_beside(path, LOCK_EX, wait, err);
}

int keel_fs_lock_beside_shared(const char *path, keel_error *err)
{
  return lock_file_beside(path, LOCK_SH, 1, err);
}

int keel_fs_lock_share(int fd)
{
  int r;
  while ((r = flock(fd, LOCK_SH)) != 0 && errno == EINTR)
    ;
  return r == 0 ? KEEL_OK : KEEL_EIO;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

void keel_fs_remove_tree(const char *dir)
{
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
