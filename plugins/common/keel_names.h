/* keel_names.h: finding names among many without a linear scan, for
 * plugins (header-only, plain C: no core/ code). The caller fills an array
 * of (name, position) pairs, sorts it once with kn_sort (by name, then
 * position), and then looks names up by binary search, or asks for the
 * first duplicate. n log n in all, where a scan per name is quadratic in
 * the number of columns. */
#ifndef KEEL_PLUGINS_COMMON_NAMES_H
#define KEEL_PLUGINS_COMMON_NAMES_H

#include <stdlib.h>
#include <string.h>

typedef struct kn_entry {
  const char *name;
  size_t pos;
} kn_entry;

static inline int kn_cmp(const void *a, const void *b)
{
  const kn_entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

static inline void kn_sort(kn_entry *e, size_t n)
{
  if (n > 1)
    qsort(e, n, sizeof *e, kn_cmp);
}

/* The lowest position holding `name` in sorted e[0..n), or -1. */
static inline long kn_find(const kn_entry *e, size_t n, const char *name)
{
  size_t lo = 0, hi = n;
  while (lo < hi) { /* first entry whose name is >= name */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(e[mid].name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < n && strcmp(e[lo].name, name) == 0)
    return (long)e[lo].pos;
  return -1;
}

/* The first duplicate in position order: 1 with *first < *second, the
 * two positions of a name, *second as low as any duplicate's second
 * position and *first that name's first position; 0 when all differ. */
static inline int kn_first_dup(const kn_entry *e, size_t n, size_t *first,
                               size_t *second)
{
  int found = 0;
  for (size_t i = 1; i < n; i++) {
    if (strcmp(e[i].name, e[i - 1].name) != 0 ||
        (i >= 2 && strcmp(e[i - 1].name, e[i - 2].name) == 0))
      continue; /* not the second of its run */
    if (!found || e[i].pos < *second) {
      *first = e[i - 1].pos;
      *second = e[i].pos;
      found = 1;
    }
  }
  return found;
}

#endif
