/* The fuzz targets whose code under test reads a path (manifests,
 * templates, bundles) get each input as a file: one memfd per process,
 * rewritten for every input and named by /proc/self/fd/N. No disk I/O,
 * no files left behind, and parallel replays do not collide. */
#ifndef KEEL_FUZZ_FILE_H
#define KEEL_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a file holding exactly data[0..size), or NULL (then the
 * caller skips the input). Valid until the next call. */
static const char *fuzz_file_put(const uint8_t *data, size_t size)
{
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("keel-fuzz", MFD_CLOEXEC);
    if (fd < 0)
      return NULL;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0)
    return NULL;
  size_t done = 0;
  while (done < size) {
    ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
    if (w <= 0)
      return NULL;
    done += (size_t)w;
  }
  return path;
}

#endif
