/* csv: reads an RFC 4180 CSV file (optionally gzip-compressed) into a typed
 * table.
 *
 * Type inference (documented in docs/data.md): a column is NUMERIC if every
 * non-missing cell parses strictly as a decimal number (csv_parse.h; nan
 * and inf literals count and mark the column MAY_NONFINITE), DATE if every
 * non-missing cell is a valid YYYY-MM-DD date, otherwise CATEGORICAL with a
 * dictionary sorted bytewise. TEXT only when declared. A column with no
 * value at all is NUMERIC (all missing). An empty cell is always missing,
 * and so is a cell equal to one of the `missing` markers. Declared types
 * override inference; a cell that does not fit a declared numeric or date
 * column is an error naming file, line, row and column.
 *
 * schema() runs the inference pass (one scan of the file) and reports the
 * exact flags of the data; read() runs the same pass, storing values, and
 * then builds the table, so the two always agree.
 *
 * Parallel reading. The data part of the file is cut into chunks that start
 * at record starts (csv_parse.h: quote parity), each chunk's records are
 * counted, and the chunks are parsed in parallel (OpenMP, as many threads
 * as omp_get_max_threads()) straight into the columns of a table with the
 * exact row count. Each chunk keeps its own inference state; the states
 * merge (the final type depends only on the set of cells). A chunk checks
 * that its parse ended exactly where the next chunk starts, after exactly
 * the predicted records: true for every file the sequential reader accepts.
 * The reported error is the first error of the first chunk that has one:
 * every chunk before it parsed exactly as predicted, so it starts where a
 * sequential pass would be, and its first error is the sequential one. If
 * a chunk's parse disagreed with the prediction without an error (not
 * possible when the file up to there is valid: quote parity then is the
 * tokenizer's state; kept as a guard), a sequential pass from there finds
 * the error. So the table and the error message are the same for any
 * thread count, and the same as one sequential pass gives. Numbers go through a
 * fused scan (field and number in one loop); any record that is not plain
 * numbers and empty cells is re-read by the general tokenizer. */
#include <keel/keel.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <keel/utf8.h>
#include <keel/util.h>

#include "csv_parse.h"

static const char *const delimiter_choices[] = {"comma", "semicolon", "tab",
                                                NULL};
static const char *const encoding_choices[] = {"utf-8", "latin1", NULL};

enum {
  P_PATH,
  P_DELIMITER,
  P_HEADER,
  P_MISSING,
  P_TEXT,
  P_CATEGORICAL,
  P_DATE,
  P_NUMERIC,
  P_ENCODING,
  P_COUNT
};

static const keel_param_decl csv_params[] = {
    [P_PATH] =
        KEEL_P_STRING("path", "", KEEL_PARAM_REQUIRED,
                      "CSV file, relative to the manifest's folder; gzip "
                      "(.gz) is decompressed transparently"),
    [P_DELIMITER] = KEEL_P_ENUM("delimiter", "comma", delimiter_choices,
                                "field separator: comma, semicolon or tab"),
    [P_HEADER] = KEEL_P_BOOL(
        "header", 1, "first record holds the column names (else c1, c2, ...)"),
    [P_MISSING] =
        KEEL_P_STRING_LIST("missing", "NA",
                           "cell values that mean missing, besides the empty "
                           "cell (which always does)"),
    [P_TEXT] = KEEL_P_STRING_LIST("text_columns", "",
                                  "columns read as free text (never inferred)"),
    [P_CATEGORICAL] =
        KEEL_P_STRING_LIST("categorical_columns", "",
                           "columns forced to categorical (dictionary sorted "
                           "bytewise)"),
    [P_DATE] = KEEL_P_STRING_LIST("date_columns", "",
                                  "columns that must hold YYYY-MM-DD dates"),
    [P_NUMERIC] =
        KEEL_P_STRING_LIST("numeric_columns", "",
                           "columns that must hold numbers (a non-number is an "
                           "error naming row and column)"),
    [P_ENCODING] =
        KEEL_P_ENUM("encoding", "utf-8", encoding_choices,
                    "the file's text encoding: utf-8 (invalid UTF-8 in a name "
                    "or a categorical or text cell is an error naming line and "
                    "column) or latin1 (ISO 8859-1, transcoded to UTF-8)"),
};
KEEL_PARAMS_MATCH(csv_params, P_COUNT);

/* Inference state of one column. */
enum { K_NONE = 0, K_NUM, K_DATE, K_STR };

#define CSV_MAX_COLUMNS 1000000u
/* Chunks: about this many per thread (load balance), none smaller than
 * CSV_CHUNK_MIN bytes (small, so tests and the fuzzer cross chunk
 * boundaries), and per-chunk state bounded for very wide files. */
#define CSV_CHUNKS_PER_THREAD 32
#define CSV_CHUNK_MIN 512u
#define CSV_CHUNK_STATE_MAX (1u << 24)

typedef struct csv_col {
  char *name;
  keel_col_type declared; /* 0 = infer */
  int kind;               /* before the data: K_STR if declared text or
                             categorical; after: merged over chunks */
  int nonfinite;
  int any_missing;
  int num_ok;        /* cells may take the fused number path */
  size_t t0_index;   /* its column in the value table, or SIZE_MAX */
  double *num;       /* values (NULL in schema()) */
  uint8_t *miss;     /* missing mask (NULL in schema()) */
  uint8_t *own_miss; /* the mask of a column not in the value table */
  /* strings of categorical and text columns (read() only) */
  const char **sp;
  size_t *sl;
} csv_col;

/* One chunk buf[begin, end) of the data, parsed by one thread. */
typedef struct csv_chunk {
  size_t begin, end;
  size_t line;   /* line number at begin */
  size_t row0;   /* data row index of its first record */
  size_t n_pred; /* records predicted (csvp_count_records) */
  size_t n_nl;   /* line feeds in it */
  int store;     /* write values and masks */
  /* results */
  int rc;       /* KEEL_OK or the first error's code (in err) */
  int mismatch; /* the parse disagreed with the prediction */
  size_t n_rows, stop, stop_line;
  uint8_t *kind, *nonfinite, *any_missing; /* per column */
  keel_error err;
} csv_chunk;

typedef struct csv_ctx {
  const keel_host *host;
  const keel_value *params;
  keel_error *err;
  char *file;      /* the input's name for messages */
  keel_input *in;  /* open while buf may be a view of it */
  const char *buf; /* the whole file */
  char *own_buf;   /* buf when read with input_read (a host before 1.1) */
  size_t len, cap;
  char delim;
  size_t n_cols;
  csv_col *cols;
  size_t n_rows;
  size_t data_pos, data_line; /* where the data starts */
  char *scratch;             /* unescaped fields, at their own offsets in buf */
  uint8_t special[256];      /* bytes that end an unquoted field */
  uint8_t marker_first[256]; /* first bytes of the missing markers */
  const char **markers;      /* the missing markers in the file's encoding */
  char **own_markers;        /* markers transcoded to Latin-1 (latin1 only) */
  size_t *marker_len;
  int latin1; /* encoding = latin1: no checks, names and strings transcoded */
  csv_chunk *chunks;
  size_t n_chunks;
  uint8_t *chunk_state;
  keel_table *t0; /* read(): every non-string column, as NUMERIC */
} csv_ctx;

static void ctx_free(csv_ctx *c)
{
  for (size_t j = 0; c->cols && j < c->n_cols; j++) {
    free(c->cols[j].name);
    free(c->cols[j].own_miss);
    free(c->cols[j].sp);
    free(c->cols[j].sl);
  }
  if (c->t0)
    c->host->table_free(c->t0);
  free(c->cols);
  free(c->own_buf);
  if (c->in)
    c->host->input_close(c->in);
  free(c->file);
  free(c->scratch);
  for (size_t i = 0; c->own_markers && i < c->params[P_MISSING].n; i++)
    free(c->own_markers[i]);
  free(c->own_markers);
  free(c->markers);
  free(c->marker_len);
  free(c->chunks);
  free(c->chunk_state);
}

static char *dup_bytes(const char *p, size_t n)
{
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

/* A NUL-terminated copy of the text p[0, n) in UTF-8: transcoded from
 * Latin-1 under encoding = latin1, else as it is (already checked). */
static char *dup_text(const csv_ctx *c, const char *p, size_t n)
{
  if (!c->latin1)
    return dup_bytes(p, n);
  char *s = n <= (SIZE_MAX - 1) / 2 ? malloc(2 * n + 1) : NULL;
  if (s)
    s[keel_latin1_to_utf8(p, n, s)] = '\0';
  return s;
}

/* The Latin-1 bytes of the UTF-8 text s (a missing marker, matched
 * against the file's bytes), or an empty string, which never matches,
 * when s holds a character Latin-1 lacks. */
static char *utf8_to_latin1(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  char *out = malloc(strlen(s) + 1), *d = out;
  if (!out)
    return NULL;
  for (; *p; p++) {
    if (*p < 0x80) {
      *d++ = (char)*p;
    } else if ((*p == 0xc2 || *p == 0xc3) && (p[1] & 0xc0) == 0x80) {
      *d++ = (char)(((*p & 0x03) << 6) | (p[1] & 0x3f));
      p++;
    } else {
      d = out;
      break;
    }
  }
  *d = '\0';
  return out;
}

/* The whole file in c->buf: the host's view of it (read once per run) where
 * the host has input_view, else read into memory. */
static int load_file(csv_ctx *c)
{
  const keel_host *h = c->host;
  int rc = keel_open_input(h, c->params[P_PATH].s, &c->in, c->err);
  if (rc)
    return rc;
  c->file = strdup(h->input_name(c->in));
  if (!c->file)
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  if (KEEL_HOST_HAS(h, input_view))
    return h->input_view(c->in, &c->buf, &c->len, c->err);
  c->cap = 1u << 16;
  c->own_buf = malloc(c->cap);
  for (;;) {
    if (c->own_buf && c->len == c->cap) {
      char *nb =
          c->cap <= SIZE_MAX / 2 ? realloc(c->own_buf, c->cap * 2) : NULL;
      if (!nb) {
        free(c->own_buf);
        c->own_buf = NULL;
      } else {
        c->own_buf = nb;
        c->cap *= 2;
      }
    }
    if (!c->own_buf)
      return h->fail(c->err, KEEL_ENOMEM, "%s: out of memory reading file",
                     c->file);
    long got =
        h->input_read(c->in, c->own_buf + c->len, c->cap - c->len, c->err);
    if (got < 0)
      return (int)got;
    if (got == 0)
      break;
    c->len += (size_t)got;
  }
  c->buf = c->own_buf;
  return KEEL_OK;
}

static int tok_fail(const csv_ctx *c, keel_error *err, int status,
                    const csvp_where *w)
{
  const char *name = "";
  if (c->cols && w->field >= 1 && w->field <= c->n_cols)
    name = c->cols[w->field - 1].name;
  return c->host->fail(err, KEEL_EDATA, "%s:%zu: field %zu%s%s%s: %s", c->file,
                       w->line, w->field, name[0] ? " ('" : "", name,
                       name[0] ? "')" : "", csvp_strerror(status));
}

/* The content of field f: in the buffer, or unescaped into the scratch
 * buffer at the field's own offset (so threads never share bytes). */
static const char *field_text(const csv_ctx *c, const csvp_field *f,
                              size_t *len)
{
  if (!f->escaped) {
    *len = f->len;
    return f->p;
  }
  char *dst = c->scratch + (f->p - c->buf);
  *len = csvp_unescape(f, dst);
  return dst;
}

static int read_header(csv_ctx *c)
{
  const keel_host *h = c->host;
  csvp_reader r;
  csvp_where w = {0, 0};
  size_t nf = 0, line = 0;
  csvp_init(&r, c->buf, c->len, c->delim);
  size_t start = r.pos; /* after a byte-order mark */
  int st = csvp_next_record(&r, NULL, 0, &nf, &line, &w);
  if (st == CSVP_END)
    return h->fail(c->err, KEEL_EDATA,
                   "%s: the file is empty (no header and "
                   "no data)",
                   c->file);
  if (st < 0)
    return tok_fail(c, c->err, st, &w);
  if (nf > CSV_MAX_COLUMNS)
    return h->fail(c->err, KEEL_EDATA,
                   "%s:%zu: %zu columns, more than the "
                   "%u supported",
                   c->file, line, nf, CSV_MAX_COLUMNS);
  c->n_cols = nf;
  c->cols = calloc(nf, sizeof *c->cols);
  csvp_field *fields = calloc(nf, sizeof *fields);
  if (!c->cols || !fields) {
    free(fields);
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  }
  csvp_init(&r, c->buf, c->len, c->delim);
  st = csvp_next_record(&r, fields, nf, &nf, &line, &w);
  int rc = st != CSVP_OK ? tok_fail(c, c->err, st, &w) : KEEL_OK;
  for (size_t j = 0; !rc && j < c->n_cols; j++) {
    if (c->params[P_HEADER].i) {
      size_t n;
      const char *t = field_text(c, &fields[j], &n);
      if (n == 0) {
        rc = h->fail(c->err, KEEL_EDATA,
                     "%s:%zu: column %zu has an empty "
                     "name in the header",
                     c->file, line, j + 1);
        break;
      }
      size_t bad = c->latin1 ? n : keel_utf8_check(t, n);
      if (bad < n) {
        int shown = n > 40 ? 40 : (int)n;
        rc = h->fail(c->err, KEEL_EDATA,
                     "%s:%zu: column %zu name '%.*s%s' is not valid UTF-8 "
                     "(byte 0x%02x at byte %zu of the name); expected "
                     "UTF-8, or encoding = latin1 for a Latin-1 file",
                     c->file, line, j + 1, shown, t, n > 40 ? "..." : "",
                     (unsigned char)t[bad], bad + 1);
        break;
      }
      c->cols[j].name = dup_text(c, t, n);
    } else {
      char tmp[32];
      snprintf(tmp, sizeof tmp, "c%zu", j + 1);
      c->cols[j].name = strdup(tmp);
    }
    if (!c->cols[j].name) {
      rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
      break;
    }
  }
  free(fields);
  if (!rc && c->n_cols > 1) {
    /* duplicates by sorting: a scan per column is quadratic in width */
    keel_name_pos *e = malloc(c->n_cols * sizeof *e);
    if (!e)
      return h->fail(c->err, KEEL_ENOMEM, "out of memory");
    for (size_t j = 0; j < c->n_cols; j++) {
      e[j].name = c->cols[j].name;
      e[j].pos = j;
    }
    keel_names_sort(e, c->n_cols);
    size_t k = 0, j = 0;
    if (keel_names_first_dup(e, c->n_cols, &k, &j))
      rc = h->fail(c->err, KEEL_EDATA,
                   "%s:%zu: duplicate column name "
                   "'%s' (columns %zu and %zu)",
                   c->file, line, c->cols[j].name, k + 1, j + 1);
    free(e);
  }
  if (rc)
    return rc;
  if (c->params[P_HEADER].i) {
    c->data_pos = r.pos;
    c->data_line = r.line;
  } else {
    c->data_pos = start;
    c->data_line = 1;
  }
  return KEEL_OK;
}

static int apply_declared(csv_ctx *c)
{
  static const struct {
    int param;
    keel_col_type type;
  } lists[] = {{P_TEXT, KEEL_COL_TEXT},
               {P_CATEGORICAL, KEEL_COL_CATEGORICAL},
               {P_DATE, KEEL_COL_DATE},
               {P_NUMERIC, KEEL_COL_NUMERIC}};
  const keel_host *h = c->host;
  /* the header's names sorted once: a scan per listed name is quadratic */
  keel_name_pos *sorted = malloc((c->n_cols ? c->n_cols : 1) * sizeof *sorted);
  if (!sorted)
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  for (size_t j = 0; j < c->n_cols; j++) {
    sorted[j].name = c->cols[j].name;
    sorted[j].pos = j;
  }
  keel_names_sort(sorted, c->n_cols);
  for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
    const keel_value *v = &c->params[lists[l].param];
    for (size_t i = 0; i < v->n; i++) {
      long found = keel_names_find(sorted, c->n_cols, v->strings[i]);
      if (found < 0) {
        free(sorted);
        return h->fail(c->err, KEEL_EINVAL,
                       "%s names column '%s', "
                       "but %s has no such column",
                       csv_params[lists[l].param].name, v->strings[i], c->file);
      }
      size_t j = (size_t)found;
      if (c->cols[j].declared && c->cols[j].declared != lists[l].type) {
        free(sorted);
        return h->fail(c->err, KEEL_EINVAL,
                       "column '%s' is declared "
                       "with two types (check the *_columns lists)",
                       v->strings[i]);
      }
      c->cols[j].declared = lists[l].type;
      if (lists[l].type == KEEL_COL_TEXT ||
          lists[l].type == KEEL_COL_CATEGORICAL)
        c->cols[j].kind = K_STR;
    }
  }
  free(sorted);
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    col->num_ok = col->declared == KEEL_COL_NUMERIC || !col->declared;
    col->t0_index = SIZE_MAX;
  }
  return KEEL_OK;
}

/* The byte tables of the hot loops. */
static int setup_tables(csv_ctx *c)
{
  const keel_value *m = &c->params[P_MISSING];
  c->special[(unsigned char)c->delim] = 1;
  c->special['"'] = 1;
  c->special['\n'] = 1;
  c->special['\r'] = 1;
  c->special[0] = 1;
  c->marker_len = calloc(m->n ? m->n : 1, sizeof *c->marker_len);
  c->markers = calloc(m->n ? m->n : 1, sizeof *c->markers);
  if (!c->marker_len || !c->markers)
    return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
  if (c->latin1 &&
      !(c->own_markers = calloc(m->n ? m->n : 1, sizeof *c->own_markers)))
    return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < m->n; i++) {
    c->markers[i] = m->strings[i];
    if (c->latin1) {
      if (!(c->own_markers[i] = utf8_to_latin1(m->strings[i])))
        return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
      c->markers[i] = c->own_markers[i];
    }
    c->marker_len[i] = strlen(c->markers[i]);
    if (c->marker_len[i])
      c->marker_first[(unsigned char)c->markers[i][0]] = 1;
  }
  c->scratch = malloc(c->len + 1); /* touched only where fields are escaped */
  if (!c->scratch)
    return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

static int is_missing(const csv_ctx *c, const char *t, size_t n)
{
  if (n == 0)
    return 1;
  if (!c->marker_first[(unsigned char)t[0]])
    return 0;
  for (size_t i = 0; i < c->params[P_MISSING].n; i++)
    if (c->marker_len[i] == n && memcmp(c->markers[i], t, n) == 0)
      return 1;
  return 0;
}

static int cell_fail(const csv_ctx *c, keel_error *err, size_t line, size_t row,
                     size_t j, const char *t, size_t n, const char *what)
{
  int shown = n > 40 ? 40 : (int)n;
  return c->host->fail(err, KEEL_EDATA,
                       "%s:%zu: data row %zu, column "
                       "'%s' (%zu): '%.*s%s' is %s",
                       c->file, line, row + 1, c->cols[j].name, j + 1, shown, t,
                       n > 40 ? "..." : "", what);
}

/* A cell that stays a string (of a categorical or text column): valid
 * UTF-8 unless the file is declared Latin-1. Numbers and dates are ASCII,
 * so checking here covers every string the table will hold; the check
 * reads only cells that are not numbers, and ASCII eight bytes a time. */
static int str_cell(const csv_ctx *c, csv_chunk *ch, size_t line, size_t row,
                    size_t j, const char *t, size_t n)
{
  ch->kind[j] = K_STR;
  size_t bad = c->latin1 ? n : keel_utf8_check(t, n);
  if (bad == n)
    return KEEL_OK;
  char what[160];
  snprintf(what, sizeof what,
           "not valid UTF-8 (byte 0x%02x at byte %zu of the value); "
           "expected UTF-8, or encoding = latin1 for a Latin-1 file",
           (unsigned char)t[bad], bad + 1);
  return cell_fail(c, &ch->err, line, row, j, t, n, what);
}

/* One cell, general case: missing mask, inference, value. */
static int cell_generic(const csv_ctx *c, csv_chunk *ch, size_t line,
                        size_t row, size_t j, const char *t, size_t n)
{
  const csv_col *col = &c->cols[j];
  uint8_t *kind = &ch->kind[j];
  if (is_missing(c, t, n)) {
    if (ch->store) {
      col->miss[row] = 1;
      if (col->num)
        col->num[row] = 0.0;
    }
    ch->any_missing[j] = 1;
    return KEEL_OK;
  }
  if (*kind == K_STR)
    return str_cell(c, ch, line, row, j, t, n);
  double v;
  if (col->declared != KEEL_COL_DATE && *kind <= K_NUM) {
    int st = csvp_parse_double(t, n, &v);
    if (st >= 0) {
      *kind = K_NUM;
      if (ch->store)
        col->num[row] = v;
      ch->nonfinite[j] |= st == CSVP_NUM_NONFINITE;
      return KEEL_OK;
    }
    if (col->declared == KEEL_COL_NUMERIC)
      return cell_fail(c, &ch->err, line, row, j, t, n,
                       st == CSVP_NUM_OVERFLOW
                           ? "too large for a double (overflow)"
                           : "not a number (column declared numeric)");
    if (*kind == K_NUM)
      return str_cell(c, ch, line, row, j, t, n);
  }
  if (csvp_parse_date(t, n, &v) == 0) {
    *kind = K_DATE;
    if (ch->store)
      col->num[row] = v;
    return KEEL_OK;
  }
  if (col->declared == KEEL_COL_DATE)
    return cell_fail(c, &ch->err, line, row, j, t, n,
                     "not a valid YYYY-MM-DD date (column declared date)");
  return str_cell(c, ch, line, row, j, t, n);
}

/* Where the cell of column j that ends at q is followed by what it must
 * be: the next cell's start (after the delimiter), or for the last column
 * the next record's (after LF or CRLF, or the end of the data); NULL
 * when it is followed by anything else. */
static inline const char *cell_after(const csv_ctx *c, const char *q,
                                     const char *e, size_t j, size_t last)
{
  if (j < last)
    return q < e && *q == c->delim ? q + 1 : NULL;
  if (q == e || *q == '\n')
    return q + (q < e);
  if (*q == '\r' && q + 1 < e && q[1] == '\n')
    return q + 2;
  return NULL;
}

/* The record at *ppos by the fused path: unquoted fields, numbers and
 * empty cells in numeric candidates, the general cell rules elsewhere.
 * Returns 1 and moves *ppos past the record, or 0 when the record needs
 * the general path (quotes, a cell that is not a plain number, a missing
 * marker, a width or line-end problem, any error). Cells it has set
 * before giving up are set again identically by the general path; a
 * numeric cell is set only once it is known to end where it should, so
 * the general path finds the column's inference state as it was.
 * `store` is a constant at each call (fast_record), so each copy keeps
 * only its own stores. */
static inline __attribute__((always_inline)) int
fast_record_body(const csv_ctx *c, csv_chunk *ch, size_t line, size_t row,
                 size_t *ppos, const int store)
{
  const char *b = c->buf, *e = b + c->len, *p = b + *ppos;
  const size_t last = c->n_cols - 1;
  for (size_t j = 0;; j++) {
    const csv_col *col = &c->cols[j];
    const char *q, *next;
    if (col->num_ok && ch->kind[j] <= K_NUM) {
      double v;
      if (csvp_scan_number_fast(p, e, &v, &q) == CSVP_NUM_OK) {
        if (!(next = cell_after(c, q, e, j, last)))
          return 0;
        if (c->marker_first[(unsigned char)*p] &&
            is_missing(c, p, (size_t)(q - p)))
          return 0;
        ch->kind[j] = K_NUM;
        if (store)
          col->num[row] = v;
      } else {
        /* no number: an empty cell (missing) when it ends right here;
         * anything else, a quoted cell too, takes the general path */
        if (!(next = cell_after(c, p, e, j, last)))
          return 0;
        if (store) {
          col->miss[row] = 1;
          col->num[row] = 0.0;
        }
        ch->any_missing[j] = 1;
      }
    } else {
      if (p < e && *p == '"')
        return 0;
      q = p;
      while (q < e && !c->special[(unsigned char)*q])
        q++;
      if (q < e && (*q == '"' || *q == '\0'))
        return 0;
      if (cell_generic(c, ch, line, row, j, p, (size_t)(q - p)) != KEEL_OK)
        return 0;
      if (!(next = cell_after(c, q, e, j, last)))
        return 0;
    }
    if (j == last) {
      *ppos = (size_t)(next - b);
      return 1;
    }
    p = next;
  }
}

static int fast_record(const csv_ctx *c, csv_chunk *ch, size_t line, size_t row,
                       size_t *ppos)
{
  return ch->store ? fast_record_body(c, ch, line, row, ppos, 1)
                   : fast_record_body(c, ch, line, row, ppos, 0);
}

/* The record at *ppos by the general tokenizer, with the sequential
 * reader's order of checks: tokenizer errors, then the width, then the
 * cells left to right. */
static int slow_record(const csv_ctx *c, csv_chunk *ch, csvp_field *fields,
                       size_t row, size_t *ppos, size_t *pline)
{
  const keel_host *h = c->host;
  csvp_reader r;
  csvp_init(&r, c->buf, c->len, c->delim);
  r.pos = *ppos;
  r.line = *pline;
  size_t nf = 0, line = 0;
  csvp_where w = {0, 0};
  int st = csvp_next_record(&r, fields, c->n_cols, &nf, &line, &w);
  if (st == CSVP_END) /* cannot happen: the caller is at a record */
    return h->fail(&ch->err, KEEL_EDATA, "%s:%zu: record expected", c->file,
                   *pline);
  if (st < 0)
    return tok_fail(c, &ch->err, st, &w);
  if (nf != c->n_cols)
    return h->fail(&ch->err, KEEL_EDATA,
                   "%s:%zu: data row %zu has %zu "
                   "field%s, expected %zu (ragged row)",
                   c->file, line, row + 1, nf, nf == 1 ? "" : "s", c->n_cols);
  for (size_t j = 0; j < c->n_cols; j++) {
    size_t n;
    const char *t = field_text(c, &fields[j], &n);
    int rc = cell_generic(c, ch, line, row, j, t, n);
    if (rc)
      return rc;
  }
  *ppos = r.pos;
  *pline = r.line;
  return KEEL_OK;
}

/* Parses one chunk; results in ch (never touches another chunk). */
static void parse_chunk(const csv_ctx *c, csv_chunk *ch, csvp_field *fields)
{
  const char *b = c->buf;
  size_t pos = ch->begin, line = ch->line, row = ch->row0, end = ch->end;
  ch->rc = KEEL_OK;
  ch->mismatch = 0;
  for (;;) {
    while (pos < end) { /* empty lines */
      if (b[pos] == '\n') {
        pos++;
      } else if (b[pos] == '\r' && pos + 1 < c->len && b[pos + 1] == '\n') {
        pos += 2;
      } else {
        break;
      }
      line++;
    }
    if (pos >= end)
      break;
    if (row - ch->row0 >= ch->n_pred) {
      ch->mismatch = 1;
      break;
    }
    size_t next = pos;
    if (fast_record(c, ch, line, row, &next)) {
      /* a line more unless the record ran to the end of the data */
      line += b[next - 1] == '\n';
      pos = next;
    } else {
      int rc = slow_record(c, ch, fields, row, &pos, &line);
      if (rc) {
        ch->rc = rc;
        break;
      }
    }
    row++;
  }
  ch->n_rows = row - ch->row0;
  ch->stop = pos;
  ch->stop_line = line;
  if (!ch->rc &&
      (pos != end || ch->n_rows != ch->n_pred || line != ch->line + ch->n_nl))
    ch->mismatch = 1;
}

static int max_threads(void)
{
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/* Moves the cut points c->chunks[i].begin (i >= 1) to record starts,
 * given the quote parity before each (odd[i]; NULL: all even), and sets
 * every chunk's end. */
static void place_cuts(csv_ctx *c, const size_t *odd)
{
  const long nk = (long)c->n_chunks;
#pragma omp parallel for schedule(static)
  for (long i = 1; i < nk; i++)
    c->chunks[i].begin = csvp_record_start_after(
        c->buf, c->len, c->chunks[i].begin, odd ? (int)odd[i] : 0);
  for (long i = 1; i < nk; i++)
    if (c->chunks[i].begin < c->chunks[i - 1].begin)
      c->chunks[i].begin = c->chunks[i - 1].begin;
  for (long i = 0; i < nk; i++)
    c->chunks[i].end = i + 1 < nk ? c->chunks[i + 1].begin : c->len;
}

static void raw_cuts(csv_ctx *c)
{
  size_t body = c->len - c->data_pos;
  for (size_t i = 0; i < c->n_chunks; i++)
    c->chunks[i].begin = c->data_pos + body / c->n_chunks * i;
}

/* The exact route for data with quotes: the quote parity before each raw
 * cut, cuts at the line feeds that end records, then the records. */
static int plan_quoted(csv_ctx *c)
{
  const long nk = (long)c->n_chunks;
  size_t *quotes = calloc(c->n_chunks, sizeof *quotes);
  if (!quotes)
    return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
  raw_cuts(c);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < nk; i++) {
    size_t e = i + 1 < nk ? c->chunks[i + 1].begin : c->len;
    quotes[i] = csvp_count_quotes(c->buf, c->chunks[i].begin, e);
  }
  int odd = 0;
  for (long i = 0; i < nk; i++) {
    size_t q = quotes[i];
    quotes[i] = (size_t)odd; /* now: the parity before the cut */
    odd ^= (int)(q & 1);
  }
  place_cuts(c, quotes);
  free(quotes);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < nk; i++)
    csvp_count_records(c->buf, c->len, c->chunks[i].begin, c->chunks[i].end,
                       &c->chunks[i].n_pred, &c->chunks[i].n_nl);
  return KEEL_OK;
}

/* Cuts the data into chunks at record starts and counts their records
 * and lines; c->n_rows is the total (exact for every file the reader
 * accepts). Numeric data rarely holds a quote, so the cuts first assume
 * none (every line feed then ends a record) and one pass both counts the
 * records and checks that assumption; a quote anywhere sends the whole
 * plan down the exact route. */
static int plan_chunks(csv_ctx *c)
{
  const keel_host *h = c->host;
  size_t body = c->len - c->data_pos;
  size_t k = (size_t)max_threads() * CSV_CHUNKS_PER_THREAD;
  if (k > body / CSV_CHUNK_MIN)
    k = body / CSV_CHUNK_MIN;
  if (k > CSV_CHUNK_STATE_MAX / c->n_cols)
    k = CSV_CHUNK_STATE_MAX / c->n_cols;
  if (k < 1)
    k = 1;
  c->n_chunks = k;
  c->chunks = calloc(k, sizeof *c->chunks);
  c->chunk_state = malloc(k * 3 * c->n_cols);
  if (!c->chunks || !c->chunk_state)
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  raw_cuts(c);
  place_cuts(c, NULL);
  const long nk = (long)k;
  int quoted = 0;
#pragma omp parallel for schedule(static) reduction(| : quoted)
  for (long i = 0; i < nk; i++)
    quoted |= csvp_count_records_unquoted(
                  c->buf, c->len, c->chunks[i].begin, c->chunks[i].end,
                  &c->chunks[i].n_pred, &c->chunks[i].n_nl) != 0;
  if (quoted) {
    int rc = plan_quoted(c);
    if (rc)
      return rc;
  }
  size_t row = 0, line = c->data_line;
  for (size_t i = 0; i < k; i++) {
    csv_chunk *ch = &c->chunks[i];
    ch->row0 = row;
    ch->line = line;
    row += ch->n_pred;
    line += ch->n_nl;
    ch->kind = c->chunk_state + i * 3 * c->n_cols;
    ch->nonfinite = ch->kind + c->n_cols;
    ch->any_missing = ch->nonfinite + c->n_cols;
    for (size_t j = 0; j < c->n_cols; j++) {
      ch->kind[j] = (uint8_t)c->cols[j].kind;
      ch->nonfinite[j] = 0;
      ch->any_missing[j] = 0;
    }
  }
  c->n_rows = row;
  return KEEL_OK;
}

/* read(): the value table, one NUMERIC column per column that is not
 * declared text or categorical, with the exact row count; other columns
 * get their own missing mask. */
static int alloc_values(csv_ctx *c)
{
  const keel_host *h = c->host;
  size_t n = c->n_rows ? c->n_rows : 1;
  if (!(c->t0 = h->table_new(c->n_rows)))
    return h->fail(c->err, KEEL_ENOMEM, "%s: out of memory (%zu rows)", c->file,
                   c->n_rows);
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    if (col->kind == K_STR) {
      if (!(col->own_miss = calloc(n, 1)))
        return h->fail(c->err, KEEL_ENOMEM, "%s: out of memory (%zu rows)",
                       c->file, c->n_rows);
      col->miss = col->own_miss;
      continue;
    }
    col->t0_index = c->t0->n_cols;
    if (!h->table_add(c->t0, col->name, KEEL_COL_NUMERIC, NULL, 0, c->err))
      return c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
  }
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    if (col->t0_index != SIZE_MAX) {
      col->num = c->t0->cols[col->t0_index].num;
      col->miss = c->t0->cols[col->t0_index].missing;
    }
  }
  return KEEL_OK;
}

/* After a chunk's parse ran past its prediction (a malformed file): the
 * sequential reader's first error from there on. */
static int continue_serial(csv_ctx *c, const csv_chunk *from)
{
  const keel_host *h = c->host;
  csv_chunk ch;
  memset(&ch, 0, sizeof ch);
  ch.begin = from->stop;
  ch.end = c->len;
  ch.line = from->stop_line;
  ch.row0 = from->row0 + from->n_rows;
  ch.n_pred = SIZE_MAX;
  ch.store = 0;
  uint8_t *state = malloc(3 * c->n_cols);
  csvp_field *fields = malloc(c->n_cols * sizeof *fields);
  if (!state || !fields) {
    free(state);
    free(fields);
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  }
  ch.kind = state;
  ch.nonfinite = state + c->n_cols;
  ch.any_missing = state + 2 * c->n_cols;
  for (size_t j = 0; j < c->n_cols; j++) {
    ch.kind[j] = (uint8_t)c->cols[j].kind;
    ch.nonfinite[j] = ch.any_missing[j] = 0;
  }
  parse_chunk(c, &ch, fields);
  free(state);
  free(fields);
  if (ch.rc) {
    *c->err = ch.err;
    return ch.rc;
  }
  /* a file whose record starts the quote parity mispredicts always has a
   * tokenizer error; reaching here would be a bug in csv_parse.c */
  return h->fail(c->err, KEEL_EDATA,
                 "%s: internal error: the records of "
                 "the parallel reader disagree with the file (please "
                 "report)",
                 c->file);
}

static int merge_kind(int a, int b)
{
  if (a == b || b == K_NONE)
    return a;
  if (a == K_NONE)
    return b;
  return K_STR;
}

/* Pass 1 over all chunks in parallel, then the first error in file order
 * and the merged inference state. */
static int infer_pass(csv_ctx *c, int store)
{
  const keel_host *h = c->host;
  const long nk = (long)c->n_chunks;
  int oom = 0;
  for (size_t i = 0; i < c->n_chunks; i++)
    c->chunks[i].store = store;
#pragma omp parallel reduction(| : oom)
  {
    csvp_field *fields = malloc(c->n_cols * sizeof *fields);
    if (!fields)
      oom = 1;
#pragma omp for schedule(dynamic, 1)
    for (long i = 0; i < nk; i++)
      if (fields)
        parse_chunk(c, &c->chunks[i], fields);
    free(fields);
  }
  if (oom)
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < c->n_chunks; i++) {
    csv_chunk *ch = &c->chunks[i];
    if (ch->rc) {
      *c->err = ch->err;
      return ch->rc;
    }
    if (ch->mismatch)
      return continue_serial(c, ch);
  }
  if (c->n_rows == 0)
    return h->fail(c->err, KEEL_EDATA, "%s: has a header but no data rows",
                   c->file);
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    for (size_t i = 0; i < c->n_chunks; i++) {
      const csv_chunk *ch = &c->chunks[i];
      col->kind = merge_kind(col->kind, ch->kind[j]);
      col->nonfinite |= ch->nonfinite[j];
      col->any_missing |= ch->any_missing[j];
    }
  }
  return KEEL_OK;
}

static keel_col_type final_type(const csv_col *col)
{
  if (col->declared)
    return col->declared;
  switch (col->kind) {
  case K_DATE: return KEEL_COL_DATE;
  case K_STR: return KEEL_COL_CATEGORICAL;
  default: return KEEL_COL_NUMERIC;
  }
}

static uint32_t final_flags(const csv_col *col)
{
  uint32_t f = 0;
  if (col->any_missing)
    f |= KEEL_COL_MAY_MISS;
  if (col->nonfinite && final_type(col) == KEEL_COL_NUMERIC)
    f |= KEEL_COL_MAY_NONFINITE;
  return f;
}

static int scan(csv_ctx *c, const keel_host *host, const keel_value *params,
                keel_error *err, int store)
{
  memset(c, 0, sizeof *c);
  c->host = host;
  c->params = params;
  c->err = err;
  c->delim = params[P_DELIMITER].i == 1   ? ';'
             : params[P_DELIMITER].i == 2 ? '\t'
                                          : ',';
  c->latin1 = params[P_ENCODING].i == 1;
  int rc = load_file(c);
  if (!rc)
    rc = setup_tables(c);
  if (!rc)
    rc = read_header(c);
  if (!rc)
    rc = apply_declared(c);
  if (!rc)
    rc = plan_chunks(c);
  if (!rc && store)
    rc = alloc_values(c);
  if (!rc)
    rc = infer_pass(c, store);
  return rc;
}

static int csv_schema(const keel_host *host, const keel_value *params,
                      keel_schema *out, keel_error *err)
{
  csv_ctx c;
  int rc = scan(&c, host, params, err, 0);
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    rc = host->schema_add(out, c.cols[j].name, final_type(&c.cols[j]),
                          final_flags(&c.cols[j]), err);
  ctx_free(&c);
  return rc;
}

/* Pass 2 of one chunk: the cell strings of categorical and text columns;
 * escaped fields are unescaped into the scratch buffer at their offset. */
static int strings_chunk(const csv_ctx *c, csv_chunk *ch, csvp_field *fields)
{
  csvp_reader r;
  csvp_init(&r, c->buf, c->len, c->delim);
  r.pos = ch->begin;
  r.line = ch->line;
  for (size_t row = ch->row0; row < ch->row0 + ch->n_rows; row++) {
    size_t nf, line;
    csvp_where w = {0, 0};
    int st = csvp_next_record(&r, fields, c->n_cols, &nf, &line, &w);
    if (st != CSVP_OK || nf != c->n_cols)
      return c->host->fail(&ch->err, KEEL_EDATA, "%s: changed while reading",
                           c->file);
    for (size_t j = 0; j < c->n_cols; j++) {
      const csv_col *col = &c->cols[j];
      if (!col->sp || col->miss[row])
        continue;
      col->sp[row] = field_text(c, &fields[j], &col->sl[row]);
    }
  }
  return KEEL_OK;
}

static int string_pass(csv_ctx *c)
{
  const keel_host *h = c->host;
  size_t n_str = 0;
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    if (final_type(col) != KEEL_COL_CATEGORICAL &&
        final_type(col) != KEEL_COL_TEXT)
      continue;
    n_str++;
    col->sp = calloc(c->n_rows, sizeof *col->sp);
    col->sl = calloc(c->n_rows, sizeof *col->sl);
    if (!col->sp || !col->sl)
      return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  }
  if (n_str == 0)
    return KEEL_OK;
  const long nk = (long)c->n_chunks;
  int oom = 0;
#pragma omp parallel reduction(| : oom)
  {
    csvp_field *fields = malloc(c->n_cols * sizeof *fields);
    if (!fields)
      oom = 1;
#pragma omp for schedule(dynamic, 1)
    for (long i = 0; i < nk; i++)
      c->chunks[i].rc =
          fields ? strings_chunk(c, &c->chunks[i], fields) : KEEL_ENOMEM;
    free(fields);
  }
  if (oom)
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < c->n_chunks; i++)
    if (c->chunks[i].rc) {
      *c->err = c->chunks[i].err;
      return c->chunks[i].rc;
    }
  return KEEL_OK;
}

typedef struct str_ref {
  const char *p;
  size_t n;
  size_t id; /* provisional id */
} str_ref;

static int str_cmp(const void *a, const void *b)
{
  const str_ref *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = memcmp(x->p, y->p, n);
  if (c)
    return c;
  return (x->n > y->n) - (x->n < y->n);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* Builds column j of t as categorical: distinct values, sorted bytewise. */
static int add_categorical(csv_ctx *c, keel_table *t, size_t j)
{
  const keel_host *h = c->host;
  csv_col *col = &c->cols[j];
  size_t n = c->n_rows, cap = 16, n_uniq = 0;
  while (cap < 2 * n)
    cap *= 2;
  size_t *slots = malloc(cap * sizeof *slots); /* provisional id + 1 */
  int32_t *prov = malloc((n ? n : 1) * sizeof *prov);
  str_ref *uniq = malloc((n ? n : 1) * sizeof *uniq);
  int32_t *remap = NULL;
  char **dict = NULL;
  int rc = KEEL_OK;
  if (!slots || !prov || !uniq) {
    rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  memset(slots, 0, cap * sizeof *slots);
  for (size_t r = 0; r < n; r++) {
    prov[r] = 0;
    if (col->miss[r])
      continue;
    const char *p = col->sp[r];
    size_t len = col->sl[r];
    size_t s = (size_t)hash_bytes(p, len) & (cap - 1);
    for (;;) {
      if (slots[s] == 0) {
        uniq[n_uniq].p = p;
        uniq[n_uniq].n = len;
        uniq[n_uniq].id = n_uniq;
        slots[s] = ++n_uniq;
        prov[r] = (int32_t)(n_uniq - 1);
        break;
      }
      const str_ref *u = &uniq[slots[s] - 1];
      if (u->n == len && memcmp(u->p, p, len) == 0) {
        prov[r] = (int32_t)(slots[s] - 1);
        break;
      }
      s = (s + 1) & (cap - 1);
    }
  }
  qsort(uniq, n_uniq, sizeof *uniq, str_cmp);
  remap = malloc((n_uniq ? n_uniq : 1) * sizeof *remap);
  dict = calloc(n_uniq ? n_uniq : 1, sizeof *dict);
  if (!remap || !dict) {
    rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < n_uniq; k++) {
    remap[uniq[k].id] = (int32_t)k;
    /* Latin-1 bytes and their UTF-8 sort alike (code point order) */
    if (!(dict[k] = dup_text(c, uniq[k].p, uniq[k].n))) {
      rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
      goto out;
    }
  }
  keel_column *kc = h->table_add(t, col->name, KEEL_COL_CATEGORICAL,
                                 (const char *const *)dict, n_uniq, c->err);
  if (!kc) {
    rc = KEEL_ENOMEM;
    goto out;
  }
  for (size_t r = 0; r < n; r++) {
    kc->missing[r] = col->miss[r];
    kc->code[r] = col->miss[r] ? 0 : remap[prov[r]];
  }
out:
  if (dict)
    for (size_t k = 0; k < n_uniq; k++)
      free(dict[k]);
  free(dict);
  free(remap);
  free(uniq);
  free(prov);
  free(slots);
  return rc;
}

static int add_column(csv_ctx *c, keel_table *t, size_t j)
{
  const keel_host *h = c->host;
  csv_col *col = &c->cols[j];
  keel_col_type type = final_type(col);
  if (type == KEEL_COL_CATEGORICAL)
    return add_categorical(c, t, j);
  if (type == KEEL_COL_NUMERIC) {
    if (!h->table_copy_column(t, &c->t0->cols[col->t0_index], c->err))
      return c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
    return KEEL_OK;
  }
  keel_column *kc = h->table_add(t, col->name, type, NULL, 0, c->err);
  if (!kc)
    return c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
  memcpy(kc->missing, col->miss, c->n_rows);
  if (type == KEEL_COL_TEXT) {
    int rc = KEEL_OK;
    for (size_t r = 0; !rc && r < c->n_rows; r++) {
      if (col->miss[r])
        continue;
      if (!c->latin1) {
        rc = h->text_set(t, t->n_cols - 1, r, col->sp[r], col->sl[r], c->err);
        continue;
      }
      char *u = dup_text(c, col->sp[r], col->sl[r]);
      rc = u ? h->text_set(t, t->n_cols - 1, r, u, strlen(u), c->err)
             : h->fail(c->err, KEEL_ENOMEM, "out of memory");
      free(u);
    }
    return rc;
  }
  memcpy(kc->num, col->num, c->n_rows * sizeof *kc->num); /* DATE */
  return KEEL_OK;
}

static int csv_read(const keel_host *host, const keel_value *params,
                    keel_table **out, keel_error *err)
{
  csv_ctx c;
  keel_table *t = NULL;
  *out = NULL;
  int rc = scan(&c, host, params, err, 1);
  int all_numeric = 1;
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    all_numeric &= final_type(&c.cols[j]) == KEEL_COL_NUMERIC;
  if (!rc && all_numeric) {
    /* the value table is the result: no copy */
    *out = c.t0;
    c.t0 = NULL;
    ctx_free(&c);
    return KEEL_OK;
  }
  if (!rc)
    rc = string_pass(&c);
  if (!rc && !(t = host->table_new(c.n_rows)))
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    rc = add_column(&c, t, j);
  if (rc) {
    if (t)
      host->table_free(t);
  } else {
    *out = t;
  }
  ctx_free(&c);
  return rc;
}

static const keel_source_api csv_api = {
    KEEL_SOURCE_API_HEADER,
    .schema = csv_schema,
    .read = csv_read,
};

/* `keel plugin-test` reads this sample (keel/plugin_test.h): every column
 * type, a quoted field, missing cells. */
static const char csv_sample[] = "x,colour,note,day\n"
                                 "1.5,red,\"a, b\",2024-01-02\n"
                                 "NA,blue,c,2024-02-03\n"
                                 "-2,red,,2024-03-04\n"
                                 "3.25,green,d,\n";
static const keel_test_file csv_sample_file = {"sample.csv", csv_sample,
                                               sizeof csv_sample - 1};
static const keel_test_fixture csv_fixtures[] = {
    {.name = "sample.csv",
     .params =
         (const char *const[]){"path=sample.csv", "categorical_columns=colour",
                               "text_columns=note", NULL},
     .files = &csv_sample_file,
     .n_files = 1},
};
static const keel_plugin_test_ext csv_test_ext = {
    .struct_size = sizeof(keel_plugin_test_ext),
    .fixtures = csv_fixtures,
    .n_fixtures = KEEL_COUNT(csv_fixtures),
};

static const void *csv_extension(const char *uri)
{
  return strcmp(uri, KEEL_EXT_PLUGIN_TEST) == 0 ? &csv_test_ext : NULL;
}

static const keel_plugin csv_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "csv",
    .version = "1.3.0",
    .summary = "CSV file (RFC 4180, optional gzip) with typed columns",
    .license = "MIT",
    .params = csv_params,
    .n_params = KEEL_COUNT(csv_params),
    .api = &csv_api,
    .extension = csv_extension,
};

KEEL_PLUGIN_DEFINE(csv_plugin)
