/* filecopy: a file read with pread in bounded windows into host-owned
 * memory (issue 11, finding 4: a data file truncated while read is an
 * error, never SIGBUS). Content and window order; a file that ends early
 * (short read), grows, or shrinks to nothing is KEEL_EINTEGRITY naming it,
 * and stays failed; a follower thread sees every byte in order, reading
 * the windows itself when nobody else does, also while several threads
 * fill at once. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/filecopy.h"
#include "base/status.h"
#include "test_util.h"

#define W KEEL_FILE_WINDOW

/* Writes n bytes of a fixed pattern to a fresh file; returns its path. */
static const char *pattern_file(const char *name, size_t n)
{
  const char *path = keel_test_tmp_path(name);
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  for (size_t i = 0; i < n; i++)
    fputc((int)((i * 7 + i / 4096) % 251), f);
  CU_ASSERT_EQUAL(fclose(f), 0);
  return path;
}

static int pattern_ok(const unsigned char *p, size_t off, size_t n)
{
  for (size_t i = off; i < off + n; i++)
    if (p[i - off] != (unsigned char)((i * 7 + i / 4096) % 251))
      return 0;
  return 1;
}

/* Opens path and makes a copy of its current size. */
static keel_file_copy *copy_of(const char *path, size_t len,
                               keel_file_copy_window_fn fn, void *arg)
{
  int fd = open(path, O_RDONLY);
  CU_ASSERT_FATAL(fd >= 0);
  keel_file_copy *c = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_open(fd, len, "data.csv", fn, arg, &c, &err),
                  KEEL_OK);
  close(fd); /* the copy keeps its own descriptor */
  return c;
}

typedef struct windows_seen {
  size_t n, total, bad;
} windows_seen;

static void see_window(void *arg, const unsigned char *p, size_t n)
{
  windows_seen *s = arg;
  if (n > W || !pattern_ok(p, s->total, n))
    s->bad++;
  s->n++;
  s->total += n;
}

static void test_whole_in_windows(void)
{
  size_t len = 2 * W + 12345;
  const char *path = pattern_file("whole.bin", len);
  windows_seen seen = {0};
  keel_file_copy *c = copy_of(path, len, see_window, &seen);
  keel_error err = {0};
  /* on demand: the first window only, then the rest */
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, 10, &err), KEEL_OK);
  CU_ASSERT_EQUAL(seen.n, 1);
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, len, &err), KEEL_OK);
  CU_ASSERT_EQUAL(seen.n, 3);
  CU_ASSERT_EQUAL(seen.total, len);
  CU_ASSERT_EQUAL(seen.bad, 0);
  CU_ASSERT_EQUAL(keel_file_copy_len(c), len);
  CU_ASSERT(pattern_ok(keel_file_copy_data(c), 0, len));
  /* filled already: nothing is read twice */
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, len, &err), KEEL_OK);
  CU_ASSERT_EQUAL(seen.n, 3);
  /* a second reference outlives the first */
  keel_file_copy *c2 = keel_file_copy_ref(c);
  keel_file_copy_unref(c);
  CU_ASSERT(pattern_ok(keel_file_copy_data(c2), 0, len));
  keel_file_copy_unref(c2);
  keel_file_copy_unref(NULL);
}

static void expect_changed(keel_file_copy *c, size_t upto, const char *why)
{
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, upto, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(
      err.message, "data.csv: the file changed while this run was reading it"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, why));
  /* failed for good: every later call says the same */
  keel_error again = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, 1, &again), KEEL_EINTEGRITY);
  CU_ASSERT_STRING_EQUAL(again.message, err.message);
}

static void test_short_read(void)
{
  size_t len = 3 * W;
  const char *path = pattern_file("short.bin", len);
  keel_file_copy *c = copy_of(path, len, NULL, NULL);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, 1, &err), KEEL_OK);
  /* cut inside the second window: that window's read comes up short */
  CU_ASSERT_EQUAL_FATAL(truncate(path, (off_t)(W + 100)), 0);
  char why[64];
  snprintf(why, sizeof why, "it ended at byte %zu", W + 100);
  expect_changed(c, len, why);
  /* the first window was read before the cut, and stays as it was */
  CU_ASSERT(pattern_ok(keel_file_copy_data(c), 0, W));
  keel_file_copy_unref(c);
}

static void test_file_shrinks_to_nothing(void)
{
  size_t len = W / 2;
  const char *path = pattern_file("shrinks.bin", len);
  keel_file_copy *c = copy_of(path, len, NULL, NULL);
  CU_ASSERT_EQUAL_FATAL(truncate(path, 0), 0);
  expect_changed(c, len, "it ended at byte 0");
  keel_file_copy_unref(c);
}

static void test_file_grows(void)
{
  size_t len = W + 7;
  const char *path = pattern_file("grows.bin", len);
  keel_file_copy *c = copy_of(path, len, NULL, NULL);
  FILE *f = fopen(path, "ab");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("more rows\n", f);
  fclose(f);
  /* the bytes promised are all there; the one after them is not allowed */
  char why[64];
  snprintf(why, sizeof why, "grew past the %zu bytes", len);
  expect_changed(c, len, why);
  keel_file_copy_unref(c);
  /* an empty file that grows, too */
  path = pattern_file("empty.bin", 0);
  c = copy_of(path, 0, NULL, NULL);
  CU_ASSERT_PTR_NULL(keel_file_copy_data(c));
  f = fopen(path, "ab");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputc('x', f);
  fclose(f);
  expect_changed(c, 0, "grew past the 0 bytes");
  keel_file_copy_unref(c);
}

static void test_empty_file(void)
{
  const char *path = pattern_file("empty-ok.bin", 0);
  keel_file_copy *c = copy_of(path, 0, NULL, NULL);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill(c, 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_file_copy_len(c), 0);
  keel_error none = {0};
  CU_ASSERT_EQUAL(keel_file_copy_follow(c, 0, &none), 0);
  CU_ASSERT_EQUAL(none.code, 0);
  keel_file_copy_unref(c);
}

typedef struct follower {
  keel_file_copy *c;
  size_t got, steps, bad;
  keel_error err;
} follower;

static void *follow_all(void *arg)
{
  follower *f = arg;
  const unsigned char *data = keel_file_copy_data(f->c);
  for (;;) {
    size_t now = keel_file_copy_follow(f->c, f->got, &f->err);
    if (now == f->got)
      break;
    if (now < f->got || !pattern_ok(data + f->got, f->got, now - f->got))
      f->bad++;
    f->got = now;
    f->steps++;
  }
  return NULL;
}

static void test_follower(void)
{
  size_t len = 5 * W + 1;
  const char *path = pattern_file("follow.bin", len);
  /* beside a reader that asks for everything */
  follower f = {.c = copy_of(path, len, NULL, NULL)};
  pthread_t t;
  CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, follow_all, &f), 0);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill(f.c, len, &err), KEEL_OK);
  pthread_join(t, NULL);
  CU_ASSERT_EQUAL(f.got, len);
  CU_ASSERT_EQUAL(f.bad, 0);
  CU_ASSERT_EQUAL(f.err.code, 0);
  keel_file_copy_unref(f.c);
  /* alone: it reads the windows itself, one per step */
  follower g = {.c = copy_of(path, len, NULL, NULL)};
  follow_all(&g);
  CU_ASSERT_EQUAL(g.got, len);
  CU_ASSERT_EQUAL(g.steps, 6);
  CU_ASSERT_EQUAL(g.bad, 0);
  keel_file_copy_unref(g.c);
  /* a file cut under it: it stops where the file ended, with the error */
  follower h = {.c = copy_of(path, len, NULL, NULL)};
  CU_ASSERT_EQUAL_FATAL(truncate(path, (off_t)(2 * W)), 0);
  follow_all(&h);
  CU_ASSERT_EQUAL(h.got, 2 * W);
  CU_ASSERT_EQUAL(h.err.code, KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(h.err.message, "data.csv: the file changed"));
  keel_file_copy_unref(h.c);
}

static void test_fill_all_threads(void)
{
  size_t len = 9 * W + 77;
  const char *path = pattern_file("parallel.bin", len);
  for (int threads = 1; threads <= 3; threads++) {
    /* beside a follower, as the lineage hash follows input_view */
    follower f = {.c = copy_of(path, len, NULL, NULL)};
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, follow_all, &f), 0);
    keel_error err = {0};
    CU_ASSERT_EQUAL(keel_file_copy_fill_all(f.c, threads, &err), KEEL_OK);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(f.got, len);
    CU_ASSERT_EQUAL(f.bad, 0);
    CU_ASSERT(pattern_ok(keel_file_copy_data(f.c), 0, len));
    keel_file_copy_unref(f.c);
  }
  /* cut while several threads read: the failure, and the bytes in memory
   * (filled) stop before the cut */
  keel_file_copy *c = copy_of(path, len, NULL, NULL);
  CU_ASSERT_EQUAL_FATAL(truncate(path, (off_t)(4 * W + 5)), 0);
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_file_copy_fill_all(c, 3, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "it ended at byte"));
  keel_error none = {0};
  CU_ASSERT(keel_file_copy_follow(c, 0, &none) <= 4 * W);
  keel_file_copy_unref(c);
  /* grown while several threads read */
  path = pattern_file("parallel-grows.bin", len);
  c = copy_of(path, len, NULL, NULL);
  FILE *fp = fopen(path, "ab");
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  fputc('x', fp);
  fclose(fp);
  CU_ASSERT_EQUAL(keel_file_copy_fill_all(c, 2, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "grew past"));
  keel_file_copy_unref(c);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"whole file in windows, in order, read once", test_whole_in_windows},
      {"short read: a file cut while read is KEEL_EINTEGRITY, for good",
       test_short_read},
      {"file shrinks to nothing before its first read",
       test_file_shrinks_to_nothing},
      {"file grows while read", test_file_grows},
      {"empty file", test_empty_file},
      {"a follower sees every byte in order, reading alone if need be",
       test_follower},
      {"several threads fill windows at once; cut or grown underneath",
       test_fill_all_threads},
      {NULL, NULL}};
  return keel_test_run_suite("filecopy", tests);
}
