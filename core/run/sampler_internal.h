/* What the sampler files share (never included from another layer): the
 * Philox counter layout and one parameter's uniform draw. */
#ifndef KEEL_RUN_SAMPLER_INTERNAL_H
#define KEEL_RUN_SAMPLER_INTERNAL_H

#include <stdint.h>

#include "run/sampler.h"

/* Counter layout under key = seed. A trial's parameter i draws from stream
 * TAG << 48 | trial << 16 | i, so trial numbers fit 32 bits and a space
 * holds at most 65535 parameters (keel_sampler_check_space). Within that
 * stream, index 0 is the random draw (random, and TPE's start-up trials);
 * TPE's candidate c picks its kernel with index 1 + c and its value with
 * index 1 + KEEL_TPE_N_EI_CANDIDATES + c. The grid's permutation uses its
 * own tag, with the Feistel round as the stream's low bits. */
#define KEEL_SAMPLER_TAG_TRIAL 0x5357ull /* "SW" */
#define KEEL_SAMPLER_TAG_GRID 0x4752ull  /* "GR" */
#define KEEL_SAMPLER_MAX_PARAMS 65535u
#define KEEL_SAMPLER_MAX_TRIAL UINT32_MAX

static inline uint64_t keel__sampler_stream(uint64_t trial, size_t param)
{
  return KEEL_SAMPLER_TAG_TRIAL << 48 | trial << 16 | (uint64_t)param;
}

/* Refuses a trial number the counter layout cannot hold. */
int keel__sampler_check_trial(uint64_t trial_number, keel_error *err);

/* Parameter p's random draw from (key, stream, index): a choice index, an
 * integer of [lo, hi], a uniform value, or log-uniform. */
double keel__sampler_draw(const keel_tune_param *p, uint64_t key,
                          uint64_t stream, uint64_t index);

#endif
