/* The cross-reference checks of keel verify (bundle_xref.c), called by
 * keel_bundle_check (bundle_check.c). */
#ifndef KEEL_BUNDLE_BUNDLE_XREF_H
#define KEEL_BUNDLE_BUNDLE_XREF_H

#include <stddef.h>

#include "base/buffer.h"
#include "bundle/bundle.h"

/* Appends one line to out for each member that disagrees with what another
 * member says about it (plugins.json, lineage.json, config.json, run.json,
 * the .npy headers), and counts it in *n. */
void keel__bundle_check_refs(const keel_bundle *b, keel_buf *out, size_t *n);

#endif
