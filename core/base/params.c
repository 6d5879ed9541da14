/* Typed parameter values. Everything a manifest says about a parameter goes
 * through keel_param_parse, so one strict parser serves plugins and the
 * host's own sections alike. */
#include "base/params.h"

#include "base/number.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "keel/utf8.h"

const char *keel_param_type_name(keel_param_type t)
{
  switch (t) {
  case KEEL_PARAM_BOOL: return "bool";
  case KEEL_PARAM_INT: return "int";
  case KEEL_PARAM_FLOAT: return "float";
  case KEEL_PARAM_STRING: return "string";
  case KEEL_PARAM_ENUM: return "enum";
  case KEEL_PARAM_INT_LIST: return "int list";
  case KEEL_PARAM_STRING_LIST: return "string list";
  }
  return "unknown";
}

static char *trimmed_copy(const char *s, size_t n)
{
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  char *out = malloc(n + 1);
  if (out) {
    memcpy(out, s, n);
    out[n] = '\0';
  }
  return out;
}

int keel_parse_int64(const char *text, int64_t *out, keel_error *err)
{
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || isspace((unsigned char)text[0]))
    return keel_fail(err, KEEL_EINVAL, "'%s' is not an integer", text);
  if (errno == ERANGE)
    return keel_fail(err, KEEL_ERANGE, "'%s' does not fit in 64 bits", text);
  *out = v;
  return KEEL_OK;
}

/* Subnormal results are valid numbers: glibc flags them with ERANGE, so only
 * overflow (a result of +-HUGE_VAL) and total underflow (a nonzero literal
 * that became 0) are refused. */
int keel_parse_double(const char *text, double *out, keel_error *err)
{
  /* strtod also reads hex floats ("0x1p-4"); manifests take decimals. */
  if (strpbrk(text, "xX"))
    return keel_fail(err, KEEL_EINVAL, "'%s' is not a decimal number", text);
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || isspace((unsigned char)text[0]))
    return keel_fail(err, KEEL_EINVAL, "'%s' is not a number", text);
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
    return keel_fail(err, KEEL_ERANGE, "'%s' overflows a double", text);
  if (errno == ERANGE && v == 0.0)
    return keel_fail(err, KEEL_ERANGE,
                     "'%s' is too small for a double (it would read as 0)",
                     text);
  if (!isfinite(v))
    return keel_fail(err, KEEL_EINVAL, "'%s' is not a finite number", text);
  *out = v;
  return KEEL_OK;
}

static int parse_bool(const char *text, int64_t *out, keel_error *err)
{
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcmp(text, yes[i]) == 0) {
      *out = 1;
      return KEEL_OK;
    }
    if (strcmp(text, no[i]) == 0) {
      *out = 0;
      return KEEL_OK;
    }
  }
  return keel_fail(err, KEEL_EINVAL,
                   "'%s' is not a bool; expected true or false", text);
}

static int range_fail(const keel_param_decl *d, double v, double lo, double hi,
                      keel_error *err)
{
  if (d->type == KEEL_PARAM_FLOAT)
    return keel_fail(err, KEEL_ERANGE,
                     "%.17g is outside the allowed range [%g, %g]", v, lo, hi);
  return keel_fail(err, KEEL_ERANGE,
                   "%.0f is outside the allowed range [%.0f, %.0f]", v, lo, hi);
}

int keel_param_check_range(const keel_param_decl *decl, const keel_value *v,
                           double lo, double hi, keel_error *err)
{
  switch (decl->type) {
  case KEEL_PARAM_INT:
    if ((double)v->i < lo || (double)v->i > hi)
      return range_fail(decl, (double)v->i, lo, hi, err);
    break;
  case KEEL_PARAM_FLOAT:
    if (!(v->f >= lo && v->f <= hi))
      return range_fail(decl, v->f, lo, hi, err);
    break;
  case KEEL_PARAM_INT_LIST:
    for (size_t i = 0; i < v->n; i++)
      if ((double)v->ints[i] < lo || (double)v->ints[i] > hi)
        return range_fail(decl, (double)v->ints[i], lo, hi, err);
    break;
  default: break;
  }
  return KEEL_OK;
}

/* Splits a comma-separated list into trimmed, non-empty items. "" is the
 * empty list. */
static int split_list(const char *text, char ***items, size_t *n,
                      keel_error *err)
{
  *items = NULL;
  *n = 0;
  char *all = trimmed_copy(text, strlen(text));
  if (!all)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (all[0] == '\0') {
    free(all);
    return KEEL_OK;
  }
  size_t count = 1;
  for (const char *p = all; *p; p++)
    count += *p == ',';
  char **out = calloc(count, sizeof *out);
  if (!out) {
    free(all);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  const char *start = all;
  for (size_t i = 0; i < count; i++) {
    const char *comma = strchr(start, ',');
    size_t len = comma ? (size_t)(comma - start) : strlen(start);
    out[i] = trimmed_copy(start, len);
    if (!out[i] || out[i][0] == '\0') {
      int code = out[i]
                     ? keel_fail(err, KEEL_EINVAL,
                                 "list '%s' has an empty item %zu", text, i + 1)
                     : keel_fail(err, KEEL_ENOMEM, "out of memory");
      for (size_t j = 0; j <= i; j++)
        free(out[j]);
      free(out);
      free(all);
      return code;
    }
    start = comma ? comma + 1 : start + len;
  }
  free(all);
  *items = out;
  *n = count;
  return KEEL_OK;
}

static void free_items(char **items, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(items[i]);
  free(items);
}

static int parse_typed(const keel_param_decl *d, const char *text,
                       keel_value *out, keel_error *err)
{
  int rc = KEEL_OK;
  memset(out, 0, sizeof *out);
  switch (d->type) {
  case KEEL_PARAM_BOOL: return parse_bool(text, &out->i, err);
  case KEEL_PARAM_INT:
    rc = keel_parse_int64(text, &out->i, err);
    return rc ? rc : keel_param_check_range(d, out, d->min, d->max, err);
  case KEEL_PARAM_FLOAT:
    rc = keel_parse_double(text, &out->f, err);
    return rc ? rc : keel_param_check_range(d, out, d->min, d->max, err);
  case KEEL_PARAM_STRING:
    if ((d->flags & KEEL_PARAM_REQUIRED) && text[0] == '\0')
      return keel_fail(err, KEEL_EINVAL, "must not be empty");
    out->s = strdup(text);
    return out->s ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
  case KEEL_PARAM_ENUM: {
    if (!d->choices)
      return keel_fail(err, KEEL_EINVAL, "enum without choices");
    size_t n = 0;
    for (; d->choices[n]; n++)
      if (strcmp(d->choices[n], text) == 0) {
        out->i = (int64_t)n;
        out->s = d->choices[n];
        return KEEL_OK;
      }
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
               d->choices[i]);
    }
    const char *guess = keel_did_you_mean(text, d->choices, n);
    if (guess)
      return keel_fail(err, KEEL_EINVAL,
                       "'%s' is not one of: %s (did you mean '%s'?)", text,
                       list, guess);
    return keel_fail(err, KEEL_EINVAL, "'%s' is not one of: %s", text, list);
  }
  case KEEL_PARAM_INT_LIST: {
    char **items;
    size_t n;
    rc = split_list(text, &items, &n, err);
    if (rc)
      return rc;
    int64_t *ints = n ? calloc(n, sizeof *ints) : NULL;
    if (n && !ints) {
      free_items(items, n);
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == KEEL_OK; i++)
      rc = keel_parse_int64(items[i], &ints[i], err);
    free_items(items, n);
    out->ints = ints;
    out->n = n;
    if (rc == KEEL_OK)
      rc = keel_param_check_range(d, out, d->min, d->max, err);
    if (rc) {
      free(ints);
      memset(out, 0, sizeof *out);
    }
    return rc;
  }
  case KEEL_PARAM_STRING_LIST: {
    char **items;
    size_t n;
    rc = split_list(text, &items, &n, err);
    if (rc)
      return rc;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++)
        if (strcmp(items[i], items[j]) == 0) {
          rc = keel_fail(err, KEEL_EINVAL, "list names '%s' twice", items[i]);
          free_items(items, n);
          return rc;
        }
    out->strings = (const char *const *)items;
    out->n = n;
    return KEEL_OK;
  }
  }
  return keel_fail(err, KEEL_EINVAL, "unknown parameter type %d", (int)d->type);
}

int keel_param_parse(const keel_param_decl *decl, const char *text,
                     keel_value *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  int rc = text ? parse_typed(decl, text, out, err)
                : keel_fail(err, KEEL_EINVAL, "no value");
  if (rc == KEEL_OK)
    return rc;
  /* Say what was expected, in the parameter's own terms. */
  keel_error_prefix(err, "%s %s", keel_param_type_name(decl->type), decl->name);
  return rc;
}

int keel_param_default(const keel_param_decl *decl, keel_value *out,
                       keel_error *err)
{
  memset(out, 0, sizeof *out);
  if (decl->flags & KEEL_PARAM_REQUIRED)
    return keel_fail(err, KEEL_EINVAL, "parameter '%s' is required",
                     decl->name);
  switch (decl->type) {
  case KEEL_PARAM_BOOL:
    if (decl->def_int != 0 && decl->def_int != 1)
      return keel_fail(err, KEEL_EINVAL, "bool %s: default %lld is not 0 or 1",
                       decl->name, (long long)decl->def_int);
    out->i = decl->def_int;
    return KEEL_OK;
  case KEEL_PARAM_INT: out->i = decl->def_int; break;
  case KEEL_PARAM_FLOAT:
    if (!isfinite(decl->def_float))
      return keel_fail(err, KEEL_EINVAL, "float %s: default is not finite",
                       decl->name);
    out->f = decl->def_float;
    break;
  default:
    return keel_param_parse(decl, decl->def_text ? decl->def_text : "", out,
                            err);
  }
  int rc = keel_param_check_range(decl, out, decl->min, decl->max, err);
  if (rc)
    keel_error_prefix(err, "%s %s: default", keel_param_type_name(decl->type),
                      decl->name);
  return rc;
}

char *keel_param_format(const keel_param_decl *decl, const keel_value *v)
{
  char buf[64];
  switch (decl->type) {
  case KEEL_PARAM_BOOL: return strdup(v->i ? "true" : "false");
  case KEEL_PARAM_INT:
    snprintf(buf, sizeof buf, "%lld", (long long)v->i);
    return strdup(buf);
  case KEEL_PARAM_FLOAT:
    keel_format_double(v->f, buf, sizeof buf);
    return strdup(buf);
  case KEEL_PARAM_STRING:
  case KEEL_PARAM_ENUM: return strdup(v->s ? v->s : "");
  case KEEL_PARAM_INT_LIST:
  case KEEL_PARAM_STRING_LIST: {
    size_t cap = 1;
    for (size_t i = 0; i < v->n; i++)
      cap +=
          (decl->type == KEEL_PARAM_INT_LIST ? 24 : strlen(v->strings[i])) + 1;
    char *out = malloc(cap);
    if (!out)
      return NULL;
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < v->n; i++) {
      if (decl->type == KEEL_PARAM_INT_LIST)
        used += (size_t)snprintf(out + used, cap - used, "%s%lld", i ? "," : "",
                                 (long long)v->ints[i]);
      else
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "",
                                 v->strings[i]);
    }
    return out;
  }
  }
  return strdup("?");
}

void keel_value_clear(const keel_param_decl *decl, keel_value *v)
{
  switch (decl->type) {
  case KEEL_PARAM_STRING: free((char *)v->s); break;
  case KEEL_PARAM_INT_LIST: free((int64_t *)v->ints); break;
  case KEEL_PARAM_STRING_LIST: free_items((char **)v->strings, v->n); break;
  default: break;
  }
  memset(v, 0, sizeof *v);
}

static size_t edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return (size_t)-1;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, (lb + 1) * sizeof *prev);
  }
  return prev[lb];
}

const char *keel_did_you_mean(const char *name, const char *const *candidates,
                              size_t n)
{
  size_t len = strlen(name);
  size_t limit = len / 3 > 2 ? len / 3 : 2;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i])
      continue;
    size_t d = edit_distance(name, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}

static int valid_param_name(const char *s)
{
  if (!s || !islower((unsigned char)s[0]) || strlen(s) > 47)
    return 0;
  for (const char *p = s; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return 0;
  return 1;
}

static int keel__utf8_ok(const char *s)
{
  size_t n = strlen(s);
  return keel_utf8_check(s, n) == n;
}

int keel_param_table_check(const keel_param_decl *decls, size_t n,
                           keel_error *err)
{
  if (n && !decls)
    return keel_fail(err, KEEL_EPLUGIN, "n_params is %zu but the table is NULL",
                     n);
  for (size_t i = 0; i < n; i++) {
    const keel_param_decl *d = &decls[i];
    if (!valid_param_name(d->name))
      return keel_fail(err, KEEL_EPLUGIN,
                       "parameter %zu has an invalid name '%s' (expected "
                       "[a-z][a-z0-9_]*, at most 47 bytes)",
                       i + 1, d->name ? d->name : "(null)");
    for (size_t j = 0; j < i; j++)
      if (strcmp(decls[j].name, d->name) == 0)
        return keel_fail(err, KEEL_EPLUGIN, "duplicate parameter '%s'",
                         d->name);
    if (d->type < KEEL_PARAM_BOOL || d->type > KEEL_PARAM_STRING_LIST)
      return keel_fail(err, KEEL_EPLUGIN, "parameter '%s' has unknown type %d",
                       d->name, (int)d->type);
    int numeric = d->type == KEEL_PARAM_INT || d->type == KEEL_PARAM_FLOAT ||
                  d->type == KEEL_PARAM_INT_LIST;
    if (numeric && (isnan(d->min) || isnan(d->max) || d->min > d->max))
      return keel_fail(err, KEEL_EPLUGIN,
                       "parameter '%s' has an empty range [%g, %g]", d->name,
                       d->min, d->max);
    if (d->type == KEEL_PARAM_ENUM && (!d->choices || !d->choices[0]))
      return keel_fail(err, KEEL_EPLUGIN, "enum parameter '%s' has no choices",
                       d->name);
    if (!d->doc || !d->doc[0])
      return keel_fail(err, KEEL_EPLUGIN, "parameter '%s' has no doc line",
                       d->name);
    /* its texts reach JSON (keel plugins --json, config.json) */
    const char *bad = !keel__utf8_ok(d->doc)                       ? "doc"
                      : d->unit && !keel__utf8_ok(d->unit)         ? "unit"
                      : d->def_text && !keel__utf8_ok(d->def_text) ? "default"
                                                                   : NULL;
    for (size_t k = 0; !bad && d->choices && d->choices[k]; k++)
      if (!keel__utf8_ok(d->choices[k]))
        bad = "choice";
    if (bad)
      return keel_fail(err, KEEL_EPLUGIN,
                       "parameter '%s': its %s is not valid UTF-8 (the host "
                       "takes only UTF-8 text from plugins)",
                       d->name, bad);
    if (d->flags & KEEL_PARAM_REQUIRED)
      continue;
    keel_value v;
    keel_error sub = {0};
    int rc = keel_param_default(d, &v, &sub);
    if (rc)
      return keel_fail(err, KEEL_EPLUGIN,
                       "default of parameter '%s' is invalid: %s", d->name,
                       sub.message);
    keel_value_clear(d, &v);
  }
  return KEEL_OK;
}
