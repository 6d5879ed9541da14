/* Shared CLI helpers (see cli_common.h). */
#include "cli/cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

int keel_cli_parse_threads(const char *text, int *out)
{
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (!text[0] || *end || v < 1 || v > 1024)
    return -1;
  *out = (int)v;
  return 0;
}

int keel_cli_is_override(const char *text)
{
  if (!text || text[0] == '-')
    return 0;
  const char *eq = strchr(text, '=');
  if (!eq)
    return 0;
  const char *dot = memchr(text, '.', (size_t)(eq - text));
  return dot != NULL;
}

static int push(const char ***list, size_t *n, const char *item)
{
  const char **grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (!grown)
    return KEEL_ENOMEM;
  grown[(*n)++] = item;
  *list = grown;
  return 0;
}

int keel_cli_parse_args(int argc, char **argv, const char *const *extra_flags,
                        int *flag_seen, keel_cli_args *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  int rc = 0;
  int only_positional = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || a[1] == '\0') {
      if (!only_positional && keel_cli_is_override(a))
        rc = push(&out->overrides, &out->n_overrides, a);
      else
        rc = push(&out->positional, &out->n_positional, a);
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (strcmp(a, "--plugin-path") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0]) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "--plugin-path needs a folder or .so file; expected "
                       "--plugin-path DIR");
        break;
      }
      rc = push(&out->plugin_paths, &out->n_plugin_paths, argv[++i]);
      continue;
    }
    if (strncmp(a, "--plugin-path=", 14) == 0) {
      if (!a[14]) {
        rc = keel_fail(err, KEEL_EINVAL,
                       "--plugin-path= needs a folder or .so file; expected "
                       "--plugin-path=DIR");
        break;
      }
      rc = push(&out->plugin_paths, &out->n_plugin_paths, a + 14);
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      out->json = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      out->help = 1;
      continue;
    }
    size_t k;
    for (k = 0; extra_flags && extra_flags[k]; k++)
      if (strcmp(a, extra_flags[k]) == 0)
        break;
    if (extra_flags && extra_flags[k]) {
      if (flag_seen)
        flag_seen[k]++;
      continue;
    }
    rc = keel_fail(err, KEEL_EINVAL, "unknown option '%s'", a);
  }
  if (rc == KEEL_ENOMEM)
    keel_fail(err, rc, "out of memory");
  if (rc)
    keel_cli_args_free(out);
  return rc;
}

void keel_cli_args_free(keel_cli_args *a)
{
  free(a->plugin_paths);
  free(a->overrides);
  free(a->positional);
  memset(a, 0, sizeof *a);
}

void keel_cli_put_escaped(FILE *fp, const char *text)
{
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      fprintf(fp, "\\x%02x", *p);
    else
      fputc(*p, fp);
  }
}

void keel_cli_log_to_stderr(void *ctx, keel_log_level level,
                            const char *message)
{
  (void)ctx;
  static const char *const names[] = {"debug", "info", "warning"};
  fprintf(stderr, "keel: %s: ", names[level <= KEEL_LOG_WARN ? level : 2]);
  keel_cli_put_escaped(stderr, message);
  fputc('\n', stderr);
}
