/* The host services table: its header, error formatting (host->fail and
 * core/base/status.c), memory, the table/state wrappers, and data inputs:
 * relative paths, transparent gzip, corrupt gzip, missing files, the
 * lineage record (SHA-256 and size of the bytes on disk, once per file)
 * and the remap hook replay uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>
#include <zlib.h>

#include "base/sha256.h"
#include "base/status.h"
#include "plugin/host.h"
#include "plugin/table.h"
#include "test_util.h"

/* ---- helpers ----------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
  CU_ASSERT_EQUAL(fclose(f), 0);
}

static void write_gzip(const char *path, const char *text)
{
  gzFile gz = gzopen(path, "wb9");
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
  CU_ASSERT_EQUAL(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
  CU_ASSERT_EQUAL(gzclose(gz), Z_OK);
}

/* A fresh folder under the test's scratch dir. */
static const char *fresh_dir(const char *name)
{
  static char dir[4096];
  snprintf(dir, sizeof dir, "%s", keel_test_tmp_path(name));
  CU_ASSERT_EQUAL(mkdir(dir, 0700), 0);
  return dir;
}

/* Reads the whole input (in pieces of `step` bytes) into buf; returns the
 * total, or the first negative status. */
static long read_all(const keel_host *h, keel_input *in, char *buf, size_t cap,
                     size_t step, keel_error *err)
{
  size_t total = 0;
  for (;;) {
    size_t want = cap - total < step ? cap - total : step;
    long got = h->input_read(in, buf + total, want, err);
    if (got < 0)
      return got;
    if (got == 0)
      break;
    total += (size_t)got;
    if (total == cap)
      break;
  }
  buf[total < cap ? total : cap - 1] = '\0';
  return (long)total;
}

/* ---- the table itself -------------------------------------------------- */

static void test_services_header(void)
{
  const keel_host *h = keel_host_services();
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_EQUAL(h->struct_size, sizeof(keel_host));
  CU_ASSERT_EQUAL(h->abi_major, KEEL_ABI_MAJOR);
  CU_ASSERT_EQUAL(h->abi_minor, KEEL_ABI_MINOR);
  CU_ASSERT_PTR_NULL(h->ctx);
  CU_ASSERT(KEEL_HOST_HAS(h, input_close));
  CU_ASSERT(KEEL_HOST_HAS(h, ctx));
  /* ABI 1.1 */
  CU_ASSERT(KEEL_HOST_HAS(h, input_view));
  CU_ASSERT_PTR_NOT_NULL(h->input_view);
  /* ABI 1.2 */
  CU_ASSERT(KEEL_HOST_HAS(h, table_append));
  CU_ASSERT_PTR_NOT_NULL(h->open_input);
  CU_ASSERT_PTR_NOT_NULL(h->table_append);
  /* Every service of ABI 1.0 is present. */
  CU_ASSERT_PTR_NOT_NULL(h->fail);
  CU_ASSERT_PTR_NOT_NULL(h->log);
  CU_ASSERT_PTR_NOT_NULL(h->alloc);
  CU_ASSERT_PTR_NOT_NULL(h->alloc_zero);
  CU_ASSERT_PTR_NOT_NULL(h->free);
  CU_ASSERT_PTR_NOT_NULL(h->schema_add);
  CU_ASSERT_PTR_NOT_NULL(h->table_new);
  CU_ASSERT_PTR_NOT_NULL(h->table_add);
  CU_ASSERT_PTR_NOT_NULL(h->table_copy_column);
  CU_ASSERT_PTR_NOT_NULL(h->text_set);
  CU_ASSERT_PTR_NOT_NULL(h->table_free);
  CU_ASSERT_PTR_NOT_NULL(h->state_put_f64);
  CU_ASSERT_PTR_NOT_NULL(h->state_put_strings);
  CU_ASSERT_PTR_NOT_NULL(h->state_get_f64);
  CU_ASSERT_PTR_NOT_NULL(h->state_get_strings);
  CU_ASSERT_PTR_NOT_NULL(h->input_open);
  CU_ASSERT_PTR_NOT_NULL(h->input_read);
  CU_ASSERT_PTR_NOT_NULL(h->input_name);
  CU_ASSERT_PTR_NOT_NULL(h->input_close);
  /* A bound copy differs only in ctx. */
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, "/nowhere"), KEEL_OK);
  keel_host bound;
  keel_host_bind(&bound, &ctx);
  CU_ASSERT_PTR_EQUAL(bound.ctx, &ctx);
  bound.ctx = NULL;
  CU_ASSERT_EQUAL(memcmp(&bound, h, sizeof bound), 0);
  CU_ASSERT_STRING_EQUAL(ctx.base_dir, "/nowhere");
  CU_ASSERT_EQUAL(ctx.n_inputs, 0);
  keel_host_context_free(&ctx);
  /* NULL base dir means the current folder. */
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, NULL), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.base_dir, ".");
  keel_host_context_free(&ctx);
}

static void test_fail(void)
{
  const keel_host *h = keel_host_services();
  keel_error err = {0};
  CU_ASSERT_EQUAL(
      h->fail(&err, KEEL_EDATA, "row %d column '%s': %.2f", 7, "age", 1.5),
      KEEL_EDATA);
  CU_ASSERT_EQUAL(err.code, KEEL_EDATA);
  CU_ASSERT_STRING_EQUAL(err.message, "row 7 column 'age': 1.50");
  CU_ASSERT_EQUAL(h->fail(NULL, KEEL_ERANGE, "ignored %s", "x"), KEEL_ERANGE);
  /* Long messages are cut and stay NUL-terminated. */
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CU_ASSERT_EQUAL(h->fail(&err, KEEL_EINVAL, "%s", big), KEEL_EINVAL);
  CU_ASSERT_EQUAL(strlen(err.message), KEEL_ERROR_SIZE - 1);
  /* keel_fail behaves the same. */
  keel_error e2 = {0};
  CU_ASSERT_EQUAL(
      keel_fail(&e2, KEEL_EDATA, "row %d column '%s': %.2f", 7, "age", 1.5),
      KEEL_EDATA);
  CU_ASSERT_STRING_EQUAL(e2.message, "row 7 column 'age': 1.50");
  CU_ASSERT_EQUAL(keel_fail(NULL, KEEL_EIO, "x"), KEEL_EIO);
}

static void test_status(void)
{
  const int codes[] = {KEEL_OK,      KEEL_EINVAL,     KEEL_ENOMEM,
                       KEEL_EIO,     KEEL_EDATA,      KEEL_ESCHEMA,
                       KEEL_EPLUGIN, KEEL_EINTEGRITY, KEEL_ENOTFOUND,
                       KEEL_ERANGE,  KEEL_EDIVERGED,  KEEL_EUNSUPPORTED};
  const size_t n = sizeof codes / sizeof codes[0];
  const char *unknown = keel_strerror(-1000);
  CU_ASSERT_PTR_NOT_NULL_FATAL(unknown);
  for (size_t i = 0; i < n; i++) {
    const char *s = keel_strerror(codes[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_NOT_EQUAL(s, unknown);
    for (size_t j = 0; j < i; j++)
      CU_ASSERT_STRING_NOT_EQUAL(s, keel_strerror(codes[j]));
  }
  CU_ASSERT_PTR_NOT_NULL(keel_strerror(1));

  keel_error err = {0};
  keel_fail(&err, KEEL_EDATA, "bad value");
  keel_error_prefix(&err, "%s:%d", "data.csv", 12);
  CU_ASSERT_STRING_EQUAL(err.message, "data.csv:12: bad value");
  CU_ASSERT_EQUAL(err.code, KEEL_EDATA);
  keel_error_prefix(NULL, "x");
  /* A prefix onto a full message stays within the buffer. */
  char big[KEEL_ERROR_SIZE + 10];
  memset(big, 'y', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  keel_fail(&err, KEEL_EIO, "%s", big);
  keel_error_prefix(&err, "stage %s", "source");
  CU_ASSERT_EQUAL(strlen(err.message), KEEL_ERROR_SIZE - 1);
  CU_ASSERT_EQUAL(strncmp(err.message, "stage source: yyy", 17), 0);
  /* A huge prefix too. */
  keel_fail(&err, KEEL_EIO, "tail");
  keel_error_prefix(&err, "%s", big);
  CU_ASSERT_EQUAL(strlen(err.message), KEEL_ERROR_SIZE - 1);
  /* A plugin's own "NAME: " is dropped once, so the name comes once. */
  keel_fail(&err, KEEL_EDATA, "wins: column 'x'");
  keel_error_prefix_plugin(&err, "wins", "[transform.w] %s", "wins");
  CU_ASSERT_STRING_EQUAL(err.message, "[transform.w] wins: column 'x'");
  CU_ASSERT_EQUAL(err.code, KEEL_EDATA);
  keel_fail(&err, KEEL_EDATA, "column 'x'");
  keel_error_prefix_plugin(&err, "wins", "[transform.w] %s", "wins");
  CU_ASSERT_STRING_EQUAL(err.message, "[transform.w] wins: column 'x'");
  /* only a whole "NAME: ": another plugin's name or "winsor..." stays */
  keel_fail(&err, KEEL_EDATA, "winsorize: bad");
  keel_error_prefix_plugin(&err, "wins", "[t] %s", "wins");
  CU_ASSERT_STRING_EQUAL(err.message, "[t] wins: winsorize: bad");
  keel_error_prefix_plugin(NULL, "wins", "x");
}

static void test_memory(void)
{
  const keel_host *h = keel_host_services();
  void *p = h->alloc(0);
  CU_ASSERT_PTR_NOT_NULL(p);
  h->free(p);
  unsigned char *z = h->alloc_zero(100, 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(z);
  for (int i = 0; i < 300; i++)
    CU_ASSERT_EQUAL_FATAL(z[i], 0);
  h->free(z);
  z = h->alloc_zero(0, 0);
  CU_ASSERT_PTR_NOT_NULL(z);
  h->free(z);
  h->free(NULL);
}

/* The table and state services are the core functions, reachable from a
 * plugin's point of view. */
static void test_table_and_state_services(void)
{
  const keel_host *h = keel_host_services();
  keel_error err = {0};
  keel_schema s = {0};
  CU_ASSERT_EQUAL(h->schema_add(&s, "a", KEEL_COL_NUMERIC, 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h->schema_add(&s, "a", KEEL_COL_NUMERIC, 0, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(s.n_cols, 1);
  keel_table *t = h->table_new(2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  keel_column *c = h->table_add(t, "t", KEEL_COL_TEXT, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(h->text_set(t, 0, 1, "hi", 2, &err), KEEL_OK);
  keel_table *u = h->table_new(2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h->table_copy_column(u, &t->cols[0], &err));
  CU_ASSERT_STRING_EQUAL(u->cols[0].text[1], "hi");
  h->table_free(t);
  h->table_free(u);
  /* schema storage belongs to the host: free it the host's way */
  keel_schema_free(&s);
}

/* ---- inputs ------------------------------------------------------------ */

static void test_input_relative(void)
{
  const char *dir = fresh_dir("rel");
  char path[4200];
  snprintf(path, sizeof path, "%s/a.csv", dir);
  write_file(path, "x,y\n1,2\n", 8);
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "a.csv", &in, &err), KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(in);
  CU_ASSERT_STRING_EQUAL(h.input_name(in), "a.csv");
  char buf[64];
  CU_ASSERT_EQUAL(read_all(&h, in, buf, sizeof buf, 3, &err), 8);
  CU_ASSERT_STRING_EQUAL(buf, "x,y\n1,2\n");
  /* At the end, reads return 0 again. */
  CU_ASSERT_EQUAL(h.input_read(in, buf, sizeof buf, &err), 0);
  h.input_close(in);
  h.input_close(NULL);

  /* Lineage: one record with the file's hash and size, after settle. */
  CU_ASSERT_EQUAL_FATAL(ctx.n_inputs, 1);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  char want[65];
  uint64_t bytes = 0;
  CU_ASSERT_EQUAL(keel_sha256_file(path, want, &bytes, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].sha256, want);
  CU_ASSERT_EQUAL(ctx.inputs[0].bytes, 8);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].name, "a.csv");
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].resolved, path);

  /* Reopening records nothing new. */
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "a.csv", &in, &err), KEEL_OK);
  h.input_close(in);
  CU_ASSERT_EQUAL(ctx.n_inputs, 1);

  /* An absolute path ignores the base folder; same file, no new record. */
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, path, &in, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(h.input_name(in), path);
  CU_ASSERT_EQUAL(read_all(&h, in, buf, sizeof buf, sizeof buf, &err), 8);
  h.input_close(in);
  CU_ASSERT_EQUAL(ctx.n_inputs, 1);

  /* A second file: a second record, in first-open order. */
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  CU_ASSERT_EQUAL(mkdir(sub, 0700), 0);
  snprintf(path, sizeof path, "%s/sub/b.txt", dir);
  write_file(path, "", 0);
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "sub/b.txt", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_read(in, buf, sizeof buf, &err), 0);
  h.input_close(in);
  CU_ASSERT_EQUAL_FATAL(ctx.n_inputs, 2);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[1].name, "sub/b.txt");
  CU_ASSERT_EQUAL(ctx.inputs[1].bytes, 0);
  CU_ASSERT_STRING_EQUAL(
      ctx.inputs[1].sha256,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].name, "a.csv");
  keel_host_context_free(&ctx);
}

/* The test host resolves against tests/data (a committed fixture). */
static void test_input_test_host(void)
{
  const keel_host *h = keel_test_host();
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h->input_open(h->ctx, "host/hello.txt", &in, &err),
                        KEEL_OK);
  char buf[64];
  CU_ASSERT_EQUAL(read_all(h, in, buf, sizeof buf, 1, &err), 12);
  CU_ASSERT_STRING_EQUAL(buf, "hello, keel\n");
  h->input_close(in);
}

static void test_input_gzip(void)
{
  const char *dir = fresh_dir("gz");
  char path[4200];
  snprintf(path, sizeof path, "%s/data.csv.gz", dir);
  /* Enough text to span several internal zlib buffers. */
  enum { LINES = 5000 };
  size_t cap = LINES * 32;
  char *text = malloc(cap);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  size_t len = 0;
  for (int i = 0; i < LINES; i++)
    len +=
        (size_t)snprintf(text + len, cap - len, "%d,%d.5,row%d\n", i, i * 7, i);
  write_gzip(path, text);

  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "data.csv.gz", &in, &err), KEEL_OK);
  char *got = malloc(cap + 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(got);
  long n = read_all(&h, in, got, cap + 1, 4093, &err);
  CU_ASSERT_EQUAL(n, (long)len);
  CU_ASSERT_EQUAL(memcmp(got, text, len), 0);
  h.input_close(in);

  /* The lineage hash is of the compressed bytes on disk. */
  CU_ASSERT_EQUAL_FATAL(ctx.n_inputs, 1);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  char want[65];
  uint64_t bytes = 0;
  CU_ASSERT_EQUAL(keel_sha256_file(path, want, &bytes, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].sha256, want);
  CU_ASSERT_EQUAL(ctx.inputs[0].bytes, bytes);
  CU_ASSERT(bytes < len); /* it really is compressed */
  struct stat st;
  CU_ASSERT_EQUAL(stat(path, &st), 0);
  CU_ASSERT_EQUAL((uint64_t)st.st_size, ctx.inputs[0].bytes);
  free(got);
  free(text);
  keel_host_context_free(&ctx);
}

/* Reads until the end or an error; returns the first negative status, or
 * 0 if the whole stream read cleanly. */
static long drain(const keel_host *h, const char *name, keel_error *err)
{
  keel_input *in = NULL;
  int rc = h->input_open(h->ctx, name, &in, err);
  if (rc != KEEL_OK)
    return rc;
  char buf[1024];
  long got;
  while ((got = h->input_read(in, buf, sizeof buf, err)) > 0)
    ;
  h->input_close(in);
  return got;
}

static void test_input_corrupt_gzip(void)
{
  const char *dir = fresh_dir("gzbad");
  char path[4200];
  snprintf(path, sizeof path, "%s/good.gz", dir);
  char text[4096];
  for (size_t i = 0; i < sizeof text - 1; i++)
    text[i] = (char)('a' + (i * 7919) % 26);
  text[sizeof text - 1] = '\0';
  write_gzip(path, text);
  size_t n = 0;
  unsigned char *gz = keel_test_read_file(path, &n);
  CU_ASSERT_FATAL(gz != NULL && n > 40);

  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  CU_ASSERT_EQUAL(drain(&h, "good.gz", &err), 0);

  /* Truncated: the stream ends before its trailer. */
  snprintf(path, sizeof path, "%s/truncated.gz", dir);
  write_file(path, gz, n / 2);
  memset(&err, 0, sizeof err);
  long rc = drain(&h, "truncated.gz", &err);
  CU_ASSERT(rc < 0);
  if (rc < 0) {
    CU_ASSERT_EQUAL(err.code, rc);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "truncated.gz"));
  }
  /* input_view of it fails the same way */
  keel_input *in = NULL;
  const char *data = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "truncated.gz", &in, &err),
                        KEEL_OK);
  memset(&err, 0, sizeof err);
  CU_ASSERT(h.input_view(in, &data, &len, &err) < 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "truncated.gz"));
  h.input_close(in);

  /* Wrong CRC in the trailer. */
  unsigned char bad[8192];
  memcpy(bad, gz, n);
  bad[n - 8] ^= 0xff;
  snprintf(path, sizeof path, "%s/badcrc.gz", dir);
  write_file(path, bad, n);
  memset(&err, 0, sizeof err);
  rc = drain(&h, "badcrc.gz", &err);
  CU_ASSERT(rc < 0);
  if (rc < 0)
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "badcrc.gz"));

  /* Garbage after a valid gzip header. */
  memcpy(bad, gz, 10);
  memset(bad + 10, 0xff, 200);
  snprintf(path, sizeof path, "%s/garbage.gz", dir);
  write_file(path, bad, 210);
  memset(&err, 0, sizeof err);
  rc = drain(&h, "garbage.gz", &err);
  CU_ASSERT(rc < 0);
  if (rc < 0)
    CU_ASSERT_EQUAL(rc, KEEL_EIO);
  keel_host_context_free(&ctx);
  free(gz);
}

static void test_input_missing(void)
{
  const char *dir = fresh_dir("missing");
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = (keel_input *)&err; /* must be reset to NULL */
  CU_ASSERT_EQUAL(h.input_open(h.ctx, "nope.csv", &in, &err), KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NULL(in);
  CU_ASSERT_EQUAL(err.code, KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "nope.csv"));
  CU_ASSERT_EQUAL(ctx.n_inputs, 0);
  /* No path at all. */
  CU_ASSERT_EQUAL(h.input_open(h.ctx, "", &in, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(h.input_open(h.ctx, NULL, &in, &err), KEEL_EINVAL);
  /* A folder is not a data file. */
  in = NULL;
  int rc = h.input_open(h.ctx, ".", &in, &err);
  CU_ASSERT_NOT_EQUAL(rc, KEEL_OK);
  if (rc == KEEL_OK)
    h.input_close(in);
  CU_ASSERT_EQUAL(ctx.n_inputs, 0);
  keel_host_context_free(&ctx);
}

/* Without a context (the bare services table) paths are used as given and
 * nothing is recorded. */
static void test_input_no_context(void)
{
  const char *dir = fresh_dir("noctx");
  char path[4200];
  snprintf(path, sizeof path, "%s/z.txt", dir);
  write_file(path, "zz", 2);
  const keel_host *h = keel_host_services();
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h->input_open(NULL, path, &in, &err), KEEL_OK);
  char buf[8];
  CU_ASSERT_EQUAL(read_all(h, in, buf, sizeof buf, 8, &err), 2);
  h->input_close(in);
}

typedef struct remap_state {
  const char *from;
  const char *to;
  int calls;
} remap_state;

static char *remap_fn(void *vctx, const char *path)
{
  remap_state *r = vctx;
  r->calls++;
  return strcmp(path, r->from) == 0 ? strdup(r->to) : NULL;
}

static void test_input_remap(void)
{
  const char *dir = fresh_dir("remap");
  char bundled[4200], other[4200];
  snprintf(bundled, sizeof bundled, "%s/bundled.csv", dir);
  snprintf(other, sizeof other, "%s/other.csv", dir);
  write_file(bundled, "from the bundle\n", 16);
  write_file(other, "as is\n", 6);
  remap_state r = {.from = "/original/place/data.csv", .to = bundled};
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  ctx.remap = remap_fn;
  ctx.remap_ctx = &r;
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(
      h.input_open(h.ctx, "/original/place/data.csv", &in, &err), KEEL_OK);
  /* Messages keep the name the manifest gave. */
  CU_ASSERT_STRING_EQUAL(h.input_name(in), "/original/place/data.csv");
  char buf[64];
  CU_ASSERT_EQUAL(read_all(&h, in, buf, sizeof buf, 64, &err), 16);
  CU_ASSERT_STRING_EQUAL(buf, "from the bundle\n");
  h.input_close(in);
  CU_ASSERT_EQUAL(r.calls, 1);
  CU_ASSERT_EQUAL_FATAL(ctx.n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].name, "/original/place/data.csv");
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].resolved, bundled);
  char want[65];
  CU_ASSERT_EQUAL(keel_sha256_file(bundled, want, NULL, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].sha256, want);
  /* NULL from the hook: the path is resolved as usual. */
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "other.csv", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL(read_all(&h, in, buf, sizeof buf, 64, &err), 6);
  h.input_close(in);
  CU_ASSERT_EQUAL(r.calls, 2);
  CU_ASSERT_EQUAL(ctx.n_inputs, 2);
  /* A remapped target that does not exist is "not found" under the
   * manifest's name. */
  r.to = "/definitely/not/here.csv";
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(h.input_open(h.ctx, "/original/place/data.csv", &in, &err),
                  KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "data.csv"));
  keel_host_context_free(&ctx);
}

/* A file that is not gzip is read as it is, bytes unchanged. */
static void test_input_binary_passthrough(void)
{
  const char *dir = fresh_dir("bin");
  char path[4200];
  snprintf(path, sizeof path, "%s/raw.bin", dir);
  unsigned char data[256];
  for (int i = 0; i < 256; i++)
    data[i] = (unsigned char)(255 - i);
  data[0] = 0x1f; /* half a gzip magic is still plain data */
  data[1] = 0x00;
  write_file(path, data, sizeof data);
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "raw.bin", &in, &err), KEEL_OK);
  char buf[300];
  CU_ASSERT_EQUAL(read_all(&h, in, buf, sizeof buf, 100, &err), 256);
  CU_ASSERT_EQUAL(memcmp(buf, data, 256), 0);
  h.input_close(in);
  keel_host_context_free(&ctx);
}

/* input_view: the whole content, whatever input_read consumed; a gzip file
 * inflated; an empty file non-NULL with length 0. */
/* ABI 1.2: open_input takes the host table; the unbound table (init's)
 * serves no run and refuses, naming the path, and keel_open_input picks
 * open_input on this host. */
static void test_open_input(void)
{
  char dir[] = "/tmp/keel-host-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/a.txt", dir);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("abc", f);
  fclose(f);
  keel_error err = {0};
  keel_input *in = NULL;
  const keel_host *unbound = keel_host_services();
  CU_ASSERT_EQUAL(unbound->open_input(unbound, "a.txt", &in, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NULL(in);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "a.txt: open_input needs"));
  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host bound;
  keel_host_bind(&bound, &ctx);
  CU_ASSERT_EQUAL_FATAL(keel_open_input(&bound, "a.txt", &in, &err), KEEL_OK);
  char buf[8];
  CU_ASSERT_EQUAL(bound.input_read(in, buf, sizeof buf, &err), 3);
  CU_ASSERT_EQUAL(ctx.n_inputs, 1u);
  bound.input_close(in);
  keel_host_context_free(&ctx);
  remove(path);
  rmdir(dir);
}

static void test_input_view(void)
{
  const char *dir = fresh_dir("view");
  char path[4200];
  snprintf(path, sizeof path, "%s/plain.csv", dir);
  write_file(path, "a,b\n1,2\n3,4\n", 12);
  snprintf(path, sizeof path, "%s/empty.csv", dir);
  write_file(path, "", 0);
  enum { LINES = 3000 };
  size_t cap = LINES * 24, len = 0;
  char *text = malloc(cap);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  for (int i = 0; i < LINES; i++)
    len += (size_t)snprintf(text + len, cap - len, "%d,%d\n", i, i * 3);
  snprintf(path, sizeof path, "%s/z.csv.gz", dir);
  write_gzip(path, text);

  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_error err = {0};
  keel_input *in = NULL;
  const char *data = NULL;
  size_t n = 0;
  char buf[8];

  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "plain.csv", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_read(in, buf, 5, &err), 5);
  CU_ASSERT_EQUAL_FATAL(h.input_view(in, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 12);
  CU_ASSERT_EQUAL(memcmp(data, "a,b\n1,2\n3,4\n", 12), 0);
  /* reads go on where they were */
  CU_ASSERT_EQUAL(h.input_read(in, buf, 3, &err), 3);
  CU_ASSERT_EQUAL(memcmp(buf, ",2\n", 3), 0);
  h.input_close(in);

  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "empty.csv", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(h.input_view(in, &data, &n, &err), KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL(data);
  CU_ASSERT_EQUAL(n, 0);
  h.input_close(in);

  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "z.csv.gz", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_read(in, buf, 4, &err), 4);
  CU_ASSERT_EQUAL_FATAL(h.input_view(in, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, len);
  CU_ASSERT_EQUAL(memcmp(data, text, len), 0);
  /* a second view is the same bytes */
  const char *again = NULL;
  size_t n2 = 0;
  CU_ASSERT_EQUAL(h.input_view(in, &again, &n2, &err), KEEL_OK);
  CU_ASSERT_PTR_EQUAL(again, data);
  CU_ASSERT_EQUAL(n2, n);
  h.input_close(in);
  free(text);
  keel_host_context_free(&ctx);
}

/* The lineage hash is the same inline (1 thread) and in the background
 * (several), and a file that changes before settle is refused by name. */
static void lineage_at(int threads)
{
  omp_set_num_threads(threads);
  const char *dir = fresh_dir(threads > 1 ? "hashbg" : "hash1");
  char path[4200];
  snprintf(path, sizeof path, "%s/big.csv", dir);
  size_t n = 3u << 20;
  char *data = malloc(n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(data);
  for (size_t i = 0; i < n; i++)
    data[i] = (char)('0' + (i * 2654435761u >> 7) % 10);
  write_file(path, data, n);
  char want[65];
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_sha256_file(path, want, NULL, &err), KEEL_OK);

  keel_host_context ctx;
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host h;
  keel_host_bind(&h, &ctx);
  keel_input *in = NULL;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in, &err), KEEL_OK);
  h.input_close(in);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].sha256, want);
  CU_ASSERT_EQUAL(ctx.inputs[0].bytes, n);
  /* settle twice is harmless */
  CU_ASSERT_EQUAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  keel_host_context_free(&ctx);

  /* Changed after open, before settle: an integrity error naming it. */
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host_bind(&h, &ctx);
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in, &err), KEEL_OK);
  h.input_close(in);
  FILE *f = fopen(path, "ab");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("9\n", f);
  fclose(f);
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_host_context_settle(&ctx, &err), KEEL_EINTEGRITY);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "big.csv"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "changed"));
  keel_host_context_free(&ctx);

  /* One mapping per file: two inputs of it view the hash's own pages, an
   * input opened before settle stays readable after it, and one opened
   * after settle maps the file itself. */
  write_file(path, data, n); /* as it was before the append above */
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host_bind(&h, &ctx);
  keel_input *in2 = NULL;
  const char *v1 = NULL, *v2 = NULL, *v3 = NULL;
  size_t n1 = 0, n2 = 0, n3 = 0;
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in2, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_view(in, &v1, &n1, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_view(in2, &v2, &n2, &err), KEEL_OK);
  CU_ASSERT_PTR_EQUAL(v1, v2);
  h.input_close(in2);
  CU_ASSERT_EQUAL_FATAL(keel_host_context_settle(&ctx, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(ctx.inputs[0].sha256, want);
  CU_ASSERT_EQUAL_FATAL(n1, n);
  CU_ASSERT_EQUAL(memcmp(v1, data, n), 0); /* still mapped after settle */
  h.input_close(in);
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in, &err), KEEL_OK);
  CU_ASSERT_EQUAL(h.input_view(in, &v3, &n3, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(n3, n);
  CU_ASSERT_EQUAL(memcmp(v3, data, n), 0);
  h.input_close(in);
  keel_host_context_free(&ctx);

  /* Opened and never settled: freeing the context waits for the thread. */
  CU_ASSERT_EQUAL_FATAL(keel_host_context_init(&ctx, dir), KEEL_OK);
  keel_host_bind(&h, &ctx);
  CU_ASSERT_EQUAL_FATAL(h.input_open(h.ctx, "big.csv", &in, &err), KEEL_OK);
  h.input_close(in);
  keel_host_context_free(&ctx);
  free(data);
  omp_set_num_threads(1);
}

static void test_lineage_inline(void)
{
  lineage_at(1);
}

static void test_lineage_background(void)
{
  lineage_at(3);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"services header and bind", test_services_header},
      {"fail formatting", test_fail},
      {"status text and prefixes", test_status},
      {"memory", test_memory},
      {"table and state services", test_table_and_state_services},
      {"input relative to base, lineage", test_input_relative},
      {"input via the test host", test_input_test_host},
      {"input gzip transparent", test_input_gzip},
      {"input corrupt gzip", test_input_corrupt_gzip},
      {"input missing file", test_input_missing},
      {"input without context", test_input_no_context},
      {"input remap hook", test_input_remap},
      {"input binary passthrough", test_input_binary_passthrough},
      {"input view (ABI 1.1)", test_input_view},
      {"open_input: bound table opens, init's refuses (ABI 1.2)",
       test_open_input},
      {"lineage hash inline, 1 thread", test_lineage_inline},
      {"lineage hash in the background", test_lineage_background},
      {NULL, NULL},
  };
  return keel_test_run_suite("host", tests);
}
