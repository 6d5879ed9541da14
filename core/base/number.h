/* number: the one way libkeel writes a double as text: the shortest
 * "%.Ng" that reads back (strtod) as exactly the same double, so values in
 * config.json, show and diff are both exact and readable (0.1, not
 * 0.10000000000000001). */
#ifndef KEEL_BASE_NUMBER_H
#define KEEL_BASE_NUMBER_H

#include <stddef.h>

/* Longest text keel_format_double writes, NUL included. */
#define KEEL_DOUBLE_TEXT 32

/* Writes v into out (size >= KEEL_DOUBLE_TEXT): "nan", "inf" and "-inf"
 * for the non-finite values, as printf writes them. */
void keel_format_double(double v, char *out, size_t size);

#endif
