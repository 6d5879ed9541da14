/* keel plugin-test FILE.so [--seed S] [--only PROPERTY] [--json]
 *
 * Loads one plugin file as the loader would (every refusal is exit 2),
 * runs the test kit's properties for its kind (run/plugin_test.h) and
 * prints each as PASS, FAIL or SKIP with what was measured; after a FAIL,
 * the command line that runs that property alone with the same seed.
 * Exit 0 when nothing failed, 1 when a property failed, 2 for usage or a
 * file the loader refuses. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "plugin/loader.h"
#include "run/plugin_test.h"

typedef struct plugin_test_args {
  int seed;
  const char *only;
  int json;
} plugin_test_args;

static const keel_cli_option plugin_test_options[] = {
    {"seed", 0, KEEL_CLI_INT, "S",
     "draw shapes, weights and data from seed S (default 1)",
     offsetof(plugin_test_args, seed), 0, 2147483647},
    {"only", 0, KEEL_CLI_STRING, "PROPERTY",
     "run one property (as a FAIL line's reproducer does)",
     offsetof(plugin_test_args, only), 0, 0},
    {"json", 0, KEEL_CLI_FLAG, NULL,
     "print an array of {property, result, detail, seed}",
     offsetof(plugin_test_args, json), 0, 0},
};

const keel_cli_command keel_cli_plugin_test = {
    .name = "plugin-test",
    .main = keel_cmd_plugin_test,
    .summary = "check one plugin file against the properties of its kind "
               "(gradients, determinism, thread safety, state round trips)",
    .operands = "FILE.so",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no plugin file given",
    .too_many = "expected one plugin file",
    .options = plugin_test_options,
    .n_options = KEEL_CLI_COUNT(plugin_test_options),
};

static const char *result_name(keel_pt_result r)
{
  return r == KEEL_PT_PASS ? "PASS" : r == KEEL_PT_FAIL ? "FAIL" : "SKIP";
}

/* 0, or the usage error's exit code for an unknown property or one of
 * another kind. */
static int check_only(const char *only, int kind)
{
  const char *const *all = keel_plugin_test_properties();
  size_t n = 0;
  while (all[n] && strcmp(all[n], only) != 0)
    n++;
  if (!all[n]) {
    size_t count = 0;
    while (all[count])
      count++;
    const char *dym = keel_did_you_mean(only, all, count);
    return keel_cli_usage_error(
        &keel_cli_plugin_test,
        "--only: unknown property '%s'%s%s%s (keel plugin-test FILE lists "
        "those of its kind)",
        only, dym ? "; did you mean '" : "", dym ? dym : "", dym ? "'?" : "");
  }
  int pk = keel_plugin_test_property_kind(only);
  if (pk != 0 && pk != kind)
    return keel_cli_usage_error(&keel_cli_plugin_test,
                                "--only: '%s' is a property of a %s, and "
                                "this plugin is a %s",
                                only, keel_kind_name(pk), keel_kind_name(kind));
  return 0;
}

static int print_json(const keel_pt_report *r, int seed)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < r->n; i++)
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s, s:i}", "property", r->items[i].property,
                     "result", result_name(r->items[i].result), "detail",
                     r->items[i].detail, "seed", seed));
  FILE *out = keel_cli_machine_stdout();
  int bad = !a || json_dumpf(a, out, JSON_INDENT(2)) != 0;
  fputc('\n', out);
  json_decref(a);
  return bad;
}

static void print_text(const keel_pt_report *r, const keel_loaded_plugin *p,
                       const char *file, int seed)
{
  size_t w = 0, counts[3] = {0, 0, 0};
  for (size_t i = 0; i < r->n; i++)
    if (strlen(r->items[i].property) > w)
      w = strlen(r->items[i].property);
  printf("plugin-test %s %s (%s), seed %d\n", p->desc.name, p->desc.version,
         keel_kind_name((int)p->desc.kind), seed);
  for (size_t i = 0; i < r->n; i++) {
    const keel_pt_record *rec = &r->items[i];
    counts[rec->result]++;
    printf("%s %-*s  %s\n", result_name(rec->result), (int)w, rec->property,
           rec->detail);
    if (rec->result == KEEL_PT_FAIL)
      printf("     reproduce: keel plugin-test %s --seed %d --only %s\n", file,
             seed, rec->property);
  }
  printf("%zu passed, %zu failed, %zu skipped\n", counts[KEEL_PT_PASS],
         counts[KEEL_PT_FAIL], counts[KEEL_PT_SKIP]);
}

static int plugin_test(const char *file, const plugin_test_args *a)
{
  keel_loaded_plugin *p = NULL;
  keel_error err = {0};
  if (keel_plugin_load_file(file, &p, &err) != 0) {
    keel_cli_error("plugin-test", "%s", err.message);
    return KEEL_EXIT_CONFIG;
  }
  int code = a->only ? check_only(a->only, (int)p->desc.kind) : 0;
  if (code) {
    keel_loaded_plugin_free(p);
    return code;
  }
  keel_pt_report r = {0};
  if (keel_plugin_test_run(p, (uint64_t)a->seed, a->only, &r, &err) != 0) {
    keel_cli_error("plugin-test", "%s: %s", file, err.message);
    code = KEEL_EXIT_RUNTIME;
  } else {
    if (a->json ? print_json(&r, a->seed)
                : (print_text(&r, p, file, a->seed), 0))
      code = KEEL_EXIT_RUNTIME;
    for (size_t i = 0; i < r.n; i++)
      if (r.items[i].result == KEEL_PT_FAIL)
        code = KEEL_EXIT_RUNTIME;
  }
  keel_pt_report_free(&r);
  keel_loaded_plugin_free(p);
  return code;
}

int keel_cmd_plugin_test(int argc, char **argv)
{
  plugin_test_args a = {.seed = 1};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_plugin_test, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = plugin_test(ops.args.items[0], &a);
  keel_cli_free(&keel_cli_plugin_test, &a, &ops);
  return code;
}
