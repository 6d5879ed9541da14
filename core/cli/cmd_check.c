/* keel check MANIFEST [section.key=value...] [--plugin-path DIR]... [--json]
 *
 * Validates everything that can be validated without training: the
 * manifest and template syntax, the template version, every plugin (found,
 * allowed, fit for the task), every value (type, plugin range, template
 * range), and the declared data schema through every stage. Prints the
 * resolved configuration with each value's origin. Exit 0 or 2. With
 * --data it also reads the data and runs the data checks
 * (run/check_data.h): a failure there exits 1, as the run would.
 * Given a template (a file with [template] and no [keel]) it checks that
 * template and its extends chain alone and prints the chain and rules. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/json_text.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/config_json.h"
#include "config/ini.h"
#include "config/load.h"
#include "config/manifest.h"
#include "config/template.h"
#include "data/access.h"
#include "data/freshness.h"
#include "data/pipeline.h"
#include "plugin/host.h"
#include "run/check_data.h"
#include "run/tune_check.h"
#include "train/train.h"

typedef struct check_args {
  keel_cli_list plugin_paths;
  int json;
  int data;
  const char *catalog;
  const char *cache;
  const char *ca_bundle;
  const char *policy;
} check_args;

static const keel_cli_option check_options[] = {
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "add a plugin folder or .so file before the defaults",
     offsetof(check_args, plugin_paths), 0, 0},
    {"json", 0, KEEL_CLI_FLAG, NULL,
     "print the resolved configuration and schemas as JSON (the error too)",
     offsetof(check_args, json), 0, 0},
    {"data", 0, KEEL_CLI_FLAG, NULL,
     "also read the data (no fitting, no training, nothing written) and run "
     "the data checks: read and split, class_count, batch_size",
     offsetof(check_args, data), 0, 0},
    {"catalog", 0, KEEL_CLI_PATH, "FILE",
     "look [source] dataset up in this catalog (before the manifest's "
     "[keel] catalog and the `catalog` setting)",
     offsetof(check_args, catalog), 0, 0},
    {"cache", 0, KEEL_CLI_PATH, "DIR",
     "the data cache an http(s) dataset is fetched into (the `data_cache` "
     "setting)",
     offsetof(check_args, cache), 0, 0},
    {"ca-bundle", 0, KEEL_CLI_PATH, "FILE",
     "trust these CAs when fetching an https dataset (the `ca_bundle` "
     "setting)",
     offsetof(check_args, ca_bundle), 0, 0},
    {"policy", 0, KEEL_CLI_PATH, "FILE",
     "decide access to the dataset by this access policy (the `policy` "
     "setting; docs/data-access.md)",
     offsetof(check_args, policy), 0, 0},
};

const keel_cli_command keel_cli_check = {
    .name = "check",
    .main = keel_cmd_check,
    .summary = "validate a manifest without training; print the resolved "
               "configuration and the schema at every stage",
    .operands = "MANIFEST",
    .overrides = 1,
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no manifest given",
    .too_many = "expected one manifest (overrides are SECTION.KEY=VALUE)",
    .options = check_options,
    .n_options = KEEL_CLI_COUNT(check_options),
};

static void print_origin(const keel_resolved_param *rp)
{
  switch (rp->origin) {
  case KEEL_ORIGIN_PLUGIN_DEFAULT: printf("(default)"); break;
  case KEEL_ORIGIN_OVERRIDE: printf("(command line)"); break;
  default:
    printf("(%s %s)", keel_origin_name(rp->origin),
           rp->where ? rp->where : "?");
  }
}

static size_t key_width(const keel_stage *st, size_t w)
{
  for (size_t i = 0; st->section && i < st->n_params; i++) {
    size_t n = strlen(st->section) + 1 + strlen(st->decls[i].name);
    if (n > w)
      w = n;
  }
  return w;
}

static size_t value_width(const keel_stage *st, size_t w)
{
  for (size_t i = 0; st->params && i < st->n_params; i++) {
    size_t n = st->params[i].text ? strlen(st->params[i].text) : 0;
    if (n > w && n <= 40)
      w = n;
  }
  return w;
}

static void print_stage(const keel_stage *st, int kw, int vw)
{
  if (!st->section)
    return;
  if (st->plugin)
    printf("[%s] %s %s\n", st->section, st->plugin->desc.name,
           st->plugin->desc.version);
  else
    printf("[%s]\n", st->section);
  if (st->n_params == 0)
    printf("  (no parameters)\n");
  for (size_t i = 0; i < st->n_params; i++) {
    const keel_resolved_param *rp = &st->params[i];
    char key[128];
    snprintf(key, sizeof key, "%s.%s", st->section, rp->decl->name);
    printf("  %-*s = %-*s  ", kw, key, vw, rp->text ? rp->text : "");
    print_origin(rp);
    printf("\n");
  }
}

static void print_plugin_line(const keel_stage *st)
{
  if (!st->plugin)
    return;
  const keel_loaded_plugin *p = st->plugin;
  printf("  %-18s %-12s %-8s sha256:%s  %s\n", st->section, p->desc.name,
         p->desc.version, p->sha256, p->path ? p->path : "");
}

/* The bases of the template chain, one "extends" line each (paths are
 * file names: escaped). */
static void print_bases(const keel_run_config *c)
{
  for (size_t i = 1; i < c->n_chain; i++) {
    printf("  extends %s %s  ", c->chain[i].name, c->chain[i].version);
    keel_escape_fputs(stdout, c->chain[i].path);
    putchar('\n');
  }
}

/* Each rule of the template chain with the file and line it came from. */
static void print_rules(const keel_run_config *c)
{
  size_t rw = 0;
  for (size_t i = 0; i < c->n_rules; i++)
    if (strlen(c->rules[i].text) > rw)
      rw = strlen(c->rules[i].text);
  printf("\nrules (template file:line)\n");
  for (size_t i = 0; i < c->n_rules; i++) {
    printf("  %-*s  ", (int)rw, c->rules[i].text);
    keel_escape_fputs(stdout, c->rules[i].file);
    printf(":%d\n", c->rules[i].line);
  }
}

/* The data as a run reads it: one host context, a [source] dataset
 * routed through the access shim (data/access.h). */
typedef struct check_data_access {
  keel_host_context ctx;
  keel_host host;
  keel_data_access *access;
} check_data_access;

/* Opens the dataset's bytes; an exit code, having filled err. */
static int open_data(const keel_run_config *cfg, const check_args *a,
                     check_data_access *d, keel_error *err)
{
  if (keel_host_context_init(&d->ctx, cfg->manifest_dir))
    return keel_fail(err, KEEL_ENOMEM, "out of memory"), KEEL_EXIT_RUNTIME;
  keel_host_bind(&d->host, &d->ctx);
  if (!cfg->dataset)
    return KEEL_EXIT_OK;
  keel_freshness f;
  if (keel_freshness_check(cfg, keel_freshness_today(), 0, &f, err))
    return KEEL_EXIT_CONFIG; /* as the run refuses it, before reading */
  if (f.stale) {
    char m[1024];
    keel_freshness_message(cfg, &f, m, sizeof m);
    fprintf(stderr, "keel check: warning: ");
    keel_escape_fputs(stderr, m);
    fputc('\n', stderr);
  }
  keel_data_access_options o = {.cache_root = a->cache,
                                .ca_bundle = a->ca_bundle,
                                .purpose = cfg->purpose,
                                .policy = a->policy};
  int rc = keel_data_access_open(cfg->dataset, &o, &d->ctx, &d->access, err);
  return !rc                     ? KEEL_EXIT_OK
         : rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY
         : rc == KEEL_EINVAL     ? KEEL_EXIT_CONFIG
                                 : KEEL_EXIT_RUNTIME;
}

static void close_data(check_data_access *d)
{
  keel_data_access_close(d->access);
  if (d->ctx.base_dir)
    keel_host_context_free(&d->ctx);
}

/* What the run reads: the catalog entry and why, or that the data is
 * uncatalogued. */
static void print_dataset(const keel_run_config *c,
                          const keel_data_access *access)
{
  const keel_dataset *d = c->dataset;
  if (!d) {
    int reads_path = 0;
    for (size_t i = 0; i < c->source.n_params; i++)
      reads_path |= strcmp(c->source.decls[i].name, "path") == 0;
    if (reads_path)
      printf("data      uncatalogued: [source] reads a path; name a catalog "
             "entry instead (dataset = NAME@RANGE, docs/data-access.md)\n");
    else
      printf("data      made by the source plugin (no data file)\n");
    return;
  }
  const keel_catalog_entry *e = d->entry;
  printf("data      %s (dataset = %s, %s)\n", e->id, d->ref, d->where);
  printf("          catalog %s:%d (chosen by %s)\n", d->catalog_path, e->line,
         d->catalog_origin);
  printf("          sha256 %s, %llu rows, scope %s, licence %s, as of %s\n",
         e->sha256, (unsigned long long)e->rows, keel_data_scope_name(e->scope),
         e->license ? e->license : "-", e->as_of);
  if (access)
    printf("          read from %s\n", keel_data_access_path(access));
  const keel_policy_decision *p =
      access ? keel_data_access_decision(access) : NULL;
  if (p && p->policy_path)
    printf("policy    %s:%d (version %s): allowed for user %s%s%s: %s\n",
           p->policy_path, p->line, p->version, p->user,
           p->purpose ? ", purpose " : "", p->purpose ? p->purpose : "",
           p->reason);
  else if (p)
    printf("policy    built-in (no policy file %s): allowed for user %s: %s\n",
           p->searched, p->user, p->reason);
}

static void print_config(const keel_run_config *c,
                         const keel_data_access *access)
{
  printf("manifest  %s\n", c->manifest_path);
  printf("template  %s %s (%s)  %s\n", c->template_name, c->template_version,
         c->task == KEEL_TASK_REGRESSION ? "regression" : "classification",
         c->template_path);
  print_bases(c);
  print_dataset(c, access);
  const keel_template_checks *k = &c->checks;
  printf("checks    min_rows ");
  if (k->min_rows >= 0)
    printf("%lld", (long long)k->min_rows);
  else
    printf("-");
  printf(", max_missing_fraction ");
  if (k->max_missing_fraction >= 0)
    printf("%g", k->max_missing_fraction);
  else
    printf("-");
  printf(", min_class_count ");
  if (k->min_class_count >= 0)
    printf("%lld", (long long)k->min_class_count);
  else
    printf("-");
  printf("; missing %s, finite %s\n",
         k->contract_flags & KEEL_CONTRACT_NO_MISSING ? "forbidden" : "allowed",
         k->contract_flags & KEEL_CONTRACT_FINITE ? "required" : "optional");
  if (c->n_overrides) {
    printf("overrides");
    for (size_t i = 0; i < c->n_overrides; i++)
      printf(" %s", c->overrides[i].text);
    printf("\n");
  }

  print_rules(c);

  printf("\nplugins\n");
  print_plugin_line(&c->source);
  for (size_t i = 0; i < c->n_transforms; i++)
    print_plugin_line(&c->transforms[i]);
  print_plugin_line(&c->model);
  print_plugin_line(&c->loss);
  print_plugin_line(&c->optimizer);

  const keel_stage *order[7 + 64];
  size_t n = 0;
  order[n++] = &c->data;
  order[n++] = &c->source;
  for (size_t i = 0; i < c->n_transforms && n < 64; i++)
    order[n++] = &c->transforms[i];
  order[n++] = &c->model;
  order[n++] = &c->loss;
  order[n++] = &c->optimizer;
  order[n++] = &c->train;
  size_t kw = 0, vw = 0;
  for (size_t i = 0; i < n; i++) {
    kw = key_width(order[i], kw);
    vw = value_width(order[i], vw);
  }
  printf("\nvalues\n");
  for (size_t i = 0; i < n; i++)
    print_stage(order[i], (int)kw, (int)vw);
}

/* The template chain and its rules with their origins (check --json):
 * template.chain [{name, version, path, sha256}], rules [{rule, file,
 * line}]. */
static void add_chain_json(json_t *root, const keel_run_config *c)
{
  json_t *chain = json_array(), *rules = json_array();
  for (size_t i = 0; chain && i < c->n_chain; i++)
    json_array_append_new(
        chain, json_pack("{s:o, s:o, s:o, s:s}", "name",
                         keel_json_message(c->chain[i].name), "version",
                         keel_json_message(c->chain[i].version), "path",
                         keel_json_message(c->chain[i].path), "sha256",
                         c->chain[i].sha256));
  for (size_t i = 0; rules && i < c->n_rules; i++)
    json_array_append_new(rules,
                          json_pack("{s:o, s:o, s:i}", "rule",
                                    keel_json_message(c->rules[i].text), "file",
                                    keel_json_message(c->rules[i].file), "line",
                                    c->rules[i].line));
  json_t *t = json_object_get(root, "template");
  if (t && chain)
    json_object_set_new(t, "chain", chain);
  else
    json_decref(chain);
  if (rules)
    json_object_set_new(root, "rules", rules);
}

/* Propagates the declared schemas (pipeline.c). */
/* The data checks that ran, one line each (text from the data passes
 * through the CLI's escaping stdout). */
static void print_data_checks(const keel_data_report *r)
{
  if (!r->n)
    return;
  printf("\ndata checks\n");
  for (size_t i = 0; i < r->n; i++) {
    const keel_data_check_result *c = &r->checks[i];
    if (c->passed)
      printf("  %-12s ok      %s\n", c->name, c->detail);
    else
      printf("  %-12s FAILED\n", c->name);
  }
  const keel_check_report *d = &r->declared;
  if (d->n)
    printf("\ntemplate data checks%s%s%s\n",
           d->reference[0] ? " (drift reference " : "", d->reference,
           d->reference[0] ? ")" : "");
  for (size_t i = 0; i < d->n; i++) {
    const keel_check_result *c = &d->r[i];
    printf("  %-21s %-20s %-7s %s %s %s\n", c->check,
           c->column[0] ? c->column : "-", c->passed ? "ok" : "FAILED",
           c->observed_text, keel_check_relation(c), c->bound_text);
  }
  fflush(stdout);
}

/* [{"name", "passed", "detail"}...], NULL when none ran. */
static json_t *data_checks_json(const keel_data_report *r)
{
  if (!r->n)
    return NULL;
  json_t *a = json_array();
  for (size_t i = 0; a && i < r->n; i++)
    if (json_array_append_new(
            a, json_pack("{s:s, s:b, s:o}", "name", r->checks[i].name, "passed",
                         r->checks[i].passed, "detail",
                         keel_json_message(r->checks[i].detail)))) {
      json_decref(a);
      a = NULL;
    }
  /* the template's checks, as the bundle's data_checks.json holds them */
  json_t *declared =
      a && r->declared.n ? keel_check_report_json(&r->declared) : NULL;
  if (declared &&
      json_array_append_new(
          a, json_pack("{s:s, s:b, s:o}", "name", "template_checks", "passed",
                       !r->declared.n_failed, "detail", declared))) {
    json_decref(a);
    a = NULL;
  }
  return a;
}

static void print_error_json(const keel_error *err, int code,
                             const keel_data_report *r)
{
  /* the message may echo bytes that are not UTF-8: escaped, not lost */
  json_t *o = json_pack("{s:b, s:o, s:i}", "valid", 0, "error",
                        keel_json_message(err->message), "exit", code);
  json_t *dc = data_checks_json(r);
  if (o && dc)
    json_object_set_new(o, "data_checks", dc);
  else
    json_decref(dc);
  if (o) {
    FILE *out = keel_cli_machine_stdout();
    json_dumpf(o, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(o);
  }
}

/* Whether path is a template rather than a manifest: INI with a
 * [template] section and no [keel]. A file that does not parse is left to
 * the manifest reader, whose message names the problem. */
/* The sweep's space: every parameter, its distribution and condition. */
static void print_tune_space(const keel_tune_space *s)
{
  printf("\ntuning space (keel sweep; docs/tuning.md)\n");
  printf("  objective  %s %s\n", s->objective, s->maximize ? "max" : "min");
  printf("  strategy   %s, %u trials in rounds of %u\n", s->strategy, s->trials,
         s->round_size);
  for (size_t i = 0; i < s->n; i++) {
    const keel_tune_param *p = &s->params[i];
    char *d = keel_tune_param_text(p);
    printf("  ");
    keel_escape_fputs(stdout, p->name);
    printf("  ");
    keel_escape_fputs(stdout, d ? d : "?");
    if (p->parent >= 0) {
      printf("  when %s = ", s->params[p->parent].name);
      keel_escape_fputs(stdout, s->params[p->parent].choices[p->parent_choice]);
    }
    printf("  (%s:%d)\n", p->file, p->line);
    free(d);
  }
}

static int is_template_file(const char *path)
{
  keel_ini *ini = NULL;
  keel_error e = {0};
  int yes = keel_ini_parse_file(path, &ini, &e) == 0 &&
            keel_ini_section_find(ini, "template") &&
            !keel_ini_section_find(ini, "keel");
  keel_ini_free(ini);
  return yes;
}

/* keel check TEMPLATE: its structure and extends chain (no widening, no
 * cycle, every base found in range). Its plugin defaults and ranges need
 * the plugins' declarations: checked when a manifest names it. */
static int check_template(const char *path, const check_args *a,
                          size_t n_overrides)
{
  keel_error err = {0};
  keel_template *t = NULL;
  keel_run_config *cfg = calloc(1, sizeof *cfg);
  int rc;
  if (n_overrides || a->data)
    rc = keel_fail(&err, KEEL_EINVAL,
                   "%s is a template: it has %s; expected a manifest that "
                   "names it",
                   path,
                   n_overrides ? "no values to override" : "no data to read");
  else if (!cfg)
    rc = keel_fail(&err, KEEL_ENOMEM, "out of memory");
  else if (!(rc = keel_template_load(path, &t, &err)))
    rc = keel_template_chain_copy(t, cfg, &err);
  int code = keel_config_exit_code(rc);
  const char *task =
      t && t->task == KEEL_TASK_REGRESSION ? "regression" : "classification";
  if (rc) {
    keel_data_report none = {0};
    keel_cli_error("check", "%s", err.message);
    if (a->json)
      print_error_json(&err, code, &none);
  } else if (a->json) {
    json_t *root = json_pack("{s:b, s:{s:o, s:o, s:s, s:o}}", "valid", 1,
                             "template", "name", keel_json_message(t->name),
                             "version", keel_json_message(t->version), "task",
                             task, "path", keel_json_message(path));
    if (root) {
      add_chain_json(root, cfg);
      FILE *out = keel_cli_machine_stdout();
      json_dumpf(root, out, JSON_INDENT(2));
      fputc('\n', out);
      json_decref(root);
    } else {
      keel_cli_error("check", "the template could not be written as JSON");
      code = KEEL_EXIT_RUNTIME;
    }
  } else {
    printf("template  %s %s (%s)  ", t->name, t->version, task);
    keel_escape_fputs(stdout, path);
    putchar('\n');
    print_bases(cfg);
    print_rules(cfg);
    printf("\nok: ");
    keel_escape_fputs(stdout, path);
    printf(" is a valid template (its plugins' defaults and ranges are "
           "checked against each plugin when a manifest names it)\n");
  }
  keel_template_free(t);
  keel_run_config_free(cfg);
  return code;
}

int keel_cmd_check(int argc, char **argv)
{
  check_args a = {0};
  keel_cli_operands ops;
  keel_error err = {0};
  int rc = keel_cli_parse(&keel_cli_check, argc, argv, &a, &ops);
  if (rc != KEEL_CLI_GO) {
    keel_cli_free(&keel_cli_check, &a, &ops);
    return rc;
  }
  if (is_template_file(ops.args.items[0])) {
    rc = check_template(ops.args.items[0], &a, ops.overrides.n);
    keel_cli_free(&keel_cli_check, &a, &ops);
    return rc;
  }
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  keel_stage_schemas schemas;
  int have_schemas = 0;
  memset(&schemas, 0, sizeof schemas);
  check_data_access data = {0};
  int data_code = KEEL_EXIT_OK;
  rc = keel_config_load(ops.args.items[0], ops.overrides.items, ops.overrides.n,
                        a.plugin_paths.items, a.plugin_paths.n, 0, NULL,
                        a.catalog, &reg, &cfg, &err);
  if (!rc && (data_code = open_data(cfg, &a, &data, &err)))
    rc = err.code ? err.code : KEEL_EIO;
  if (!rc) {
    rc = keel_pipeline_check(cfg, &data.host, &schemas, &err);
    have_schemas = rc == 0;
  }
  /* model/loss/task/width and [train] rules that need no data, the model
   * probed with the width the declared schemas give */
  if (!rc) {
    int exact = 0;
    size_t width = keel_stage_schemas_model_width(&schemas, &exact);
    rc = keel_train_check(cfg, width, exact, 0, &err);
  }
  /* the sweep's space, when the manifest or its template declares one */
  keel_tune_space *space = NULL;
  if (!rc) {
    keel_tune_load load = {
        .manifest_path = ops.args.items[0],
        .overrides = (const char *const *)ops.overrides.items,
        .n_overrides = ops.overrides.n,
        .plugin_paths = (const char *const *)a.plugin_paths.items,
        .n_plugin_paths = a.plugin_paths.n,
        .catalog = a.catalog};
    int declares = 0;
    keel_error terr = {0};
    int trc = keel_tune_space_load(&load, cfg, &space, &declares, &terr);
    /* A manifest's own space must hold (exit 2); a template's space that
     * does not fit a manifest that never asked for it is keel sweep's
     * business, which says why: check stays quiet about it. */
    if (trc && (declares || trc == KEEL_ENOMEM)) {
      rc = trc;
      err = terr;
    }
  }
  int code = data_code ? data_code : keel_config_exit_code(rc);
  /* Only with --data, after everything above passed: the data is read. */
  keel_data_report report = {0};
  if (!rc && a.data) {
    rc = keel_check_data(cfg, &schemas, &data.ctx, &report, &err);
    /* what a run gives for the same failure: past validation, exit 1 */
    code = !rc                     ? KEEL_EXIT_OK
           : rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY
                                   : KEEL_EXIT_RUNTIME;
  }
  if (rc) {
    if (!a.json)
      print_data_checks(&report);
    keel_cli_error("check", "%s", err.message);
    if (a.json)
      print_error_json(&err, code, &report);
  } else if (a.json) {
    json_t *root = keel_run_config_to_json(cfg);
    if (root && data.access)
      json_object_set_new(root, "data_access",
                          keel_data_access_json(data.access));
    if (root && data.access)
      json_object_set_new(
          root, "policy",
          keel_policy_decision_json(keel_data_access_decision(data.access)));
    if (root && !cfg->dataset)
      json_object_set_new(root, "dataset", json_null());
    char *sj = keel_stage_schemas_to_json(&schemas);
    json_t *sv = sj ? json_loads(sj, 0, NULL) : NULL;
    free(sj);
    if (!root || !sv) { /* never "schemas": null for schemas we have */
      json_decref(root);
      json_decref(sv);
      keel_cli_error("check", "%s could not be written as JSON",
                     root ? "the schemas" : "the configuration");
      code = KEEL_EXIT_RUNTIME;
    } else {
      json_object_set_new(root, "valid", json_true());
      add_chain_json(root, cfg);
      json_object_set_new(root, "schemas", sv ? sv : json_null());
      if (space)
        json_object_set_new(root, "tune", keel_tune_space_json(space));
      json_t *dc = data_checks_json(&report);
      if (dc)
        json_object_set_new(root, "data_checks", dc);
      FILE *out = keel_cli_machine_stdout();
      json_dumpf(root, out, JSON_INDENT(2));
      fputc('\n', out);
      json_decref(root);
    }
  } else {
    print_config(cfg, data.access);
    printf("\nschema\n");
    fflush(stdout);
    keel_stage_schemas_print(stdout, &schemas);
    print_data_checks(&report);
    if (space)
      print_tune_space(space);
    printf("\nok: %s is valid%s\n", cfg->manifest_path,
           a.data ? ", and its data passes every data check" : "");
  }
  keel_tune_space_free(space);
  keel_data_report_free(&report);
  if (have_schemas)
    keel_stage_schemas_free(&schemas);
  close_data(&data);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
  keel_cli_free(&keel_cli_check, &a, &ops);
  return code;
}
