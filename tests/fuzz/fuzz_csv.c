/* libFuzzer target for the csv source plugin (plugins/sources/csv/).
 *
 * Compiles the plugin's own sources together with the host's table code
 * (core/plugin/table.c) behind a tiny in-memory host, so the exact code keel
 * loads is fuzzed. The first input byte picks the delimiter, header flag and a
 * declared-numeric column; the rest is the file. Beyond memory errors
 * (ASan/UBSan), it checks the plugin's contract: schema() and read()
 * succeed or fail together, with the same code, and the table read()
 * returns has exactly the schema that schema() declared (names, types,
 * missing and non-finite flags); every name, category and text cell of
 * a table is valid UTF-8 (bit 7 of the first byte reads the file as
 * Latin-1, which transcodes; otherwise invalid UTF-8 never yields a
 * table: docs/data.md); a refusal never is the reader's own
 * "internal error" self-check. Build and run: tests/fuzz/run_fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "fuzz_check.h"
#include "keel/keel.h"
#include "plugin/table.h"

struct keel_input {
  const uint8_t *data;
  size_t len, pos;
};

typedef struct fuzz_ctx {
  const uint8_t *data;
  size_t len;
  struct keel_input in;
} fuzz_ctx;

static void fz_log(keel_log_level level, const char *fmt, ...)
{
  (void)level;
  (void)fmt;
}

static void *fz_alloc(size_t n)
{
  return malloc(n);
}
static void *fz_alloc_zero(size_t n, size_t s)
{
  return calloc(n, s);
}
static void fz_free(void *p)
{
  free(p);
}

static int fz_open(void *ctx, const char *path, keel_input **in,
                   keel_error *err)
{
  fuzz_ctx *c = ctx;
  (void)path;
  (void)err;
  c->in.data = c->data;
  c->in.len = c->len;
  c->in.pos = 0;
  *in = &c->in;
  return KEEL_OK;
}

static long fz_read(keel_input *in, void *buf, size_t n, keel_error *err)
{
  (void)err;
  size_t left = in->len - in->pos;
  /* odd chunk sizes exercise the reader's buffer growth */
  if (n > 4093)
    n = 4093;
  if (n > left)
    n = left;
  memcpy(buf, in->data + in->pos, n);
  in->pos += n;
  return (long)n;
}

/* The view is the fuzz input itself, exactly sized: ASan sees any read
 * past its end. */
static int fz_view(keel_input *in, const char **data, size_t *len,
                   keel_error *err)
{
  (void)err;
  *data = in->len ? (const char *)in->data : "";
  *len = in->len;
  return KEEL_OK;
}

static const char *fz_name(const keel_input *in)
{
  (void)in;
  return "fuzz.csv";
}

static void fz_close(keel_input *in)
{
  (void)in;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_ok(const char *s)
{
  return keel_utf8_check(s, strlen(s)) == strlen(s);
}
/* The plugin's entry symbol (csv.c, KEEL_PLUGIN_DEFINE). */
const struct keel_plugin *keel_plugin_entry(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  fuzz_ctx ctx = {data + 1, size - 1, {0}};
  keel_host host;
  memset(&host, 0, sizeof host);
  /* Bit 6 of the mode byte: an ABI 1.0 host (no input_view), so the
   * plugin's read-into-memory path is fuzzed too. */
  host.struct_size =
      data[0] & 0x40 ? offsetof(keel_host, input_view) : sizeof host;
  host.abi_major = KEEL_ABI_MAJOR;
  host.abi_minor = KEEL_ABI_MINOR;
  host.fail = keel_fail;
  host.log = fz_log;
  host.alloc = fz_alloc;
  host.alloc_zero = fz_alloc_zero;
  host.free = fz_free;
  host.schema_add = keel_schema_add;
  host.table_new = keel_table_new;
  host.table_add = keel_table_add;
  host.table_copy_column = keel_table_copy_column;
  host.text_set = keel_table_text_set;
  host.table_free = keel_table_free;
  host.input_open = fz_open;
  host.input_read = fz_read;
  host.input_name = fz_name;
  host.input_close = fz_close;
  host.ctx = &ctx;
  host.input_view = fz_view;

  const keel_plugin *p = keel_plugin_entry();
  const keel_source_api *api = p->api;
  static const char *const delims[] = {"comma", "semicolon", "tab"};
  static const char *const missing[] = {"NA", "."};
  static const char *const cols_a[] = {"a"};
  static const char *const cols_b[] = {"b"};
  static const char *const encodings[] = {"utf-8", "latin1"};
  keel_value v[9];
  memset(v, 0, sizeof v);
  uint8_t mode = data[0];
  v[0].s = "fuzz.csv";
  v[1].i = mode % 3;
  v[1].s = delims[mode % 3];
  v[2].i = (mode >> 2) & 1 ? 0 : 1;
  v[3].n = 2;
  v[3].strings = missing;
  v[8].i = mode >> 7;
  v[8].s = encodings[mode >> 7];
  /* declared types: numeric a, date b, text a, categorical b */
  switch ((mode >> 3) & 7) {
  case 1:
    v[7].n = 1;
    v[7].strings = cols_a;
    break;
  case 2:
    v[6].n = 1;
    v[6].strings = cols_b;
    break;
  case 3:
    v[4].n = 1;
    v[4].strings = cols_a;
    break;
  case 4:
    v[5].n = 1;
    v[5].strings = cols_b;
    break;
  default: break;
  }

  keel_schema decl;
  keel_schema_init(&decl);
  keel_error e1 = {0}, e2 = {0};
  int rc1 = api->schema(&host, v, &decl, &e1);
  keel_table *t = NULL;
  int rc2 = api->read(&host, v, &t, &e2);
  if (rc1 != rc2)
    fprintf(stderr, "schema %d (%s) but read %d (%s)\n", rc1, e1.message, rc2,
            e2.message);
  CHECK(rc1 == rc2);
  if (rc1 == KEEL_OK) {
    keel_schema actual;
    CHECK(t != NULL && keel_table_schema(t, &actual, NULL) == KEEL_OK);
    CHECK(actual.n_cols == decl.n_cols);
    for (size_t c = 0; c < decl.n_cols; c++) {
      int as_declared = strcmp(actual.cols[c].name, decl.cols[c].name) == 0 &&
                        actual.cols[c].type == decl.cols[c].type &&
                        actual.cols[c].flags == decl.cols[c].flags;
      if (!as_declared)
        fprintf(stderr, "column %zu: declared %s/%d/%u, actual %s/%d/%u\n", c,
                decl.cols[c].name, decl.cols[c].type, decl.cols[c].flags,
                actual.cols[c].name, actual.cols[c].type, actual.cols[c].flags);
      CHECK(as_declared);
      const keel_column *col = &t->cols[c];
      for (size_t r = 0; r < t->n_rows; r++)
        CHECK(!(col->type == KEEL_COL_CATEGORICAL && !col->missing[r] &&
                (col->code[r] < 0 || (size_t)col->code[r] >= col->n_dict)));
      CHECK(utf8_ok(col->name));
      for (size_t k = 0; col->type == KEEL_COL_CATEGORICAL && k < col->n_dict;
           k++)
        CHECK(utf8_ok(col->dict[k]));
      for (size_t r = 0; col->type == KEEL_COL_TEXT && r < t->n_rows; r++)
        CHECK(!col->text[r] || utf8_ok(col->text[r]));
    }
    keel_schema_free(&actual);
    keel_table_free(t);
  } else {
    CHECK(t == NULL); /* a failed read must not return a table */
    /* errors are deterministic and always explained */
    CHECK(e1.message[0] && strcmp(e1.message, e2.message) == 0);
    /* the parallel reader's self-check (csv.c, continue_serial) is a bug
     * report, never an answer to any input; matched by its start, which
     * no text from the file can produce (messages quote cells and names
     * only after fixed words) */
    CHECK(strncmp(e1.message, "fuzz.csv: internal error:", 25) != 0);
  }
  keel_schema_free(&decl);
  return 0;
}
