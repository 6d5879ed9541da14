/* SHA-256 of buffers and files through OpenSSL EVP, as lowercase hex (see
 * sha256.h). */
#include "base/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/fsutil.h"
#include "base/status.h"

struct keel_sha256 {
  EVP_MD_CTX *ctx;
};

keel_sha256 *keel_sha256_new(void)
{
  keel_sha256 *h = malloc(sizeof *h);
  if (!h)
    return NULL;
  h->ctx = EVP_MD_CTX_new();
  if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(h->ctx);
    free(h);
    return NULL;
  }
  return h;
}

void keel_sha256_update(keel_sha256 *h, const void *data, size_t n)
{
  if (n)
    EVP_DigestUpdate(h->ctx, data, n);
}

void keel_sha256_final(keel_sha256 *h, unsigned char out[32])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_DigestFinal_ex(h->ctx, md, &len) || len != 32)
    memset(md, 0xff, 32); /* only on a broken libcrypto: never matches */
  memcpy(out, md, 32);
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

void keel_sha256_final_hex(keel_sha256 *h, char hex[65])
{
  unsigned char md[32];
  keel_sha256_final(h, md);
  for (unsigned int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  hex[64] = '\0';
}

void keel_sha256_hex(const void *data, size_t n, char hex[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32) {
    /* Only on a broken libcrypto; an impossible digest never matches. */
    memset(hex, 'x', 64);
    hex[64] = '\0';
    return;
  }
  for (unsigned int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  hex[64] = '\0';
}

int keel_sha256_file(const char *path, char hex[65], uint64_t *bytes,
                     keel_error *err)
{
  int rc;
  FILE *f = keel_fs_open_regular(path, NULL, &rc, err);
  if (!f)
    return rc;
  keel_sha256 *h = keel_sha256_new();
  if (!h) {
    fclose(f);
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  }
  unsigned char buf[65536];
  uint64_t total = 0;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    keel_sha256_update(h, buf, n);
    total += n;
  }
  int failed = ferror(f);
  fclose(f);
  keel_sha256_final_hex(h, hex);
  if (failed)
    return keel_fail(err, KEEL_EIO, "%s: read error", path);
  if (bytes)
    *bytes = total;
  return KEEL_OK;
}
