/* The host's own parameter tables: the [data] and [train] sections of a
 * manifest, declared with the same KEEL_P_* machinery as plugin
 * parameters so they get the same checking, origins and documentation.
 * Order must match enum keel_data_param / keel_train_param (config.h). */
#include <math.h>
#include <string.h>

#include "config/config.h"

static const char *const missing_label_choices[] = {"error", "drop", NULL};
static const char *const rebalance_choices[] = {"none", "under", "over", NULL};
static const char *const lr_schedule_choices[] = {"constant", "step", "cosine",
                                                  NULL};
static const char *const early_stop_choices[] = {
    "none", "loss", "accuracy", "macro_f1", "rmse", "mae", "r2", NULL};

const keel_param_decl keel_data_decls[KEEL_DATA_N_PARAMS] = {
    [KEEL_DATA_LABEL] = {.name = "label",
                         .type = KEEL_PARAM_STRING,
                         .flags = KEEL_PARAM_REQUIRED,
                         .doc = "name of the label (target) column"},
    [KEEL_DATA_VALID_FRACTION] =
        KEEL_P_FLOAT("valid_fraction", 0.2, 0.0, 0.9, 0, NULL,
                     "fraction of rows held out for validation"),
    [KEEL_DATA_TEST_FRACTION] =
        KEEL_P_FLOAT("test_fraction", 0.0, 0.0, 0.9, 0, NULL,
                     "fraction of rows held out for the final test"),
    [KEEL_DATA_SPLIT_SEED] =
        KEEL_P_INT("split_seed", 42, 0, 9007199254740991.0, NULL,
                   "seed of the deterministic train/valid/test split"),
    [KEEL_DATA_STRATIFY] = KEEL_P_BOOL("stratify", 1,
                                       "keep class proportions in every split "
                                       "(classification only)"),
    [KEEL_DATA_MISSING_LABEL] =
        KEEL_P_ENUM("missing_label", "error", missing_label_choices,
                    "what to do with rows whose label is missing"),
    [KEEL_DATA_SAMPLE_ROWS] =
        KEEL_P_INT("sample_rows", 0, 0, 9007199254740991.0, "rows",
                   "keep this many labelled rows before the split, 0 = all "
                   "(or sample_fraction)"),
    [KEEL_DATA_SAMPLE_FRACTION] =
        KEEL_P_FLOAT("sample_fraction", 1.0, 1e-9, 1.0, 0, NULL,
                     "keep this fraction of the labelled rows before the "
                     "split, 1 = all (or sample_rows)"),
    [KEEL_DATA_SAMPLE_BY] =
        KEEL_P_STRING("sample_by", "", 0,
                      "source column whose values keep their proportions in "
                      "the sample; empty = a plain random sample"),
    [KEEL_DATA_SAMPLE_SEED] =
        KEEL_P_INT("sample_seed", 42, 0, 9007199254740991.0, NULL,
                   "seed of the sample and of over-sampling"),
    [KEEL_DATA_REBALANCE] =
        KEEL_P_ENUM("rebalance", "none", rebalance_choices,
                    "re-balance the classes of the training split after the "
                    "split: under = drop majority rows, over = repeat "
                    "minority rows (classification only)"),
};

const keel_param_decl keel_train_decls[KEEL_TRAIN_N_PARAMS] = {
    [KEEL_TRAIN_EPOCHS] = KEEL_P_INT("epochs", 20, 1, 100000, "epochs",
                                     "passes over the training split"),
    [KEEL_TRAIN_BATCH_SIZE] =
        KEEL_P_INT("batch_size", 32, 1, 1 << 20, "rows", "rows per minibatch"),
    [KEEL_TRAIN_CHUNK_ROWS] =
        KEEL_P_INT("chunk_rows", 16, 1, 65536, "rows",
                   "rows per parallel work unit; independent of thread "
                   "count"),
    [KEEL_TRAIN_SEED] =
        KEEL_P_INT("seed", 1, 0, 9007199254740991.0, NULL,
                   "seed of weight initialisation and row shuffling"),
    [KEEL_TRAIN_THREADS] =
        KEEL_P_INT("threads", 0, 0, 1024, "threads",
                   "OpenMP threads, 0 = the OpenMP default; results do "
                   "not depend on it"),
    [KEEL_TRAIN_LR_SCHEDULE] =
        KEEL_P_ENUM("lr_schedule", "constant", lr_schedule_choices,
                    "learning-rate schedule applied on top of the "
                    "optimizer's lr"),
    [KEEL_TRAIN_WARMUP_EPOCHS] =
        KEEL_P_INT("warmup_epochs", 0, 0, 100000, "epochs",
                   "epochs of linear learning-rate warm-up"),
    [KEEL_TRAIN_STEP_EPOCHS] = KEEL_P_INT(
        "step_epochs", 10, 1, 100000, "epochs", "period of the step schedule"),
    [KEEL_TRAIN_STEP_GAMMA] =
        KEEL_P_FLOAT("step_gamma", 0.1, 1e-6, 1.0, 0, NULL,
                     "factor applied to the learning rate every period"),
    [KEEL_TRAIN_EARLY_STOP_METRIC] =
        KEEL_P_ENUM("early_stop_metric", "none", early_stop_choices,
                    "validation metric watched for early stopping "
                    "(none = off)"),
    [KEEL_TRAIN_PATIENCE] =
        KEEL_P_INT("patience", 5, 1, 100000, "epochs",
                   "epochs without improvement before stopping"),
    [KEEL_TRAIN_CHECKPOINT_EVERY] =
        KEEL_P_INT("checkpoint_every", 0, 0, 100000, "epochs",
                   "epochs between checkpoints, 0 = off"),
};

/* Host parameters added after keel-bundle/2, each with the value that
 * reproduces what keel did before it existed (docs/bundle-format.md, "A
 * new host parameter"): config.json leaves a parameter out at that value,
 * and a replay of a bundle that lacks it runs with it. The texts are the
 * canonical texts of the declared defaults: no sampling, no re-balancing. */
const keel_host_neutral keel_host_neutrals[] = {
    {"data", "sample_rows", "0"},  {"data", "sample_fraction", "1"},
    {"data", "sample_by", ""},     {"data", "sample_seed", "42"},
    {"data", "rebalance", "none"}, {NULL, NULL, NULL}};

const char *keel_host_neutral_text(const char *section, const char *name)
{
  for (const keel_host_neutral *n = keel_host_neutrals; n->section; n++)
    if (strcmp(n->section, section) == 0 && strcmp(n->name, name) == 0)
      return n->text;
  return NULL;
}
