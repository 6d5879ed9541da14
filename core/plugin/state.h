/* Fitted transform state: named arrays of doubles or strings, in insertion
 * order, serialized to JSON with doubles printed to round-trip exactly
 * ("%.17g"), so a reloaded state gives bit-identical transforms. */
#ifndef KEEL_PLUGIN_STATE_H
#define KEEL_PLUGIN_STATE_H

#include "keel/keel.h"

keel_state *keel_state_new(void);
void keel_state_free(keel_state *st);
int keel_state_put_f64(keel_state *st, const char *key, const double *v,
                       size_t n, keel_error *err);
int keel_state_put_strings(keel_state *st, const char *key,
                           const char *const *v, size_t n, keel_error *err);
int keel_state_get_f64(const keel_state *st, const char *key, const double **v,
                       size_t *n, keel_error *err);
int keel_state_get_strings(const keel_state *st, const char *key,
                           const char *const **v, size_t *n, keel_error *err);
/* Canonical JSON text (keys in insertion order); caller frees with free(). */
char *keel_state_to_json(const keel_state *st);
/* Parses what keel_state_to_json wrote. `name` is for messages. */
int keel_state_from_json(const char *json, const char *name, keel_state **out,
                         keel_error *err);

#endif
