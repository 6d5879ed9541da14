/* libFuzzer target for the bundle reader (core/bundle/bundle_read.c,
 * bundle_check.c, gzcheck.c): the input is a would-be bundle (.tar.gz bytes),
 * written to a memfd.
 *
 * Always: keel_gzip_layer_problem on the raw bytes. Then keel_bundle_open,
 * and for a bundle that opens, everything keel does with an untrusted
 * bundle before trusting it: keel_bundle_check (hashes, digest, run.json,
 * plugins.json, signature presence), keel_bundle_digest_of and
 * keel_bundle_digest_current (each format's reader), the JSON
 * members through keel_bundle_json and keel_json_flatten, and
 * keel_bundle_extract into a fresh temporary folder.
 *
 * Beyond memory errors and leaks (ASan/UBSan), it checks what bundle.h
 * promises: an open that fails returns no bundle and says why; an open
 * bundle has one top folder with a plain name, member names that are
 * relative and canonical (no leading '/', no "." / ".." / empty component,
 * no control bytes or backslashes), sorted and unique, no member that is
 * both a file and a folder, file data NUL-terminated; archive_problem is
 * exactly what keel_gzip_layer_problem says of the bytes; check passes
 * only with no problems listed (and no archive problem), fails with
 * KEEL_EINTEGRITY only with problems listed; extraction succeeds and
 * writes exactly the members, all below DIR/<top>/. Build and run:
 * tests/fuzz/run_fuzz.sh bundle. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle/envinfo.h"
#include "bundle/gzcheck.h"
#include "fuzz_check.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* bundle.h's promise for a member name, restated independently. */
static int safe_name(const char *name)
{
  size_t len = strlen(name);
  if (len == 0 || name[0] == '/')
    return 0;
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
      return 0;
  const char *p = name;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    if (!slash)
      return 1;
    p = slash + 1;
  }
}

/* Extraction walk over the whole temporary folder: every path in it must
 * be the run's folder or below it (a '/' after its name, not a sibling
 * that merely starts with the same letters). */
static const char *walk_root, *walk_top;
static size_t walk_files, walk_bad;

static int walk_count(const char *path, const struct stat *st, int type,
                      struct FTW *ftw)
{
  (void)ftw;
  if (strcmp(path, walk_root) == 0)
    return 0;
  size_t n = strlen(walk_top);
  if (strncmp(path, walk_top, n) != 0 || (path[n] != '\0' && path[n] != '/'))
    walk_bad++;
  if (type == FTW_F && S_ISREG(st->st_mode))
    walk_files++;
  else if (type != FTW_D && type != FTW_DP)
    walk_bad++; /* a link or something else: extraction never makes one */
  return 0;
}

static int walk_remove(const char *path, const struct stat *st, int type,
                       struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (type == FTW_DP || type == FTW_D)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static void check_extract(const keel_bundle *b, size_t n_files)
{
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/keel-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir))
    return;
  keel_error err = {0};
  int rc = keel_bundle_extract(b, dir, &err);
  if (rc) {
    fprintf(stderr, "fuzz_bundle: extract failed: %s\n", err.message);
    CHECK(rc == 0);
  }
  char top[4096 + 300];
  snprintf(top, sizeof top, "%s/%s", dir, b->top);
  walk_root = dir;
  walk_top = top;
  walk_files = walk_bad = 0;
  nftw(dir, walk_count, 16, FTW_PHYS);
  CHECK(walk_bad == 0);
  CHECK(walk_files == n_files);
  nftw(dir, walk_remove, 16, FTW_PHYS | FTW_DEPTH);
  CHECK(access(dir, F_OK) != 0); /* removed: the next input starts clean */
}

static void check_json_members(const keel_bundle *b)
{
  static const char *const names[] = {
      "run.json",     "plugins.json",     "config.json",  "config_full.json",
      "lineage.json", "environment.json", "metrics.json", "no-such.json"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    keel_error err = {0};
    json_t *j = keel_bundle_json(b, names[i], &err);
    if (!j) {
      CHECK(err.code < 0 && err.message[0]);
      continue;
    }
    keel_flat *f = NULL;
    size_t n = 0;
    if (keel_json_flatten(j, &f, &n) == 0)
      keel_flat_free(f, n);
    json_decref(j);
  }
}

static void check_open(const keel_bundle *b, const uint8_t *data, size_t size)
{
  CHECK(b->path && b->top && b->top[0]);
  CHECK(safe_name(b->top) && !strchr(b->top, '/'));
  size_t n_files = 0;
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    CHECK(m->name && safe_name(m->name));
    CHECK(strlen(b->top) + 1 + strlen(m->name) <= 255);
    if (i > 0)
      CHECK(strcmp(b->members[i - 1].name, m->name) < 0);
    if (m->is_dir) {
      CHECK(m->data == NULL && keel_bundle_find(b, m->name) == NULL);
      continue;
    }
    n_files++;
    CHECK(m->data && m->data[m->size] == '\0');
    CHECK(keel_bundle_find(b, m->name) == m);
    /* a file is nobody's folder */
    size_t n = strlen(m->name);
    if (i + 1 < b->n_members)
      CHECK(strncmp(b->members[i + 1].name, m->name, n) != 0 ||
            b->members[i + 1].name[n] != '/');
  }
  char *gz = keel_gzip_layer_problem(data, size);
  CHECK((gz == NULL) == (b->archive_problem == NULL));
  CHECK(!gz || strcmp(gz, b->archive_problem) == 0);
  free(gz);

  keel_bundle_report r;
  keel_error err = {0};
  int rc = keel_bundle_check(b, NULL, &r, &err);
  if (rc == 0) {
    CHECK(r.problems == NULL && r.n_problems == 0);
    CHECK(b->archive_problem == NULL);
  } else if (rc == KEEL_EINTEGRITY) {
    CHECK(r.problems && r.problems[0] && r.n_problems > 0);
    CHECK(err.message[0]);
  } else {
    CHECK(rc < 0 && err.message[0]);
  }
  CHECK(!r.signature_checked);
  keel_bundle_report_free(&r);

  char hex[65];
  keel_error e2 = {0};
  if (keel_bundle_digest_of(b, hex, &e2) == 0)
    CHECK(strlen(hex) == 64);
  else
    CHECK(e2.message[0]);
  /* The same bundle's results as the current format reads them (replay;
   * for format 1, config.json and lineage.json rewritten). */
  keel_error e3 = {0};
  if (keel_bundle_digest_current(b, hex, &e3) == 0)
    CHECK(strlen(hex) == 64);
  else
    CHECK(e3.message[0]);
  check_json_members(b);
  check_extract(b, n_files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1u << 20))
    return 0;
  /* the gzip layer alone, on any bytes */
  free(keel_gzip_layer_problem(data, size));

  const char *path = fuzz_file_put(data, size);
  if (!path)
    return 0;
  keel_bundle *b = NULL;
  keel_error err = {0};
  int rc = keel_bundle_open(path, NULL, &b, &err);
  if (rc) {
    CHECK(rc < 0 && b == NULL);
    CHECK(err.message[0] != '\0');
    return 0;
  }
  CHECK(b != NULL);
  check_open(b, data, size);
  keel_bundle_close(b);
  return 0;
}
