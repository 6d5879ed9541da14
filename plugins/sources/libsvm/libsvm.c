/* libsvm: reads the sparse LIBSVM / SVMlight text format, densified.
 *
 * One row per line: `label index:value index:value ...`, tokens separated
 * by spaces or tabs; a '#' starts a comment to the end of the line; blank
 * lines are skipped; LF or CRLF line ends. Indices are 1-based (or 0-based
 * with zero_based=true) and strictly increasing within a line; an index
 * that is absent is the value 0 (not missing). Numbers are decimal and
 * must be finite (subnormals are accepted, overflow is not). The table has
 * the numeric column "label" first, then f<index> for every index (f1..fN,
 * or f0..fN-1 when zero-based). `qid:` tokens are refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

enum { P_PATH, P_N_FEATURES, P_ZERO_BASED, P_COUNT };

static const keel_param_decl libsvm_params[] = {
    [P_PATH] =
        KEEL_P_STRING("path", "", KEEL_PARAM_REQUIRED,
                      "LIBSVM file, relative to the manifest's folder; gzip "
                      "(.gz) is decompressed transparently"),
    [P_N_FEATURES] =
        KEEL_P_INT("n_features", 0, 0, 10000000, "columns",
                   "number of feature columns; 0 infers the largest index"),
    [P_ZERO_BASED] = KEEL_P_BOOL(
        "zero_based", 0,
        "indices start at 0 (default: at 1, as LIBSVM writes them)"),
};
KEEL_PARAMS_MATCH(libsvm_params, P_COUNT);

typedef struct entry {
  uint64_t idx; /* 0-based column */
  double val;
} entry;

typedef struct sv_doc {
  char *file;
  char *buf;
  size_t len;
  double *labels;
  size_t n_rows, cap_rows;
  size_t *row_start; /* n_rows + 1 offsets into entries */
  entry *entries;
  size_t n_entries, cap_entries;
  uint64_t width;
} sv_doc;

static void doc_free(sv_doc *d)
{
  free(d->file);
  free(d->buf);
  free(d->labels);
  free(d->row_start);
  free(d->entries);
}

static int load(const keel_host *h, const keel_value *params, sv_doc *d,
                keel_error *err)
{
  keel_input *in = NULL;
  int rc = keel_open_input(h, params[P_PATH].s, &in, err);
  if (rc)
    return rc;
  d->file = strdup(h->input_name(in));
  size_t cap = 1u << 16;
  d->buf = malloc(cap + 1);
  rc = (d->file && d->buf) ? KEEL_OK
                           : h->fail(err, KEEL_ENOMEM, "out of memory");
  while (!rc) {
    if (d->len == cap) {
      char *nb = realloc(d->buf, 2 * cap + 1);
      if (!nb) {
        rc = h->fail(err, KEEL_ENOMEM, "out of memory");
        break;
      }
      d->buf = nb;
      cap *= 2;
    }
    long got = h->input_read(in, d->buf + d->len, cap - d->len, err);
    if (got < 0)
      rc = (int)got;
    else if (got == 0)
      break;
    else
      d->len += (size_t)got;
  }
  h->input_close(in);
  if (!rc)
    d->buf[d->len] = '\0';
  return rc;
}

/* Strict finite decimal: the whole token consumed, no hex, no nan/inf. */
static int parse_number(const char *tok, size_t n, double *out)
{
  char small[128];
  if (n == 0 || n >= sizeof small)
    return -1;
  for (size_t i = 0; i < n; i++) {
    char c = tok[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return -1;
  }
  memcpy(small, tok, n);
  small[n] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(small, &end);
  if (end != small + n || !isfinite(v))
    return -1;
  *out = v; /* ERANGE with a finite value: subnormal or zero, accepted */
  return 0;
}

static int push_entry(const keel_host *h, sv_doc *d, uint64_t idx, double v,
                      keel_error *err)
{
  if (d->n_entries == d->cap_entries) {
    size_t cap = d->cap_entries ? 2 * d->cap_entries : 1024;
    entry *e = realloc(d->entries, cap * sizeof *e);
    if (!e)
      return h->fail(err, KEEL_ENOMEM, "out of memory");
    d->entries = e;
    d->cap_entries = cap;
  }
  d->entries[d->n_entries].idx = idx;
  d->entries[d->n_entries].val = v;
  d->n_entries++;
  return KEEL_OK;
}

static int push_row(const keel_host *h, sv_doc *d, double label,
                    keel_error *err)
{
  if (d->n_rows + 1 >= d->cap_rows) {
    size_t cap = d->cap_rows ? 2 * d->cap_rows : 1024;
    double *l = realloc(d->labels, cap * sizeof *l);
    if (l)
      d->labels = l;
    size_t *s = realloc(d->row_start, (cap + 1) * sizeof *s);
    if (s)
      d->row_start = s;
    if (!l || !s)
      return h->fail(err, KEEL_ENOMEM, "out of memory");
    d->cap_rows = cap;
  }
  d->labels[d->n_rows] = label;
  d->row_start[d->n_rows] = d->n_entries;
  d->n_rows++;
  return KEEL_OK;
}

static int parse_line(const keel_host *h, const keel_value *params, sv_doc *d,
                      const char *p, const char *e, size_t line,
                      keel_error *err)
{
  const char *hash = memchr(p, '#', (size_t)(e - p));
  if (hash)
    e = hash;
  size_t tok_no = 0;
  uint64_t prev = 0;
  int have_prev = 0;
  while (p < e) {
    while (p < e && (*p == ' ' || *p == '\t'))
      p++;
    if (p == e)
      break;
    const char *t = p;
    while (p < e && *p != ' ' && *p != '\t')
      p++;
    size_t n = (size_t)(p - t);
    tok_no++;
    if (tok_no == 1) {
      double label;
      if (parse_number(t, n, &label))
        return h->fail(err, KEEL_EDATA,
                       "%s:%zu: label '%.*s' is not a "
                       "finite number",
                       d->file, line, (int)(n > 40 ? 40 : n), t);
      int rc = push_row(h, d, label, err);
      if (rc)
        return rc;
      continue;
    }
    const char *colon = memchr(t, ':', n);
    if (!colon || colon == t)
      return h->fail(err, KEEL_EDATA,
                     "%s:%zu: token %zu '%.*s' is not "
                     "index:value",
                     d->file, line, tok_no, (int)(n > 40 ? 40 : n), t);
    if ((size_t)(colon - t) == 3 && memcmp(t, "qid", 3) == 0)
      return h->fail(err, KEEL_EUNSUPPORTED,
                     "%s:%zu: qid (ranking groups) "
                     "is not supported",
                     d->file, line);
    uint64_t idx = 0;
    for (const char *q = t; q < colon; q++) {
      if (*q < '0' || *q > '9' || idx > 100000000000ull)
        return h->fail(err, KEEL_EDATA,
                       "%s:%zu: token %zu: index '%.*s' is "
                       "not a non-negative integer",
                       d->file, line, tok_no,
                       (int)(colon - t > 40 ? 40 : colon - t), t);
      idx = idx * 10 + (uint64_t)(*q - '0');
    }
    double v;
    size_t vn = (size_t)(t + n - colon - 1);
    if (parse_number(colon + 1, vn, &v))
      return h->fail(err, KEEL_EDATA,
                     "%s:%zu: token %zu: value '%.*s' is "
                     "not a finite number",
                     d->file, line, tok_no, (int)(vn > 40 ? 40 : vn),
                     colon + 1);
    if (!params[P_ZERO_BASED].i) {
      if (idx == 0)
        return h->fail(err, KEEL_EDATA,
                       "%s:%zu: token %zu: index 0 in a "
                       "1-based file (set zero_based = true)",
                       d->file, line, tok_no);
      idx--;
    }
    if (have_prev && idx <= prev)
      return h->fail(err, KEEL_EDATA,
                     "%s:%zu: token %zu: indices must be "
                     "strictly increasing (index %llu after %llu)",
                     d->file, line, tok_no,
                     (unsigned long long)(idx + !params[P_ZERO_BASED].i),
                     (unsigned long long)(prev + !params[P_ZERO_BASED].i));
    if (params[P_N_FEATURES].i > 0 && idx >= (uint64_t)params[P_N_FEATURES].i)
      return h->fail(err, KEEL_EDATA,
                     "%s:%zu: token %zu: index %llu is "
                     "beyond n_features = %lld",
                     d->file, line, tok_no,
                     (unsigned long long)(idx + !params[P_ZERO_BASED].i),
                     (long long)params[P_N_FEATURES].i);
    prev = idx;
    have_prev = 1;
    if (idx + 1 > d->width)
      d->width = idx + 1;
    int rc = push_entry(h, d, idx, v, err);
    if (rc)
      return rc;
  }
  return KEEL_OK;
}

static int parse(const keel_host *h, const keel_value *params, sv_doc *d,
                 keel_error *err)
{
  memset(d, 0, sizeof *d);
  int rc = load(h, params, d, err);
  if (rc)
    return rc;
  if (memchr(d->buf, '\0', d->len))
    return h->fail(err, KEEL_EDATA, "%s: NUL byte in the file", d->file);
  const char *p = d->buf, *end = d->buf + d->len;
  size_t line = 1;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    const char *le = (e > p && e[-1] == '\r') ? e - 1 : e;
    if (memchr(p, '\r', (size_t)(le - p)))
      return h->fail(err, KEEL_EDATA,
                     "%s:%zu: carriage return inside a "
                     "line",
                     d->file, line);
    rc = parse_line(h, params, d, p, le, line, err);
    if (rc)
      return rc;
    p = nl ? nl + 1 : end;
    line++;
  }
  if (d->n_rows == 0)
    return h->fail(err, KEEL_EDATA, "%s: no data rows", d->file);
  d->row_start[d->n_rows] = d->n_entries;
  if (params[P_N_FEATURES].i > 0)
    d->width = (uint64_t)params[P_N_FEATURES].i;
  if (d->width == 0)
    return h->fail(err, KEEL_EDATA,
                   "%s: no feature index in the file; set "
                   "n_features",
                   d->file);
  if (d->width > 10000000ull)
    return h->fail(err, KEEL_EDATA,
                   "%s: largest index %llu is beyond the "
                   "10000000 columns supported",
                   d->file, (unsigned long long)d->width);
  return KEEL_OK;
}

static void feature_name(char *buf, size_t n, const keel_value *params,
                         uint64_t j)
{
  snprintf(buf, n, "f%llu",
           (unsigned long long)(j + (params[P_ZERO_BASED].i ? 0 : 1)));
}

static int libsvm_schema(const keel_host *host, const keel_value *params,
                         keel_schema *out, keel_error *err)
{
  sv_doc d;
  int rc = parse(host, params, &d, err);
  if (!rc)
    rc = host->schema_add(out, "label", KEEL_COL_NUMERIC, 0, err);
  char name[32];
  for (uint64_t j = 0; !rc && j < d.width; j++) {
    feature_name(name, sizeof name, params, j);
    rc = host->schema_add(out, name, KEEL_COL_NUMERIC, 0, err);
  }
  doc_free(&d);
  return rc;
}

static int libsvm_read(const keel_host *host, const keel_value *params,
                       keel_table **out, keel_error *err)
{
  sv_doc d;
  keel_table *t = NULL;
  *out = NULL;
  int rc = parse(host, params, &d, err);
  if (!rc && !(t = host->table_new(d.n_rows)))
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc) {
    keel_column *c =
        host->table_add(t, "label", KEEL_COL_NUMERIC, NULL, 0, err);
    if (!c)
      rc = KEEL_ENOMEM;
    else
      memcpy(c->num, d.labels, d.n_rows * sizeof *d.labels);
  }
  /* columns first (zeros), then scatter the entries row by row */
  char name[32];
  for (uint64_t j = 0; !rc && j < d.width; j++) {
    feature_name(name, sizeof name, params, j);
    if (!host->table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, err))
      rc = KEEL_ENOMEM;
  }
  for (size_t r = 0; !rc && r < d.n_rows; r++)
    for (size_t k = d.row_start[r]; k < d.row_start[r + 1]; k++)
      t->cols[1 + d.entries[k].idx].num[r] = d.entries[k].val;
  if (rc) {
    if (t)
      host->table_free(t);
  } else {
    *out = t;
  }
  doc_free(&d);
  return rc;
}

static const keel_source_api libsvm_api = {
    KEEL_SOURCE_API_HEADER,
    .schema = libsvm_schema,
    .read = libsvm_read,
};

/* `keel plugin-test` reads this sample (keel/plugin_test.h). */
static const char libsvm_sample[] = "1 1:0.5 3:2\n"
                                    "0 2:-1\n"
                                    "1 1:1.25 2:3 3:-0.5\n";
static const keel_test_file libsvm_sample_file = {"sample.svm", libsvm_sample,
                                                  sizeof libsvm_sample - 1};
static const keel_test_fixture libsvm_fixtures[] = {
    {.name = "sample.svm",
     .params = (const char *const[]){"path=sample.svm", NULL},
     .files = &libsvm_sample_file,
     .n_files = 1},
};
static const keel_plugin_test_ext libsvm_test_ext = {
    .struct_size = sizeof(keel_plugin_test_ext),
    .fixtures = libsvm_fixtures,
    .n_fixtures = KEEL_COUNT(libsvm_fixtures),
};

static const void *libsvm_extension(const char *uri)
{
  return strcmp(uri, KEEL_EXT_PLUGIN_TEST) == 0 ? &libsvm_test_ext : NULL;
}

static const keel_plugin libsvm_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "libsvm",
    .version = "1.0.0",
    .summary = "sparse LIBSVM/SVMlight text file, densified",
    .license = "MIT",
    .params = libsvm_params,
    .n_params = KEEL_COUNT(libsvm_params),
    .api = &libsvm_api,
    .extension = libsvm_extension,
};

KEEL_PLUGIN_DEFINE(libsvm_plugin)
