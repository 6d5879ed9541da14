/* Helpers shared by the bundle commands (verify, show, env, diff, replay):
 * opening a bundle with the user-facing error, and small JSON accessors.
 * CLI-only: these print diagnostics on stderr. */
#ifndef KEEL_CLI_BUNDLE_CLI_H
#define KEEL_CLI_BUNDLE_CLI_H

#include <jansson.h>

#include "bundle/bundle.h"

/* Opens path (refusing hostile archives) and, with check set, verifies its
 * hashes and result digest. Prints "keel CMD: ..." on stderr on failure and
 * returns the exit code (0 on success, *out then owned by the caller). */
int keel_bundle_cli_open(const char *cmd, const char *path, int check,
                         keel_bundle **out);

/* A member as JSON, or NULL (silently) when absent or unparsable. */
json_t *keel_bundle_cli_json(const keel_bundle *b, const char *name);

/* Value at a dotted path ("run.status") as a string ("" when absent);
 * numbers are formatted as JSON writes them. Returns a static buffer for
 * non-strings, valid until the next call. */
const char *keel_jstr(const json_t *j, const char *key);

#endif
