/* keel_civil.h: day numbers of the proleptic Gregorian calendar, shared by
 * the csv source (YYYY-MM-DD cells become days since 1970-01-01) and the
 * date transform (days back to their parts), so the two cannot disagree.
 *
 * Header-only, libc only, every function static inline (as the other
 * plugins/common helpers): csv_parse.c, which the unit tests and the fuzz
 * target compile on their own, includes it by its relative path. */
#ifndef KEEL_PLUGINS_CIVIL_H
#define KEEL_PLUGINS_CIVIL_H

#include <stdint.h>

/* a / b rounded towards minus infinity (b > 0). */
static inline int64_t keel_floordiv(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil). */
static inline int64_t keel_days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = keel_floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

#endif
