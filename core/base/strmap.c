/* strmap: string-keyed lookups by open addressing (see strmap.h). */
#include "base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  h ^= h >> 33; /* spread every bit into the low ones the mask keeps */
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

/* The slot holding key, or the empty slot where it would go. */
static keel_strmap_slot *probe(keel_strmap_slot *slots, size_t cap,
                               const char *key, size_t len)
{
  size_t i = (size_t)hash_bytes(key, len) & (cap - 1);
  for (;;) {
    keel_strmap_slot *s = &slots[i];
    if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0))
      return s;
    i = (i + 1) & (cap - 1);
  }
}

static int grow(keel_strmap *m)
{
  size_t cap = m->cap ? 2 * m->cap : 16;
  keel_strmap_slot *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return KEEL_ENOMEM;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key)
      *probe(slots, cap, m->slots[i].key, m->slots[i].len) = m->slots[i];
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return 0;
}

int keel_strmap_put(keel_strmap *m, const char *key, size_t len, size_t value,
                    size_t *existing)
{
  if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
    return KEEL_ENOMEM; /* kept at most 3/4 full */
  keel_strmap_slot *s = probe(m->slots, m->cap, key, len);
  if (s->key) {
    if (existing)
      *existing = s->value;
    return 1;
  }
  s->key = key;
  s->len = len;
  s->value = value;
  m->n++;
  return 0;
}

int keel_strmap_get(const keel_strmap *m, const char *key, size_t len,
                    size_t *value)
{
  if (!m->cap)
    return 0;
  const keel_strmap_slot *s = probe(m->slots, m->cap, key, len);
  if (!s->key)
    return 0;
  *value = s->value;
  return 1;
}

void keel_strmap_free(keel_strmap *m)
{
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}
