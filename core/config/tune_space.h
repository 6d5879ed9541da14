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

typedef enum keel_tune_kind {
  KEEL_TUNE_CHOICE,    /* choice(a, b, ...): one of the texts */
  KEEL_TUNE_INT,       /* int(lo, hi): an integer in [lo, hi] */
  KEEL_TUNE_UNIFORM,   /* uniform(lo, hi): a real in [lo, hi] */
  KEEL_TUNE_LOGUNIFORM /* loguniform(lo, hi): log uniform, 0 < lo */
} keel_tune_kind;

typedef struct keel_tune_param {
  char *name; /* the override it sets: "optimizer.lr", "model.plugin" */
  keel_tune_kind kind;
  char **choices; /* CHOICE: each value's text, in declared order */
  size_t n_choices;
  double lo, hi; /* INT (whole numbers), UNIFORM, LOGUNIFORM: lo <= hi */
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
  char *objective; /* a metric name: "valid.accuracy" */
  int maximize;    /* 1: larger is better ("max"), 0: "min" */
  /* [tune] knobs of the sweep, each with its default when not written */
  unsigned trials;     /* trials to run (grid: at most the grid's size) */
  unsigned round_size; /* trials proposed together from the same history
                          (TPE, pruning); never depends on --jobs */
  unsigned startup;    /* TPE: random trials before the model (10) */
  char *strategy;      /* "grid", "random", "tpe" */
  unsigned prune_after; /* median pruning from this epoch on; 0: off */
  char **files;        /* file names the origins borrow */
  size_t n_files;
} keel_tune_space;

void keel_tune_space_free(keel_tune_space *s);

#endif
