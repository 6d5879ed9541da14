/* keel verify BUNDLE [--pubkey KEY]: recompute every hash, the result
 * digest and (with a key) the signature. Exit 0 when intact, 3 naming
 * every file that differs, is missing or is extra. */
#include <stdio.h>
#include <string.h>

#include "bundle/bundle.h"
#include "cli/bundle_cli.h"
#include "cli/commands.h"
#include "base/status.h"

static int usage(const char *why)
{
  fprintf(stderr, "keel verify: %s\nusage: keel verify BUNDLE [--pubkey KEY]\n",
          why);
  return KEEL_EXIT_CONFIG;
}

int keel_cmd_verify(int argc, char **argv)
{
  const char *path = NULL, *pubkey = NULL;
  keel_bundle *b = NULL;
  keel_bundle_report r;
  keel_error err = {0};
  int rc;
  const char *why =
      keel_bundle_cli_args(argc, argv, "--pubkey", &pubkey, NULL, &path);
  if (why)
    return usage(why);
  if ((rc = keel_bundle_cli_open("verify", path, 0, &b)) != 0)
    return rc;
  rc = keel_bundle_check(b, pubkey, &r, &err);
  if (rc == KEEL_EINTEGRITY) {
    fputs(r.problems ? r.problems : "", stdout);
    fprintf(stderr, "keel verify: FAILED: %s\n", err.message);
  } else if (rc) {
    fprintf(stderr, "keel verify: %s\n", err.message);
  } else {
    printf("OK %s: %zu files intact, result digest %s", path, r.n_files,
           r.digest);
    if (r.signature_checked)
      printf(", signature valid");
    else if (r.signed_)
      printf(", signed (signature not checked: pass --pubkey KEY)");
    printf("\n");
  }
  keel_bundle_report_free(&r);
  keel_bundle_close(b);
  return keel_bundle_exit_code(rc);
}
