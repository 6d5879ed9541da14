/* data_checks: the template's declared data checks ([checks] and
 * [checks.column.NAME], docs/data-access.md "Data checks") on the rows a
 * run keeps, every one recorded with its observed value and bound. */
#ifndef KEEL_DATA_DATA_CHECKS_H
#define KEEL_DATA_DATA_CHECKS_H

#include <jansson.h>
#include <stddef.h>

#include "config/config.h"
#include "keel/data.h"
#include "keel/error.h"

typedef struct keel_check_result {
  char check[32];   /* "min_rows", "psi_max", "categories", ... */
  char stage[64];   /* "transform.scale" for a check run after that stage
                       ([checks] after); "" on the data as read */
  char column[128]; /* "" for a check of the whole table */
  double observed;  /* NaN when it is text (categories) or no value */
  double bound;     /* NaN for categories */
  char observed_text[160];
  char bound_text[160];
  char where[512]; /* the template file:line that declared it ("" for
                     [checks] keys, whose origin `keel check` lists) */
  int passed;
} keel_check_result;

typedef struct keel_check_report {
  keel_check_result *r; /* in order: table checks, then each column's */
  size_t n;
  size_t n_failed;
  char reference[160];      /* the drift reference's id, "" when none */
  char reference_stats[65]; /* SHA-256 of its statistics file */
  char first_failure[512];  /* the message of a failed [checks] key, in the
                               words keel gave before column checks existed */
} keel_check_report;

void keel_check_report_free(keel_check_report *r);

/* Before any data is read: every [checks.column.NAME] names a column of
 * the source schema src with a type its bounds apply to, and drift
 * bounds have a reference profile. KEEL_EINVAL naming the template
 * file:line and the column. */
int keel_data_checks_validate(const keel_run_config *cfg,
                              const keel_schema *src, keel_error *err);

/* Runs every declared check on the rows kept[0..n_kept) of source table
 * t (label at label_col; cls the class index of each kept row and
 * n_classes their number, or cls NULL for regression), recording each in
 * *out (owned by the caller, filled even on failure). KEEL_EDATA naming
 * the first failed check, its column, observed value and bound. */
int keel_data_checks_run(const keel_run_config *cfg, const keel_table *t,
                         size_t label_col, const size_t *kept, size_t n_kept,
                         const int32_t *cls, const char *const *class_names,
                         size_t n_classes, keel_check_report *out,
                         keel_error *err);

/* How the observed value stands to the bound, for a person: "<=", ">",
 * ">=", "<", "in", "outside". */
const char *keel_check_relation(const keel_check_result *r);

/* The column checks again, after transform stage `stage` ([checks]
 * after), on t: that stage's output for the training split, whose row i
 * is source row src_rows[i] (0-based). Columns t lacks are not checked
 * there. Appends to *out; KEEL_EDATA naming the first check that failed
 * here, with the stage. */
int keel_data_checks_stage(const keel_run_config *cfg, const char *stage,
                           const keel_table *t, const size_t *src_rows,
                           keel_check_report *out, keel_error *err);

/* Whether stage (a transform section) is one of [checks] after. */
int keel_data_checks_after(const keel_run_config *cfg, const char *stage);

/* {"reference": {...} or null, "checks": [{check, column, observed,
 * bound, passed}]}; NULL when out of memory. */
json_t *keel_check_report_json(const keel_check_report *r);

#endif
