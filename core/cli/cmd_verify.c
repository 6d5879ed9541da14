/* keel verify BUNDLE [--pubkey KEY]: recompute every hash, the result
 * digest and (with a key) the signature. Exit 0 when intact, 3 naming
 * every file that differs, is missing or is extra. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "bundle/bundle.h"
#include "cli/bundle_cli.h"
#include "cli/cli_common.h"
#include "cli/commands.h"

typedef struct verify_args {
  const char *pubkey;
} verify_args;

static const keel_cli_option verify_options[] = {
    {"pubkey", 0, KEEL_CLI_PATH, "KEY",
     "also check the Ed25519 signature with this public key",
     offsetof(verify_args, pubkey), 0, 0},
};

const keel_cli_command keel_cli_verify = {
    .name = "verify",
    .main = keel_cmd_verify,
    .summary = "check every hash (and the signature) of a bundle",
    .operands = "BUNDLE",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no bundle given",
    .too_many = "one bundle at a time",
    .options = verify_options,
    .n_options = KEEL_CLI_COUNT(verify_options),
};

static int verify_bundle(const char *path, const char *pubkey)
{
  keel_bundle *b = NULL;
  keel_bundle_report r;
  keel_error err = {0};
  int rc;
  if ((rc = keel_bundle_cli_open("verify", path, 0, &b)) != 0)
    return rc;
  rc = keel_bundle_check(b, pubkey, &r, &err);
  if (rc == KEEL_EINTEGRITY) {
    fputs(r.problems ? r.problems : "", stdout);
    keel_cli_error("verify", "FAILED: %s", err.message);
  } else if (rc) {
    keel_cli_error("verify", "%s", err.message);
  } else {
    printf("OK %s: %zu files intact, result digest %s", path, r.n_files,
           r.digest);
    json_t *run = keel_bundle_json(b, "run.json", NULL);
    const char *status = json_string_value(json_object_get(run, "status"));
    if (status && strcmp(status, "ok") != 0) /* intact, but not finished */
      printf(", run %s", status);
    json_decref(run);
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

int keel_cmd_verify(int argc, char **argv)
{
  verify_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_verify, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = verify_bundle(ops.args.items[0], a.pubkey);
  keel_cli_free(&keel_cli_verify, &a, &ops);
  return code;
}
