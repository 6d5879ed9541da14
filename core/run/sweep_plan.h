/* A sweep's frozen plan (docs/tuning.md, "The frozen plan"): before the
 * first trial, everything a trial reads is copied into SWEEP/plan/ and
 * hashed once — the manifest, the template chain, the catalog entry, the
 * plugin binaries every trial can choose, and the data files — and
 * plan/plan.json records each with its SHA-256 and where it came from.
 * Trials run against these copies alone (as `keel replay` runs against a
 * bundle), so editing an input while the sweep runs changes nothing in
 * it. A resumed sweep checks the copies against plan.json (integrity) and
 * the original inputs against the copies (a changed input is refused,
 * with the difference). */
#ifndef KEEL_RUN_SWEEP_PLAN_H
#define KEEL_RUN_SWEEP_PLAN_H

#include <stddef.h>

#include <jansson.h>

#include "base/buffer.h"
#include "config/tune_space.h"
#include "keel/keel.h"

/* What a sweep is launched with (keel sweep's options). */
typedef struct keel_sweep_inputs {
  const char *manifest_path;
  const char *const *overrides; /* section.key=value, kept for every trial */
  size_t n_overrides;
  const char *const *plugin_paths; /* --plugin-path */
  size_t n_plugin_paths;
  const char *catalog;    /* --catalog, or NULL */
  const char *data_cache; /* --cache, or NULL */
  const char *ca_bundle;  /* --ca-bundle, or NULL */
  const char *policy;     /* --policy, or NULL */
} keel_sweep_inputs;

typedef struct keel_sweep_plan {
  char *dir;   /* the sweep's folder */
  char *id;    /* keel-sweep-... */
  json_t *doc; /* plan/plan.json */
  keel_tune_space *space;
  char *manifest;      /* dir/plan/manifest.ini */
  char *template_path; /* dir/plan/templates/NAME.ini (derived first) */
  char *catalog;       /* dir/plan/dataset.ini, or NULL */
  char **plugins;      /* dir/plan/plugins/KIND-NAME-VERSION.so */
  size_t n_plugins;
  char **data_names; /* what the source asks for (a path as written, or a
                        catalog entry's id) ... */
  char **data_files; /* ... and its frozen copy, dir/plan/data/SHA256 */
  size_t n_data;
  char **overrides; /* the launch's overrides */
  size_t n_overrides;
} keel_sweep_plan;

/* Freezes the inputs of a sweep of in->manifest_path into dir/plan/ (dir
 * is created; it must not exist) and proves the tuning space first
 * (run/tune_check.h), so a refused space writes nothing. knobs: the
 * launch's strategy/trials/seed, recorded in plan.json ("sweep": strategy,
 * trials, seed, round_size, startup). KEEL_EINVAL / KEEL_ERANGE for a
 * configuration problem (exit 2), KEEL_EINTEGRITY for data that is not
 * its catalogued bytes, others for I/O. */
int keel_sweep_plan_freeze(const keel_sweep_inputs *in, const char *dir,
                           const char *id, json_t *knobs, keel_sweep_plan **out,
                           keel_error *err);

/* Opens the plan of an existing sweep folder. With verify, re-hashes
 * every frozen copy against plan.json (KEEL_EINTEGRITY naming the file
 * that changed) and derives the space again from the frozen inputs
 * (p->space); without (a trial's process, which only reads the copies),
 * p->space stays NULL. */
int keel_sweep_plan_open(const char *dir, int verify, keel_sweep_plan **out,
                         keel_error *err);

/* Compares the original inputs plan.json names (the manifest and
 * catalog paths, overrides and plugin paths of the launch) with the
 * frozen copies: each difference one line in diffs ("manifest
 * /x/penguins.ini: sha256 A, frozen B"). 0 when they match (diffs empty);
 * other codes when the inputs cannot even be resolved (diffs says why). */
int keel_sweep_plan_compare(const keel_sweep_plan *p, keel_buf *diffs,
                            keel_error *err);

/* keel_run_options.data_remap for a trial: a data name's frozen copy. */
char *keel_sweep_plan_remap(void *plan, const char *name);

void keel_sweep_plan_free(keel_sweep_plan *p);

#endif
