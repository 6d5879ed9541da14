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
 * exact flags of the data; read() runs the same pass and then builds the
 * table, so the two always agree. */
#include <keel/keel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_parse.h"

static const char *const delimiter_choices[] = {"comma", "semicolon", "tab",
                                                NULL};

enum {
  P_PATH,
  P_DELIMITER,
  P_HEADER,
  P_MISSING,
  P_TEXT,
  P_CATEGORICAL,
  P_DATE,
  P_NUMERIC,
  P_COUNT
};

static const keel_param_decl csv_params[P_COUNT] = {
    KEEL_P_STRING("path", "", KEEL_PARAM_REQUIRED,
                  "CSV file, relative to the manifest's folder; gzip "
                  "(.gz) is decompressed transparently"),
    KEEL_P_ENUM("delimiter", "comma", delimiter_choices,
                "field separator: comma, semicolon or tab"),
    KEEL_P_BOOL("header", 1,
                "first record holds the column names (else c1, c2, ...)"),
    KEEL_P_STRING_LIST("missing", "NA",
                       "cell values that mean missing, besides the empty "
                       "cell (which always does)"),
    KEEL_P_STRING_LIST("text_columns", "",
                       "columns read as free text (never inferred)"),
    KEEL_P_STRING_LIST("categorical_columns", "",
                       "columns forced to categorical (dictionary sorted "
                       "bytewise)"),
    KEEL_P_STRING_LIST("date_columns", "",
                       "columns that must hold YYYY-MM-DD dates"),
    KEEL_P_STRING_LIST("numeric_columns", "",
                       "columns that must hold numbers (a non-number is an "
                       "error naming row and column)"),
};

/* Inference state of one column. */
enum { K_NONE = 0, K_NUM, K_DATE, K_STR };

#define CSV_MAX_COLUMNS 1000000u

typedef struct csv_col {
  char *name;
  keel_col_type declared; /* 0 = infer */
  int kind;
  int nonfinite;
  int any_missing;
  double *num;   /* values of a K_NUM / K_DATE column */
  uint8_t *miss;
  /* pass 2 (strings) */
  const char **sp;
  size_t *sl;
} csv_col;

typedef struct csv_ctx {
  const keel_host *host;
  const keel_value *params;
  keel_error *err;
  char *file; /* the input's name for messages */
  char *buf;
  size_t len;
  char delim;
  size_t n_cols;
  csv_col *cols;
  csvp_field *fields;
  size_t n_rows, cap_rows;
  size_t data_pos, data_line; /* reader state where the data starts */
  char *scratch;              /* unescape buffer, len bytes, lazily */
  char *arena;                /* pass 2 unescaped copies */
  size_t arena_used;
} csv_ctx;

static void ctx_free(csv_ctx *c)
{
  for (size_t j = 0; c->cols && j < c->n_cols; j++) {
    free(c->cols[j].name);
    free(c->cols[j].num);
    free(c->cols[j].miss);
    free(c->cols[j].sp);
    free(c->cols[j].sl);
  }
  free(c->cols);
  free(c->fields);
  free(c->buf);
  free(c->file);
  free(c->scratch);
  free(c->arena);
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

static int load_file(csv_ctx *c)
{
  const keel_host *h = c->host;
  keel_input *in = NULL;
  int rc = h->input_open(h->ctx, c->params[P_PATH].s, &in, c->err);
  if (rc)
    return rc;
  c->file = strdup(h->input_name(in));
  size_t cap = 1u << 16;
  c->buf = malloc(cap);
  if (!c->file || !c->buf) {
    h->input_close(in);
    return h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
  }
  for (;;) {
    if (c->len == cap) {
      char *nb = realloc(c->buf, cap * 2);
      if (!nb) {
        h->input_close(in);
        return h->fail(c->err, KEEL_ENOMEM, "%s: out of memory reading file",
                       c->file);
      }
      c->buf = nb;
      cap *= 2;
    }
    long got = h->input_read(in, c->buf + c->len, cap - c->len, c->err);
    if (got < 0) {
      h->input_close(in);
      return (int)got;
    }
    if (got == 0)
      break;
    c->len += (size_t)got;
  }
  h->input_close(in);
  return KEEL_OK;
}

static int tok_fail(csv_ctx *c, int status, const csvp_where *w)
{
  const char *name = "";
  if (c->cols && w->field >= 1 && w->field <= c->n_cols)
    name = c->cols[w->field - 1].name;
  return c->host->fail(c->err, KEEL_EDATA, "%s:%zu: field %zu%s%s%s: %s",
                       c->file, w->line, w->field, name[0] ? " ('" : "", name,
                       name[0] ? "')" : "", csvp_strerror(status));
}

/* The content of field f: either in the buffer or unescaped in scratch. */
static const char *field_text(csv_ctx *c, const csvp_field *f, size_t *len)
{
  if (!f->escaped) {
    *len = f->len;
    return f->p;
  }
  *len = csvp_unescape(f, c->scratch);
  return c->scratch;
}

static int read_header(csv_ctx *c)
{
  const keel_host *h = c->host;
  csvp_reader r;
  csvp_where w = {0, 0};
  size_t nf = 0, line = 0;
  csvp_init(&r, c->buf, c->len, c->delim);
  int st = csvp_next_record(&r, NULL, 0, &nf, &line, &w);
  if (st == CSVP_END)
    return h->fail(c->err, KEEL_EDATA, "%s: the file is empty (no header and "
                   "no data)", c->file);
  if (st < 0)
    return tok_fail(c, st, &w);
  if (nf > CSV_MAX_COLUMNS)
    return h->fail(c->err, KEEL_EDATA, "%s:%zu: %zu columns, more than the "
                   "%u supported", c->file, line, nf, CSV_MAX_COLUMNS);
  c->n_cols = nf;
  c->cols = calloc(nf, sizeof *c->cols);
  c->fields = calloc(nf, sizeof *c->fields);
  if (!c->cols || !c->fields)
    return h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
  csvp_init(&r, c->buf, c->len, c->delim);
  st = csvp_next_record(&r, c->fields, nf, &nf, &line, &w);
  if (st != CSVP_OK)
    return tok_fail(c, st, &w);
  for (size_t j = 0; j < c->n_cols; j++) {
    if (c->params[P_HEADER].i) {
      size_t n;
      const char *t = field_text(c, &c->fields[j], &n);
      if (n == 0)
        return h->fail(c->err, KEEL_EDATA, "%s:%zu: column %zu has an empty "
                       "name in the header", c->file, line, j + 1);
      c->cols[j].name = dup_bytes(t, n);
    } else {
      char tmp[32];
      snprintf(tmp, sizeof tmp, "c%zu", j + 1);
      c->cols[j].name = strdup(tmp);
    }
    if (!c->cols[j].name)
      return h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
    for (size_t k = 0; k < j; k++)
      if (strcmp(c->cols[k].name, c->cols[j].name) == 0)
        return h->fail(c->err, KEEL_EDATA, "%s:%zu: duplicate column name "
                       "'%s' (columns %zu and %zu)", c->file, line,
                       c->cols[j].name, k + 1, j + 1);
  }
  if (c->params[P_HEADER].i) {
    c->data_pos = r.pos;
    c->data_line = r.line;
  } else {
    c->data_pos = 0;
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
  for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
    const keel_value *v = &c->params[lists[l].param];
    for (size_t i = 0; i < v->n; i++) {
      size_t j = 0;
      while (j < c->n_cols && strcmp(c->cols[j].name, v->strings[i]) != 0)
        j++;
      if (j == c->n_cols)
        return h->fail(c->err, KEEL_EINVAL, "csv: %s names column '%s', "
                       "but %s has no such column",
                       csv_params[lists[l].param].name, v->strings[i],
                       c->file);
      if (c->cols[j].declared && c->cols[j].declared != lists[l].type)
        return h->fail(c->err, KEEL_EINVAL, "csv: column '%s' is declared "
                       "with two types (check the *_columns lists)",
                       v->strings[i]);
      c->cols[j].declared = lists[l].type;
      if (lists[l].type == KEEL_COL_TEXT ||
          lists[l].type == KEEL_COL_CATEGORICAL)
        c->cols[j].kind = K_STR;
    }
  }
  return KEEL_OK;
}

static int is_missing(const csv_ctx *c, const char *t, size_t n)
{
  if (n == 0)
    return 1;
  const keel_value *m = &c->params[P_MISSING];
  for (size_t i = 0; i < m->n; i++) {
    const char *s = m->strings[i];
    if (strlen(s) == n && memcmp(s, t, n) == 0)
      return 1;
  }
  return 0;
}

static int cell_fail(csv_ctx *c, size_t line, size_t row, size_t j,
                     const char *t, size_t n, const char *what)
{
  int shown = n > 40 ? 40 : (int)n;
  return c->host->fail(c->err, KEEL_EDATA, "%s:%zu: data row %zu, column "
                       "'%s' (%zu): '%.*s%s' is %s", c->file, line, row + 1,
                       c->cols[j].name, j + 1, shown, t, n > 40 ? "..." : "",
                       what);
}

/* One cell of pass 1: missing mask, inference, values. */
static int infer_cell(csv_ctx *c, size_t line, size_t row, size_t j)
{
  csv_col *col = &c->cols[j];
  const csvp_field *f = &c->fields[j];
  size_t n;
  const char *t = field_text(c, f, &n);
  if (is_missing(c, t, n)) {
    col->miss[row] = 1;
    col->any_missing = 1;
    return KEEL_OK;
  }
  if (col->kind == K_STR)
    return KEEL_OK;
  double v;
  if (col->declared != KEEL_COL_DATE &&
      (col->kind == K_NONE || col->kind == K_NUM)) {
    int st = csvp_parse_double(t, n, &v);
    if (st >= 0) {
      col->kind = K_NUM;
      col->num[row] = v;
      col->nonfinite |= st == CSVP_NUM_NONFINITE;
      return KEEL_OK;
    }
    if (col->declared == KEEL_COL_NUMERIC)
      return cell_fail(c, line, row, j, t, n,
                       st == CSVP_NUM_OVERFLOW
                           ? "too large for a double (overflow)"
                           : "not a number (column declared numeric)");
    if (col->kind == K_NUM) {
      col->kind = K_STR;
      return KEEL_OK;
    }
  }
  if (csvp_parse_date(t, n, &v) == 0) {
    col->kind = K_DATE;
    col->num[row] = v;
    return KEEL_OK;
  }
  if (col->declared == KEEL_COL_DATE)
    return cell_fail(c, line, row, j, t, n,
                     "not a valid YYYY-MM-DD date (column declared date)");
  col->kind = K_STR;
  return KEEL_OK;
}

static int need_scratch(csv_ctx *c)
{
  if (!c->scratch)
    c->scratch = malloc(c->len + 1);
  return c->scratch ? KEEL_OK
                    : c->host->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
}

/* Pass 1: tokenizes every data record, checks its width, infers types and
 * fills numeric/date values and missing masks. */
static int infer_pass(csv_ctx *c)
{
  const keel_host *h = c->host;
  size_t bound = 1;
  for (const char *p = c->buf + c->data_pos, *e = c->buf + c->len;
       (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    bound++;
  c->cap_rows = bound;
  for (size_t j = 0; j < c->n_cols; j++) {
    csv_col *col = &c->cols[j];
    col->miss = calloc(bound, 1);
    if (col->kind != K_STR)
      col->num = calloc(bound, sizeof *col->num);
    if (!col->miss || (col->kind != K_STR && !col->num))
      return h->fail(c->err, KEEL_ENOMEM, "%s: out of memory (%zu rows x "
                     "%zu columns)", c->file, bound, c->n_cols);
  }
  if (need_scratch(c))
    return KEEL_ENOMEM;
  csvp_reader r;
  csvp_init(&r, c->buf, c->len, c->delim);
  r.pos = c->data_pos;
  r.line = c->data_line;
  size_t row = 0;
  for (;;) {
    size_t nf, line;
    csvp_where w = {0, 0};
    int st = csvp_next_record(&r, c->fields, c->n_cols, &nf, &line, &w);
    if (st == CSVP_END)
      break;
    if (st < 0)
      return tok_fail(c, st, &w);
    if (nf != c->n_cols)
      return h->fail(c->err, KEEL_EDATA, "%s:%zu: data row %zu has %zu "
                     "field%s, expected %zu (ragged row)", c->file, line,
                     row + 1, nf, nf == 1 ? "" : "s", c->n_cols);
    if (row >= c->cap_rows) /* cannot happen: rows <= newlines + 1 */
      return h->fail(c->err, KEEL_EDATA, "%s: row count bound exceeded",
                     c->file);
    for (size_t j = 0; j < c->n_cols; j++) {
      int rc = infer_cell(c, line, row, j);
      if (rc)
        return rc;
    }
    row++;
  }
  c->n_rows = row;
  if (row == 0)
    return h->fail(c->err, KEEL_EDATA, "%s: has a header but no data rows",
                   c->file);
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
                keel_error *err)
{
  memset(c, 0, sizeof *c);
  c->host = host;
  c->params = params;
  c->err = err;
  c->delim = params[P_DELIMITER].i == 1 ? ';'
             : params[P_DELIMITER].i == 2 ? '\t' : ',';
  c->file = NULL;
  int rc = load_file(c);
  if (!rc)
    rc = need_scratch(c);
  if (!rc)
    rc = read_header(c);
  if (!rc)
    rc = apply_declared(c);
  if (!rc)
    rc = infer_pass(c);
  return rc;
}

static int csv_schema(const keel_host *host, const keel_value *params,
                      keel_schema *out, keel_error *err)
{
  csv_ctx c;
  int rc = scan(&c, host, params, err);
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    rc = host->schema_add(out, c.cols[j].name, final_type(&c.cols[j]),
                          final_flags(&c.cols[j]), err);
  ctx_free(&c);
  return rc;
}

/* Pass 2: collects the cell strings of categorical and text columns. */
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
    col->sp = calloc(c->n_rows ? c->n_rows : 1, sizeof *col->sp);
    col->sl = calloc(c->n_rows ? c->n_rows : 1, sizeof *col->sl);
    if (!col->sp || !col->sl)
      return h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
  }
  if (n_str == 0)
    return KEEL_OK;
  csvp_reader r;
  csvp_init(&r, c->buf, c->len, c->delim);
  r.pos = c->data_pos;
  r.line = c->data_line;
  for (size_t row = 0; row < c->n_rows; row++) {
    size_t nf, line;
    csvp_where w = {0, 0};
    int st = csvp_next_record(&r, c->fields, c->n_cols, &nf, &line, &w);
    if (st != CSVP_OK || nf != c->n_cols)
      return h->fail(c->err, KEEL_EDATA, "%s: changed while reading", c->file);
    for (size_t j = 0; j < c->n_cols; j++) {
      csv_col *col = &c->cols[j];
      if (!col->sp || col->miss[row])
        continue;
      const csvp_field *f = &c->fields[j];
      if (!f->escaped) {
        col->sp[row] = f->p;
        col->sl[row] = f->len;
        continue;
      }
      if (!c->arena && !(c->arena = malloc(c->len + 1)))
        return h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
      char *dst = c->arena + c->arena_used;
      size_t n = csvp_unescape(f, dst);
      c->arena_used += n;
      col->sp[row] = dst;
      col->sl[row] = n;
    }
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
    rc = h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
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
    rc = h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
    goto out;
  }
  for (size_t k = 0; k < n_uniq; k++) {
    remap[uniq[k].id] = (int32_t)k;
    if (!(dict[k] = dup_bytes(uniq[k].p, uniq[k].n))) {
      rc = h->fail(c->err, KEEL_ENOMEM, "csv: out of memory");
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
  keel_column *kc = h->table_add(t, col->name, type, NULL, 0, c->err);
  if (!kc)
    return c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
  if (c->n_rows)
    memcpy(kc->missing, col->miss, c->n_rows);
  if (type == KEEL_COL_TEXT) {
    for (size_t r = 0; r < c->n_rows; r++) {
      if (col->miss[r])
        continue;
      int rc = h->text_set(t, t->n_cols - 1, r, col->sp[r], col->sl[r], c->err);
      if (rc)
        return rc;
    }
    return KEEL_OK;
  }
  for (size_t r = 0; r < c->n_rows; r++)
    kc->num[r] = col->miss[r] ? 0.0 : col->num[r];
  return KEEL_OK;
}

static int csv_read(const keel_host *host, const keel_value *params,
                    keel_table **out, keel_error *err)
{
  csv_ctx c;
  keel_table *t = NULL;
  *out = NULL;
  int rc = scan(&c, host, params, err);
  if (!rc)
    rc = string_pass(&c);
  if (!rc && !(t = host->table_new(c.n_rows)))
    rc = host->fail(err, KEEL_ENOMEM, "csv: out of memory");
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
    .struct_size = sizeof(keel_source_api),
    .schema = csv_schema,
    .read = csv_read,
};

static const keel_plugin csv_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "csv",
    .version = "1.0.0",
    .summary = "CSV file (RFC 4180, optional gzip) with typed columns",
    .license = "MIT",
    .params = csv_params,
    .n_params = KEEL_COUNT(csv_params),
    .api = &csv_api,
};

KEEL_PLUGIN_DEFINE(csv_plugin)
