/* keel run: parse the command line into keel_run_options and hand over to
 * run.c. The bundle's path is the last line on stdout, so scripts can do
 * b=$(keel run m.ini). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/progress_view.h"
#include "run/run.h"
#include "base/status.h"

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "keel run: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nusage: keel run MANIFEST [section.key=value...] [--out DIR] "
                  "[--threads N] [--quiet] [--resume CHECKPOINT] [--sign KEY] "
                  "[--include-data] [--no-plugins] [--until-transforms] "
                  "[--plugin-path DIR]...\n");
  return KEEL_EXIT_CONFIG;
}

/* Options that take a value accept "--opt VALUE" and "--opt=VALUE". */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] == '\0' && *i + 1 < argc)
    return argv[++*i];
  return NULL;
}

int keel_cmd_run(int argc, char **argv)
{
  keel_run_options opt = {0};
  opt.out_dir = "runs";
  opt.include_plugins = 1;
  int quiet = 0;
  const char **overrides = calloc((size_t)argc, sizeof *overrides);
  const char **paths = calloc((size_t)argc, sizeof *paths);
  int code = KEEL_EXIT_CONFIG;
  if (!overrides || !paths)
    goto out;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v;
    if ((v = option_value(argc, argv, &i, "--out")))
      opt.out_dir = v;
    else if ((v = option_value(argc, argv, &i, "--threads"))) {
      if (keel_cli_parse_threads(v, &opt.threads)) {
        code = usage_error(KEEL_CLI_THREADS_HELP ", not '%s'", v);
        goto out;
      }
    } else if ((v = option_value(argc, argv, &i, "--resume")))
      opt.resume = v;
    else if ((v = option_value(argc, argv, &i, "--sign")))
      opt.sign_key = v;
    else if ((v = option_value(argc, argv, &i, "--plugin-path")))
      paths[opt.n_plugin_paths++] = v;
    else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
      quiet = 1;
    else if (strcmp(a, "--include-data") == 0)
      opt.include_data = 1;
    else if (strcmp(a, "--no-plugins") == 0)
      opt.include_plugins = 0;
    else if (strcmp(a, "--until-transforms") == 0)
      opt.until_transforms = 1;
    else if (a[0] == '-') {
      code = usage_error("unknown or incomplete option '%s'", a);
      goto out;
    } else if (strchr(a, '=') && opt.manifest_path)
      overrides[opt.n_overrides++] = a;
    else if (!opt.manifest_path)
      opt.manifest_path = a;
    else {
      code = usage_error("unexpected argument '%s' (overrides look like "
                         "section.key=value)", a);
      goto out;
    }
  }
  if (!opt.manifest_path) {
    code = usage_error("%s", "no manifest given");
    goto out;
  }
  keel_progress_view view;
  if (!quiet)
    opt.progress = keel_progress_view_init(&view, stderr);
  opt.overrides = overrides;
  opt.plugin_paths = paths;
  keel_run_outcome result = {0};
  keel_error err = {0};
  int rc = keel_run_execute(&opt, &result, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "keel run: %s\n", err.message);
  if (result.bundle_path)
    printf("%s\n", result.bundle_path);
  code = result.exit_code;
  if (rc != KEEL_OK && code == KEEL_EXIT_OK)
    code = KEEL_EXIT_RUNTIME;
  keel_run_outcome_free(&result);
out:
  free(overrides);
  free(paths);
  return code;
}
