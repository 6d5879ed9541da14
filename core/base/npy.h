/* NumPy .npy files (format version 1.0), so numpy.load() reads what keel
 * writes: prepared matrices, weights, optimizer state.
 *
 * Writing is atomic (temp file in the same folder, fsync, rename) and
 * deterministic (the header text depends only on dtype and shape; padded
 * with spaces to a 64-byte boundary, as numpy does). Data is stored
 * little-endian, C order. (keel reads no .npy back: replay recomputes and
 * compares digests, and numpy reads what keel writes.) */
#ifndef KEEL_BASE_NPY_H
#define KEEL_BASE_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "keel/error.h"

#define KEEL_NPY_MAX_DIMS 8

typedef enum keel_npy_dtype {
  KEEL_NPY_F32 = 1, /* '<f4' */
  KEEL_NPY_F64 = 2, /* '<f8' */
  KEEL_NPY_I32 = 3, /* '<i4' */
  KEEL_NPY_I64 = 4, /* '<i8' */
  KEEL_NPY_U8 = 5   /* '|u1' */
} keel_npy_dtype;

/* Encodes an array as the bytes of a .npy file into a malloc'd buffer
 * (*out, *out_len; caller frees). ndim may be 0 (a scalar) up to
 * KEEL_NPY_MAX_DIMS; data holds prod(shape) elements (may be NULL if that
 * is 0). Used by the writer and by the bundle, which stores members from
 * memory. */
int keel_npy_encode(keel_npy_dtype dtype, const void *data, size_t ndim,
                    const size_t *shape, void **out, size_t *out_len,
                    keel_error *err);

/* Writes the array to path atomically. */
int keel_npy_write(const char *path, keel_npy_dtype dtype, const void *data,
                   size_t ndim, const size_t *shape, keel_error *err);
/* Shorthands for 2-D and 1-D float32 arrays. */
int keel_npy_write_f32_2d(const char *path, const float *data, size_t rows,
                          size_t cols, keel_error *err);
int keel_npy_write_f32_1d(const char *path, const float *data, size_t n,
                          keel_error *err);

#endif
