/* The gzip layer check: what keel's segmented writer produces passes, and
 * every single-bit flip anywhere in such a file is refused by the check
 * itself, including the flips plain zlib cannot see (it inflates them to
 * the same bytes). Plus foreign headers, trailing bytes and truncation. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "bundle/gzcheck.h"
#include "bundle/gzseg.h"
#include "test_util.h"

/* The finished file as keel_gzseg_write_fd writes it (as the seal writes
 * a bundle), read back; malloc'd. */
static unsigned char *written(const keel_gzseg_writer *w, size_t *n)
{
  const char *path = keel_test_tmp_path("written.gz");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_EQUAL(keel_gzseg_write_fd(w, fd, path, NULL), 0);
  close(fd);
  unsigned char *out = keel_test_read_file(path, n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  return out;
}

/* A small file in keel's layout: compressed text, a stored (level 0)
 * segment of noise like an .npy, an empty segment, more text. */
static unsigned char *sample(size_t *n)
{
  static const char text[] =
      "{\"run\": \"keel\", \"epochs\": 20, \"metrics\": [0.91, 0.95]}\n"
      "keel bundle segment deflate weights epoch keel bundle\n";
  unsigned char noise[700];
  unsigned x = 12345;
  for (size_t i = 0; i < sizeof noise; i++) {
    x = x * 1103515245u + 12345u;
    noise[i] = (unsigned char)(x >> 16);
  }
  keel_gzseg_writer w;
  unsigned char *out = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_add(&w, text, sizeof text - 1, 1), 0);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_add(&w, noise, sizeof noise, 0), 0);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_add(&w, text, 0, 1), 0);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_add(&w, text, 40, 1), 0);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_finish(&w), 0);
  out = written(&w, n);
  keel_gzseg_writer_free(&w);
  return out;
}

static void test_writer_output_passes(void)
{
  size_t n = 0;
  unsigned char *gz = sample(&n);
  char *why = keel_gzip_layer_problem(gz, n);
  CU_ASSERT_PTR_NULL(why);
  if (why)
    fprintf(stderr, "\n  %s\n", why);
  free(why);
  /* not gzip at all: the tar reader's business */
  CU_ASSERT_PTR_NULL(
      keel_gzip_layer_problem((const unsigned char *)"ustar", 5));
  free(gz);
}

static void test_every_bit_flip_is_caught(void)
{
  size_t n = 0;
  unsigned char *gz = sample(&n);
  size_t want_n = 0;
  unsigned char *want = keel_test_gunzip(gz, n, &want_n);
  CU_ASSERT_FATAL(want != NULL && want_n > 0);
  size_t missed = 0, unseen_by_zlib = 0;
  /* From byte 2: a flip in the magic makes it "not gzip", which the
   * bundle reader refuses (test_bundle.c flips whole bundles). */
  for (size_t i = 2; i < n; i++)
    for (int bit = 0; bit < 8; bit++) {
      gz[i] ^= (unsigned char)(1u << bit);
      size_t got_n = 0;
      unsigned char *got = keel_test_gunzip(gz, n, &got_n);
      if (got && got_n == want_n && memcmp(got, want, want_n) == 0)
        unseen_by_zlib++;
      free(got);
      char *why = keel_gzip_layer_problem(gz, n);
      if (!why && missed++ < 5)
        fprintf(stderr, "\n  flip at byte %zu bit %d went unseen", i, bit);
      free(why);
      gz[i] ^= (unsigned char)(1u << bit);
    }
  CU_ASSERT_EQUAL(missed, 0);
  /* the flips only the seal sees exist (so this test means something) */
  CU_ASSERT(unseen_by_zlib > 0);
  free(want);
  free(gz);
}

static void test_foreign_trailing_truncated(void)
{
  size_t n = 0;
  unsigned char *gz = sample(&n);
  unsigned char *buf = malloc(n + 4);
  CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
  char *why;

  /* a header with a time (re-compressed by gzip) */
  memcpy(buf, gz, n);
  buf[4] = 0x5e;
  why = keel_gzip_layer_problem(buf, n);
  CU_ASSERT_PTR_NOT_NULL(why);
  if (why)
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "header"));
  free(why);

  /* bytes after the stream, named by offset */
  memcpy(buf, gz, n);
  memcpy(buf + n, "junk", 4);
  why = keel_gzip_layer_problem(buf, n + 4);
  CU_ASSERT_PTR_NOT_NULL(why);
  if (why) {
    char at[32];
    snprintf(at, sizeof at, "byte %zu", n);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, at));
  }
  free(why);

  /* every truncation */
  for (size_t cut = 2; cut < n; cut++) {
    why = keel_gzip_layer_problem(gz, cut);
    CU_ASSERT_PTR_NOT_NULL(why);
    free(why);
  }
  free(buf);
  free(gz);
}

/* A valid gzip stream from plain zlib (no seal) is not keel's. */
static void test_unsealed_stream_refused(void)
{
  static const char text[] = "abcabcabcabcabcabc keel keel keel 0123456789";
  unsigned char out[512];
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  CU_ASSERT_EQUAL_FATAL(
      deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  zs.next_in = (unsigned char *)text;
  zs.avail_in = sizeof text - 1;
  zs.next_out = out;
  zs.avail_out = sizeof out;
  CU_ASSERT_EQUAL_FATAL(deflate(&zs, Z_FINISH), Z_STREAM_END);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  char *why = keel_gzip_layer_problem(out, n);
  CU_ASSERT_PTR_NOT_NULL(why);
  if (why)
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "header"));
  free(why);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"keel's segmented gzip passes", test_writer_output_passes},
      {"every single-bit flip is caught", test_every_bit_flip_is_caught},
      {"foreign header, trailing bytes, truncation",
       test_foreign_trailing_truncated},
      {"a stream without keel's seal is refused", test_unsealed_stream_refused},
      {NULL, NULL},
  };
  return keel_test_run_suite("gzcheck", tests);
}
