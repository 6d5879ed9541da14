/* SHA-256 via OpenSSL's libcrypto (EVP), as lowercase hex. */
#ifndef KEEL_BASE_SHA256_H
#define KEEL_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "keel/error.h"

typedef struct keel_sha256 keel_sha256;

keel_sha256 *keel_sha256_new(void);
void keel_sha256_update(keel_sha256 *h, const void *data, size_t n);
/* Writes the 32-byte digest into out and frees h. */
void keel_sha256_final(keel_sha256 *h, unsigned char out[32]);
/* Writes 64 hex digits and a NUL into hex[65] and frees h. */
void keel_sha256_final_hex(keel_sha256 *h, char hex[65]);
void keel_sha256_hex(const void *data, size_t n, char hex[65]);
/* Hashes a whole file; *bytes gets its size when not NULL. */
int keel_sha256_file(const char *path, char hex[65], uint64_t *bytes,
                     keel_error *err);

#endif
