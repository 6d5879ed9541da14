/* keel SDK helper: finding names among many without a linear scan.
 *
 * The caller fills an array of (name, position) pairs, sorts it once with
 * keel_names_sort (by name, then position), and then looks names up by
 * binary search or asks for the first duplicate: n log n in all, where a
 * scan per name is quadratic in the number of columns.
 *
 * Contract: header-only, libc only (qsort), static inline. The array and
 * the names are the caller's: borrowed, never copied or freed, and the
 * names must outlive the lookups. No allocation, no errors, no state: safe
 * from any thread on arrays that thread owns. */
#ifndef KEEL_UTIL_NAMES_H
#define KEEL_UTIL_NAMES_H

#include <stdlib.h>
#include <string.h>

typedef struct keel_name_pos {
  const char *name;
  size_t pos;
} keel_name_pos;

static inline int keel_names_cmp(const void *a, const void *b)
{
  const keel_name_pos *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

static inline void keel_names_sort(keel_name_pos *e, size_t n)
{
  if (n > 1)
    qsort(e, n, sizeof *e, keel_names_cmp);
}

/* The lowest position holding `name` in sorted e[0..n), or -1. */
static inline long keel_names_find(const keel_name_pos *e, size_t n,
                                   const char *name)
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
static inline int keel_names_first_dup(const keel_name_pos *e, size_t n,
                                       size_t *first, size_t *second)
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

#endif /* KEEL_UTIL_NAMES_H */
