/* CHECK(cond) for the fuzz targets: a broken contract aborts (libFuzzer
 * and the corpus replay both report it as a crash) after naming the
 * condition and where it is, so a finding says which promise failed. */
#ifndef KEEL_FUZZ_CHECK_H
#define KEEL_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, __LINE__,    \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif
