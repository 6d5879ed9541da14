/* fetch_http: bytes of an http(s) URL, through libcurl, for the access
 * shim (docs/data-access.md).
 *
 * Robust, not fast: a connect timeout and stall detection (a transfer
 * slower than a floor for too long) rather than a whole-transfer timeout;
 * bounded retries with exponential backoff on timeouts, resets, HTTP 408,
 * 429 and 5xx, honouring Retry-After; a transfer cut short resumes with a
 * Range request whose Content-Range is checked, and starts over (the sink
 * is told) when the server ignores Range or answers another range. TLS
 * peer and host verification stay on. Credentials are referenced
 * (keel_auth_method), read at fetch time, and never appear in a message:
 * a URL is printed without its query and fragment (keel_url_printable).
 * The caller hashes what the sink receives; nothing here decides whether
 * the bytes are the right ones. */
#ifndef KEEL_DATA_FETCH_HTTP_H
#define KEEL_DATA_FETCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/url.h" /* keel_url_printable */
#include "config/catalog.h"
#include "keel/error.h"

/* Where the fetched bytes go. */
typedef struct keel_fetch_sink {
  void *ctx;
  /* The next n bytes of the body. A non-zero return stops the fetch with
   * that code (err set). */
  int (*write)(void *ctx, const void *data, size_t n, keel_error *err);
  /* Forget everything written so far: the body starts again at byte 0. */
  int (*restart)(void *ctx, keel_error *err);
} keel_fetch_sink;

typedef struct keel_fetch_options {
  long connect_timeout_s; /* TCP + TLS handshake; 0: 30 */
  long stall_seconds;     /* slower than stall_bytes_per_s this long: a
                             stall (retried); 0: 30 */
  long stall_bytes_per_s; /* 0: 1 */
  int max_attempts;       /* 0: 5 */
  long max_backoff_s;     /* the longest wait between attempts; 0: 60 */
  const char *ca_bundle;  /* PEM file of trusted CAs; NULL: the system's */
  keel_auth_method auth;  /* 0 or KEEL_AUTH_NONE: none */
  const char *auth_ref;   /* VAR of bearer-env, PATH of header-file */
} keel_fetch_options;

typedef struct keel_fetch_stats {
  int attempts;     /* requests made */
  int restarts;     /* times the body started over at byte 0 */
  int resumes;      /* requests that continued with a Range */
  uint64_t bytes;   /* bytes handed to the sink in the end (the body) */
  long http_status; /* of the last response */
} keel_fetch_stats;

/* Fetches url into sink. KEEL_OK with the whole body delivered;
 * KEEL_EINVAL for what the configuration gets wrong (an unset bearer
 * variable, an unreadable or malformed header file), KEEL_EIO for a
 * transfer that failed after its retries or a response that is not a
 * success (the message says which, with the printable URL). */
int keel_fetch_url(const char *url, const keel_fetch_options *opt,
                   const keel_fetch_sink *sink, keel_fetch_stats *stats,
                   keel_error *err);

#endif
