/* keel SDK helper: day numbers of the proleptic Gregorian calendar, the
 * unit of KEEL_COL_DATE columns (days since 1970-01-01, UTC). The csv
 * source turns YYYY-MM-DD cells into day numbers with these and the date
 * transform turns them back, so a plugin that uses them agrees with both.
 *
 * Contract: header-only, libc only (no host, no allocation, no state), so
 * safe from any thread; every function is static inline and each plugin
 * carries its own copy. Exact integer arithmetic (H. Hinnant's algorithms)
 * for |days| up to about 1e15; callers bound their input (the date
 * transform refuses |days| > 1e9). Stable: these compute the calendar,
 * which does not change. */
#ifndef KEEL_UTIL_CIVIL_H
#define KEEL_UTIL_CIVIL_H

#include <stdint.h>

/* a / b rounded towards minus infinity (b > 0). */
static inline int64_t keel_floordiv(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (days_from_civil); m in 1..12, d in
 * 1..31 (not checked against the month: a parser checks that). */
static inline int64_t keel_days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = keel_floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The year, month (1..12) and day (1..31) of day number z
 * (civil_from_days): the inverse of keel_days_from_civil. */
static inline void keel_civil_from_days(int64_t z, int64_t *y, int64_t *m,
                                        int64_t *d)
{
  int64_t zz = z + 719468;
  int64_t era = keel_floordiv(zz, 146097);
  int64_t doe = zz - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy0 = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy0 + 2) / 153;
  *d = doy0 - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

#endif /* KEEL_UTIL_CIVIL_H */
