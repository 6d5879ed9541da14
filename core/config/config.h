/* The fully resolved configuration of one run.
 *
 * Built from a template, a manifest and command-line overrides
 * (resolve.c). Every value carries where it came from. Host sections
 * ([data], [train]) use the same typed parameter machinery as plugins, with
 * the host's own declaration tables (host_params.c). */
#ifndef KEEL_CONFIG_CONFIG_H
#define KEEL_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/dataset.h"
#include "keel/keel.h"
#include "plugin/loader.h"

typedef enum keel_origin {
  KEEL_ORIGIN_PLUGIN_DEFAULT =
      0,                    /* the plugin's (or host's) declared default */
  KEEL_ORIGIN_TEMPLATE = 1, /* the template's [defaults.*] */
  KEEL_ORIGIN_MANIFEST = 2, /* the manifest */
  KEEL_ORIGIN_OVERRIDE = 3, /* the command line */
  KEEL_ORIGIN_CATALOG = 4   /* the catalog entry a [source] dataset names
                               (between template and manifest, which may
                               not set what the entry sets) */
} keel_origin;

const char *keel_origin_name(keel_origin o); /* "default", "template", ... */

/* One resolved parameter. */
typedef struct keel_resolved_param {
  const keel_param_decl *decl; /* borrowed from the plugin or host table */
  char *text; /* canonical text of the value ("0.1", "relu", "a,b") */
  keel_origin origin;
  char *where; /* "iris.ini:12", "command line", "template x.ini:7",
                  or NULL for a declared default */
  /* Allowed range after the template narrowed it (for the record). */
  double lo, hi;
} keel_resolved_param;

/* One filled slot (or host section): a plugin and its values. */
typedef struct keel_stage {
  char *section;                    /* "source", "transform.scale", "train" */
  const keel_loaded_plugin *plugin; /* NULL for host sections */
  const keel_param_decl *decls;     /* plugin's or host's table */
  size_t n_params;
  keel_resolved_param *params; /* n_params, in declaration order */
  keel_value *values;          /* n_params, what the plugin receives */
  int line;                    /* manifest line of the section */
} keel_stage;

/* Indexes into the [data] host section's values. */
enum keel_data_param {
  KEEL_DATA_LABEL = 0,      /* string: the label column */
  KEEL_DATA_VALID_FRACTION, /* float */
  KEEL_DATA_TEST_FRACTION,  /* float */
  KEEL_DATA_SPLIT_SEED,     /* int */
  KEEL_DATA_STRATIFY,       /* bool */
  KEEL_DATA_MISSING_LABEL,  /* enum: error, drop */
  /* sampling (data/sample.h); added after keel-bundle/2, neutral = none */
  KEEL_DATA_SAMPLE_ROWS,     /* int: rows kept before the split, 0 = all */
  KEEL_DATA_SAMPLE_FRACTION, /* float: fraction kept, 1 = all */
  KEEL_DATA_SAMPLE_BY,       /* string: column to stratify by, "" = none */
  KEEL_DATA_SAMPLE_SEED,     /* int */
  KEEL_DATA_REBALANCE,       /* enum: none, under, over (train split) */
  KEEL_DATA_N_PARAMS
};

/* Indexes into the [train] host section's values. */
enum keel_train_param {
  KEEL_TRAIN_EPOCHS = 0,        /* int */
  KEEL_TRAIN_BATCH_SIZE,        /* int */
  KEEL_TRAIN_CHUNK_ROWS,        /* int: rows per parallel chunk */
  KEEL_TRAIN_SEED,              /* int: init and shuffle seed */
  KEEL_TRAIN_THREADS,           /* int: 0 = OpenMP default */
  KEEL_TRAIN_LR_SCHEDULE,       /* enum: constant, step, cosine */
  KEEL_TRAIN_WARMUP_EPOCHS,     /* int */
  KEEL_TRAIN_STEP_EPOCHS,       /* int: step schedule period */
  KEEL_TRAIN_STEP_GAMMA,        /* float: step schedule factor */
  KEEL_TRAIN_EARLY_STOP_METRIC, /* enum: none, loss, accuracy, macro_f1,
                                   rmse, mae, r2 (on validation) */
  KEEL_TRAIN_PATIENCE,          /* int: epochs without improvement */
  KEEL_TRAIN_CHECKPOINT_EVERY,  /* int: epochs between checkpoints, 0 off */
  KEEL_TRAIN_N_PARAMS
};

/* The host's declaration tables for [data] and [train]. */
extern const keel_param_decl keel_data_decls[KEEL_DATA_N_PARAMS];
extern const keel_param_decl keel_train_decls[KEEL_TRAIN_N_PARAMS];

/* A host parameter added after keel-bundle/2 and its neutral value: the
 * canonical text of the value that reproduces keel's behaviour from before
 * the parameter existed. */
typedef struct keel_host_neutral {
  const char *section; /* "data" or "train" */
  const char *name;
  const char *text;
} keel_host_neutral;

/* Ended by an entry whose section is NULL (host_params.c). */
extern const keel_host_neutral keel_host_neutrals[];
/* The neutral text of host parameter section.name, or NULL when it has
 * none (it existed when keel-bundle/2 was made). */
const char *keel_host_neutral_text(const char *section, const char *name);

/* The bounds of a [checks.column.NAME] section (docs/data-access.md,
 * "Data checks"), indexes into keel_column_check.bound. */
typedef enum keel_column_bound {
  KEEL_CB_MIN = 0, /* every value >= */
  KEEL_CB_MAX,     /* every value <= */
  KEEL_CB_MAX_MISSING,
  KEEL_CB_MEAN_MIN,
  KEEL_CB_MEAN_MAX,
  KEEL_CB_STD_MIN,
  KEEL_CB_STD_MAX,
  KEEL_CB_PSI_MAX,
  KEEL_CB_KS_MAX,
  KEEL_CB_N
} keel_column_bound;

#define KEEL_CHECKS_AFTER_MAX 8

/* One column's declared checks (template_columns.c owns the copies). */
typedef struct keel_column_check {
  char *name;
  char *file; /* the template that declared (or last tightened) it */
  int line;   /* its section's line there */
  double bound[KEEL_CB_N]; /* NaN when unset */
  char **categories;       /* allowed values; NULL when unchecked */
  size_t n_categories;
} keel_column_check;

/* Sanity checks and contract from the template. */
typedef struct keel_template_checks {
  int64_t min_rows;            /* -1 when unset */
  int64_t max_rows;            /* -1 when unset */
  double max_missing_fraction; /* per column; < 0 when unset */
  int64_t min_class_count;     /* -1 when unset */
  double max_class_imbalance;  /* largest / smallest class; < 0 unset */
  char drift_reference[160];   /* NAME@VERSION the drift checks compare
                                  with; "" = the run's own dataset */
  keel_column_check *columns;  /* owned (keel_column_checks_free) */
  size_t n_columns;
  /* [checks] after: the transform sections ("transform.scale") after
   * which the column checks run again, on that stage's training output;
   * after_file:after_line is the key's template and line. */
  char after[KEEL_CHECKS_AFTER_MAX][64];
  size_t n_after;
  char after_file[256];
  int after_line;
  uint32_t contract_flags; /* KEEL_CONTRACT_* the model input must meet */
  int catalog_required;    /* [contract] catalog = required: the source must
                              name a catalog dataset (a rule on how data is
                              named, not on what the run computes: kept out
                              of config.json) */
  /* [governance] (outside config.json too): the catalog keys the dataset's
   * entry must have (KEEL_GOV_*) and the scopes it may have (bit 1 <<
   * keel_data_scope; 0: any). */
  uint32_t gov_require;
  uint32_t gov_scopes;
  int freshness_fail; /* [contract] freshness = fail: a dataset past its
                         max_age_days fails the run (else it warns); a
                         rule on the clock, kept out of config.json */
} keel_template_checks;

/* Deep copies of the column checks (a template level, a run config), and
 * their release; dup returns KEEL_OK or KEEL_ENOMEM (*out NULL). */
int keel_column_checks_dup(const keel_column_check *in, size_t n,
                           keel_column_check **out);
void keel_column_checks_free(keel_column_check *c, size_t n);
/* The key of bound b ("min", "psi_max"). */
const char *keel_column_bound_key(keel_column_bound b);

#define KEEL_GOV_OWNER 1u
#define KEEL_GOV_INTENDED_USE 2u
#define KEEL_GOV_LEGAL_BASIS 4u
#define KEEL_GOV_DESCRIPTION 8u

/* One template file of the chain a run was resolved against. */
typedef struct keel_template_file {
  char *name, *version, *path;
  char *text; /* its bytes */
  char sha256[65];
} keel_template_file;

/* A rule the chain sets ("allow model softmax >=1 <2", "check min_rows =
 * 50") and where: a template file's path and line. */
typedef struct keel_template_rule {
  char *text;
  char *file;
  int line;
} keel_template_rule;

typedef struct keel_override {
  char *text; /* "optimizer.lr=0.01" as given */
} keel_override;

typedef struct keel_run_config {
  char *manifest_path; /* as given */
  char *manifest_dir;  /* folder relative paths resolve against */
  char *manifest_text; /* the bytes of the manifest as read */
  char *template_path; /* the template file chosen */
  char *template_text; /* its bytes */
  char *template_name;
  char *template_version; /* "1.0.0" */
  keel_task task;
  keel_template_checks checks;
  keel_template_file *chain; /* derived first; chain[0] is template_* */
  size_t n_chain;
  keel_template_rule *rules;
  size_t n_rules;

  keel_stage data;  /* host section [data] */
  keel_stage train; /* host section [train] */
  keel_stage source;
  keel_dataset *dataset;  /* the catalog entry [source] dataset resolved to,
                             or NULL for a plain path (uncatalogued) */
  keel_stage *transforms; /* in manifest order */
  size_t n_transforms;
  keel_stage model;
  keel_stage loss;
  keel_stage optimizer;

  keel_override *overrides;
  size_t n_overrides;

  /* [keel] purpose (NULL: none): for the access policy, outside
   * config.json, so it never changes the result digest. */
  char *purpose;
  int purpose_line;
} keel_run_config;

void keel_run_config_free(keel_run_config *cfg);

#endif
