/* Proving a tuning space (config/tune_space.h) before any trial runs
 * (`keel check`, `keel sweep`): every value a distribution can give must
 * be one the run accepts — the plugin's declared type and range, the
 * template's [ranges.*], the slot's allow list — and the objective must be
 * a metric the run reports. */
#ifndef KEEL_RUN_TUNE_CHECK_H
#define KEEL_RUN_TUNE_CHECK_H

#include <stddef.h>

#include "config/config.h"
#include "config/tune_space.h"
#include "keel/keel.h"

/* How the manifest was loaded (keel_config_load's inputs), so each probe
 * resolves it the same way with one more override. */
typedef struct keel_tune_load {
  const char *manifest_path;
  const char *const *overrides;
  size_t n_overrides;
  const char *const *plugin_paths;
  size_t n_plugin_paths;
  int only_explicit_paths;
  const char *template_path; /* NULL: the manifest's */
  const char *catalog;       /* NULL: the setting */
} keel_tune_load;

/* A parameter's value as override text: a choice as written, an integer
 * without a point, a real in the shortest form that reads back exactly
 * ("%.17g" at worst). buf of 64 bytes. */
void keel_tune_value_text(const keel_tune_param *p, double x, char buf[64]);

/* The overrides of one point x (NaN: an inactive parameter, left out):
 * "NAME=VALUE" texts, malloc'd, in the space's order; *n set. */
char **keel_tune_overrides(const keel_tune_space *s, const double *x,
                           size_t *n);
void keel_tune_overrides_free(char **o, size_t n);

/* Whether `metric` ("valid.accuracy") is one a run of cfg reports: a
 * split it has (train; valid and test when their fractions are above 0)
 * and a metric of its task. 0 or KEEL_EINVAL with what it reports. */
int keel_tune_objective_check(const keel_run_config *cfg, const char *metric,
                              keel_error *err);

/* Resolves the manifest at both ends of every interval and at every
 * choice (with the plugin the parameter belongs to chosen), and checks
 * the objective. Errors name the [tune] entry's FILE:LINE and the
 * resolver's reason (KEEL_EINVAL / KEEL_ERANGE: exit 2). */
int keel_tune_space_check(const keel_tune_space *s, const keel_tune_load *load,
                          const keel_run_config *cfg, keel_error *err);

/* keel_tune_space_read of the manifest load names, with cfg its resolved
 * configuration, then keel_tune_space_check. *out NULL and KEEL_OK when
 * nothing declares a space (a plain manifest). *manifest_declares: the
 * manifest itself has a [tune] or [tune.SECTION] section (`keel check`
 * fails only on such a manifest's space; a template's space that does not
 * fit a manifest is a warning until `keel sweep` needs it). */
int keel_tune_space_load(const keel_tune_load *load, const keel_run_config *cfg,
                         keel_tune_space **out, int *manifest_declares,
                         keel_error *err);

#endif
