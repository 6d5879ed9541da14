/* RFC 4180 tokenizer and strict number/date parsing for the csv source.
 * See csv_parse.h for the rules; docs/data.md for the user-facing text. */
#include "csv_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the SDK helper alone (libc only): the tests and the fuzz target compile
 * this file without the rest of the plugin */
#include <keel/util_civil.h>

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
    int rc = (pos < n && b[pos] == '"')
                 ? read_quoted(r, &pos, &f, nf + 1, where)
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
  case CSVP_ENUL: return "NUL byte in the file (not a text file?)";
  default: return "unknown tokenizer error";
  }
}

/* ---- record boundaries (for splitting a buffer into chunks) ---------- */

size_t csvp_count_quotes(const char *buf, size_t begin, size_t end)
{
  size_t n = 0;
  const char *p = buf + begin, *e = buf + end;
  while (p < e && (p = memchr(p, '"', (size_t)(e - p))) != NULL) {
    n++;
    p++;
  }
  return n;
}

size_t csvp_record_start_after(const char *buf, size_t len, size_t from,
                               int odd)
{
  if (from >= len)
    return len;
  if (!odd) {
    const char *nl = memchr(buf + from, '\n', len - from);
    if (!nl)
      return len;
    if (!memchr(buf + from, '"', (size_t)(nl - (buf + from))))
      return (size_t)(nl - buf) + 1;
  }
  for (size_t i = from; i < len; i++) {
    if (buf[i] == '"')
      odd ^= 1;
    else if (buf[i] == '\n' && !odd)
      return i + 1;
  }
  return len;
}

int csvp_count_records_unquoted(const char *buf, size_t len, size_t begin,
                                size_t end, size_t *records, size_t *newlines)
{
  size_t pos = begin, n = 0, nl = 0;
  while (pos < end) {
    const char *q = memchr(buf + pos, '\n', end - pos);
    size_t stop = q ? (size_t)(q - buf) : end;
    /* the line was just read: looking for a quote in it costs no memory
     * traffic */
    if (memchr(buf + pos, '"', stop - pos))
      return -1;
    /* an empty line, or one that is only the CR of a CRLF, is no record
     * (as in csvp_count_records) */
    if (stop > pos && !(stop == pos + 1 && is_crlf(buf, len, pos)))
      n++;
    if (!q)
      break;
    nl++;
    pos = stop + 1;
  }
  *records = n;
  *newlines = nl;
  return 0;
}

void csvp_count_records(const char *buf, size_t len, size_t begin, size_t end,
                        size_t *records, size_t *newlines)
{
  if (csvp_count_records_unquoted(buf, len, begin, end, records, newlines) == 0)
    return;
  /* with quotes: a line feed inside a quoted field ends no record */
  size_t pos = begin, n = 0, nl = 0;
  while (pos < end) {
    /* at a record start: empty lines are skipped, as csvp_next_record does */
    if (buf[pos] == '\n') {
      pos++;
      nl++;
      continue;
    }
    if (is_crlf(buf, len, pos)) {
      pos += 2;
      nl++;
      continue;
    }
    n++;
    int odd = 0;
    for (; pos < end; pos++) {
      if (buf[pos] == '"') {
        odd ^= 1;
      } else if (buf[pos] == '\n') {
        nl++;
        if (!odd) {
          pos++;
          break;
        }
      }
    }
  }
  *records = n;
  *newlines = nl;
}

/* ---- numbers ----------------------------------------------------------
 *
 * Decimal to double, correctly rounded (so equal to glibc's strtod) in
 * three steps, each exact or refusing:
 *  1. Clinger: up to 2^53 and |exp10| <= 22, one IEEE multiply or divide
 *     of two exact doubles is the correctly rounded result.
 *  2. A 128-bit approximation T of 5^q (csv_pow5.h, |error| < 1) times the
 *     normalised 64-bit mantissa w gives the value's leading bits with an
 *     absolute error below w < 2^64 in a 192-bit product. When the bits
 *     below the rounding position are at least 2^64 away from a halfway
 *     point, every value within the error rounds the same way, so the
 *     rounding is decided exactly.
 *     Mantissas longer than 19 digits are truncated to m; the value lies in
 *     [m, m+1) * 10^q and is accepted when both ends round the same.
 *  3. Everything else (ties and near-ties, subnormal results, overflow,
 *     exponents outside the table): strtod on a NUL-terminated copy. */

#include "csv_pow5.h"

__extension__ typedef unsigned __int128 csvp_u128;

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

uint64_t csvp_round_pow10(uint64_t w, long q)
{
  if (q < CSVP_POW5_MIN || q > CSVP_POW5_MAX)
    return 0;
  const uint64_t *t = csvp_pow5_t[q - CSVP_POW5_MIN];
  int lz = __builtin_clzll(w);
  w <<= lz;
  /* P = w * T as three limbs p2:p1:p0 (p0 is not needed) */
  csvp_u128 lo = (csvp_u128)w * t[1];
  csvp_u128 hi = (csvp_u128)w * t[0];
  uint64_t p1 = (uint64_t)hi + (uint64_t)(lo >> 64);
  uint64_t p2 = (uint64_t)(hi >> 64) + (p1 < (uint64_t)hi);
  /* P is in [2^190, 2^192): its top bit is 191 or 190. Keep 54 bits (53
   * and the rounding bit); the 128 + r bits below decide the rounding. */
  int top = (int)(p2 >> 63);
  int r = 9 + top;
  uint64_t mask = (UINT64_C(1) << r) - 1, below = p2 & mask;
  uint64_t m54 = p2 >> r;
  /* Within 2^64 of a multiple of the rounding bit's weight: an odd
   * multiple is a halfway point (undecided); an even one is a double,
   * which every value that close rounds to. */
  if (below == 0 && p1 == 0 && (m54 & 1))
    return 0;
  if (below == mask && p1 == UINT64_MAX && !(m54 & 1))
    return 0;
  uint64_t m53 = (m54 + 1) >> 1; /* the rounding bit decides (no tie) */
  /* value = m53 * 2^e with e = (190 + top) - 52 + S(q) + q - lz */
  long e = 138 + top + csvp_pow5_s[q - CSVP_POW5_MIN] + q - lz;
  long biased = e + 52 + 1023;
  if (biased <= 0)
    return 0; /* subnormal: rounds at another position */
  if (m53 == (UINT64_C(1) << 53)) {
    m53 >>= 1;
    biased++;
  }
  if (biased >= 2047)
    return 0; /* overflow: strtod reports it */
  return ((uint64_t)biased << 52) | (m53 & ((UINT64_C(1) << 52) - 1));
}

/* More than 19 significant digits, from `first` (the first non-zero
 * digit) to `stop`, skipping the point: the first 19 as an integer in *m;
 * *dropped when a non-zero digit was left out. The value is then in
 * [m, m+1) * 10^(exp10 + nd - 19). */
static void truncate_digits(const char *first, const char *stop,
                            const char *point, uint64_t *m, int *dropped)
{
  uint64_t acc = 0;
  int nd = 0, d = 0;
  const char *s = first;
  for (; s < stop && nd < 19; s++) {
    if (s == point)
      continue;
    acc = acc * 10 + (unsigned)(*s - '0');
    nd++;
  }
  for (; s < stop; s++)
    d |= s != point && *s != '0';
  *m = acc;
  *dropped = d;
}

int csvp_scan_number(const char *p, const char *end, double *out,
                     const char **stop)
{
  const char *s = p, *point = NULL, *first;
  int neg = 0, dropped = 0;
  uint64_t m = 0;
  long exp10 = 0, nd;
  *stop = p;
  if (s < end && (*s == '+' || *s == '-')) {
    neg = *s == '-';
    s++;
  }
  const char *digits_start = s;
  while (s < end && *s == '0')
    s++;
  first = s; /* the first significant digit, when the integer part has one */
  s = csvp__digits(s, end, &m);
  nd = s - first;
  int any = s > digits_start;
  if (s < end && *s == '.') {
    point = s++;
    const char *frac = s, *sig = s;
    if (nd == 0) { /* zeros after the point only scale the value */
      while (s < end && *s == '0')
        s++;
      first = sig = s;
    }
    s = csvp__digits(s, end, &m);
    nd += s - sig;
    exp10 = -(long)(s - frac);
    any |= s > frac;
  }
  if (!any)
    return CSVP_NUM_BAD;
  const char *mant_end = s;
  if (s < end && (*s == 'e' || *s == 'E')) {
    int eneg = 0;
    long e = 0;
    const char *ed;
    s++;
    if (s < end && (*s == '+' || *s == '-')) {
      eneg = *s == '-';
      s++;
    }
    for (ed = s; s < end && (unsigned)(*s - '0') < 10; s++)
      if (e < 100000000L)
        e = e * 10 + (*s - '0');
    if (s == ed)
      return CSVP_NUM_BAD;
    exp10 += eneg ? -e : e;
  }
  *stop = s;
  if (nd > 19) { /* m wrapped: keep 19 digits, remember the rest */
    truncate_digits(first, mant_end, point, &m, &dropped);
    exp10 += nd - 19;
  }
  if (m == 0) {
    *out = neg ? -0.0 : 0.0;
    return CSVP_NUM_OK;
  }
  if (!dropped && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
    double d = (double)m;
    d = exp10 < 0 ? d / csvp__pow10_exact[-exp10]
                  : d * csvp__pow10_exact[exp10];
    *out = neg ? -d : d;
    return CSVP_NUM_OK;
  }
  uint64_t bits = csvp_round_pow10(m, exp10);
  if (bits && dropped && csvp_round_pow10(m + 1, exp10) != bits)
    bits = 0;
  if (bits) {
    bits |= (uint64_t)neg << 63;
    memcpy(out, &bits, sizeof *out);
    return CSVP_NUM_OK;
  }
  return parse_slow(p, (size_t)(s - p), out);
}

int csvp_parse_double(const char *p, size_t len, double *out)
{
  const char *stop;
  int st;
  if (len == 0)
    return CSVP_NUM_BAD;
  if (len < CSVP_FAST_SPAN) {
    /* the fast path on a padded copy: a NUL ends the number */
    char pad[CSVP_FAST_SPAN]; /* all the unchecked path reads */
    const char *ps;
    memcpy(pad, p, len);
    memset(pad + len, 0, sizeof pad - len);
    st = csvp__scan_unchecked(pad, pad + len, out, &ps);
    stop = p + (ps - pad);
  } else {
    st = csvp_scan_number(p, p + len, out, &stop);
  }
  if (st == CSVP_NUM_BAD && stop == p)
    return parse_nonfinite(p, len, out);
  if (stop != p + len)
    return CSVP_NUM_BAD;
  return st;
}

/* ---- dates ------------------------------------------------------------ */

static int two_digits(const char *p)
{
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
    return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

int csvp_parse_date(const char *p, size_t len, double *days)
{
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
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
  *days = (double)keel_days_from_civil(y, mo, d);
  return 0;
}
