/* .npy: exact header bytes (numpy's format, 64-byte aligned), round trips of every
 * dtype and shape, atomic replacement, and refusal of malformed files. */
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
  CU_ASSERT_EQUAL_FATAL(keel_npy_encode(KEEL_NPY_F32, x, 2, shape, &buf, &len,
                                        NULL), KEEL_OK);
  const unsigned char *b = buf;
  /* 10 + 60-byte dict + newline = 71, padded to 128 */
  CU_ASSERT_EQUAL(len, 128 + 24);
  CU_ASSERT_EQUAL(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
  CU_ASSERT_EQUAL(b[8] | (b[9] << 8), 118);
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CU_ASSERT_EQUAL(memcmp(b + 10, dict, strlen(dict)), 0);
  CU_ASSERT_EQUAL(b[127], '\n');
  CU_ASSERT_EQUAL(b[126], ' ');
  CU_ASSERT_EQUAL(memcmp(b + 128, x, sizeof x), 0);
  free(buf);

  size_t n = 4;
  CU_ASSERT_EQUAL_FATAL(keel_npy_encode(KEEL_NPY_F64, (double[]){1, 2, 3, 4},
                                        1, &n, &buf, &len, NULL), KEEL_OK);
  CU_ASSERT(strstr((char *)buf + 10, "'shape': (4,), }") != NULL);
  CU_ASSERT(strstr((char *)buf + 10, "'<f8'") != NULL);
  CU_ASSERT_EQUAL((len - 32) % 64, 0);
  free(buf);
  int64_t scalar = 7;
  CU_ASSERT_EQUAL_FATAL(keel_npy_encode(KEEL_NPY_I64, &scalar, 0, NULL, &buf,
                                        &len, NULL), KEEL_OK);
  CU_ASSERT(strstr((char *)buf + 10, "'shape': (), }") != NULL);
  free(buf);
}

static void test_round_trip(void)
{
  const char *path = keel_test_tmp_path("a.npy");
  float x[6] = {1.5f, -2, 3e30f, 0, -0.0f, 1e-40f};
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_2d(path, x, 3, 2, &err), KEEL_OK);
  keel_npy_array a;
  CU_ASSERT_EQUAL_FATAL(keel_npy_read(path, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(a.dtype, KEEL_NPY_F32);
  CU_ASSERT_EQUAL(a.ndim, 2);
  CU_ASSERT_EQUAL(a.shape[0], 3);
  CU_ASSERT_EQUAL(a.shape[1], 2);
  CU_ASSERT_EQUAL(a.n, 6);
  CU_ASSERT_EQUAL(memcmp(a.data, x, sizeof x), 0);
  keel_npy_free(&a);

  int32_t iv[3] = {-1, 0, 7};
  size_t n = 3;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write(path, KEEL_NPY_I32, iv, 1, &n, &err),
                        KEEL_OK); /* replaces the file */
  CU_ASSERT_EQUAL_FATAL(keel_npy_read(path, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(a.dtype, KEEL_NPY_I32);
  CU_ASSERT_EQUAL(memcmp(a.data, iv, sizeof iv), 0);
  keel_npy_free(&a);

  /* empty matrix: 0 rows */
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_2d(path, NULL, 0, 5, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_npy_read(path, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(a.shape[0], 0);
  CU_ASSERT_EQUAL(a.shape[1], 5);
  CU_ASSERT_EQUAL(a.n, 0);
  keel_npy_free(&a);

  uint8_t u[2] = {1, 255};
  n = 2;
  CU_ASSERT_EQUAL_FATAL(keel_npy_write(path, KEEL_NPY_U8, u, 1, &n, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_npy_read(path, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(((uint8_t *)a.data)[1], 255);
  keel_npy_free(&a);
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
  CU_ASSERT_EQUAL_FATAL(keel_npy_write_f32_1d(path, &x, 1, &err), KEEL_OK);
  size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CU_ASSERT_EQUAL(keel_npy_write(path, KEEL_NPY_F32, &x, 9, shape, &err),
                  KEEL_EINVAL);
  keel_npy_array a;
  CU_ASSERT_EQUAL(keel_npy_read(path, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL(a.ndim, 1);
  keel_npy_free(&a);
}

static void test_malformed(void)
{
  float x[4] = {1, 2, 3, 4};
  size_t shape[2] = {2, 2};
  void *buf;
  size_t len;
  keel_npy_array a;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_npy_encode(KEEL_NPY_F32, x, 2, shape, &buf, &len,
                                        NULL), KEEL_OK);
  unsigned char *b = buf;
  CU_ASSERT_EQUAL(keel_npy_decode(b, len, "ok", &a, &err), KEEL_OK);
  keel_npy_free(&a);
  CU_ASSERT_EQUAL(keel_npy_decode(b, len - 1, "short", &a, &err), KEEL_EDATA);
  CU_ASSERT(strstr(err.message, "short") != NULL);
  CU_ASSERT_EQUAL(keel_npy_decode(b, 5, "tiny", &a, &err), KEEL_EDATA);
  unsigned char *c = malloc(len);
  memcpy(c, b, len);
  c[0] = 'X';
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "magic", &a, &err), KEEL_EDATA);
  memcpy(c, b, len);
  memcpy(strstr((char *)c + 10, "<f4"), ">f4", 3);
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "bigendian", &a, &err),
                  KEEL_EUNSUPPORTED);
  memcpy(c, b, len);
  memcpy(strstr((char *)c + 10, "False"), "True ", 5);
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "fortran", &a, &err),
                  KEEL_EUNSUPPORTED);
  memcpy(c, b, len);
  c[8] = 0xff; /* header length past the end */
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "hlen", &a, &err), KEEL_EDATA);
  memcpy(c, b, len);
  memcpy(strstr((char *)c + 10, "(2, 2)"), "(2, 9)", 6);
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "shape", &a, &err), KEEL_EDATA);
  memcpy(c, b, len);
  memcpy(strstr((char *)c + 10, "(2, 2)"), "(2,-2)", 6);
  CU_ASSERT_EQUAL(keel_npy_decode(c, len, "neg", &a, &err), KEEL_EDATA);
  free(c);
  free(buf);
  CU_ASSERT_EQUAL(keel_npy_read("/nonexistent.npy", &a, &err), KEEL_ENOTFOUND);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"header bytes: numpy format, 64-byte aligned", test_header_bytes},
      {"round trips of dtypes and shapes", test_round_trip},
      {"failed writes leave nothing half-written", test_atomic_failure_leaves_nothing},
      {"malformed files are refused", test_malformed},
      {NULL, NULL}};
  return keel_test_run_suite("npy", tests);
}
