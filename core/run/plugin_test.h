/* The plugin test kit behind `keel plugin-test`: properties every plugin
 * of a kind must have (a model's gradient, a transform's deterministic
 * fit, an optimizer's resume), checked on data drawn from a seed, each
 * recorded as PASS, FAIL or SKIP with a detail. Library code: it prints
 * nothing; cli/cmd_plugin_test.c reports. */
#ifndef KEEL_RUN_PLUGIN_TEST_H
#define KEEL_RUN_PLUGIN_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"
#include "plugin/loader.h"

typedef enum keel_pt_result {
  KEEL_PT_PASS,
  KEEL_PT_FAIL,
  KEEL_PT_SKIP
} keel_pt_result;

typedef struct keel_pt_record {
  char *property; /* "model.gradient" */
  keel_pt_result result;
  char *detail; /* what was measured, what differs, or why skipped */
} keel_pt_record;

typedef struct keel_pt_report {
  keel_pt_record *items;
  size_t n, cap;
} keel_pt_report;

/* Every property name, lint ones first then by kind, NULL-terminated
 * (for --only and its "did you mean"). */
const char *const *keel_plugin_test_properties(void);
/* The kind a property belongs to ("lint" properties: 0, any kind). */
int keel_plugin_test_property_kind(const char *property);

/* Runs every property of p's kind (or only `only`, when not NULL) with
 * data drawn from seed, appending to *report (zero it first). Returns 0
 * when every property ran (each may have failed: see the records), or a
 * KEEL_E* with err for what stopped the kit itself (out of memory, a
 * scratch folder it could not make). Not thread-safe: a plugin's fixture
 * may ask for scratch files. */
int keel_plugin_test_run(const keel_loaded_plugin *p, uint64_t seed,
                         const char *only, keel_pt_report *report,
                         keel_error *err);
void keel_pt_report_free(keel_pt_report *report);

#endif
