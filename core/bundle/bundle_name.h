/* bundle_name: the one rule for the names a bundle may hold, applied by
 * the writer to every entry it is given and by the reader to every member
 * and every SHA256SUMS line of an untrusted bundle. Internal to the
 * bundle layer. */
#ifndef KEEL_BUNDLE_BUNDLE_NAME_H
#define KEEL_BUNDLE_BUNDLE_NAME_H

/* Longest member path the reader accepts, the top folder included. */
#define KEEL__BUNDLE_PATH_MAX 255

/* Relative, canonical, printable: no leading '/', no empty, "." or ".."
 * component, no control characters or backslashes (which sha256sum would
 * escape), at most KEEL__BUNDLE_PATH_MAX bytes. Returns NULL, or why not
 * (static text). */
const char *keel__bundle_name_problem(const char *name);

#endif
