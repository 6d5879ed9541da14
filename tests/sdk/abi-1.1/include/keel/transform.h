/* keel SDK: preprocessing plugins (kind "transform").
 *
 * A transform declares how it maps an input schema to an output schema
 * (`schema`, used by `keel check` before any data is read), learns its
 * state from the training split only (`fit`, writing into a host-owned
 * keel_state the host serializes), and applies that same state to any split
 * and at replay (`apply`). `fit` must be deterministic; `apply` must use
 * nothing but the state and the parameters.
 * Threading: calls for one transform are never concurrent. */
#ifndef KEEL_TRANSFORM_H
#define KEEL_TRANSFORM_H

#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_transform_api {
  uint32_t struct_size; /* sizeof(keel_transform_api) as compiled */
  /* Fills `out` (empty) from `in` (borrowed). Names the column and the
   * reason in err when the input cannot be handled (KEEL_ESCHEMA). */
  int (*schema)(const keel_host *host, const keel_value *params,
                const keel_schema *in, keel_schema *out, keel_error *err);
  /* Learns state from `train` (borrowed). May be NULL for stateless
   * transforms. */
  int (*fit)(const keel_host *host, const keel_value *params,
             const keel_table *train, keel_state *state, keel_error *err);
  /* Makes a new table (host->table_new) from `in` (borrowed) and returns
   * it in *out; the host takes ownership. `state` is what fit wrote (or
   * an empty state when fit is NULL). */
  int (*apply)(const keel_host *host, const keel_value *params,
               const keel_state *state, const keel_table *in, keel_table **out,
               keel_error *err);
} keel_transform_api;

#endif /* KEEL_TRANSFORM_H */
