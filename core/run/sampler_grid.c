/* The grid strategy: every choice, every integer, `steps` points of a
 * continuous range, conditional parameters only under their parent's
 * choice. Points are numbered lexicographically (the first parameter
 * varies slowest, a choice lists each of its choices' sub-grids in turn)
 * and visited in a seeded order: a Feistel bijection of [0, size), so
 * trial t's point is computed alone, without listing the grid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "config/config_error.h"
#include "keel/rng.h"
#include "run/sampler.h"
#include "run/sampler_internal.h"

/* The grid of one space: each parameter's point count, and for each
 * choice of a CHOICE the product of its children's counts. */
typedef struct grid {
  uint64_t *count; /* per parameter */
  size_t *off;     /* per parameter: its choices' first slot in prod */
  uint64_t *prod;  /* per choice of every CHOICE */
  uint64_t size;   /* product of the top-level parameters' counts */
} grid;

static void grid_free(grid *g)
{
  free(g->count);
  free(g->off);
  free(g->prod);
}

static int values_count(const keel_tune_param *p, uint64_t *n, keel_error *err)
{
  if (p->kind == KEEL_TUNE_INT) {
    *n = (uint64_t)(p->hi - p->lo) + 1;
    return KEEL_OK;
  }
  if (p->lo == p->hi) {
    *n = 1;
    return KEEL_OK;
  }
  if (p->steps < 2)
    return keel_config_fail(
        err, KEEL_EINVAL, p->file, p->line,
        "%s: a grid needs `steps = N` (N >= 2) for the continuous "
        "distribution %s(%.17g, %.17g)",
        p->name, p->kind == KEEL_TUNE_LOGUNIFORM ? "loguniform" : "uniform",
        p->lo, p->hi);
  *n = p->steps;
  return KEEL_OK;
}

static int too_large(keel_error *err)
{
  return keel_fail(err, KEEL_ERANGE,
                   "the grid has more than 2^64 - 1 points: use random or "
                   "tpe, or fewer steps");
}

static int grid_build(const keel_tune_space *space, grid *g, keel_error *err)
{
  int rc = keel_sampler_check_space(space, err);
  if (rc)
    return rc;
  size_t n = space->n, slots = 0;
  g->count = calloc(n ? n : 1, sizeof *g->count);
  g->off = calloc(n ? n : 1, sizeof *g->off);
  for (size_t i = 0; i < n; i++) {
    g->off[i] = slots;
    if (space->params[i].kind == KEEL_TUNE_CHOICE)
      slots += space->params[i].n_choices;
  }
  g->prod = malloc((slots ? slots : 1) * sizeof *g->prod);
  if (!g->count || !g->off || !g->prod)
    return keel_fail(err, KEEL_ENOMEM, "grid: out of memory");
  for (size_t s = 0; s < slots; s++)
    g->prod[s] = 1;
  g->size = 1;
  /* children come after their parent: fold from the last parameter up */
  for (size_t i = n; i-- > 0;) {
    const keel_tune_param *p = &space->params[i];
    uint64_t c = 0;
    if (p->kind == KEEL_TUNE_CHOICE) {
      for (size_t k = 0; k < p->n_choices; k++)
        if (__builtin_add_overflow(c, g->prod[g->off[i] + k], &c))
          return too_large(err);
    } else if ((rc = values_count(p, &c, err)) != 0) {
      return rc;
    }
    g->count[i] = c;
    uint64_t *into = p->parent < 0
                         ? &g->size
                         : &g->prod[g->off[p->parent] + p->parent_choice];
    if (__builtin_mul_overflow(*into, c, into))
      return too_large(err);
  }
  return KEEL_OK;
}

int keel_sampler_grid_size(const keel_tune_space *space, uint64_t *size,
                           keel_error *err)
{
  grid g = {0};
  int rc = grid_build(space, &g, err);
  if (!rc)
    *size = g.size;
  grid_free(&g);
  return rc;
}

/* Point r (0 < r < steps - 1) of a continuous range, as computed. */
static double grid_raw(const keel_tune_param *p, uint64_t r)
{
  double t = (double)r / (double)(p->steps - 1);
  if (p->kind == KEEL_TUNE_UNIFORM)
    return p->lo + t * (p->hi - p->lo);
  double a = log(p->lo), b = log(p->hi);
  return exp(a + t * (b - a));
}

/* Point r of a continuous range as a short decimal: the computed point v
 * rounded to 12 significant digits ("%.12g" read back), and for uniform a
 * v within 1e-12 * max(|lo|, |hi|) of zero taken as 0, so
 * loguniform(0.001, 0.1, steps = 3) gives 0.01 and not
 * 0.010000000000000004; then clamped into [lo, hi]. The rounded value is
 * kept only when it moves v by at most a thousandth of the gap to the
 * previous point, so a range narrower than 12 digits keeps its points
 * distinct and in order (exact, as computed). */
static double grid_short(const keel_tune_param *p, uint64_t r)
{
  double v = grid_raw(p, r);
  double gap = v - (r > 1 ? grid_raw(p, r - 1) : p->lo);
  double m = fmax(fabs(p->lo), fabs(p->hi));
  double s = v;
  if (p->kind == KEEL_TUNE_UNIFORM && fabs(v) <= m * 1e-12) {
    s = 0;
  } else {
    char buf[32];
    snprintf(buf, sizeof buf, "%.12g", v);
    s = strtod(buf, NULL);
  }
  s = s < p->lo ? p->lo : s > p->hi ? p->hi : s;
  if (!(fabs(s - v) <= gap * 1e-3))
    s = v;
  return s < p->lo ? p->lo : s > p->hi ? p->hi : s;
}

/* Value r of a non-choice parameter's grid points. */
static double grid_value(const keel_tune_param *p, uint64_t r)
{
  if (p->kind == KEEL_TUNE_INT)
    return p->lo + (double)r;
  if (p->lo == p->hi || r == 0)
    return p->lo;
  if (r + 1 >= p->steps)
    return p->hi;
  return grid_short(p, r);
}

static void decode_group(const keel_tune_space *space, const grid *g,
                         int parent, size_t choice, uint64_t k, double *x);

static void assign(const keel_tune_space *space, const grid *g, size_t j,
                   uint64_t r, double *x)
{
  const keel_tune_param *p = &space->params[j];
  if (p->kind != KEEL_TUNE_CHOICE) {
    x[j] = grid_value(p, r);
    return;
  }
  size_t c = 0;
  while (r >= g->prod[g->off[j] + c])
    r -= g->prod[g->off[j] + c++];
  x[j] = (double)c;
  decode_group(space, g, (int)j, c, r, x);
}

/* The parameters with this parent and choice (parent -1: the top level)
 * take k as mixed-radix digits, the last parameter the fastest. */
static void decode_group(const keel_tune_space *space, const grid *g,
                         int parent, size_t choice, uint64_t k, double *x)
{
  for (size_t j = space->n; j-- > (size_t)(parent + 1);) {
    const keel_tune_param *p = &space->params[j];
    if (p->parent != parent || (parent >= 0 && p->parent_choice != choice))
      continue;
    assign(space, g, j, k % g->count[j], x);
    k /= g->count[j];
  }
}

int keel_sampler_grid_point(const keel_tune_space *space, uint64_t k,
                            double *x_out, keel_error *err)
{
  grid g = {0};
  int rc = grid_build(space, &g, err);
  if (rc)
    goto out;
  if (k >= g.size) {
    rc = keel_fail(err, KEEL_ERANGE, "grid point %llu: the grid has %llu",
                   (unsigned long long)k, (unsigned long long)g.size);
    goto out;
  }
  for (size_t i = 0; i < space->n; i++)
    x_out[i] = NAN;
  decode_group(space, &g, -1, 0, k, x_out);
out:
  grid_free(&g);
  return rc;
}

#define FEISTEL_ROUNDS 6

/* A balanced Feistel network on 2h bits (a bijection of [0, 2^2h)), round
 * functions from Philox under the seed. */
static uint64_t feistel(uint64_t seed, unsigned h, uint64_t v)
{
  uint64_t mask = h >= 64 ? UINT64_MAX : (1ull << h) - 1;
  uint64_t l = v >> h, r = v & mask;
  for (unsigned round = 0; round < FEISTEL_ROUNDS; round++) {
    uint64_t f =
        keel_rng_u64(seed, KEEL_SAMPLER_TAG_GRID << 48 | round, r) & mask;
    uint64_t t = l ^ f;
    l = r;
    r = t;
  }
  return l << h | r;
}

uint64_t keel_sampler_grid_order(uint64_t seed, uint64_t size, uint64_t t)
{
  if (size <= 1 || t >= size)
    return t;
  unsigned bits = 64 - (unsigned)__builtin_clzll(size - 1);
  unsigned h = (bits + 1) / 2;
  /* cycle walking: the domain is at most 4 * size, so a few steps */
  uint64_t v = t;
  do
    v = feistel(seed, h, v);
  while (v >= size);
  return v;
}
