/* The csv source's number parser (plugins/sources/csv/csv_parse.c) against
 * the C library's strtod, bit for bit, on random decimal strings of many
 * shapes: integers, fixed point, exponents, mantissas longer than 17 and
 * than 19 digits, subnormals and underflow, overflow, exact halfway points
 * between two doubles and strings a hair above and below them, and the
 * shortest / %.17g forms of random doubles. The strings come from Philox
 * (keel/rng.h), so a failure names a reproducible string.
 *
 * Runs 1.2 million strings (about 1.5 s); KEEL_CSV_NUMBERS=N runs N.
 * tests/bench/bench_csv.c includes this file (CSV_NUMBERS_NO_MAIN) for its
 * `numbers` command, which runs as many as asked. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/rng.h"

#include "../../plugins/sources/csv/csv_parse.c"

/* ---- a tiny unsigned bignum, only to print exact halfway points ------- */

enum { BN_LIMBS = 96 }; /* 3072 bits: 2^54 * 5^1075 fits */

typedef struct bn {
  uint32_t d[BN_LIMBS]; /* little endian */
  int n;
} bn;

static void bn_set(bn *a, uint64_t v)
{
  a->d[0] = (uint32_t)v;
  a->d[1] = (uint32_t)(v >> 32);
  a->n = a->d[1] ? 2 : 1;
}

static void bn_mul_small(bn *a, uint32_t m)
{
  uint64_t carry = 0;
  for (int i = 0; i < a->n; i++) {
    uint64_t t = (uint64_t)a->d[i] * m + carry;
    a->d[i] = (uint32_t)t;
    carry = t >> 32;
  }
  if (carry && a->n < BN_LIMBS)
    a->d[a->n++] = (uint32_t)carry;
}

/* Decimal digits of a (consumed) into out; returns the count. */
static size_t bn_to_dec(bn *a, char *out)
{
  char tmp[1200];
  size_t k = 0;
  while (a->n > 1 || a->d[0] != 0) {
    uint64_t rem = 0;
    for (int i = a->n - 1; i >= 0; i--) {
      uint64_t cur = (rem << 32) | a->d[i];
      a->d[i] = (uint32_t)(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (a->n > 1 && a->d[a->n - 1] == 0)
      a->n--;
    int last = a->n == 1 && a->d[0] == 0;
    for (int j = 0; j < 9 && (!last || rem); j++) {
      tmp[k++] = (char)('0' + rem % 10);
      rem /= 10;
    }
  }
  if (k == 0)
    tmp[k++] = '0';
  for (size_t i = 0; i < k; i++)
    out[i] = tmp[k - 1 - i];
  return k;
}

/* ---- the generator ---------------------------------------------------- */

typedef struct gen {
  uint64_t seed, index, draw;
} gen;

static uint64_t g_u64(gen *g)
{
  return keel_rng_u64(g->seed, g->index, g->draw++);
}

static uint32_t g_below(gen *g, uint32_t n)
{
  return (uint32_t)(g_u64(g) % n);
}

static size_t put_digits(gen *g, char *out, int count, int nonzero_first)
{
  uint64_t bits = 0;
  int left = 0;
  for (int k = 0; k < count; k++) {
    if (left == 0) {
      bits = g_u64(g);
      left = 19;
    }
    int d = (int)(bits % 10);
    bits /= 10;
    left--;
    if (k == 0 && nonzero_first && d == 0)
      d = 1 + (int)(bits % 9);
    out[k] = (char)('0' + d);
  }
  return (size_t)count;
}

static size_t put_exp(char *out, int e, int plus, int upper)
{
  return (size_t)sprintf(out, "%c%s%d", upper ? 'E' : 'e',
                         plus && e >= 0 ? "+" : "", e);
}

/* A random finite double from its bits (any exponent, subnormals too). */
static double g_double(gen *g)
{
  for (;;) {
    uint64_t b = g_u64(g) & ~(UINT64_C(1) << 63);
    double d;
    memcpy(&d, &b, sizeof d);
    if (isfinite(d))
      return d;
  }
}

/* The exact decimal of the midpoint between d > 0 and the next double up,
 * optionally nudged a hair below (-1) or above (+1). */
static size_t halfway(gen *g, char *out)
{
  uint64_t b;
  double d;
  uint32_t pick = g_below(g, 16);
  do {
    if (pick == 0) /* subnormal or smallest normals */
      b = g_u64(g) & ((UINT64_C(1) << 53) - 1);
    else /* binary exponents -200 .. +200 around 1 */
      b = ((uint64_t)(1023 - 200 + g_below(g, 401)) << 52) |
          (g_u64(g) & ((UINT64_C(1) << 52) - 1));
    memcpy(&d, &b, sizeof d);
  } while (!(d > 0) || !isfinite(nextafter(d, INFINITY)));
  uint64_t frac = b & ((UINT64_C(1) << 52) - 1);
  int bexp = (int)(b >> 52);
  uint64_t m = bexp ? frac | (UINT64_C(1) << 52) : frac;
  int e2 = bexp ? bexp - 1075 : -1074;
  /* midpoint = (2m + 1) * 2^(e2 - 1) */
  uint64_t k = 2 * m + 1;
  int e = e2 - 1;
  bn a;
  bn_set(&a, k);
  size_t n = 0;
  if (e >= 0) {
    for (int i = 0; i < e; i++)
      bn_mul_small(&a, 2);
    n = bn_to_dec(&a, out);
  } else {
    int f = -e; /* k * 5^f / 10^f */
    for (; f >= 13; f -= 13)
      bn_mul_small(&a, 1220703125u); /* 5^13 */
    for (; f > 0; f--)
      bn_mul_small(&a, 5);
    n = bn_to_dec(&a, out);
  }
  int nudge = (int)g_below(g, 3) - 1;
  if (nudge > 0) { /* a hair above: more digits */
    memcpy(out + n, "0000000000000000000001", 22);
    n += 22;
  } else if (nudge < 0 && e < 0) {       /* a hair below: ...4999..9 */
    out[n - 1] = (char)(out[n - 1] - 1); /* odd * 5^f ends in 5 */
    memcpy(out + n, "9999999999999999999999", 22);
    n += 22;
  }
  if (e < 0)
    n += put_exp(out + n, e, 0, 0);
  else
    n += put_exp(out + n, 0, 0, 0);
  return n;
}

/* Writes the i-th random decimal string of stream `seed` into out (room
 * for 2048 bytes), NUL-terminated; returns its length. */
static size_t csv_random_decimal(uint64_t seed, uint64_t i, char *out)
{
  gen g = {seed, i, 0};
  size_t n = 0;
  uint32_t shape = g_below(&g, 20);
  int sign = (int)g_below(&g, 4);
  if (shape != 11 && shape != 17) {
    if (sign == 0)
      out[n++] = '-';
    else if (sign == 1 && g_below(&g, 4) == 0)
      out[n++] = '+';
  }
  switch (shape) {
  case 0:
  case 1: /* integers, some with leading zeros, up to 25 digits */
    if (g_below(&g, 8) == 0)
      out[n++] = '0';
    n += put_digits(&g, out + n, 1 + (int)g_below(&g, 25), 0);
    break;
  case 2:
  case 3:
  case 4: { /* fixed point */
    int id = (int)g_below(&g, 21), fd = (int)g_below(&g, 26);
    if (id == 0 && fd == 0)
      fd = 1;
    n += put_digits(&g, out + n, id, 0);
    if (fd || g_below(&g, 2))
      out[n++] = '.';
    n += put_digits(&g, out + n, fd, 0);
    if (id == 0 && fd == 0)
      out[n++] = '0';
    break;
  }
  case 5:
  case 6:
  case 7: { /* scientific, exponents over the whole double range */
    n += put_digits(&g, out + n, 1, 1);
    int fd = (int)g_below(&g, 21);
    if (fd)
      out[n++] = '.';
    n += put_digits(&g, out + n, fd, 0);
    n += put_exp(out + n, (int)g_below(&g, 661) - 330, (int)g_below(&g, 2),
                 (int)g_below(&g, 2));
    break;
  }
  case 8:
  case 9: { /* long mantissas: 18..40 digits (1 in 16: up to 400) */
    int len = 18 + (int)g_below(&g, 23);
    if (g_below(&g, 16) == 0)
      len = 18 + (int)g_below(&g, 383);
    int point = (int)g_below(&g, (uint32_t)len + 1);
    n += put_digits(&g, out + n, point, 1);
    out[n++] = '.';
    n += put_digits(&g, out + n, len - point, 0);
    if (g_below(&g, 2))
      n += put_exp(out + n, (int)g_below(&g, 641) - 330, 0, 0);
    break;
  }
  case 10: { /* subnormals and underflow */
    int md = 1 + (int)g_below(&g, 20);
    n += put_digits(&g, out + n, 1, 1);
    out[n++] = '.';
    n += put_digits(&g, out + n, md, 0);
    n += put_exp(out + n, -300 - (int)g_below(&g, 30), 0, 0);
    break;
  }
  case 11:
  case 12: /* exact halfway points and their neighbours */
    n += halfway(&g, out + n);
    break;
  case 13:
  case 14: /* %.17g of random doubles (round trip form) */
    n += (size_t)sprintf(out + n, "%.17g", g_double(&g));
    break;
  case 15: /* shortest-ish forms of random doubles */
    n += (size_t)sprintf(out + n, "%.*g", 1 + (int)g_below(&g, 16),
                         g_double(&g));
    break;
  case 16: { /* many leading or trailing zeros */
    int z = (int)g_below(&g, 340);
    if (g_below(&g, 2)) {
      memcpy(out + n, "0.", 2);
      n += 2;
      memset(out + n, '0', (size_t)z);
      n += (size_t)z;
      n += put_digits(&g, out + n, 1 + (int)g_below(&g, 19), 1);
    } else {
      n += put_digits(&g, out + n, 1 + (int)g_below(&g, 19), 1);
      memset(out + n, '0', (size_t)z);
      n += (size_t)z;
      if (g_below(&g, 2))
        n += (size_t)sprintf(out + n, ".0e-%u", g_below(&g, 400));
    }
    break;
  }
  case 17: { /* near DBL_MAX and DBL_MIN, around overflow */
    static const char *const edge[] = {"1.7976931348623157e308",
                                       "1.7976931348623158e308",
                                       "1.797693134862315807e308",
                                       "1.7976931348623159e308",
                                       "179769313486231580793728971405301e276",
                                       "2.2250738585072014e-308",
                                       "2.2250738585072011e-308",
                                       "2.2250738585072012e-308",
                                       "4.9406564584124654e-324",
                                       "2.4703282292062327e-324",
                                       "2.4703282292062328e-324",
                                       "9007199254740993",
                                       "9007199254740992.5",
                                       "1e23",
                                       "8.98846567431158e307",
                                       "0.1e-342"};
    const char *s = edge[g_below(&g, 16)];
    if (g_below(&g, 2))
      out[n++] = '-';
    memcpy(out + n, s, strlen(s));
    n += strlen(s);
    break;
  }
  default: { /* the common case in files: short fixed decimals */
    n += put_digits(&g, out + n, 1 + (int)g_below(&g, 4), 0);
    out[n++] = '.';
    n += put_digits(&g, out + n, 1 + (int)g_below(&g, 8), 0);
    break;
  }
  }
  out[n] = '\0';
  return n;
}

/* 0 when the plugin's parser agrees with strtod on buf (NUL-terminated):
 * same bits for a finite value, overflow where strtod says +-HUGE_VAL;
 * both the inline fast scanner (csvp_parse_double) and the general one. */
static int csv_check_decimal(const char *buf, size_t len)
{
  double v = 0, ref;
  int st = csvp_parse_double(buf, len, &v);
  char *end = NULL;
  errno = 0;
  ref = strtod(buf, &end);
  if (end != buf + len)
    return 1; /* the generator made something strtod does not read whole */
  if (isinf(ref))
    return st == CSVP_NUM_OVERFLOW ? 0 : 1;
  if (st != CSVP_NUM_OK || memcmp(&v, &ref, sizeof v) != 0)
    return 1;
  /* the general scanner alone (the fast path above hands it only the
   * unusual strings) */
  const char *stop = NULL;
  double g = 0;
  if (csvp_scan_number(buf, buf + len, &g, &stop) != CSVP_NUM_OK ||
      stop != buf + len)
    return 1;
  if (memcmp(&g, &ref, sizeof g) != 0)
    return 1;
  /* the reader's path: the string as a cell inside a long buffer, the
   * delimiter (then more digits) or a line end after it, so the unchecked
   * fast path (csvp__scan_unchecked) reads real bytes beyond the cell */
  static const char *const after[] = {",12345678901234567890", "\n9.5e3",
                                      "\r\n", ";"};
  char cell[4 * CSVP_FAST_SPAN + 512];
  if (len + 2 * CSVP_FAST_SPAN >= sizeof cell)
    return 0;
  for (size_t a = 0; a < sizeof after / sizeof after[0]; a++) {
    size_t n = strlen(after[a]);
    memcpy(cell, buf, len);
    memcpy(cell + len, after[a], n);
    memset(cell + len + n, '7', sizeof cell - len - n);
    if (csvp_scan_number_fast(cell, cell + sizeof cell, &g, &stop) !=
            CSVP_NUM_OK ||
        stop != cell + len || memcmp(&g, &ref, sizeof g) != 0)
      return 1;
  }
  return 0;
}

#ifndef CSV_NUMBERS_NO_MAIN
#include <CUnit/CUnit.h>
#include <omp.h>

#include "base/params.h"
#include "plugin/table.h"
#include "test_util.h"

static uint64_t test_count(void)
{
  const char *e = getenv("KEEL_CSV_NUMBERS");
  if (e && *e)
    return strtoull(e, NULL, 10);
  return 1200000;
}

static void test_random_strings_match_strtod(void)
{
  char buf[2048];
  uint64_t n = test_count(), bad = 0, shapes[20] = {0};
  for (uint64_t i = 0; i < n; i++) {
    size_t len = csv_random_decimal(1, i, buf);
    if (len >= sizeof buf) {
      CU_FAIL("generator overflow");
      return;
    }
    if (csv_check_decimal(buf, len) != 0) {
      if (bad < 5) {
        double v = 0;
        csvp_parse_double(buf, len, &v);
        fprintf(stderr, "string %llu '%s': %.17g, strtod %.17g\n",
                (unsigned long long)i, buf, v, strtod(buf, NULL));
      }
      bad++;
    }
    gen g = {1, i, 0};
    shapes[g_below(&g, 20)]++;
  }
  CU_ASSERT_EQUAL(bad, 0);
  for (int s = 0; s < 20; s++) /* every shape was drawn */
    CU_ASSERT(shapes[s] > n / 40);
}

/* Hand-picked hard cases: ties to even, the boundaries of the fast paths,
 * 19 and 20 significant digits, truncation that decides a tie. */
static void test_hard_cases(void)
{
  static const char *const cases[] = {
      "9007199254740993",
      "9007199254740995",
      "9007199254740993.0000000001",
      "18014398509481985",
      "1e22",
      "1e23",
      "9999999999999999999",
      "18446744073709551615",
      "18446744073709551616",
      "18446744073709551617",
      "12345678901234567890123",
      "0.1",
      "0.2",
      "0.30000000000000004",
      "2.2250738585072011e-308",
      "2.2250738585072012e-308",
      "2.225073858507201136057409796709131975934819546351645648e-308",
      "4.9406564584124654e-324",
      "2.4703282292062327208e-324",
      "2.4703282292062328e-324",
      "7.4109846876186981626e-324",
      "1.7976931348623157e308",
      "1.7976931348623158079e308",
      "1.7976931348623158e308",
      "1.7976931348623159e308",
      "5e-324",
      "1e-400",
      "123456789012345678e-30",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "0.000000000000000000000000000000000000000000001e45",
      "100000000000000000000000000000000000000000000e-44",
      "7.2057594037927933e16",
      "3.4028236692093846346e38",
      "-0",
      "+0e999",
      "0e-999",
      "00000000000000000000000001",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = csv_check_decimal(cases[i], strlen(cases[i]));
    if (r)
      fprintf(stderr, "hard case '%s' differs from strtod\n", cases[i]);
    CU_ASSERT_EQUAL(r, 0);
  }
}

/* Bytes next to the digits in ASCII (/ : ; < = > ?) end a digit run in
 * every position of the eight-byte scanner: such strings are not
 * numbers. */
static void test_rejects_neighbours_of_digits(void)
{
  static const char near[] = "/:;<=>?";
  char buf[64];
  for (int pos = 0; pos < 20; pos++) {
    for (size_t k = 0; k < sizeof near - 1; k++) {
      for (int frac = 0; frac < 2; frac++) {
        size_t n = 0;
        if (frac)
          buf[n++] = '.';
        for (int i = 0; i < 20; i++)
          buf[n++] = (char)(i == pos ? near[k] : '1' + i % 9);
        double v;
        int st = csvp_parse_double(buf, n, &v);
        if (st != CSVP_NUM_BAD)
          fprintf(stderr, "'%.*s' read as a number\n", (int)n, buf);
        CU_ASSERT_EQUAL(st, CSVP_NUM_BAD);
      }
    }
  }
}

/* The checker can fail: a wrong value is caught. */
static void test_checker_can_fail(void)
{
  double v;
  CU_ASSERT_EQUAL(csvp_parse_double("0.1", 3, &v), CSVP_NUM_OK);
  double other = nextafter(v, 1.0);
  CU_ASSERT(memcmp(&v, &other, sizeof v) != 0);
  CU_ASSERT_NOT_EQUAL(csv_check_decimal("1x", 2), 0);
}

/* ---- through the plugin, at several thread counts ---------------------
 * The reader cuts the file into chunks at record starts and parses them in
 * parallel; tables and error messages must not depend on the thread count
 * (nor on where chunks fall), and numbers must still be strtod's. */

static const int thread_counts[] = {1, 2, 3, 5};
enum { N_THREAD_COUNTS = 4, ROWS = 20000 };

/* Reads path with the csv plugin at `threads`; numeric_col, when given, is
 * declared numeric. schema() must agree with read() on success and error. */
static keel_table *read_at(const char *path, int threads,
                           const char *numeric_col, int *rc, char *msg)
{
  const keel_loaded_plugin *p = keel_test_plugin(KEEL_KIND_SOURCE, "csv");
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  const keel_source_api *api = p->api;
  keel_value *v = keel_test_default_values(p);
  v[0].s = path;
  const keel_param_decl *nd = NULL;
  keel_value parsed, saved;
  size_t ni = 0;
  if (numeric_col) {
    while (strcmp(p->desc.params[ni].name, "numeric_columns") != 0)
      ni++;
    nd = &p->desc.params[ni];
    keel_error e = {0};
    CU_ASSERT_EQUAL_FATAL(keel_param_parse(nd, numeric_col, &parsed, &e), 0);
    saved = v[ni];
    v[ni] = parsed;
  }
  omp_set_num_threads(threads);
  keel_table *t = NULL;
  keel_error err = {0}, serr = {0};
  *rc = api->read(keel_test_host(), v, &t, &err);
  keel_schema sch;
  keel_schema_init(&sch);
  int src = api->schema(keel_test_host(), v, &sch, &serr);
  CU_ASSERT_EQUAL(src, *rc);
  if (*rc)
    CU_ASSERT_STRING_EQUAL(serr.message, err.message);
  keel_schema_free(&sch);
  strcpy(msg, err.message);
  if (numeric_col) {
    v[ni] = saved;
    keel_value_clear(nd, &parsed);
  }
  return t;
}

static int same_table(const keel_table *a, const keel_table *b)
{
  if (a->n_rows != b->n_rows || a->n_cols != b->n_cols)
    return 0;
  for (size_t c = 0; c < a->n_cols; c++) {
    const keel_column *x = &a->cols[c], *y = &b->cols[c];
    size_t n = a->n_rows;
    if (strcmp(x->name, y->name) != 0 || x->type != y->type ||
        memcmp(x->missing, y->missing, n) != 0)
      return 0;
    if (x->num && memcmp(x->num, y->num, n * sizeof *x->num) != 0)
      return 0;
    if (x->code && (x->n_dict != y->n_dict ||
                    memcmp(x->code, y->code, n * sizeof *x->code) != 0))
      return 0;
    for (size_t k = 0; x->code && k < x->n_dict; k++)
      if (strcmp(x->dict[k], y->dict[k]) != 0)
        return 0;
  }
  return 1;
}

/* A number strtod reads as finite (the generator's, or 1). */
static size_t finite_decimal(uint64_t i, char *buf)
{
  size_t n = csv_random_decimal(5, i, buf);
  if (n > 200 || isinf(strtod(buf, NULL))) {
    strcpy(buf, "1");
    n = 1;
  }
  return n;
}

/* Writes ROWS records: a = random decimal, b = integer (some empty, some
 * NA), c = a quoted text with commas, doubled quotes and line feeds, d =
 * short decimal; empty lines and CRLF here and there. `inject(row, f)`
 * may write a replacement record. Returns the data line of each row in
 * lines[] (1-based file lines). */
static void write_file(const char *path, size_t *lines,
                       int (*inject)(size_t row, FILE *f))
{
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char buf[2048];
  size_t line = 1;
  fputs("a,b,c,d\n", f);
  line++;
  for (size_t r = 0; r < ROWS; r++) {
    if (r % 997 == 13) { /* empty lines */
      fputs(r % 2 ? "\n" : "\r\n\n", f);
      line += r % 2 ? 1 : 2;
    }
    lines[r] = line;
    if (inject && inject(r, f)) {
      line++;
      continue;
    }
    finite_decimal(r, buf);
    fprintf(f, "%s,", buf);
    if (r % 11 == 3)
      fputs(r % 2 ? "" : "NA", f);
    else
      fprintf(f, "%d", (int)(r * 7919 % 1000) - 500);
    if (r % 5 == 0) {
      fprintf(f, ",\"x%zu, \"\"q\"\"\nnext\"", r % 7);
      line++;
    } else {
      fprintf(f, ",plain%zu", r % 3);
    }
    fprintf(f, ",%zu.%02zu%s", r % 100, r % 97, r % 13 == 0 ? "\r\n" : "\n");
    line++;
  }
  fclose(f);
}

static void test_threads_same_table(void)
{
  static size_t lines[ROWS];
  const char *path = keel_test_tmp_path("threads.csv");
  write_file(path, lines, NULL);
  keel_table *ref = NULL;
  char msg[512];
  for (int k = 0; k < N_THREAD_COUNTS; k++) {
    int rc;
    keel_table *t = read_at(path, thread_counts[k], NULL, &rc, msg);
    if (rc)
      fprintf(stderr, "%s\n", msg);
    CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
    CU_ASSERT_EQUAL(t->n_rows, ROWS);
    if (!ref) {
      ref = t;
      continue;
    }
    CU_ASSERT(same_table(ref, t));
    keel_table_free(t);
  }
  /* values: strtod's, the quoted text intact, masks as written */
  CU_ASSERT_EQUAL_FATAL(ref->cols[0].type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL_FATAL(ref->cols[2].type, KEEL_COL_CATEGORICAL);
  char buf[2048];
  size_t bad = 0;
  for (size_t r = 0; r < ROWS; r++) {
    finite_decimal(r, buf);
    double want = strtod(buf, NULL);
    bad += memcmp(&want, &ref->cols[0].num[r], sizeof want) != 0;
    bad += ref->cols[1].missing[r] != (r % 11 == 3);
    const char *text = ref->cols[2].dict[ref->cols[2].code[r]];
    if (r % 5 == 0) {
      snprintf(buf, sizeof buf, "x%zu, \"q\"\nnext", r % 7);
      bad += strcmp(text, buf) != 0;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  keel_table_free(ref);
}

/* The first tokenizer error of a plain sequential pass, as "line: field". */
static int sequential_error(const char *path, size_t *line, size_t *field)
{
  FILE *f = fopen(path, "rb");
  static char data[4 << 20];
  size_t n = fread(data, 1, sizeof data, f);
  fclose(f);
  csvp_reader r;
  csvp_init(&r, data, n, ',');
  csvp_field fl[8];
  size_t nf, rl;
  csvp_where w = {0, 0};
  int st;
  while ((st = csvp_next_record(&r, fl, 8, &nf, &rl, &w)) == CSVP_OK)
    ;
  *line = w.line;
  *field = w.field;
  return st;
}

static size_t bad_row;
static const char *bad_record;

static int inject_one(size_t row, FILE *f)
{
  if (row != bad_row)
    return 0;
  fputs(bad_record, f);
  return 1;
}

/* Writes the standard file with `record` in place of data row `row`;
 * returns the file lines of the rows. */
static const size_t *write_bad(const char *record, size_t row)
{
  static size_t lines[ROWS];
  bad_row = row;
  bad_record = record;
  write_file(keel_test_tmp_path("bad.csv"), lines, inject_one);
  return lines;
}

/* Every thread count fails with the same message, which holds `want`. */
static void check_error(const char *numeric, const char *want)
{
  const char *path = keel_test_tmp_path("bad.csv");
  char first[512] = "", msg[512];
  for (int k = 0; k < N_THREAD_COUNTS; k++) {
    int rc;
    keel_table *t = read_at(path, thread_counts[k], numeric, &rc, msg);
    CU_ASSERT_EQUAL(rc, KEEL_EDATA);
    CU_ASSERT_PTR_NULL(t);
    if (!strstr(msg, want))
      fprintf(stderr, "threads %d: '%s' lacks '%s'\n", thread_counts[k], msg,
              want);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    if (k == 0)
      strcpy(first, msg);
    CU_ASSERT_STRING_EQUAL(msg, first);
  }
}

static void test_threads_same_first_error(void)
{
  char want[128];
  const size_t *lines;
  size_t line = 0, field = 0;
  /* ragged rows, early and late */
  lines = write_bad("1,2,3\n", 123);
  snprintf(want, sizeof want, ":%zu: data row %d has 3 fields", lines[123],
           124);
  check_error(NULL, want);
  lines = write_bad("1,2,3,4,5\n", ROWS - 2);
  snprintf(want, sizeof want, ":%zu: data row %d has 5 fields", lines[ROWS - 2],
           ROWS - 1);
  check_error(NULL, want);
  /* a declared numeric column with a non-number */
  lines = write_bad("1,x7,a,2\n", 15000);
  snprintf(want, sizeof want, ":%zu: data row 15001, column 'b'", lines[15000]);
  check_error("b", want);
  /* a quote inside an unquoted field */
  lines = write_bad("1,2,ab\"c,3\n", 7777);
  snprintf(want, sizeof want, ":%zu: field 3 ('c')", lines[7777]);
  check_error(NULL, want);
  /* an unterminated quote: the quote parity of every later cut flips, so
   * the chunks after it mispredict; the error is the sequential one */
  write_bad("1,2,\"open,3\n", 9000);
  CU_ASSERT(sequential_error(keel_test_tmp_path("bad.csv"), &line, &field) < 0);
  snprintf(want, sizeof want, ":%zu: field %zu", line, field);
  check_error(NULL, want);
  /* a closing quote followed by a character, far into the file */
  write_bad("1,2,\"ok\"x,3\n", 19000);
  CU_ASSERT(sequential_error(keel_test_tmp_path("bad.csv"), &line, &field) < 0);
  snprintf(want, sizeof want, ":%zu: field %zu", line, field);
  check_error(NULL, want);
  /* two errors: the first in file order wins */
  write_bad("1,2,3\n", 4000);
  FILE *f = fopen(keel_test_tmp_path("bad.csv"), "ab");
  fputs("1,2,\"x\"y,3\n", f);
  fclose(f);
  snprintf(want, sizeof want, "data row 4001 has 3 fields");
  check_error(NULL, want);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"random decimal strings match strtod", test_random_strings_match_strtod},
      {"hard cases match strtod", test_hard_cases},
      {"bytes next to digits end a number", test_rejects_neighbours_of_digits},
      {"the checker can fail", test_checker_can_fail},
      {"any thread count reads the same table", test_threads_same_table},
      {"any thread count reports the same first error",
       test_threads_same_first_error},
      {NULL, NULL}};
  return keel_test_run_suite("csv_numbers", tests);
}
#endif
