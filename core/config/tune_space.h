/* The tuning space of a sweep (docs/tuning.md): the parameters a template's
 * [tune] and [tune.SLOT.PLUGIN] sections declare, as narrowed by the
 * manifest's sections of the same names, each with its distribution, and
 * the objective. A parameter is named by the override that sets it
 * ("optimizer.lr", "train.batch_size", "model.plugin"); a parameter of one
 * plugin is *conditional*: active only in the trials whose slot chose that
 * plugin. */
#ifndef KEEL_CONFIG_TUNE_SPACE_H
#define KEEL_CONFIG_TUNE_SPACE_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "config/ini.h"
#include "keel/error.h"

typedef enum keel_tune_kind {
  KEEL_TUNE_CHOICE,    /* choice(a, b, ...): one of the texts */
  KEEL_TUNE_INT,       /* int(lo, hi): an integer in [lo, hi] */
  KEEL_TUNE_UNIFORM,   /* uniform(lo, hi): a real in [lo, hi] */
  KEEL_TUNE_LOGUNIFORM /* loguniform(lo, hi): log uniform, 0 < lo */
} keel_tune_kind;

typedef struct keel_tune_param {
  char *name;   /* the override it sets: "optimizer.lr", "model.plugin" */
  char *plugin; /* [tune.KIND.PLUGIN]: the plugin it belongs to ("adam");
                   NULL for [tune.train] and a slot's choice of plugin */
  keel_tune_kind kind;
  char **choices; /* CHOICE: each value's text, in declared order */
  size_t n_choices;
  double lo, hi;  /* INT (whole numbers), UNIFORM, LOGUNIFORM: lo <= hi */
  unsigned steps; /* UNIFORM, LOGUNIFORM: points a grid takes (>= 2; for
                     LOGUNIFORM evenly spaced in log); 0: not given */
  /* Conditional: active only when parameter `parent` (an index into the
   * space, always lower than this one's; a CHOICE over plugin names) takes
   * choice index `parent_choice`. parent = -1: always active. */
  int parent;
  size_t parent_choice;
  const char *file; /* where the distribution was written (borrowed from
                       the space's file names) and its line */
  int line;
} keel_tune_param;

typedef struct keel_tune_space {
  keel_tune_param *params; /* a parent before its children */
  size_t n;
  char *objective;            /* a metric name: "valid.accuracy" */
  const char *objective_file; /* where it was written, and the line */
  int objective_line;
  int maximize; /* 1: larger is better ("max"), 0: "min" */
  /* [tune] knobs of the sweep, each with its default when not written */
  unsigned trials;      /* trials to run (grid: at most the grid's size) */
  unsigned round_size;  /* trials proposed together from the same history
                           (TPE, pruning); never depends on --jobs */
  unsigned startup;     /* TPE: random trials before the model (10) */
  char *strategy;       /* "grid", "random", "tpe" */
  unsigned prune_after; /* median pruning from this epoch on; 0: off */
  char **files;         /* file names the origins borrow */
  size_t n_files;
} keel_tune_space;

/* Reads the space of a resolved run (cfg, borrowed: its template chain's
 * bytes and plugins) and its manifest (parsed, borrowed). Errors are
 * "FILE:LINE: ..." (KEEL_EINVAL): a malformed distribution, a manifest
 * widening the template's space or adding a parameter, a plugin's
 * parameters no trial can use, no objective, nothing to tune. Whether
 * each value is one the plugins and [ranges.*] accept is checked by
 * run/tune_check.h. KEEL_ENOTFOUND when no file has a [tune] or
 * [tune.SECTION] section at all. */
int keel_tune_space_read(const keel_run_config *cfg, const keel_ini *manifest,
                         keel_tune_space **out, keel_error *err);
void keel_tune_space_free(keel_tune_space *s);

/* "loguniform(0.0001, 0.10000000000000001) steps 4": a parameter's
 * distribution as text (malloc'd; NULL when out of memory). */
char *keel_tune_param_text(const keel_tune_param *p);

/* The space as JSON (sweep.json's "space", `keel check --json`'s "tune"):
 * objective, direction, strategy and knobs, and each parameter's name,
 * plugin, distribution (choices or low/high/steps) and "when" (the slot
 * choice it needs, or null). New reference; NULL when out of memory. */
json_t *keel_tune_space_json(const keel_tune_space *s);

/* Internal to the config layer (template.c, manifest.c): *is_tune tells
 * whether sec is a [tune] or [tune.SECTION] section; if so its names, keys
 * and distributions are checked (not yet against any plugin). */
int keel__tune_check_section(const keel_ini *ini, const keel_ini_section *sec,
                             int *is_tune, keel_error *err);

#endif
