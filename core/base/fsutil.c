/* fsutil: atomic file writes, mkdir -p, folder fsync (see fsutil.h). */
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int keel_fs_temp_open(const char *path, char **tmp, keel_error *err)
{
  char *copy = strdup(path), *dir;
  const char *base;
  size_t n;
  int fd;
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
  snprintf(*tmp, n, "%s/.%s.tmp-XXXXXX", dir, base);
  free(copy);
  fd = mkstemp(*tmp);
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
  int rc = 0;
  if (fsync(fd) != 0) {
    rc =
        keel_fail(err, KEEL_EIO, "%s: fsync failed: %s", path, strerror(errno));
    close(fd);
    goto out;
  }
  if (close(fd) != 0) {
    rc =
        keel_fail(err, KEEL_EIO, "%s: close failed: %s", path, strerror(errno));
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
  close(fd);
  unlink(tmp);
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
