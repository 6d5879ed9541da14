/* The csv source's number parser (plugins/sources/csv/csv_parse.c) against
 * the C library's strtod, bit for bit, on random decimal strings of many
 * shapes: integers, fixed point, exponents, mantissas longer than 17 and
 * than 19 digits, subnormals and underflow, overflow, exact halfway points
 * between two doubles and strings a hair above and below them, and the
 * shortest / %.17g forms of random doubles. The strings come from Philox
 * (keel/rng.h), so a failure names a reproducible string.
 *
 * Runs about 1.5 million strings (under 2 s); KEEL_CSV_NUMBERS=N runs N.
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
  } else if (nudge < 0 && e < 0) { /* a hair below: ...4999..9 */
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
    static const char *const edge[] = {
        "1.7976931348623157e308",  "1.7976931348623158e308",
        "1.797693134862315807e308", "1.7976931348623159e308",
        "179769313486231580793728971405301e276", "2.2250738585072014e-308",
        "2.2250738585072011e-308", "2.2250738585072012e-308",
        "4.9406564584124654e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "9007199254740993",
        "9007199254740992.5",      "1e23",
        "8.98846567431158e307",    "0.1e-342"};
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
 * same bits for a finite value, overflow where strtod says +-HUGE_VAL. */
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
  if (st != CSVP_NUM_OK)
    return 1;
  return memcmp(&v, &ref, sizeof v) != 0;
}

#ifndef CSV_NUMBERS_NO_MAIN
#include <CUnit/CUnit.h>

#include "test_util.h"

static uint64_t test_count(void)
{
  const char *e = getenv("KEEL_CSV_NUMBERS");
  if (e && *e)
    return strtoull(e, NULL, 10);
  return 1500000;
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
      "9007199254740993",           "9007199254740995",
      "9007199254740993.0000000001", "18014398509481985",
      "1e22",                        "1e23",
      "9999999999999999999",         "18446744073709551615",
      "18446744073709551616",        "18446744073709551617",
      "12345678901234567890123",     "0.1",
      "0.2",                         "0.30000000000000004",
      "2.2250738585072011e-308",     "2.2250738585072012e-308",
      "2.225073858507201136057409796709131975934819546351645648e-308",
      "4.9406564584124654e-324",     "2.4703282292062327208e-324",
      "2.4703282292062328e-324",     "7.4109846876186981626e-324",
      "1.7976931348623157e308",      "1.7976931348623158079e308",
      "1.7976931348623158e308",      "1.7976931348623159e308",
      "5e-324",                      "1e-400",
      "123456789012345678e-30",      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "0.000000000000000000000000000000000000000000001e45",
      "100000000000000000000000000000000000000000000e-44",
      "7.2057594037927933e16",       "3.4028236692093846346e38",
      "-0",                          "+0e999",
      "0e-999",                      "00000000000000000000000001",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = csv_check_decimal(cases[i], strlen(cases[i]));
    if (r)
      fprintf(stderr, "hard case '%s' differs from strtod\n", cases[i]);
    CU_ASSERT_EQUAL(r, 0);
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

int main(void)
{
  static const keel_test_case tests[] = {
      {"random decimal strings match strtod", test_random_strings_match_strtod},
      {"hard cases match strtod", test_hard_cases},
      {"the checker can fail", test_checker_can_fail},
      {NULL, NULL}};
  return keel_test_run_suite("csv_numbers", tests);
}
#endif
