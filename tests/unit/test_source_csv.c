/* csv source: RFC 4180 tokenizing, type inference, declared types, gzip,
 * every malformed-file error (file, line, row, column in the message),
 * schema()/read() agreement, and numbers that are bit-identical to strtod
 * on millions of random decimal strings. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <omp.h>

#include "base/params.h"
#include "keel/rng.h"
#include "plugin/table.h"
#include "test_util.h"

/* The plugin's parsing code, compiled in directly to test it alone. */
#include "../../plugins/sources/csv/csv_parse.c"

/* ---- helpers ---------------------------------------------------------- */

typedef struct src {
  const keel_loaded_plugin *p;
  const keel_source_api *api;
  keel_value *v;
} src;

static src load(const char *path)
{
  src s = {0};
  s.p = keel_test_plugin(KEEL_KIND_SOURCE, "csv");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s.p);
  s.api = s.p->api;
  s.v = keel_test_default_values(s.p);
  s.v[0].s = path; /* "path" is the first parameter */
  return s;
}

/* Values parsed by set(), released at exit (LeakSanitizer-clean). */
static struct {
  const keel_param_decl *decl;
  keel_value v;
} parsed[64];
static size_t n_parsed;

static void release_parsed(void)
{
  for (size_t i = 0; i < n_parsed; i++)
    keel_value_clear(parsed[i].decl, &parsed[i].v);
}

static void keep_parsed(const keel_param_decl *d, const keel_value *v)
{
  if (n_parsed == 0)
    atexit(release_parsed);
  if (n_parsed < sizeof parsed / sizeof parsed[0]) {
    parsed[n_parsed].decl = d;
    parsed[n_parsed++].v = *v;
  }
}

static void set(src *s, const char *name, const char *text)
{
  for (size_t i = 0; i < s->p->desc.n_params; i++) {
    const keel_param_decl *d = &s->p->desc.params[i];
    if (strcmp(d->name, name) != 0)
      continue;
    keel_error err = {0};
    keel_value nv;
    int rc = keel_param_parse(d, text, &nv, &err);
    if (rc)
      fprintf(stderr, "%s=%s: %s\n", name, text, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
    s->v[i] = nv;
    keep_parsed(d, &nv);
    return;
  }
  CU_FAIL_FATAL("unknown parameter");
}

static int do_schema(const src *s, keel_schema *out, keel_error *err)
{
  keel_schema_init(out);
  memset(err, 0, sizeof *err);
  return s->api->schema(keel_test_host(), s->v, out, err);
}

static int do_read(const src *s, keel_table **t, keel_error *err)
{
  memset(err, 0, sizeof *err);
  *t = NULL;
  return s->api->read(keel_test_host(), s->v, t, err);
}

static int says(const keel_error *err, const char *const *needles)
{
  int ok = 1;
  for (; *needles; needles++)
    if (!strstr(err->message, *needles)) {
      fprintf(stderr, "message lacks '%s': %s\n", *needles, err->message);
      ok = 0;
    }
  return ok;
}

#define SAYS(ERR, ...) says((ERR), (const char *const[]){__VA_ARGS__, NULL})

/* Reads and checks that schema() and the table's actual schema agree. */
static keel_table *read_ok(const src *s)
{
  keel_schema decl, actual;
  keel_table *t = NULL;
  keel_error err;
  int rc = do_schema(s, &decl, &err);
  if (rc)
    fprintf(stderr, "schema: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  rc = do_read(s, &t, &err);
  if (rc)
    fprintf(stderr, "read: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(t, &actual, NULL), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(actual.n_cols, decl.n_cols);
  for (size_t c = 0; c < decl.n_cols; c++) {
    CU_ASSERT_STRING_EQUAL(actual.cols[c].name, decl.cols[c].name);
    CU_ASSERT_EQUAL(actual.cols[c].type, decl.cols[c].type);
    CU_ASSERT_EQUAL(actual.cols[c].flags, decl.cols[c].flags);
  }
  keel_schema_free(&decl);
  keel_schema_free(&actual);
  return t;
}

static const keel_column *col(const keel_table *t, const char *name)
{
  int c = keel_table_find(t, name);
  CU_ASSERT_FATAL(c >= 0);
  return &t->cols[c];
}

static const char *cat(const keel_column *c, size_t r)
{
  return c->missing[r] ? NULL : c->dict[c->code[r]];
}

/* Expects both schema() and read() to fail with code and the needles. */
static void expect_fail(const src *s, int code, const char *const *needles)
{
  keel_schema sc;
  keel_table *t;
  keel_error err;
  int rc = do_schema(s, &sc, &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT(says(&err, needles));
  keel_schema_free(&sc);
  rc = do_read(s, &t, &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_PTR_NULL(t);
  CU_ASSERT(says(&err, needles));
}

#define EXPECT_FAIL(S, CODE, ...)                                              \
  expect_fail((S), (CODE), (const char *const[]){__VA_ARGS__, NULL})

/* ---- reading ---------------------------------------------------------- */

static void check_basic(const keel_table *t)
{
  CU_ASSERT_EQUAL_FATAL(t->n_rows, 5);
  CU_ASSERT_EQUAL_FATAL(t->n_cols, 5);
  const keel_column *id = col(t, "id"), *x = col(t, "x");
  const keel_column *color = col(t, "color"), *when = col(t, "when");
  const keel_column *note = col(t, "note");
  CU_ASSERT_EQUAL(id->type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(id->num[4], 5.0);
  CU_ASSERT_EQUAL(x->type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(x->num[0], 1.5);
  CU_ASSERT(x->missing[1]);
  CU_ASSERT_EQUAL(x->num[2], -2000.0);
  CU_ASSERT(x->missing[4]); /* "NA" */
  CU_ASSERT_EQUAL(color->type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_EQUAL_FATAL(color->n_dict, 3);
  CU_ASSERT_STRING_EQUAL(color->dict[0], "blue");
  CU_ASSERT_STRING_EQUAL(color->dict[1], "green");
  CU_ASSERT_STRING_EQUAL(color->dict[2], "red");
  CU_ASSERT_STRING_EQUAL(cat(color, 0), "red");
  CU_ASSERT_PTR_NULL(cat(color, 2));
  CU_ASSERT_STRING_EQUAL(cat(color, 4), "green"); /* quoted */
  CU_ASSERT_EQUAL(when->type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(when->num[0], 18292.0); /* 2020-01-31 */
  CU_ASSERT_EQUAL(when->num[1], 18321.0); /* 2020-02-29 */
  CU_ASSERT(when->missing[2]);
  CU_ASSERT_EQUAL(when->num[3], -1.0);           /* 1969-12-31 */
  CU_ASSERT_EQUAL(when->num[4], 10957.0 + 60.0); /* 2000-03-01 */
  CU_ASSERT_EQUAL(note->type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_STRING_EQUAL(cat(note, 0), "plain");
  CU_ASSERT_STRING_EQUAL(cat(note, 1), "with, comma");
  CU_ASSERT_STRING_EQUAL(cat(note, 2), "say \"hi\"");
  CU_ASSERT_STRING_EQUAL(cat(note, 3), "two\nlines");
  CU_ASSERT_PTR_NULL(cat(note, 4));
}

static void test_basic(void)
{
  src s = load("csv/basic.csv");
  keel_schema sc;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(do_schema(&s, &sc, &err), KEEL_OK);
  CU_ASSERT_EQUAL(sc.cols[0].flags, 0u);
  CU_ASSERT_EQUAL(sc.cols[1].flags, KEEL_COL_MAY_MISS);
  keel_schema_free(&sc);
  keel_table *t = read_ok(&s);
  check_basic(t);
  keel_table_free(t);
}

/* The minor-version rule, the other direction (keel/abi.h): on a host
 * table of ABI 1.0's size (no input_view, no open_input) the csv source
 * opens through input_open and reads into memory, and gives the same
 * table as with the full host. */
static void test_host_of_abi_1_0(void)
{
  src s = load("csv/basic.csv");
  keel_host old = *keel_test_host();
  old.struct_size = (uint32_t)offsetof(keel_host, input_view);
  CU_ASSERT_FALSE(KEEL_HOST_HAS(&old, input_view));
  CU_ASSERT_FALSE(KEEL_HOST_HAS(&old, open_input));
  keel_table *full = read_ok(&s), *t = NULL;
  keel_error err = {0};
  int rc = s.api->read(&old, s.v, &t, &err);
  if (rc)
    fprintf(stderr, "read on an ABI 1.0 host: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  check_basic(t);
  CU_ASSERT_EQUAL_FATAL(t->n_cols, full->n_cols);
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *a = &t->cols[c], *b = &full->cols[c];
    CU_ASSERT_STRING_EQUAL(a->name, b->name);
    CU_ASSERT_EQUAL(a->type, b->type);
    CU_ASSERT(memcmp(a->missing, b->missing, t->n_rows) == 0);
    if (a->num)
      CU_ASSERT(memcmp(a->num, b->num, t->n_rows * sizeof *a->num) == 0);
  }
  keel_table_free(t);
  keel_table_free(full);
}

static void test_crlf_and_gzip(void)
{
  src s = load("csv/basic_crlf.csv");
  keel_table *t = read_ok(&s);
  check_basic(t);
  keel_table_free(t);
  s = load("csv/basic.csv.gz");
  t = read_ok(&s);
  check_basic(t);
  keel_table_free(t);
}

static void test_delimiters_bom_noheader(void)
{
  src s = load("csv/bom.csv");
  keel_table *t = read_ok(&s);
  CU_ASSERT_STRING_EQUAL(t->cols[0].name, "a");
  keel_table_free(t);

  s = load("csv/semicolon.csv");
  set(&s, "delimiter", "semicolon");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(t->n_cols, 2);
  CU_ASSERT_EQUAL(col(t, "a")->type, KEEL_COL_CATEGORICAL); /* "1,5" */
  CU_ASSERT_STRING_EQUAL(cat(col(t, "a"), 0), "1,5");
  keel_table_free(t);

  s = load("csv/tab.tsv");
  set(&s, "delimiter", "tab");
  t = read_ok(&s);
  CU_ASSERT_STRING_EQUAL(cat(col(t, "b"), 0), "x y");
  keel_table_free(t);

  s = load("csv/noheader.csv");
  set(&s, "header", "false");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(t->n_rows, 3);
  CU_ASSERT_EQUAL(col(t, "c1")->num[2], 3.0);
  CU_ASSERT_STRING_EQUAL(cat(col(t, "c2"), 1), "b");
  keel_table_free(t);
}

static void test_declared_types(void)
{
  src s = load("csv/basic.csv");
  set(&s, "text_columns", "note");
  set(&s, "categorical_columns", "id");
  set(&s, "missing", "NA,red");
  keel_table *t = read_ok(&s);
  const keel_column *note = col(t, "note"), *id = col(t, "id");
  CU_ASSERT_EQUAL(note->type, KEEL_COL_TEXT);
  CU_ASSERT_STRING_EQUAL(note->text[3], "two\nlines");
  CU_ASSERT(note->missing[4]);
  CU_ASSERT_EQUAL(id->type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_STRING_EQUAL(cat(id, 2), "3");
  CU_ASSERT(col(t, "color")->missing[0]); /* "red" is now a marker */
  keel_table_free(t);

  s = load("csv/basic.csv");
  set(&s, "numeric_columns", "nope");
  EXPECT_FAIL(&s, KEEL_EINVAL, "numeric_columns", "'nope'", "basic.csv");
  s = load("csv/basic.csv");
  set(&s, "numeric_columns", "x");
  set(&s, "date_columns", "x");
  EXPECT_FAIL(&s, KEEL_EINVAL, "'x'", "two types");
}

static void test_inference_rules(void)
{
  src s = load("csv/nonfinite.csv");
  keel_table *t = read_ok(&s);
  const keel_column *b = col(t, "b");
  CU_ASSERT_EQUAL(b->type, KEEL_COL_NUMERIC);
  CU_ASSERT(isnan(b->num[0]));
  CU_ASSERT(isinf(b->num[1]) && b->num[1] > 0);
  CU_ASSERT(isinf(b->num[2]) && b->num[2] < 0);
  CU_ASSERT_EQUAL(b->num[3], 5.0);
  keel_table_free(t);
  keel_schema sc;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(do_schema(&s, &sc, &err), KEEL_OK);
  CU_ASSERT_EQUAL(sc.cols[1].flags, KEEL_COL_MAY_NONFINITE);
  keel_schema_free(&sc);

  s = load("csv/subnormal.csv");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(col(t, "tiny")->type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(col(t, "tiny")->num[0], strtod("1e-310", NULL));
  CU_ASSERT(col(t, "tiny")->num[0] > 0 && col(t, "tiny")->num[0] < 2.3e-308);
  CU_ASSERT_EQUAL(col(t, "tiny")->num[1], 4.9e-324);
  CU_ASSERT_EQUAL(col(t, "under")->type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(col(t, "under")->num[0], 0.0);
  CU_ASSERT_EQUAL(col(t, "big")->num[0], 1e308);
  CU_ASSERT(signbit(col(t, "neg0")->num[0]));
  keel_table_free(t);

  s = load("csv/overflow.csv"); /* 1e999 is not a number: categorical */
  t = read_ok(&s);
  CU_ASSERT_EQUAL(col(t, "b")->type, KEEL_COL_CATEGORICAL);
  keel_table_free(t);
  s = load("csv/overflow.csv");
  set(&s, "numeric_columns", "b");
  EXPECT_FAIL(&s, KEEL_EDATA, "overflow.csv:2", "data row 1", "'b'", "1e999",
              "overflow");

  s = load("csv/all_missing.csv");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(col(t, "b")->type, KEEL_COL_NUMERIC);
  CU_ASSERT(col(t, "b")->missing[0] && col(t, "b")->missing[1]);
  keel_table_free(t);

  s = load("csv/mixed.csv");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(col(t, "a")->type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_EQUAL(col(t, "b")->type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_STRING_EQUAL(cat(col(t, "b"), 0), "2");
  keel_table_free(t);

  s = load("csv/dates.csv");
  t = read_ok(&s);
  CU_ASSERT_EQUAL(col(t, "d")->type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(col(t, "d")->num[0], 11016.0);            /* 2000-02-29 */
  CU_ASSERT_EQUAL(col(t, "e")->type, KEEL_COL_CATEGORICAL); /* 1900-02-29 */
  keel_table_free(t);
}

/* ---- malformed input -------------------------------------------------- */

static void test_bad_files(void)
{
  src s = load("csv/ragged.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "ragged.csv:3", "data row 2", "2 fields",
              "expected 3", "ragged");
  s = load("csv/unterminated.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "unterminated.csv:2", "field 2", "'b'",
              "unterminated");
  s = load("csv/bad_number.csv");
  set(&s, "numeric_columns", "b");
  EXPECT_FAIL(&s, KEEL_EDATA, "bad_number.csv:3", "data row 2", "'b'", "x7",
              "not a number");
  s = load("csv/empty.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "empty.csv", "empty");
  s = load("csv/blank_lines.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "blank_lines.csv", "empty");
  s = load("csv/header_only.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "header_only.csv", "no data rows");
  s = load("csv/dup_names.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "dup_names.csv:1", "duplicate column name 'a'",
              "columns 1 and 3");
  s = load("csv/empty_name.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "empty_name.csv:1", "column 2", "empty name");
  s = load("csv/bad_date.csv");
  set(&s, "date_columns", "d");
  EXPECT_FAIL(&s, KEEL_EDATA, "bad_date.csv:3", "data row 2", "'d'",
              "2021-02-30", "date");
  s = load("csv/bare_cr.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "bare_cr.csv:1", "carriage return");
  s = load("csv/quote_in_field.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "quote_in_field.csv:2", "field 2",
              "quote character inside an unquoted field");
  s = load("csv/after_quote.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "after_quote.csv:2", "after a closing quote");
  s = load("csv/nul.csv");
  EXPECT_FAIL(&s, KEEL_EDATA, "nul.csv:2", "NUL");
  s = load("csv/no_such_file.csv");
  keel_schema sc;
  keel_error err;
  CU_ASSERT(do_schema(&s, &sc, &err) < 0);
  CU_ASSERT(strstr(err.message, "no_such_file.csv") != NULL);
  keel_schema_free(&sc);
}

/* Issue 11, finding 1: the UTF-8 policy and encoding = latin1. */
static void test_invalid_utf8(void)
{
  const char *path = keel_test_tmp_path("latin1.csv");
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("city,note,n\xfcm\n"
        "Bern,\"say \"\"gr\xfc\xdf"
        "e\"\"\",1\n"
        "Z\xfcrich,caf\xe9,\xfc\n"
        "Bern,,2\n",
        f);
  fclose(f);
  src s = load(path);
  set(&s, "text_columns", "note");
  /* UTF-8 (the default): the header name is the first invalid text */
  EXPECT_FAIL(&s, KEEL_EDATA, "latin1.csv:1: column 3 name", "not valid UTF-8",
              "byte 0xfc at byte 2", "encoding = latin1");
  /* a valid header, invalid cells: the first in file order */
  f = fopen(path, "r+b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("city,note,num\n", f);
  fclose(f);
  EXPECT_FAIL(&s, KEEL_EDATA, "latin1.csv:2: data row 1, column 'note' (2)",
              "not valid UTF-8", "byte 0xfc");
  /* Latin-1 declared: transcoded; a UTF-8 marker matches its Latin-1 byte */
  set(&s, "encoding", "latin1");
  set(&s, "missing", "\xc3\xbc");
  keel_table *t = read_ok(&s);
  const keel_column *c = col(t, "city");
  CU_ASSERT_EQUAL(c->n_dict, 2u);
  CU_ASSERT_STRING_EQUAL(cat(c, 1), "Z\xc3\xbcrich");
  c = col(t, "note");
  CU_ASSERT_STRING_EQUAL(c->text[0], "say \"gr\xc3\xbc\xc3\x9f"
                                     "e\"");
  CU_ASSERT_STRING_EQUAL(c->text[1], "caf\xc3\xa9");
  CU_ASSERT(c->missing[2]);
  c = col(t, "num");
  CU_ASSERT_EQUAL(c->type, KEEL_COL_NUMERIC);
  CU_ASSERT(c->missing[1]); /* \xfc, the marker, in Latin-1 */
  keel_table_free(t);
}

/* ---- tokenizer and number rules directly ------------------------------ */

static void test_tokenizer_edges(void)
{
  csvp_reader r;
  csvp_field f[4];
  csvp_where w;
  size_t nf, line;
  const char *in = "a,\"b\",\n\"x\"\"y\",\"\"";
  csvp_init(&r, in, strlen(in), ',');
  CU_ASSERT_EQUAL(csvp_next_record(&r, f, 4, &nf, &line, &w), CSVP_OK);
  CU_ASSERT_EQUAL(nf, 3); /* trailing delimiter: an empty last field */
  CU_ASSERT_EQUAL(f[2].len, 0);
  CU_ASSERT(f[1].quoted && f[1].len == 1 && f[1].p[0] == 'b');
  CU_ASSERT_EQUAL(csvp_next_record(&r, f, 4, &nf, &line, &w), CSVP_OK);
  CU_ASSERT_EQUAL(nf, 2);
  CU_ASSERT_EQUAL(line, 2);
  char buf[16];
  CU_ASSERT(f[0].escaped);
  CU_ASSERT_EQUAL(csvp_unescape(&f[0], buf), 3);
  CU_ASSERT_EQUAL(memcmp(buf, "x\"y", 3), 0);
  CU_ASSERT(f[1].quoted && f[1].len == 0);
  CU_ASSERT_EQUAL(csvp_next_record(&r, f, 4, &nf, &line, &w), CSVP_END);
  /* more fields than capacity are still counted */
  in = "1,2,3,4,5,6\n";
  csvp_init(&r, in, strlen(in), ',');
  CU_ASSERT_EQUAL(csvp_next_record(&r, f, 2, &nf, &line, &w), CSVP_OK);
  CU_ASSERT_EQUAL(nf, 6);
}

/* The records and line feeds of a quote-free chunk, byte by byte: every
 * line is a record unless it is empty or only the CR of a CRLF. */
static void reference_count(const char *buf, size_t len, size_t b, size_t e,
                            size_t *records, size_t *newlines)
{
  size_t r = 0, nl = 0, start = b;
  for (size_t i = b; i <= e; i++) {
    if (i < e && buf[i] != '\n')
      continue;
    size_t w = i - start;
    int cr_only = w == 1 && buf[start] == '\r' && start + 1 < len &&
                  buf[start + 1] == '\n';
    r += w > 0 && !cr_only;
    nl += i < e;
    start = i + 1;
  }
  *records = r;
  *newlines = nl;
}

/* Both record counters agree with the byte-by-byte reference on every
 * chunk (starting and ending at record starts, as plan_chunks cuts) of
 * 20000 random quote-free buffers made of the bytes that matter; the
 * one-pass counter refuses a chunk with a quote, and the general one
 * then follows quotes. */
static void test_count_records_unquoted(void)
{
  static const char alphabet[] = "\n\n\r,1a";
  char buf[64];
  uint64_t state = 12345;
  size_t disagree = 0, checked = 0;
  for (int trial = 0; trial < 20000; trial++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    size_t len = (size_t)(state >> 58); /* 0..63 */
    for (size_t i = 0; i < len; i++) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      buf[i] = alphabet[(state >> 33) % (sizeof alphabet - 1)];
    }
    for (size_t b = 0; b <= len; b++) {
      if (b > 0 && buf[b - 1] != '\n')
        continue;
      for (size_t e = b; e <= len; e++) {
        if (e < len && e > 0 && buf[e - 1] != '\n')
          continue;
        size_t r0, n0, r1 = 9, n1 = 9, r2 = 9, n2 = 9;
        reference_count(buf, len, b, e, &r0, &n0);
        CU_ASSERT_EQUAL_FATAL(
            csvp_count_records_unquoted(buf, len, b, e, &r1, &n1), 0);
        csvp_count_records(buf, len, b, e, &r2, &n2);
        disagree += r1 != r0 || n1 != n0 || r2 != r0 || n2 != n0;
        checked++;
      }
    }
  }
  CU_ASSERT_EQUAL(disagree, 0);
  CU_ASSERT(checked > 100000);
  size_t r = 0, n = 0;
  const char *q = "1,2\n3,\"4\n5\"\n6,7";
  CU_ASSERT_EQUAL(
      csvp_count_records_unquoted(q, strlen(q), 0, strlen(q), &r, &n), -1);
  CU_ASSERT_EQUAL(csvp_count_records_unquoted(q, strlen(q), 0, 4, &r, &n), 0);
  CU_ASSERT_EQUAL(r, 1);
  /* the general counter: the quoted line feed ends no record */
  csvp_count_records(q, strlen(q), 0, strlen(q), &r, &n);
  CU_ASSERT_EQUAL(r, 3);
  CU_ASSERT_EQUAL(n, 3);
}

static void test_number_syntax(void)
{
  static const struct {
    const char *s;
    int st;
  } cases[] = {
      {"0", CSVP_NUM_OK},
      {"-0.0", CSVP_NUM_OK},
      {"+1", CSVP_NUM_OK},
      {"1.", CSVP_NUM_OK},
      {".5", CSVP_NUM_OK},
      {"1e5", CSVP_NUM_OK},
      {"1E-5", CSVP_NUM_OK},
      {"1e+5", CSVP_NUM_OK},
      {"", CSVP_NUM_BAD},
      {".", CSVP_NUM_BAD},
      {"-", CSVP_NUM_BAD},
      {"1e", CSVP_NUM_BAD},
      {"1e+", CSVP_NUM_BAD},
      {" 1", CSVP_NUM_BAD},
      {"1 ", CSVP_NUM_BAD},
      {"0x10", CSVP_NUM_BAD},
      {"1,5", CSVP_NUM_BAD},
      {"1.2.3", CSVP_NUM_BAD},
      {"nan", CSVP_NUM_NONFINITE},
      {"-Inf", CSVP_NUM_NONFINITE},
      {"INFINITY", CSVP_NUM_NONFINITE},
      {"nan(1)", CSVP_NUM_BAD},
      {"infinit", CSVP_NUM_BAD},
      {"1e400", CSVP_NUM_OVERFLOW},
      {"-1e400", CSVP_NUM_OVERFLOW},
      {"1e-400", CSVP_NUM_OK},
      {"2.4703282292062328e-324", CSVP_NUM_OK},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v;
    int st = csvp_parse_double(cases[i].s, strlen(cases[i].s), &v);
    if (st != cases[i].st)
      fprintf(stderr, "'%s': %d, expected %d\n", cases[i].s, st, cases[i].st);
    CU_ASSERT_EQUAL(st, cases[i].st);
    if (st == CSVP_NUM_OK) {
      double ref = strtod(cases[i].s, NULL);
      CU_ASSERT_EQUAL(memcmp(&v, &ref, sizeof v), 0);
    }
  }
  double d;
  CU_ASSERT_EQUAL(csvp_parse_date("1970-01-01", 10, &d), 0);
  CU_ASSERT_EQUAL(d, 0.0);
  CU_ASSERT_EQUAL(csvp_parse_date("2000-02-29", 10, &d), 0);
  CU_ASSERT_EQUAL(csvp_parse_date("2100-02-29", 10, &d), -1);
  CU_ASSERT_EQUAL(csvp_parse_date("2021-13-01", 10, &d), -1);
  CU_ASSERT_EQUAL(csvp_parse_date("2021-1-01", 9, &d), -1);
  CU_ASSERT_EQUAL(csvp_parse_date("2021/01/01", 10, &d), -1);
  CU_ASSERT_EQUAL(csvp_parse_date("0000-03-01", 10, &d), 0);
  CU_ASSERT_EQUAL(d, -719468.0);
}

/* A random decimal string of varied shape, from Philox counter i. */
static size_t random_decimal(uint64_t i, char *buf)
{
  keel_rng_block b = keel_rng_philox(77, 1001, i);
  size_t n = 0;
  uint32_t shape = b.v[0];
  if (shape & 1)
    buf[n++] = '-';
  int int_digits = (int)((shape >> 1) % 12);
  int frac_digits = (int)((shape >> 5) % 22);
  if (int_digits == 0 && frac_digits == 0)
    int_digits = 1;
  uint64_t bits = ((uint64_t)b.v[1] << 32) | b.v[2];
  for (int k = 0; k < int_digits; k++) {
    buf[n++] = (char)('0' + bits % 10);
    bits /= 10;
    if (bits == 0)
      bits = ((uint64_t)b.v[3] << 32) | (b.v[1] ^ (uint32_t)k);
  }
  if (frac_digits) {
    buf[n++] = '.';
    for (int k = 0; k < frac_digits; k++) {
      buf[n++] = (char)('0' + bits % 10);
      bits /= 10;
      if (bits == 0)
        bits = ((uint64_t)b.v[2] << 32) | (b.v[3] ^ (uint32_t)(k * 7919));
    }
  }
  if ((shape >> 10) % 3 == 0) {
    int e = (int)((shape >> 12) % 700) - 350;
    n += (size_t)sprintf(buf + n, "e%d", e);
  }
  buf[n] = '\0';
  return n;
}

static void test_numbers_match_strtod(void)
{
  char buf[128];
  size_t mismatches = 0, checked = 0;
  for (uint64_t i = 0; i < 3000000; i++) {
    size_t n = random_decimal(i, buf);
    double v, ref;
    int st = csvp_parse_double(buf, n, &v);
    errno = 0;
    ref = strtod(buf, NULL);
    if (isinf(ref)) {
      if (st != CSVP_NUM_OVERFLOW)
        mismatches++;
      continue;
    }
    checked++;
    if (st != CSVP_NUM_OK || memcmp(&v, &ref, sizeof v) != 0) {
      if (mismatches < 5)
        fprintf(stderr, "'%s': %.17g vs strtod %.17g\n", buf, v, ref);
      mismatches++;
    }
  }
  CU_ASSERT_EQUAL(mismatches, 0);
  CU_ASSERT(checked > 2900000);
}

/* The bits of a table (values, codes, masks), to compare two reads. */
static uint64_t table_bits(const keel_table *t)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t c = 0; c < t->n_cols; c++)
    for (size_t r = 0; r < t->n_rows; r++) {
      uint64_t v = t->cols[c].missing[r];
      if (t->cols[c].num)
        memcpy(&v, &t->cols[c].num[r], sizeof v);
      else if (t->cols[c].code)
        v = (uint64_t)t->cols[c].code[r];
      h = (h ^ v ^ ((uint64_t)t->cols[c].missing[r] << 63)) * 1099511628211ull;
    }
  return h ^ t->n_rows;
}

/* A last record without a line end reads as the same record with one:
 * numbers (the fused path), strings, empty last cells, LF and CRLF, one
 * column and several, one thread and three (review finding: the fused
 * path counted a line the data did not have, and the read stopped with
 * the reader's internal error). */
static void test_no_final_newline(void)
{
  static const char *const bodies[] = {"a\n6",
                                       "a\n1\n2\n3",
                                       "x,y\n1,a\n2,b\n3,a\n4,b",
                                       "x,y\r\n1,2\r\n3,4",
                                       "x,y\n1,2\n3,",
                                       "x,y\n1,2\n,4",
                                       "x,y\n1.5,2e3\n-0.25,7",
                                       "x,y,z\n1,2,3\n\n4,5,6",
                                       "x\n\"7\""};
  for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++)
    for (int threads = 1; threads <= 3; threads += 2) {
      omp_set_num_threads(threads);
      uint64_t bits[2];
      size_t rows[2];
      for (int with_end = 0; with_end < 2; with_end++) {
        /* a file name of its own: the shared test host keeps the first
         * mapping of a path until it settles */
        char name[64];
        snprintf(name, sizeof name, "nfn-%zu-%d-%d.csv", b, threads, with_end);
        const char *path = keel_test_tmp_path(name);
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(bodies[b], f);
        if (with_end)
          fputs(strstr(bodies[b], "\r\n") ? "\r\n" : "\n", f);
        fclose(f);
        src s = load(path);
        keel_table *t = NULL;
        keel_error err = {0};
        int rc = do_read(&s, &t, &err);
        if (rc)
          fprintf(stderr, "body %zu, end %d, %d threads: %s\n", b, with_end,
                  threads, err.message);
        CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
        bits[with_end] = table_bits(t);
        rows[with_end] = t->n_rows;
        keel_table_free(t);
      }
      CU_ASSERT_EQUAL(rows[0], rows[1]);
      CU_ASSERT_EQUAL(bits[0], bits[1]);
    }
  omp_set_num_threads(1);
}

/* Through the plugin: a written file of random numbers reads back as
 * exactly what strtod gives for each cell. */
static void test_plugin_numbers_match_strtod(void)
{
  const char *path = keel_test_tmp_path("numbers.csv");
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("a,b\n", f);
  char buf[128];
  enum { ROWS = 100000 };
  for (uint64_t i = 0; i < ROWS; i++) {
    random_decimal(2 * i + 10000000, buf);
    if (isinf(strtod(buf, NULL)))
      strcpy(buf, "1");
    fputs(buf, f);
    fputc(',', f);
    random_decimal(2 * i + 10000001, buf);
    if (isinf(strtod(buf, NULL)))
      strcpy(buf, "1");
    fputs(buf, f);
    fputc('\n', f);
  }
  fclose(f);
  src s = load(path);
  keel_table *t = read_ok(&s);
  CU_ASSERT_EQUAL_FATAL(t->n_rows, ROWS);
  CU_ASSERT_EQUAL_FATAL(t->cols[0].type, KEEL_COL_NUMERIC);
  size_t bad = 0;
  for (uint64_t i = 0; i < ROWS; i++) {
    for (int c = 0; c < 2; c++) {
      random_decimal(2 * i + 10000000 + (uint64_t)c, buf);
      double ref = strtod(buf, NULL);
      if (isinf(ref))
        ref = 1.0;
      bad += memcmp(&ref, &t->cols[c].num[i], sizeof ref) != 0;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  keel_table_free(t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"basic file: types, missing, quoting, dates", test_basic},
      {"an ABI 1.0 host: read into memory, same table", test_host_of_abi_1_0},
      {"CRLF and gzip give the same table", test_crlf_and_gzip},
      {"delimiters, BOM, header=false", test_delimiters_bom_noheader},
      {"declared types and missing markers", test_declared_types},
      {"inference: nan/inf, subnormal, overflow, all-missing, dates",
       test_inference_rules},
      {"malformed files: clear errors with file/line/row/column",
       test_bad_files},
      {"invalid UTF-8 refused, Latin-1 transcoded", test_invalid_utf8},
      {"tokenizer edge cases", test_tokenizer_edges},
      {"record counts agree with a byte-by-byte reference",
       test_count_records_unquoted},
      {"number and date syntax", test_number_syntax},
      {"3M random decimals parse bit-identical to strtod",
       test_numbers_match_strtod},
      {"plugin numbers bit-identical to strtod",
       test_plugin_numbers_match_strtod},
      {"no line end after the last record", test_no_final_newline},
      {NULL, NULL}};
  return keel_test_run_suite("source_csv", tests);
}
