/* Shared CLI helpers (see cli_common.h). */
#include "cli/cli_common.h"

#include <stdio.h>

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
