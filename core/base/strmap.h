/* strmap: the one string-keyed lookup table of libkeel, for finding a name
 * among many (INI sections and keys, column names) in constant time instead
 * of a linear scan. Open addressing over 64-bit FNV-1a; the map stores the
 * caller's key pointers (not copies), so a key must stay valid and
 * unchanged while it is in the map. Only lookups are offered: nothing can
 * depend on the order of the slots. */
#ifndef KEEL_BASE_STRMAP_H
#define KEEL_BASE_STRMAP_H

#include <stddef.h>

typedef struct keel_strmap_slot {
  const char *key; /* NULL: empty */
  size_t len;
  size_t value;
} keel_strmap_slot;

typedef struct keel_strmap {
  keel_strmap_slot *slots; /* NULL until the first put */
  size_t cap;              /* a power of two, or 0 */
  size_t n;
} keel_strmap;

#define KEEL_STRMAP_INIT                                                       \
  {                                                                            \
    NULL, 0, 0                                                                 \
  }

/* Adds key[0..len) -> value unless the key is there already. Returns 0
 * when added, 1 when present (*existing, which may be NULL, gets its
 * value and the map is unchanged), KEEL_ENOMEM on failure. */
int keel_strmap_put(keel_strmap *m, const char *key, size_t len, size_t value,
                    size_t *existing);
/* 1 and *value when key[0..len) is in the map, else 0. */
int keel_strmap_get(const keel_strmap *m, const char *key, size_t len,
                    size_t *value);
void keel_strmap_free(keel_strmap *m);

#endif
