/* keel keygen NAME: an Ed25519 key pair for signing bundles, NAME.key
 * (private, mode 0600) and NAME.pub. Never overwrites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "bundle/sign.h"
#include "base/status.h"

int keel_cmd_keygen(int argc, char **argv)
{
  keel_error err = {0};
  char *priv, *pub;
  size_t n;
  int rc;
  if (argc != 2 || argv[1][0] == '-' || !argv[1][0]) {
    fprintf(stderr, "usage: keel keygen NAME   (writes NAME.key and NAME.pub)\n");
    return KEEL_EXIT_CONFIG;
  }
  n = strlen(argv[1]) + 5;
  priv = malloc(n);
  pub = malloc(n);
  if (!priv || !pub) {
    free(priv);
    free(pub);
    fprintf(stderr, "keel keygen: out of memory\n");
    return KEEL_EXIT_RUNTIME;
  }
  snprintf(priv, n, "%s.key", argv[1]);
  snprintf(pub, n, "%s.pub", argv[1]);
  rc = keel_sign_keygen(priv, pub, &err);
  if (rc)
    fprintf(stderr, "keel keygen: %s\n", err.message);
  else
    printf("private key %s (keep it secret; `keel run --sign %s`)\n"
           "public key  %s (give it to verifiers; `keel verify BUNDLE "
           "--pubkey %s`)\n",
           priv, priv, pub, pub);
  free(priv);
  free(pub);
  return rc == 0 ? KEEL_EXIT_OK
         : rc == KEEL_EINVAL ? KEEL_EXIT_CONFIG
                             : KEEL_EXIT_RUNTIME;
}
