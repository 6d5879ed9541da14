/* Semantic versions (MAJOR.MINOR.PATCH[-PRE][+BUILD]) and version ranges.
 *
 * A range is one or more alternatives separated by "||"; an alternative is
 * space-separated comparators that must all hold. A comparator is
 *   >=V  >V  <=V  <V  =V  V      (a bare V means =V)
 *   ^V   (same major, or same minor when major is 0)
 *   ~V   (same minor; ~1 means same major)
 *   *    (any version)
 * where V may be partial ("1", "1.2"): missing parts are zero, so ">=1 <2"
 * is >=1.0.0 <2.0.0. Blanks may follow the operator (">= 1.2"). */
#ifndef KEEL_BASE_SEMVER_H
#define KEEL_BASE_SEMVER_H

#include <stdint.h>

#include "keel/error.h"

#define KEEL_SEMVER_PRE_MAX 64

typedef struct keel_semver {
  uint64_t major, minor, patch;
  char pre[KEEL_SEMVER_PRE_MAX]; /* pre-release ("rc.1"), "" if none */
} keel_semver;

/* Parses a full version strictly (three parts, no leading zeros, optional
 * -PRE and +BUILD). KEEL_EINVAL with err saying what was expected. */
int keel_semver_parse(const char *text, keel_semver *out, keel_error *err);
/* <0, 0, >0 by semver precedence (build metadata ignored). */
int keel_semver_compare(const keel_semver *a, const keel_semver *b);
/* Checks the syntax of a range (KEEL_EINVAL, err says why). */
int keel_semver_range_check(const char *range, keel_error *err);
/* *match = 1 when `version` (a full version) satisfies `range`. Returns
 * KEEL_EINVAL when either does not parse. */
int keel_semver_satisfies(const char *version, const char *range, int *match,
                          keel_error *err);

#endif
