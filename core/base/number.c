/* Shortest round-trip double text (see number.h). */
#include "base/number.h"

#include <stdio.h>
#include <stdlib.h>

void keel_format_double(double v, char *out, size_t size)
{
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, size, "%.*g", prec, v);
    if (strtod(out, NULL) == v)
      return;
  }
}
