/* keel/rng.h: Philox4x32-10 known answers (Random123's kat_vectors) and the
 * mapping of (key, stream, index) onto Philox's key and counter words. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "keel/rng.h"
#include "test_util.h"

/* The mapping keel documents: c0 = index low, c1 = index high, c2 = stream
 * low, c3 = stream high, k0 = key low, k1 = key high. */
static keel_rng_block philox_words(const uint32_t ctr[4], const uint32_t key[2])
{
  uint64_t index = ((uint64_t)ctr[1] << 32) | ctr[0];
  uint64_t stream = ((uint64_t)ctr[3] << 32) | ctr[2];
  uint64_t k = ((uint64_t)key[1] << 32) | key[0];
  return keel_rng_philox(k, stream, index);
}

static void check_vector(const uint32_t ctr[4], const uint32_t key[2],
                         const uint32_t want[4])
{
  keel_rng_block b = philox_words(ctr, key);
  for (int i = 0; i < 4; i++) {
    if (b.v[i] != want[i])
      fprintf(stderr, "word %d: got 0x%08x, want 0x%08x\n", i, b.v[i], want[i]);
    CU_ASSERT_EQUAL(b.v[i], want[i]);
  }
}

static void test_kat_zero(void)
{
  static const uint32_t ctr[4] = {0, 0, 0, 0}, key[2] = {0, 0};
  static const uint32_t want[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c,
                                   0x9b00dbd8};
  check_vector(ctr, key, want);
  /* Same thing through the public signature directly. */
  keel_rng_block b = keel_rng_philox(0, 0, 0);
  CU_ASSERT_EQUAL(b.v[0], 0x6627e8d5u);
}

static void test_kat_ones(void)
{
  static const uint32_t ctr[4] = {0xffffffff, 0xffffffff, 0xffffffff,
                                  0xffffffff};
  static const uint32_t key[2] = {0xffffffff, 0xffffffff};
  static const uint32_t want[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                   0x6d5451fd};
  check_vector(ctr, key, want);
  keel_rng_block b = keel_rng_philox(UINT64_MAX, UINT64_MAX, UINT64_MAX);
  CU_ASSERT_EQUAL(b.v[3], 0x6d5451fdu);
}

static void test_kat_pi(void)
{
  static const uint32_t ctr[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e,
                                  0x03707344};
  static const uint32_t key[2] = {0xa4093822, 0x299f31d0};
  static const uint32_t want[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420,
                                   0x24126ea1};
  check_vector(ctr, key, want);
  /* The mapping spelled out as 64-bit arguments (key, stream, index). */
  keel_rng_block b = keel_rng_philox(
      0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull);
  CU_ASSERT_EQUAL(b.v[0], 0xd16cfe09u);
  CU_ASSERT_EQUAL(b.v[1], 0x94fdccebu);
  CU_ASSERT_EQUAL(b.v[2], 0x5001e420u);
  CU_ASSERT_EQUAL(b.v[3], 0x24126ea1u);
}

/* Each argument matters, and in its own place (a swapped mapping would make
 * some of these equal). */
static void test_arguments_distinct(void)
{
  keel_rng_block a = keel_rng_philox(1, 0, 0);
  keel_rng_block b = keel_rng_philox(0, 1, 0);
  keel_rng_block c = keel_rng_philox(0, 0, 1);
  keel_rng_block d = keel_rng_philox(1ull << 32, 0, 0);
  keel_rng_block e = keel_rng_philox(0, 1ull << 32, 0);
  keel_rng_block f = keel_rng_philox(0, 0, 1ull << 32);
  keel_rng_block all[6] = {a, b, c, d, e, f};
  for (int i = 0; i < 6; i++)
    for (int j = i + 1; j < 6; j++)
      CU_ASSERT(memcmp(&all[i], &all[j], sizeof a) != 0);
}

static void test_pure_function(void)
{
  keel_rng_block a = keel_rng_philox(42, 7, 123456789);
  keel_rng_block b = keel_rng_philox(42, 7, 123456789);
  CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
  CU_ASSERT_EQUAL(keel_rng_u64(42, 7, 9), keel_rng_u64(42, 7, 9));
}

static void test_u64_from_block(void)
{
  keel_rng_block b = keel_rng_philox(5, 6, 7);
  uint64_t want = ((uint64_t)b.v[0] << 32) | b.v[1];
  CU_ASSERT_EQUAL(keel_rng_u64(5, 6, 7), want);
}

static void test_uniform(void)
{
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    double u = keel_rng_uniform(2024, KEEL_RNG_STREAM_SHUFFLE, (uint64_t)i);
    CU_ASSERT_FATAL(u >= 0.0 && u < 1.0);
    /* 53 bits: u * 2^53 is an integer. */
    CU_ASSERT(ldexp(u, 53) == floor(ldexp(u, 53)));
    sum += u;
  }
  /* Mean 0.5, sd of the mean ~0.002: a broken generator lands far off. */
  CU_ASSERT(fabs(sum / n - 0.5) < 0.01);
  double u = keel_rng_uniform(2024, 1, 3);
  uint64_t w = keel_rng_u64(2024, 1, 3);
  CU_ASSERT_EQUAL(u, (double)(w >> 11) * 0x1.0p-53);
}

static void test_below(void)
{
  unsigned counts[10] = {0};
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    uint64_t r = keel_rng_below(7, KEEL_RNG_STREAM_SPLIT, (uint64_t)i, 10);
    CU_ASSERT_FATAL(r < 10);
    counts[r]++;
  }
  for (int k = 0; k < 10; k++)
    CU_ASSERT(counts[k] > 1700 && counts[k] < 2300);
  for (int i = 0; i < 100; i++)
    CU_ASSERT_EQUAL(keel_rng_below(7, 1, (uint64_t)i, 1), 0);
  /* n = 2^64 - 1 stays below n. */
  for (int i = 0; i < 100; i++)
    CU_ASSERT(keel_rng_below(9, 1, (uint64_t)i, UINT64_MAX) < UINT64_MAX);
  /* multiply-shift: the high word of u64 * n */
  uint64_t w = keel_rng_u64(3, 4, 5);
  CU_ASSERT_EQUAL(keel_rng_below(3, 4, 5, 1ull << 32), w >> 32);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"Philox4x32-10 KAT zero", test_kat_zero},
      {"Philox4x32-10 KAT all ones", test_kat_ones},
      {"Philox4x32-10 KAT pi digits", test_kat_pi},
      {"key, stream and index each matter", test_arguments_distinct},
      {"pure function", test_pure_function},
      {"u64 from block words", test_u64_from_block},
      {"uniform in [0,1) with 53 bits", test_uniform},
      {"below n", test_below},
      {NULL, NULL},
  };
  return keel_test_run_suite("rng", tests);
}
