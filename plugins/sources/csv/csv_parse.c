/* RFC 4180 tokenizer and strict number/date parsing for the csv source.
 * See csv_parse.h for the rules; docs/data.md for the user-facing text. */
#include "csv_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void csvp_init(csvp_reader *r, const char *buf, size_t len, char delim)
{
  memset(r, 0, sizeof *r);
  r->buf = buf;
  r->len = len;
  r->line = 1;
  r->delim = delim;
  if (len >= 3 && (unsigned char)buf[0] == 0xEF &&
      (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
    r->pos = 3;
  r->special[(unsigned char)delim] = 1;
  r->special['"'] = 1;
  r->special['\n'] = 1;
  r->special['\r'] = 1;
  r->special[0] = 1;
}

static int is_crlf(const char *b, size_t n, size_t pos)
{
  return b[pos] == '\r' && pos + 1 < n && b[pos + 1] == '\n';
}

/* Reads a quoted field starting at the opening quote b[*pos]. */
static int read_quoted(csvp_reader *r, size_t *ppos, csvp_field *f,
                       size_t field_no, csvp_where *where)
{
  const char *b = r->buf;
  size_t n = r->len, pos = *ppos + 1, open_line = r->line;
  f->p = b + pos;
  f->quoted = 1;
  for (;;) {
    if (pos >= n) {
      where->line = open_line;
      where->field = field_no;
      return CSVP_EUNTERMINATED;
    }
    char c = b[pos];
    if (c == '"') {
      if (pos + 1 < n && b[pos + 1] == '"') {
        f->escaped = 1;
        pos += 2;
        continue;
      }
      break;
    }
    if (c == '\n') {
      r->line++;
    } else if (c == '\0') {
      where->line = r->line;
      where->field = field_no;
      return CSVP_ENUL;
    }
    pos++;
  }
  f->len = (size_t)(b + pos - f->p);
  pos++; /* the closing quote */
  if (pos < n && b[pos] != r->delim && b[pos] != '\n' && !is_crlf(b, n, pos)) {
    where->line = r->line;
    where->field = field_no;
    return CSVP_EAFTER_QUOTE;
  }
  *ppos = pos;
  return CSVP_OK;
}

static int read_plain(csvp_reader *r, size_t *ppos, csvp_field *f,
                      size_t field_no, csvp_where *where)
{
  const char *b = r->buf;
  size_t n = r->len, pos = *ppos;
  f->p = b + pos;
  while (pos < n && !r->special[(unsigned char)b[pos]])
    pos++;
  f->len = (size_t)(b + pos - f->p);
  if (pos < n) {
    char c = b[pos];
    int code = CSVP_OK;
    if (c == '"')
      code = CSVP_EQUOTE_IN_FIELD;
    else if (c == '\0')
      code = CSVP_ENUL;
    else if (c == '\r' && !is_crlf(b, n, pos))
      code = CSVP_EBARE_CR;
    if (code != CSVP_OK) {
      where->line = r->line;
      where->field = field_no;
      return code;
    }
  }
  *ppos = pos;
  return CSVP_OK;
}

int csvp_next_record(csvp_reader *r, csvp_field *fields, size_t cap,
                     size_t *n_fields, size_t *rec_line, csvp_where *where)
{
  const char *b = r->buf;
  size_t n = r->len, pos = r->pos, nf = 0;
  *n_fields = 0;
  for (;;) { /* skip empty lines */
    if (pos >= n) {
      r->pos = pos;
      return CSVP_END;
    }
    if (b[pos] == '\n') {
      pos++;
    } else if (is_crlf(b, n, pos)) {
      pos += 2;
    } else {
      break;
    }
    r->line++;
  }
  *rec_line = r->line;
  for (;;) {
    csvp_field f = {0};
    int rc = (pos < n && b[pos] == '"') ? read_quoted(r, &pos, &f, nf + 1, where)
                                        : read_plain(r, &pos, &f, nf + 1, where);
    if (rc != CSVP_OK) {
      r->pos = pos;
      return rc;
    }
    if (nf < cap)
      fields[nf] = f;
    nf++;
    if (pos >= n)
      break;
    if (b[pos] == r->delim) {
      pos++;
      continue;
    }
    /* read_* guaranteed: LF or CRLF */
    pos += (b[pos] == '\n') ? 1 : 2;
    r->line++;
    break;
  }
  r->pos = pos;
  *n_fields = nf;
  return CSVP_OK;
}

size_t csvp_unescape(const csvp_field *f, char *dst)
{
  size_t o = 0;
  for (size_t i = 0; i < f->len; i++) {
    dst[o++] = f->p[i];
    if (f->p[i] == '"' && i + 1 < f->len && f->p[i + 1] == '"')
      i++;
  }
  return o;
}

const char *csvp_strerror(int status)
{
  switch (status) {
  case CSVP_EUNTERMINATED:
    return "unterminated quoted field (the closing quote is missing)";
  case CSVP_EAFTER_QUOTE:
    return "unexpected character after a closing quote (expected the "
           "delimiter or the end of the line)";
  case CSVP_EQUOTE_IN_FIELD:
    return "quote character inside an unquoted field (quote the whole "
           "field and double inner quotes)";
  case CSVP_EBARE_CR:
    return "carriage return without line feed outside quotes (use LF or "
           "CRLF line ends)";
  case CSVP_ENUL:
    return "NUL byte in the file (not a text file?)";
  default:
    return "unknown tokenizer error";
  }
}

/* ---- numbers ---------------------------------------------------------- */

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int lower_eq(const char *p, size_t len, const char *word)
{
  size_t wl = strlen(word);
  if (len != wl)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != word[i])
      return 0;
  }
  return 1;
}

static int parse_nonfinite(const char *p, size_t len, double *out)
{
  int neg = 0;
  if (len > 0 && (p[0] == '+' || p[0] == '-')) {
    neg = p[0] == '-';
    p++;
    len--;
  }
  if (lower_eq(p, len, "nan")) {
    *out = NAN;
    return CSVP_NUM_NONFINITE;
  }
  if (lower_eq(p, len, "inf") || lower_eq(p, len, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return CSVP_NUM_NONFINITE;
  }
  return CSVP_NUM_BAD;
}

/* strtod on a NUL-terminated copy; the syntax was already checked. */
static int parse_slow(const char *p, size_t len, double *out)
{
  char small[128];
  char *copy = small;
  if (len >= sizeof small) {
    copy = malloc(len + 1);
    if (!copy)
      return CSVP_NUM_BAD;
  }
  memcpy(copy, p, len);
  copy[len] = '\0';
  errno = 0;
  char *end = NULL;
  double v = strtod(copy, &end);
  int rc = CSVP_NUM_OK;
  if (end != copy + len)
    rc = CSVP_NUM_BAD;
  else if (errno == ERANGE && isinf(v))
    rc = CSVP_NUM_OVERFLOW;
  /* ERANGE with a finite result is underflow: a subnormal or zero, which
   * is the correctly rounded value of the decimal: accepted. */
  if (copy != small)
    free(copy);
  *out = v;
  return rc;
}

int csvp_parse_double(const char *p, size_t len, double *out)
{
  size_t i = 0;
  int neg = 0, dropped = 0, nd = 0;
  uint64_t m = 0;
  long exp10 = 0;
  size_t digits = 0;
  if (len == 0)
    return CSVP_NUM_BAD;
  if (p[0] == '+' || p[0] == '-') {
    neg = p[0] == '-';
    i = 1;
  }
  for (; i < len && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
    unsigned d = (unsigned)(p[i] - '0');
    if (m == 0 && d == 0)
      continue;
    if (nd < 19) {
      m = m * 10 + d;
      nd++;
    } else {
      exp10++;
      dropped |= d != 0;
    }
  }
  if (i < len && p[i] == '.') {
    for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
      unsigned d = (unsigned)(p[i] - '0');
      if (m == 0 && d == 0) {
        exp10--;
      } else if (nd < 19) {
        m = m * 10 + d;
        nd++;
        exp10--;
      } else {
        dropped |= d != 0;
      }
    }
  }
  if (digits == 0)
    return parse_nonfinite(p, len, out);
  if (i < len && (p[i] == 'e' || p[i] == 'E')) {
    int eneg = 0;
    long e = 0;
    size_t edigits = 0;
    i++;
    if (i < len && (p[i] == '+' || p[i] == '-')) {
      eneg = p[i] == '-';
      i++;
    }
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++, edigits++)
      if (e < 100000000L)
        e = e * 10 + (p[i] - '0');
    if (edigits == 0)
      return CSVP_NUM_BAD;
    exp10 += eneg ? -e : e;
  }
  if (i != len)
    return CSVP_NUM_BAD;
  if (m == 0) {
    *out = neg ? -0.0 : 0.0;
    return CSVP_NUM_OK;
  }
  /* Clinger's fast path: m and 10^|e| are exact doubles, so one IEEE
   * multiply or divide gives the correctly rounded result, which is what
   * a correct strtod returns. */
  if (!dropped && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
    double d = (double)m;
    d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
    *out = neg ? -d : d;
    return CSVP_NUM_OK;
  }
  return parse_slow(p, len, out);
}

/* ---- dates ------------------------------------------------------------ */

static int two_digits(const char *p)
{
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
    return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

/* Howard Hinnant's days_from_civil. */
static long days_from_civil(long y, long m, long d)
{
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int csvp_parse_date(const char *p, size_t len, double *days)
{
  static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
  if (len != 10 || p[4] != '-' || p[7] != '-')
    return -1;
  int hi = two_digits(p), lo = two_digits(p + 2);
  int mo = two_digits(p + 5), d = two_digits(p + 8);
  if (hi < 0 || lo < 0 || mo < 1 || mo > 12 || d < 1)
    return -1;
  long y = hi * 100 + lo;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int dim = mdays[mo - 1] + (mo == 2 && leap);
  if (d > dim)
    return -1;
  *days = (double)days_from_civil(y, mo, d);
  return 0;
}
