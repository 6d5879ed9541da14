/* keel SDK: status codes and the caller-owned error buffer.
 *
 * Every fallible call returns an int: KEEL_OK (0) or a negative KEEL_E*
 * code, and writes a human-readable message into a keel_error the caller
 * owns (curl's CURL_ERROR_SIZE pattern). Plugins fill it with
 * host->fail(); they never print, exit() or abort(). */
#ifndef KEEL_ERROR_H
#define KEEL_ERROR_H

#define KEEL_ERROR_SIZE 512

enum keel_status {
  KEEL_OK = 0,
  KEEL_EINVAL = -1,       /* invalid argument, parameter or configuration */
  KEEL_ENOMEM = -2,       /* allocation failed */
  KEEL_EIO = -3,          /* reading or writing a file failed */
  KEEL_EDATA = -4,        /* the data is malformed or violates a check */
  KEEL_ESCHEMA = -5,      /* schema mismatch between stages */
  KEEL_EPLUGIN = -6,      /* a plugin is malformed or incompatible */
  KEEL_EINTEGRITY = -7,   /* a hash or signature does not match */
  KEEL_ENOTFOUND = -8,    /* a file, plugin, key or symbol does not exist */
  KEEL_ERANGE = -9,       /* a value is outside its allowed range */
  KEEL_EDIVERGED = -10,   /* training produced NaN or Inf */
  KEEL_EUNSUPPORTED = -11 /* the request is valid but not supported */
};

/* Caller-owned error detail; message is always NUL-terminated. */
typedef struct keel_error {
  int code;                      /* the status returned, for convenience */
  char message[KEEL_ERROR_SIZE]; /* what went wrong and where */
} keel_error;

#endif /* KEEL_ERROR_H */
