/* keel plugins [NAME|KIND/NAME] [--json] [--plugin-path DIR]...
 *
 * Without a name: every plugin on the search path (kind, name, version,
 * summary), sorted by kind then name, then the broken files with their
 * reasons. With one: its documentation, generated from its descriptor and
 * parameter table. Exit 0, or 2 for an unknown or broken name (with a
 * "did you mean" or the refusal) or an unusable plugin path. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/config_json.h"
#include "config/load.h"

typedef struct plugins_args {
  int json;
  keel_cli_list plugin_paths;
} plugins_args;

static const keel_cli_option plugins_options[] = {
    {"json", 0, KEEL_CLI_FLAG, NULL,
     "print the list or the documentation as JSON",
     offsetof(plugins_args, json), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "add a plugin folder or .so file before the defaults",
     offsetof(plugins_args, plugin_paths), 0, 0},
};

const keel_cli_command keel_cli_plugins = {
    .name = "plugins",
    .main = keel_cmd_plugins,
    .summary = "list plugins, or print one plugin's documentation generated "
               "from its schema",
    .operands = "[NAME|KIND/NAME]",
    .min_operands = 0,
    .max_operands = 1,
    .too_many = "expected at most one plugin name",
    .options = plugins_options,
    .n_options = KEEL_CLI_COUNT(plugins_options),
};

static const char *col_type_name(int t)
{
  switch (t) {
  case KEEL_COL_NUMERIC: return "numeric";
  case KEEL_COL_CATEGORICAL: return "categorical";
  case KEEL_COL_TEXT: return "text";
  case KEEL_COL_DATE: return "date";
  default: return NULL;
  }
}

/* "classification, regression" or "any". */
static void tasks_text(uint32_t tasks, char *buf, size_t size)
{
  if (tasks == 0) {
    snprintf(buf, size, "any");
    return;
  }
  snprintf(buf, size, "%s%s%s",
           tasks & KEEL_TASK_CLASSIFICATION ? "classification" : "",
           (tasks & KEEL_TASK_CLASSIFICATION) && (tasks & KEEL_TASK_REGRESSION)
               ? ", "
               : "",
           tasks & KEEL_TASK_REGRESSION ? "regression" : "");
}

static void accepts_text(uint32_t accepts, char *buf, size_t size)
{
  buf[0] = '\0';
  if (accepts == 0 || accepts == KEEL_COL_ANY) {
    snprintf(buf, size, "any");
    return;
  }
  for (int t = KEEL_COL_NUMERIC; t <= KEEL_COL_DATE; t++)
    if (accepts & KEEL_COL_BIT(t)) {
      size_t used = strlen(buf);
      snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
               col_type_name(t));
    }
}

static void bound_text(double v, int is_int, char *buf, size_t size)
{
  if (isinf(v))
    snprintf(buf, size, "%sinf", v < 0 ? "-" : "");
  else if (is_int)
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%g", v);
}

/* "0 .. 10", "relu | tanh", "true | false", or "-". */
static void range_text(const keel_param_decl *d, char *buf, size_t size)
{
  char lo[64], hi[64];
  switch (d->type) {
  case KEEL_PARAM_BOOL: snprintf(buf, size, "true | false"); return;
  case KEEL_PARAM_INT:
  case KEEL_PARAM_INT_LIST:
  case KEEL_PARAM_FLOAT:
    bound_text(d->min, d->type != KEEL_PARAM_FLOAT, lo, sizeof lo);
    bound_text(d->max, d->type != KEEL_PARAM_FLOAT, hi, sizeof hi);
    snprintf(buf, size, "%s .. %s", lo, hi);
    return;
  case KEEL_PARAM_ENUM:
    buf[0] = '\0';
    for (size_t i = 0; d->choices && d->choices[i]; i++) {
      size_t used = strlen(buf);
      snprintf(buf + used, size - used, "%s%s", i ? " | " : "", d->choices[i]);
    }
    return;
  default: snprintf(buf, size, "-");
  }
}

/* The default as text (malloc'd), "(required)" when there is none. */
static char *default_text(const keel_param_decl *d)
{
  if (d->flags & KEEL_PARAM_REQUIRED)
    return strdup("(required)");
  keel_value v;
  keel_error e;
  if (keel_param_default(d, &v, &e))
    return strdup("(invalid)");
  char *t = keel_param_format(d, &v);
  keel_value_clear(d, &v);
  if (t && !*t) {
    free(t);
    return strdup("\"\"");
  }
  return t;
}

static json_t *plugin_summary_json(const keel_loaded_plugin *p)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                   keel_kind_name((int)p->desc.kind), "name", p->desc.name,
                   "version", p->desc.version, "summary",
                   p->desc.summary ? p->desc.summary : "", "path",
                   p->path ? p->path : "", "sha256", p->sha256);
}

/* The determinism facts an ABI 1.2 build recorded (the loader refused
 * fast-math, excess precision and a fusing probe, so an accepted plugin
 * shows them off); a 1.0/1.1 build recorded none. */
static void build_text(const keel_plugin *d, char *buf, size_t size)
{
  if (d->abi_minor < 2) {
    snprintf(buf, size, "not recorded (ABI %u.%u)", d->abi_major, d->abi_minor);
    return;
  }
  snprintf(buf, size,
           "fast-math: %s, fp-contract=off: %s, FLT_EVAL_METHOD: %d, "
           "probe: not fused",
           d->build_flags & KEEL_BUILD_FAST_MATH ? "yes" : "no",
           d->build_flags & KEEL_BUILD_FP_CONTRACT_OFF ? "declared"
                                                       : "not declared",
           (int)d->flt_eval_method);
}

static json_t *build_json(const keel_plugin *d)
{
  if (d->abi_minor < 2)
    return json_pack("{s:b}", "recorded", 0);
  return json_pack(
      "{s:b, s:b, s:b, s:i, s:b}", "recorded", 1, "fast_math",
      (d->build_flags & KEEL_BUILD_FAST_MATH) != 0, "fp_contract_off",
      (d->build_flags & KEEL_BUILD_FP_CONTRACT_OFF) != 0, "flt_eval_method",
      (int)d->flt_eval_method, "probe_fused", 0);
}

static json_t *plugin_doc_json(const keel_loaded_plugin *p)
{
  json_t *o = plugin_summary_json(p);
  if (!o)
    return NULL;
  const keel_plugin *d = &p->desc;
  json_object_set_new(o, "license",
                      d->license ? json_string(d->license) : json_null());
  json_object_set_new(o, "abi",
                      json_pack("{s:i, s:i}", "major", (int)d->abi_major,
                                "minor", (int)d->abi_minor));
  json_t *tasks = json_array();
  if (d->contract.tasks & KEEL_TASK_CLASSIFICATION)
    json_array_append_new(tasks, json_string("classification"));
  if (d->contract.tasks & KEEL_TASK_REGRESSION)
    json_array_append_new(tasks, json_string("regression"));
  json_t *accepts = json_array();
  for (int t = KEEL_COL_NUMERIC; t <= KEEL_COL_DATE; t++)
    if (d->contract.accepts == 0 || (d->contract.accepts & KEEL_COL_BIT(t)))
      json_array_append_new(accepts, json_string(col_type_name(t)));
  json_t *requires = json_array();
  if (d->contract.flags & KEEL_CONTRACT_NO_MISSING)
    json_array_append_new(requires, json_string("no_missing"));
  if (d->contract.flags & KEEL_CONTRACT_FINITE)
    json_array_append_new(requires, json_string("finite"));
  json_object_set_new(o, "contract",
                      json_pack("{s:o, s:o, s:o}", "tasks", tasks, "accepts",
                                accepts, "requires", requires));
  json_object_set_new(o, "build", build_json(d));
  json_t *params = json_array();
  for (size_t i = 0; params && d->params && i < d->n_params; i++) {
    const keel_param_decl *pd = &d->params[i];
    json_t *jp = json_object();
    if (!jp)
      break;
    json_object_set_new(jp, "name", json_string(pd->name));
    json_object_set_new(jp, "type",
                        json_string(keel_param_type_name(pd->type)));
    int required = (pd->flags & KEEL_PARAM_REQUIRED) != 0;
    json_object_set_new(jp, "required", json_boolean(required));
    keel_value v;
    keel_error e;
    if (!required && keel_param_default(pd, &v, &e) == 0) {
      json_object_set_new(jp, "default", keel_value_to_json(pd, &v));
      keel_value_clear(pd, &v);
    } else {
      json_object_set_new(jp, "default", json_null());
    }
    if (pd->type == KEEL_PARAM_INT || pd->type == KEEL_PARAM_FLOAT ||
        pd->type == KEEL_PARAM_INT_LIST) {
      json_object_set_new(jp, "min",
                          isfinite(pd->min) ? json_real(pd->min) : json_null());
      json_object_set_new(jp, "max",
                          isfinite(pd->max) ? json_real(pd->max) : json_null());
    }
    if (pd->type == KEEL_PARAM_ENUM) {
      json_t *ch = json_array();
      for (size_t k = 0; ch && pd->choices && pd->choices[k]; k++)
        json_array_append_new(ch, json_string(pd->choices[k]));
      json_object_set_new(jp, "choices", ch ? ch : json_null());
    }
    json_object_set_new(jp, "unit",
                        pd->unit ? json_string(pd->unit) : json_null());
    json_object_set_new(jp, "log_scale",
                        json_boolean((pd->flags & KEEL_PARAM_LOG_SCALE) != 0));
    json_object_set_new(jp, "doc", json_string(pd->doc ? pd->doc : ""));
    json_array_append_new(params, jp);
  }
  json_object_set_new(o, "params", params ? params : json_null());
  return o;
}

static void print_doc(const keel_loaded_plugin *p)
{
  const keel_plugin *d = &p->desc;
  char buf[256];
  printf("%s %s (%s)\n", d->name, d->version, keel_kind_name((int)d->kind));
  printf("  %s\n\n", d->summary ? d->summary : "");
  printf("license   %s\n", d->license ? d->license : "(not declared)");
  printf("file      %s\n", p->path ? p->path : "");
  printf("sha256    %s\n", p->sha256);
  printf("abi       %u.%u\n", d->abi_major, d->abi_minor);
  build_text(d, buf, sizeof buf);
  printf("build flags: %s\n", buf);
  tasks_text(d->contract.tasks, buf, sizeof buf);
  printf("tasks     %s\n", buf);
  accepts_text(d->contract.accepts, buf, sizeof buf);
  printf("accepts   %s\n", buf);
  printf("requires  %s%s%s\n",
         d->contract.flags & KEEL_CONTRACT_NO_MISSING ? "no missing" : "",
         (d->contract.flags & KEEL_CONTRACT_NO_MISSING) &&
                 (d->contract.flags & KEEL_CONTRACT_FINITE)
             ? ", "
             : "",
         d->contract.flags & KEEL_CONTRACT_FINITE
             ? "finite"
             : (d->contract.flags & KEEL_CONTRACT_NO_MISSING ? "" : "-"));
  size_t n = d->params ? d->n_params : 0;
  if (n == 0) {
    printf("\nparameters: none\n");
    return;
  }
  /* Column widths. */
  int wn = 4, wt = 4, wd = 7, wr = 13, wu = 4;
  char **defs = calloc(n, sizeof *defs);
  char(*ranges)[256] = calloc(n, sizeof *ranges);
  if (!defs || !ranges) {
    free(defs);
    free(ranges);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const keel_param_decl *pd = &d->params[i];
    defs[i] = default_text(pd);
    range_text(pd, ranges[i], sizeof ranges[i]);
#define WIDEN(W, S)                                                            \
  do {                                                                         \
    int l_ = (int)strlen(S);                                                   \
    if (l_ > (W))                                                              \
      (W) = l_;                                                                \
  } while (0)
    WIDEN(wn, pd->name);
    WIDEN(wt, keel_param_type_name(pd->type));
    WIDEN(wd, defs[i] ? defs[i] : "?");
    WIDEN(wr, ranges[i]);
    WIDEN(wu, pd->unit ? pd->unit : "-");
#undef WIDEN
  }
  printf("\nparameters\n");
  printf("  %-*s  %-*s  %-*s  %-*s  %-*s  %-3s  %s\n", wn, "name", wt, "type",
         wd, "default", wr, "range/choices", wu, "unit", "log", "doc");
  for (size_t i = 0; i < n; i++) {
    const keel_param_decl *pd = &d->params[i];
    printf("  %-*s  %-*s  %-*s  %-*s  %-*s  %-3s  %s\n", wn, pd->name, wt,
           keel_param_type_name(pd->type), wd, defs[i] ? defs[i] : "?", wr,
           ranges[i], wu, pd->unit ? pd->unit : "-",
           pd->flags & KEEL_PARAM_LOG_SCALE ? "yes" : "no",
           pd->doc ? pd->doc : "");
    free(defs[i]);
  }
  free(defs);
  free(ranges);
}

static void print_list(const keel_registry *reg)
{
  size_t n = keel_registry_count(reg);
  int wn = 4, wv = 7;
  for (size_t i = 0; i < n; i++) {
    const keel_loaded_plugin *p = keel_registry_at(reg, i);
    int ln = (int)strlen(p->desc.name), lv = (int)strlen(p->desc.version);
    if (ln > wn)
      wn = ln;
    if (lv > wv)
      wv = lv;
  }
  printf("%-10s %-*s %-*s %s\n", "kind", wn, "name", wv, "version", "summary");
  for (size_t i = 0; i < n; i++) {
    const keel_loaded_plugin *p = keel_registry_at(reg, i);
    printf("%-10s %-*s %-*s %s\n", keel_kind_name((int)p->desc.kind), wn,
           p->desc.name, wv, p->desc.version,
           p->desc.summary ? p->desc.summary : "");
  }
  if (n == 0)
    printf("(no plugins on the search path)\n");
  size_t nb = keel_registry_broken_count(reg);
  if (nb)
    printf("\nbroken (not loaded; asking for one of these fails)\n");
  for (size_t i = 0; i < nb; i++) {
    const keel_broken_plugin *b = keel_registry_broken_at(reg, i);
    /* stdout escapes what is not ours (cli_common.c) */
    printf("  %s\n    %s\n", b->path, b->reason);
  }
}

static json_t *list_json(const keel_registry *reg)
{
  json_t *o = json_object(), *plugins = json_array(), *broken = json_array(),
         *shadowed = json_array();
  if (!o || !plugins || !broken || !shadowed) {
    json_decref(o);
    json_decref(plugins);
    json_decref(broken);
    json_decref(shadowed);
    return NULL;
  }
  for (size_t i = 0; i < keel_registry_count(reg); i++)
    json_array_append_new(plugins,
                          plugin_summary_json(keel_registry_at(reg, i)));
  for (size_t i = 0; i < keel_registry_broken_count(reg); i++) {
    const keel_broken_plugin *b = keel_registry_broken_at(reg, i);
    const char *kind = keel_kind_name(b->kind);
    json_array_append_new(broken, json_pack("{s:s, s:s?, s:s, s:s}", "path",
                                            b->path, "kind", kind, "name",
                                            b->name, "reason", b->reason));
  }
  for (size_t i = 0; i < keel_registry_shadowed_count(reg); i++) {
    const keel_loaded_plugin *p = keel_registry_shadowed_at(reg, i);
    json_t *e = plugin_summary_json(p);
    if (e)
      json_object_set_new(e, "shadowed_by", json_string(p->shadowed_by->path));
    json_array_append_new(shadowed, e);
  }
  json_object_set_new(o, "plugins", plugins);
  json_object_set_new(o, "broken", broken);
  json_object_set_new(o, "shadowed", shadowed);
  return o;
}

/* Finds NAME or KIND/NAME; 0 with *out, or KEEL_ENOTFOUND / KEEL_EINVAL
 * (ambiguous) with err saying what exists. */
static int find_plugin(const keel_registry *reg, const char *query,
                       const keel_loaded_plugin **out, keel_error *err)
{
  *out = NULL;
  const char *slash = strchr(query, '/');
  int kind = 0;
  const char *name = query;
  if (slash) {
    char kn[32];
    snprintf(kn, sizeof kn, "%.*s", (int)(slash - query), query);
    kind = keel_kind_from_name(kn);
    if (!kind) {
      const char *dym =
          keel_did_you_mean(kn, keel_kind_names(), KEEL_KIND_OPTIMIZER);
      return keel_fail(err, KEEL_ENOTFOUND,
                       "unknown plugin kind '%s'%s%s%s; expected source, "
                       "transform, model, loss or optimizer",
                       kn, dym ? " (did you mean '" : "", dym ? dym : "",
                       dym ? "'?)" : "");
    }
    name = slash + 1;
  }
  size_t n = keel_registry_count(reg);
  const char **names = calloc(n + 1, sizeof *names);
  if (!names)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  size_t nn = 0, hits = 0;
  char kinds_hit[128] = "";
  for (size_t i = 0; i < n; i++) {
    const keel_loaded_plugin *p = keel_registry_at(reg, i);
    if (kind && p->desc.kind != (uint32_t)kind)
      continue;
    names[nn++] = p->desc.name;
    if (strcmp(p->desc.name, name) == 0) {
      hits++;
      *out = p;
      size_t used = strlen(kinds_hit);
      snprintf(kinds_hit + used, sizeof kinds_hit - used, "%s%s/%s",
               used ? ", " : "", keel_kind_name((int)p->desc.kind), name);
    }
  }
  int rc = 0;
  const keel_broken_plugin *bp =
      hits <= 1 ? keel_registry_find_broken(reg, kind, name, *out) : NULL;
  if (!bp && hits == 1) {
    /* Described in full (parameters): loaded into this process now, after
     * its scan passed; a refusal at load is recorded as broken. */
    keel_kind k = (keel_kind)(*out)->desc.kind;
    *out = keel_registry_find(reg, k, name);
    if (!*out)
      bp = keel_registry_find_broken(reg, (int)k, name, NULL);
  }
  if (bp) {
    *out = NULL;
    rc = keel_fail(err, KEEL_EPLUGIN, "plugin '%s' is broken: %s", name,
                   bp->reason);
  } else if (hits > 1) {
    *out = NULL;
    rc = keel_fail(err, KEEL_EINVAL,
                   "'%s' names several plugins: %s; expected KIND/NAME", name,
                   kinds_hit);
  } else if (hits == 0) {
    const char *dym = keel_did_you_mean(name, names, nn);
    rc = keel_fail(err, KEEL_ENOTFOUND,
                   "no %s%splugin named '%s' on the plugin path%s%s%s "
                   "(run 'keel plugins' to list them)",
                   kind ? keel_kind_name(kind) : "", kind ? " " : "", name,
                   dym ? "; did you mean '" : "", dym ? dym : "",
                   dym ? "'?" : "");
  }
  free(names);
  return rc;
}

int keel_cmd_plugins(int argc, char **argv)
{
  plugins_args a = {0};
  keel_cli_operands ops;
  keel_error err = {0};
  int rc = keel_cli_parse(&keel_cli_plugins, argc, argv, &a, &ops);
  if (rc != KEEL_CLI_GO) {
    keel_cli_free(&keel_cli_plugins, &a, &ops);
    return rc;
  }
  keel_registry *reg = NULL;
  rc = keel_registry_build(a.plugin_paths.items, a.plugin_paths.n, NULL, 0, 0,
                           &reg, &err);
  const keel_loaded_plugin *p = NULL;
  if (!rc && ops.args.n == 1)
    rc = find_plugin(reg, ops.args.items[0], &p, &err);
  int code = keel_config_exit_code(rc);
  if (rc) {
    keel_cli_error("plugins", "%s", err.message);
  } else if (a.json) {
    json_t *o;
    if (p) {
      o = plugin_doc_json(p);
    } else {
      o = list_json(reg);
    }
    if (o) {
      FILE *out = keel_cli_machine_stdout();
      json_dumpf(o, out, JSON_INDENT(2));
      fputc('\n', out);
      json_decref(o);
    } else {
      keel_cli_error("plugins", "out of memory");
      code = KEEL_EXIT_RUNTIME;
    }
  } else if (p) {
    print_doc(p);
  } else {
    print_list(reg);
  }
  keel_registry_destroy(reg);
  keel_cli_free(&keel_cli_plugins, &a, &ops);
  return code;
}
