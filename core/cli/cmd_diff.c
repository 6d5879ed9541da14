/* keel diff A B: what differs between two bundles — format, values,
 * overrides, plugins and versions, data lineage, metrics per epoch, other
 * results, environment. Like diff(1): exit 0 when the result digests are
 * equal (quiet, but for plugin binaries that differ: recorded, not part of
 * the result), exit 1 when they differ; 3 when a bundle is hostile or
 * fails verification, 2 for usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "bundle/envinfo.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/sweep_view.h"

/* Every parameter as "section.name" -> value, plus the template: the same
 * map from config.json of either format (format 1 also records origins,
 * which are not values). */
static json_t *all_values(const json_t *cfg)
{
  json_t *out = json_object(), *st, *p;
  size_t i, k;
  if (!cfg)
    return out;
  json_object_set(out, "template", json_object_get(cfg, "template"));
  json_array_foreach(json_object_get(cfg, "stages"), i, st)
  {
    const char *section = json_string_value(json_object_get(st, "section"));
    json_array_foreach(json_object_get(st, "params"), k, p)
    {
      const char *name = json_string_value(json_object_get(p, "name"));
      char key[256];
      if (!section || !name)
        continue;
      snprintf(key, sizeof key, "%s.%s", section, name);
      json_object_set(out, key, json_object_get(p, "value"));
    }
  }
  return out;
}

/* The command-line overrides as given (config_full.json). */
static json_t *overrides_of(const json_t *full)
{
  json_t *out = json_object();
  json_t *ovr = json_object_get(full, "overrides");
  if (out && ovr)
    json_object_set(out, "overrides", ovr);
  return out;
}

/* plugins.json as "kind/name" -> {version, sha256, abi}. */
static json_t *plugin_map(const json_t *plugins)
{
  json_t *out = json_object(), *p;
  size_t i;
  json_array_foreach(json_object_get(plugins, "plugins"), i, p)
  {
    char key[256];
    snprintf(key, sizeof key, "%s/%s", keel_jstr(p, "kind"),
             keel_jstr(p, "name"));
    json_object_set_new(out, key,
                        json_pack("{s:O?,s:O?,s:O?}", "version",
                                  json_object_get(p, "version"), "sha256",
                                  json_object_get(p, "sha256"), "abi",
                                  json_object_get(p, "abi")));
  }
  return out;
}

static int skipped(const char *key, const char *const *skip)
{
  for (size_t i = 0; skip && skip[i]; i++)
    if (strncmp(key, skip[i], strlen(skip[i])) == 0)
      return 1;
  return 0;
}

/* Prints "label key: a -> b" for every differing flattened key. */
static size_t flat_diff(const char *label, const json_t *a, const json_t *b,
                        const char *const *skip)
{
  keel_flat *fa = NULL, *fb = NULL;
  size_t na = 0, nb = 0, i = 0, j = 0, count = 0;
  if (keel_json_flatten(a, &fa, &na) || keel_json_flatten(b, &fb, &nb)) {
    keel_flat_free(fa, na);
    return 0;
  }
  while (i < na || j < nb) {
    int c = i >= na ? 1 : j >= nb ? -1 : strcmp(fa[i].key, fb[j].key);
    if (c == 0) {
      if (strcmp(fa[i].value, fb[j].value) != 0 && !skipped(fa[i].key, skip)) {
        printf("%-12s %s: %s -> %s\n", label, fa[i].key, fa[i].value,
               fb[j].value);
        count++;
      }
      i++, j++;
    } else if (c < 0) {
      if (!skipped(fa[i].key, skip)) {
        printf("%-12s %s: %s -> (absent)\n", label, fa[i].key, fa[i].value);
        count++;
      }
      i++;
    } else {
      if (!skipped(fb[j].key, skip)) {
        printf("%-12s %s: (absent) -> %s\n", label, fb[j].key, fb[j].value);
        count++;
      }
      j++;
    }
  }
  keel_flat_free(fa, na);
  keel_flat_free(fb, nb);
  return count;
}

static size_t json_member_diff(const char *label, const keel_bundle *a,
                               const keel_bundle *b, const char *name,
                               json_t *(*map)(const json_t *),
                               const char *const *skip)
{
  json_t *ja = keel_bundle_cli_json(a, name),
         *jb = keel_bundle_cli_json(b, name);
  json_t *ma = ja, *mb = jb;
  size_t n;
  if (map) {
    ma = map(ja);
    mb = map(jb);
  }
  n = flat_diff(label, ma, mb, skip);
  if (map) {
    json_decref(ma);
    json_decref(mb);
  }
  json_decref(ja);
  json_decref(jb);
  return n;
}

/* Per-epoch metrics: the first differing line (with its epoch) and how
 * many lines differ. */
static size_t metrics_diff(const keel_bundle *a, const keel_bundle *b)
{
  const keel_bundle_member *ma = keel_bundle_find(a, "metrics.jsonl");
  const keel_bundle_member *mb = keel_bundle_find(b, "metrics.jsonl");
  const char *pa, *pb, *ea, *eb;
  size_t line = 0, differing = 0, first = 0;
  char first_a[512] = "", first_b[512] = "";
  if (!ma || !mb) {
    if (ma || mb) {
      printf("%-12s metrics.jsonl only in %s\n", "metrics", ma ? "A" : "B");
      return 1;
    }
    return 0;
  }
  pa = (const char *)ma->data;
  pb = (const char *)mb->data;
  ea = pa + ma->size;
  eb = pb + mb->size;
  while (pa < ea || pb < eb) {
    const char *na = memchr(pa, '\n', (size_t)(ea - pa));
    const char *nb = memchr(pb, '\n', (size_t)(eb - pb));
    size_t la = pa < ea ? (size_t)((na ? na : ea) - pa) : 0;
    size_t lb = pb < eb ? (size_t)((nb ? nb : eb) - pb) : 0;
    line++;
    if (la != lb || memcmp(pa, pb, la) != 0) {
      if (!differing) {
        first = line;
        snprintf(first_a, sizeof first_a, "%.*s", (int)(la < 400 ? la : 400),
                 pa);
        snprintf(first_b, sizeof first_b, "%.*s", (int)(lb < 400 ? lb : 400),
                 pb);
      }
      differing++;
    }
    pa = pa < ea ? (na ? na + 1 : ea) : ea;
    pb = pb < eb ? (nb ? nb + 1 : eb) : eb;
  }
  if (differing) {
    json_t *j = json_loads(first_a, 0, NULL);
    const char *epoch = keel_jstr(j, "epoch");
    printf("%-12s metrics.jsonl: %zu line(s) differ, first at line %zu%s%s\n",
           "metrics", differing, first, *epoch ? ", epoch " : "", epoch);
    printf("%-12s   A: %s\n%-12s   B: %s\n", "", *first_a ? first_a : "(none)",
           "", *first_b ? first_b : "(none)");
    json_decref(j);
  }
  return differing ? 1 : 0;
}

/* Other digest-covered files (weights, optimizer state, fitted state). */
static size_t results_diff(const keel_bundle *a, const keel_bundle *b)
{
  static const char *const handled[] = {"config.json",   "plugins.json",
                                        "lineage.json",  "metrics.json",
                                        "metrics.jsonl", NULL};
  size_t count = 0;
  for (int side = 0; side < 2; side++) {
    const keel_bundle *x = side ? b : a, *y = side ? a : b;
    for (size_t i = 0; i < x->n_members; i++) {
      const keel_bundle_member *m = &x->members[i], *o;
      if (m->is_dir || !keel_bundle_digest_covers(m->name) ||
          skipped(m->name, handled))
        continue;
      o = keel_bundle_find(y, m->name);
      if (!o) {
        printf("%-12s %s: only in %s\n", "results", m->name, side ? "B" : "A");
        count++;
      } else if (!side &&
                 (o->size != m->size || memcmp(o->data, m->data, m->size))) {
        printf("%-12s %s: differs\n", "results", m->name);
        count++;
      }
    }
  }
  return count;
}

const keel_cli_command keel_cli_diff = {
    .name = "diff",
    .main = keel_cmd_diff,
    .summary = "what differs between two bundles",
    .operands = "A B",
    .min_operands = 2,
    .max_operands = 2,
    .missing = "expected two bundles, A and B",
    .too_many = "expected two bundles, A and B",
};

static int diff_bundles(const char *pa, const char *pb)
{
  static const char *const env_skip[] = {"threads.", NULL};
  /* Format 1 lineage records the source plugin's binary: "plugins" says
   * it. */
  static const char *const data_skip[] = {"source.sha256", NULL};
  const keel_bundle_format *fa, *fb;
  keel_bundle *a = NULL, *b = NULL;
  keel_error err = {0};
  char da[65], db[65];
  int code;
  code = keel_bundle_cli_open("diff", pa, 1, &a);
  if (!code)
    code = keel_bundle_cli_open("diff", pb, 1, &b);
  if (code)
    goto out;
  if (keel_bundle_format_of(a, &fa, &err) ||
      keel_bundle_format_of(b, &fb, &err) ||
      keel_bundle_digest_of(a, da, &err) ||
      keel_bundle_digest_of(b, db, &err)) {
    keel_cli_error("diff", "%s", err.message);
    code = KEEL_EXIT_INTEGRITY;
    goto out;
  }
  if (fa->sweep || fb->sweep) {
    if (fa->sweep && fb->sweep)
      code = keel_sweep_diff(a, b, pa, pb);
    else {
      keel_cli_error("diff",
                     "%s is a sweep's bundle and %s a run's: compare two "
                     "sweeps, or two runs (a sweep's trials are runs)",
                     fa->sweep ? pa : pb, fa->sweep ? pb : pa);
      code = KEEL_EXIT_CONFIG;
    }
    goto out;
  }
  if (strcmp(da, db) == 0) {
    /* Same result: quiet, like diff(1), but a rebuilt plugin binary is
     * worth knowing about even when it computed the same bits. */
    json_member_diff("plugins", a, b, "plugins.json", plugin_map, NULL);
    goto out;
  }
  printf("--- A %s  result digest %s\n+++ B %s  result digest %s\n", pa, da, pb,
         db);
  if (fa != fb)
    printf("%-12s %s -> %s (%s: docs/bundle-format.md)\n", "format", fa->name,
           fb->name,
           keel_bundle_format_same_digest_rule(fa, fb)
               ? "same result digest rule"
               : "the result digest is defined differently");
  json_member_diff("values", a, b, "config.json", all_values, NULL);
  json_member_diff("overrides", a, b, "config_full.json", overrides_of, NULL);
  json_member_diff("plugins", a, b, "plugins.json", plugin_map, NULL);
  json_member_diff("data", a, b, "lineage.json", NULL, data_skip);
  metrics_diff(a, b);
  json_member_diff("final", a, b, "metrics.json", NULL, NULL);
  results_diff(a, b);
  json_member_diff("environment", a, b, "environment.json", NULL, env_skip);
  code = KEEL_EXIT_RUNTIME; /* 1: the results differ */
out:
  keel_bundle_close(a);
  keel_bundle_close(b);
  return code;
}

int keel_cmd_diff(int argc, char **argv)
{
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_diff, argc, argv, NULL, &ops);
  if (code == KEEL_CLI_GO)
    code = diff_bundles(ops.args.items[0], ops.args.items[1]);
  keel_cli_free(&keel_cli_diff, NULL, &ops);
  return code;
}
