/* Ed25519 key generation, signing and verification via OpenSSL EVP. */
#include "bundle/sign.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/fsutil.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"

static const char *ssl_reason(void)
{
  unsigned long e = ERR_get_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return r ? r : "unknown OpenSSL error";
}

static int pem_to_file(const char *path, EVP_PKEY *key, int private_key,
                       keel_error *err)
{
  BIO *bio = BIO_new(BIO_s_mem());
  char *mem = NULL;
  long len;
  int ok, rc;
  if (!bio)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  ok = private_key
           ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
           : PEM_write_bio_PUBKEY(bio, key);
  if (!ok) {
    BIO_free(bio);
    return keel_fail(err, KEEL_EIO, "%s: cannot encode key: %s", path,
                     ssl_reason());
  }
  len = BIO_get_mem_data(bio, &mem);
  rc = keel_write_file_atomic(path, mem, (size_t)len, private_key ? 0600 : 0644,
                              1, err);
  BIO_free(bio);
  return rc;
}

int keel_sign_keygen(const char *priv_path, const char *pub_path,
                     keel_error *err)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
  EVP_PKEY *key = NULL;
  int rc;
  /* Check both names first so a refusal never leaves half a pair. */
  if (access(priv_path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
    EVP_PKEY_CTX_free(ctx);
    return keel_fail(err, KEEL_EINVAL,
                     "%s or %s exists already; not "
                     "overwriting a key",
                     priv_path, pub_path);
  }
  if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
      EVP_PKEY_keygen(ctx, &key) <= 0) {
    rc = keel_fail(err, KEEL_EIO, "keygen: Ed25519 key generation failed: %s",
                   ssl_reason());
    goto out;
  }
  rc = pem_to_file(priv_path, key, 1, err);
  if (rc == 0)
    rc = pem_to_file(pub_path, key, 0, err);
out:
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  return rc;
}

static int load_key(const char *path, int private_key, EVP_PKEY **out,
                    keel_error *err)
{
  FILE *f = fopen(path, "rb");
  EVP_PKEY *key;
  if (!f)
    return keel_fail(err, KEEL_ENOTFOUND, "%s: cannot open key: %s", path,
                     strerror(errno));
  key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                    : PEM_read_PUBKEY(f, NULL, NULL, NULL);
  fclose(f);
  if (!key)
    return keel_fail(err, KEEL_EINVAL, "%s: not a %s key in PEM form: %s", path,
                     private_key ? "private" : "public", ssl_reason());
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return keel_fail(err, KEEL_EINVAL, "%s: not an Ed25519 key", path);
  }
  *out = key;
  return 0;
}

static void key_fingerprint(EVP_PKEY *key, char hex[65])
{
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (!hex)
    return;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != 32) {
    memset(hex, 0, 65);
    return;
  }
  keel_sha256_hex(raw, len, hex);
}

int keel_sign_bytes(const char *key_path, const void *data, size_t n,
                    unsigned char sig[KEEL_SIG_BYTES], char key_sha256[65],
                    keel_error *err)
{
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  size_t len = KEEL_SIG_BYTES;
  int rc = load_key(key_path, 1, &key, err);
  if (rc)
    return rc;
  md = EVP_MD_CTX_new();
  if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
      EVP_DigestSign(md, sig, &len, data, n) != 1 || len != KEEL_SIG_BYTES) {
    rc = keel_fail(err, KEEL_EIO, "%s: signing failed: %s", key_path,
                   ssl_reason());
    goto out;
  }
  key_fingerprint(key, key_sha256);
out:
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  return rc;
}

int keel_sign_verify(const char *pub_path, const void *data, size_t n,
                     const unsigned char sig[KEEL_SIG_BYTES],
                     char key_sha256[65], keel_error *err)
{
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  int rc = load_key(pub_path, 0, &key, err), v;
  if (rc)
    return rc;
  key_fingerprint(key, key_sha256);
  md = EVP_MD_CTX_new();
  if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1) {
    rc = keel_fail(err, KEEL_EIO, "%s: cannot verify: %s", pub_path,
                   ssl_reason());
    goto out;
  }
  v = EVP_DigestVerify(md, sig, KEEL_SIG_BYTES, data, n);
  ERR_clear_error();
  if (v != 1)
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "signature does not match public key %s", pub_path);
out:
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  return rc;
}
