/* check_data: the data-level checks of `keel check --data`, run in order
 * by name, each reading only what it needs and writing nothing: the data
 * is read and split through the pipeline code a run uses (no transform
 * fitted, no training), then the rules only the data can refute are
 * judged with the messages a run gives. A failed check ends the list; a
 * run would fail the same way after reading its data (exit 1). Later
 * declared data checks join the same list. Not thread-safe for one
 * config. */
#ifndef KEEL_RUN_CHECK_DATA_H
#define KEEL_RUN_CHECK_DATA_H

#include <stddef.h>

#include "config/config.h"
#include "data/pipeline.h"
#include "keel/keel.h"
#include "plugin/host.h"

/* The outcome of one data check. */
typedef struct keel_data_check_result {
  const char *name; /* static: "read", "class_count", "batch_size" */
  int passed;       /* 0: this check failed (the last in the report) */
  char detail[160]; /* what it found, for a person ("" when it failed) */
} keel_data_check_result;

#define KEEL_DATA_CHECKS_MAX 8

/* The checks that ran, in order. */
typedef struct keel_data_report {
  size_t n;
  keel_data_check_result checks[KEEL_DATA_CHECKS_MAX];
  keel_check_report declared; /* the template's data checks, each with its
                                 observed value and bound (empty when the
                                 read failed before them) */
} keel_data_report;

void keel_data_report_free(keel_data_report *r);

/* Runs every data check of cfg (borrowed) in order, after
 * keel_pipeline_check gave `schemas` (borrowed), until one fails, reading
 * through hctx (its routes: a [source] dataset, data/access.h). *report
 * lists those that ran. Returns 0, or the failed check's code with its
 * message in err (the message a run gives for the same failure;
 * KEEL_EINTEGRITY when a dataset's bytes are not the catalogued ones). */
int keel_check_data(const keel_run_config *cfg,
                    const keel_stage_schemas *schemas, keel_host_context *hctx,
                    keel_data_report *report, keel_error *err);

#endif
