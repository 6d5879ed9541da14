/* The csv source's byte-level parsing: an RFC 4180 tokenizer over an
 * in-memory buffer, and the strict number and date rules of the documented
 * type inference (docs/data.md). Self-contained (libc + libm only) so the
 * plugin, its unit test and the libFuzzer target compile the same code. */
#ifndef KEEL_CSV_PARSE_H
#define KEEL_CSV_PARSE_H

#include <stddef.h>
#include <stdint.h>

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
  size_t pos;   /* next byte to read */
  size_t line;  /* 1-based line number of buf[pos] */
  char delim;
  uint8_t special[256]; /* bytes that end an unquoted run */
} csvp_reader;

/* Outcomes of csvp_next_record. Errors are < 0. */
enum csvp_status {
  CSVP_OK = 0,
  CSVP_END = 1,               /* no more records */
  CSVP_EUNTERMINATED = -1,    /* a quoted field runs to the end of input */
  CSVP_EAFTER_QUOTE = -2,     /* a byte other than delimiter/EOL after "..." */
  CSVP_EQUOTE_IN_FIELD = -3,  /* a quote inside an unquoted field */
  CSVP_EBARE_CR = -4,         /* a CR not followed by LF outside quotes */
  CSVP_ENUL = -5              /* a NUL byte */
};

/* Where an error happened: the 1-based line and field of the record. */
typedef struct csvp_where {
  size_t line;   /* line of the offending byte (or where the quote opened) */
  size_t field;  /* 1-based field index within the record */
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
void csvp_count_records(const char *buf, size_t len, size_t begin,
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

/* Strict date: exactly YYYY-MM-DD (10 bytes) naming a valid proleptic
 * Gregorian date; *days gets the days since 1970-01-01. Returns 0 or -1. */
int csvp_parse_date(const char *p, size_t len, double *days);

#endif
