/* Ed25519 signatures over bundle seals (OpenSSL libcrypto, PEM keys).
 *
 * A bundle's SIGNATURE signs the exact bytes of its SHA256SUMS, which in
 * turn pin every other file. Keys are PKCS#8 / SubjectPublicKeyInfo PEM
 * files as `openssl genpkey -algorithm ed25519` writes them. */
#ifndef KEEL_BUNDLE_SIGN_H
#define KEEL_BUNDLE_SIGN_H

#include <stddef.h>

#include "keel/error.h"

#define KEEL_SIG_BYTES 64

/* Writes a new key pair: priv_path (mode 0600) and pub_path (0644).
 * Refuses to overwrite an existing file (KEEL_EINVAL). */
int keel_sign_keygen(const char *priv_path, const char *pub_path,
                     keel_error *err);

/* Signs data[0..n) with the private key PEM at key_path. key_sha256 (may
 * be NULL) gets the hex SHA-256 of the raw 32-byte public key. */
int keel_sign_bytes(const char *key_path, const void *data, size_t n,
                    unsigned char sig[KEEL_SIG_BYTES], char key_sha256[65],
                    keel_error *err);

/* 0 when sig is a valid signature of data by the public key PEM at
 * pub_path; KEEL_EINTEGRITY when not; other codes for unreadable keys.
 * key_sha256 (may be NULL) gets the public key's fingerprint. */
int keel_sign_verify(const char *pub_path, const void *data, size_t n,
                     const unsigned char sig[KEEL_SIG_BYTES],
                     char key_sha256[65], keel_error *err);

#endif
