/* keel show / keel diff of a sweep's bundle (sweep_view.h). */
#include "cli/sweep_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/escape.h"
#include "base/status.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "run/sweep.h"

/* s (from a bundle: untrusted) escaped for the terminal (base/escape.h),
 * in one of eight rotating buffers, so that several fit in one printf. */
static const char *esc(const char *s)
{
  static char bufs[8][256];
  static unsigned next;
  char *b = bufs[next++ % 8];
  keel_buf t = KEEL_BUF_INIT;
  keel_escape(&t, s ? s : "", s ? strlen(s) : 0, 0);
  snprintf(b, sizeof bufs[0], "%s", t.failed ? "?" : (const char *)t.data);
  keel_buf_free(&t);
  return b;
}

static void print_values(const json_t *t)
{
  size_t j;
  json_t *o;
  json_array_foreach(json_object_get(t, "overrides"), j, o)
  {
    printf("%s", j ? " " : "");
    keel_escape_fputs(stdout, json_string_value(o));
  }
}

void keel_sweep_print_trials(const json_t *sweep)
{
  json_t *ranked = keel_sweep_ranked(sweep);
  printf("\n%-5s %-6s %-14s %-14s %s\n", "rank", "trial",
         esc(keel_jstr(sweep, "objective")), "result", "values");
  size_t i;
  json_t *t;
  json_array_foreach(ranked, i, t)
  {
    printf("%-5zu %-6lld %-14.6g %.12s   ", i + 1,
           json_integer_value(json_object_get(t, "trial")),
           json_number_value(json_object_get(t, "objective")),
           esc(keel_jstr(t, "result_digest")));
    print_values(t);
    putchar('\n');
  }
  json_array_foreach(json_object_get(sweep, "trials"), i, t)
  {
    if (strcmp(keel_jstr(t, "status"), "ok") == 0)
      continue;
    printf("%-5s %-6lld %-14s ", "-",
           json_integer_value(json_object_get(t, "trial")),
           esc(keel_jstr(t, "status")));
    keel_escape_fputs(stdout, keel_jstr(t, "error"));
    putchar('\n');
  }
  json_decref(ranked);
}

int keel_sweep_show(const keel_bundle *b, const keel_bundle_report *r,
                    const char *integrity, int as_json)
{
  int code = r->problems ? KEEL_EXIT_INTEGRITY : KEEL_EXIT_OK;
  json_t *sweep = keel_bundle_cli_json(b, "sweep.json");
  json_t *run = keel_bundle_cli_json(b, "run.json");
  if (!sweep) {
    keel_cli_error("show", "%s: sweep.json is missing or malformed", b->path);
    json_decref(run);
    return KEEL_EXIT_INTEGRITY;
  }
  if (as_json) {
    json_t *o = json_pack(
        "{s:s, s:O?, s:O, s:s, s:{s:b, s:I, s:s?}}", "sweep_id", b->top, "run",
        run, "sweep", sweep, "digest", r->digest, "integrity", "ok", code == 0,
        "problems", (json_int_t)r->n_problems, "details", r->problems);
    FILE *out = keel_cli_machine_stdout();
    json_dumpf(o, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(o);
  } else {
    size_t n = json_array_size(json_object_get(sweep, "trials")), ok = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(sweep, "trials"), i, t) ok +=
        strcmp(keel_jstr(t, "status"), "ok") == 0;
    printf("sweep      %s (%s, exit %s)\n", esc(b->top),
           esc(keel_jstr(run, "status")), esc(keel_jstr(run, "exit_code")));
    printf("format     keel-sweep/1\n");
    printf("manifest   ");
    keel_escape_fputs(stdout, keel_jstr(sweep, "manifest"));
    /* keel_jstr formats a number into one static buffer: one per call */
    printf("\nstrategy   %s", esc(keel_jstr(sweep, "strategy")));
    printf(", seed %s", esc(keel_jstr(sweep, "seed")));
    printf(", rounds of %s", esc(keel_jstr(sweep, "round_size")));
    printf(", %s job(s)\n", esc(keel_jstr(sweep, "jobs")));
    printf("objective  %s %s\n", esc(keel_jstr(sweep, "objective")),
           esc(keel_jstr(sweep, "direction")));
    printf("trials     %zu of ", n);
    printf("%s planned: %zu ok, %zu failed\n",
           esc(keel_jstr(sweep, "trials_planned")), ok, n - ok);
    printf("space\n");
    json_array_foreach(
        json_object_get(json_object_get(sweep, "space"), "params"), i, t)
    {
      printf("  %-24s %s", esc(keel_jstr(t, "name")),
             esc(keel_jstr(t, "distribution")));
      const json_t *c = json_object_get(t, "choices");
      if (c) {
        size_t j;
        json_t *v;
        printf("(");
        json_array_foreach(c, j, v)
            printf("%s%s", j ? ", " : "", esc(json_string_value(v)));
        printf(")");
      } else {
        printf("(%s", esc(keel_jstr(t, "low")));
        printf(", %s)", esc(keel_jstr(t, "high")));
      }
      if (json_is_object(json_object_get(t, "when")))
        printf(" when %s = %s",
               esc(keel_jstr(json_object_get(t, "when"), "name")),
               esc(keel_jstr(json_object_get(t, "when"), "value")));
      putchar('\n');
    }
    const json_t *in = json_object_get(sweep, "inputs");
    printf("inputs     manifest sha256 %.12s",
           esc(keel_jstr(json_object_get(in, "manifest"), "sha256")));
    if (json_is_object(json_object_get(in, "dataset")))
      printf(", dataset %s",
             esc(keel_jstr(json_object_get(in, "dataset"), "id")));
    printf(", %zu plugins, %zu data files frozen\n",
           json_array_size(json_object_get(in, "plugins")),
           json_array_size(json_object_get(in, "data")));
    keel_sweep_print_trials(sweep);
    const json_t *best = json_object_get(sweep, "best");
    if (json_is_object(best)) {
      printf("\nbest       trial %lld: %s",
             json_integer_value(json_object_get(best, "trial")),
             esc(keel_jstr(sweep, "objective")));
      printf(" %.17g, run ",
             json_number_value(json_object_get(best, "objective")));
      keel_escape_fputs(stdout, keel_jstr(best, "run_id"));
      printf(", bundle ");
      keel_escape_fputs(stdout, keel_jstr(best, "bundle"));
      putchar('\n');
    }
    printf("digest     %s\n", r->digest);
    printf("integrity  %s\n", integrity);
  }
  json_decref(sweep);
  json_decref(run);
  return code;
}

/* One trial's line for the diff: values, status, objective, digest. */
static void trial_line(char sign, const json_t *t)
{
  printf("%c trial %-4lld %-7s %-12.6g %.12s  ", sign,
         json_integer_value(json_object_get(t, "trial")),
         esc(keel_jstr(t, "status")),
         json_number_value(json_object_get(t, "objective")),
         esc(keel_jstr(t, "result_digest")));
  print_values(t);
  putchar('\n');
}

int keel_sweep_diff(const keel_bundle *a, const keel_bundle *b, const char *pa,
                    const char *pb)
{
  char da[65], db[65];
  keel_error err = {0};
  if (keel_bundle_digest_of(a, da, &err) ||
      keel_bundle_digest_of(b, db, &err)) {
    keel_cli_error("diff", "%s", err.message);
    return KEEL_EXIT_INTEGRITY;
  }
  if (strcmp(da, db) == 0)
    return KEEL_EXIT_OK;
  json_t *sa = keel_bundle_cli_json(a, "sweep.json");
  json_t *sb = keel_bundle_cli_json(b, "sweep.json");
  printf("--- A %s  sweep result digest %s\n+++ B %s  sweep result digest "
         "%s\n",
         pa, da, pb, db);
  static const char *const keys[] = {"strategy",       "seed",
                                     "trials_planned", "round_size",
                                     "objective",      "direction"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    char va[128];
    snprintf(va, sizeof va, "%s", esc(keel_jstr(sa, keys[i])));
    const char *vb = esc(keel_jstr(sb, keys[i]));
    if (strcmp(va, vb) != 0)
      printf("%-14s %s -> %s\n", keys[i], va, vb);
  }
  char *ja = json_dumps(json_object_get(sa, "space"), JSON_SORT_KEYS);
  char *jb = json_dumps(json_object_get(sb, "space"), JSON_SORT_KEYS);
  if (ja && jb && strcmp(ja, jb) != 0)
    printf("%-14s differs (keel show each for its parameters)\n", "space");
  free(ja);
  free(jb);
  static const char *const inputs[] = {"manifest", "templates", "dataset",
                                       "plugins", "data"};
  for (size_t i = 0; i < 5; i++) {
    char *x =
        json_dumps(json_object_get(json_object_get(sa, "inputs"), inputs[i]),
                   JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *y =
        json_dumps(json_object_get(json_object_get(sb, "inputs"), inputs[i]),
                   JSON_SORT_KEYS | JSON_ENCODE_ANY);
    /* the frozen inputs by hash; paths may differ between machines */
    if (x && y && strcmp(x, y) != 0)
      printf("%-14s differ (frozen %s)\n", inputs[i], inputs[i]);
    free(x);
    free(y);
  }
  const json_t *ta = json_object_get(sa, "trials"),
               *tb = json_object_get(sb, "trials");
  size_t n = json_array_size(ta) > json_array_size(tb) ? json_array_size(ta)
                                                       : json_array_size(tb);
  for (size_t i = 0; i < n; i++) {
    const json_t *x = json_array_get(ta, i), *y = json_array_get(tb, i);
    char *ox = x ? json_dumps(json_object_get(x, "overrides"), 0) : NULL;
    char *oy = y ? json_dumps(json_object_get(y, "overrides"), 0) : NULL;
    int same = x && y && ox && oy && strcmp(ox, oy) == 0 &&
               strcmp(keel_jstr(x, "status"), keel_jstr(y, "status")) == 0 &&
               strcmp(keel_jstr(x, "result_digest"),
                      keel_jstr(y, "result_digest")) == 0;
    free(ox);
    free(oy);
    if (same)
      continue;
    if (x)
      trial_line('-', x);
    if (y)
      trial_line('+', y);
  }
  const json_t *ba = json_object_get(sa, "best"),
               *bb = json_object_get(sb, "best");
  printf("%-14s trial %lld (%.17g) -> trial %lld (%.17g)\n", "best",
         json_integer_value(json_object_get(ba, "trial")),
         json_number_value(json_object_get(ba, "objective")),
         json_integer_value(json_object_get(bb, "trial")),
         json_number_value(json_object_get(bb, "objective")));
  json_decref(sa);
  json_decref(sb);
  return KEEL_EXIT_RUNTIME;
}
