/* The plugin registry cache: the scanner's facts for each plugin file,
 * kept in $XDG_CACHE_HOME/keel/plugin-registry.json (default
 * ~/.cache/keel) and keyed by realpath, size, mtime and SHA-256, so a
 * file that has not changed is not scanned (nor its code run) again. */
#ifndef KEEL_PLUGIN_REGISTRY_CACHE_H
#define KEEL_PLUGIN_REGISTRY_CACHE_H

#include <jansson.h>
#include <stdint.h>

typedef struct keel_registry_cache keel_registry_cache;

/* Reads the cache file; one that is missing, does not parse or was
 * written by another cache format or ABI starts empty (and is rewritten
 * by save). NULL only when out of memory. */
keel_registry_cache *keel_registry_cache_open(void);
/* The facts recorded for this exact file, borrowed; NULL when none. */
const json_t *keel_registry_cache_get(keel_registry_cache *c, const char *path,
                                      int64_t size, int64_t mtime_ns,
                                      const char *sha256);
/* Records facts (a reference is taken) for the file. */
void keel_registry_cache_put(keel_registry_cache *c, const char *path,
                             int64_t size, int64_t mtime_ns, const char *sha256,
                             json_t *facts);
/* Writes the cache when something changed, atomically (temporary file
 * and rename), dropping entries of files that are gone. A cache that
 * cannot be written is not an error: the next command scans again. */
void keel_registry_cache_save(keel_registry_cache *c);
void keel_registry_cache_close(keel_registry_cache *c);

#endif
