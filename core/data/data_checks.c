/* The template's declared data checks (data_checks.h): the whole table's
 * ([checks]) and each column's ([checks.column.NAME]), drift included,
 * evaluated in a fixed order with sums in row order, so the observed
 * values are the same bits at any thread count. */
#include "data/data_checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/json_text.h"
#include "base/sha256.h"
#include "base/status.h"
#include "config/catalog.h"
#include "config/config_error.h"
#include "config/dataset.h"
#include "data/drift.h"
#include "plugin/table.h"

void keel_check_report_free(keel_check_report *r)
{
  if (!r)
    return;
  free(r->r);
  memset(r, 0, sizeof *r);
}

static int has_bound(const keel_column_check *c, keel_column_bound b)
{
  return !isnan(c->bound[b]);
}

static int wants_drift(const keel_column_check *c)
{
  return has_bound(c, KEEL_CB_PSI_MAX) || has_bound(c, KEEL_CB_KS_MAX);
}

static int wants_numbers(const keel_column_check *c)
{
  for (int b = 0; b < KEEL_CB_N; b++)
    if (b != KEEL_CB_MAX_MISSING && has_bound(c, (keel_column_bound)b))
      return 1;
  return 0;
}

/* ---- the drift reference ------------------------------------------------ */

/* The reference's statistics: the entry [checks] drift_reference names in
 * the run's catalog, else the run's own entry. */
typedef struct drift_ref {
  const keel_catalog_entry *entry;
  json_t *stats;
  char sha256[65];
} drift_ref;

static int load_reference(const keel_run_config *cfg, drift_ref *ref,
                          keel_error *err)
{
  memset(ref, 0, sizeof *ref);
  const char *name = cfg->checks.drift_reference;
  if (!cfg->dataset)
    return keel_fail(err, KEEL_EINVAL,
                     "[checks] a drift check (psi_max, ks_max) compares with "
                     "the statistics a catalog entry records, but the source "
                     "reads a plain path; name a catalog dataset in [source] "
                     "dataset");
  if (!name[0])
    ref->entry = cfg->dataset->entry;
  else {
    int rc = keel_catalog_find(cfg->dataset->catalog, name, &ref->entry, err);
    if (rc) {
      keel_error_prefix(err, "[checks] drift_reference = %s", name);
      return KEEL_EINVAL;
    }
  }
  if (!ref->entry->stats)
    return keel_fail(err, KEEL_EINVAL,
                     "[checks] drift reference %s (%s:%d) records no "
                     "statistics (no stats key); expected an entry written "
                     "by keel data add",
                     ref->entry->id, cfg->dataset->catalog->path,
                     ref->entry->line);
  unsigned char *bytes = NULL;
  size_t n = 0;
  keel_error rerr = {0};
  if (keel_read_file(ref->entry->stats, &bytes, &n, &rerr))
    return keel_fail(err, KEEL_EINVAL,
                     "[checks] drift reference %s: its statistics %s cannot "
                     "be read: %s",
                     ref->entry->id, ref->entry->stats, rerr.message);
  keel_sha256_hex(bytes, n, ref->sha256);
  /* The catalog anchors the statistics as it anchors the data: a profile
   * edited after cataloguing would move every drift figure silently. */
  if (ref->entry->stats_sha256[0] &&
      strcmp(ref->sha256, ref->entry->stats_sha256) != 0) {
    free(bytes);
    return keel_fail(
        err, KEEL_EINVAL,
        "[checks] drift reference %s: its statistics %s have "
        "SHA-256 %s; the catalog (%s:%d) expects %s (stats_sha256)",
        ref->entry->id, ref->entry->stats, ref->sha256,
        cfg->dataset->catalog->path, ref->entry->line,
        ref->entry->stats_sha256);
  }
  json_error_t je;
  ref->stats = json_loadb((const char *)bytes, n, 0, &je);
  free(bytes);
  if (!json_is_array(json_object_get(ref->stats, "columns"))) {
    json_decref(ref->stats);
    ref->stats = NULL;
    return keel_fail(err, KEEL_EINVAL,
                     "[checks] drift reference %s: statistics %s is not the "
                     "JSON keel data add writes (expected \"columns\": [...])",
                     ref->entry->id, ref->entry->stats);
  }
  return KEEL_OK;
}

/* The reference profile of column name. */
static int reference_profile(const drift_ref *ref, const char *name,
                             keel_drift_profile *out, keel_error *err)
{
  const json_t *cols = json_object_get(ref->stats, "columns");
  for (size_t i = 0; i < json_array_size(cols); i++) {
    const json_t *c = json_array_get(cols, i);
    const char *cn = json_string_value(json_object_get(c, "name"));
    if (!cn || strcmp(cn, name) != 0)
      continue;
    const json_t *d = json_object_get(c, "drift");
    if (!d)
      return keel_fail(err, KEEL_EINVAL,
                       "[checks] drift reference %s: statistics %s have no "
                       "drift profile for column '%s' (one is recorded for a "
                       "numeric column with at least 10 finite values)",
                       ref->entry->id, ref->entry->stats, name);
    char what[512];
    snprintf(what, sizeof what,
             "[checks] drift reference %s: statistics %s, column '%s'",
             ref->entry->id, ref->entry->stats, name);
    return keel_drift_profile_parse(d, what, out, err);
  }
  return keel_fail(err, KEEL_EINVAL,
                   "[checks] drift reference %s: statistics %s have no "
                   "column '%s'",
                   ref->entry->id, ref->entry->stats, name);
}

/* ---- before the data ------------------------------------------------------
 */

static const keel_column_schema *schema_col(const keel_schema *s,
                                            const char *name)
{
  for (size_t i = 0; i < s->n_cols; i++)
    if (strcmp(s->cols[i].name, name) == 0)
      return &s->cols[i];
  return NULL;
}

int keel_data_checks_validate(const keel_run_config *cfg,
                              const keel_schema *src, keel_error *err)
{
  const keel_template_checks *k = &cfg->checks;
  drift_ref ref = {0};
  int rc = KEEL_OK, loaded = 0;
  for (size_t a = 0; a < k->n_after; a++) {
    size_t i = 0;
    while (i < cfg->n_transforms &&
           strcmp(cfg->transforms[i].section, k->after[a]) != 0)
      i++;
    if (i < cfg->n_transforms)
      continue;
    char have[512] = "";
    for (size_t j = 0; j < cfg->n_transforms; j++) {
      size_t used = strlen(have);
      snprintf(have + used, sizeof have - used, "%s[%s]", j ? ", " : "",
               cfg->transforms[j].section);
    }
    return keel_config_fail(err, KEEL_EINVAL, k->after_file, k->after_line,
                            "[checks] after: the manifest has no stage [%s]; "
                            "its transforms are %s",
                            k->after[a], have[0] ? have : "none");
  }
  for (size_t i = 0; !rc && i < k->n_columns; i++) {
    const keel_column_check *c = &k->columns[i];
    const keel_column_schema *s = schema_col(src, c->name);
    if (!s) {
      char cols[512] = "";
      for (size_t j = 0; j < src->n_cols; j++) {
        size_t used = strlen(cols);
        snprintf(cols + used, sizeof cols - used, "%s%s", j ? ", " : "",
                 src->cols[j].name);
      }
      rc = keel_config_fail(err, KEEL_EINVAL, c->file, c->line,
                            "[checks.column.%s]: the source has no column "
                            "'%s'; its columns are %s",
                            c->name, c->name, cols);
    } else if (wants_numbers(c) && s->type != KEEL_COL_NUMERIC)
      rc = keel_config_fail(err, KEEL_EINVAL, c->file, c->line,
                            "[checks.column.%s]: column '%s' is %s; value "
                            "ranges, mean, std and drift bounds apply to a "
                            "numeric column",
                            c->name, c->name, keel_col_type_name(s->type));
    else if (c->categories && s->type != KEEL_COL_CATEGORICAL &&
             s->type != KEEL_COL_TEXT)
      rc = keel_config_fail(err, KEEL_EINVAL, c->file, c->line,
                            "[checks.column.%s]: column '%s' is %s; "
                            "categories apply to a categorical or text column",
                            c->name, c->name, keel_col_type_name(s->type));
    else if (wants_drift(c)) {
      keel_drift_profile p;
      if (!loaded && !(rc = load_reference(cfg, &ref, err)))
        loaded = 1;
      if (!rc)
        rc = reference_profile(&ref, c->name, &p, err);
    }
  }
  json_decref(ref.stats);
  return rc;
}

/* ---- on the data ----------------------------------------------------------
 */

static keel_check_result *add(keel_check_report *out, const char *check,
                              const char *column, double observed, double bound,
                              int passed)
{
  keel_check_result *grown = realloc(out->r, (out->n + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  out->r = grown;
  keel_check_result *r = &grown[out->n++];
  memset(r, 0, sizeof *r);
  snprintf(r->check, sizeof r->check, "%s", check);
  snprintf(r->column, sizeof r->column, "%s", column ? column : "");
  r->observed = observed;
  r->bound = bound;
  r->passed = passed;
  /* PSI and KS at 6 decimals: the precision a reader checks by hand */
  int fixed = strcmp(check, "psi_max") == 0 || strcmp(check, "ks_max") == 0;
  if (!isnan(observed))
    snprintf(r->observed_text, sizeof r->observed_text,
             fixed ? "%.6f" : "%.10g", observed);
  else
    snprintf(r->observed_text, sizeof r->observed_text, "no value");
  snprintf(r->bound_text, sizeof r->bound_text, "%.10g", bound);
  out->n_failed += !passed;
  return r;
}

/* Mean, sample standard deviation (n - 1), smallest and largest of the
 * finite values of a numeric column in kept-row order; the rows of the
 * extremes in *lo_row, *hi_row (source rows, 0-based). */
typedef struct col_stats {
  size_t n, missing, lo_row, hi_row;
  double mean, sd, lo, hi;
} col_stats;

/* Row i of the rows checked: kept[i], or i itself when kept is NULL. */
#define ROW(kept, i) ((kept) ? (kept)[i] : (i))

static col_stats numeric_stats(const keel_column *c, const size_t *kept,
                               size_t n_kept)
{
  col_stats s = {0};
  double sum = 0;
  s.lo = NAN;
  s.hi = NAN;
  for (size_t i = 0; i < n_kept; i++) {
    size_t r = ROW(kept, i);
    if (c->missing[r]) {
      s.missing++;
      continue;
    }
    if (!c->num || !isfinite(c->num[r]))
      continue;
    double x = c->num[r];
    if (!s.n || x < s.lo) {
      s.lo = x;
      s.lo_row = r;
    }
    if (!s.n || x > s.hi) {
      s.hi = x;
      s.hi_row = r;
    }
    sum += x;
    s.n++;
  }
  s.mean = s.n ? sum / (double)s.n : NAN;
  double ss = 0;
  for (size_t i = 0; s.n && i < n_kept; i++) {
    size_t r = ROW(kept, i);
    if (!c->missing[r] && c->num && isfinite(c->num[r]))
      ss += (c->num[r] - s.mean) * (c->num[r] - s.mean);
  }
  s.sd = s.n > 1 ? sqrt(ss / (double)(s.n - 1)) : NAN;
  return s;
}

#define OOM() keel_fail(err, KEEL_ENOMEM, "out of memory")

static int table_checks(const keel_run_config *cfg, const keel_table *t,
                        size_t label_col, const size_t *kept, size_t n_kept,
                        const int32_t *cls, const char *const *names,
                        size_t n_classes, keel_check_report *out,
                        keel_error *err)
{
  const keel_template_checks *k = &cfg->checks;
  if (k->min_rows >= 0 &&
      !add(out, "min_rows", NULL, (double)n_kept, (double)k->min_rows,
           n_kept >= (size_t)k->min_rows))
    return OOM();
  if (out->n_failed)
    snprintf(out->first_failure, sizeof out->first_failure,
             "[data] %zu usable rows, but the template requires at least "
             "%lld (min_rows)",
             n_kept, (long long)k->min_rows);
  if (k->max_rows >= 0 &&
      !add(out, "max_rows", NULL, (double)n_kept, (double)k->max_rows,
           n_kept <= (size_t)k->max_rows))
    return OOM();
  if (k->max_missing_fraction >= 0) {
    /* the worst column stands for all (the first of equals) */
    size_t worst = SIZE_MAX, worst_miss = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
      if (c == label_col)
        continue;
      size_t miss = 0;
      for (size_t i = 0; i < n_kept; i++)
        miss += t->cols[c].missing[kept[i]] != 0;
      if (worst == SIZE_MAX || miss > worst_miss) {
        worst = c;
        worst_miss = miss;
      }
    }
    if (worst != SIZE_MAX) {
      double frac = n_kept ? (double)worst_miss / (double)n_kept : 0.0;
      keel_check_result *r =
          add(out, "max_missing_fraction", t->cols[worst].name, frac,
              k->max_missing_fraction, frac <= k->max_missing_fraction);
      if (!r)
        return OOM();
      snprintf(r->observed_text, sizeof r->observed_text, "%.10g (%zu of %zu)",
               frac, worst_miss, n_kept);
      if (!r->passed && !out->first_failure[0])
        snprintf(out->first_failure, sizeof out->first_failure,
                 "[data] column '%.200s' is %.1f%% missing (%zu of %zu rows), "
                 "but the template allows at most %.1f%% "
                 "(max_missing_fraction)",
                 t->cols[worst].name, 100.0 * frac, worst_miss, n_kept,
                 100.0 * k->max_missing_fraction);
    }
  }
  if (!cls || !n_classes ||
      (k->min_class_count < 0 && k->max_class_imbalance < 0))
    return KEEL_OK;
  size_t *count = calloc(n_classes, sizeof *count);
  if (!count)
    return OOM();
  for (size_t i = 0; i < n_kept; i++)
    count[cls[i]]++;
  size_t lo = 0, hi = 0; /* first smallest, first largest class */
  for (size_t c = 1; c < n_classes; c++) {
    lo = count[c] < count[lo] ? c : lo;
    hi = count[c] > count[hi] ? c : hi;
  }
  const char *label = t->cols[label_col].name;
  keel_check_result *r = NULL;
  int rc = KEEL_OK;
  if (k->min_class_count >= 0) {
    if (!(r = add(out, "min_class_count", label, (double)count[lo],
                  (double)k->min_class_count,
                  count[lo] >= (size_t)k->min_class_count)))
      rc = OOM();
    else
      snprintf(r->observed_text, sizeof r->observed_text,
               "%zu (class '%.100s')", count[lo], names[lo]);
    if (r && !r->passed && !out->first_failure[0])
      snprintf(out->first_failure, sizeof out->first_failure,
               "[data] class '%.200s' of label '%.200s' has %zu rows, but "
               "the template requires at least %lld (min_class_count)",
               names[lo], label, count[lo], (long long)k->min_class_count);
  }
  if (!rc && k->max_class_imbalance >= 0) {
    double ratio = count[lo] ? (double)count[hi] / (double)count[lo] : NAN;
    if (!(r = add(out, "max_class_imbalance", label, ratio,
                  k->max_class_imbalance,
                  !isnan(ratio) && ratio <= k->max_class_imbalance)))
      rc = OOM();
    else
      snprintf(r->observed_text, sizeof r->observed_text,
               "%.6g ('%.60s' %zu / '%.60s' %zu)", ratio, names[hi], count[hi],
               names[lo], count[lo]);
  }
  free(count);
  return rc;
}

/* The value of a categorical or text column in source row r. */
static const char *text_at(const keel_column *c, size_t r)
{
  return c->type == KEEL_COL_TEXT ? c->text[r] : c->dict[c->code[r]];
}

static int categories_check(const keel_column_check *cc, const keel_column *c,
                            const size_t *kept, size_t n_kept,
                            const size_t *src_rows, keel_check_report *out)
{
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n_kept; i++) {
    size_t r = ROW(kept, i);
    if (c->missing[r])
      continue;
    const char *v = text_at(c, r);
    size_t j = 0;
    while (j < cc->n_categories && strcmp(cc->categories[j], v) != 0)
      j++;
    if (j == cc->n_categories && !bad++)
      first = r;
  }
  keel_check_result *res = add(out, "categories", cc->name, NAN, NAN, !bad);
  if (!res)
    return KEEL_ENOMEM;
  if (bad)
    snprintf(res->observed_text, sizeof res->observed_text,
             "'%.80s' (source data row %zu; %zu value%s in all)",
             text_at(c, first), (src_rows ? src_rows[first] : first) + 1, bad,
             bad == 1 ? "" : "s");
  else
    snprintf(res->observed_text, sizeof res->observed_text, "every value");
  size_t used = 0;
  res->bound_text[0] = '\0';
  for (size_t j = 0; j < cc->n_categories && used < sizeof res->bound_text; j++)
    used +=
        (size_t)snprintf(res->bound_text + used, sizeof res->bound_text - used,
                         "%s%s", j ? ", " : "", cc->categories[j]);
  return KEEL_OK;
}

/* One bound to judge: the value observed, whether the bound is an upper
 * one, and the source row + 1 of the value (0: none). */
typedef struct bound_item {
  keel_column_bound which;
  double observed;
  int upper;
  size_t row;
} bound_item;

static int column_checks(const keel_column_check *cc, const keel_column *c,
                         const size_t *kept, size_t n_kept,
                         const size_t *src_rows, const char *stage,
                         const drift_ref *ref, keel_check_report *out,
                         keel_error *err)
{
  size_t first = out->n;
  col_stats s = numeric_stats(c, kept, n_kept);
  if (src_rows && s.n) { /* a stage's table: its rows are training rows */
    s.lo_row = src_rows[s.lo_row];
    s.hi_row = src_rows[s.hi_row];
  }
  const double *b = cc->bound;
  bound_item items[KEEL_CB_N];
  size_t n = 0;
  if (has_bound(cc, KEEL_CB_MAX_MISSING)) {
    double f = n_kept ? (double)s.missing / (double)n_kept : 0;
    items[n++] = (bound_item){KEEL_CB_MAX_MISSING, f, 1, 0};
  }
  if (has_bound(cc, KEEL_CB_MIN))
    items[n++] = (bound_item){KEEL_CB_MIN, s.lo, 0, s.lo_row + 1};
  if (has_bound(cc, KEEL_CB_MAX))
    items[n++] = (bound_item){KEEL_CB_MAX, s.hi, 1, s.hi_row + 1};
  if (has_bound(cc, KEEL_CB_MEAN_MIN))
    items[n++] = (bound_item){KEEL_CB_MEAN_MIN, s.mean, 0, 0};
  if (has_bound(cc, KEEL_CB_MEAN_MAX))
    items[n++] = (bound_item){KEEL_CB_MEAN_MAX, s.mean, 1, 0};
  if (has_bound(cc, KEEL_CB_STD_MIN))
    items[n++] = (bound_item){KEEL_CB_STD_MIN, s.sd, 0, 0};
  if (has_bound(cc, KEEL_CB_STD_MAX))
    items[n++] = (bound_item){KEEL_CB_STD_MAX, s.sd, 1, 0};
  if (wants_drift(cc)) {
    keel_drift_profile rp, run;
    int rc = reference_profile(ref, cc->name, &rp, err);
    if (rc)
      return rc;
    keel_drift_profile_count(&rp, c->num, c->missing, kept, n_kept, &run);
    double psi, ks;
    keel_drift_compare(&rp, &run, &psi, &ks);
    if (!run.n)
      psi = ks = NAN;
    if (has_bound(cc, KEEL_CB_PSI_MAX))
      items[n++] = (bound_item){KEEL_CB_PSI_MAX, psi, 1, 0};
    if (has_bound(cc, KEEL_CB_KS_MAX))
      items[n++] = (bound_item){KEEL_CB_KS_MAX, ks, 1, 0};
  }
  for (size_t i = 0; i < n; i++) {
    double o = items[i].observed, bd = b[items[i].which];
    int ok = !isnan(o) && (items[i].upper ? o <= bd : o >= bd);
    keel_check_result *r =
        add(out, keel_column_bound_key(items[i].which), cc->name, o, bd, ok);
    if (!r)
      return OOM();
    if (items[i].row && !isnan(o)) {
      size_t used = strlen(r->observed_text);
      snprintf(r->observed_text + used, sizeof r->observed_text - used,
               " (source data row %zu)", items[i].row);
    }
    snprintf(r->where, sizeof r->where, "%s:%d", cc->file, cc->line);
  }
  if (cc->categories && categories_check(cc, c, kept, n_kept, src_rows, out))
    return OOM();
  if (cc->categories)
    snprintf(out->r[out->n - 1].where, sizeof out->r[0].where, "%s:%d",
             cc->file, cc->line);
  for (size_t i = first; i < out->n; i++)
    snprintf(out->r[i].stage, sizeof out->r[i].stage, "%s", stage);
  return KEEL_OK;
}

static int is_lower(const char *check)
{
  size_t n = strlen(check);
  return strncmp(check, "min", 3) == 0 ||
         (n > 4 && strcmp(check + n - 4, "_min") == 0);
}

const char *keel_check_relation(const keel_check_result *r)
{
  if (strcmp(r->check, "categories") == 0)
    return r->passed ? "in" : "outside";
  if (is_lower(r->check))
    return r->passed ? ">=" : "<";
  return r->passed ? "<=" : ">";
}

/* The message of a failed check: check, column, observed value, bound. */
static int failed(const keel_check_report *out, size_t from, keel_error *err)
{
  const keel_check_result *r = out->r + from;
  while (r->passed)
    r++;
  size_t n_failed = 0;
  for (size_t i = from; i < out->n; i++)
    n_failed += !out->r[i].passed;
  char more[96] = "";
  if (n_failed > 1)
    snprintf(more, sizeof more, "; %zu checks failed in all%s", n_failed,
             r->stage[0] ? " here" : " (keel check --data lists them)");
  if (out->first_failure[0])
    return keel_fail(err, KEEL_EDATA, "%s%s", out->first_failure, more);
  const char *rel = strcmp(r->check, "categories") == 0 ? "outside"
                    : is_lower(r->check)                ? "below"
                                                        : "above";
  return keel_fail(
      err, KEEL_EDATA,
      "[data] check %s%s%s%s%s%s%s: observed %s, %s the bound %s%s%s%s%s",
      r->check, r->column[0] ? " of column '" : "", r->column,
      r->column[0] ? "'" : "", r->stage[0] ? " after [" : "", r->stage,
      r->stage[0] ? "]" : "", r->observed_text, rel, r->bound_text,
      r->where[0] ? " (" : "", r->where, r->where[0] ? ")" : "", more);
}

int keel_data_checks_run(const keel_run_config *cfg, const keel_table *t,
                         size_t label_col, const size_t *kept, size_t n_kept,
                         const int32_t *cls, const char *const *class_names,
                         size_t n_classes, keel_check_report *out,
                         keel_error *err)
{
  memset(out, 0, sizeof *out);
  const keel_template_checks *k = &cfg->checks;
  drift_ref ref = {0};
  int rc = table_checks(cfg, t, label_col, kept, n_kept, cls, class_names,
                        n_classes, out, err);
  for (size_t i = 0; !rc && i < k->n_columns; i++) {
    const keel_column_check *cc = &k->columns[i];
    int ci = keel_table_find(t, cc->name);
    if (ci < 0) { /* validated against the schema; the data disagrees */
      rc = keel_config_fail(err, KEEL_EDATA, cc->file, cc->line,
                            "[checks.column.%s]: the data has no column '%s'",
                            cc->name, cc->name);
      break;
    }
    if (wants_drift(cc) && !ref.stats) {
      if ((rc = load_reference(cfg, &ref, err)))
        break;
      snprintf(out->reference, sizeof out->reference, "%s", ref.entry->id);
      memcpy(out->reference_stats, ref.sha256, sizeof ref.sha256);
    }
    rc =
        column_checks(cc, &t->cols[ci], kept, n_kept, NULL, "", &ref, out, err);
  }
  json_decref(ref.stats);
  if (!rc && out->n_failed)
    rc = failed(out, 0, err);
  return rc;
}

int keel_data_checks_after(const keel_run_config *cfg, const char *stage)
{
  for (size_t a = 0; a < cfg->checks.n_after; a++)
    if (strcmp(cfg->checks.after[a], stage) == 0)
      return 1;
  return 0;
}

int keel_data_checks_stage(const keel_run_config *cfg, const char *stage,
                           const keel_table *t, const size_t *src_rows,
                           keel_check_report *out, keel_error *err)
{
  const keel_template_checks *k = &cfg->checks;
  drift_ref ref = {0};
  size_t from = out->n, failed_before = out->n_failed;
  int rc = KEEL_OK;
  for (size_t i = 0; !rc && i < k->n_columns; i++) {
    const keel_column_check *cc = &k->columns[i];
    int ci = keel_table_find(t, cc->name);
    if (ci < 0)
      continue; /* the stage dropped or renamed it */
    /* a numeric bound on a column the stage made categorical (or the
     * reverse) is not this stage's to judge */
    int numeric = t->cols[ci].type == KEEL_COL_NUMERIC;
    if ((wants_numbers(cc) && !numeric) || (cc->categories && numeric))
      continue;
    if (wants_drift(cc) && !ref.stats) {
      if ((rc = load_reference(cfg, &ref, err)))
        break;
      snprintf(out->reference, sizeof out->reference, "%s", ref.entry->id);
      memcpy(out->reference_stats, ref.sha256, sizeof ref.sha256);
    }
    rc = column_checks(cc, &t->cols[ci], NULL, t->n_rows, src_rows, stage, &ref,
                       out, err);
  }
  json_decref(ref.stats);
  if (!rc && out->n_failed > failed_before)
    rc = failed(out, from, err);
  return rc;
}

json_t *keel_check_report_json(const keel_check_report *r)
{
  json_t *o = json_object(), *a = json_array();
  if (!o || !a) {
    json_decref(o);
    json_decref(a);
    return NULL;
  }
  json_object_set_new(o, "reference",
                      r->reference[0]
                          ? json_pack("{s:s, s:s}", "id", r->reference,
                                      "stats_sha256", r->reference_stats)
                          : json_null());
  for (size_t i = 0; i < r->n; i++) {
    const keel_check_result *c = &r->r[i];
    json_t *e = json_object();
    json_object_set_new(e, "check", json_string(c->check));
    json_object_set_new(e, "stage",
                        c->stage[0] ? json_string(c->stage) : json_null());
    json_object_set_new(
        e, "column", c->column[0] ? keel_json_message(c->column) : json_null());
    json_object_set_new(e, "observed",
                        isnan(c->observed) ? keel_json_message(c->observed_text)
                                           : json_real(c->observed));
    json_object_set_new(e, "bound",
                        isnan(c->bound) ? keel_json_message(c->bound_text)
                                        : json_real(c->bound));
    json_object_set_new(e, "passed", json_boolean(c->passed));
    json_array_append_new(a, e);
  }
  json_object_set_new(o, "checks", a);
  return o;
}
