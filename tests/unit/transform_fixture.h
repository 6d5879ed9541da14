/* Helpers for the transform plugin tests (tests/unit/test_transform_*.c):
 * load a built transform, set its parameters from text (through the
 * host's parameter parser, as a manifest would), build small tables and
 * schemas with the host's table code, fit, round-trip the fitted state
 * through JSON, and compare tables bit for bit. Header-only (static
 * inline), so each test program stays one file plus test_util.c. */
#ifndef KEEL_TEST_TRANSFORM_FIXTURE_H
#define KEEL_TEST_TRANSFORM_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "plugin/state.h"
#include "plugin/table.h"
#include "test_util.h"

#define TT_MAX_PARAMS 64

/* A loaded transform with its own editable parameter values. The value
 * array and the defaults in it belong to test_util (freed at exit); the
 * values tt_set parsed belong to this struct (owned[i]) until tt_done. */
typedef struct tt_tx {
  const keel_loaded_plugin *p;
  const keel_transform_api *api;
  keel_value *v;
  unsigned char owned[TT_MAX_PARAMS];
} tt_tx;

static inline tt_tx tt_load(const char *name)
{
  tt_tx t = {0};
  t.p = keel_test_plugin(KEEL_KIND_TRANSFORM, name);
  if (t.p != NULL) {
    t.api = t.p->api;
    t.v = keel_test_default_values(t.p);
  }
  return t;
}

/* Releases the values tt_set parsed (test_util frees the defaults and
 * the array at exit; the plugin stays loaded). */
static inline void tt_done(tt_tx *t)
{
  if (t->p == NULL || t->v == NULL)
    return;
  for (size_t i = 0; i < t->p->desc.n_params && i < TT_MAX_PARAMS; i++)
    if (t->owned[i]) {
      keel_value_clear(&t->p->desc.params[i], &t->v[i]);
      t->owned[i] = 0;
    }
  t->v = NULL;
}

/* Sets parameter `name` from manifest text; returns the parse status. */
static inline int tt_set(tt_tx *t, const char *name, const char *text)
{
  for (size_t i = 0; i < t->p->desc.n_params; i++) {
    const keel_param_decl *d = &t->p->desc.params[i];
    if (strcmp(d->name, name) != 0)
      continue;
    keel_error err = {0};
    keel_value nv = {0};
    int rc = keel_param_parse(d, text, &nv, &err);
    if (rc != KEEL_OK) {
      fprintf(stderr, "param %s=%s: %s\n", name, text, err.message);
      return rc;
    }
    CU_ASSERT_FATAL(i < TT_MAX_PARAMS);
    if (t->owned[i]) /* a default is test_util's to free */
      keel_value_clear(d, &t->v[i]);
    t->v[i] = nv;
    t->owned[i] = 1;
    return KEEL_OK;
  }
  fprintf(stderr, "no parameter %s\n", name);
  CU_FAIL("unknown parameter in test");
  return KEEL_EINVAL;
}

/* Runs schema; *out must be freed with keel_schema_free. */
static inline int tt_schema(const tt_tx *t, const keel_schema *in,
                            keel_schema *out, keel_error *err)
{
  keel_schema_init(out);
  memset(err, 0, sizeof *err);
  return t->api->schema(keel_test_host(), t->v, in, out, err);
}

/* Runs fit (when the plugin has one) into a fresh state in *st. */
static inline int tt_fit(const tt_tx *t, const keel_table *train,
                         keel_state **st, keel_error *err)
{
  memset(err, 0, sizeof *err);
  *st = keel_state_new();
  if (t->api->fit == NULL)
    return KEEL_OK;
  return t->api->fit(keel_test_host(), t->v, train, *st, err);
}

static inline int tt_apply(const tt_tx *t, const keel_state *st,
                           const keel_table *in, keel_table **out,
                           keel_error *err)
{
  memset(err, 0, sizeof *err);
  *out = NULL;
  return t->api->apply(keel_test_host(), t->v, st, in, out, err);
}

/* A copy of st made by writing it as JSON and reading it back. */
static inline keel_state *tt_reload(const keel_state *st)
{
  char *json = keel_state_to_json(st);
  CU_ASSERT_PTR_NOT_NULL_FATAL(json);
  keel_state *back = NULL;
  keel_error err = {0};
  int rc = keel_state_from_json(json, "state.json", &back, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "reload: %s\n%s\n", err.message, json);
  free(json);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  return back;
}

/* ---- building inputs -------------------------------------------------- */

static inline void tt_schema_add(keel_schema *s, const char *name,
                                 keel_col_type type, uint32_t flags)
{
  CU_ASSERT_EQUAL_FATAL(keel_schema_add(s, name, type, flags, NULL), KEEL_OK);
}

/* A NUMERIC (or DATE) column; rows where x is NAN and miss is NULL, or
 * where miss[r] is set, are missing (their value left 0). */
static inline void tt_add_num(keel_table *t, const char *name,
                              keel_col_type type, const double *x,
                              const uint8_t *miss)
{
  keel_column *c = keel_table_add(t, name, type, NULL, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  for (size_t r = 0; r < t->n_rows; r++) {
    int m = miss ? miss[r] != 0 : isnan(x[r]);
    c->missing[r] = (uint8_t)m;
    c->num[r] = m ? 0.0 : x[r];
  }
}

/* A CATEGORICAL column; code -1 means missing. */
static inline void tt_add_cat(keel_table *t, const char *name,
                              const char *const *dict, size_t n_dict,
                              const int *codes)
{
  keel_column *c =
      keel_table_add(t, name, KEEL_COL_CATEGORICAL, dict, n_dict, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  for (size_t r = 0; r < t->n_rows; r++) {
    c->missing[r] = codes[r] < 0;
    c->code[r] = codes[r] < 0 ? 0 : codes[r];
  }
}

/* A TEXT column; NULL means missing. */
static inline void tt_add_text(keel_table *t, const char *name,
                               const char *const *s)
{
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      keel_table_add(t, name, KEEL_COL_TEXT, NULL, 0, NULL));
  size_t col = t->n_cols - 1;
  for (size_t r = 0; r < t->n_rows; r++) {
    if (s[r] == NULL)
      t->cols[col].missing[r] = 1;
    else
      CU_ASSERT_EQUAL(keel_table_text_set(t, col, r, s[r], strlen(s[r]), NULL),
                      KEEL_OK);
  }
}

/* ---- checking outputs ------------------------------------------------- */

static inline const keel_column *tt_col(const keel_table *t, const char *name)
{
  int c = keel_table_find(t, name);
  if (c < 0) {
    fprintf(stderr, "no column '%s' in output\n", name);
    return NULL;
  }
  return &t->cols[c];
}

/* True when the message contains every one of the NULL-ended needles. */
static inline int tt_says(const keel_error *err, ...)
{
  va_list ap;
  va_start(ap, err);
  int ok = 1;
  for (const char *s = va_arg(ap, const char *); s != NULL;
       s = va_arg(ap, const char *))
    if (strstr(err->message, s) == NULL) {
      fprintf(stderr, "message lacks '%s': %s\n", s, err->message);
      ok = 0;
    }
  va_end(ap);
  return ok;
}

/* True when the message does not start with "name: ": the host puts the
 * plugin's name in front, so the plugin must not (one prefix). */
static inline int tt_no_prefix(const keel_error *err, const char *name)
{
  size_t n = strlen(name);
  if (strncmp(err->message, name, n) == 0 &&
      strncmp(err->message + n, ": ", 2) == 0) {
    fprintf(stderr, "message starts with its plugin's name: %s\n",
            err->message);
    return 0;
  }
  return 1;
}

/* Bit-identical tables: names, types, dictionaries, masks and values. */
static inline int tt_same_table(const keel_table *a, const keel_table *b)
{
  if (a->n_rows != b->n_rows || a->n_cols != b->n_cols)
    return 0;
  size_t n = a->n_rows;
  for (size_t c = 0; c < a->n_cols; c++) {
    const keel_column *x = &a->cols[c], *y = &b->cols[c];
    if (strcmp(x->name, y->name) != 0 || x->type != y->type ||
        memcmp(x->missing, y->missing, n) != 0)
      return 0;
    if (x->num && (!y->num || memcmp(x->num, y->num, n * sizeof *x->num)))
      return 0;
    if (x->code && (!y->code || memcmp(x->code, y->code, n * sizeof *x->code)))
      return 0;
    if (x->n_dict != y->n_dict)
      return 0;
    for (size_t d = 0; d < x->n_dict; d++)
      if (strcmp(x->dict[d], y->dict[d]) != 0)
        return 0;
  }
  return 1;
}

/* Asserts names of the output (or schema) columns, in order. */
static inline void tt_expect_names(const keel_schema *s,
                                   const char *const *names, size_t n)
{
  CU_ASSERT_EQUAL_FATAL(s->n_cols, n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(s->cols[i].name, names[i]) != 0) {
      fprintf(stderr, "column %zu is '%s', expected '%s'\n", i, s->cols[i].name,
              names[i]);
      CU_FAIL("column name");
    }
}

static inline void tt_expect_table_names(const keel_table *t,
                                         const char *const *names, size_t n)
{
  CU_ASSERT_EQUAL_FATAL(t->n_cols, n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(t->cols[i].name, names[i]) != 0) {
      fprintf(stderr, "column %zu is '%s', expected '%s'\n", i, t->cols[i].name,
              names[i]);
      CU_FAIL("column name");
    }
}

/* Checks that apply's output has the schema `schema` declares for the
 * input's actual schema: same names and types, and no flag the
 * declaration does not allow. */
static inline void tt_check_declared(const tt_tx *t, const keel_table *in,
                                     const keel_table *out)
{
  keel_schema sin, sdecl, sout;
  keel_error err;
  keel_schema_init(&sin);
  keel_schema_init(&sout);
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(in, &sin, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(out, &sout, &err), KEEL_OK);
  int rc = tt_schema(t, &sin, &sdecl, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "schema: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  CU_ASSERT_EQUAL(sdecl.n_cols, sout.n_cols);
  for (size_t i = 0; i < sdecl.n_cols && i < sout.n_cols; i++) {
    if (strcmp(sdecl.cols[i].name, sout.cols[i].name) != 0 ||
        sdecl.cols[i].type != sout.cols[i].type ||
        (sout.cols[i].flags & ~sdecl.cols[i].flags) != 0) {
      fprintf(stderr, "declared %s/%d/%u, actual %s/%d/%u\n",
              sdecl.cols[i].name, (int)sdecl.cols[i].type, sdecl.cols[i].flags,
              sout.cols[i].name, (int)sout.cols[i].type, sout.cols[i].flags);
      CU_FAIL("declared and actual schema differ");
    }
  }
  keel_schema_free(&sin);
  keel_schema_free(&sdecl);
  keel_schema_free(&sout);
}

/* Fits on train, applies to valid, and checks that the state written as
 * JSON and read back gives a bit-identical output; returns the output
 * (caller frees with keel_table_free) and the state in *st_out. */
static inline keel_table *tt_fit_apply(const tt_tx *t, const keel_table *train,
                                       const keel_table *valid,
                                       keel_state **st_out)
{
  keel_error err;
  keel_state *st = NULL;
  int rc = tt_fit(t, train, &st, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "fit: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  keel_table *out = NULL;
  rc = tt_apply(t, st, valid, &out, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "apply: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  keel_state *back = tt_reload(st);
  keel_table *again = NULL;
  CU_ASSERT_EQUAL_FATAL(tt_apply(t, back, valid, &again, &err), KEEL_OK);
  CU_ASSERT(tt_same_table(out, again));
  keel_table_free(again);
  keel_state_free(back);
  if (st_out != NULL)
    *st_out = st;
  else
    keel_state_free(st);
  return out;
}

#endif
