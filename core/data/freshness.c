/* Freshness of a catalog dataset. See freshness.h. */
#include "data/freshness.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/status.h"

int64_t keel_freshness_today(void)
{
  return (int64_t)(time(NULL) / 86400);
}

static void day_text(int64_t days, char *buf, size_t n)
{
  time_t t = (time_t)(days * 86400);
  struct tm tm;
  if (gmtime_r(&t, &tm))
    strftime(buf, n, "%Y-%m-%d", &tm);
  else
    snprintf(buf, n, "?");
}

void keel_freshness_message(const keel_run_config *cfg, const keel_freshness *f,
                            char *buf, size_t n)
{
  const char *id = cfg->dataset ? cfg->dataset->entry->id : "?";
  const char *catalog = cfg->dataset ? cfg->dataset->catalog_path : "?";
  snprintf(buf, n,
           "dataset %s (%s) is %lld days old (as_of %s, today %s), past "
           "its max_age_days %u; [contract] freshness = %s%s",
           id, catalog, (long long)f->age_days, f->as_of, f->today,
           f->max_age_days, f->policy,
           f->enforced                    ? ": refused"
           : strstr(f->verdict, "replay") ? "; a replay reports it, never "
                                            "fails on it"
                                          : "; the run goes on");
}

int keel_freshness_check(const keel_run_config *cfg, int64_t today_days,
                         int report_only, keel_freshness *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  if (!cfg->dataset || !cfg->dataset->entry->max_age_days)
    return KEEL_OK;
  const keel_catalog_entry *e = cfg->dataset->entry;
  out->checked = 1;
  out->as_of = e->as_of;
  out->max_age_days = e->max_age_days;
  out->age_days = today_days - (int64_t)e->as_of_days;
  day_text(today_days, out->today, sizeof out->today);
  out->policy = cfg->checks.freshness_fail ? "fail" : "warn";
  out->stale = out->age_days > (int64_t)e->max_age_days;
  out->enforced = out->stale && cfg->checks.freshness_fail && !report_only;
  out->verdict = !out->stale     ? "fresh"
                 : out->enforced ? "stale: failed"
                 : report_only   ? "stale: reported (replay)"
                                 : "stale: warned";
  if (!out->enforced)
    return KEEL_OK;
  char msg[1024];
  keel_freshness_message(cfg, out, msg, sizeof msg);
  return keel_fail(err, KEEL_EINVAL, "%s", msg);
}

json_t *keel_freshness_json(const keel_freshness *f)
{
  return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "as_of", f->as_of, "today",
                   f->today, "age_days", (json_int_t)f->age_days,
                   "max_age_days", (json_int_t)f->max_age_days, "policy",
                   f->policy, "verdict", f->verdict);
}
