/* The plugin loader and registry: kind names, loading real built plugins,
 * scanning folders (sorted, shadowing, duplicates), path lists, and every
 * refusal: missing, folder, not ELF, empty, unloadable, and each deliberately
 * broken plugin of tests/plugins (each must be refused with its own reason;
 * an accepted one fails the test). */
#include <dirent.h>
#include <errno.h>
#include <fenv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/params.h"
#include "base/sha256.h"
#include "plugin/loader.h"
#include "test_util.h"

/* ---- helpers ----------------------------------------------------------- */

static int file_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *fresh_dir(const char *name)
{
  static char dirs[16][4096];
  static int next;
  char *dir = dirs[next++ % 16];
  snprintf(dir, 4096, "%s", keel_test_tmp_path(name));
  CU_ASSERT_EQUAL(mkdir(dir, 0700), 0);
  return dir;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  if (n)
    CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
  CU_ASSERT_EQUAL(fclose(f), 0);
}

/* Copies a file byte for byte (a copy, not a link: realpath must differ). */
static void copy_file(const char *from, const char *to)
{
  FILE *in = fopen(from, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(in);
  FILE *out = fopen(to, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    CU_ASSERT_EQUAL_FATAL(fwrite(buf, 1, n, out), n);
  fclose(in);
  CU_ASSERT_EQUAL(fclose(out), 0);
}

/* The scan went on past a refused file and recorded it with its reason. */
static void expect_broken(const keel_registry *reg, const char *file,
                          const char *why)
{
  const keel_broken_plugin *b = NULL;
  for (size_t i = 0; i < keel_registry_broken_count(reg); i++)
    if (strstr(keel_registry_broken_at(reg, i)->path, file))
      b = keel_registry_broken_at(reg, i);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_PTR_NOT_NULL(strstr(b->reason, file));
  CU_ASSERT_PTR_NOT_NULL(strstr(b->reason, why));
}

static int has(const char *hay, const char *needle)
{
  if (strstr(hay, needle))
    return 1;
  fprintf(stderr, "\n  message '%s' lacks '%s'\n", hay, needle);
  return 0;
}

/* A good built plugin: csv.so if built, else the first *.so in byte order;
 * NULL (and the caller fails) only when the folder has none. */
static const char *good_plugin(void)
{
  static char path[4096];
  snprintf(path, sizeof path, "%s/csv.so", KEEL_TEST_PLUGIN_DIR);
  if (file_exists(path))
    return path;
  DIR *d = opendir(KEEL_TEST_PLUGIN_DIR);
  if (!d)
    return NULL;
  char best[256] = "";
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 3 && n < sizeof best && strcmp(e->d_name + n - 3, ".so") == 0 &&
        (!best[0] || strcmp(e->d_name, best) < 0))
      snprintf(best, sizeof best, "%s", e->d_name);
  }
  closedir(d);
  if (!best[0])
    return NULL;
  snprintf(path, sizeof path, "%s/%s", KEEL_TEST_PLUGIN_DIR, best);
  return path;
}

/* A test that needs a built plugin fails without one: the build makes
 * them, and a skipped test is not a passed one. */
#define NEED_GOOD_PLUGIN(VAR)                                                  \
  const char *VAR = good_plugin();                                             \
  if (!VAR) {                                                                  \
    fprintf(stderr, "\n  no plugin built in %s\n", KEEL_TEST_PLUGIN_DIR);      \
    CU_FAIL("no built plugin (*.so) in KEEL_TEST_PLUGIN_DIR");                 \
    return;                                                                    \
  }

/* Fails the current test naming a build artifact it needs that is absent;
 * returns 1 when it is there. */
static int need_artifact(const char *path)
{
  if (file_exists(path))
    return 1;
  fprintf(stderr, "\n  %s was not built\n", path);
  CU_FAIL("a build artifact the test needs is missing (named above)");
  return 0;
}

/* ---- kinds ------------------------------------------------------------- */

static void test_kind_names(void)
{
  static const char *const names[] = {"source", "transform", "model", "loss",
                                      "optimizer"};
  for (int k = KEEL_KIND_SOURCE; k <= KEEL_KIND_OPTIMIZER; k++) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(keel_kind_name(k));
    CU_ASSERT_STRING_EQUAL(keel_kind_name(k), names[k - 1]);
    CU_ASSERT_EQUAL(keel_kind_from_name(names[k - 1]), k);
    CU_ASSERT_STRING_EQUAL(keel_kind_names()[k - 1], names[k - 1]);
  }
  CU_ASSERT_PTR_NULL(keel_kind_name(0));
  CU_ASSERT_PTR_NULL(keel_kind_name(6));
  CU_ASSERT_PTR_NULL(keel_kind_name(-1));
  CU_ASSERT_PTR_NULL(keel_kind_name(42));
  CU_ASSERT_EQUAL(keel_kind_from_name("Model"), 0);
  CU_ASSERT_EQUAL(keel_kind_from_name("models"), 0);
  CU_ASSERT_EQUAL(keel_kind_from_name(""), 0);
  CU_ASSERT_EQUAL(keel_kind_from_name(NULL), 0);
}

/* ---- a good plugin ----------------------------------------------------- */

static void test_load_good(void)
{
  NEED_GOOD_PLUGIN(path);
  keel_error err = {0};
  keel_loaded_plugin *p = NULL;
  int rc = keel_plugin_load_file(path, &p, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "\n  %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(p->desc.abi_major, KEEL_ABI_MAJOR);
  CU_ASSERT(p->desc.abi_minor <= KEEL_ABI_MINOR);
  CU_ASSERT(p->desc.struct_size >= sizeof(keel_plugin));
  CU_ASSERT_PTR_NOT_NULL(keel_kind_name((int)p->desc.kind));
  CU_ASSERT_PTR_NOT_NULL(p->desc.name);
  CU_ASSERT_PTR_NOT_NULL(p->desc.version);
  CU_ASSERT_PTR_NOT_NULL(p->desc.summary);
  CU_ASSERT_PTR_NOT_NULL(p->api);
  /* The api copy is the host's, not the plugin's static table. */
  CU_ASSERT_PTR_NOT_EQUAL(p->api, p->desc.api);
  CU_ASSERT(*(const uint32_t *)p->api >= 8);
  /* The file name is NAME.so for built-ins. */
  const char *base = strrchr(path, '/') + 1;
  CU_ASSERT_EQUAL(strncmp(base, p->desc.name, strlen(p->desc.name)), 0);
  /* path is the realpath; sha256 is the file's. */
  char *real = realpath(path, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(real);
  CU_ASSERT_STRING_EQUAL(p->path, real);
  char hex[65];
  CU_ASSERT_EQUAL(keel_sha256_file(path, hex, NULL, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(p->sha256, hex);
  CU_ASSERT_PTR_NULL(p->search_entry);
  /* The parameter table passed the load-time check; defaults parse. */
  for (size_t i = 0; i < p->desc.n_params; i++) {
    const keel_param_decl *d = &p->desc.params[i];
    if (d->flags & KEEL_PARAM_REQUIRED)
      continue;
    keel_value v;
    CU_ASSERT_EQUAL(keel_param_default(d, &v, &err), KEEL_OK);
    keel_value_clear(d, &v);
  }
  /* Loading again gives an independent record of the same file. */
  keel_loaded_plugin *q = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_plugin_load_file(path, &q, &err), KEEL_OK);
  CU_ASSERT_PTR_NOT_EQUAL(q, p);
  CU_ASSERT_STRING_EQUAL(q->sha256, p->sha256);
  CU_ASSERT_STRING_EQUAL(q->desc.name, p->desc.name);
  keel_loaded_plugin_free(q);
  keel_loaded_plugin_free(p);
  keel_loaded_plugin_free(NULL);
  free(real);
}

/* Through a relative path with ".." the record still holds the realpath. */
static void test_load_relative_path(void)
{
  NEED_GOOD_PLUGIN(path);
  char rel[4200];
  const char *slash = strrchr(path, '/');
  snprintf(rel, sizeof rel, "%.*s/../%s/%s", (int)(slash - path), path,
           strrchr(KEEL_TEST_PLUGIN_DIR, '/') + 1, slash + 1);
  keel_error err = {0};
  keel_loaded_plugin *p = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_plugin_load_file(rel, &p, &err), KEEL_OK);
  CU_ASSERT_PTR_NULL(strstr(p->path, ".."));
  keel_loaded_plugin_free(p);
}

/* Every plugin built in the tree passes the loader's checks. */
static void test_scan_built_plugins(void)
{
  NEED_GOOD_PLUGIN(any);
  (void)any;
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, KEEL_TEST_PLUGIN_DIR, &err),
                  KEEL_OK);
  int rc = keel_registry_scan(reg, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "\n  %s\n", err.message);
  CU_ASSERT_EQUAL(rc, KEEL_OK);
  size_t n = keel_registry_count(reg);
  CU_ASSERT(n > 0);
  /* Sorted by kind, then by name in byte order; each findable. */
  for (size_t i = 0; i < n; i++) {
    const keel_loaded_plugin *p = keel_registry_at(reg, i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->search_entry, KEEL_TEST_PLUGIN_DIR);
    CU_ASSERT_PTR_EQUAL(
        keel_registry_find(reg, (keel_kind)p->desc.kind, p->desc.name), p);
    if (i > 0) {
      const keel_loaded_plugin *prev = keel_registry_at(reg, i - 1);
      CU_ASSERT(prev->desc.kind < p->desc.kind ||
                (prev->desc.kind == p->desc.kind &&
                 strcmp(prev->desc.name, p->desc.name) < 0));
    }
  }
  CU_ASSERT_PTR_NULL(keel_registry_at(reg, n));
  CU_ASSERT_PTR_NULL(
      keel_registry_find(reg, KEEL_KIND_MODEL, "no-such-plugin"));
  /* Right name, wrong kind: not found. */
  const keel_loaded_plugin *first = keel_registry_at(reg, 0);
  int other = first->desc.kind == KEEL_KIND_SOURCE ? KEEL_KIND_OPTIMIZER
                                                   : KEEL_KIND_SOURCE;
  CU_ASSERT_PTR_NULL(
      keel_registry_find(reg, (keel_kind)other, first->desc.name));
  CU_ASSERT_EQUAL(keel_registry_path_count(reg), 1);
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 0), KEEL_TEST_PLUGIN_DIR);
  CU_ASSERT_PTR_NULL(keel_registry_path_at(reg, 1));
  keel_registry_destroy(reg);
  keel_registry_destroy(NULL);
}

/* The foundation plugins, when built, are found by kind and name. */
static void test_find_foundation_plugins(void)
{
  static const struct {
    keel_kind kind;
    const char *name;
  } want[] = {{KEEL_KIND_SOURCE, "csv"},
              {KEEL_KIND_TRANSFORM, "standardize"},
              {KEEL_KIND_MODEL, "softmax"},
              {KEEL_KIND_LOSS, "xent"},
              {KEEL_KIND_OPTIMIZER, "sgd"}};
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, KEEL_TEST_PLUGIN_DIR, &err),
                  KEEL_OK);
  if (keel_registry_scan(reg, &err) != KEEL_OK) {
    keel_registry_destroy(reg);
    CU_FAIL("scan of the built plugins failed (see the scan test)");
    return;
  }
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.so", KEEL_TEST_PLUGIN_DIR, want[i].name);
    if (!need_artifact(path))
      continue;
    const keel_loaded_plugin *p =
        keel_registry_find(reg, want[i].kind, want[i].name);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p)
      CU_ASSERT_EQUAL(p->desc.kind, (uint32_t)want[i].kind);
  }
  keel_registry_destroy(reg);
}

/* ---- registry mechanics ----------------------------------------------- */

static void test_path_lists(void)
{
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_path_count(reg), 0);
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, "/a:/b::/c dir:", &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_registry_path_count(reg), 3);
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 0), "/a");
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 1), "/b");
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 2), "/c dir");
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, "", &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, ":::", &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, NULL, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, "", &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, NULL, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_path_count(reg), 3);
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, ":/d", &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_path_count(reg), 4);
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 3), "/d");
  /* Nothing is loaded by adding paths. */
  CU_ASSERT_EQUAL(keel_registry_count(reg), 0);
  keel_registry_destroy(reg);
}

static void test_default_paths(void)
{
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, "/user/first", &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_default_paths(reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_default_paths(reg, &err), KEEL_OK);
  size_t n = keel_registry_path_count(reg);
  /* The user's entries come first; defaults are existing folders, once. */
  CU_ASSERT_STRING_EQUAL(keel_registry_path_at(reg, 0), "/user/first");
  for (size_t i = 1; i < n; i++) {
    struct stat st;
    CU_ASSERT(stat(keel_registry_path_at(reg, i), &st) == 0 &&
              S_ISDIR(st.st_mode));
    for (size_t j = 1; j < i; j++)
      CU_ASSERT_STRING_NOT_EQUAL(keel_registry_path_at(reg, i),
                                 keel_registry_path_at(reg, j));
  }
  keel_registry_destroy(reg);
}

static void test_empty_and_missing_entries(void)
{
  keel_registry *reg = NULL;
  keel_error err = {0};
  /* An empty folder and no entries at all scan to nothing. */
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  const char *empty = fresh_dir("empty");
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, empty, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_count(reg), 0);
  keel_registry_destroy(reg);
  /* Files that do not end in .so are ignored. */
  const char *misc = fresh_dir("misc");
  char p[4200];
  snprintf(p, sizeof p, "%s/README", misc);
  write_bytes(p, "text", 4);
  snprintf(p, sizeof p, "%s/x.so.bak", misc);
  write_bytes(p, "text", 4);
  snprintf(p, sizeof p, "%s/.so", misc);
  write_bytes(p, "text", 4);
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, misc, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_count(reg), 0);
  keel_registry_destroy(reg);
  /* A missing entry is refused by name. */
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  const char *gone = keel_test_tmp_path("no-such-folder");
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, gone, &err), KEEL_OK);
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_ENOTFOUND);
  CU_ASSERT(has(err.message, "no-such-folder"));
  keel_registry_destroy(reg);
}

/* A single .so file is a valid search entry. */
static void test_file_entry(void)
{
  NEED_GOOD_PLUGIN(path);
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, path, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_registry_scan(reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_registry_count(reg), 1);
  CU_ASSERT_STRING_EQUAL(keel_registry_at(reg, 0)->search_entry, path);
  keel_registry_destroy(reg);
}

/* Earlier entries shadow later ones, like PATH. */
static void test_shadowing(void)
{
  NEED_GOOD_PLUGIN(path);
  const char *base = strrchr(path, '/') + 1;
  const char *a = fresh_dir("shadow_a");
  const char *b = fresh_dir("shadow_b");
  char pa[4200], pb[4200];
  snprintf(pa, sizeof pa, "%s/%s", a, base);
  snprintf(pb, sizeof pb, "%s/%s", b, base);
  copy_file(path, pa);
  copy_file(path, pb);
  char *ra = realpath(pa, NULL), *rb = realpath(pb, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
  CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
  for (int order = 0; order < 2; order++) {
    keel_registry *reg = NULL;
    keel_error err = {0};
    CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
    char list[9000];
    snprintf(list, sizeof list, "%s:%s", order ? b : a, order ? a : b);
    CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, list, &err), KEEL_OK);
    int rc = keel_registry_scan(reg, &err);
    if (rc)
      fprintf(stderr, "\n  %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(keel_registry_count(reg), 1);
    const keel_loaded_plugin *p = keel_registry_at(reg, 0);
    CU_ASSERT_STRING_EQUAL(p->search_entry, order ? b : a);
    CU_ASSERT_STRING_EQUAL(p->path, order ? rb : ra);
    keel_registry_destroy(reg);
  }
  free(ra);
  free(rb);
}

/* The same folder twice on the path (KEEL_PLUGIN_PATH=d:d) is one entry's
 * worth of plugins, not a duplicate; nor is scanning twice. */
static void test_same_entry_twice(void)
{
  NEED_GOOD_PLUGIN(path);
  const char *base = strrchr(path, '/') + 1;
  const char *d = fresh_dir("twice");
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", d, base);
  copy_file(path, p);
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  char list[9000];
  snprintf(list, sizeof list, "%s:%s", d, d);
  CU_ASSERT_EQUAL(keel_registry_add_path_list(reg, list, &err), KEEL_OK);
  int rc = keel_registry_scan(reg, &err);
  if (rc)
    fprintf(stderr, "\n  %s\n", err.message);
  CU_ASSERT_EQUAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_count(reg), 1);
  rc = keel_registry_scan(reg, &err);
  if (rc)
    fprintf(stderr, "\n  second scan: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_count(reg), 1);
  keel_registry_destroy(reg);
}

/* ---- refusals of files that are not plugins --------------------------- */

static void expect_refusal(const char *path, int code, const char *n1,
                           const char *n2)
{
  keel_error err = {0};
  keel_loaded_plugin *p = (keel_loaded_plugin *)&err; /* reset to NULL */
  int rc = keel_plugin_load_file(path, &p, &err);
  if (rc == KEEL_OK) {
    fprintf(stderr, "\n  %s was accepted\n", path);
    CU_FAIL("a broken plugin was accepted");
    keel_loaded_plugin_free(p);
    return;
  }
  if (rc != code)
    fprintf(stderr, "\n  %s: rc %d, want %d: %s\n", path, rc, code,
            err.message);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_EQUAL(err.code, rc);
  CU_ASSERT_PTR_NULL(p);
  /* The message names the file. */
  const char *base = strrchr(path, '/');
  CU_ASSERT(has(err.message, base ? base + 1 : path));
  if (n1)
    CU_ASSERT(has(err.message, n1));
  if (n2)
    CU_ASSERT(has(err.message, n2));
}

static void test_refuse_missing(void)
{
  expect_refusal(keel_test_tmp_path("missing.so"), KEEL_ENOTFOUND, NULL, NULL);
}

static void test_refuse_directory(void)
{
  const char *d = fresh_dir("folder.so");
  expect_refusal(d, KEEL_EPLUGIN, "directory", NULL);
  /* In a scan, a folder named *.so is refused too. */
  const char *outer = fresh_dir("outer");
  char inner[4200];
  snprintf(inner, sizeof inner, "%s/inner.so", outer);
  CU_ASSERT_EQUAL(mkdir(inner, 0700), 0);
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, outer, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  expect_broken(reg, "inner.so", "directory");
  keel_registry_destroy(reg);
}

static void test_refuse_not_elf(void)
{
  const char *d = fresh_dir("notelf");
  char p[4200];
  snprintf(p, sizeof p, "%s/x.so", d);
  write_bytes(p, "this is not a shared object\n", 28);
  expect_refusal(p, KEEL_EPLUGIN, "not an ELF", NULL);
  /* A scan records it as broken, with its reason, and goes on. */
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, d, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  expect_broken(reg, "x.so", "not an ELF");
  /* asked for by its file name, it is that file */
  CU_ASSERT_PTR_NOT_NULL(keel_registry_find_broken(reg, 0, "x", NULL));
  CU_ASSERT_PTR_NULL(keel_registry_find_broken(reg, 0, "y", NULL));
  keel_registry_destroy(reg);
}

static void test_refuse_empty_and_short(void)
{
  const char *d = fresh_dir("short");
  char p[4200];
  snprintf(p, sizeof p, "%s/empty.so", d);
  write_bytes(p, "", 0);
  expect_refusal(p, KEEL_EPLUGIN, "not an ELF", NULL);
  snprintf(p, sizeof p, "%s/three.so", d);
  write_bytes(p, "\177EL", 3);
  expect_refusal(p, KEEL_EPLUGIN, "not an ELF", NULL);
}

/* An ELF header with nothing behind it: dlopen's refusal is passed on. */
static void test_refuse_truncated_elf(void)
{
  NEED_GOOD_PLUGIN(path);
  unsigned char head[64];
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL_FATAL(fread(head, 1, sizeof head, f), sizeof head);
  fclose(f);
  const char *d = fresh_dir("trunc");
  char p[4200];
  snprintf(p, sizeof p, "%s/cut.so", d);
  write_bytes(p, head, sizeof head);
  expect_refusal(p, KEEL_EPLUGIN, "cannot load", NULL);
}

/* ---- the deliberately broken plugins ----------------------------------- */

/* Refused with `code` and message words; if the .so is absent (not built,
 * or its source tests/plugins/NAME.c is gone), the test fails. */
static void broken(const char *name, const char *n1, const char *n2)
{
  char so[4096];
  snprintf(so, sizeof so, "%s/%s.so", KEEL_TEST_BROKEN_DIR, name);
  if (!need_artifact(so))
    return;
  expect_refusal(so, KEEL_EPLUGIN, n1, n2);
}

static void test_broken_abi_major(void)
{
  char want[64];
  snprintf(want, sizeof want, "host has %d, plugin has %d", KEEL_ABI_MAJOR,
           KEEL_ABI_MAJOR + 1);
  broken("abi_major", "ABI major", want);
}

/* The minor-version rule (keel/abi.h): a plugin built against a newer
 * minor of the same major loads; the host reads only what it knows. */
static void test_abi_minor_newer_loads(void)
{
  char so[4096];
  snprintf(so, sizeof so, "%s/abi_minor_newer.so", KEEL_TEST_BROKEN_DIR);
  if (!need_artifact(so))
    return;
  keel_error err = {0};
  keel_loaded_plugin *p = NULL;
  int rc = keel_plugin_load_file(so, &p, &err);
  if (rc)
    fprintf(stderr, "\n  %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL(p->desc.abi_minor, KEEL_ABI_MINOR + 1);
  const keel_optimizer_api *api = p->api;
  CU_ASSERT_PTR_NOT_NULL(api->step);
  keel_loaded_plugin_free(p);
}

/* ABI 1.2 table header: the table's kind must be the descriptor's. */
static void test_broken_kind_mismatch(void)
{
  broken("kind_mismatch", "descriptor says transform",
         "its function table says model");
}

static void test_broken_no_table_kind(void)
{
  broken("no_table_kind", "function table has no kind",
         "KEEL_OPTIMIZER_API_HEADER");
}

/* Determinism facts: fast-math, a fusing probe, and a load that sets
 * flush-to-zero are refused; the host's FP environment is left as it was. */
static void test_broken_fast_math(void)
{
  broken("fast_math", "built with -ffast-math", "rebuild without it");
}

static void test_broken_fused_probe(void)
{
  broken("fused_probe", "contraction", NULL);
}

static void test_broken_ftz_restored(void)
{
  int round = fegetround();
#if defined(__x86_64__)
  unsigned mxcsr = __builtin_ia32_stmxcsr() & ~0x3fu; /* less the flags */
#endif
  broken("fast_math_ftz", "changed the floating-point environment",
         "flush-to-zero");
  CU_ASSERT_EQUAL(fegetround(), round);
#if defined(__x86_64__)
  CU_ASSERT_EQUAL(__builtin_ia32_stmxcsr() & ~0x3fu, mxcsr);
#endif
  /* A subnormal survives arithmetic: flush-to-zero is off again. */
  volatile double tiny = 1e-310, one = 1.0;
  CU_ASSERT(tiny * one != 0.0);
}

static void test_broken_too_small(void)
{
  broken("too_small", "too small", "8 bytes");
}

static void test_broken_no_entry(void)
{
  broken("no_entry", "no entry symbol", KEEL_PLUGIN_ENTRY_NAME);
}

static void test_broken_entry_null(void)
{
  broken("entry_null", "no descriptor", NULL);
}

static void test_broken_no_name(void)
{
  broken("no_name", "no name", NULL);
}

static void test_broken_bad_name(void)
{
  broken("bad_name", "invalid plugin name", "Bad Name");
}

static void test_broken_no_version(void)
{
  broken("no_version", "no version", NULL);
}

static void test_broken_bad_semver(void)
{
  broken("bad_semver", "semantic version", "'1.x'");
}

static void test_broken_missing_function(void)
{
  broken("missing_function", "lacks required function", "forward");
}

static void test_broken_dup_param(void)
{
  broken("dup_param", "duplicate parameter", "'lr'");
}

static void test_broken_default_out_of_range(void)
{
  broken("default_out_of_range", "default", "lr");
}

static void test_broken_bad_kind(void)
{
  broken("bad_kind", "unknown plugin kind", "42");
}

/* dup_a and dup_b are valid alone; together in one folder the second is
 * refused naming both files; in two entries the first shadows. */
static void test_duplicate_in_one_entry(void)
{
  char a[4096], b[4096];
  snprintf(a, sizeof a, "%s/dup_a.so", KEEL_TEST_BROKEN_DIR);
  snprintf(b, sizeof b, "%s/dup_b.so", KEEL_TEST_BROKEN_DIR);
  int have_a = need_artifact(a), have_b = need_artifact(b);
  if (!have_a || !have_b)
    return;
  keel_error err = {0};
  keel_loaded_plugin *pa = NULL, *pb = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_plugin_load_file(a, &pa, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_plugin_load_file(b, &pb, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(pa->desc.name, pb->desc.name);
  CU_ASSERT_EQUAL(pa->desc.kind, pb->desc.kind);
  CU_ASSERT_STRING_NOT_EQUAL(pa->desc.version, pb->desc.version);
  char va[32], vb[32];
  snprintf(va, sizeof va, "%s", pa->desc.version);
  snprintf(vb, sizeof vb, "%s", pb->desc.version);
  keel_loaded_plugin_free(pa);
  keel_loaded_plugin_free(pb);

  const char *one = fresh_dir("dups");
  char ca[4200], cb[4200];
  snprintf(ca, sizeof ca, "%s/dup_a.so", one);
  snprintf(cb, sizeof cb, "%s/dup_b.so", one);
  copy_file(a, ca);
  copy_file(b, cb);
  keel_registry *reg = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, one, &err), KEEL_OK);
  memset(&err, 0, sizeof err);
  /* The second of the pair is broken, naming both; asking for the name
   * meets the refusal, not one of the two by luck. */
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  expect_broken(reg, "dup_b.so", "dup_a.so");
  const keel_loaded_plugin *first =
      keel_registry_find(reg, KEEL_KIND_TRANSFORM, "twin");
  const keel_broken_plugin *twin =
      keel_registry_find_broken(reg, KEEL_KIND_TRANSFORM, "twin", first);
  CU_ASSERT_PTR_NOT_NULL_FATAL(twin);
  CU_ASSERT(has(twin->reason, "twin"));
  CU_ASSERT_EQUAL(twin->kind, KEEL_KIND_TRANSFORM);
  CU_ASSERT_PTR_NULL(
      keel_registry_find_broken(reg, KEEL_KIND_MODEL, "twin", NULL));
  keel_registry_destroy(reg);

  /* Separate entries: the earlier one wins, whichever it is. */
  const char *ea = fresh_dir("dup_entry_a");
  const char *eb = fresh_dir("dup_entry_b");
  snprintf(ca, sizeof ca, "%s/dup_a.so", ea);
  snprintf(cb, sizeof cb, "%s/dup_b.so", eb);
  copy_file(a, ca);
  copy_file(b, cb);
  for (int order = 0; order < 2; order++) {
    CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
    CU_ASSERT_EQUAL(keel_registry_add_path(reg, order ? eb : ea, &err),
                    KEEL_OK);
    CU_ASSERT_EQUAL(keel_registry_add_path(reg, order ? ea : eb, &err),
                    KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(keel_registry_scan(reg, &err), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(keel_registry_count(reg), 1);
    const keel_loaded_plugin *p =
        keel_registry_find(reg, KEEL_KIND_TRANSFORM, "twin");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->desc.version, order ? vb : va);
    /* the later one is remembered as shadowed, and by whom */
    CU_ASSERT_EQUAL_FATAL(keel_registry_shadowed_count(reg), 1);
    const keel_loaded_plugin *s = keel_registry_shadowed_at(reg, 0);
    CU_ASSERT_PTR_EQUAL(s->shadowed_by, p);
    CU_ASSERT_STRING_EQUAL(s->desc.version, order ? va : vb);
    CU_ASSERT_PTR_NULL(keel_registry_find_broken(reg, 0, "twin", p));
    keel_registry_destroy(reg);
  }
}

/* A folder holding one broken plugin among good ones: the scan keeps the
 * good one and records the broken file with its reason (issue 12). */
static void test_scan_goes_past_broken(void)
{
  char bad[4096];
  snprintf(bad, sizeof bad, "%s/abi_major.so", KEEL_TEST_BROKEN_DIR);
  if (!need_artifact(bad))
    return;
  NEED_GOOD_PLUGIN(good);
  const char *d = fresh_dir("mixed");
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", d, strrchr(good, '/') + 1);
  copy_file(good, p);
  snprintf(p, sizeof p, "%s/abi_major.so", d);
  copy_file(bad, p);
  keel_registry *reg = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_registry_create(&reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_add_path(reg, d, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_scan(reg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_registry_count(reg), 1);
  CU_ASSERT_EQUAL(keel_registry_broken_count(reg), 1);
  expect_broken(reg, "abi_major.so", "ABI major");
  keel_registry_destroy(reg);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"kind names", test_kind_names},
      {"load a built plugin", test_load_good},
      {"load through a relative path", test_load_relative_path},
      {"scan the built plugins: sorted, findable", test_scan_built_plugins},
      {"foundation plugins found by kind and name",
       test_find_foundation_plugins},
      {"path lists", test_path_lists},
      {"default paths", test_default_paths},
      {"empty and missing entries", test_empty_and_missing_entries},
      {"a file as an entry", test_file_entry},
      {"earlier entries shadow later ones", test_shadowing},
      {"the same entry twice, scanning twice", test_same_entry_twice},
      {"refuse a missing file", test_refuse_missing},
      {"refuse a directory", test_refuse_directory},
      {"refuse a non-ELF file", test_refuse_not_elf},
      {"refuse empty and short files", test_refuse_empty_and_short},
      {"refuse a truncated ELF", test_refuse_truncated_elf},
      {"broken: ABI major", test_broken_abi_major},
      {"ABI minor newer loads", test_abi_minor_newer_loads},
      {"broken: table kind differs", test_broken_kind_mismatch},
      {"broken: table has no kind", test_broken_no_table_kind},
      {"broken: fast-math build", test_broken_fast_math},
      {"broken: contraction probe fuses", test_broken_fused_probe},
      {"broken: flush-to-zero at load, restored", test_broken_ftz_restored},
      {"broken: descriptor too small", test_broken_too_small},
      {"broken: no entry symbol", test_broken_no_entry},
      {"broken: entry returns NULL", test_broken_entry_null},
      {"broken: no name", test_broken_no_name},
      {"broken: bad name", test_broken_bad_name},
      {"broken: no version", test_broken_no_version},
      {"broken: bad semver", test_broken_bad_semver},
      {"broken: missing function", test_broken_missing_function},
      {"broken: duplicate parameter", test_broken_dup_param},
      {"broken: default out of range", test_broken_default_out_of_range},
      {"broken: unknown kind", test_broken_bad_kind},
      {"duplicates in one entry", test_duplicate_in_one_entry},
      {"a scan records a broken plugin and goes on",
       test_scan_goes_past_broken},
      {NULL, NULL},
  };
  return keel_test_run_suite("loader", tests);
}
