/* [checks.column.NAME] sections of a template: one column's declared
 * bounds (docs/data-access.md, "Data checks"), merged down the extends
 * chain where a derived template may only tighten; and the copies a
 * template level and a run configuration own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/template.h"

/* Each bound: its key, whether it is a lower bound (a derived template may
 * raise it) or an upper one (lower it), and the smallest value allowed. */
static const struct {
  const char *key;
  int lower;
  double floor, ceil;
} bounds[KEEL_CB_N] = {
    [KEEL_CB_MIN] = {"min", 1, -INFINITY, INFINITY},
    [KEEL_CB_MAX] = {"max", 0, -INFINITY, INFINITY},
    [KEEL_CB_MAX_MISSING] = {"max_missing_fraction", 0, 0, 1},
    [KEEL_CB_MEAN_MIN] = {"mean_min", 1, -INFINITY, INFINITY},
    [KEEL_CB_MEAN_MAX] = {"mean_max", 0, -INFINITY, INFINITY},
    [KEEL_CB_STD_MIN] = {"std_min", 1, 0, INFINITY},
    [KEEL_CB_STD_MAX] = {"std_max", 0, 0, INFINITY},
    [KEEL_CB_PSI_MAX] = {"psi_max", 0, 0, INFINITY},
    [KEEL_CB_KS_MAX] = {"ks_max", 0, 0, 1},
};

const char *keel_column_bound_key(keel_column_bound b)
{
  return bounds[b].key;
}

static void free_strings(char **s, size_t n)
{
  for (size_t i = 0; s && i < n; i++)
    free(s[i]);
  free(s);
}

void keel_column_checks_free(keel_column_check *c, size_t n)
{
  for (size_t i = 0; c && i < n; i++) {
    free(c[i].name);
    free(c[i].file);
    free_strings(c[i].categories, c[i].n_categories);
  }
  free(c);
}

/* Splits "a, b, c" into trimmed, non-empty items (malloc'd). */
static int split_list(const char *v, char ***out, size_t *n)
{
  *out = NULL;
  *n = 0;
  size_t cap = 1;
  for (const char *p = v; *p; p++)
    cap += *p == ',';
  char **items = calloc(cap, sizeof *items);
  if (!items)
    return KEEL_ENOMEM;
  for (const char *p = v;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    if (!len || !(items[*n] = strndup(p, len))) {
      free_strings(items, *n);
      return len ? KEEL_ENOMEM : KEEL_EINVAL;
    }
    (*n)++;
    if (!end)
      break;
    p = end + 1;
  }
  *out = items;
  return KEEL_OK;
}

static int dup_one(const keel_column_check *in, keel_column_check *o)
{
  *o = *in;
  o->name = strdup(in->name);
  o->file = strdup(in->file);
  o->categories = NULL;
  o->n_categories = 0;
  if (!o->name || !o->file)
    return KEEL_ENOMEM;
  if (in->categories) {
    o->categories =
        calloc(in->n_categories ? in->n_categories : 1, sizeof *o->categories);
    if (!o->categories)
      return KEEL_ENOMEM;
    for (; o->n_categories < in->n_categories; o->n_categories++)
      if (!(o->categories[o->n_categories] =
                strdup(in->categories[o->n_categories])))
        return KEEL_ENOMEM;
  }
  return KEEL_OK;
}

int keel_column_checks_dup(const keel_column_check *in, size_t n,
                           keel_column_check **out)
{
  *out = NULL;
  if (!n)
    return KEEL_OK;
  keel_column_check *c = calloc(n, sizeof *c);
  if (!c)
    return KEEL_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (dup_one(&in[i], &c[i])) {
      keel_column_checks_free(c, i + 1);
      return KEEL_ENOMEM;
    }
  *out = c;
  return KEEL_OK;
}

/* The column's entry in t->checks, added (all bounds unset) when new. */
static keel_column_check *column_slot(keel_template *t, const char *name)
{
  keel_template_checks *k = &t->checks;
  for (size_t i = 0; i < k->n_columns; i++)
    if (strcmp(k->columns[i].name, name) == 0)
      return &k->columns[i];
  keel_column_check *grown =
      realloc(k->columns, (k->n_columns + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  k->columns = grown;
  keel_column_check *c = &grown[k->n_columns];
  memset(c, 0, sizeof *c);
  for (int b = 0; b < KEEL_CB_N; b++)
    c->bound[b] = NAN;
  if (!(c->name = strdup(name)))
    return NULL;
  k->n_columns++;
  return c;
}

/* A value of `key` that loosens the base's: the refusal names both. */
static int loosened(const keel_template *t, const keel_ini_section *sec,
                    const keel_ini_entry *e, const keel_column_check *base,
                    keel_error *err)
{
  return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                          "[%s] %s: '%s' loosens base template %s ([%s] at "
                          "%s:%d); expected a derived template to tighten, "
                          "never loosen, its base",
                          sec->name, e->key, e->value, t->base->name, sec->name,
                          base->file, base->line);
}

static int is_subset(char **a, size_t na, char **b, size_t nb)
{
  for (size_t i = 0; i < na; i++) {
    size_t j = 0;
    while (j < nb && strcmp(a[i], b[j]) != 0)
      j++;
    if (j == nb)
      return 0;
  }
  return 1;
}

static int set_categories(keel_template *t, const keel_ini_section *sec,
                          const keel_ini_entry *e, keel_column_check *c,
                          keel_error *err)
{
  char **items;
  size_t n;
  int rc = split_list(e->value, &items, &n);
  if (rc == KEEL_ENOMEM)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                            "[%s] categories: '%s'; expected a list of "
                            "values separated by ', ', none empty",
                            sec->name, e->value);
  if (c->categories && !is_subset(items, n, c->categories, c->n_categories)) {
    free_strings(items, n);
    return loosened(t, sec, e, c, err);
  }
  free_strings(c->categories, c->n_categories);
  c->categories = items;
  c->n_categories = n;
  return KEEL_OK;
}

int keel__template_parse_column(keel_template *t, const keel_ini_section *sec,
                                keel_error *err)
{
  const char *name = sec->name + strlen("checks.column.");
  if (!*name)
    return keel_config_fail(err, KEEL_EINVAL, t->ini->path, sec->line,
                            "[%s]: no column name; expected "
                            "[checks.column.NAME]",
                            sec->name);
  const char *keys[KEEL_CB_N + 1];
  for (int b = 0; b < KEEL_CB_N; b++)
    keys[b] = bounds[b].key;
  keys[KEEL_CB_N] = "categories";
  int rc = keel__template_check_keys(t->ini, sec, keys, KEEL_CB_N + 1, err);
  if (rc)
    return rc;
  keel_column_check *c = column_slot(t, name);
  if (!c)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    if (strcmp(e->key, "categories") == 0) {
      if ((rc = set_categories(t, sec, e, c, err)))
        return rc;
      continue;
    }
    int b = 0;
    while (strcmp(bounds[b].key, e->key) != 0)
      b++;
    double d;
    if (keel_parse_double(e->value, &d, NULL) || d < bounds[b].floor ||
        d > bounds[b].ceil) {
      if (bounds[b].ceil == 1)
        return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                                "[%s] %s: '%s'; expected a number in 0 .. 1",
                                sec->name, e->key, e->value);
      return keel_config_fail(err, KEEL_EINVAL, t->ini->path, e->line,
                              "[%s] %s: '%s'; expected a %snumber", sec->name,
                              e->key, e->value,
                              bounds[b].floor == 0 ? "non-negative " : "");
    }
    double old = c->bound[b];
    if (!isnan(old) && (bounds[b].lower ? d < old : d > old))
      return loosened(t, sec, e, c, err);
    c->bound[b] = d;
  }
  /* Pairs that no data could meet are a mistake in the template. */
  static const int pairs[][2] = {{KEEL_CB_MIN, KEEL_CB_MAX},
                                 {KEEL_CB_MEAN_MIN, KEEL_CB_MEAN_MAX},
                                 {KEEL_CB_STD_MIN, KEEL_CB_STD_MAX}};
  for (size_t p = 0; p < 3; p++)
    if (c->bound[pairs[p][0]] > c->bound[pairs[p][1]])
      return keel_config_fail(
          err, KEEL_EINVAL, t->ini->path, sec->line,
          "[%s] %s = %g is above %s = %g; expected %s <= %s", sec->name,
          bounds[pairs[p][0]].key, c->bound[pairs[p][0]],
          bounds[pairs[p][1]].key, c->bound[pairs[p][1]],
          bounds[pairs[p][0]].key, bounds[pairs[p][1]].key);
  free(c->file);
  if (!(c->file = strdup(t->ini->path)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  c->line = sec->line;
  return KEEL_OK;
}
