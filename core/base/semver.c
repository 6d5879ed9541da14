/* Semantic versions and ranges (see semver.h). */
#include "base/semver.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"

#define SEMVER_PART_MAX 999999999ull

/* Reads a numeric part without leading zeros; returns chars used or 0. */
static size_t parse_part(const char *s, uint64_t *out)
{
  size_t n = 0;
  uint64_t v = 0;
  while (isdigit((unsigned char)s[n])) {
    v = v * 10 + (uint64_t)(s[n] - '0');
    n++;
    if (v > SEMVER_PART_MAX)
      return 0;
  }
  if (n == 0 || (n > 1 && s[0] == '0'))
    return 0;
  *out = v;
  return n;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when `numeric_strict`. Returns chars used or 0. */
static size_t parse_idents(const char *s, int numeric_strict)
{
  size_t i = 0;
  for (;;) {
    size_t start = i;
    int all_digits = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '-') {
      if (!isdigit((unsigned char)s[i]))
        all_digits = 0;
      i++;
    }
    if (i == start)
      return 0;
    if (numeric_strict && all_digits && i - start > 1 && s[start] == '0')
      return 0;
    if (s[i] != '.')
      return i;
    i++;
  }
}

/* Parses "MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]" from s (stopping at a blank
 * or the end); *nparts gets how many numeric parts were given. Returns the
 * chars used or 0 when malformed. */
static size_t parse_version(const char *s, keel_semver *v, int *nparts)
{
  memset(v, 0, sizeof *v);
  uint64_t parts[3] = {0, 0, 0};
  size_t i = 0;
  int n = 0;
  for (;;) {
    size_t used = parse_part(s + i, &parts[n]);
    if (!used)
      return 0;
    i += used;
    n++;
    if (n == 3 || s[i] != '.')
      break;
    i++;
  }
  v->major = parts[0];
  v->minor = parts[1];
  v->patch = parts[2];
  *nparts = n;
  if (s[i] == '-') {
    if (n != 3)
      return 0;
    size_t used = parse_idents(s + i + 1, 1);
    if (!used || used >= sizeof v->pre)
      return 0;
    memcpy(v->pre, s + i + 1, used);
    v->pre[used] = '\0';
    i += 1 + used;
  }
  if (s[i] == '+') {
    if (n != 3)
      return 0;
    size_t used = parse_idents(s + i + 1, 0);
    if (!used)
      return 0;
    i += 1 + used;
  }
  return i;
}

int keel_semver_parse(const char *text, keel_semver *out, keel_error *err)
{
  int nparts = 0;
  size_t used = text ? parse_version(text, out, &nparts) : 0;
  if (!used || text[used] != '\0' || nparts != 3)
    return keel_fail(err, KEEL_EINVAL,
                     "version '%s' is not a semantic version; expected "
                     "MAJOR.MINOR.PATCH like 1.2.0",
                     text ? text : "(null)");
  return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
  return (a > b) - (a < b);
}

/* Pre-release precedence: identifiers compared left to right, numeric ones
 * numerically and below alphanumeric ones; a shorter list is lower. */
static int compare_pre(const char *a, const char *b)
{
  if (!*a || !*b)
    return (*a == '\0') - (*b == '\0'); /* no pre-release ranks higher */
  while (*a || *b) {
    if (!*a)
      return -1;
    if (!*b)
      return 1;
    size_t na = strcspn(a, "."), nb = strcspn(b, ".");
    int da = strspn(a, "0123456789") >= na;
    int db = strspn(b, "0123456789") >= nb;
    int c;
    if (da && db) {
      /* no leading zeros: a longer number is larger */
      c = (na > nb) - (na < nb);
      if (!c) {
        int s = strncmp(a, b, na);
        c = (s > 0) - (s < 0);
      }
    } else if (da != db)
      c = da ? -1 : 1;
    else {
      size_t m = na < nb ? na : nb;
      c = strncmp(a, b, m);
      c = c ? (c > 0 ? 1 : -1) : (na > nb) - (na < nb);
    }
    if (c)
      return c;
    a += na + (a[na] == '.');
    b += nb + (b[nb] == '.');
  }
  return 0;
}

int keel_semver_compare(const keel_semver *a, const keel_semver *b)
{
  int c = cmp_u64(a->major, b->major);
  if (!c)
    c = cmp_u64(a->minor, b->minor);
  if (!c)
    c = cmp_u64(a->patch, b->patch);
  if (!c)
    c = compare_pre(a->pre, b->pre);
  return c;
}

/* Does v satisfy one comparator? */
static int comparator_holds(const char *op, const keel_semver *bound,
                            int nparts, const keel_semver *v)
{
  int c = keel_semver_compare(v, bound);
  if (strcmp(op, ">=") == 0)
    return c >= 0;
  if (strcmp(op, ">") == 0)
    return c > 0;
  if (strcmp(op, "<=") == 0)
    return c <= 0;
  if (strcmp(op, "<") == 0)
    return c < 0;
  if (strcmp(op, "=") == 0 || op[0] == '\0')
    return c == 0;
  keel_semver upper = {0};
  if (op[0] == '^') {
    if (bound->major > 0 || nparts == 1)
      upper.major = bound->major + 1;
    else if (bound->minor > 0 || nparts == 2)
      upper.minor = bound->minor + 1;
    else
      upper.patch = bound->patch + 1;
  } else { /* '~' */
    upper.major = bound->major;
    if (nparts == 1)
      upper.major++;
    else
      upper.minor = bound->minor + 1;
  }
  return c >= 0 && keel_semver_compare(v, &upper) < 0;
}

/* Walks a range; with v != NULL also evaluates it into *match. */
static int walk_range(const char *range, const keel_semver *v, int *match,
                      keel_error *err)
{
  static const char *const ops[] = {">=", "<=", ">", "<", "=", "^", "~"};
  const char *p = range;
  int any = 0;       /* some alternative held */
  int alt_holds = 1; /* every comparator so far in this alternative */
  int alt_terms = 0;
  while (isspace((unsigned char)*p))
    p++;
  if (*p == '\0')
    return keel_fail(err, KEEL_EINVAL,
                     "empty version range; expected comparators like "
                     "'>=1.2 <2'");
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0' || (p[0] == '|' && p[1] == '|')) {
      if (alt_terms == 0)
        return keel_fail(err, KEEL_EINVAL,
                         "version range '%s' has an empty alternative; "
                         "expected comparators around '||'",
                         range);
      if (alt_holds)
        any = 1;
      if (*p == '\0')
        break;
      p += 2;
      alt_holds = 1;
      alt_terms = 0;
      continue;
    }
    if (*p == '*' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t')) {
      p++;
      alt_terms++;
      continue;
    }
    const char *op = "";
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
      size_t n = strlen(ops[i]);
      if (strncmp(p, ops[i], n) == 0) {
        op = ops[i];
        p += n;
        break;
      }
    }
    while (*op && (*p == ' ' || *p == '\t'))
      p++;
    keel_semver bound;
    int nparts = 0;
    size_t used = parse_version(p, &bound, &nparts);
    if (!used || (p[used] != '\0' && p[used] != ' ' && p[used] != '\t' &&
                  p[used] != '|'))
      return keel_fail(err, KEEL_EINVAL,
                       "version range '%s': cannot read '%s'; expected "
                       "comparators like '>=1.2 <2', '^1.2', '~1.2', "
                       "'1.2.3' or '*'",
                       range, p);
    p += used;
    alt_terms++;
    if (v && !comparator_holds(op, &bound, nparts, v))
      alt_holds = 0;
  }
  if (match)
    *match = any;
  return 0;
}

int keel_semver_range_check(const char *range, keel_error *err)
{
  return walk_range(range, NULL, NULL, err);
}

int keel_semver_satisfies(const char *version, const char *range, int *match,
                          keel_error *err)
{
  keel_semver v;
  *match = 0;
  int rc = keel_semver_parse(version, &v, err);
  if (rc)
    return rc;
  return walk_range(range, &v, match, err);
}
