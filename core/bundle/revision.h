/* revision: the git commit this keel was built from, recorded in every
 * bundle's environment and printed by `keel --version`. Defined in a file
 * generated at build time (core/revision.cmake), so it follows each commit
 * without a new configure. */
#ifndef KEEL_BUNDLE_REVISION_H
#define KEEL_BUNDLE_REVISION_H

extern const char keel_build_revision[];

#endif
