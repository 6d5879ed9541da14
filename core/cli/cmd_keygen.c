/* keel keygen NAME: an Ed25519 key pair for signing bundles, NAME.key
 * (private, mode 0600) and NAME.pub. Never overwrites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "bundle/sign.h"
#include "cli/cli_common.h"
#include "cli/commands.h"

const keel_cli_command keel_cli_keygen = {
    .name = "keygen",
    .main = keel_cmd_keygen,
    .summary = "make an Ed25519 key pair (NAME.key, NAME.pub) for signing "
               "bundles",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no NAME given (the keys go to NAME.key and NAME.pub)",
    .too_many = "expected one NAME",
};

static int keygen(const char *name)
{
  keel_error err = {0};
  char *priv, *pub;
  size_t n;
  int rc;
  n = strlen(name) + 5;
  priv = malloc(n);
  pub = malloc(n);
  if (!priv || !pub) {
    free(priv);
    free(pub);
    keel_cli_error("keygen", "out of memory");
    return KEEL_EXIT_RUNTIME;
  }
  snprintf(priv, n, "%s.key", name);
  snprintf(pub, n, "%s.pub", name);
  rc = keel_sign_keygen(priv, pub, &err);
  if (rc)
    keel_cli_error("keygen", "%s", err.message);
  else
    printf("private key %s (keep it secret; `keel run --sign %s`)\n"
           "public key  %s (give it to verifiers; `keel verify BUNDLE "
           "--pubkey %s`)\n",
           priv, priv, pub, pub);
  free(priv);
  free(pub);
  return rc == 0             ? KEEL_EXIT_OK
         : rc == KEEL_EINVAL ? KEEL_EXIT_CONFIG
                             : KEEL_EXIT_RUNTIME;
}

int keel_cmd_keygen(int argc, char **argv)
{
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_keygen, argc, argv, NULL, &ops);
  if (code == KEEL_CLI_GO && !ops.args.items[0][0])
    code = keel_cli_usage_error(&keel_cli_keygen, "NAME is empty");
  if (code == KEEL_CLI_GO)
    code = keygen(ops.args.items[0]);
  keel_cli_free(&keel_cli_keygen, NULL, &ops);
  return code;
}
