/* Typed parameter values: parsing manifest text against a declaration,
 * checking ranges, formatting canonical text, and "did you mean". */
#ifndef KEEL_BASE_PARAMS_H
#define KEEL_BASE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

/* Parses `text` strictly as a value of `decl` (whole string consumed,
 * ERANGE checked, finite floats, true/false/1/0/yes/no for bools, enum
 * names exactly, lists comma-separated with spaces trimmed) and checks the
 * declared range/choices. *out owns allocated parts; release with
 * keel_value_clear. err says what was expected (no location: the caller
 * prefixes it). */
int keel_param_parse(const keel_param_decl *decl, const char *text,
                     keel_value *out, keel_error *err);
/* The strict number grammar every INI value uses (manifests, templates):
 * whole string, no leading space, decimal only (no hex floats), finite;
 * subnormals accepted, overflow and total underflow refused. err may be
 * NULL. */
int keel_parse_double(const char *text, double *out, keel_error *err);
int keel_parse_int64(const char *text, int64_t *out, keel_error *err);

/* The declared default as a value (KEEL_EINVAL if REQUIRED or invalid). */
int keel_param_default(const keel_param_decl *decl, keel_value *out,
                       keel_error *err);
/* Checks a parsed numeric value (or each list element) against [lo, hi]. */
int keel_param_check_range(const keel_param_decl *decl, const keel_value *v,
                           double lo, double hi, keel_error *err);
/* Canonical text of a value (floats as shortest "%.17g"-exact text);
 * malloc'd, caller frees. */
char *keel_param_format(const keel_param_decl *decl, const keel_value *v);
void keel_value_clear(const keel_param_decl *decl, keel_value *v);
/* "bool", "int", ... */
const char *keel_param_type_name(keel_param_type t);

/* The candidate closest to `name` (edit distance at most 2 or a third of
 * its length), or NULL. */
const char *keel_did_you_mean(const char *name, const char *const *candidates,
                              size_t n);

/* Checks a whole declaration table: names valid and unique, types known,
 * min <= max, enum choices present, every default parses and lies in its
 * own range. err names the parameter. */
int keel_param_table_check(const keel_param_decl *decls, size_t n,
                           keel_error *err);

#endif
