#define _XOPEN_SOURCE 700 /* nftw */
#include "test_util.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <zlib.h>

#include "base/params.h"
#include "plugin/host.h"

/* The scratch folder of this test program (keel_test_tmp_path), and the
 * paths handed out in it (freed when the suite ends). */
static char tmp_dir[256];
static char **tmp_paths;
static size_t n_tmp_paths;

static void test_host_release(void);

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) == 0 ? 0 : 1;
}

/* Removes the scratch folder after a clean run; keeps it (and says where)
 * after a failure, or always with KEEL_TEST_KEEP=1. */
static void tmp_dir_cleanup(int failed)
{
  if (!tmp_dir[0])
    return;
  const char *keep = getenv("KEEL_TEST_KEEP");
  if (failed || (keep && strcmp(keep, "1") == 0)) {
    fprintf(stderr, "scratch files kept in %s\n", tmp_dir);
    return;
  }
  nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int keel_test_run_suite(const char *suite, const keel_test_case *tests)
{
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 2;
  CU_pSuite s = CU_add_suite(suite, NULL, NULL);
  for (const keel_test_case *t = tests; s && t->name; t++)
    CU_add_test(s, t->name, t->fn);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed =
      CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  unsigned run = CU_get_number_of_tests_run();
  CU_cleanup_registry();
  test_host_release();
  tmp_dir_cleanup(failed || run == 0);
  for (size_t i = 0; i < n_tmp_paths; i++)
    free(tmp_paths[i]);
  free(tmp_paths);
  return (failed || run == 0) ? 1 : 0;
}

/* Plugins stay resident; the loaded records live until exit too. */
#define MAX_LOADED 64
static keel_loaded_plugin *loaded[MAX_LOADED];
static size_t n_loaded;

const keel_loaded_plugin *keel_test_plugin(keel_kind kind, const char *name)
{
  for (size_t i = 0; i < n_loaded; i++)
    if ((keel_kind)loaded[i]->desc.kind == kind &&
        strcmp(loaded[i]->desc.name, name) == 0)
      return loaded[i];
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.so", KEEL_TEST_PLUGIN_DIR, name);
  keel_error err = {0};
  keel_loaded_plugin *p = NULL;
  if (keel_plugin_load_file(path, &p, &err) != KEEL_OK) {
    fprintf(stderr, "cannot load %s: %s\n", path, err.message);
    CU_FAIL("plugin failed to load");
    return NULL;
  }
  if ((keel_kind)p->desc.kind != kind) {
    CU_FAIL("plugin has another kind");
    keel_loaded_plugin_free(p);
    return NULL;
  }
  if (n_loaded < MAX_LOADED)
    loaded[n_loaded++] = p;
  return p;
}

/* Value arrays handed out, freed at exit so LeakSanitizer stays quiet. */
#define MAX_VALUE_SETS 256
static struct {
  const keel_loaded_plugin *plugin;
  keel_value *values;   /* handed to the test, which may edit it */
  keel_value *original; /* what the host allocated, freed at exit */
} value_sets[MAX_VALUE_SETS];
static size_t n_value_sets;

static void free_value_sets(void)
{
  for (size_t s = 0; s < n_value_sets; s++) {
    const keel_plugin *d = &value_sets[s].plugin->desc;
    for (size_t i = 0; i < d->n_params; i++)
      keel_value_clear(&d->params[i], &value_sets[s].original[i]);
    free(value_sets[s].original);
    free(value_sets[s].values);
  }
  n_value_sets = 0;
}

keel_value *keel_test_default_values(const keel_loaded_plugin *p)
{
  size_t n = p->desc.n_params;
  keel_value *v = calloc(n ? n : 1, sizeof *v);
  for (size_t i = 0; v && i < n; i++) {
    keel_error err = {0};
    if (p->desc.params[i].flags & KEEL_PARAM_REQUIRED)
      continue; /* the test sets it */
    if (keel_param_default(&p->desc.params[i], &v[i], &err) != KEEL_OK) {
      fprintf(stderr, "default of %s: %s\n", p->desc.params[i].name,
              err.message);
      CU_FAIL("invalid default");
    }
  }
  keel_value *original = v ? malloc((n ? n : 1) * sizeof *original) : NULL;
  if (original && n_value_sets < MAX_VALUE_SETS) {
    memcpy(original, v, n * sizeof *v);
    if (n_value_sets == 0)
      atexit(free_value_sets);
    value_sets[n_value_sets].plugin = p;
    value_sets[n_value_sets].values = v;
    value_sets[n_value_sets++].original = original;
  } else {
    free(original);
  }
  return v;
}

static keel_host test_host;
static keel_host_context test_ctx;
static int test_host_ready;

/* Frees the test host's context: waits for the lineage hashes it may
 * still run on threads of their own (host.c), which must not outlive
 * main — exit() tears down OpenSSL under them. */
static void test_host_release(void)
{
  if (test_host_ready)
    keel_host_context_free(&test_ctx);
  test_host_ready = 0;
}

const keel_host *keel_test_host(void)
{
  if (!test_host_ready) {
    keel_host_context_init(&test_ctx, KEEL_TEST_DATA_DIR);
    keel_host_bind(&test_host, &test_ctx);
    test_host_ready = 1;
  }
  return &test_host;
}

const char *keel_test_tmp_path(const char *name)
{
  char *dir = tmp_dir;
  if (!dir[0]) {
    snprintf(dir, sizeof tmp_dir, "/tmp/keel-test-XXXXXX");
    if (!mkdtemp(dir)) {
      CU_FAIL("mkdtemp failed");
      return name;
    }
  }
  /* a string of its own per call, kept until the suite ends, so a test
   * may hold several paths at once */
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  char **grown = realloc(tmp_paths, (n_tmp_paths + 1) * sizeof *grown);
  if (!path || !grown) {
    free(path);
    if (grown)
      tmp_paths = grown;
    CU_FAIL_FATAL("out of memory");
    return name;
  }
  tmp_paths = grown;
  snprintf(path, n, "%s/%s", dir, name);
  tmp_paths[n_tmp_paths++] = path;
  return path;
}

unsigned char *keel_test_read_file(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char *buf = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0)
    buf = malloc((size_t)len + 1);
  if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf)
    *n = (size_t)len;
  return buf;
}

unsigned char *keel_test_gunzip(const unsigned char *gz, size_t n,
                                size_t *out_n)
{
  z_stream zs;
  size_t cap = 1 << 16, len = 0;
  unsigned char *out = malloc(cap);
  int zr = Z_OK;
  memset(&zs, 0, sizeof zs);
  if (!out || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    free(out);
    return NULL;
  }
  zs.next_in = (Bytef *)(uintptr_t)gz;
  zs.avail_in = (uInt)n;
  while (zr == Z_OK) {
    if (len == cap) {
      unsigned char *g = realloc(out, 2 * cap);
      if (!g)
        break;
      out = g;
      cap *= 2;
    }
    zs.next_out = out + len;
    zs.avail_out = (uInt)(cap - len);
    zr = inflate(&zs, Z_NO_FLUSH);
    len = cap - zs.avail_out;
  }
  inflateEnd(&zs);
  if (zr != Z_STREAM_END || zs.avail_in != 0) {
    free(out);
    return NULL;
  }
  *out_n = len;
  return out;
}
