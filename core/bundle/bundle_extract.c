/* Extraction of an opened bundle: only folders and new regular files
 * (O_EXCL, O_NOFOLLOW), below a folder the caller made, with the names
 * keel_bundle_open already checked. */
#include "bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/status.h"

static int make_dir(const char *path, keel_error *err)
{
  struct stat st;
  if (mkdir(path, 0755) == 0)
    return 0;
  if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  return keel_fail(err, KEEL_EIO, "%s: cannot create folder: %s", path,
                   strerror(errno));
}

/* Creates every parent folder of path below root (root exists). */
static int make_parents(char *path, size_t root_len, keel_error *err)
{
  for (char *p = path + root_len + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = make_dir(path, err);
    *p = '/';
    if (rc)
      return rc;
  }
  return 0;
}

int keel_bundle_extract(const keel_bundle *b, const char *dir, keel_error *err)
{
  size_t root_len = strlen(dir);
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    size_t n = root_len + strlen(b->top) + strlen(m->name) + 3;
    char *path = malloc(n);
    int rc = 0, fd;
    if (!path)
      return keel_fail(err, KEEL_ENOMEM, "extract: out of memory");
    /* The names were checked at open (relative, no "..", no links), and
     * only folders and new regular files are created here. */
    snprintf(path, n, "%s/%s/%s", dir, b->top, m->name);
    rc = make_parents(path, root_len, err);
    if (!rc && m->is_dir)
      rc = make_dir(path, err);
    if (!rc && !m->is_dir) {
      const unsigned char *p = m->data;
      size_t left = m->size;
      fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0644);
      if (fd < 0) {
        rc = keel_fail(err, KEEL_EIO, "%s: cannot create: %s", path,
                       strerror(errno));
      } else {
        while (left > 0) {
          ssize_t w = write(fd, p, left);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0) {
            rc = keel_fail(err, KEEL_EIO, "%s: write failed: %s", path,
                           strerror(errno));
            break;
          }
          p += w;
          left -= (size_t)w;
        }
        if (close(fd) != 0 && !rc)
          rc = keel_fail(err, KEEL_EIO, "%s: close failed: %s", path,
                         strerror(errno));
      }
    }
    free(path);
    if (rc)
      return rc;
  }
  return 0;
}
