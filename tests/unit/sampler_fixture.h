/* Tuning spaces for the sampler tests, built in static storage (no
 * tune_space.c needed: the tests never free them). */
#ifndef KEEL_TEST_SAMPLER_FIXTURE_H
#define KEEL_TEST_SAMPLER_FIXTURE_H

#include <math.h>
#include <string.h>

#include "config/tune_space.h"

static inline keel_tune_param fx_choice(const char *name, char **choices,
                                        size_t n)
{
  keel_tune_param p = {0};
  p.name = (char *)name;
  p.kind = KEEL_TUNE_CHOICE;
  p.choices = choices;
  p.n_choices = n;
  p.parent = -1;
  p.file = "test.ini";
  p.line = 7;
  return p;
}

static inline keel_tune_param fx_num(const char *name, keel_tune_kind kind,
                                     double lo, double hi, unsigned steps)
{
  keel_tune_param p = {0};
  p.name = (char *)name;
  p.kind = kind;
  p.lo = lo;
  p.hi = hi;
  p.steps = steps;
  p.parent = -1;
  p.file = "test.ini";
  p.line = 9;
  return p;
}

static inline keel_tune_param fx_under(keel_tune_param p, int parent,
                                       size_t choice)
{
  p.parent = parent;
  p.parent_choice = choice;
  return p;
}

static inline keel_tune_space fx_space(keel_tune_param *params, size_t n)
{
  keel_tune_space s = {0};
  s.params = params;
  s.n = n;
  s.trials = 40;
  s.round_size = 1;
  s.startup = 10;
  return s;
}

/* Bitwise equality of two points (NaN equal to NaN). */
static inline int fx_same_point(const double *a, const double *b, size_t n)
{
  return memcmp(a, b, n * sizeof *a) == 0;
}

#endif
