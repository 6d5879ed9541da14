/* Manifests, templates and resolution: origins, overrides, and every bad
 * input named in the issue (each with FILE:LINE and what was expected).
 * Fixtures: tests/data/manifests/ (its own templates/ folder). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "config/config_json.h"
#include "config/load.h"
#include "config/manifest.h"
#include "config/resolve.h"
#include "config/template.h"
#include "test_util.h"

#define MDIR KEEL_TEST_DATA_DIR "/manifests"

static int load(const char *file, const char *const *ovr, size_t n_ovr,
                keel_registry **reg, keel_run_config **cfg, keel_error *err)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", MDIR, file);
  const char *paths[] = {KEEL_TEST_PLUGIN_DIR};
  return keel_config_load(path, ovr, n_ovr, paths, 1, 1, NULL, NULL, reg, cfg,
                          err);
}

static const keel_resolved_param *param(const keel_stage *st, const char *name,
                                        size_t *index)
{
  for (size_t i = 0; i < st->n_params; i++)
    if (strcmp(st->params[i].decl->name, name) == 0) {
      if (index)
        *index = i;
      return &st->params[i];
    }
  return NULL;
}

static void expect_param(const keel_stage *st, const char *name,
                         const char *text, keel_origin origin,
                         const char *where)
{
  const keel_resolved_param *p = param(st, name, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  if (strcmp(p->text, text) != 0 || p->origin != origin)
    fprintf(stderr, "%s.%s = %s (%s %s)\n", st->section, name, p->text,
            keel_origin_name(p->origin), p->where ? p->where : "-");
  CU_ASSERT_STRING_EQUAL(p->text, text);
  CU_ASSERT_EQUAL(p->origin, origin);
  if (where) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->where);
    CU_ASSERT_STRING_EQUAL(p->where, where);
  } else {
    CU_ASSERT_PTR_NULL(p->where);
  }
}

static void test_good_origins(void)
{
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_error err = {0};
  int rc = load("good.ini", NULL, 0, &reg, &cfg, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_STRING_EQUAL(cfg->template_name, "test-classification");
  CU_ASSERT_STRING_EQUAL(cfg->template_version, "1.2.0");
  CU_ASSERT_EQUAL(cfg->task, KEEL_TASK_CLASSIFICATION);
  CU_ASSERT_EQUAL(cfg->checks.min_rows, 10);
  CU_ASSERT_EQUAL(cfg->checks.min_class_count, 2);
  CU_ASSERT_EQUAL(cfg->checks.contract_flags,
                  KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE);
  CU_ASSERT_PTR_NOT_NULL(strstr(cfg->manifest_text, "[keel]"));
  CU_ASSERT_PTR_NOT_NULL(strstr(cfg->template_text, "[slot.model]"));

  expect_param(&cfg->data, "label", "species", KEEL_ORIGIN_MANIFEST,
               "good.ini:7");
  expect_param(&cfg->data, "valid_fraction", "0.2", KEEL_ORIGIN_PLUGIN_DEFAULT,
               NULL);
  expect_param(&cfg->train, "epochs", "30", KEEL_ORIGIN_TEMPLATE,
               "test-classification.ini:35");
  expect_param(&cfg->train, "batch_size", "8", KEEL_ORIGIN_MANIFEST,
               "good.ini:28");
  expect_param(&cfg->optimizer, "lr", "0.05", KEEL_ORIGIN_MANIFEST,
               "good.ini:25");
  expect_param(&cfg->optimizer, "momentum", "0.5", KEEL_ORIGIN_TEMPLATE,
               "test-classification.ini:39");
  expect_param(&cfg->optimizer, "nesterov", "false", KEEL_ORIGIN_PLUGIN_DEFAULT,
               NULL);
  expect_param(&cfg->source, "path", "data/iris.csv", KEEL_ORIGIN_MANIFEST,
               "good.ini:11");

  size_t i = 0;
  const keel_resolved_param *lr = param(&cfg->optimizer, "lr", &i);
  CU_ASSERT_DOUBLE_EQUAL(cfg->optimizer.values[i].f, 0.05, 0);
  CU_ASSERT_DOUBLE_EQUAL(lr->lo, 0.0001, 0);
  CU_ASSERT_DOUBLE_EQUAL(lr->hi, 1, 0);
  CU_ASSERT_EQUAL(cfg->data.values[KEEL_DATA_STRATIFY].i, 1);
  CU_ASSERT_STRING_EQUAL(cfg->data.values[KEEL_DATA_LABEL].s, "species");
  CU_ASSERT_EQUAL(cfg->train.values[KEEL_TRAIN_EPOCHS].i, 30);
  CU_ASSERT_EQUAL(cfg->train.values[KEEL_TRAIN_CHUNK_ROWS].i, 16);

  CU_ASSERT_EQUAL_FATAL(cfg->n_transforms, 1);
  CU_ASSERT_STRING_EQUAL(cfg->transforms[0].section, "transform.scale");
  CU_ASSERT_STRING_EQUAL(cfg->transforms[0].plugin->desc.name, "standardize");
  CU_ASSERT_EQUAL(cfg->transforms[0].line, 13);
  CU_ASSERT_STRING_EQUAL(cfg->model.plugin->desc.name, "softmax");
  CU_ASSERT_EQUAL(strlen(cfg->model.plugin->sha256), 64);
  CU_ASSERT_STRING_EQUAL(cfg->source.section, "source");
  CU_ASSERT_EQUAL(cfg->n_overrides, 0);

  /* JSON form: every stage, pinned plugins, origins. */
  json_t *j = keel_run_config_to_json(cfg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  json_t *stages = json_object_get(j, "stages");
  CU_ASSERT_EQUAL(json_array_size(stages), 7);
  json_t *opt = json_array_get(stages, 5);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(opt, "section")),
                         "optimizer");
  json_t *plug = json_object_get(opt, "plugin");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(plug, "name")),
                         "sgd");
  CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(plug, "sha256"))),
                  64);
  json_t *p0 = json_array_get(json_object_get(opt, "params"), 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p0, "name")), "lr");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p0, "origin")),
                         "manifest");
  CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(p0, "value")), 0.05,
                         0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
                             json_object_get(j, "template"), "name")),
                         "test-classification");
  json_decref(j);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
}

static void test_overrides(void)
{
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_error err = {0};
  const char *ovr[] = {"optimizer.lr=0.01", "model.plugin=mlp",
                       "transform.scale.with_mean=false", "train.epochs=5",
                       "model.activation=tanh"};
  int rc = load("good.ini", ovr, 5, &reg, &cfg, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  expect_param(&cfg->optimizer, "lr", "0.01", KEEL_ORIGIN_OVERRIDE,
               "command line");
  expect_param(&cfg->transforms[0], "with_mean", "false", KEEL_ORIGIN_OVERRIDE,
               "command line");
  expect_param(&cfg->train, "epochs", "5", KEEL_ORIGIN_OVERRIDE,
               "command line");
  expect_param(&cfg->model, "activation", "tanh", KEEL_ORIGIN_OVERRIDE,
               "command line");
  CU_ASSERT_STRING_EQUAL(cfg->model.plugin->desc.name, "mlp");
  CU_ASSERT_EQUAL_FATAL(cfg->n_overrides, 5);
  CU_ASSERT_STRING_EQUAL(cfg->overrides[1].text, "model.plugin=mlp");
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
}

typedef struct bad_case {
  const char *file;
  int code;
  const char *want;
} bad_case;

static void expect_bad(const char *file, const char *const *ovr, size_t n,
                       int code, const char *want)
{
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_error err = {0};
  int rc = load(file, ovr, n, &reg, &cfg, &err);
  if (rc != code || !strstr(err.message, want))
    fprintf(stderr, "\n%s%s%s: rc %d, message:\n  %s\nexpected:\n  %s\n", file,
            n ? " + " : "", n ? ovr[0] : "", rc, err.message, want);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
  CU_ASSERT_PTR_NULL(cfg);
  CU_ASSERT_PTR_NULL(reg);
}

static void test_bad_manifests(void)
{
  static const bad_case cases[] = {
      {"bad_syntax.ini", KEEL_EINVAL,
       "bad_syntax.ini:25: expected `key = value`"},
      {"bad_unknown_section.ini", KEEL_EINVAL,
       "bad_unknown_section.ini:23: [optimiser]: unknown section; did you "
       "mean [optimizer]?"},
      {"bad_transform_name.ini", KEEL_EINVAL,
       "bad_transform_name.ini:13: [transfrom.scale]: unknown section; did "
       "you mean [transform.scale]?"},
      {"bad_unknown_key.ini", KEEL_EINVAL,
       "bad_unknown_key.ini:25: [optimizer] key 'lrr' is not a parameter of "
       "sgd; did you mean 'lr'?"},
      {"bad_missing_slot.ini", KEEL_EINVAL,
       "bad_missing_slot.ini:2: missing required slot [model]; expected a "
       "[model] section with plugin = one of: softmax >=1 <2, mlp ^1.0"},
      {"bad_wrong_type.ini", KEEL_EINVAL,
       "bad_wrong_type.ini:28: [train] batch_size: "},
      {"bad_bool.ini", KEEL_EINVAL,
       "bad_bool.ini:15: [transform.scale] with_std: "},
      {"bad_out_of_range.ini", KEEL_ERANGE,
       "bad_out_of_range.ini:25: [optimizer] lr: 50 is outside the allowed "
       "range"},
      {"bad_template_range.ini", KEEL_ERANGE,
       "bad_template_range.ini:25: [optimizer] lr: 5 is outside the allowed "
       "range [0.0001, 1], as narrowed by template test-classification "
       "(test-classification.ini:42)"},
      {"bad_enum_narrowed.ini", KEEL_ERANGE,
       "bad_enum_narrowed.ini:19: [model] activation: 'gelu' is not allowed "
       "by template test-classification; expected one of: relu | tanh"},
      {"bad_template_version.ini", KEEL_EINVAL,
       "bad_template_version.ini:4: [keel] template_version: template "
       "test-classification is version 1.2.0"},
      {"bad_plugin_version.ini", KEEL_EINVAL,
       "bad_plugin_version.ini:24: [optimizer] plugin: adam version 1.0.0 is "
       "outside the template's range; expected adam >=2"},
      {"bad_not_allowed.ini", KEEL_EINVAL,
       "bad_not_allowed.ini:18: [model] plugin: plugin 'logistic' is not "
       "allowed by template test-classification 1.2.0; expected one of: "
       "softmax >=1 <2, mlp ^1.0"},
      {"bad_not_found.ini", KEEL_EINVAL,
       "bad_not_found.ini:18: [model] plugin: no model plugin named "
       "'sofmax' on the plugin path; did you mean 'softmax'? available:"},
      {"bad_required.ini", KEEL_EINVAL,
       "bad_required.ini:9: [source] path: required parameter of csv is not "
       "set"},
      {"bad_no_label.ini", KEEL_EINVAL,
       "bad_no_label.ini:6: [data] label: required parameter of [data] is "
       "not set"},
      {"bad_template_missing.ini", KEEL_ENOTFOUND,
       "bad_template_missing.ini:3: [keel] template: template "
       "'no-such-template' not found"},
      {"bad_task.ini", KEEL_EINVAL,
       "bad_task.ini:18: [loss] plugin: mse does not support the template's "
       "task classification"},
      {"bad_wide_template.ini", KEEL_EINVAL,
       "test-wide.ini:20: [ranges.optimizer.sgd] lr: 0.001 .. 100 is wider "
       "than sgd's range"},
      {"bad_duplicate_key.ini", KEEL_EINVAL,
       "bad_duplicate_key.ini:26: [optimizer] lr: key set twice (first at "
       "line 25)"},
      {"bad_long_line.ini", KEEL_EINVAL,
       "bad_long_line.ini:26: line too long (242 bytes); max 199"},
      {"bad_bare_cr.ini", KEEL_EINVAL,
       "bad_bare_cr.ini:1: carriage return without line feed"},
      {"bad_long_section.ini", KEEL_EINVAL,
       "bad_long_section.ini:27: section name too long"},
      {"bad_unterminated.ini", KEEL_EINVAL,
       "bad_unterminated.ini:27: unterminated section header"},
      {"bad_continuation.ini", KEEL_EINVAL,
       "bad_continuation.ini:26: indented `momentum = ...` line"},
      {"does_not_exist.ini", KEEL_ENOTFOUND, "does_not_exist.ini: cannot open"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_bad(cases[i].file, NULL, 0, cases[i].code, cases[i].want);
}

static void test_bad_overrides(void)
{
  static const struct {
    const char *ovr[2];
    size_t n;
    int code;
    const char *want;
  } cases[] = {
      {{"optimizer.lr=50"},
       1,
       KEEL_ERANGE,
       "command line: override 'optimizer.lr=50': [optimizer] lr: 50 is "
       "outside the allowed range"},
      {{"train.epochs=2000"},
       1,
       KEEL_ERANGE,
       "command line: override 'train.epochs=2000': [train] epochs: 2000 is "
       "outside the allowed range [1, 1000], as narrowed by template"},
      {{"optimizer.lrr=1"},
       1,
       KEEL_EINVAL,
       "command line: override 'optimizer.lrr=1': [optimizer] key 'lrr' is "
       "not a parameter of sgd; did you mean 'lr'?"},
      {{"lr=1"},
       1,
       KEEL_EINVAL,
       "command line: override 'lr=1' is malformed; expected "
       "SECTION.KEY=VALUE"},
      {{"model.plugin=linear"},
       1,
       KEEL_EINVAL,
       "command line: override 'model.plugin=linear': [model] plugin: plugin "
       "'linear' is not allowed by template test-classification"},
      {{"model.plugin=nope"},
       1,
       KEEL_EINVAL,
       "[model] plugin: no model plugin named 'nope'"},
      {{"transform.other.with_mean=false"},
       1,
       KEEL_EINVAL,
       "override 'transform.other.with_mean=false': "},
      {{"keel.template=x"}, 1, KEEL_EINVAL, "[keel] cannot be overridden"},
      {{"optimiser.lr=1"},
       1,
       KEEL_EINVAL,
       "unknown section [optimiser]; did you mean [optimizer]?"},
      {{"optimizer.lr=0.1", "optimizer.lr=0.2"},
       2,
       KEEL_EINVAL,
       "optimizer.lr given twice"},
      {{"train.epochs=ten"},
       1,
       KEEL_EINVAL,
       "command line: override 'train.epochs=ten': [train] epochs: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_bad("good.ini", cases[i].ovr, cases[i].n, cases[i].code,
               cases[i].want);
}

/* Writes a template into a scratch file and loads it. */
static int load_template_text(const char *text, keel_error *err)
{
  const char *path = keel_test_tmp_path("t.ini");
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
  keel_template *t = NULL;
  int rc = keel_template_load(path, &t, err);
  keel_template_free(t);
  return rc;
}

#define TPL_HEAD                                                               \
  "[template]\nname = t\nversion = 1.0.0\ntask = regression\n"                 \
  "[slot.source]\nallow = csv\n[slot.model]\nallow = linear >=1 <2\n"          \
  "[slot.loss]\nallow = mse\n[slot.optimizer]\nallow = sgd, adam\n"

static void test_bad_templates(void)
{
  static const struct {
    const char *text;
    const char *want;
  } cases[] = {
      {TPL_HEAD "[slots.x]\n", "t.ini:13: [slots.x]: unknown section"},
      {TPL_HEAD "[chekcs]\nmin_rows = 1\n",
       "t.ini:13: [chekcs]: unknown section; did you mean [checks]?"},
      {TPL_HEAD "[checks]\nmin_rows = -1\n",
       "t.ini:14: [checks] min_rows: '-1'; expected an integer >= 0"},
      {TPL_HEAD "[checks]\nmax_missing_fraction = 2\n",
       "expected a number in 0 .. 1"},
      {TPL_HEAD "[contract]\nmissing = sometimes\n",
       "t.ini:14: [contract] missing: 'sometimes'; expected forbidden or "
       "allowed"},
      {TPL_HEAD "[defaults.optimizer.adamw]\nlr = 1\n",
       "t.ini:13: [defaults.optimizer.adamw]: plugin 'adamw' is not allowed "
       "in [slot.optimizer]"},
      {TPL_HEAD "[defaults.train]\nepoch = 1\n",
       "t.ini:14: [defaults.train] unknown key 'epoch'; did you mean "
       "'epochs'?"},
      {TPL_HEAD "[slot.transform]\nallow = standardize >=x\n",
       "t.ini:14: [slot.transform] allow: standardize: version range"},
      {TPL_HEAD "[slot.transform]\nallow = a, a\n", "listed twice"},
      {TPL_HEAD "[slot.transform]\nallow = a,\n", "trailing ','"},
      {TPL_HEAD "[slot.modle]\nallow = x\n",
       "[slot.modle]: unknown slot (did you mean 'slot.model'?)"},
      {"[template]\nname = t\nversion = 1.0\ntask = regression\n",
       "t.ini:3: [template] version: version '1.0' is not a semantic version"},
      {"[template]\nname = t\nversion = 1.0.0\ntask = ranking\n",
       "t.ini:4: [template] task: 'ranking'; expected classification or "
       "regression"},
      {"[template]\nname = t\nversion = 1.0.0\ntask = regression\n"
       "[slot.source]\nallow = csv\n",
       "missing [slot.model] section"},
      {"[slot.source]\nallow = csv\n", "t.ini:1: missing [template] section"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    keel_error err = {0};
    int rc = load_template_text(cases[i].text, &err);
    if (rc != KEEL_EINVAL || !strstr(err.message, cases[i].want))
      fprintf(stderr, "\ntemplate case %zu: rc %d: %s\nexpected: %s\n", i, rc,
              err.message, cases[i].want);
    CU_ASSERT_EQUAL(rc, KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, cases[i].want));
  }
  keel_error err = {0};
  CU_ASSERT_EQUAL(load_template_text(TPL_HEAD "[ranges.optimizer.sgd]\n"
                                              "lr = 0.001 .. 0.5\n",
                                     &err),
                  0);
}

static void test_template_lookup(void)
{
  char *path = NULL;
  keel_error err = {0};
  unsetenv("KEEL_TEMPLATE_PATH");
  /* By name: <manifest dir>/templates. */
  CU_ASSERT_EQUAL(keel_template_locate("test-wide", MDIR, &path, &err), 0);
  CU_ASSERT_PTR_NOT_NULL(path && strstr(path, "templates/test-wide.ini"));
  free(path);
  /* The shipped ones, from the build tree. */
  CU_ASSERT_EQUAL(keel_template_locate("tabular-classification", "/nonexistent",
                                       &path, &err),
                  0);
  free(path);
  /* By path, relative to the manifest. */
  CU_ASSERT_EQUAL(
      keel_template_locate("templates/test-wide.ini", MDIR, &path, &err), 0);
  free(path);
  /* KEEL_TEMPLATE_PATH comes first. */
  setenv("KEEL_TEMPLATE_PATH", "/nonexistent:" MDIR "/templates", 1);
  CU_ASSERT_EQUAL(keel_template_locate("test-permissive", "/x", &path, &err),
                  0);
  CU_ASSERT_PTR_NOT_NULL(path && strstr(path, MDIR "/templates"));
  free(path);
  unsetenv("KEEL_TEMPLATE_PATH");
  CU_ASSERT_EQUAL(keel_template_locate("nope", MDIR, &path, &err),
                  KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "looked for nope.ini in"));
  CU_ASSERT_EQUAL(keel_template_locate("Bad Name", MDIR, &path, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_template_locate("missing.ini", MDIR, &path, &err),
                  KEEL_ENOTFOUND);
}

static void test_shipped(void)
{
  /* The shipped templates and example manifests resolve cleanly. */
  const char *templates[] = {"tabular-classification", "tabular-regression"};
  for (size_t i = 0; i < 2; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifests/templates/%s.ini",
             KEEL_TEST_SOURCE_DIR, templates[i]);
    keel_template *t = NULL;
    keel_error err = {0};
    int rc = keel_template_load(path, &t, &err);
    if (rc)
      fprintf(stderr, "%s\n", err.message);
    CU_ASSERT_EQUAL(rc, 0);
    keel_template_free(t);
  }
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_error err = {0};
  const char *paths[] = {KEEL_TEST_PLUGIN_DIR};
  int rc = keel_config_load(KEEL_TEST_SOURCE_DIR "/manifests/iris.ini", NULL, 0,
                            paths, 1, 1, NULL, NULL, &reg, &cfg, &err);
  if (rc)
    fprintf(stderr, "%s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
}

static void test_template_override(void)
{
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_error err = {0};
  const char *paths[] = {KEEL_TEST_PLUGIN_DIR};
  /* Replay passes the bundle's template; its version is still checked. */
  int rc = keel_config_load(MDIR "/good.ini", NULL, 0, paths, 1, 1,
                            MDIR "/templates/test-permissive.ini", NULL, &reg,
                            &cfg, &err);
  CU_ASSERT_EQUAL(rc, KEEL_EINVAL); /* 1.0.0 is fine, but no transform slot */
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "has no [slot.transform]"));
  rc = keel_config_load(MDIR "/good.ini", NULL, 0, paths, 1, 1,
                        MDIR "/templates/test-classification.ini", NULL, &reg,
                        &cfg, &err);
  CU_ASSERT_EQUAL(rc, 0);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
}

static void test_override_split(void)
{
  char *s, *k, *v;
  keel_error err;
  CU_ASSERT_EQUAL(
      keel_override_split("transform.scale.with_mean=a=b", &s, &k, &v, &err),
      0);
  CU_ASSERT_STRING_EQUAL(s, "transform.scale");
  CU_ASSERT_STRING_EQUAL(k, "with_mean");
  CU_ASSERT_STRING_EQUAL(v, "a=b");
  free(s);
  free(k);
  free(v);
  const char *bad[] = {"x", "x=1", ".x=1", "x.=1", "a .b=1", "=1", NULL};
  for (size_t i = 0; bad[i]; i++)
    CU_ASSERT_EQUAL(keel_override_split(bad[i], &s, &k, &v, &err), KEEL_EINVAL);
}

static void test_paths(void)
{
  const struct {
    const char *dir, *path, *want;
  } cases[] = {{"a/b", "c.ini", "a/b/c.ini"},
               {"a", "/abs/c.ini", "/abs/c.ini"},
               {"", "c.ini", "c.ini"},
               {NULL, "c.ini", "c.ini"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *p = keel_path_join(cases[i].dir, cases[i].path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p, cases[i].want);
    free(p);
  }
  char *d = keel_path_dirname("a/b/c.ini");
  CU_ASSERT_STRING_EQUAL(d, "a/b");
  free(d);
  d = keel_path_dirname("c.ini");
  CU_ASSERT_STRING_EQUAL(d, ".");
  free(d);
  CU_ASSERT_STRING_EQUAL(keel_path_basename("a/b/c.ini"), "c.ini");
}

int main(void)
{
  unsetenv("KEEL_TEMPLATE_PATH");
  unsetenv("KEEL_PLUGIN_PATH");
  static const keel_test_case tests[] = {
      {"good_origins", test_good_origins},
      {"overrides", test_overrides},
      {"bad_manifests", test_bad_manifests},
      {"bad_overrides", test_bad_overrides},
      {"bad_templates", test_bad_templates},
      {"template_lookup", test_template_lookup},
      {"shipped", test_shipped},
      {"template_override", test_template_override},
      {"override_split", test_override_split},
      {"paths", test_paths},
      {NULL, NULL}};
  return keel_test_run_suite("manifest", tests);
}
