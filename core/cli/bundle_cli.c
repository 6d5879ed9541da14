/* Shared plumbing of the bundle commands. */
#include "cli/bundle_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/status.h"
#include "cli/cli_common.h"

/* A bundle is named after the run it holds (<run-id>.tar.gz). One renamed,
 * or a copy of another run under this run's name, still verifies: a note,
 * not a failure, since users rename files. Links (runs/latest) are
 * followed to the file they name. */
static void warn_renamed(const char *cmd, const char *path,
                         const keel_bundle *b)
{
  char *real = realpath(path, NULL);
  const char *base = real ? strrchr(real, '/') : NULL;
  size_t n = strlen(b->top);
  base = base ? base + 1 : real;
  if (base &&
      !(strncmp(base, b->top, n) == 0 && strcmp(base + n, ".tar.gz") == 0)) {
    fprintf(stderr, "keel %s: warning: ", cmd);
    keel_escape_fputs(stderr, path);
    fputs(" holds run ", stderr);
    keel_escape_fputs(stderr, b->top);
    fputs(" but its file is named ", stderr);
    keel_escape_fputs(stderr, base);
    fputs(" (renamed, or another run's bundle?)\n", stderr);
  }
  free(real);
}

int keel_bundle_cli_open(const char *cmd, const char *path, int check,
                         keel_bundle **out)
{
  keel_error err = {0};
  keel_bundle_report r;
  int rc = keel_bundle_open(path, NULL, out, &err);
  if (rc) {
    keel_cli_error(cmd, "%s", err.message); /* names the path as given */
    return keel_bundle_exit_code(rc);
  }
  warn_renamed(cmd, path, *out);
  if (!check)
    return 0;
  rc = keel_bundle_check(*out, NULL, &r, &err);
  if (rc) {
    if (r.problems)
      fputs(r.problems, stderr);
    keel_cli_error(cmd,
                   "%s: the bundle fails verification; refusing it "
                   "(`keel verify %s` for details)",
                   path, path);
    keel_bundle_report_free(&r);
    keel_bundle_close(*out);
    *out = NULL;
    return keel_bundle_exit_code(rc);
  }
  keel_bundle_report_free(&r);
  return 0;
}

json_t *keel_bundle_cli_json(const keel_bundle *b, const char *name)
{
  keel_error err = {0};
  return keel_bundle_json(b, name, &err);
}

const char *keel_jstr(const json_t *j, const char *key)
{
  static char buf[256];
  char path[256], *save = NULL;
  const json_t *v = j;
  snprintf(path, sizeof path, "%s", key);
  for (char *k = strtok_r(path, ".", &save); k && v;
       k = strtok_r(NULL, ".", &save))
    v = json_object_get(v, k);
  if (!v || json_is_null(v))
    return "";
  if (json_is_string(v))
    return json_string_value(v);
  if (json_is_integer(v)) {
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    return buf;
  }
  if (json_is_real(v)) {
    snprintf(buf, sizeof buf, "%.6g", json_real_value(v));
    return buf;
  }
  if (json_is_boolean(v))
    return json_is_true(v) ? "true" : "false";
  return "(structured)";
}
