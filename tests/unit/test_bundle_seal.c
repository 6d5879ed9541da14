/* Sealing: the compressed layout (docs/bundle-format.md, "Compression").
 * The bundle's gzip file is exactly the canonical segmented gzip of its
 * tar, whether the builder's worker or the seal compressed the members;
 * large, empty and odd-sized members round-trip; JSON is copied when
 * added; a plugin that changed on disk fails the seal; a builder freed
 * unsealed leaks nothing (ASan). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "base/sha256.h"
#include "bundle/bundle.h"
#include "bundle/gzseg.h"
#include "test_util.h"

#define RUN_ID "keel-run-20250102T030405.678Z-5ea15ea1"

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

static size_t octal(const unsigned char *p, size_t n)
{
  size_t v = 0;
  for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
    v = v * 8 + (size_t)(p[i] - '0');
  return v;
}

/* The documented layout, rebuilt from the tar alone: every regular member
 * with data is one segment [header, data, zero padding] (.npy stored,
 * others level 1); everything between (folder headers, empty members,
 * the end of the archive) level 1; then the final block and trailer. */
static unsigned char *canonical_gzip(const unsigned char *tar, size_t len,
                                     size_t *n)
{
  static const unsigned char zeros[512];
  keel_gzseg_writer w;
  size_t pos = 0, at = 0;
  unsigned char *out = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_gzseg_begin(&w, NULL), 0);
  while (at + 512 <= len && tar[at] != 0) {
    const unsigned char *h = tar + at;
    size_t size = octal(h + 124, 12), pad = (512 - size % 512) % 512;
    char name[300];
    snprintf(name, sizeof name, "%.155s/%.100s", (const char *)h + 345,
             (const char *)h);
    if ((h[156] == '0' || h[156] == 0) && size > 0) {
      size_t nl = strlen(name);
      int level = nl > 4 && strcmp(name + nl - 4, ".npy") == 0 ? 0 : 1;
      keel_gzseg_span span[3] = {{h, 512}, {h + 512, size}, {zeros, pad}};
      if (at > pos)
        CU_ASSERT_EQUAL(keel_gzseg_add(&w, tar + pos, at - pos, 1), 0);
      CU_ASSERT_EQUAL(keel_gzseg_addv(&w, span, 3, level), 0);
      pos = at + 512 + size + pad;
    }
    at += 512 + size + pad;
  }
  if (len > pos)
    CU_ASSERT_EQUAL(keel_gzseg_add(&w, tar + pos, len - pos, 1), 0);
  CU_ASSERT_EQUAL(keel_gzseg_finish(&w), 0);
  out = written(&w, n);
  keel_gzseg_writer_free(&w);
  return out;
}

/* Entries in folder dir other than . and .. (0 when it does not exist). */
static int files_in(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d)
    return 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static unsigned char *noise(size_t n, unsigned seed)
{
  unsigned char *p = malloc(n);
  unsigned x = seed;
  for (size_t i = 0; p && i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (unsigned char)(x >> 16);
  }
  return p;
}

static char *text(size_t n)
{
  char *p = malloc(n + 1);
  for (size_t i = 0; p && i < n; i++)
    p[i] = "epoch loss accuracy 0123456789\n"[(i + i / 1000) % 31];
  if (p)
    p[n] = '\0';
  return p;
}

/* Builds a builder with members of many sizes; wait_ms > 0 lets the
 * worker finish every job before returning. */
static keel_bundle_builder *rich_builder(const float *w, size_t nw,
                                         const char *big_text, int wait_ms)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  size_t shape[1] = {nw}, tiny[1] = {3};
  char odd[513];
  json_t *cfg = json_pack("{s:s,s:f,s:[i,i,i]}", "model", "mlp", "lr", 0.125,
                          "hidden", 64, 32, 10);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  memset(odd, 'x', sizeof odd);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "manifest.ini", "[m]\n", 4, &err),
                  0);
  CU_ASSERT_EQUAL(keel_bundle_add_config(b, cfg, cfg, &err), 0);
  CU_ASSERT_EQUAL(
      keel_bundle_add_npy_f32(b, "weights/big.npy", w, shape, 1, &err), 0);
  CU_ASSERT_EQUAL(
      keel_bundle_add_npy_f32(b, "weights/tiny.npy", w, tiny, 1, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "data/big.txt", big_text,
                                        strlen(big_text), &err),
                  0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "data/empty.txt", "", 0, &err), 0);
  CU_ASSERT_EQUAL(
      keel_bundle_add_bytes(b, "data/a/b/c/deep.txt", "deep\n", 5, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "data/x512", odd, 512, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "data/x513", odd, 513, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "environment.json", "{}\n", 3, &err),
                  0);
  keel_bundle_set_outcome(b, 0, NULL, 1);
  json_decref(cfg);
  if (wait_ms > 0) {
    struct timespec ts = {0, (long)wait_ms * 1000000L};
    nanosleep(&ts, NULL);
  }
  return b;
}

static char *seal(keel_bundle_builder *b, const char *dir)
{
  keel_error err = {0};
  char *path = NULL, digest[65];
  int rc =
      keel_bundle_seal(b, keel_test_tmp_path(dir), NULL, &path, digest, &err);
  if (rc)
    fprintf(stderr, "seal: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  keel_bundle_builder_free(b);
  return path;
}

/* The file is the canonical gzip of its tar, whoever compressed what. */
static void test_canonical_layout(void)
{
  const size_t nw = 40000; /* 160 KB of float bits: several stored blocks */
  float *w = (float *)noise(nw * sizeof *w, 3);
  char *big = text(150000);
  const char *dirs[2] = {"late", "early"};
  for (int k = 0; k < 2; k++) {
    char *path = seal(rich_builder(w, nw, big, k ? 200 : 0), dirs[k]);
    size_t n = 0, tar_n = 0, canon_n = 0;
    unsigned char *gz = path ? keel_test_read_file(path, &n) : NULL;
    unsigned char *tar = gz ? keel_test_gunzip(gz, n, &tar_n) : NULL;
    unsigned char *canon;
    CU_ASSERT_PTR_NOT_NULL_FATAL(tar);
    CU_ASSERT_EQUAL(tar_n % 10240, 0);
    CU_ASSERT(n > nw * sizeof *w);              /* the .npy is stored */
    CU_ASSERT(n < nw * sizeof *w + 150000 / 4); /* the text is not */
    canon = canonical_gzip(tar, tar_n, &canon_n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(canon);
    CU_ASSERT_EQUAL(canon_n, n);
    CU_ASSERT(canon_n == n && memcmp(canon, gz, n) == 0);
    {
      keel_bundle *bd = NULL;
      keel_bundle_report rep;
      keel_error err = {0};
      const keel_bundle_member *m;
      CU_ASSERT_EQUAL_FATAL(keel_bundle_open(path, NULL, &bd, &err), 0);
      CU_ASSERT_PTR_NULL(bd->archive_problem);
      CU_ASSERT_EQUAL(keel_bundle_check(bd, NULL, &rep, &err), 0);
      CU_ASSERT_PTR_NULL(rep.problems);
      m = keel_bundle_find(bd, "data/big.txt");
      CU_ASSERT(m && m->size == 150000 && memcmp(m->data, big, 150000) == 0);
      m = keel_bundle_find(bd, "data/empty.txt");
      CU_ASSERT(m && m->size == 0);
      m = keel_bundle_find(bd, "data/a/b/c/deep.txt");
      CU_ASSERT(m && m->size == 5 && memcmp(m->data, "deep\n", 5) == 0);
      m = keel_bundle_find(bd, "data/x513");
      CU_ASSERT(m && m->size == 513);
      m = keel_bundle_find(bd, "weights/big.npy");
      CU_ASSERT(m && m->size == 128 + nw * sizeof *w &&
                memcmp(m->data + 128, w, nw * sizeof *w) == 0);
      keel_bundle_report_free(&rep);
      keel_bundle_close(bd);
    }
    free(canon);
    free(tar);
    free(gz);
    free(path);
  }
  free(big);
  free(w);
}

/* add_json serializes a copy: later changes to the caller's object do not
 * reach the bundle, and the text is the canonical encoding. */
static void test_json_copied(void)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  json_t *j = json_pack("{s:f,s:s,s:{s:[i,f]}}", "pi", 3.141592653589793,
                        "name", "x", "nested", "v", 1, 0.1);
  char *want = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                 JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
  char *path;
  keel_bundle *bd = NULL;
  const keel_bundle_member *m;
  CU_ASSERT_EQUAL(keel_bundle_add_json(b, "metrics.json", j, &err), 0);
  json_object_set_new(j, "name", json_string("changed"));
  json_object_del(j, "pi");
  json_decref(j);
  path = seal(b, "json");
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(path, NULL, &bd, &err), 0);
  m = keel_bundle_find(bd, "metrics.json");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_EQUAL(m->size, strlen(want) + 1);
  CU_ASSERT(m->size == strlen(want) + 1 &&
            memcmp(m->data, want, strlen(want)) == 0 &&
            m->data[m->size - 1] == '\n');
  keel_bundle_close(bd);
  free(want);
  free(path);
}

/* The plugin's bytes are read and checked in the background: a plugin
 * that changed since it was loaded (or vanished) fails the seal, and no
 * bundle is left behind. */
static void test_plugin_checked_at_seal(void)
{
  const char *so = keel_test_tmp_path("fake-plugin.so");
  const char *dir = keel_test_tmp_path("plugin-bad");
  const char *missing = keel_test_tmp_path("no-such.so");
  char good[65], bad[65], *path = NULL, digest[65];
  keel_error err = {0};
  keel_bundle_builder *b;
  FILE *f = fopen(so, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("\x7f"
        "ELF not really",
        f);
  fclose(f);
  CU_ASSERT_EQUAL(keel_sha256_file(so, good, NULL, &err), 0);
  memset(bad, '0', 64);
  bad[64] = '\0';

  b = keel_bundle_builder_new(RUN_ID);
  CU_ASSERT_EQUAL(keel_bundle_add_plugin(b, "model", "fake", "1.0.0", "1.0", so,
                                         bad, 1, &err),
                  0);
  CU_ASSERT_EQUAL(keel_bundle_seal(b, dir, NULL, &path, digest, &err),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "changed on disk"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "fake-plugin.so"));
  CU_ASSERT_PTR_NULL(path);
  CU_ASSERT_EQUAL(files_in(dir), 0); /* no bundle, no temporary file */
  keel_bundle_builder_free(b);

  b = keel_bundle_builder_new(RUN_ID);
  CU_ASSERT_EQUAL(keel_bundle_add_plugin(b, "model", "gone", "1.0.0", "1.0",
                                         missing, good, 1, &err),
                  0);
  CU_ASSERT_EQUAL(keel_bundle_seal(b, dir, NULL, &path, digest, &err),
                  KEEL_ENOTFOUND);
  keel_bundle_builder_free(b);

  b = keel_bundle_builder_new(RUN_ID);
  CU_ASSERT_EQUAL(keel_bundle_add_plugin(b, "model", "fake", "1.0.0", "1.0", so,
                                         good, 1, &err),
                  0);
  path = seal(b, "plugin-good");
  CU_ASSERT_PTR_NOT_NULL(path);
  {
    keel_bundle *bd = NULL;
    const keel_bundle_member *m;
    CU_ASSERT_EQUAL_FATAL(keel_bundle_open(path, NULL, &bd, &err), 0);
    m = keel_bundle_find(bd, "plugins/model-fake-1.0.0.so");
    CU_ASSERT(m && m->size == 15 &&
              memcmp(m->data,
                     "\x7f"
                     "ELF",
                     4) == 0);
    keel_bundle_close(bd);
  }
  free(path);
}

/* Freed with jobs queued, running and done: nothing leaks (ASan). */
static void test_free_unsealed(void)
{
  static const char zero_sha[65] =
      "0000000000000000000000000000000000000000000000000000000000000000";
  keel_error err = {0};
  for (int k = 0; k < 3; k++) {
    keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
    unsigned char *big = noise(300000, (unsigned)k);
    json_t *j = json_pack("{s:i}", "k", k);
    char name[32];
    for (int i = 0; i < 6; i++) {
      snprintf(name, sizeof name, "data/%d.bin", i);
      CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, name, big, 300000, &err), 0);
    }
    CU_ASSERT_EQUAL(keel_bundle_add_json(b, "j.json", j, &err), 0);
    CU_ASSERT_EQUAL(keel_bundle_add_plugin(b, "model", "m", "1.0.0", "1.0",
                                           "/nonexistent.so", zero_sha, 1,
                                           &err),
                    0);
    if (k == 1) {
      struct timespec ts = {0, 5000000L};
      nanosleep(&ts, NULL);
    }
    json_decref(j);
    free(big);
    keel_bundle_builder_free(b);
  }
  /* A builder with nothing in it still seals. */
  free(seal(keel_bundle_builder_new(RUN_ID), "empty"));
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"the file is the canonical segmented gzip of its tar",
       test_canonical_layout},
      {"add_json serializes a copy", test_json_copied},
      {"a plugin that changed on disk fails the seal",
       test_plugin_checked_at_seal},
      {"a builder freed unsealed leaks nothing", test_free_unsealed},
      {NULL, NULL}};
  return keel_test_run_suite("bundle_seal", tests);
}
