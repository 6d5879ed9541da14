/* Fitted transform state as named arrays. JSON is the storage form so a
 * reviewer can read a bundle's means and vocabularies; doubles are written
 * with 17 significant digits, which strtod reads back to the same bits. */
#include "plugin/state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/status.h"
#include "keel/utf8.h"

typedef struct state_entry {
  char *key;
  int is_strings;
  size_t n;
  double *f64;
  char **strings;
} state_entry;

struct keel_state {
  state_entry *entries;
  size_t n, cap;
};

keel_state *keel_state_new(void)
{
  return calloc(1, sizeof(keel_state));
}

static void entry_clear(state_entry *e)
{
  free(e->key);
  free(e->f64);
  if (e->strings)
    for (size_t i = 0; i < e->n; i++)
      free(e->strings[i]);
  free(e->strings);
}

void keel_state_free(keel_state *st)
{
  if (!st)
    return;
  for (size_t i = 0; i < st->n; i++)
    entry_clear(&st->entries[i]);
  free(st->entries);
  free(st);
}

static const state_entry *find(const keel_state *st, const char *key)
{
  for (size_t i = 0; i < st->n; i++)
    if (strcmp(st->entries[i].key, key) == 0)
      return &st->entries[i];
  return NULL;
}

/* JSON strings must be UTF-8 (keel/utf8.h: the host's one rule). */
static int is_utf8(const char *s)
{
  size_t n = strlen(s);
  return keel_utf8_check(s, n) == n;
}

/* A new entry for key in *out (counted once the caller fills it), or the
 * KEEL_E* code (also when err is NULL: the code, not a guess). */
static int new_entry(keel_state *st, const char *key, state_entry **out,
                     keel_error *err)
{
  *out = NULL;
  if (!st || !key || !key[0])
    return keel_fail(err, KEEL_EINVAL, "state: a key is required");
  if (!is_utf8(key))
    return keel_fail(err, KEEL_EINVAL, "state: key is not valid UTF-8");
  if (find(st, key))
    return keel_fail(err, KEEL_EINVAL, "state: key '%s' written twice", key);
  if (st->n == st->cap) {
    size_t cap = st->cap ? 2 * st->cap : 8;
    state_entry *e = realloc(st->entries, cap * sizeof *e);
    if (!e)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    st->entries = e;
    st->cap = cap;
  }
  state_entry *e = &st->entries[st->n];
  memset(e, 0, sizeof *e);
  e->key = strdup(key);
  if (!e->key)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  *out = e;
  return KEEL_OK;
}

int keel_state_put_f64(keel_state *st, const char *key, const double *v,
                       size_t n, keel_error *err)
{
  state_entry *e;
  int rc = new_entry(st, key, &e, err);
  if (rc)
    return rc;
  e->f64 = malloc(n ? n * sizeof *e->f64 : 1);
  if (!e->f64) {
    entry_clear(e);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  if (n)
    memcpy(e->f64, v, n * sizeof *v);
  e->n = n;
  st->n++;
  return KEEL_OK;
}

int keel_state_put_strings(keel_state *st, const char *key,
                           const char *const *v, size_t n, keel_error *err)
{
  /* Checked first: the JSON form could not carry the string, and a
   * dropped item would shift every later one. */
  for (size_t i = 0; v && i < n; i++)
    if (v[i] && !is_utf8(v[i]))
      return keel_fail(err, KEEL_EINVAL,
                       "state: key '%s' item %zu is not valid UTF-8",
                       key ? key : "(null)", i + 1);
  state_entry *e;
  int rc = new_entry(st, key, &e, err);
  if (rc)
    return rc;
  e->is_strings = 1;
  e->strings = calloc(n ? n : 1, sizeof *e->strings);
  int ok = e->strings != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    e->strings[i] = strdup(v[i] ? v[i] : "");
    ok = e->strings[i] != NULL;
  }
  e->n = n;
  if (!ok) {
    entry_clear(e);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  st->n++;
  return KEEL_OK;
}

int keel_state_get_f64(const keel_state *st, const char *key, const double **v,
                       size_t *n, keel_error *err)
{
  const state_entry *e = find(st, key);
  if (!e || e->is_strings)
    return keel_fail(err, KEEL_ENOTFOUND, "state has no numbers under '%s'",
                     key);
  *v = e->f64;
  *n = e->n;
  return KEEL_OK;
}

int keel_state_get_strings(const keel_state *st, const char *key,
                           const char *const **v, size_t *n, keel_error *err)
{
  const state_entry *e = find(st, key);
  if (!e || !e->is_strings)
    return keel_fail(err, KEEL_ENOTFOUND, "state has no strings under '%s'",
                     key);
  *v = (const char *const *)e->strings;
  *n = e->n;
  return KEEL_OK;
}

/* JSON has no NaN or Inf: those are written as strings. */
static json_t *f64_json(double v)
{
  if (isnan(v))
    return json_string("NaN");
  if (isinf(v))
    return json_string(v > 0 ? "Infinity" : "-Infinity");
  return json_real(v);
}

/* NULL if any part cannot be built: never a JSON text missing an item. */
char *keel_state_to_json(const keel_state *st)
{
  json_t *arr = json_array();
  int ok = arr != NULL;
  for (size_t i = 0; ok && i < st->n; i++) {
    const state_entry *e = &st->entries[i];
    json_t *vals = json_array();
    ok = vals != NULL;
    for (size_t j = 0; ok && j < e->n; j++)
      ok =
          json_array_append_new(vals, e->is_strings ? json_string(e->strings[j])
                                                    : f64_json(e->f64[j])) == 0;
    json_t *entry = ok ? json_pack("{s:s, s:O}", "key", e->key,
                                   e->is_strings ? "strings" : "f64", vals)
                       : NULL;
    json_decref(vals);
    ok = entry && json_array_append_new(arr, entry) == 0;
  }
  if (!ok) {
    json_decref(arr);
    return NULL;
  }
  json_t *root = json_pack("{s:i, s:o}", "keel_state", 1, "entries", arr);
  char *text =
      root ? json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
  json_decref(root);
  return text;
}

static int json_f64(const json_t *v, double *out)
{
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return 1;
  }
  const char *s = json_string_value(v);
  if (!s)
    return 0;
  if (strcmp(s, "NaN") == 0)
    *out = NAN;
  else if (strcmp(s, "Infinity") == 0)
    *out = INFINITY;
  else if (strcmp(s, "-Infinity") == 0)
    *out = -INFINITY;
  else
    return 0;
  return 1;
}

int keel_state_from_json(const char *text, const char *name, keel_state **out,
                         keel_error *err)
{
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    return keel_fail(err, KEEL_EDATA, "%s:%d:%d: %s", name, jerr.line,
                     jerr.column, jerr.text);
  int rc = KEEL_OK;
  keel_state *st = keel_state_new();
  json_t *entries = json_object_get(root, "entries");
  if (!st || !json_is_array(entries) ||
      json_integer_value(json_object_get(root, "keel_state")) != 1) {
    rc = keel_fail(
        err, st ? KEEL_EDATA : KEEL_ENOMEM,
        "%s: not a keel state (expected {\"keel_state\":1, \"entries\":[...]})",
        name);
    goto out;
  }
  size_t i;
  json_t *e;
  keel_error sub = {0};
  json_array_foreach(entries, i, e)
  {
    const char *key = json_string_value(json_object_get(e, "key"));
    json_t *f = json_object_get(e, "f64"), *s = json_object_get(e, "strings");
    /* Exactly one of the two members, and it is an array. */
    if (!key || (f != NULL) == (s != NULL) || !json_is_array(f ? f : s)) {
      rc = keel_fail(err, KEEL_EDATA,
                     "%s: entry %zu needs a key and one of "
                     "f64 or strings",
                     name, i + 1);
      goto out;
    }
    size_t n = json_array_size(f ? f : s);
    if (f) {
      double *v = malloc(n ? n * sizeof *v : 1);
      if (!v) {
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
        goto out;
      }
      for (size_t j = 0; j < n; j++)
        if (!json_f64(json_array_get(f, j), &v[j])) {
          free(v);
          rc = keel_fail(err, KEEL_EDATA, "%s: '%s' item %zu is not a number",
                         name, key, j + 1);
          goto out;
        }
      rc = keel_state_put_f64(st, key, v, n, &sub);
      free(v);
    } else {
      const char **v = calloc(n ? n : 1, sizeof *v);
      if (!v) {
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
        goto out;
      }
      for (size_t j = 0; j < n; j++)
        if (!(v[j] = json_string_value(json_array_get(s, j)))) {
          free(v);
          rc = keel_fail(err, KEEL_EDATA, "%s: '%s' item %zu is not a string",
                         name, key, j + 1);
          goto out;
        }
      rc = keel_state_put_strings(st, key, v, n, &sub);
      free(v);
    }
    if (rc) { /* a duplicate or empty key: the file is at fault */
      rc = keel_fail(err, rc == KEEL_ENOMEM ? rc : KEEL_EDATA,
                     "%s: entry %zu: %s", name, i + 1, sub.message);
      goto out;
    }
  }
out:
  json_decref(root);
  if (rc) {
    keel_state_free(st);
    return rc;
  }
  *out = st;
  return KEEL_OK;
}
