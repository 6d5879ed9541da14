/* keel SDK: counter-based random numbers (Philox4x32-10).
 *
 * Random numbers are a pure function of (key, counter): no hidden state, so
 * any thread can compute the numbers of any row in any order and the
 * result never depends on the thread count. Use the seed the host gives
 * you as the key and a (stream, index) pair as the counter. Header-only so
 * that host and plugins compute identical bits. Reference: Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC11). */
#ifndef KEEL_RNG_H
#define KEEL_RNG_H

#include <stdint.h>

__extension__ typedef unsigned __int128 keel__u128;

typedef struct keel_rng_block {
  uint32_t v[4];
} keel_rng_block;

static inline void keel__philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi,
                                        uint32_t *lo)
{
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

/* Four independent 32-bit words for (key, stream, index). */
static inline keel_rng_block keel_rng_philox(uint64_t key, uint64_t stream,
                                             uint64_t index)
{
  uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32);
  uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int round = 0; round < 10; round++) {
    uint32_t hi0, lo0, hi1, lo1;
    keel__philox_mulhilo(0xD2511F53u, c0, &hi0, &lo0);
    keel__philox_mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  keel_rng_block b = {{c0, c1, c2, c3}};
  return b;
}

/* A 64-bit word for (key, stream, index). */
static inline uint64_t keel_rng_u64(uint64_t key, uint64_t stream,
                                    uint64_t index)
{
  keel_rng_block b = keel_rng_philox(key, stream, index);
  return ((uint64_t)b.v[0] << 32) | b.v[1];
}

/* A double uniform in [0, 1) with 53 random bits. */
static inline double keel_rng_uniform(uint64_t key, uint64_t stream,
                                      uint64_t index)
{
  return (double)(keel_rng_u64(key, stream, index) >> 11) * 0x1.0p-53;
}

/* An integer uniform in [0, n), n > 0, by multiply-shift (Lemire) without
 * the rejection step. */
static inline uint64_t keel_rng_below(uint64_t key, uint64_t stream,
                                      uint64_t index, uint64_t n)
{
  /* 128-bit multiply-shift; the bias is below n / 2^64, negligible for
   * any table keel handles, and the result stays a pure function. */
  keel__u128 m = (keel__u128)keel_rng_u64(key, stream, index) * n;
  return (uint64_t)(m >> 64);
}

/* Stream numbers the host uses; plugins pick their own above 1000. */
#define KEEL_RNG_STREAM_SHUFFLE 1u
#define KEEL_RNG_STREAM_SPLIT 2u
#define KEEL_RNG_STREAM_INIT 3u
#define KEEL_RNG_STREAM_SYNTHETIC 4u
#define KEEL_RNG_STREAM_SAMPLE 5u    /* [data] sample_* */
#define KEEL_RNG_STREAM_REBALANCE 6u /* [data] rebalance */
#define KEEL_RNG_STREAM_PLUGIN 1000u

#endif /* KEEL_RNG_H */
