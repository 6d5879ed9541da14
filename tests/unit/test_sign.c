/* Ed25519 signing: key pairs, signatures that verify, and the refusals
 * (other key, changed data, wrong key kind, garbage, overwriting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle/sign.h"
#include "test_util.h"

static void test_keygen_sign_verify(void)
{
  const char *key = keel_test_tmp_path("a.key"),
             *pub = keel_test_tmp_path("a.pub");
  const char *key2 = keel_test_tmp_path("b.key"),
             *pub2 = keel_test_tmp_path("b.pub");
  keel_error err = {0};
  unsigned char sig[KEEL_SIG_BYTES];
  char fp_sign[65], fp_verify[65], fp2[65];
  struct stat st;
  const char msg[] = "abc  weights/w.npy\n";
  CU_ASSERT_EQUAL_FATAL(keel_sign_keygen(key, pub, &err), 0);
  CU_ASSERT_EQUAL_FATAL(keel_sign_keygen(key2, pub2, &err), 0);
  CU_ASSERT_EQUAL(stat(key, &st), 0);
  CU_ASSERT_EQUAL(st.st_mode & 0777, 0600); /* private stays private */
  CU_ASSERT_EQUAL(keel_sign_bytes(key, msg, sizeof msg - 1, sig, fp_sign, &err),
                  0);
  CU_ASSERT_EQUAL(
      keel_sign_verify(pub, msg, sizeof msg - 1, sig, fp_verify, &err), 0);
  CU_ASSERT_STRING_EQUAL(fp_sign, fp_verify);
  CU_ASSERT_EQUAL(strlen(fp_sign), 64);
  /* Another key, one changed byte of data, one changed bit of signature. */
  CU_ASSERT_EQUAL(keel_sign_verify(pub2, msg, sizeof msg - 1, sig, fp2, &err),
                  KEEL_EINTEGRITY);
  CU_ASSERT_STRING_NOT_EQUAL(fp2, fp_sign);
  CU_ASSERT_EQUAL(keel_sign_verify(pub, "abd  weights/w.npy\n", sizeof msg - 1,
                                   sig, NULL, &err),
                  KEEL_EINTEGRITY);
  sig[10] ^= 1;
  CU_ASSERT_EQUAL(keel_sign_verify(pub, msg, sizeof msg - 1, sig, NULL, &err),
                  KEEL_EINTEGRITY);
  /* Ed25519 is deterministic: the same key and data give the same bytes. */
  {
    unsigned char s1[KEEL_SIG_BYTES], s2[KEEL_SIG_BYTES];
    keel_sign_bytes(key, msg, sizeof msg - 1, s1, NULL, &err);
    keel_sign_bytes(key, msg, sizeof msg - 1, s2, NULL, &err);
    CU_ASSERT_EQUAL(memcmp(s1, s2, sizeof s1), 0);
  }
}

static void test_refusals(void)
{
  const char *key = keel_test_tmp_path("c.key"),
             *pub = keel_test_tmp_path("c.pub"),
             *junk = keel_test_tmp_path("junk.pem");
  const char *rsa = keel_test_tmp_path("rsa.key");
  char *cmd = malloc(8192);
  keel_error err = {0};
  unsigned char sig[KEEL_SIG_BYTES] = {0};
  FILE *f;
  CU_ASSERT_EQUAL_FATAL(keel_sign_keygen(key, pub, &err), 0);
  /* Never overwrites either half of a pair. */
  CU_ASSERT_EQUAL(keel_sign_keygen(key, pub, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "exists"));
  /* A public key where a private one is needed, and vice versa. */
  CU_ASSERT_EQUAL(keel_sign_bytes(pub, "x", 1, sig, NULL, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_sign_verify(key, "x", 1, sig, NULL, &err), KEEL_EINVAL);
  /* Garbage and a missing file. */
  f = fopen(junk, "w");
  fputs("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n", f);
  fclose(f);
  CU_ASSERT_EQUAL(keel_sign_verify(junk, "x", 1, sig, NULL, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, junk));
  CU_ASSERT_EQUAL(
      keel_sign_verify("/nonexistent/k.pub", "x", 1, sig, NULL, &err),
      KEEL_ENOTFOUND);
  /* Another algorithm. */
  snprintf(cmd, 8192,
           "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
           "-out '%s' 2>/dev/null",
           rsa);
  if (system(cmd) == 0) {
    CU_ASSERT_EQUAL(keel_sign_bytes(rsa, "x", 1, sig, NULL, &err), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "Ed25519"));
  }
  free(cmd);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"keygen, sign, verify", test_keygen_sign_verify},
      {"refusals", test_refusals},
      {NULL, NULL}};
  return keel_test_run_suite("sign", tests);
}
