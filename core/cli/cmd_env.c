/* keel env BUNDLE [--containerfile PATH]: the drift between the
 * environment a run recorded and this machine; optionally a Containerfile
 * pinned to the run's Debian release and package versions. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "bundle/envinfo.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "cli/commands.h"

typedef struct env_args {
  const char *containerfile;
} env_args;

static const keel_cli_option env_options[] = {
    {"containerfile", 0, KEEL_CLI_PATH, "PATH",
     "write a Containerfile pinned to the run's Debian release and packages",
     offsetof(env_args, containerfile), 0, 0},
};

const keel_cli_command keel_cli_env = {
    .name = "env",
    .main = keel_cmd_env,
    .summary = "compare a bundle's environment with this machine",
    .operands = "BUNDLE",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no bundle given",
    .too_many = "one bundle at a time",
    .options = env_options,
    .n_options = KEEL_CLI_COUNT(env_options),
};

/* "2025-01-02T03:04:05.678Z" -> "20250102T030405Z" (snapshot.debian.org). */
static void snapshot_date(const char *iso, char out[17])
{
  size_t k = 0;
  out[0] = '\0';
  if (!iso || strlen(iso) < 19)
    return;
  for (size_t i = 0; i < 19 && k < 15; i++)
    if (iso[i] != '-' && iso[i] != ':')
      out[k++] = iso[i];
  out[k++] = 'Z';
  out[k] = '\0';
}

static int env_report(const char *path, const char *containerfile)
{
  keel_bundle *b = NULL;
  keel_error err = {0};
  json_t *then, *now = NULL, *run = NULL;
  char *report = NULL;
  size_t n = 0;
  int code;
  code = keel_bundle_cli_open("env", path, 1, &b);
  if (code)
    return code;
  then = keel_bundle_json(b, "environment.json", &err);
  if (!then) {
    keel_cli_error("env", "%s", err.message);
    keel_bundle_close(b);
    return KEEL_EXIT_INTEGRITY;
  }
  now = keel_envinfo_capture();
  if (!now || keel_envinfo_drift(then, now, &report, &n, &err) != 0) {
    keel_cli_error("env", "%s", now ? err.message : "out of memory");
    code = KEEL_EXIT_RUNTIME;
    goto out;
  }
  if (n == 0)
    printf("no drift: this machine matches the environment of %s\n", b->top);
  else
    printf("drift: %zu difference%s between %s and this machine:\n%s", n,
           n == 1 ? "" : "s", b->top, report);
  if (containerfile) {
    char date[17], *text = NULL;
    run = keel_bundle_json(b, "run.json", &err);
    snapshot_date(json_string_value(json_object_get(run, "started_at")), date);
    if (keel_envinfo_containerfile(then, b->top, date[0] ? date : NULL, &text,
                                   &err) != 0 ||
        keel_write_file_atomic(containerfile, text, strlen(text), 0644, 0,
                               &err) != 0) {
      keel_cli_error("env", "%s", err.message);
      code =
          err.code == KEEL_EUNSUPPORTED ? KEEL_EXIT_CONFIG : KEEL_EXIT_RUNTIME;
    } else {
      printf("wrote %s (FROM debian:%s, packages pinned to the run's "
             "versions)\n",
             containerfile, keel_jstr(then, "os_release.VERSION_CODENAME"));
    }
    free(text);
  }
out:
  free(report);
  json_decref(run);
  json_decref(then);
  json_decref(now);
  keel_bundle_close(b);
  return code;
}

int keel_cmd_env(int argc, char **argv)
{
  env_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_env, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = env_report(ops.args.items[0], a.containerfile);
  keel_cli_free(&keel_cli_env, &a, &ops);
  return code;
}
