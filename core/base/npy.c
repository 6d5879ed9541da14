/* The NumPy .npy v1.0 writer (see npy.h). */
#include "base/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

static const char npy_magic[6] = {(char)0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Bytes per element of dtype (0 if unknown). */
static size_t dtype_size(keel_npy_dtype dtype)
{
  switch (dtype) {
  case KEEL_NPY_F32: return 4;
  case KEEL_NPY_F64: return 8;
  case KEEL_NPY_I32: return 4;
  case KEEL_NPY_I64: return 8;
  case KEEL_NPY_U8: return 1;
  }
  return 0;
}

static const char *dtype_descr(keel_npy_dtype dtype)
{
  switch (dtype) {
  case KEEL_NPY_F32: return "<f4";
  case KEEL_NPY_F64: return "<f8";
  case KEEL_NPY_I32: return "<i4";
  case KEEL_NPY_I64: return "<i8";
  case KEEL_NPY_U8: return "|u1";
  }
  return NULL;
}

/* prod(shape) with overflow check; 0 on overflow with *ok = 0. */
static size_t shape_count(size_t ndim, const size_t *shape, size_t esize,
                          int *ok)
{
  size_t n = 1;
  *ok = 1;
  for (size_t i = 0; i < ndim; i++) {
    if (shape[i] && n > SIZE_MAX / shape[i]) {
      *ok = 0;
      return 0;
    }
    n *= shape[i];
  }
  if (esize && n > SIZE_MAX / esize / 2)
    *ok = 0;
  return n;
}

int keel_npy_encode(keel_npy_dtype dtype, const void *data, size_t ndim,
                    const size_t *shape, void **out, size_t *out_len,
                    keel_error *err)
{
  const char *descr = dtype_descr(dtype);
  size_t esize = dtype_size(dtype);
  *out = NULL;
  *out_len = 0;
  if (!descr)
    return keel_fail(err, KEEL_EINVAL, "npy: unknown dtype %d", (int)dtype);
  if (ndim > KEEL_NPY_MAX_DIMS)
    return keel_fail(err, KEEL_EINVAL, "npy: %zu dimensions (at most %d)", ndim,
                     KEEL_NPY_MAX_DIMS);
  int ok;
  size_t n = shape_count(ndim, shape, esize, &ok);
  if (!ok)
    return keel_fail(err, KEEL_EINVAL, "npy: array too large");
  if (n && !data)
    return keel_fail(err, KEEL_EINVAL, "npy: no data for %zu elements", n);

  char dict[512];
  int len =
      snprintf(dict, sizeof dict,
               "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  /* numpy's spelling: "()", "(3,)", "(3, 4)" */
  for (size_t i = 0; i < ndim; i++)
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%zu",
                    i ? ", " : "", shape[i]);
  if (ndim == 1)
    len += snprintf(dict + len, sizeof dict - (size_t)len, ",");
  len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
  /* total header (magic 6 + version 2 + length 2 + dict + pad + '\n') is a
   * multiple of 64 */
  size_t hlen = (size_t)len + 1;
  size_t total_head = 10 + hlen;
  size_t pad = (64 - total_head % 64) % 64;
  hlen += pad;
  if (hlen > 65535)
    return keel_fail(err, KEEL_EINVAL, "npy: header too long");
  size_t bytes = n * esize;
  unsigned char *buf = malloc(10 + hlen + bytes);
  if (!buf)
    return keel_fail(err, KEEL_ENOMEM, "npy: out of memory (%zu bytes)",
                     10 + hlen + bytes);
  memcpy(buf, npy_magic, 6);
  buf[6] = 1;
  buf[7] = 0;
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  memcpy(buf + 10, dict, (size_t)len);
  memset(buf + 10 + len, ' ', pad);
  buf[10 + hlen - 1] = '\n';
  if (bytes)
    memcpy(buf + 10 + hlen, data, bytes);
  *out = buf;
  *out_len = 10 + hlen + bytes;
  return KEEL_OK;
}

int keel_npy_write(const char *path, keel_npy_dtype dtype, const void *data,
                   size_t ndim, const size_t *shape, keel_error *err)
{
  void *buf;
  size_t len;
  int rc = keel_npy_encode(dtype, data, ndim, shape, &buf, &len, err);
  if (rc) {
    keel_error_prefix(err, "%s", path);
    return rc;
  }
  rc = keel_write_file_atomic(path, buf, len, 0644, 0, err);
  free(buf);
  return rc;
}

int keel_npy_write_f32_2d(const char *path, const float *data, size_t rows,
                          size_t cols, keel_error *err)
{
  size_t shape[2] = {rows, cols};
  return keel_npy_write(path, KEEL_NPY_F32, data, 2, shape, err);
}

int keel_npy_write_f32_1d(const char *path, const float *data, size_t n,
                          keel_error *err)
{
  return keel_npy_write(path, KEEL_NPY_F32, data, 1, &n, err);
}
