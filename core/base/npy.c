/* NumPy .npy v1.0 writer and a defensive reader. See npy.h. */
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

size_t keel_npy_dtype_size(keel_npy_dtype dtype)
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
  size_t esize = keel_npy_dtype_size(dtype);
  *out = NULL;
  *out_len = 0;
  if (!descr)
    return keel_fail(err, KEEL_EINVAL, "npy: unknown dtype %d", (int)dtype);
  if (ndim > KEEL_NPY_MAX_DIMS)
    return keel_fail(err, KEEL_EINVAL, "npy: %zu dimensions (at most %d)",
                     ndim, KEEL_NPY_MAX_DIMS);
  int ok;
  size_t n = shape_count(ndim, shape, esize, &ok);
  if (!ok)
    return keel_fail(err, KEEL_EINVAL, "npy: array too large");
  if (n && !data)
    return keel_fail(err, KEEL_EINVAL, "npy: no data for %zu elements", n);

  char dict[512];
  int len = snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr);
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

/* ---- reader ----------------------------------------------------------- */

/* Finds 'key': in the header dict and returns the text after it. */
static const char *dict_value(const char *h, const char *key)
{
  char pat[32];
  snprintf(pat, sizeof pat, "'%s':", key);
  const char *p = strstr(h, pat);
  if (!p)
    return NULL;
  p += strlen(pat);
  while (*p == ' ')
    p++;
  return p;
}

static int parse_header(const char *h, const char *name, keel_npy_array *out,
                        keel_error *err)
{
  static const keel_npy_dtype all[] = {KEEL_NPY_F32, KEEL_NPY_F64,
                                       KEEL_NPY_I32, KEEL_NPY_I64, KEEL_NPY_U8};
  const char *d = dict_value(h, "descr");
  const char *f = dict_value(h, "fortran_order");
  const char *s = dict_value(h, "shape");
  if (!d || !f || !s || h[0] != '{')
    return keel_fail(err, KEEL_EDATA, "%s: malformed .npy header", name);
  out->dtype = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    const char *descr = dtype_descr(all[i]);
    size_t dl = strlen(descr);
    if (d[0] == '\'' && strncmp(d + 1, descr, dl) == 0 && d[1 + dl] == '\'')
      out->dtype = all[i];
  }
  if (!out->dtype)
    return keel_fail(err, KEEL_EUNSUPPORTED, "%s: unsupported dtype (keel "
                     "reads <f4, <f8, <i4, <i8, |u1)", name);
  if (strncmp(f, "False", 5) != 0)
    return keel_fail(err, KEEL_EUNSUPPORTED, "%s: Fortran order is not "
                     "supported", name);
  if (*s != '(')
    return keel_fail(err, KEEL_EDATA, "%s: malformed shape", name);
  s++;
  out->ndim = 0;
  for (;;) {
    while (*s == ' ')
      s++;
    if (*s == ')')
      break;
    if (*s < '0' || *s > '9')
      return keel_fail(err, KEEL_EDATA, "%s: malformed shape", name);
    if (out->ndim == KEEL_NPY_MAX_DIMS)
      return keel_fail(err, KEEL_EUNSUPPORTED, "%s: more than %d dimensions",
                       name, KEEL_NPY_MAX_DIMS);
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || v > SIZE_MAX)
      return keel_fail(err, KEEL_EDATA, "%s: shape out of range", name);
    out->shape[out->ndim++] = (size_t)v;
    s = end;
    while (*s == ' ')
      s++;
    if (*s == ',')
      s++;
    else if (*s != ')')
      return keel_fail(err, KEEL_EDATA, "%s: malformed shape", name);
  }
  return KEEL_OK;
}

int keel_npy_decode(const void *bytes, size_t len, const char *name,
                    keel_npy_array *out, keel_error *err)
{
  const unsigned char *b = bytes;
  memset(out, 0, sizeof *out);
  if (len < 10 || memcmp(b, npy_magic, 6) != 0)
    return keel_fail(err, KEEL_EDATA, "%s: not a .npy file", name);
  size_t hlen, off;
  if (b[6] == 1) {
    hlen = (size_t)b[8] | ((size_t)b[9] << 8);
    off = 10;
  } else if (b[6] == 2 || b[6] == 3) {
    if (len < 12)
      return keel_fail(err, KEEL_EDATA, "%s: truncated .npy header", name);
    hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) |
           ((size_t)b[11] << 24);
    off = 12;
  } else {
    return keel_fail(err, KEEL_EUNSUPPORTED, "%s: .npy version %u", name,
                     (unsigned)b[6]);
  }
  if (hlen > len - off || hlen > (1u << 20))
    return keel_fail(err, KEEL_EDATA, "%s: truncated .npy header", name);
  char *h = malloc(hlen + 1);
  if (!h)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  memcpy(h, b + off, hlen);
  h[hlen] = '\0';
  int rc = strlen(h) != hlen
               ? keel_fail(err, KEEL_EDATA, "%s: NUL in .npy header", name)
               : parse_header(h, name, out, err);
  free(h);
  if (rc)
    return rc;
  size_t esize = keel_npy_dtype_size(out->dtype);
  int ok;
  size_t n = shape_count(out->ndim, out->shape, esize, &ok);
  if (!ok || n * esize != len - off - hlen)
    return keel_fail(err, KEEL_EDATA, "%s: data size %zu does not match the "
                     "shape", name, len - off - hlen);
  out->n = n;
  out->data = malloc(n ? n * esize : 1);
  if (!out->data)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (n)
    memcpy(out->data, b + off + hlen, n * esize);
  return KEEL_OK;
}

int keel_npy_read(const char *path, keel_npy_array *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  unsigned char *buf = NULL;
  size_t len = 0;
  int rc = keel_read_file(path, &buf, &len, err);
  if (!rc)
    rc = keel_npy_decode(buf, len, path, out, err);
  free(buf);
  return rc;
}

void keel_npy_free(keel_npy_array *a)
{
  if (!a)
    return;
  free(a->data);
  memset(a, 0, sizeof *a);
}
