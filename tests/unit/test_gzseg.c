/* Segmented gzip: what it writes is one ordinary gzip member (zlib's
 * inflate and gzread read it, CRC and length checked), stored and
 * compressed segments mix, empty input works, and a segment compressed
 * ahead (fresh compressor, another thread) gives the same bytes as one
 * compressed inline by a reused compressor. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "bundle/gzseg.h"
#include "test_util.h"

/* Deterministic test bytes: text-like (compressible) or noise. */
static unsigned char *make_bytes(size_t n, int noise, unsigned seed)
{
  static const char words[] = "keel bundle segment deflate weights epoch ";
  unsigned char *p = malloc(n ? n : 1);
  unsigned x = seed * 2654435761u + 1;
  for (size_t i = 0; p && i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] =
        noise ? (unsigned char)(x >> 16)
              : (unsigned char)words[(i + seed + i / 997) % (sizeof words - 1)];
  }
  return p;
}

/* The finished file in memory: w's pieces one after the other (what
 * keel_gzseg_write_fd must write). */
static unsigned char *joined(keel_gzseg_writer *w, size_t *n)
{
  unsigned char *buf = malloc(w->len ? w->len : 1);
  size_t at = 0;
  CU_ASSERT_FATAL(buf != NULL && w->finished);
  for (size_t i = 0; i < w->n_pieces; i++) {
    memcpy(buf + at, w->pieces[i].p, w->pieces[i].n);
    at += w->pieces[i].n;
  }
  CU_ASSERT_EQUAL(at, w->len);
  *n = at;
  return buf;
}

/* One segment of in[0..n): keel_gzseg_compressv over a single span. */
static int compress1(keel_gzseg_deflater *d, const void *in, size_t n,
                     int level, keel_gzseg_seg *seg)
{
  keel_gzseg_span span = {in, n};
  return keel_gzseg_compressv(d, &span, 1, level, seg);
}

static void test_header_and_empty(void)
{
  keel_gzseg_writer w;
  keel_gzseg_seg seg;
  size_t n = 0, out_n = 99;
  unsigned char *gz, *out;
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, NULL), 0);
  /* Unfinished: nothing to write yet. */
  CU_ASSERT_EQUAL(keel_gzseg_write_fd(&w, -1, "early.gz", NULL), KEEL_EINVAL);
  /* Empty segments, inline and ahead, add nothing. */
  CU_ASSERT_EQUAL(keel_gzseg_add(&w, "", 0, 1), 0);
  CU_ASSERT_EQUAL(compress1(NULL, "", 0, 0, &seg), 0);
  CU_ASSERT_EQUAL(seg.size, 0);
  CU_ASSERT_EQUAL(seg.in_size, 0);
  CU_ASSERT_EQUAL(keel_gzseg_append(&w, &seg), 0);
  CU_ASSERT_EQUAL(keel_gzseg_finish(&w), 0);
  gz = joined(&w, &n);
  CU_ASSERT_FATAL(gz != NULL && n >= KEEL_GZSEG_HEADER_SIZE + 8);
  /* A file that cannot be written: KEEL_EIO naming it. */
  {
    keel_error err = {0};
    int fd = open("/dev/null", O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(keel_gzseg_write_fd(&w, fd, "ro.gz", &err), KEEL_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "ro.gz: write failed"));
    close(fd);
  }
  CU_ASSERT_EQUAL(n, w.len);
  CU_ASSERT_EQUAL(memcmp(gz, keel_gzseg_header_prefix, KEEL_GZSEG_SEAL_OFFSET),
                  0);
  /* CRC-32 and ISIZE of nothing. */
  CU_ASSERT_EQUAL(memcmp(gz + n - 8, "\0\0\0\0\0\0\0\0", 8), 0);
  out = keel_test_gunzip(gz, n, &out_n);
  CU_ASSERT_PTR_NOT_NULL(out);
  CU_ASSERT_EQUAL(out_n, 0);
  /* Nothing can follow the end. */
  CU_ASSERT_EQUAL(keel_gzseg_add(&w, "x", 1, 1), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_gzseg_finish(&w), KEEL_EINVAL);
  CU_ASSERT_EQUAL(compress1(NULL, "x", 1, 10, &seg), KEEL_EINVAL);
  CU_ASSERT_EQUAL(compress1(NULL, "x", 1, -1, &seg), KEEL_EINVAL);
  free(out);
  free(gz);
  keel_gzseg_writer_free(&w);
  keel_gzseg_writer_free(&w); /* twice is harmless */
}

/* Stored, fast and best segments, inline and ahead, read back as one. */
static void test_mixed_round_trip(void)
{
  static const size_t sizes[] = {1, 511, 512, 4096, 70000, 3, 200000};
  static const int levels[] = {1, 0, 9, 1, 0, 6, 1};
  const size_t k = sizeof sizes / sizeof sizes[0];
  unsigned char *parts[7], *all, *gz, *out;
  size_t total = 0, n = 0, out_n = 0, at = 0;
  keel_gzseg_writer w;
  keel_gzseg_seg ahead[7];
  keel_gzseg_deflater d = {0};
  for (size_t i = 0; i < k; i++) {
    parts[i] = make_bytes(sizes[i], i % 2, (unsigned)i);
    total += sizes[i];
  }
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, &d), 0);
  for (size_t i = 0; i < k; i++) {
    if (i % 3 == 0) { /* compressed ahead, spliced in */
      CU_ASSERT_EQUAL(compress1(NULL, parts[i], sizes[i], levels[i], &ahead[i]),
                      0);
      CU_ASSERT_EQUAL(ahead[i].in_size, sizes[i]);
      CU_ASSERT_EQUAL(ahead[i].crc, crc32(0, parts[i], (uInt)sizes[i]));
      CU_ASSERT_EQUAL(keel_gzseg_append(&w, &ahead[i]), 0);
    } else {
      memset(&ahead[i], 0, sizeof ahead[i]);
      CU_ASSERT_EQUAL(keel_gzseg_add(&w, parts[i], sizes[i], levels[i]), 0);
    }
  }
  CU_ASSERT_EQUAL(keel_gzseg_finish(&w), 0);
  gz = joined(&w, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
  out = keel_test_gunzip(gz, n, &out_n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  CU_ASSERT_EQUAL_FATAL(out_n, total);
  all = malloc(total);
  for (size_t i = 0; i < k; i++) {
    memcpy(all + at, parts[i], sizes[i]);
    at += sizes[i];
  }
  CU_ASSERT_EQUAL(memcmp(out, all, total), 0);
  /* The text parts shrank; the stored noise (70000 bytes) did not. */
  CU_ASSERT(n < total);
  CU_ASSERT(n > 70000);

  /* Written to a file, gzread (zlib's gzip file reader) agrees. */
  {
    const char *path = keel_test_tmp_path("mixed.gz");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    gzFile gf;
    unsigned char *back = malloc(total + 1);
    int got;
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(keel_gzseg_write_fd(&w, fd, path, NULL), 0);
    close(fd);
    gf = gzopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gf);
    got = gzread(gf, back, (unsigned)(total + 1));
    CU_ASSERT_EQUAL(got, (int)total);
    CU_ASSERT_EQUAL(memcmp(back, all, total), 0);
    CU_ASSERT_EQUAL(gzclose(gf), Z_OK);
    free(back);
  }
  for (size_t i = 0; i < k; i++) {
    keel_gzseg_seg_free(&ahead[i]);
    free(parts[i]);
  }
  free(all);
  free(out);
  free(gz);
  keel_gzseg_writer_free(&w);
  keel_gzseg_deflater_free(&d);
}

/* Builds the same file three ways: every segment inline with one reused
 * (dirty) compressor, every segment ahead with fresh ones, and ahead on
 * another thread. The bytes must be identical. */
typedef struct job {
  const unsigned char *in;
  size_t n;
  int level;
  keel_gzseg_seg seg;
  int rc;
} job;

static void *compress_thread(void *arg)
{
  job *jobs = arg;
  keel_gzseg_deflater d = {0};
  for (job *j = jobs; j->in; j++)
    j->rc = compress1(&d, j->in, j->n, j->level, &j->seg);
  keel_gzseg_deflater_free(&d);
  return NULL;
}

static void test_ahead_equals_inline(void)
{
  static const size_t sizes[] = {5000, 130000, 512, 77008, 1, 40000};
  static const int levels[] = {1, 0, 1, 0, 1, 1};
  enum { K = 6 };
  unsigned char *parts[K], *gz[3];
  size_t n[3];
  job jobs[K + 1];
  keel_gzseg_deflater d = {0};
  pthread_t th;
  for (int i = 0; i < K; i++)
    parts[i] = make_bytes(sizes[i], i == 1 || i == 3, 100u + (unsigned)i);
  memset(jobs, 0, sizeof jobs);
  for (int i = 0; i < K; i++) {
    jobs[i].in = parts[i];
    jobs[i].n = sizes[i];
    jobs[i].level = levels[i];
  }
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, compress_thread, jobs), 0);
  for (int way = 0; way < 3; way++) {
    keel_gzseg_writer w;
    keel_gzseg_seg fresh[K];
    memset(fresh, 0, sizeof fresh);
    CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, way == 0 ? &d : NULL), 0);
    if (way == 2)
      pthread_join(th, NULL);
    for (int i = 0; i < K; i++) {
      if (way == 0) { /* inline, one compressor reused throughout */
        CU_ASSERT_EQUAL(keel_gzseg_add(&w, parts[i], sizes[i], levels[i]), 0);
      } else if (way == 1) { /* ahead, a fresh compressor each */
        CU_ASSERT_EQUAL(
            compress1(NULL, parts[i], sizes[i], levels[i], &fresh[i]), 0);
        CU_ASSERT_EQUAL(keel_gzseg_append(&w, &fresh[i]), 0);
      } else { /* ahead, on another thread */
        CU_ASSERT_EQUAL(jobs[i].rc, 0);
        CU_ASSERT_EQUAL(keel_gzseg_append(&w, &jobs[i].seg), 0);
      }
    }
    CU_ASSERT_EQUAL(keel_gzseg_finish(&w), 0);
    gz[way] = joined(&w, &n[way]);
    keel_gzseg_writer_free(&w);
    for (int i = 0; i < K; i++)
      keel_gzseg_seg_free(&fresh[i]);
  }
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz[0]);
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz[1]);
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz[2]);
  CU_ASSERT_EQUAL(n[0], n[1]);
  CU_ASSERT_EQUAL(n[0], n[2]);
  CU_ASSERT(n[0] == n[1] && memcmp(gz[0], gz[1], n[0]) == 0);
  CU_ASSERT(n[0] == n[2] && memcmp(gz[0], gz[2], n[0]) == 0);
  {
    size_t out_n = 0;
    unsigned char *out = keel_test_gunzip(gz[0], n[0], &out_n);
    size_t total = 0;
    for (int i = 0; i < K; i++)
      total += sizes[i];
    CU_ASSERT_PTR_NOT_NULL(out);
    CU_ASSERT_EQUAL(out_n, total);
    free(out);
  }
  for (int i = 0; i < K; i++) {
    keel_gzseg_seg_free(&jobs[i].seg);
    free(parts[i]);
  }
  for (int way = 0; way < 3; way++)
    free(gz[way]);
  keel_gzseg_deflater_free(&d);
}

/* Several MB, stored and compressed, with more pieces than one writev
 * call takes. */
static void test_large(void)
{
  const size_t big = 5u << 20;
  unsigned char *noise = make_bytes(big, 1, 7), *text = make_bytes(big, 0, 8);
  unsigned char *gz, *out;
  size_t n = 0, out_n = 0;
  keel_gzseg_writer w;
  const char *path = keel_test_tmp_path("large.gz");
  int fd;
  CU_ASSERT_FATAL(noise && text);
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, NULL), 0);
  CU_ASSERT_EQUAL(keel_gzseg_add(&w, noise, big, 0), 0);
  CU_ASSERT_EQUAL(keel_gzseg_add(&w, text, big, 1), 0);
  for (int i = 0; i < 150; i++) /* many small pieces */
    CU_ASSERT_EQUAL(keel_gzseg_add(&w, text + 100 * i, 100, i % 2), 0);
  CU_ASSERT_EQUAL(keel_gzseg_finish(&w), 0);
  CU_ASSERT(w.n_pieces > 150);
  gz = joined(&w, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
  CU_ASSERT(n > big);           /* noise stored */
  CU_ASSERT(n < big + big / 2); /* text compressed */
  out = keel_test_gunzip(gz, n, &out_n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  CU_ASSERT_EQUAL_FATAL(out_n, 2 * big + 15000);
  CU_ASSERT_EQUAL(memcmp(out, noise, big), 0);
  CU_ASSERT_EQUAL(memcmp(out + big, text, big), 0);
  for (int i = 0; i < 150; i++)
    CU_ASSERT_EQUAL(memcmp(out + 2 * big + 100 * i, text + 100 * i, 100), 0);
  /* write_fd writes exactly the joined bytes */
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_EQUAL(keel_gzseg_write_fd(&w, fd, path, NULL), 0);
  close(fd);
  {
    FILE *f = fopen(path, "rb");
    unsigned char *back = malloc(n + 1);
    size_t got = f ? fread(back, 1, n + 1, f) : 0;
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT(got == n && memcmp(back, gz, n) == 0);
    if (f)
      fclose(f);
    free(back);
  }
  free(out);
  free(gz);
  free(noise);
  free(text);
  keel_gzseg_writer_free(&w);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"gzip header, empty input, misuse", test_header_and_empty},
      {"stored and compressed segments read back as one member",
       test_mixed_round_trip},
      {"ahead, inline and threaded compression give the same bytes",
       test_ahead_equals_inline},
      {"large inputs and many pieces", test_large},
      {NULL, NULL}};
  return keel_test_run_suite("gzseg", tests);
}
