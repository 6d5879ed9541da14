/* The csv source's byte-level parsing: an RFC 4180 tokenizer over an
 * in-memory buffer, and the strict number and date rules of the documented
 * type inference (docs/data.md). Self-contained (libc + libm only) so the
 * plugin, its unit test and the libFuzzer target compile the same code. */
#ifndef KEEL_CSV_PARSE_H
#define KEEL_CSV_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One field of a record: bytes [p, p+len) of the buffer. For a quoted
 * field p/len exclude the surrounding quotes; `escaped` says the content
 * still holds doubled quotes ("") that csvp_unescape turns into one. */
typedef struct csvp_field {
  const char *p;
  size_t len;
  uint8_t quoted;
  uint8_t escaped;
} csvp_field;

/* Tokenizer state over buf[0, len). Not NUL-terminated: any byte may
 * appear, the tokenizer never reads past len. */
typedef struct csvp_reader {
  const char *buf;
  size_t len;
  size_t pos;  /* next byte to read */
  size_t line; /* 1-based line number of buf[pos] */
  char delim;
  uint8_t special[256]; /* bytes that end an unquoted run */
} csvp_reader;

/* Outcomes of csvp_next_record. Errors are < 0. */
enum csvp_status {
  CSVP_OK = 0,
  CSVP_END = 1,              /* no more records */
  CSVP_EUNTERMINATED = -1,   /* a quoted field runs to the end of input */
  CSVP_EAFTER_QUOTE = -2,    /* a byte other than delimiter/EOL after "..." */
  CSVP_EQUOTE_IN_FIELD = -3, /* a quote inside an unquoted field */
  CSVP_EBARE_CR = -4,        /* a CR not followed by LF outside quotes */
  CSVP_ENUL = -5             /* a NUL byte */
};

/* Where an error happened: the 1-based line and field of the record. */
typedef struct csvp_where {
  size_t line;  /* line of the offending byte (or where the quote opened) */
  size_t field; /* 1-based field index within the record */
} csvp_where;

/* Starts reading buf. A UTF-8 byte-order mark at the start is skipped. */
void csvp_init(csvp_reader *r, const char *buf, size_t len, char delim);

/* Reads the next record. Completely empty lines are skipped. Stores up to
 * `cap` fields in `fields` and the true field count in *n_fields (which may
 * exceed cap: the caller detects ragged rows). *rec_line is the line the
 * record starts on. On error fills *where and returns a CSVP_E* code. */
int csvp_next_record(csvp_reader *r, csvp_field *fields, size_t cap,
                     size_t *n_fields, size_t *rec_line, csvp_where *where);

/* Writes the content of a quoted field with "" pairs collapsed into dst
 * (which holds at least f->len bytes); returns the content length. */
size_t csvp_unescape(const csvp_field *f, char *dst);

/* Static text for a CSVP_E* code. */
const char *csvp_strerror(int status);

/* Splitting a buffer into chunks that start at record starts, so that
 * chunks can be parsed independently. In a file csvp_next_record reads
 * without error, a line feed ends a record exactly when an even number of
 * quote bytes precede it since the data's start (quoted fields hold an
 * even number once closed, unquoted fields none); for other files the
 * chunks' parses disagree with these predictions, which the caller
 * detects (csv.c).
 *
 * The number of '"' bytes in buf[begin, end). */
size_t csvp_count_quotes(const char *buf, size_t begin, size_t end);

/* The first position after a line feed at or after `from` that is preceded
 * by an even number of quotes, given `odd` = the parity of the quotes
 * before `from`; len when there is none. */
size_t csvp_record_start_after(const char *buf, size_t len, size_t from,
                               int odd);

/* For a chunk buf[begin, end) that starts at a record start and ends at
 * one (or at len): the records csvp_next_record would read there, and the
 * line feeds in it. */
void csvp_count_records(const char *buf, size_t len, size_t begin, size_t end,
                        size_t *records, size_t *newlines);

/* csvp_count_records for a chunk without quote bytes, in one pass over
 * it: returns 0, or -1 (and counts nothing) when the chunk holds a '"'.
 * Numeric files rarely quote; the reader cuts them optimistically
 * (csv.c, plan_chunks) and takes the exact route only on a quote. */
int csvp_count_records_unquoted(const char *buf, size_t len, size_t begin,
                                size_t end, size_t *records, size_t *newlines);

/* Strict number parsing. The accepted syntax is decimal only:
 *   [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
 * The value is always exactly what strtod gives for the same text
 * (correctly rounded): Clinger's exact fast path, then an exact 128-bit
 * power-of-five product whose rounding is accepted only when provably
 * decided, and strtod for the rest (see csv_parse.c; test_csv_numbers.c
 * compares with strtod bit for bit). Subnormal results (strtod's ERANGE
 * on 1e-310) and underflow to zero are valid numbers; overflow (1e999) is
 * not. Besides, nan / inf / infinity (any case, optional sign) are
 * recognised as non-finite. */
enum csvp_num_status {
  CSVP_NUM_OK = 0,        /* a finite double in *out */
  CSVP_NUM_NONFINITE = 1, /* NaN or +-Inf literal, value in *out */
  CSVP_NUM_BAD = -1,      /* not a number */
  CSVP_NUM_OVERFLOW = -2  /* a decimal whose magnitude exceeds DBL_MAX */
};
int csvp_parse_double(const char *p, size_t len, double *out);

/* Reads the longest decimal number (the syntax above, no nan/inf) at the
 * start of [p, end) and sets *stop after it (to p when there is none).
 * Returns CSVP_NUM_OK, CSVP_NUM_OVERFLOW or CSVP_NUM_BAD; the caller
 * checks that *stop is where the field ends. */
int csvp_scan_number(const char *p, const char *end, double *out,
                     const char **stop);

/* The bits of the positive double nearest to w * 10^q (w > 0) when a
 * 128-bit product decides the rounding exactly, else 0 (near a halfway
 * point, subnormal, overflow, q out of the table): csv_parse.c. */
uint64_t csvp_round_pow10(uint64_t w, long q);

/* ---- the inline fast path of csvp_scan_number -------------------------
 * The same contract and results as csvp_scan_number (which it calls for
 * anything unusual: more than 19 digits, long exponents, undecided
 * roundings), inlined into the reader's hot loop. */

static const double csvp__pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t csvp__pow10_u64[9] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* The value of eight digit values (0..9, one per byte, the most
 * significant in the lowest byte). */
static inline uint64_t csvp__value8(uint64_t a)
{
  /* byte 2i+1 of a * (1 + 10 * 2^8) is 10 d[2i] + d[2i+1]; the other
   * bytes' spill is masked off (each pair < 100 < 2^8) */
  a = ((a * 2561) >> 8) & UINT64_C(0x00FF00FF00FF00FF);
  /* 16-bit lane 2i+1 of a * (1 + 100 * 2^16): four digits (< 2^16) */
  a = ((a * 6553601) >> 16) & UINT64_C(0x0000FFFF0000FFFF);
  /* the high half of a * (1 + 10000 * 2^32): eight digits (< 2^32) */
  return (a * UINT64_C(42949672960001)) >> 32;
}

/* Per byte of a (the input bytes xor '0'): top bit set when the byte is
 * not a digit (no carry between bytes: 0x7f + 0x76 < 0x100). */
static inline uint64_t csvp__nondigits(uint64_t a)
{
  return (((a & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7676767676767676)) |
          a) &
         UINT64_C(0x8080808080808080);
}

/* The exponent after the 'e' at s, on the unchecked path (s[0, 8) is
 * readable): adds it to *exp10 and returns the byte after it, or NULL for
 * anything unusual (no digit, six or more digits), which the general
 * scanner decides. */
static inline const char *csvp__exponent(const char *s, long *exp10)
{
  const char *e = s + 1, *ed;
  int eneg = 0;
  long ev = 0;
  if (*e == '+' || *e == '-') {
    eneg = *e == '-';
    e++;
  }
  for (ed = e; (unsigned)(*e - '0') < 10 && e - ed < 5; e++)
    ev = ev * 10 + (*e - '0');
  if (e == ed || (unsigned)(*e - '0') < 10)
    return NULL;
  *exp10 += eneg ? -ev : ev;
  return e;
}

/* One block of eight bytes at s (all readable): *acc = *acc * 10^k + the
 * value of its k leading digits (modulo 2^64); returns k, 8 when the
 * block is all digits. */
static inline int csvp__digit_block(const char *s, uint64_t *acc)
{
  uint64_t x, a, nondigit;
  memcpy(&x, s, sizeof x);
  a = x ^ UINT64_C(0x3030303030303030); /* digits become 0..9 */
  nondigit = csvp__nondigits(a);
  if (nondigit == 0) {
    *acc = *acc * 100000000u + csvp__value8(a);
    return 8;
  }
  int k = __builtin_ctzll(nondigit) >> 3;
  if (k) /* the k digits, shifted up so zeros lead */
    *acc = *acc * csvp__pow10_u64[k] + csvp__value8(a << (64 - 8 * k));
  return k;
}

/* Reads the run of digits at s, eight bytes at a time while 8 bytes are
 * left: *m = *m * 10^k + their value (modulo 2^64). Returns s + k. */
static inline const char *csvp__digits(const char *s, const char *end,
                                       uint64_t *m)
{
  uint64_t acc = *m;
  while (end - s >= 8) {
    int k = csvp__digit_block(s, &acc);
    s += k;
    if (k < 8) {
      *m = acc;
      return s;
    }
  }
  while (s < end && (unsigned)(*s - '0') < 10) {
    acc = acc * 10 + (unsigned)(*s - '0');
    s++;
  }
  *m = acc;
  return s;
}

/* Like csvp__digits without bounds checks, for at most 24 digits (three
 * blocks): reads s[0, 24) at most. After 24 digits it stops; the caller
 * counts more than 19 digits and takes the general path. */
static inline const char *csvp__digits24(const char *s, uint64_t *m)
{
  for (int i = 0; i < 3; i++) {
    int k = csvp__digit_block(s, m);
    s += k;
    if (k < 8)
      break;
  }
  return s;
}

/* Bytes a number may span on the unchecked path of csvp_scan_number_fast:
 * sign 1, digits 24, point 1, digits 24, 'e' 1, sign 1, exponent digits
 * 6 (5 and the byte after) = 58. */
#define CSVP_FAST_SPAN 64

/* The end of the fast path: the exponent at t if any, then the double
 * m * 10^exp10 with the sign bit neg. `wide` says m may exceed 2^53 (a
 * constant at each call, so each copy keeps only the test it needs). */
static inline int csvp__finish(const char *p, const char *end, double *out,
                               const char **stop, const char *t, uint64_t m,
                               long exp10, uint64_t neg, int wide)
{
  if ((*t | 0x20) == 'e') {
    t = csvp__exponent(t, &exp10);
    if (!t)
      return csvp_scan_number(p, end, out, stop);
  }
  uint64_t bits;
  if ((!wide || m <= (UINT64_C(1) << 53)) && exp10 >= -22 && exp10 <= 22) {
    double d = (double)m; /* exact */
    d = exp10 < 0 ? d / csvp__pow10_exact[-exp10]
                  : d * csvp__pow10_exact[exp10];
    memcpy(&bits, &d, sizeof bits);
  } else {
    bits = m ? csvp_round_pow10(m, exp10) : 0;
    if (bits == 0 && m)
      return csvp_scan_number(p, end, out, stop);
  }
  bits |= neg << 63; /* the sign as a bit, not a branch */
  memcpy(out, &bits, sizeof *out);
  *stop = t;
  return CSVP_NUM_OK;
}

/* The fast path for long digit runs (eight or more before or after the
 * point): runs of up to 24 digits, eight at a time. p[0, CSVP_FAST_SPAN)
 * must be readable; `end` is only passed on to csvp_scan_number. */
static inline int csvp__scan_long(const char *p, const char *end, double *out,
                                  const char **stop)
{
  const char *s = p;
  uint64_t m = 0;
  long exp10 = 0;
  /* the sign without a branch: it varies from cell to cell */
  uint64_t neg = *s == '-';
  s += neg | (*s == '+');
  const char *ds = s;
  s = csvp__digits24(s, &m);
  long ndig = s - ds;
  if (*s == '.') {
    const char *f = ++s;
    s = csvp__digits24(s, &m);
    exp10 = -(long)(s - f);
    ndig += s - f;
  }
  if (ndig == 0 || ndig > 19)
    return csvp_scan_number(p, end, out, stop);
  return csvp__finish(p, end, out, stop, s, m, exp10, neg, 1);
}

/* The value of the first k digits (0..7) of a (input bytes xor '0'). */
static inline uint64_t csvp__value_lead(uint64_t a, int k)
{
  /* bytes [0, k) shifted up so zeros lead; two shifts, so that k = 0
   * (an empty word) needs no shift by 64 */
  uint64_t digits = a & ((UINT64_C(1) << (8 * k)) - 1);
  return csvp__value8((digits << (63 - 8 * k)) << 1);
}

/* The fast path proper: p[0, CSVP_FAST_SPAN) must be readable; `end` is
 * only passed on to csvp_scan_number. Straight-line code for the common
 * cell, fewer than eight integer digits: one 8-byte load finds them, a
 * second the fraction's, and when there are at most eight digits in all
 * they are packed into one word and converted at once (one csvp__value8
 * instead of two). Longer fractions go on eight digits at a time. Long
 * integer parts take csvp__scan_long, more than 19 digits the general
 * scanner.
 * Always inlined, as is csvp_scan_number_fast: left to itself the
 * compiler may call it once per cell from the reader's loop, which costs
 * about a tenth of the parse (callgrind). */
static inline __attribute__((always_inline)) int
csvp__scan_unchecked(const char *p, const char *end, double *out,
                     const char **stop)
{
  const char *s = p;
  /* the sign without a branch: it varies from cell to cell */
  uint64_t neg = *s == '-';
  s += neg | (*s == '+');
  uint64_t x, a, nd, m;
  memcpy(&x, s, sizeof x);
  a = x ^ UINT64_C(0x3030303030303030); /* digits become 0..9 */
  nd = csvp__nondigits(a);
  if (nd == 0) /* eight or more integer digits */
    return csvp__scan_long(p, end, out, stop);
  int k = __builtin_ctzll(nd) >> 3; /* integer digits, 0..7 */
  const char *t = s + k;
  if (*t != '.') {
    if (k == 0) { /* no digit and no point: no number (an empty cell) */
      *stop = p;
      return CSVP_NUM_BAD;
    }
    m = csvp__value8(a << (64 - 8 * k));
    return csvp__finish(p, end, out, stop, t, m, 0, neg, 0);
  }
  const char *fr = t + 1;
  uint64_t y, b, nf;
  memcpy(&y, fr, sizeof y);
  b = y ^ UINT64_C(0x3030303030303030);
  nf = csvp__nondigits(b);
  if (nf == 0) { /* eight or more fraction digits */
    m = csvp__value_lead(a, k);
    t = csvp__digits24(fr, &m);
    long f = t - fr;
    if (k + f > 19) /* m wrapped, or 24 digits and more */
      return csvp_scan_number(p, end, out, stop);
    return csvp__finish(p, end, out, stop, t, m, -f, neg, 1);
  }
  int f = __builtin_ctzll(nf) >> 3;
  int n = k + f;
  if (n == 0) /* "." alone: the general scanner refuses it */
    return csvp_scan_number(p, end, out, stop);
  /* the digits of each side, most significant in the lowest byte */
  uint64_t ai = a & ((UINT64_C(1) << (8 * k)) - 1);
  uint64_t bf = b & ((UINT64_C(1) << (8 * f)) - 1);
  if (n <= 8) /* both sides in one word, zeros leading */
    m = csvp__value8((ai | (bf << (8 * k))) << (64 - 8 * n));
  else /* here k and f are both >= 2 */
    m = csvp__value8(ai << (64 - 8 * k)) * csvp__pow10_u64[f] +
        csvp__value8(bf << (64 - 8 * f));
  /* m < 10^14 < 2^53: exact as a double */
  return csvp__finish(p, end, out, stop, fr + f, m, -(long)f, neg, 0);
}

static inline __attribute__((always_inline)) int
csvp_scan_number_fast(const char *p, const char *end, double *out,
                      const char **stop)
{
  if (end - p < CSVP_FAST_SPAN) /* near the end of the buffer */
    return csvp_scan_number(p, end, out, stop);
  return csvp__scan_unchecked(p, end, out, stop);
}

/* Strict date: exactly YYYY-MM-DD (10 bytes) naming a valid proleptic
 * Gregorian date; *days gets the days since 1970-01-01. Returns 0 or -1. */
int csvp_parse_date(const char *p, size_t len, double *days);

#endif
