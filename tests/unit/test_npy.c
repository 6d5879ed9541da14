/* .npy: exact header bytes (numpy's format, 64-byte aligned), the files
 * written for every dtype and shape, atomic replacement. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/CUnit.h>

#include "base/npy.h"
#include "test_util.h"

static void test_header_bytes(void)
{
  float x[6] = {1, 2, 3, 4, 5, 6};
  size_t shape[2] = {2, 3};
  void *buf;
  size_t len;
  CU_ASSERT_EQUAL_FATAL(
      keel_npy_encode(KEEL_NPY_F32, x, 2, shape, &buf, &len, NULL), KEEL_OK);
  const unsigned char *b = buf;
  /* 10 + 60-byte dict + newline = 71, padded to 128 */
  CU_ASSERT_EQUAL(len, 128 + 24);
  CU_ASSERT_EQUAL(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
  CU_ASSERT_EQUAL(b[8] | (b[9] << 8), 118);
  const char *dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CU_ASSERT_EQUAL(memcmp(b + 10, dict, strlen(dict)), 0);
  CU_ASSERT_EQUAL(b[127], '\n');
  CU_ASSERT_EQUAL(b[126], ' ');
  CU_ASSERT_EQUAL(memcmp(b + 128, x, sizeof x), 0);
  free(buf);

  size_t n = 4;
  CU_ASSERT_EQUAL_FATAL(keel_npy_encode(KEEL_NPY_F64, (double[]){1, 2, 3, 4}, 1,
                                        &n, &buf, &len, NULL),
                        KEEL_OK);
  CU_ASSERT(strstr((char *)buf + 10, "'shape': (4,), }") != NULL);
  CU_ASSERT(strstr((char *)buf + 10, "'<f8'") != NULL);
  CU_ASSERT_EQUAL((len - 32) % 64, 0);
  free(buf);
  int64_t scalar = 7;
  CU_ASSERT_EQUAL_FATAL(
      keel_npy_encode(KEEL_NPY_I64, &scalar, 0, NULL, &buf, &len, NULL),
      KEEL_OK);
  CU_ASSERT(strstr((char *)buf + 10, "'shape': (), }") != NULL);
  free(buf);
}

/* The file at path holds exactly the .npy encoding of the array: the
 * header naming want (dtype and shape), then the array's bytes as given
 * (the host is little-endian). */
static void expect_file(const char *path, keel_npy_dtype dtype,
                        const void *data, size_t esize, size_t ndim,
                        const size_t *shape, const char *want)
{
  size_t n = 0, count = 1, enc_len = 0;
  void *enc = NULL;
  unsigned char *got = keel_test_read_file(path, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(got);
  CU_ASSERT_EQUAL_FATAL(
      keel_npy_encode(dtype, data, ndim, shape, &enc, &enc_len, NULL), KEEL_OK);
  CU_ASSERT(n == enc_len && memcmp(got, enc, n) == 0);
  for (size_t i = 0; i < ndim; i++)
    count *= shape[i];
  size_t header = 10 + (size_t)(got[8] | got[9] << 8);
  CU_ASSERT_EQUAL(n, header + count * esize);
  if (count && n == header + count * esize)
    CU_ASSERT_EQUAL(memcmp(got + header, data, count * esize), 0);
  CU_ASSERT(header <= n && memmem(got, header, want, strlen(want)) != NULL);
  free(enc);
  free(got);
}

static void test_files_of_dtypes_and_shapes(void)
{
  const char *path = keel_test_tmp_path("a.npy");
  float x[6] = {1.5f, -2, 3e30f, 0, -0.0f, 1e-40f};
  keel_error err = {0};
  size_t shape[2] = {3, 2};
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_2d(path, x, 3, 2, &err), KEEL_OK);
  expect_file(path, KEEL_NPY_F32, x, 4, 2, shape,
              "'<f4', "
              "'fortran_order': False, 'shape': (3, 2), }");

  int32_t iv[3] = {-1, 0, 7};
  size_t n = 3;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write(path, KEEL_NPY_I32, iv, 1, &n, &err),
                        KEEL_OK); /* replaces the file */
  expect_file(path, KEEL_NPY_I32, iv, 4, 1, &n,
              "'<i4', "
              "'fortran_order': False, 'shape': (3,), }");

  /* empty matrix: 0 rows */
  size_t empty[2] = {0, 5};
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_2d(path, NULL, 0, 5, &err), KEEL_OK);
  expect_file(path, KEEL_NPY_F32, NULL, 4, 2, empty, "'shape': (0, 5), }");

  uint8_t u[2] = {1, 255};
  n = 2;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write(path, KEEL_NPY_U8, u, 1, &n, &err),
                        KEEL_OK);
  expect_file(path, KEEL_NPY_U8, u, 1, 1, &n, "'|u1', ");

  float y[2] = {0.25f, -8};
  n = 2;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_1d(path, y, 2, &err), KEEL_OK);
  expect_file(path, KEEL_NPY_F32, y, 4, 1, &n, "'shape': (2,), }");
}

static void test_atomic_failure_leaves_nothing(void)
{
  keel_error err = {0};
  float x = 1;
  CU_ASSERT_EQUAL(keel_npy_write_f32_1d("/nonexistent-dir/x.npy", &x, 1, &err),
                  KEEL_EIO);
  CU_ASSERT(strstr(err.message, "/nonexistent-dir/x.npy") != NULL);
  /* an existing file stays intact when the new content is refused */
  const char *path = keel_test_tmp_path("keep.npy");
  size_t one = 1;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_1d(path, &x, 1, &err), KEEL_OK);
  size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CU_ASSERT_EQUAL(keel_npy_write(path, KEEL_NPY_F32, &x, 9, shape, &err),
                  KEEL_EINVAL);
  expect_file(path, KEEL_NPY_F32, &x, 4, 1, &one, "'shape': (1,), }");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"header bytes: numpy format, 64-byte aligned", test_header_bytes},
      {"files of every dtype and shape: the encoding, the data as given",
       test_files_of_dtypes_and_shapes},
      {"failed writes leave nothing half-written",
       test_atomic_failure_leaves_nothing},
      {NULL, NULL}};
  return keel_test_run_suite("npy", tests);
}
