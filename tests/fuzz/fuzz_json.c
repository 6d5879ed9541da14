/* libFuzzer target for keel's readers of untrusted JSON: the code that
 * interprets what jansson parsed, not jansson itself.
 *
 * The first input byte picks the reader, the rest is the JSON text:
 *   mode % 4 == 0  keel_state_from_json (fitted transform state,
 *                  preprocess/NN-*.json of a bundle). A state that loads
 *                  must round-trip: to_json, from_json, to_json again
 *                  gives the same text;
 *   mode % 4 == 1  keel_bundle_check on an in-memory bundle whose run.json
 *                  and plugins.json are the input (run.json's digest and
 *                  plugins.json's shape are checked there), and
 *                  keel_bundle_digest_of;
 *   mode % 4 == 2  environment.json: keel_envinfo_containerfile (keel env
 *                  --containerfile) and keel_envinfo_drift of the record
 *                  against itself (must find no drift);
 *   mode % 4 == 3  keel_bundle_json, keel_json_flatten and keel_jstr
 *                  (keel show / diff / env read members this way).
 * Beyond memory errors and leaks (ASan/UBSan), every error must come with
 * a message, and a generated Containerfile may hold only lines keel
 * writes itself (comments, FROM, RUN and their continuations): text from
 * the bundle must not start a line of its own. Build and run:
 * tests/fuzz/run_fuzz.sh json. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle/bundle.h"
#include "bundle/envinfo.h"
#include "cli/bundle_cli.h"
#include "fuzz_check.h"
#include "plugin/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_state(const char *text)
{
  keel_state *st = NULL;
  keel_error err = {0};
  int rc = keel_state_from_json(text, "state.json", &st, &err);
  if (rc) {
    CHECK(rc < 0 && st == NULL && err.message[0]);
    return;
  }
  CHECK(st != NULL);
  char *a = keel_state_to_json(st);
  CHECK(a != NULL);
  keel_state *st2 = NULL;
  keel_error e2 = {0};
  rc = keel_state_from_json(a, "again.json", &st2, &e2);
  if (rc) {
    fprintf(stderr, "fuzz_json: state does not reload its own JSON: %s\n%s\n",
            e2.message, a);
    CHECK(rc == 0);
  }
  char *b = keel_state_to_json(st2);
  CHECK(b != NULL);
  if (strcmp(a, b) != 0) {
    fprintf(stderr, "fuzz_json: state round trip differs:\n%s\n---\n%s\n", a,
            b);
    CHECK(strcmp(a, b) == 0);
  }
  free(a);
  free(b);
  keel_state_free(st);
  keel_state_free(st2);
}

static int add_member(keel_bundle *b, const char *name, const uint8_t *data,
                      size_t size)
{
  keel_bundle_member *m = &b->members[b->n_members];
  memset(m, 0, sizeof *m);
  m->name = strdup(name);
  m->data = malloc(size + 1);
  if (!m->name || !m->data) {
    free(m->name);
    free(m->data);
    return -1;
  }
  memcpy(m->data, data, size);
  m->data[size] = '\0';
  m->size = size;
  b->n_members++;
  return 0;
}

/* An opened bundle, as keel_bundle_open would return it, whose JSON
 * members hold the input. Members sorted by name. */
static keel_bundle *fake_bundle(const uint8_t *data, size_t size)
{
  static const char *const names[] = {"config.json",  "environment.json",
                                      "lineage.json", "metrics.json",
                                      "plugins.json", "run.json"};
  const size_t n = sizeof names / sizeof names[0];
  keel_bundle *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->path = strdup("fuzz.tar.gz");
  b->top = strdup("keel-run-fuzz");
  b->members = calloc(n, sizeof *b->members);
  if (!b->path || !b->top || !b->members) {
    keel_bundle_close(b);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (add_member(b, names[i], data, size)) {
      keel_bundle_close(b);
      return NULL;
    }
  return b;
}

static void fuzz_check(const uint8_t *data, size_t size)
{
  keel_bundle *b = fake_bundle(data, size);
  if (!b)
    return;
  keel_bundle_report r;
  keel_error err = {0};
  int rc = keel_bundle_check(b, NULL, &r, &err);
  /* no SHA256SUMS, no digest.txt: never intact */
  CHECK(rc != 0 && err.message[0]);
  if (rc == KEEL_EINTEGRITY)
    CHECK(r.problems && r.n_problems > 0);
  keel_bundle_report_free(&r);
  char hex[65];
  keel_error e2 = {0};
  if (keel_bundle_digest_of(b, hex, &e2) != 0)
    CHECK(e2.message[0]);
  keel_bundle_close(b);
}

/* Lines keel writes into a Containerfile, and nothing else: comments,
 * one FROM, at most `max_run` RUN lines, and indented lines only as the
 * continuation of a line ending in a backslash. */
static int containerfile_ok(const char *text, int max_run)
{
  const char *line = text;
  int n_from = 0, n_run = 0, continued = 0;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    if (continued) {
      if (strncmp(line, "    ", 4) != 0)
        return 0;
    } else if (n == 0 || line[0] == '#') {
      /* a comment or a blank line */
    } else if (strncmp(line, "FROM ", 5) == 0) {
      n_from++;
    } else if (strncmp(line, "RUN ", 4) == 0) {
      n_run++;
    } else {
      return 0;
    }
    continued = n > 0 && line[0] != '#' && line[n - 1] == '\\';
    if (!end)
      break;
    line = end + 1;
  }
  return n_from == 1 && n_run <= max_run;
}

static void fuzz_env(const uint8_t *data, size_t size)
{
  json_error_t je;
  json_t *env = json_loadb((const char *)data, size, 0, &je);
  if (!env)
    return;
  static const char *const dates[] = {NULL, "20250102T000000Z", "2025 01\n02"};
  for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
    char *text = NULL;
    keel_error err = {0};
    int rc =
        keel_envinfo_containerfile(env, "keel-run-fuzz", dates[i], &text, &err);
    if (rc) {
      CHECK(rc < 0 && text == NULL && err.message[0]);
      continue;
    }
    CHECK(text != NULL);
    int max_run = dates[i] && strcmp(dates[i], "20250102T000000Z") == 0 ? 2 : 1;
    if (!containerfile_ok(text, max_run)) {
      fprintf(stderr, "fuzz_json: Containerfile with a foreign line:\n%s\n",
              text);
      CHECK(containerfile_ok(text, max_run));
    }
    free(text);
  }
  char *report = NULL;
  size_t n_drift = 99;
  keel_error err = {0};
  if (keel_envinfo_drift(env, env, &report, &n_drift, &err) == 0) {
    if (n_drift != 0 || report)
      fprintf(stderr, "fuzz_json: drift against itself:\n%s\n",
              report ? report : "(no report)");
    CHECK(n_drift == 0 && report == NULL);
  } else {
    CHECK(err.message[0]);
  }
  free(report);
  json_decref(env);
}

static void fuzz_members(const uint8_t *data, size_t size)
{
  keel_bundle *b = fake_bundle(data, size);
  if (!b)
    return;
  keel_error err = {0};
  json_t *j = keel_bundle_json(b, "run.json", &err);
  if (!j) {
    CHECK(err.message[0]);
    keel_bundle_close(b);
    return;
  }
  keel_flat *f = NULL;
  size_t n = 0;
  if (keel_json_flatten(j, &f, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      CHECK(f[i].key && f[i].value);
      if (i)
        CHECK(strcmp(f[i - 1].key, f[i].key) <= 0);
    }
    keel_flat_free(f, n);
  }
  static const char *const paths[] = {
      "result_digest", "run.status", "exit_code", "started_at", "keel.version",
      "a.b.c.d.e",     "",           "..",        "plugins"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    CHECK(keel_jstr(j, paths[i]) != NULL);
  json_decref(j);
  json_t *c = keel_bundle_cli_json(b, "config.json");
  json_decref(c);
  keel_bundle_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > (1u << 20))
    return 0;
  const uint8_t *body = data + 1;
  size_t n = size - 1;
  switch (data[0] % 4) {
  case 0: {
    char *text = malloc(n + 1);
    if (!text)
      return 0;
    memcpy(text, body, n);
    text[n] = '\0';
    fuzz_state(text);
    free(text);
    break;
  }
  case 1: fuzz_check(body, n); break;
  case 2: fuzz_env(body, n); break;
  default: fuzz_members(body, n); break;
  }
  return 0;
}
