/* Bundles: deterministic sealing, sha256sum compatibility, verification
 * of tampered bundles, refusal of hostile archives, safe extraction, the
 * result digest, environment capture and drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/sha256.h"
#include "bundle/bundle.h"
#include "bundle/envinfo.h"
#include "bundle/sign.h"
#include "test_util.h"

#define RUN_ID "keel-run-20250102T030405.678Z-0badf00d"

/* ---- fixtures ----------------------------------------------------------- */

static const float weights[6] = {1.5f, -2.25f, 3.0f, 0.0f, 1e-7f, 42.0f};

static keel_bundle_builder *synthetic_builder(float w0)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  float w[6];
  size_t shape[2] = {2, 3};
  json_t *cfg =
      json_pack("{s:{s:s,s:f}}", "optimizer", "name", "sgd", "lr", 0.1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  memcpy(w, weights, sizeof w);
  w[0] = w0;
  CU_ASSERT_EQUAL(
      keel_bundle_add_bytes(b, "manifest.ini", "[model]\n", 8, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_json(b, "config.json", cfg, &err), 0);
  CU_ASSERT_EQUAL(
      keel_bundle_add_npy_f32(b, "weights/w.npy", w, shape, 2, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "metrics.jsonl",
                                        "{\"epoch\":1,\"loss\":0.5}\n"
                                        "{\"epoch\":2,\"loss\":0.25}\n",
                                        46, &err),
                  0);
  CU_ASSERT_EQUAL(
      keel_bundle_add_bytes(b, "data/iris.csv", "a,b\n1,2\n", 8, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "environment.json", "{}\n", 3, &err),
                  0);
  CU_ASSERT_EQUAL(keel_bundle_audit(b, "data_read", "iris.csv", NULL, &err), 0);
  keel_bundle_set_outcome(b, 0, NULL, 2);
  json_decref(cfg);
  return b;
}

/* Seals into a fresh folder; returns the malloc'd bundle path. */
static char *seal_into(keel_bundle_builder *b, const char *dir, const char *key,
                       char digest[65])
{
  keel_error err = {0};
  char *path = NULL;
  int rc =
      keel_bundle_seal(b, keel_test_tmp_path(dir), key, &path, digest, &err);
  if (rc)
    fprintf(stderr, "seal: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  keel_bundle_builder_free(b);
  return path;
}

/* One member of a hand-made archive. */
typedef struct raw_member {
  const char *name;
  unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
  const char *data;
  size_t size;
  const char *link;     /* symlink target */
  const char *hardlink; /* hardlink target */
} raw_member;

/* Writes members (in the order given) as a tar.gz; gzip_layers 0 = plain
 * tar, 2 = gzip inside gzip. */
static const char *write_archive(const char *file, const raw_member *m,
                                 size_t n, int gzip_layers)
{
  const char *path = keel_test_tmp_path(file);
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  archive_write_set_format_pax_restricted(a);
  for (int i = 0; i < gzip_layers; i++)
    archive_write_add_filter_gzip(a);
  CU_ASSERT_EQUAL_FATAL(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, m[i].name);
    archive_entry_set_filetype(e, m[i].type);
    archive_entry_set_perm(e, 0644);
    if (m[i].link)
      archive_entry_set_symlink(e, m[i].link);
    if (m[i].hardlink)
      archive_entry_set_hardlink(e, m[i].hardlink);
    if (m[i].type == AE_IFCHR)
      archive_entry_set_rdev(e, 0x0103);
    archive_entry_set_size(e, (la_int64_t)(m[i].data ? m[i].size : 0));
    CU_ASSERT_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
    if (m[i].data && m[i].size)
      archive_write_data(a, m[i].data, m[i].size);
  }
  archive_write_close(a);
  archive_write_free(a);
  archive_entry_free(e);
  return path;
}

/* Copies a bundle member by member into a new archive, changing one
 * member (replace), dropping one (drop) or adding one (add). */
static const char *rewrite_bundle(const char *src, const char *file,
                                  const char *replace, const char *new_data,
                                  const char *drop, const char *add)
{
  keel_bundle *b = NULL;
  keel_error err = {0};
  raw_member m[64];
  char names[64][300];
  size_t n = 0;
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(src, NULL, &b, &err), 0);
  for (size_t i = 0; i < b->n_members && n < 63; i++) {
    const keel_bundle_member *mb = &b->members[i];
    if (drop && strcmp(mb->name, drop) == 0)
      continue;
    snprintf(names[n], sizeof names[n], "%s/%s", b->top, mb->name);
    memset(&m[n], 0, sizeof m[n]);
    m[n].name = names[n];
    m[n].type = mb->is_dir ? AE_IFDIR : AE_IFREG;
    m[n].data = (const char *)mb->data;
    m[n].size = mb->size;
    if (replace && strcmp(mb->name, replace) == 0) {
      m[n].data = new_data;
      m[n].size = strlen(new_data);
    }
    n++;
  }
  if (add) {
    snprintf(names[n], sizeof names[n], "%s/%s", b->top, add);
    memset(&m[n], 0, sizeof m[n]);
    m[n].name = names[n];
    m[n].type = AE_IFREG;
    m[n].data = "surprise\n";
    m[n].size = 9;
    n++;
  }
  const char *out = write_archive(file, m, n, 1);
  keel_bundle_close(b);
  return out;
}

/* Verifies path; returns the status and copies the problems text. */
static int check_bundle(const char *path, const char *pubkey, char *problems,
                        size_t cap)
{
  keel_bundle *b = NULL;
  keel_bundle_report r;
  keel_error err = {0};
  int rc = keel_bundle_open(path, NULL, &b, &err);
  problems[0] = '\0';
  if (rc) {
    snprintf(problems, cap, "%s", err.message);
    return rc;
  }
  rc = keel_bundle_check(b, pubkey, &r, &err);
  if (r.problems)
    snprintf(problems, cap, "%s", r.problems);
  keel_bundle_report_free(&r);
  keel_bundle_close(b);
  return rc;
}

/* ---- tests -------------------------------------------------------------- */

static void test_run_id(void)
{
  char *a = keel_new_run_id(), *b = keel_new_run_id();
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(strncmp(a, "keel-run-", 9), 0);
  CU_ASSERT_EQUAL(strlen(a), strlen(RUN_ID));
  CU_ASSERT_STRING_NOT_EQUAL(a, b);
  CU_ASSERT(strcmp(a, b) < 0 || strncmp(a, b, 28) == 0); /* time first */
  free(a);
  free(b);
  CU_ASSERT_PTR_NULL(keel_bundle_builder_new("../evil"));
  CU_ASSERT_PTR_NULL(keel_bundle_builder_new(""));
}

static void test_builder_refuses_bad_names(void)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "/etc/passwd", "x", 1, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "a/../b", "x", 1, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "a\nb", "x", 1, &err), KEEL_EINVAL);
  {
    /* the reader's rule, and the writer's own: no folder name, at most
     * 200 bytes */
    static const char *const bad[] = {"",     "dir/",  "./a", "a//b",
                                      "a\\b", "a/./b", ".."};
    char long_name[202];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
      CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, bad[i], "x", 1, &err),
                      KEEL_EINVAL);
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, long_name, "x", 1, &err),
                    KEEL_EINVAL);
    long_name[200] = '\0';
    CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, long_name, "x", 1, &err), 0);
  }
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "SHA256SUMS", "x", 1, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "ok.txt", "x", 1, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_add_bytes(b, "ok.txt", "y", 1, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "ok.txt"));
  keel_bundle_builder_free(b);
}

static void test_seal_layout_and_determinism(void)
{
  char d1[65], d2[65], d3[65];
  char *p1 = seal_into(synthetic_builder(1.5f), "det1", NULL, d1);
  char *p2 = seal_into(synthetic_builder(1.5f), "det2", NULL, d2);
  char *p3 = seal_into(synthetic_builder(9.0f), "det3", NULL, d3);
  keel_bundle *a = NULL, *b = NULL;
  keel_error err = {0};
  size_t n = 0;
  unsigned char *raw;
  CU_ASSERT_PTR_NOT_NULL_FATAL(p1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
  CU_ASSERT_STRING_EQUAL(d1, d2);
  CU_ASSERT_STRING_NOT_EQUAL(d1, d3); /* weights are covered */
  CU_ASSERT_PTR_NOT_NULL(strstr(p1, RUN_ID ".tar.gz"));

  /* gzip header: magic, deflate, only the extra field (the seal: no
   * name), mtime 0, Unix; the seal subfield 'KS'. */
  raw = keel_test_read_file(p1, &n);
  CU_ASSERT_FATAL(raw && n > 48 + 8);
  CU_ASSERT_EQUAL(raw[0], 0x1f);
  CU_ASSERT_EQUAL(raw[1], 0x8b);
  CU_ASSERT_EQUAL(raw[3], 0x04);
  CU_ASSERT_EQUAL(raw[4] | raw[5] | raw[6] | raw[7], 0);
  CU_ASSERT_EQUAL(raw[9], 3);
  CU_ASSERT_EQUAL(raw[12], 'K');
  CU_ASSERT_EQUAL(raw[13], 'S');
  free(raw);

  /* Same members in the same order; only run.json may differ. */
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(p1, NULL, &a, &err), 0);
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(p2, NULL, &b, &err), 0);
  CU_ASSERT_STRING_EQUAL(a->top, RUN_ID);
  CU_ASSERT_EQUAL_FATAL(a->n_members, b->n_members);
  for (size_t i = 0; i < a->n_members; i++) {
    CU_ASSERT_STRING_EQUAL(a->members[i].name, b->members[i].name);
    if (strcmp(a->members[i].name, "run.json") == 0 ||
        strcmp(a->members[i].name, "SHA256SUMS") == 0 ||
        strcmp(a->members[i].name, "audit.jsonl") == 0)
      continue;
    CU_ASSERT_EQUAL(a->members[i].size, b->members[i].size);
    if (a->members[i].size == b->members[i].size && a->members[i].data)
      CU_ASSERT_EQUAL(
          memcmp(a->members[i].data, b->members[i].data, a->members[i].size),
          0);
  }
  {
    static const char *const expect[] = {
        "README.md",     "SHA256SUMS",   "audit.jsonl",      "config.json",
        "data/iris.csv", "digest.txt",   "environment.json", "manifest.ini",
        "metrics.jsonl", "plugins.json", "run.json",         "weights/w.npy"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
      CU_ASSERT_PTR_NOT_NULL(keel_bundle_find(a, expect[i]));
    CU_ASSERT_PTR_NULL(keel_bundle_find(a, "SIGNATURE"));
  }
  {
    json_t *run = keel_bundle_json(a, "run.json", &err);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(run, "result_digest")), d1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "status")),
                           "ok");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(run, "threads")), 2);
    json_decref(run);
  }
  /* Tar headers: fixed owner, mode and mtime. */
  {
    struct archive *ar = archive_read_new();
    struct archive_entry *e;
    archive_read_support_filter_gzip(ar);
    archive_read_support_format_tar(ar);
    CU_ASSERT_EQUAL_FATAL(archive_read_open_filename(ar, p1, 10240),
                          ARCHIVE_OK);
    while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
      int dir = archive_entry_filetype(e) == AE_IFDIR;
      CU_ASSERT_EQUAL(archive_entry_mtime(e), 0);
      CU_ASSERT_EQUAL(archive_entry_uid(e), 0);
      CU_ASSERT_EQUAL(archive_entry_gid(e), 0);
      CU_ASSERT_EQUAL(archive_entry_perm(e), dir ? 0755 : 0644);
    }
    archive_read_free(ar);
  }
  keel_bundle_close(a);
  keel_bundle_close(b);
  free(p1);
  free(p2);
  free(p3);
}

static void test_sha256sum_compatible(void)
{
  char d[65], cmd[2048];
  char *p = seal_into(synthetic_builder(1.5f), "sums", NULL, d);
  const char *x = keel_test_tmp_path("sums-x");
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  mkdir(x, 0755);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && tar xzf '%s' && cd " RUN_ID
           " && sha256sum --quiet --strict -c SHA256SUMS",
           x, p);
  CU_ASSERT_EQUAL(system(cmd), 0);
  /* And the result digest is a sha256sum listing of the covered files. */
  snprintf(cmd, sizeof cmd,
           "cd '%s/" RUN_ID "' && test \"$(sha256sum config.json metrics.jsonl"
           " weights/w.npy | sha256sum | cut -c1-64)\" = %s",
           x, d);
  CU_ASSERT_EQUAL(system(cmd), 0);
  free(p);
}

static void test_npy_header(void)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  double v[3] = {1, 2, 3};
  size_t shape[1] = {3};
  char d[65], *p;
  keel_bundle *bd = NULL;
  const keel_bundle_member *m;
  CU_ASSERT_EQUAL(
      keel_bundle_add_npy_f64(b, "weights/v.npy", v, shape, 1, &err), 0);
  p = seal_into(b, "npy", NULL, d);
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(p, NULL, &bd, &err), 0);
  m = keel_bundle_find(bd, "weights/v.npy");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_EQUAL(memcmp(m->data, "\x93NUMPY\x01\x00", 8), 0);
  {
    size_t hlen = m->data[8] | (size_t)m->data[9] << 8;
    CU_ASSERT_EQUAL((10 + hlen) % 64, 0);
    CU_ASSERT_EQUAL(m->data[10 + hlen - 1], '\n');
    CU_ASSERT_PTR_NOT_NULL(strstr((const char *)m->data + 10,
                                  "'descr': '<f8', 'fortran_order': False, "
                                  "'shape': (3,), }"));
    CU_ASSERT_EQUAL(m->size, 10 + hlen + 24);
    CU_ASSERT_EQUAL(memcmp(m->data + 10 + hlen, v, 24), 0);
  }
  keel_bundle_close(bd);
  free(p);
}

static void test_verify_intact_and_tampered(void)
{
  char d[65], problems[4096];
  char *p = seal_into(synthetic_builder(1.5f), "tamper", NULL, d);
  const char *t;
  CU_ASSERT_EQUAL(check_bundle(p, NULL, problems, sizeof problems), 0);

  t = rewrite_bundle(p, "t-weights.tar.gz", "weights/w.npy", "garbage", NULL,
                     NULL);
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "modified: weights/w.npy"));

  t = rewrite_bundle(p, "t-manifest.tar.gz", "manifest.ini", "[model]\nx=1\n",
                     NULL, NULL);
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "modified: manifest.ini"));
  CU_ASSERT_PTR_NULL(strstr(problems, "weights"));

  t = rewrite_bundle(p, "t-drop.tar.gz", NULL, NULL, "metrics.jsonl", NULL);
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "missing: metrics.jsonl"));

  t = rewrite_bundle(p, "t-add.tar.gz", NULL, NULL, NULL, "weights/extra.npy");
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "extra: weights/extra.npy"));

  t = rewrite_bundle(p, "t-digest.tar.gz", "digest.txt",
                     "0000000000000000000000000000000000000000000000000000000"
                     "000000000\n",
                     NULL, NULL);
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "modified: digest.txt"));
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "digest: digest.txt says 0000"));
  free(p);
}

/* Copies src to a new file with byte `at` (negative: from the end) XORed
 * with mask, or with extra bytes appended. */
static const char *mutate_file(const char *src, const char *file, long at,
                               unsigned char mask, const char *append)
{
  size_t n = 0;
  unsigned char *data = keel_test_read_file(src, &n);
  const char *path = keel_test_tmp_path(file);
  FILE *f;
  CU_ASSERT_PTR_NOT_NULL_FATAL(data);
  if (mask)
    data[at < 0 ? (long)n + at : at] ^= mask;
  f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  if (append)
    fputs(append, f);
  fclose(f);
  free(data);
  return path;
}

static void test_gzip_layer(void)
{
  char d[65], problems[4096];
  char *p = seal_into(synthetic_builder(1.5f), "gz", NULL, d);
  const char *t;
  t = mutate_file(p, "gz-crc.tar.gz", -6, 0x01, NULL); /* CRC-32 trailer */
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "archive: the gzip stream is "
                                          "corrupt"));
  t = mutate_file(p, "gz-len.tar.gz", -1, 0x40, NULL); /* ISIZE */
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  t = mutate_file(p, "gz-mtime.tar.gz", 5, 0x10, NULL); /* header mtime */
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "gzip header"));
  t = mutate_file(p, "gz-tail.tar.gz", 0, 0, "trailing");
  CU_ASSERT_EQUAL(check_bundle(t, NULL, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "after the end"));
  /* One flipped bit anywhere fails verify: in a member, a tar header, the
   * deflate data, a padding bit zlib ignores (gzcheck.c), the header or
   * the trailer. ~400 offsets spread over the whole file, every bit
   * position; tests/unit/test_gzcheck.c flips every bit of a small file. */
  size_t n = 0;
  unsigned char *orig = keel_test_read_file(p, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
  size_t stride = n / 400 + 1, missed = 0;
  for (size_t at = 0; at < n; at += stride) {
    t = mutate_file(p, "gz-mid.tar.gz", (long)at,
                    (unsigned char)(1u << (at / stride % 8)), NULL);
    int rc = check_bundle(t, NULL, problems, sizeof problems);
    if (rc != KEEL_EINTEGRITY && missed++ < 5)
      fprintf(stderr, "\n  flip at byte %zu of %zu: rc %d %s", at, n, rc,
              problems);
  }
  CU_ASSERT_EQUAL(missed, 0);
  free(orig);
  free(p);
}

static void test_hostile_archives(void)
{
  static const char top[] = "keel-run-x";
  keel_bundle *b = NULL;
  keel_error err = {0};
  struct {
    const char *file;
    raw_member m[3];
    size_t n;
    const char *expect;
  } cases[] = {
      {"h-abs.tar.gz",
       {{"/etc/evil", AE_IFREG, "x", 1, NULL, NULL}},
       1,
       "absolute path"},
      {"h-dotdot.tar.gz",
       {{"keel-run-x/../../evil", AE_IFREG, "x", 1, NULL, NULL}},
       1,
       "'..'"},
      {"h-symlink.tar.gz",
       {{"keel-run-x/link", AE_IFLNK, NULL, 0, "/etc/passwd", NULL}},
       1,
       "link"},
      {"h-hardlink.tar.gz",
       {{"keel-run-x/a", AE_IFREG, "x", 1, NULL, NULL},
        {"keel-run-x/b", AE_IFREG, NULL, 0, NULL, "/etc/passwd"}},
       2,
       "link"},
      {"h-device.tar.gz",
       {{"keel-run-x/null", AE_IFCHR, NULL, 0, NULL, NULL}},
       1,
       "device"},
      {"h-fifo.tar.gz",
       {{"keel-run-x/f", AE_IFIFO, NULL, 0, NULL, NULL}},
       1,
       "fifo"},
      {"h-dup.tar.gz",
       {{"keel-run-x/a", AE_IFREG, "x", 1, NULL, NULL},
        {"keel-run-x/a", AE_IFREG, "y", 1, NULL, NULL}},
       2,
       "twice"},
      {"h-two-tops.tar.gz",
       {{"keel-run-x/a", AE_IFREG, "x", 1, NULL, NULL},
        {"other/a", AE_IFREG, "y", 1, NULL, NULL}},
       2,
       "outside"},
      {"h-file-dir.tar.gz",
       {{"keel-run-x/a", AE_IFREG, "x", 1, NULL, NULL},
        {"keel-run-x/a/b", AE_IFREG, "y", 1, NULL, NULL}},
       2,
       "both a file and a folder"},
      {"h-dot.tar.gz",
       {{"keel-run-x/./a", AE_IFREG, "x", 1, NULL, NULL}},
       1,
       "non-canonical"},
      {"h-newline.tar.gz",
       {{"keel-run-x/a\nb", AE_IFREG, "x", 1, NULL, NULL}},
       1,
       "control character"},
  };
  (void)top;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *p = write_archive(cases[i].file, cases[i].m, cases[i].n, 1);
    int rc = keel_bundle_open(p, NULL, &b, &err);
    CU_ASSERT_EQUAL(rc, KEEL_EINTEGRITY);
    if (rc == 0) {
      fprintf(stderr, "accepted hostile %s\n", cases[i].file);
      keel_bundle_close(b);
      b = NULL;
    } else if (!strstr(err.message, cases[i].expect)) {
      fprintf(stderr, "%s: unexpected message: %s\n", cases[i].file,
              err.message);
      CU_FAIL("message does not say why");
    }
  }
}

static void test_limits_and_broken_files(void)
{
  keel_bundle *b = NULL;
  keel_error err = {0};
  keel_bundle_limits small = {100, 150, 3};
  char big[200];
  raw_member m[4] = {{"keel-run-x/big", AE_IFREG, big, sizeof big, NULL, NULL}};
  const char *p;
  char d[65], cmd[1024];
  char *good;
  memset(big, 'a', sizeof big);
  p = write_archive("l-big.tar.gz", m, 1, 1);
  CU_ASSERT_EQUAL(keel_bundle_open(p, &small, &b, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "over the limit"));
  CU_ASSERT_EQUAL(keel_bundle_open(p, NULL, &b, &err), 0); /* defaults */
  keel_bundle_close(b);

  m[0].size = 80;
  m[1] = m[0];
  m[1].name = "keel-run-x/big2";
  p = write_archive("l-total.tar.gz", m, 2, 1);
  CU_ASSERT_EQUAL(keel_bundle_open(p, &small, &b, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "add up"));

  /* Nested gzip, plain text, empty file, missing file, truncated file. */
  p = write_archive("l-nested.tar.gz", m, 1, 2);
  CU_ASSERT_EQUAL(keel_bundle_open(p, NULL, &b, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "nested"));

  p = keel_test_tmp_path("l-text.tar.gz");
  {
    FILE *f = fopen(p, "w");
    fputs("this is not an archive at all, just some words\n", f);
    fclose(f);
  }
  CU_ASSERT_EQUAL(keel_bundle_open(p, NULL, &b, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a tar.gz bundle"));

  p = keel_test_tmp_path("l-empty.tar.gz");
  fclose(fopen(p, "w"));
  CU_ASSERT_EQUAL(keel_bundle_open(p, NULL, &b, &err), KEEL_EINTEGRITY);

  CU_ASSERT_EQUAL(
      keel_bundle_open(keel_test_tmp_path("l-none.tar.gz"), NULL, &b, &err),
      KEEL_ENOTFOUND);

  good = seal_into(synthetic_builder(1.5f), "trunc", NULL, d);
  p = keel_test_tmp_path("l-trunc.tar.gz");
  snprintf(cmd, sizeof cmd, "head -c 700 '%s' > '%s'", good, p);
  CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
  CU_ASSERT_EQUAL(keel_bundle_open(p, NULL, &b, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "truncated"));
  free(good);
}

static void test_extract(void)
{
  char d[65], *p = seal_into(synthetic_builder(1.5f), "extract", NULL, d);
  const char *dir = keel_test_tmp_path("extract-x");
  char path[1024];
  keel_bundle *b = NULL;
  keel_error err = {0};
  size_t n = 0;
  unsigned char *data;
  mkdir(dir, 0700);
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(p, NULL, &b, &err), 0);
  CU_ASSERT_EQUAL(keel_bundle_extract(b, dir, &err), 0);
  snprintf(path, sizeof path, "%s/%s/weights/w.npy", dir, RUN_ID);
  data = keel_test_read_file(path, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(data);
  CU_ASSERT_EQUAL(n, keel_bundle_find(b, "weights/w.npy")->size);
  free(data);
  /* A second extraction into the same folder never overwrites. */
  CU_ASSERT_NOT_EQUAL(keel_bundle_extract(b, dir, &err), 0);
  keel_bundle_close(b);
  free(p);
}

static void test_signed_bundle(void)
{
  const char *key = keel_test_tmp_path("sig.key");
  const char *pub = keel_test_tmp_path("sig.pub");
  const char *key2 = keel_test_tmp_path("other.key");
  const char *pub2 = keel_test_tmp_path("other.pub");
  keel_error err = {0};
  char d[65], problems[4096], *p;
  const char *t;
  CU_ASSERT_EQUAL_FATAL(keel_sign_keygen(key, pub, &err), 0);
  CU_ASSERT_EQUAL_FATAL(keel_sign_keygen(key2, pub2, &err), 0);
  p = seal_into(synthetic_builder(1.5f), "signed", key, d);
  CU_ASSERT_EQUAL(check_bundle(p, pub, problems, sizeof problems), 0);
  CU_ASSERT_EQUAL(check_bundle(p, NULL, problems, sizeof problems), 0);
  CU_ASSERT_EQUAL(check_bundle(p, pub2, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "signature:"));
  /* Rewriting SHA256SUMS (to hide a change) breaks the signature. */
  t = rewrite_bundle(p, "s-sums.tar.gz", "SHA256SUMS", "", NULL, NULL);
  CU_ASSERT_EQUAL(check_bundle(t, pub, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "signature:"));
  /* An unsigned bundle fails when a key is required. */
  free(p);
  p = seal_into(synthetic_builder(1.5f), "unsigned", NULL, d);
  CU_ASSERT_EQUAL(check_bundle(p, pub, problems, sizeof problems),
                  KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(problems, "not signed"));
  free(p);
}

static void test_digest_rules(void)
{
  const char *names[] = {"weights/b.npy", "run.json", "config.json",
                         "weights/a.npy"};
  const char *shas[4];
  const char *rev_names[4], *rev_shas[4];
  char h[4][65], d1[65], d2[65], *lines = NULL;
  keel_error err = {0};
  for (int i = 0; i < 4; i++) {
    keel_sha256_hex(names[i], strlen(names[i]), h[i]);
    shas[i] = h[i];
    rev_names[3 - i] = names[i];
    rev_shas[3 - i] = h[i];
  }
  CU_ASSERT(keel_bundle_digest_covers("config.json"));
  CU_ASSERT(keel_bundle_digest_covers("weights/w.npy"));
  CU_ASSERT(keel_bundle_digest_covers("preprocess/01-scale.json"));
  CU_ASSERT(!keel_bundle_digest_covers("weights/"));
  CU_ASSERT(!keel_bundle_digest_covers("run.json"));
  CU_ASSERT(!keel_bundle_digest_covers("environment.json"));
  CU_ASSERT(!keel_bundle_digest_covers("plugins/model-mlp-1.0.0.so"));
  CU_ASSERT(!keel_bundle_digest_covers("data/iris.csv"));
  /* Format 2 leaves the plugin binaries' hashes out; format 1 kept them. */
  CU_ASSERT(!keel_bundle_digest_covers("plugins.json"));
  CU_ASSERT(!keel_bundle_digest_covers("config_full.json"));
  CU_ASSERT_EQUAL(keel_bundle_digest_compute(names, shas, 4, d1, &lines, &err),
                  0);
  CU_ASSERT_EQUAL(
      keel_bundle_digest_compute(rev_names, rev_shas, 4, d2, NULL, &err), 0);
  CU_ASSERT_STRING_EQUAL(d1, d2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
  CU_ASSERT_PTR_NULL(strstr(lines, "run.json"));
  CU_ASSERT(strstr(lines, "config.json") < strstr(lines, "weights/a.npy"));
  keel_sha256_hex(lines, strlen(lines), d2);
  CU_ASSERT_STRING_EQUAL(d1, d2);
  free(lines);
}

static void test_envinfo(void)
{
  json_t *a = keel_envinfo_capture(), *b;
  char *report = NULL, *cf = NULL;
  size_t n = 99;
  keel_error err = {0};
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL(
      json_object_get(json_object_get(a, "libraries"), "glibc"));
  CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(a, "os"), "kernel"));
  /* The run's thread count is a volatile fact of run.json, not of the
   * machine: environment.json must not depend on it. */
  CU_ASSERT_PTR_NULL(json_object_get(a, "threads"));
  CU_ASSERT_TRUE(json_integer_value(json_object_get(a, "cpus_online")) >= 1);
  b = keel_envinfo_capture();
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(keel_envinfo_drift(a, b, &report, &n, &err), 0);
  CU_ASSERT_EQUAL(n, 0); /* thread count is not drift */
  CU_ASSERT_PTR_NULL(report);
  json_object_set_new(json_object_get(b, "libraries"), "zlib",
                      json_string("0.0.1"));
  json_object_set_new(json_object_get(b, "cpu"), "flags",
                      json_string("avx512f sse2"));
  json_object_set_new(json_object_get(a, "cpu"), "flags",
                      json_string("sse2 sse4_2"));
  CU_ASSERT_EQUAL(keel_envinfo_drift(a, b, &report, &n, &err), 0);
  CU_ASSERT_EQUAL(n, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(report);
  CU_ASSERT_PTR_NOT_NULL(strstr(report, "libraries.zlib"));
  CU_ASSERT_PTR_NOT_NULL(strstr(report, "only in bundle: sse4_2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(report, "only here: avx512f"));
  free(report);

  json_object_set_new(
      a, "os_release",
      json_pack("{s:s,s:s}", "ID", "debian", "VERSION_CODENAME", "bookworm"));
  json_object_set_new(
      a, "packages",
      json_pack("{s:s,s:s}", "libc6", "2.36-9+deb12u4", "evil", "1;rm -rf /"));
  CU_ASSERT_EQUAL(
      keel_envinfo_containerfile(a, RUN_ID, "20250102T000000Z", &cf, &err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
  CU_ASSERT_PTR_NOT_NULL(strstr(cf, "FROM docker.io/library/debian:bookworm"));
  CU_ASSERT_PTR_NOT_NULL(strstr(cf, "libc6=2.36-9+deb12u4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(cf, "snapshot.debian.org/archive/debian/"
                                    "20250102T000000Z/"));
  CU_ASSERT_PTR_NULL(strstr(cf, "evil"));
  free(cf);
  /* A hostile keel version or revision cannot start a line of its own
   * (found by tests/fuzz/fuzz_json.c). */
  json_object_set_new(a, "keel",
                      json_pack("{s:s,s:s}", "version", "1\nFROM evil/image",
                                "git_revision", "x\nRUN curl evil"));
  CU_ASSERT_EQUAL(keel_envinfo_containerfile(a, RUN_ID, NULL, &cf, &err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
  CU_ASSERT_PTR_NULL(strstr(cf, "evil"));
  free(cf);
  json_object_set_new(a, "os_release", json_pack("{s:s}", "ID", "alpine"));
  CU_ASSERT_EQUAL(keel_envinfo_containerfile(a, RUN_ID, NULL, &cf, &err),
                  KEEL_EUNSUPPORTED);
  json_decref(a);
  json_decref(b);
}

static void test_failed_run_sealed(void)
{
  keel_error err = {0};
  keel_bundle_builder *b = keel_bundle_builder_new(RUN_ID);
  keel_bundle *bd = NULL;
  char d[65], problems[1024], *p;
  json_t *run;
  keel_bundle_add_bytes(b, "manifest.ini", "[x]\n", 4, &err);
  keel_bundle_set_outcome(b, 1, "train: epoch 3: loss is NaN", 1);
  p = seal_into(b, "failed", NULL, d);
  CU_ASSERT_EQUAL(check_bundle(p, NULL, problems, sizeof problems), 0);
  CU_ASSERT_EQUAL_FATAL(keel_bundle_open(p, NULL, &bd, &err), 0);
  run = keel_bundle_json(bd, "run.json", &err);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "status")),
                         "failed");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(run, "error")),
                         "train: epoch 3: loss is NaN");
  json_decref(run);
  keel_bundle_close(bd);
  free(p);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"run ids are unique and time-sortable", test_run_id},
      {"builder refuses unsafe names", test_builder_refuses_bad_names},
      {"sealing is deterministic", test_seal_layout_and_determinism},
      {"SHA256SUMS passes sha256sum -c", test_sha256sum_compatible},
      {".npy entries", test_npy_header},
      {"verify names tampered files", test_verify_intact_and_tampered},
      {"the gzip layer is checked", test_gzip_layer},
      {"hostile archives refused", test_hostile_archives},
      {"limits, truncated and non-tar files", test_limits_and_broken_files},
      {"safe extraction", test_extract},
      {"signed bundles", test_signed_bundle},
      {"result digest rules", test_digest_rules},
      {"environment capture, drift, Containerfile", test_envinfo},
      {"a failed run is sealed too", test_failed_run_sealed},
      {NULL, NULL}};
  return keel_test_run_suite("bundle", tests);
}
