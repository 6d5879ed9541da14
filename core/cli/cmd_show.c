/* keel show BUNDLE [--json]: what ran, on what data, with what values, and
 * how it went, in one screen (or as one JSON object for tools). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "bundle/envinfo.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/sweep_view.h"
#include "data/data_checks.h"

typedef struct show_args {
  int json;
} show_args;

static const keel_cli_option show_options[] = {
    {"json", 0, KEEL_CLI_FLAG, NULL, "print it all as one JSON object",
     offsetof(show_args, json), 0, 0},
};

const keel_cli_command keel_cli_show = {
    .name = "show",
    .main = keel_cmd_show,
    .summary = "what ran, on what data, with what values, and how it went",
    .operands = "BUNDLE",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no bundle given",
    .too_many = "one bundle at a time",
    .options = show_options,
    .n_options = KEEL_CLI_COUNT(show_options),
};

static size_t count_lines(const keel_bundle_member *m)
{
  size_t n = 0;
  for (size_t i = 0; m && i < m->size; i++)
    n += m->data[i] == '\n';
  return n;
}

/* The values that did not come from a declared default (the run's choices),
 * as "section.key" -> {"value", "origin"}, from config_full.json, which
 * records origins (format 2's config.json does not); not the thread count,
 * shown with the run. */
static json_t *chosen_values(const json_t *cfg)
{
  json_t *out = json_object(), *st, *p;
  size_t i, k;
  json_array_foreach(json_object_get(cfg, "stages"), i, st)
  {
    const char *section = json_string_value(json_object_get(st, "section"));
    json_array_foreach(json_object_get(st, "params"), k, p)
    {
      const char *name = json_string_value(json_object_get(p, "name"));
      const char *origin = json_string_value(json_object_get(p, "origin"));
      char key[256];
      if (!section || !name || (origin && strcmp(origin, "default") == 0) ||
          (strcmp(section, "train") == 0 && strcmp(name, "threads") == 0))
        continue;
      snprintf(key, sizeof key, "%s.%s", section, name);
      json_object_set_new(out, key,
                          json_pack("{s:O?,s:s?}", "value",
                                    json_object_get(p, "value"), "origin",
                                    origin));
    }
  }
  return out;
}

/* Prints flattened scalars of j, skipping keys that start with one of
 * skip[] and null values, at most max lines. */
static void print_flat(const char *label, const json_t *j, size_t max,
                       const char *const *skip)
{
  keel_flat *f = NULL;
  size_t n = 0, shown = 0;
  if (!j || keel_json_flatten(j, &f, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    int drop = strcmp(f[i].value, "null") == 0;
    for (size_t k = 0; skip && skip[k] && !drop; k++)
      drop = strncmp(f[i].key, skip[k], strlen(skip[k])) == 0;
    if (drop)
      continue;
    if (shown == max) {
      printf("%-10s ... (%zu more)\n", "", n - i);
      break;
    }
    printf("%-10s %s = %s\n", shown ? "" : label, f[i].key, f[i].value);
    shown++;
  }
  keel_flat_free(f, n);
}

/* What the bundle holds of each scope: per dataset read (lineage's
 * source), its scope (uncatalogued for a plain path), whether its bytes
 * are bundled (data/NAME), and the policy decision that let it be read
 * (config_full.json). [{"dataset", "scope", "data": "bundled"|"not
 * bundled", "member"|null, "policy": {...}|null}] */
static json_t *data_scopes(const keel_bundle *b, json_t *lineage, json_t *full)
{
  json_t *out = json_array();
  json_t *src = json_object_get(lineage, "source");
  json_t *ds = json_object_get(src, "dataset");
  json_t *files = json_object_get(src, "files");
  json_t *policy = json_object_get(full, "policy");
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    const char *name = json_string_value(json_object_get(f, "path"));
    if (!name || !out)
      continue;
    const char *id = json_string_value(json_object_get(ds, "id"));
    int catalogued = id && strcmp(id, name) == 0;
    char member[4200];
    snprintf(member, sizeof member, "data/%s", name);
    int held = keel_bundle_find(b, member) != NULL;
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:o, s:O?}", "dataset", name, "scope",
                  catalogued ? keel_jstr(ds, "scope") : "uncatalogued", "data",
                  held ? "bundled" : "not bundled", "member",
                  held ? json_string(member) : json_null(), "policy",
                  catalogued ? policy : NULL);
    if (o)
      json_array_append_new(out, o);
  }
  return out;
}

static void print_scopes(json_t *scopes)
{
  size_t i;
  json_t *s;
  json_array_foreach(scopes, i, s)
  {
    printf("%-10s %-12s %s: data %s", i ? "" : "holds", keel_jstr(s, "scope"),
           keel_jstr(s, "dataset"), keel_jstr(s, "data"));
    json_t *p = json_object_get(s, "policy");
    if (p && json_is_string(json_object_get(p, "policy")))
      printf("; read under policy %s:%s (version %s) by %s%s%s",
             keel_jstr(p, "policy"), keel_jstr(p, "line"),
             keel_jstr(p, "version"), keel_jstr(p, "user"),
             json_is_string(json_object_get(p, "purpose")) ? ", purpose " : "",
             json_is_string(json_object_get(p, "purpose"))
                 ? keel_jstr(p, "purpose")
                 : "");
    else if (p)
      printf("; read under the built-in policy by %s", keel_jstr(p, "user"));
    printf("\n");
  }
}

/* The template's data checks the run passed (data_checks.json), one
 * line each: check, column, outcome, observed value, relation, bound. */
static void print_checks(const json_t *dc)
{
  size_t i;
  json_t *c;
  if (json_is_string(json_object_get(json_object_get(dc, "reference"), "id")))
    printf("%-10s drift reference %s (statistics sha256 %.12s)\n", "checks",
           keel_jstr(dc, "reference.id"),
           keel_jstr(dc, "reference.stats_sha256"));
  json_array_foreach(json_object_get(dc, "checks"), i, c)
  {
    keel_check_result r = {0};
    snprintf(r.check, sizeof r.check, "%s", keel_jstr(c, "check"));
    r.passed = json_is_true(json_object_get(c, "passed"));
    const json_t *o = json_object_get(c, "observed");
    int fixed =
        strcmp(r.check, "psi_max") == 0 || strcmp(r.check, "ks_max") == 0;
    char obs[64];
    if (json_is_number(o))
      snprintf(obs, sizeof obs, fixed ? "%.6f" : "%.10g", json_number_value(o));
    else
      snprintf(obs, sizeof obs, "%s", keel_jstr(c, "observed"));
    const json_t *bj = json_object_get(c, "bound");
    char bound[256];
    if (json_is_number(bj))
      snprintf(bound, sizeof bound, "%.10g", json_number_value(bj));
    else
      snprintf(bound, sizeof bound, "%s", keel_jstr(c, "bound"));
    char col[256];
    snprintf(col, sizeof col, "%s%s%s",
             json_is_string(json_object_get(c, "column"))
                 ? keel_jstr(c, "column")
                 : "-",
             json_is_string(json_object_get(c, "stage")) ? " after " : "",
             json_is_string(json_object_get(c, "stage")) ? keel_jstr(c, "stage")
                                                         : "");
    printf("%-10s %-21s %-20s %-7s %s %s %s\n",
           i || json_is_string(
                    json_object_get(json_object_get(dc, "reference"), "id"))
               ? ""
               : "checks",
           r.check, col, r.passed ? "ok" : "FAILED", obs,
           keel_check_relation(&r), bound);
  }
}

static void show_text(const keel_bundle *b, json_t *run, json_t *cfg,
                      json_t *plugins, json_t *lineage, json_t *metrics,
                      json_t *values, json_t *scopes, size_t epochs,
                      const char *digest, const char *integrity)
{
  json_t *p, *v;
  size_t i;
  const char *key;
  printf("%-10s %s (%s, exit %s)\n", "run", b->top, keel_jstr(run, "status"),
         keel_jstr(run, "exit_code"));
  if (*keel_jstr(run, "error"))
    printf("%-10s %s\n", "error", keel_jstr(run, "error"));
  printf("%-10s %s .. %s", "when", keel_jstr(run, "started_at"),
         keel_jstr(run, "ended_at"));
  printf(" (%s s wall", keel_jstr(run, "wall_seconds"));
  printf(", %s s user CPU", keel_jstr(run, "cpu_seconds.user"));
  printf(", peak %s KiB", keel_jstr(run, "peak_rss_kib"));
  printf(", %s threads)\n", keel_jstr(run, "threads"));
  printf("%-10s %s@%s\n", "by", keel_jstr(run, "user"), keel_jstr(run, "host"));
  printf("%-10s %s\n", "format", keel_jstr(run, "format"));
  if (cfg) {
    printf("%-10s %s %s", "template", keel_jstr(cfg, "template.name"),
           keel_jstr(cfg, "template.version"));
    printf(" (%s)\n", keel_jstr(cfg, "template.task"));
  }
  json_t *tj = keel_bundle_find(b, "templates.json")
                   ? keel_bundle_cli_json(b, "templates.json")
                   : NULL;
  json_array_foreach(json_object_get(tj, "chain"), i, p)
  {
    if (i > 0)
      printf("%-10s %s %s  sha256:%s\n", "  extends",
             json_string_value(json_object_get(p, "name")),
             json_string_value(json_object_get(p, "version")),
             json_string_value(json_object_get(p, "sha256")));
  }
  json_decref(tj);
  json_array_foreach(json_object_get(plugins, "plugins"), i, p)
  {
    const char *file = json_string_value(json_object_get(p, "file"));
    printf("%-10s %-10s %-16s", i ? "" : "plugins", keel_jstr(p, "kind"),
           keel_jstr(p, "name"));
    printf(" %-8s sha256 %.12s %s\n", keel_jstr(p, "version"),
           keel_jstr(p, "sha256"),
           file && keel_bundle_find(b, file) ? "(bundled)" : "(not bundled)");
  }
  print_scopes(scopes);
  {
    static const char *const data_skip[] = {
        "schemas",       "feature_names", "classes",        "split.row_hash",
        "split.classes", "source.sha256", "source.version", NULL};
    print_flat("data", lineage, 20, data_skip);
  }
  if (keel_bundle_find(b, "data_checks.json")) {
    json_t *dc = keel_bundle_cli_json(b, "data_checks.json");
    print_checks(dc);
    json_decref(dc);
  }
  i = 0;
  json_object_foreach(values, key, v)
  {
    printf("%-10s %s = %s", i++ ? "" : "values", key, keel_jstr(v, "value"));
    printf(" (%s)\n", keel_jstr(v, "origin"));
  }
  print_flat("metrics", metrics, 16, NULL);
  printf("%-10s %zu\n", "epochs", epochs);
  json_t *stop = json_object_get(metrics, "interrupted");
  if (stop) { /* the last step taken: batch B of N in epoch E */
    json_int_t done = json_integer_value(json_object_get(stop, "epochs_done"));
    json_int_t k = json_integer_value(json_object_get(stop, "batches_done"));
    json_int_t n =
        json_integer_value(json_object_get(stop, "batches_per_epoch"));
    printf("%-10s epoch %lld, batch %lld of %lld (interrupted; `keel run "
           "MANIFEST --resume BUNDLE` continues it)\n",
           "reached", (long long)(done + (k ? 1 : 0)), (long long)(k ? k : n),
           (long long)n);
  }
  printf("%-10s %s\n", "digest", digest);
  printf("%-10s %s\n", "integrity", integrity);
}

static int show_bundle(const char *path, int as_json)
{
  int code;
  keel_bundle *b = NULL;
  keel_bundle_report r;
  keel_error err = {0};
  json_t *run, *cfg, *full, *plugins, *lineage, *metrics, *values, *scopes;
  char integrity[256];
  size_t epochs;
  code = keel_bundle_cli_open("show", path, 0, &b);
  if (code)
    return code;
  code = keel_bundle_check(b, NULL, &r, &err) == 0 ? KEEL_EXIT_OK
                                                   : KEEL_EXIT_INTEGRITY;
  if (code)
    snprintf(integrity, sizeof integrity,
             "FAILED: %zu problem(s); run `keel verify` for details",
             r.n_problems);
  else
    snprintf(integrity, sizeof integrity, "ok (%zu files)", r.n_files);
  const keel_bundle_format *format = NULL;
  if (keel_bundle_format_of(b, &format, &err) == 0 && format->sweep) {
    int sc = keel_sweep_show(b, &r, integrity, as_json);
    keel_bundle_report_free(&r);
    keel_bundle_close(b);
    return sc;
  }
  run = keel_bundle_cli_json(b, "run.json");
  cfg = keel_bundle_cli_json(b, "config.json");
  plugins = keel_bundle_cli_json(b, "plugins.json");
  lineage = keel_bundle_cli_json(b, "lineage.json");
  metrics = keel_bundle_cli_json(b, "metrics.json");
  full = keel_bundle_cli_json(b, "config_full.json");
  values = chosen_values(full ? full : cfg);
  scopes = data_scopes(b, lineage, full);
  epochs = count_lines(keel_bundle_find(b, "metrics.jsonl"));
  if (as_json) {
    json_t *o = json_pack(
        "{s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:I,s:s,s:{s:b,s:I,s:s?}}",
        "run_id", b->top, "run", run, "template",
        json_object_get(cfg, "template"), "plugins",
        json_object_get(plugins, "plugins"), "lineage", lineage, "values",
        values, "metrics", metrics, "epochs", (json_int_t)epochs, "digest",
        r.digest, "integrity", "ok", code == 0, "problems",
        (json_int_t)r.n_problems, "details", r.problems);
    json_t *tj = keel_bundle_find(b, "templates.json")
                     ? keel_bundle_cli_json(b, "templates.json")
                     : NULL;
    if (o && scopes)
      json_object_set(o, "scopes", scopes);
    json_t *dc = keel_bundle_find(b, "data_checks.json")
                     ? keel_bundle_cli_json(b, "data_checks.json")
                     : NULL;
    if (o && dc) /* the template's data checks, observed values and bounds */
      json_object_set(o, "data_checks", dc);
    json_decref(dc);
    if (o && tj) /* keel-bundle/3: the template chain, derived first */
      json_object_set(o, "templates", json_object_get(tj, "chain"));
    json_decref(tj);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                       JSON_REAL_PRECISION(17))
                   : NULL;
    if (text) {
      FILE *out = keel_cli_machine_stdout();
      fputs(text, out);
      fputc('\n', out);
    }
    free(text);
    json_decref(o);
  } else {
    show_text(b, run, cfg, plugins, lineage, metrics, values, scopes, epochs,
              r.digest, integrity);
  }
  if (code)
    keel_cli_error("show", "%s: the bundle fails verification", path);
  json_decref(run);
  json_decref(cfg);
  json_decref(full);
  json_decref(plugins);
  json_decref(lineage);
  json_decref(metrics);
  json_decref(values);
  json_decref(scopes);
  keel_bundle_report_free(&r);
  keel_bundle_close(b);
  return code;
}

int keel_cmd_show(int argc, char **argv)
{
  show_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_show, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = show_bundle(ops.args.items[0], a.json);
  keel_cli_free(&keel_cli_show, &a, &ops);
  return code;
}
