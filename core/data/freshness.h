/* Freshness of a catalog dataset: an entry with max_age_days is stale
 * when today (UTC, the wall clock) minus its as_of date exceeds it. The
 * template's [contract] freshness says what a stale entry does: warn (the
 * default) or fail the run before any byte is read. A replay only
 * reports: the clock has moved since the bundle was sealed. The verdict
 * depends on the day, so it is recorded outside the result digest
 * (config_full.json "freshness"). docs/data-access.md, "Freshness". */
#ifndef KEEL_DATA_FRESHNESS_H
#define KEEL_DATA_FRESHNESS_H

#include <jansson.h>
#include <stdint.h>

#include "config/config.h"
#include "keel/error.h"

typedef struct keel_freshness {
  int checked;           /* the entry has a max_age_days */
  int stale;             /* age > max_age_days */
  int enforced;          /* policy fail and not a replay */
  char today[16];        /* YYYY-MM-DD, UTC */
  const char *as_of;     /* borrowed from the entry */
  int64_t age_days;      /* today - as_of */
  uint32_t max_age_days; /* the entry's */
  const char *policy;    /* "warn" or "fail" */
  const char *verdict;   /* "fresh", "stale: warned", "stale: failed",
                            "stale: reported (replay)" */
} keel_freshness;

/* Checks cfg's dataset (none, or one without max_age_days: nothing to
 * check) against the day `today_days` (days since 1970-01-01 UTC).
 * report_only: a replay, never fails. Fills *out; a stale entry under
 * [contract] freshness = fail returns KEEL_EINVAL (exit 2, before any
 * byte is read) with a message naming the entry, as_of, age and maximum;
 * else KEEL_OK, and out->stale with out->message-worthy fields set. */
int keel_freshness_check(const keel_run_config *cfg, int64_t today_days,
                         int report_only, keel_freshness *out, keel_error *err);

/* Today, in days since 1970-01-01 UTC, by the wall clock. */
int64_t keel_freshness_today(void);

/* The one-line warning for a stale entry (for the log):
 * "dataset ID is N days old (as_of D, today T), past its max_age_days M
 * ...". */
void keel_freshness_message(const keel_run_config *cfg, const keel_freshness *f,
                            char *buf, size_t n);

/* {"as_of", "today", "age_days", "max_age_days", "policy", "verdict"}. */
json_t *keel_freshness_json(const keel_freshness *f);

#endif
