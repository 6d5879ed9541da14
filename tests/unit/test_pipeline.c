/* pipeline: declared-schema propagation and its refusals (label, text,
 * may-miss, non-finite, transform refusals), preparation against
 * hand-computed values (split counts, label encoding, standardize fitted on
 * train only), data checks, missing-label policy, declared-vs-actual
 * checks with lying transforms, bit-exact state reload, determinism, and
 * the files keel_prepared_write leaves. Configs are built by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "base/npy.h"
#include "base/params.h"
#include "config/config.h"
#include "data/pipeline.h"
#include "plugin/state.h"
#include "plugin/table.h"
#include "test_util.h"

/* ---- building configurations by hand ---------------------------------- */

/* Values parsed by set(), released at exit (LeakSanitizer-clean). */
static struct {
  const keel_param_decl *decl;
  keel_value v;
} parsed[64];
static size_t n_parsed;

static void release_parsed(void)
{
  for (size_t i = 0; i < n_parsed; i++)
    keel_value_clear(parsed[i].decl, &parsed[i].v);
}

static void keep_parsed(const keel_param_decl *d, const keel_value *v)
{
  if (n_parsed == 0)
    atexit(release_parsed);
  if (n_parsed < sizeof parsed / sizeof parsed[0]) {
    parsed[n_parsed].decl = d;
    parsed[n_parsed++].v = *v;
  }
}

static void set(const keel_loaded_plugin *p, keel_value *v, const char *name,
                const char *text)
{
  for (size_t i = 0; i < p->desc.n_params; i++)
    if (strcmp(p->desc.params[i].name, name) == 0) {
      keel_error err = {0};
      int rc = keel_param_parse(&p->desc.params[i], text, &v[i], &err);
      if (rc)
        fprintf(stderr, "%s=%s: %s\n", name, text, err.message);
      CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
      keep_parsed(&p->desc.params[i], &v[i]);
      return;
    }
  CU_FAIL_FATAL("unknown parameter");
}

static keel_run_config *make_cfg(const char *csv, const char *label,
                                 keel_task task)
{
  keel_run_config *cfg = calloc(1, sizeof *cfg);
  cfg->task = task;
  cfg->checks.min_rows = -1;
  cfg->checks.max_missing_fraction = -1;
  cfg->checks.min_class_count = -1;
  cfg->checks.max_rows = -1;
  cfg->checks.max_class_imbalance = -1;
  cfg->checks.contract_flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE;
  cfg->data.section = "data";
  cfg->data.values = calloc(KEEL_DATA_N_PARAMS, sizeof(keel_value));
  cfg->data.values[KEEL_DATA_LABEL].s = label;
  cfg->data.values[KEEL_DATA_VALID_FRACTION].f = 0.2;
  cfg->data.values[KEEL_DATA_TEST_FRACTION].f = 0.1;
  cfg->data.values[KEEL_DATA_SPLIT_SEED].i = 42;
  cfg->data.values[KEEL_DATA_STRATIFY].i = 1;
  cfg->data.values[KEEL_DATA_MISSING_LABEL].i = 0;
  cfg->data.values[KEEL_DATA_SAMPLE_FRACTION].f = 1.0; /* no sampling */
  cfg->data.values[KEEL_DATA_SAMPLE_BY].s = "";
  cfg->source.section = "source";
  cfg->source.plugin = keel_test_plugin(KEEL_KIND_SOURCE, "csv");
  CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->source.plugin);
  cfg->source.values = keel_test_default_values(cfg->source.plugin);
  cfg->source.values[0].s = csv;
  cfg->transforms = calloc(8, sizeof(keel_stage));
  return cfg;
}

/* Appends [transform.NAME] using built plugin PLUGIN; returns its values. */
static keel_value *add_tx(keel_run_config *cfg, const char *section,
                          const char *plugin)
{
  keel_stage *st = &cfg->transforms[cfg->n_transforms++];
  st->section = (char *)section;
  st->plugin = keel_test_plugin(KEEL_KIND_TRANSFORM, plugin);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st->plugin);
  st->values = keel_test_default_values(st->plugin);
  return st->values;
}

/* A transform that is not a built plugin (declared-vs-actual tests). */
static keel_loaded_plugin fake_plugins[4];
static size_t n_fake;

static void add_fake(keel_run_config *cfg, const char *section,
                     const char *name, const keel_transform_api *api)
{
  keel_loaded_plugin *p = &fake_plugins[n_fake++];
  memset(p, 0, sizeof *p);
  p->desc.kind = KEEL_KIND_TRANSFORM;
  p->desc.name = name;
  p->api = api;
  keel_stage *st = &cfg->transforms[cfg->n_transforms++];
  st->section = (char *)section;
  st->plugin = p;
}

static void free_cfg(keel_run_config *cfg)
{
  free(cfg->data.values);
  free(cfg->transforms);
  free(cfg);
}

static int says(const keel_error *err, const char *const *needles)
{
  int ok = 1;
  for (; *needles; needles++)
    if (!strstr(err->message, *needles)) {
      fprintf(stderr, "message lacks '%s': %s\n", *needles, err->message);
      ok = 0;
    }
  return ok;
}
#define SAYS(ERR, ...) says((ERR), (const char *const[]){__VA_ARGS__, NULL})

static int check(const keel_run_config *cfg, keel_error *err)
{
  keel_stage_schemas s;
  memset(err, 0, sizeof *err);
  int rc = keel_pipeline_check(cfg, keel_test_host(), &s, err);
  if (!rc)
    keel_stage_schemas_free(&s);
  return rc;
}

static int prepare(const keel_run_config *cfg, keel_prepared *p,
                   keel_error *err)
{
  memset(err, 0, sizeof *err);
  keel_stage_schemas checked;
  memset(p, 0, sizeof *p);
  int rc = keel_pipeline_check(cfg, keel_test_host(), &checked, err);
  if (!rc)
    rc = keel_pipeline_prepare_checked(cfg, keel_test_host(), &checked, p, err);
  if (rc && rc != KEEL_EDATA && rc != KEEL_ESCHEMA)
    fprintf(stderr, "prepare: %s\n", err->message);
  if (rc) /* only the data checks' report is left: nothing for the caller */
    keel_prepared_free(p);
  return rc;
}

/* ---- check ------------------------------------------------------------ */

static void test_check_stages_and_print(void)
{
  keel_run_config *cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.scale", "standardize");
  keel_stage_schemas s;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_pipeline_check(cfg, keel_test_host(), &s, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL(s.n_stages, 2);
  CU_ASSERT_EQUAL(s.stages[0].schema.n_cols, 3);
  CU_ASSERT_STRING_EQUAL(s.stages[1].section, "transform.scale");
  CU_ASSERT_STRING_EQUAL(s.stages[1].plugin, "standardize");
  CU_ASSERT_EQUAL(s.features.n_cols, 2);
  CU_ASSERT_STRING_EQUAL(s.label, "y");
  char buf[4096] = "";
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  keel_stage_schemas_print(f, &s);
  fclose(f);
  CU_ASSERT(strstr(buf, "[source] csv: 3 columns") != NULL);
  CU_ASSERT(strstr(buf, "[transform.scale] standardize: 2 columns") != NULL);
  CU_ASSERT(strstr(buf, "<- label") != NULL);
  CU_ASSERT(strstr(buf, "model input: 2 numeric features") != NULL);
  char *json = keel_stage_schemas_to_json(&s);
  CU_ASSERT_PTR_NOT_NULL(json);
  CU_ASSERT(strstr(json, "\"transform.scale\"") != NULL);
  free(json);
  keel_stage_schemas_free(&s);
  free_cfg(cfg);
}

static void test_check_refusals(void)
{
  keel_error err;
  keel_run_config *cfg = make_cfg("csv/reg.csv", "yy", KEEL_TASK_REGRESSION);
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "[data] label = 'yy'", "did you mean 'y'", "f1, f2, y"));
  free_cfg(cfg);

  /* a categorical label for regression */
  cfg = make_cfg("csv/classes.csv", "label", KEEL_TASK_REGRESSION);
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "label 'label'", "categorical", "regression"));
  free_cfg(cfg);

  /* a text column reaching the model */
  cfg = make_cfg("csv/text.csv", "y", KEEL_TASK_REGRESSION);
  set(cfg->source.plugin, cfg->source.values, "text_columns", "name");
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "'name'", "text", "numeric", "after the source"));
  /* ... and a transform asked to standardize it refuses, naming itself */
  keel_value *v = add_tx(cfg, "transform.scale", "standardize");
  set(cfg->transforms[0].plugin, v, "columns", "f1,name");
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "[transform.scale] standardize", "'name'"));
  free_cfg(cfg);

  /* a column that may be missing at the model */
  cfg = make_cfg("csv/feat_missing.csv", "y", KEEL_TASK_REGRESSION);
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "'f2'", "may be missing", "impute"));
  add_tx(cfg, "transform.scale", "standardize");
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "'f2'", "after [transform.scale] standardize"));
  free_cfg(cfg);

  /* NaN/Inf in a feature: known from the source's schema */
  cfg = make_cfg("csv/feat_nan.csv", "y", KEEL_TASK_REGRESSION);
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_ESCHEMA);
  CU_ASSERT(SAYS(&err, "'f2'", "NaN or Inf"));
  free_cfg(cfg);

  /* source errors carry the stage */
  cfg = make_cfg("csv/ragged.csv", "a", KEEL_TASK_REGRESSION);
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "[source] csv", "ragged.csv:3"));
  free_cfg(cfg);
}

/* ---- prepare ---------------------------------------------------------- */

static void test_prepare_regression_standardize(void)
{
  keel_run_config *cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.scale", "standardize");
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  CU_ASSERT_EQUAL(p.n_source_rows, 40);
  CU_ASSERT_EQUAL(p.part[KEEL_SPLIT_TRAIN].n_rows, 28);
  CU_ASSERT_EQUAL(p.part[KEEL_SPLIT_VALID].n_rows, 8);
  CU_ASSERT_EQUAL(p.part[KEEL_SPLIT_TEST].n_rows, 4);
  CU_ASSERT_EQUAL(p.n_features, 2);
  CU_ASSERT_STRING_EQUAL(p.feature_names[1], "f2");
  CU_ASSERT_EQUAL(p.n_classes, 0);
  CU_ASSERT_FALSE(p.split.stratified);
  /* reference: mean and population std of f1 = i over training rows */
  const keel_prepared_part *tr = &p.part[KEEL_SPLIT_TRAIN];
  double sum = 0, ss = 0;
  for (size_t i = 0; i < tr->n_rows; i++)
    sum += (double)tr->rows[i];
  double mean = sum / (double)tr->n_rows;
  for (size_t i = 0; i < tr->n_rows; i++)
    ss += ((double)tr->rows[i] - mean) * ((double)tr->rows[i] - mean);
  double sd = sqrt(ss / (double)tr->n_rows);
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    const keel_prepared_part *pp = &p.part[k];
    for (size_t i = 0; i < pp->n_rows; i++) {
      double x = (double)pp->rows[i];
      float want = (float)((x - mean) / sd);
      CU_ASSERT(fabsf(pp->X[i * 2] - want) <= 1e-6f * (1 + fabsf(want)));
      CU_ASSERT_EQUAL(pp->y[i], (float)(x * 1.5 + 0.25)); /* y column */
    }
  }
  keel_prepared_free(&p);
  free_cfg(cfg);
}

static void test_prepare_classification_labels(void)
{
  keel_run_config *cfg =
      make_cfg("csv/classes.csv", "label", KEEL_TASK_CLASSIFICATION);
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(p.n_classes, 2);
  CU_ASSERT_STRING_EQUAL(p.class_names[0], "a"); /* sorted, not first-seen */
  CU_ASSERT_STRING_EQUAL(p.class_names[1], "b");
  CU_ASSERT(p.split.stratified);
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    size_t ones = 0;
    for (size_t i = 0; i < p.part[k].n_rows; i++) {
      size_t r = p.part[k].rows[i];
      CU_ASSERT_EQUAL(p.part[k].y[i], (r % 2 == 0) ? 1.0f : 0.0f);
      CU_ASSERT_EQUAL(p.part[k].X[i * 2], (float)(r * 0.5));
      ones += p.part[k].y[i] == 1.0f;
    }
    CU_ASSERT_EQUAL(2 * ones, p.part[k].n_rows); /* stratified halves */
  }
  keel_prepared_free(&p);
  free_cfg(cfg);

  cfg = make_cfg("csv/intlabel.csv", "label", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(p.n_classes, 3);
  CU_ASSERT_STRING_EQUAL(p.class_names[2], "4");
  for (size_t i = 0; i < p.part[0].n_rows; i++)
    CU_ASSERT_EQUAL(p.part[0].y[i], (float)(p.part[0].rows[i] % 3));
  keel_prepared_free(&p);
  free_cfg(cfg);

  cfg = make_cfg("csv/fraclabel.csv", "label", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "label 'label'", "1.5", "row 2", "integer"));
  free_cfg(cfg);

  cfg = make_cfg("csv/oneclass.csv", "label", KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "1 class", "at least 2"));
  free_cfg(cfg);
}

static void test_missing_label_policy(void)
{
  keel_run_config *cfg =
      make_cfg("csv/missing_label.csv", "label", KEEL_TASK_CLASSIFICATION);
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "label 'label' is missing in source data row 2",
                 "missing_label = drop"));
  cfg->data.values[KEEL_DATA_MISSING_LABEL].i = 1;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  CU_ASSERT_EQUAL(p.n_dropped, 1);
  CU_ASSERT_EQUAL(p.dropped_rows[0], 1);
  size_t total = 0;
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    total += p.part[k].n_rows;
    for (size_t i = 0; i < p.part[k].n_rows; i++)
      CU_ASSERT_NOT_EQUAL(p.part[k].rows[i], 1);
  }
  CU_ASSERT_EQUAL(total, 9);
  char *json = keel_prepared_split_json(&p);
  CU_ASSERT(json && strstr(json, "\"dropped_missing_label\": 1"));
  free(json);
  keel_prepared_free(&p);
  free_cfg(cfg);
}

static void test_template_checks(void)
{
  keel_run_config *cfg =
      make_cfg("csv/classes.csv", "label", KEEL_TASK_CLASSIFICATION);
  keel_prepared p;
  keel_error err;
  cfg->checks.min_rows = 21;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "20 usable rows", "at least 21", "min_rows"));
  cfg->checks.min_rows = 20;
  cfg->checks.min_class_count = 11;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "class 'a'", "10 rows", "min_class_count"));
  free_cfg(cfg);

  /* f2 is missing in 1 of 6 rows (16.7%); impute makes check pass */
  cfg = make_cfg("csv/feat_missing.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.fill", "impute");
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_OK);
  cfg->checks.max_missing_fraction = 0.1;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "column 'f2'", "16.7% missing", "1 of 6",
                 "max_missing_fraction"));
  cfg->checks.max_missing_fraction = 0.2;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_OK);
  keel_prepared_free(&p);
  free_cfg(cfg);
}

static void test_values_must_fit_float(void)
{
  keel_run_config *cfg = make_cfg("csv/huge.csv", "y", KEEL_TASK_REGRESSION);
  cfg->data.values[KEEL_DATA_VALID_FRACTION].f = 0;
  cfg->data.values[KEEL_DATA_TEST_FRACTION].f = 0;
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "[source] csv", "'f1'", "row 1", "float32"));
  free_cfg(cfg);
}

static void test_zero_variance_is_named(void)
{
  keel_run_config *cfg = make_cfg("csv/const.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.scale", "standardize");
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(
      SAYS(&err, "[transform.scale] standardize", "fit on the train", "'f2'"));
  free_cfg(cfg);
}

/* onehot declares "cat=*"; the actual columns appear after fit. A category
 * seen only outside the training split is refused (unknown = error). */
static void test_onehot_wildcard_and_unseen_category(void)
{
  keel_run_config *cfg =
      make_cfg("csv/labels.csv", "label", KEEL_TASK_CLASSIFICATION);
  add_tx(cfg, "transform.encode", "onehot");
  keel_stage_schemas s;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_pipeline_check(cfg, keel_test_host(), &s, &err),
                        KEEL_OK);
  char buf[4096] = "";
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  keel_stage_schemas_print(f, &s);
  fclose(f);
  CU_ASSERT(strstr(buf, "cat=*") != NULL);
  CU_ASSERT(strstr(buf, "2 numeric features + 1 group") != NULL);
  keel_stage_schemas_free(&s);
  keel_prepared p;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(p.n_features, 5);
  CU_ASSERT_STRING_EQUAL(p.feature_names[2], "cat=u");
  CU_ASSERT_STRING_EQUAL(p.feature_names[4], "cat=w");
  /* row r of labels.csv has cat = "uvw"[r % 3] */
  for (size_t i = 0; i < p.part[0].n_rows; i++) {
    size_t r = p.part[0].rows[i];
    for (size_t k = 0; k < 3; k++)
      CU_ASSERT_EQUAL(p.part[0].X[i * 5 + 2 + k], r % 3 == k ? 1.0f : 0.0f);
  }
  /* the same file with a new category in one validation row */
  size_t victim = p.part[KEEL_SPLIT_VALID].rows[0];
  keel_prepared_free(&p);
  const char *path = keel_test_tmp_path("unseen.csv");
  FILE *out = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  fputs("f1,f2,cat,label\n", out);
  for (size_t i = 0; i < 20; i++)
    fprintf(out, "%g,%zu,%s,%s\n", (double)i * 0.5, (i * 7) % 5,
            i == victim ? "zzz" : (const char *[]){"u", "v", "w"}[i % 3],
            i % 2 ? "a" : "b");
  fclose(out);
  cfg->source.values[0].s = path;
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(
      SAYS(&err, "[transform.encode] onehot", "valid split", "'cat'", "zzz"));
  free_cfg(cfg);
}

/* ---- declared vs actual ----------------------------------------------- */

static int pass_schema(const keel_host *h, const keel_value *v,
                       const keel_schema *in, keel_schema *out, keel_error *err)
{
  for (size_t c = 0; c < in->n_cols; c++) {
    int rc = h->schema_add(out, in->cols[c].name, in->cols[c].type,
                           in->cols[c].flags, err);
    if (rc)
      return rc;
  }
  return KEEL_OK;
}

static int copy_table(const keel_host *h, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  keel_table *t = h->table_new(in->n_rows);
  for (size_t c = 0; c < in->n_cols; c++)
    if (!h->table_copy_column(t, &in->cols[c], err)) {
      h->table_free(t);
      return KEEL_ENOMEM;
    }
  *out = t;
  return KEEL_OK;
}

/* Declares its input unchanged but blanks row 0 of the first column. */
static int liar_apply(const keel_host *h, const keel_value *v,
                      const keel_state *st, const keel_table *in,
                      keel_table **out, keel_error *err)
{
  int rc = copy_table(h, in, out, err);
  if (!rc && (*out)->n_rows)
    (*out)->cols[0].missing[0] = 1;
  return rc;
}

/* Declares its input unchanged but drops the last column. */
static int dropper_apply(const keel_host *h, const keel_value *v,
                         const keel_state *st, const keel_table *in,
                         keel_table **out, keel_error *err)
{
  keel_table *t = h->table_new(in->n_rows);
  for (size_t c = 0; c + 1 < in->n_cols; c++)
    h->table_copy_column(t, &in->cols[c], err);
  *out = t;
  return KEEL_OK;
}

static const keel_transform_api liar_api = {
    KEEL_TRANSFORM_API_HEADER, .schema = pass_schema, .apply = liar_apply};
static const keel_transform_api dropper_api = {
    KEEL_TRANSFORM_API_HEADER, .schema = pass_schema, .apply = dropper_apply};

static void test_declared_must_match_actual(void)
{
  keel_run_config *cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_fake(cfg, "transform.liar", "liar", &liar_api);
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL(check(cfg, &err), KEEL_OK);
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EDATA);
  CU_ASSERT(SAYS(&err, "[transform.liar] liar", "'f1'", "missing",
                 "declared it never missing"));
  free_cfg(cfg);

  cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_fake(cfg, "transform.dropper", "dropper", &dropper_api);
  CU_ASSERT_EQUAL(prepare(cfg, &p, &err), KEEL_EPLUGIN);
  CU_ASSERT(
      SAYS(&err, "[transform.dropper] dropper", "1 columns", "declared 2"));
  free_cfg(cfg);
}

/* ---- reload, determinism, files -------------------------------------- */

/* The valid split's feature table, built independently of prepare. */
static keel_table *valid_features(const keel_run_config *cfg,
                                  const keel_prepared *p)
{
  const keel_source_api *api = cfg->source.plugin->api;
  keel_table *src = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(
      api->read(keel_test_host(), cfg->source.values, &src, &err), KEEL_OK);
  keel_table *feat =
      keel_table_drop_column(src, (size_t)keel_table_find(src, p->label), &err);
  keel_table *v = keel_table_take_rows(feat, p->part[KEEL_SPLIT_VALID].rows,
                                       p->part[KEEL_SPLIT_VALID].n_rows, &err);
  keel_table_free(src);
  keel_table_free(feat);
  return v;
}

static void test_state_reload_bit_exact(void)
{
  keel_run_config *cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.scale", "standardize");
  add_tx(cfg, "transform.range", "minmax");
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  keel_state *reloaded[2];
  for (size_t i = 0; i < 2; i++) {
    char *json = keel_state_to_json(p.states[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_EQUAL_FATAL(
        keel_state_from_json(json, "state", &reloaded[i], &err), KEEL_OK);
    free(json);
  }
  keel_table *valid = valid_features(cfg, &p);
  float *X = NULL;
  size_t nf = 0;
  CU_ASSERT_EQUAL_FATAL(keel_pipeline_apply(cfg, keel_test_host(), &p.schemas,
                                            reloaded, valid, &X, &nf, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL(nf, p.n_features);
  CU_ASSERT_EQUAL(memcmp(X, p.part[KEEL_SPLIT_VALID].X,
                         p.part[KEEL_SPLIT_VALID].n_rows * nf * sizeof *X),
                  0);
  free(X);
  keel_table_free(valid);
  keel_state_free(reloaded[0]);
  keel_state_free(reloaded[1]);
  keel_prepared_free(&p);
  free_cfg(cfg);
}

static void test_deterministic_and_seeded(void)
{
  keel_run_config *cfg = make_cfg("csv/reg.csv", "y", KEEL_TASK_REGRESSION);
  add_tx(cfg, "transform.scale", "standardize");
  keel_prepared a, b, c;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &a, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &b, &err), KEEL_OK);
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    CU_ASSERT_STRING_EQUAL(a.split.sha256[k], b.split.sha256[k]);
    CU_ASSERT_EQUAL(memcmp(a.part[k].X, b.part[k].X,
                           a.part[k].n_rows * a.n_features * sizeof(float)),
                    0);
  }
  cfg->data.values[KEEL_DATA_SPLIT_SEED].i = 43;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &c, &err), KEEL_OK);
  CU_ASSERT_STRING_NOT_EQUAL(a.split.sha256[KEEL_SPLIT_TRAIN],
                             c.split.sha256[KEEL_SPLIT_TRAIN]);
  keel_prepared_free(&a);
  keel_prepared_free(&b);
  keel_prepared_free(&c);
  free_cfg(cfg);
}

/* The file at path holds exactly the .npy encoding of the array. */
static void expect_npy(const char *path, keel_npy_dtype dtype, const void *data,
                       size_t ndim, const size_t *shape)
{
  size_t n = 0, enc_len = 0;
  void *enc = NULL;
  unsigned char *got = keel_test_read_file(path, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(got);
  CU_ASSERT_EQUAL_FATAL(
      keel_npy_encode(dtype, data, ndim, shape, &enc, &enc_len, NULL), KEEL_OK);
  CU_ASSERT(n == enc_len && memcmp(got, enc, n) == 0);
  free(enc);
  free(got);
}

static void test_write_files(void)
{
  keel_run_config *cfg =
      make_cfg("csv/classes.csv", "label", KEEL_TASK_CLASSIFICATION);
  add_tx(cfg, "transform.scale", "standardize");
  keel_prepared p;
  keel_error err;
  CU_ASSERT_EQUAL_FATAL(prepare(cfg, &p, &err), KEEL_OK);
  const char *dir = keel_test_tmp_path("out/deeper/prepared");
  char path[4200];
  CU_ASSERT_EQUAL_FATAL(keel_prepared_write(&p, dir, &err), KEEL_OK);
  const keel_prepared_part *tr = &p.part[KEEL_SPLIT_TRAIN];
  const keel_prepared_part *te = &p.part[KEEL_SPLIT_TEST];
  size_t x_shape[2] = {tr->n_rows, 2};
  CU_ASSERT_EQUAL(p.n_features, 2);
  snprintf(path, sizeof path, "%s/X_train.npy", dir);
  expect_npy(path, KEEL_NPY_F32, tr->X, 2, x_shape);
  snprintf(path, sizeof path, "%s/y_valid.npy", dir);
  expect_npy(path, KEEL_NPY_F32, p.part[KEEL_SPLIT_VALID].y, 1,
             &p.part[KEEL_SPLIT_VALID].n_rows);
  int64_t *rows = malloc((te->n_rows + 1) * sizeof *rows);
  for (size_t i = 0; rows && i < te->n_rows; i++)
    rows[i] = (int64_t)te->rows[i];
  snprintf(path, sizeof path, "%s/rows_test.npy", dir);
  expect_npy(path, KEEL_NPY_I64, rows, 1, &te->n_rows);
  free(rows);
  snprintf(path, sizeof path, "%s/01-transform.scale.json", dir);
  json_t *j = json_load_file(path, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL(j);
  json_decref(j);
  snprintf(path, sizeof path, "%s/split.json", dir);
  j = json_load_file(path, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT_EQUAL(json_integer_value(
                      json_object_get(json_object_get(j, "counts"), "train")),
                  (json_int_t)p.part[0].n_rows);
  CU_ASSERT_STRING_EQUAL(
      json_string_value(json_object_get(json_object_get(j, "sha256"), "valid")),
      p.split.sha256[KEEL_SPLIT_VALID]);
  json_decref(j);
  snprintf(path, sizeof path, "%s/schemas.json", dir);
  j = json_load_file(path, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "classes")), 2);
  json_decref(j);
  /* writing again replaces the folder; a foreign folder is refused */
  CU_ASSERT_EQUAL(keel_prepared_write(&p, dir, &err), KEEL_OK);
  const char *foreign = keel_test_tmp_path("foreign");
  mkdir(foreign, 0755);
  snprintf(path, sizeof path, "%s/mine.txt", foreign);
  FILE *f = fopen(path, "w");
  fclose(f);
  CU_ASSERT_EQUAL(keel_prepared_write(&p, foreign, &err), KEEL_EINVAL);
  CU_ASSERT(SAYS(&err, "not a prepared-data folder"));
  struct stat st;
  CU_ASSERT_EQUAL(stat(path, &st), 0);
  keel_prepared_free(&p);
  free_cfg(cfg);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"check: stages, printer, JSON", test_check_stages_and_print},
      {"check: label, text, may-miss, NaN, transform refusals",
       test_check_refusals},
      {"prepare: split counts and standardize fitted on train",
       test_prepare_regression_standardize},
      {"prepare: class labels (categorical, integer, refused)",
       test_prepare_classification_labels},
      {"missing label: error or drop, recorded", test_missing_label_policy},
      {"template data checks", test_template_checks},
      {"values must fit float32", test_values_must_fit_float},
      {"zero variance names the stage and column", test_zero_variance_is_named},
      {"onehot wildcard columns; unseen category refused",
       test_onehot_wildcard_and_unseen_category},
      {"declared and actual schemas must agree",
       test_declared_must_match_actual},
      {"fitted state reloads bit-exactly", test_state_reload_bit_exact},
      {"deterministic, seed-dependent split", test_deterministic_and_seeded},
      {"prepared files", test_write_files},
      {NULL, NULL}};
  return keel_test_run_suite("pipeline", tests);
}
