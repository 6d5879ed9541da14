/* keel SDK: data-source plugins (kind "source").
 *
 * A source turns parameters (a path, a generator's size) into a table.
 * Both calls are stateless: they receive the validated parameter values
 * and must give the same result for the same values and bytes. Read files
 * only through host->input_open so the host can record their hashes.
 * Threading: never called concurrently for one plugin. */
#ifndef KEEL_SOURCE_H
#define KEEL_SOURCE_H

#include "keel/host.h"
#include "keel/params.h"

typedef struct keel_source_api {
  uint32_t struct_size; /* sizeof(keel_source_api) as compiled */
  /* Fills `out` (empty, host-owned) with the columns `read` will yield,
   * as cheaply as possible (a file's header and a type-inference scan). */
  int (*schema)(const keel_host *host, const keel_value *params,
                keel_schema *out, keel_error *err);
  /* Reads all rows into a new table (host->table_new) returned in *out;
   * the host takes ownership. Must agree with `schema`. */
  int (*read)(const keel_host *host, const keel_value *params, keel_table **out,
              keel_error *err);
} keel_source_api;

#endif /* KEEL_SOURCE_H */
