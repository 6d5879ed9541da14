/* SHA-256 helpers: FIPS 180-2 vectors, streaming equals one-shot, files. */
#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "test_util.h"

static const char *const EMPTY =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const ABC =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
/* "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" */
static const char *const TWO_BLOCKS =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

static void test_vectors(void)
{
  char hex[65];
  keel_sha256_hex("", 0, hex);
  CU_ASSERT_STRING_EQUAL(hex, EMPTY);
  keel_sha256_hex("abc", 3, hex);
  CU_ASSERT_STRING_EQUAL(hex, ABC);
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  keel_sha256_hex(m, strlen(m), hex);
  CU_ASSERT_STRING_EQUAL(hex, TWO_BLOCKS);
  CU_ASSERT_EQUAL(strlen(hex), 64);
}

static void test_streaming(void)
{
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  keel_sha256 *h = keel_sha256_new();
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  /* Uneven pieces, including empty updates. */
  keel_sha256_update(h, m, 0);
  keel_sha256_update(h, m, 1);
  keel_sha256_update(h, m + 1, 30);
  keel_sha256_update(h, m + 31, 0);
  keel_sha256_update(h, m + 31, strlen(m) - 31);
  char hex[65];
  keel_sha256_final_hex(h, hex);
  CU_ASSERT_STRING_EQUAL(hex, TWO_BLOCKS);
}

static void test_file(void)
{
  const char *path = keel_test_tmp_path("sha_abc.txt");
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("abc", f);
  fclose(f);
  char hex[65] = "";
  uint64_t bytes = 99;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_sha256_file(path, hex, &bytes, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(hex, ABC);
  CU_ASSERT_EQUAL(bytes, 3);
  /* bytes may be NULL */
  CU_ASSERT_EQUAL(keel_sha256_file(path, hex, NULL, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(hex, ABC);
}

static void test_empty_file(void)
{
  const char *path = keel_test_tmp_path("sha_empty.txt");
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fclose(f);
  char hex[65] = "";
  uint64_t bytes = 99;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_sha256_file(path, hex, &bytes, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(hex, EMPTY);
  CU_ASSERT_EQUAL(bytes, 0);
}

/* More than one read buffer (64 KiB) of data hashes like the one-shot. */
static void test_large_file(void)
{
  enum { N = 200000 };
  static unsigned char buf[N];
  for (size_t i = 0; i < N; i++)
    buf[i] = (unsigned char)(i * 31u + (i >> 8));
  const char *path = keel_test_tmp_path("sha_large.bin");
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(buf, 1, N, f), N);
  fclose(f);
  char want[65], got[65];
  keel_sha256_hex(buf, N, want);
  uint64_t bytes = 0;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_sha256_file(path, got, &bytes, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(got, want);
  CU_ASSERT_EQUAL(bytes, N);
}

static void test_missing_file(void)
{
  char hex[65];
  keel_error err = {0};
  const char *path = keel_test_tmp_path("does-not-exist.bin");
  CU_ASSERT_EQUAL(keel_sha256_file(path, hex, NULL, &err), KEEL_ENOTFOUND);
  CU_ASSERT_EQUAL(err.code, KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "does-not-exist.bin"));
}

static void test_directory(void)
{
  /* A folder is not a file: fopen succeeds on Linux, the read fails. */
  char hex[65];
  keel_error err = {0};
  int rc = keel_sha256_file("/", hex, NULL, &err);
  CU_ASSERT_NOT_EQUAL(rc, KEEL_OK);
  CU_ASSERT_NOT_EQUAL(err.message[0], '\0');
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"known vectors", test_vectors},
      {"streaming equals one-shot", test_streaming},
      {"file", test_file},
      {"empty file", test_empty_file},
      {"file larger than the read buffer", test_large_file},
      {"missing file", test_missing_file},
      {"directory", test_directory},
      {NULL, NULL},
  };
  return keel_test_run_suite("sha256", tests);
}
