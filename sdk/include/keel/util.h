/* keel SDK: the helpers the built-in plugins are written with, for any
 * plugin. Include this one header (it includes <keel/keel.h>) or the
 * focused ones it gathers:
 *   keel/util_names.h      names found by binary search, first duplicate
 *   keel/util_civil.h      day numbers <-> Gregorian dates (DATE columns)
 *   keel/util_transform.h  column selection, fitted state, the apply loop
 *   keel/util_dense.h      the dense layer x W + b, a keel_model_api kit
 *   keel/util_loss.h       output widths and labels of losses
 *
 * Every helper is static inline and header-only: a plugin that uses one
 * carries its own copy, links no host symbol (it still builds with
 * -Wl,--no-undefined) and reaches the host only through the keel_host
 * table it passes in. Each header states its ownership, error and
 * threading rules. The helpers follow the ABI's rule: they only grow;
 * what a name computes (a summation order above all) never changes, since
 * bundles hold its bits. */
#ifndef KEEL_UTIL_H
#define KEEL_UTIL_H

#include "keel/keel.h"
#include "keel/util_civil.h"
#include "keel/util_dense.h"
#include "keel/util_loss.h"
#include "keel/util_names.h"
#include "keel/util_transform.h"

#endif /* KEEL_UTIL_H */
