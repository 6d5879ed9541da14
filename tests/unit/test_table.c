/* Host tables and schemas: every column type, duplicate names, deep copies,
 * text cells, row selection, column removal, the schema a table actually
 * has, and zero-row tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/loader.h"
#include "plugin/table.h"
#include "test_util.h"

static const char *const colours[] = {"red", "green", "blue"};

/* A 4-row table with one column of each type:
 *   x    numeric      1.5, NaN(missing), 3.5, -4
 *   c    categorical  red, blue, (missing), green
 *   t    text         "alpha", NULL(missing), "", "delta"
 *   d    date         0, 19000, 365, -1                                   */
static keel_table *make_table(void)
{
  keel_error err = {0};
  keel_table *t = keel_table_new(4);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  keel_column *x = keel_table_add(t, "x", KEEL_COL_NUMERIC, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  x->num[0] = 1.5;
  x->num[1] = NAN;
  x->missing[1] = 1;
  x->num[2] = 3.5;
  x->num[3] = -4;
  keel_column *c =
      keel_table_add(t, "c", KEEL_COL_CATEGORICAL, colours, 3, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  c->code[0] = 0;
  c->code[1] = 2;
  c->missing[2] = 1;
  c->code[3] = 1;
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      keel_table_add(t, "t", KEEL_COL_TEXT, NULL, 0, &err));
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 0, "alpha", 5, &err), KEEL_OK);
  t->cols[2].missing[1] = 1;
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 2, "", 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 3, "delta-and-more", 5, &err),
                  KEEL_OK);
  keel_column *d = keel_table_add(t, "d", KEEL_COL_DATE, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  d->num[0] = 0;
  d->num[1] = 19000;
  d->num[2] = 365;
  d->num[3] = -1;
  return t;
}

static void test_add_every_type(void)
{
  keel_error err = {0};
  keel_table *t = keel_table_new(3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(t->n_rows, 3);
  CU_ASSERT_EQUAL(t->n_cols, 0);
  keel_column *c = keel_table_add(t, "num", KEEL_COL_NUMERIC, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL(c->num);
  CU_ASSERT_PTR_NULL(c->code);
  CU_ASSERT_PTR_NULL(c->text);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c->missing);
  for (int r = 0; r < 3; r++) {
    CU_ASSERT_EQUAL(c->num[r], 0.0);
    CU_ASSERT_EQUAL(c->missing[r], 0);
  }
  c = keel_table_add(t, "cat", KEEL_COL_CATEGORICAL, colours, 3, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL(c->code);
  CU_ASSERT_PTR_NULL(c->num);
  CU_ASSERT_EQUAL(c->n_dict, 3);
  CU_ASSERT_STRING_EQUAL(c->dict[2], "blue");
  /* The dictionary is copied, not borrowed. */
  CU_ASSERT_PTR_NOT_EQUAL(c->dict, colours);
  CU_ASSERT_PTR_NOT_EQUAL(c->dict[0], colours[0]);
  for (int r = 0; r < 3; r++)
    CU_ASSERT_EQUAL(c->code[r], 0);
  c = keel_table_add(t, "txt", KEEL_COL_TEXT, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c->text);
  for (int r = 0; r < 3; r++)
    CU_ASSERT_PTR_NULL(c->text[r]);
  c = keel_table_add(t, "day", KEEL_COL_DATE, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL(c->num);
  CU_ASSERT_EQUAL(c->type, KEEL_COL_DATE);
  /* A categorical column with an empty dictionary is allowed. */
  CU_ASSERT_PTR_NOT_NULL(
      keel_table_add(t, "cat0", KEEL_COL_CATEGORICAL, NULL, 0, &err));
  CU_ASSERT_EQUAL(t->n_cols, 5);
  CU_ASSERT_EQUAL(keel_table_find(t, "txt"), 2);
  CU_ASSERT_EQUAL(keel_table_find(t, "nope"), -1);
  CU_ASSERT_STRING_EQUAL(t->cols[3].name, "day");
  keel_table_free(t);
}

static void test_many_columns(void)
{
  /* Growth past the initial capacity keeps earlier columns intact. */
  keel_error err = {0};
  keel_table *t = keel_table_new(2);
  char name[16];
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "c%d", i);
    keel_column *c = keel_table_add(t, name, KEEL_COL_NUMERIC, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    c->num[1] = i;
  }
  CU_ASSERT_EQUAL(t->n_cols, 100);
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "c%d", i);
    CU_ASSERT_STRING_EQUAL(t->cols[i].name, name);
    CU_ASSERT_EQUAL(t->cols[i].num[1], i);
  }
  keel_table_free(t);
}

static void test_add_refusals(void)
{
  keel_error err = {0};
  keel_table *t = keel_table_new(2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      keel_table_add(t, "a", KEEL_COL_NUMERIC, NULL, 0, &err));
  CU_ASSERT_PTR_NULL(keel_table_add(t, "a", KEEL_COL_TEXT, NULL, 0, &err));
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'a'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "duplicate"));
  CU_ASSERT_EQUAL(t->n_cols, 1);
  memset(&err, 0, sizeof err);
  CU_ASSERT_PTR_NULL(keel_table_add(t, "", KEEL_COL_NUMERIC, NULL, 0, &err));
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_PTR_NULL(keel_table_add(t, NULL, KEEL_COL_NUMERIC, NULL, 0, &err));
  CU_ASSERT_PTR_NULL(keel_table_add(t, "b", (keel_col_type)0, NULL, 0, &err));
  CU_ASSERT_PTR_NULL(keel_table_add(t, "b", (keel_col_type)9, NULL, 0, &err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'b'"));
  CU_ASSERT_PTR_NULL(
      keel_table_add(t, "b", KEEL_COL_CATEGORICAL, NULL, 2, &err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "dictionary"));
  CU_ASSERT_PTR_NULL(
      keel_table_add(NULL, "b", KEEL_COL_NUMERIC, NULL, 0, &err));
  CU_ASSERT_EQUAL(t->n_cols, 1);
  /* A NULL err is allowed. */
  CU_ASSERT_PTR_NULL(keel_table_add(t, "a", KEEL_COL_NUMERIC, NULL, 0, NULL));
  keel_table_free(t);
  keel_table_free(NULL);
}

static void test_copy_column_deep(void)
{
  keel_error err = {0};
  keel_table *src = make_table();
  keel_table *dst = keel_table_new(4);
  for (size_t c = 0; c < src->n_cols; c++)
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        keel_table_copy_column(dst, &src->cols[c], &err));
  CU_ASSERT_EQUAL_FATAL(dst->n_cols, 4);
  /* Same content. */
  CU_ASSERT_STRING_EQUAL(dst->cols[0].name, "x");
  CU_ASSERT_EQUAL(dst->cols[0].num[0], 1.5);
  CU_ASSERT_EQUAL(dst->cols[0].missing[1], 1);
  CU_ASSERT(isnan(dst->cols[0].num[1]));
  CU_ASSERT_EQUAL(dst->cols[1].n_dict, 3);
  CU_ASSERT_STRING_EQUAL(dst->cols[1].dict[1], "green");
  CU_ASSERT_EQUAL(dst->cols[1].code[1], 2);
  CU_ASSERT_EQUAL(dst->cols[1].missing[2], 1);
  CU_ASSERT_STRING_EQUAL(dst->cols[2].text[0], "alpha");
  CU_ASSERT_PTR_NULL(dst->cols[2].text[1]);
  CU_ASSERT_STRING_EQUAL(dst->cols[2].text[2], "");
  CU_ASSERT_STRING_EQUAL(dst->cols[2].text[3], "delta");
  CU_ASSERT_EQUAL(dst->cols[3].type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(dst->cols[3].num[1], 19000);
  /* Nothing shared. */
  for (size_t c = 0; c < 4; c++) {
    CU_ASSERT_PTR_NOT_EQUAL(dst->cols[c].name, src->cols[c].name);
    CU_ASSERT_PTR_NOT_EQUAL(dst->cols[c].missing, src->cols[c].missing);
  }
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[0].num, src->cols[0].num);
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[1].code, src->cols[1].code);
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[1].dict, src->cols[1].dict);
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[1].dict[0], src->cols[1].dict[0]);
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[2].text, src->cols[2].text);
  CU_ASSERT_PTR_NOT_EQUAL(dst->cols[2].text[0], src->cols[2].text[0]);
  /* Mutating the copy leaves the source intact. */
  dst->cols[0].num[0] = 99;
  dst->cols[0].missing[0] = 1;
  dst->cols[1].code[0] = 2;
  ((char *)dst->cols[1].dict[0])[0] = 'X';
  CU_ASSERT_EQUAL(keel_table_text_set(dst, 2, 0, "changed", 7, &err), KEEL_OK);
  ((char *)dst->cols[2].text[3])[0] = 'X';
  dst->cols[3].num[2] = -7;
  CU_ASSERT_EQUAL(src->cols[0].num[0], 1.5);
  CU_ASSERT_EQUAL(src->cols[0].missing[0], 0);
  CU_ASSERT_EQUAL(src->cols[1].code[0], 0);
  CU_ASSERT_STRING_EQUAL(src->cols[1].dict[0], "red");
  CU_ASSERT_STRING_EQUAL(src->cols[2].text[0], "alpha");
  CU_ASSERT_STRING_EQUAL(src->cols[2].text[3], "delta");
  CU_ASSERT_EQUAL(src->cols[3].num[2], 365);
  /* Freeing the source leaves the copy valid (ASan checks the reads). */
  keel_table_free(src);
  CU_ASSERT_STRING_EQUAL(dst->cols[2].text[0], "changed");
  CU_ASSERT_STRING_EQUAL(dst->cols[1].dict[2], "blue");
  /* A copy with a name already present is refused. */
  CU_ASSERT_PTR_NULL(keel_table_copy_column(dst, &dst->cols[0], &err));
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_EQUAL(dst->n_cols, 4);
  keel_table_free(dst);
}

static void test_text_set(void)
{
  keel_error err = {0};
  keel_table *t = make_table();
  /* Only the first len bytes are copied; the result is NUL-terminated. */
  CU_ASSERT_STRING_EQUAL(t->cols[2].text[3], "delta");
  /* Bytes after len are not read: a non-terminated buffer is fine. */
  char raw[3] = {'a', 'b', 'c'};
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 1, raw, 3, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(t->cols[2].text[1], "abc");
  /* Overwriting frees the old value (ASan/LSan would see a leak). */
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 1, "z", 1, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(t->cols[2].text[1], "z");
  /* Refusals: row, column out of range; not a text column. */
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 4, "x", 1, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "row 4"));
  CU_ASSERT_EQUAL(keel_table_text_set(t, 4, 0, "x", 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_table_text_set(t, 0, 0, "x", 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_table_text_set(t, 1, 0, "x", 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_table_text_set(t, (size_t)-1, 0, "x", 1, &err),
                  KEEL_EINVAL);
  keel_table_free(t);
}

static void test_take_rows(void)
{
  keel_error err = {0};
  keel_table *t = make_table();
  const size_t rows[] = {3, 0, 0, 1};
  keel_table *s = keel_table_take_rows(t, rows, 4, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(s->n_rows, 4);
  CU_ASSERT_EQUAL(s->n_cols, 4);
  CU_ASSERT_EQUAL(s->cols[0].num[0], -4);
  CU_ASSERT_EQUAL(s->cols[0].num[1], 1.5);
  CU_ASSERT_EQUAL(s->cols[0].num[2], 1.5);
  CU_ASSERT_EQUAL(s->cols[0].missing[3], 1);
  CU_ASSERT_EQUAL(s->cols[1].code[0], 1);
  CU_ASSERT_EQUAL(s->cols[1].n_dict, 3);
  CU_ASSERT_STRING_EQUAL(s->cols[1].dict[1], "green");
  CU_ASSERT_STRING_EQUAL(s->cols[2].text[0], "delta");
  CU_ASSERT_STRING_EQUAL(s->cols[2].text[1], "alpha");
  CU_ASSERT_STRING_EQUAL(s->cols[2].text[2], "alpha");
  CU_ASSERT_PTR_NOT_EQUAL(s->cols[2].text[1], s->cols[2].text[2]);
  CU_ASSERT_PTR_NULL(s->cols[2].text[3]);
  CU_ASSERT_EQUAL(s->cols[3].num[3], 19000);
  /* Independent of the source. */
  keel_table_free(t);
  CU_ASSERT_STRING_EQUAL(s->cols[2].text[0], "delta");
  keel_table_free(s);

  /* Zero rows selected: an empty table with the same columns. */
  t = make_table();
  s = keel_table_take_rows(t, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(s->n_rows, 0);
  CU_ASSERT_EQUAL(s->n_cols, 4);
  CU_ASSERT_EQUAL(s->cols[1].n_dict, 3);
  keel_table_free(s);

  /* A row past the end is refused and names the row. */
  const size_t bad_rows[] = {0, 4};
  memset(&err, 0, sizeof err);
  CU_ASSERT_PTR_NULL(keel_table_take_rows(t, bad_rows, 2, &err));
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "4"));
  keel_table_free(t);

  /* Even when the table has no columns to read the row from. */
  keel_table *bare = keel_table_new(2);
  const size_t past[] = {7};
  memset(&err, 0, sizeof err);
  s = keel_table_take_rows(bare, past, 1, &err);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  keel_table_free(s);
  keel_table_free(bare);
}

static void test_drop_column(void)
{
  keel_error err = {0};
  keel_table *t = make_table();
  keel_table *d = keel_table_drop_column(t, 1, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_EQUAL(d->n_cols, 3);
  CU_ASSERT_EQUAL(d->n_rows, 4);
  CU_ASSERT_EQUAL(keel_table_find(d, "c"), -1);
  CU_ASSERT_STRING_EQUAL(d->cols[0].name, "x");
  CU_ASSERT_STRING_EQUAL(d->cols[1].name, "t");
  CU_ASSERT_STRING_EQUAL(d->cols[2].name, "d");
  CU_ASSERT_STRING_EQUAL(d->cols[1].text[0], "alpha");
  CU_ASSERT_EQUAL(d->cols[2].num[1], 19000);
  /* The source is untouched. */
  CU_ASSERT_EQUAL(t->n_cols, 4);
  keel_table_free(d);
  d = keel_table_drop_column(t, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_STRING_EQUAL(d->cols[0].name, "c");
  keel_table_free(d);
  d = keel_table_drop_column(t, 3, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_EQUAL(d->n_cols, 3);
  keel_table_free(d);
  /* A column that does not exist: refused, not a silent full copy. */
  memset(&err, 0, sizeof err);
  d = keel_table_drop_column(t, 4, &err);
  CU_ASSERT_PTR_NULL(d);
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  keel_table_free(d);
  keel_table_free(t);
}

static void test_table_schema_flags(void)
{
  keel_error err = {0};
  keel_table *t = make_table();
  keel_column *y = keel_table_add(t, "y", KEEL_COL_NUMERIC, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(y);
  y->num[2] = INFINITY; /* not missing, not finite */
  keel_column *z = keel_table_add(t, "z", KEEL_COL_NUMERIC, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(z);
  z->num[0] = NAN;
  z->missing[0] = 1; /* a missing NaN is only missing */
  keel_column *w = keel_table_add(t, "w", KEEL_COL_DATE, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  w->num[3] = -INFINITY;
  w->missing[0] = 1;
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      keel_table_add(t, "clean", KEEL_COL_NUMERIC, NULL, 0, &err));

  keel_schema s;
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(t, &s, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(s.n_cols, 8);
  CU_ASSERT_STRING_EQUAL(s.cols[0].name, "x");
  CU_ASSERT_EQUAL(s.cols[0].type, KEEL_COL_NUMERIC);
  CU_ASSERT_EQUAL(s.cols[0].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(s.cols[1].type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_EQUAL(s.cols[1].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(s.cols[2].type, KEEL_COL_TEXT);
  CU_ASSERT_EQUAL(s.cols[2].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(s.cols[3].type, KEEL_COL_DATE);
  CU_ASSERT_EQUAL(s.cols[3].flags, 0u);
  CU_ASSERT_EQUAL(s.cols[4].flags, KEEL_COL_MAY_NONFINITE);
  CU_ASSERT_EQUAL(s.cols[5].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(s.cols[6].flags, KEEL_COL_MAY_MISS | KEEL_COL_MAY_NONFINITE);
  CU_ASSERT_EQUAL(s.cols[7].flags, 0u);
  /* Names are the schema's own. */
  CU_ASSERT_PTR_NOT_EQUAL(s.cols[0].name, t->cols[0].name);
  keel_table_free(t);
  CU_ASSERT_STRING_EQUAL(s.cols[7].name, "clean");
  keel_schema_free(&s);
  CU_ASSERT_EQUAL(s.n_cols, 0);
  keel_schema_free(&s); /* twice is harmless after the reset */
}

static void test_zero_rows(void)
{
  keel_error err = {0};
  keel_table *t = keel_table_new(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_PTR_NOT_NULL(
      keel_table_add(t, "n", KEEL_COL_NUMERIC, NULL, 0, &err));
  CU_ASSERT_PTR_NOT_NULL(
      keel_table_add(t, "c", KEEL_COL_CATEGORICAL, colours, 3, &err));
  CU_ASSERT_PTR_NOT_NULL(keel_table_add(t, "t", KEEL_COL_TEXT, NULL, 0, &err));
  CU_ASSERT_PTR_NOT_NULL(keel_table_add(t, "d", KEEL_COL_DATE, NULL, 0, &err));
  CU_ASSERT_EQUAL(keel_table_text_set(t, 2, 0, "x", 1, &err), KEEL_EINVAL);
  keel_schema s;
  CU_ASSERT_EQUAL_FATAL(keel_table_schema(t, &s, &err), KEEL_OK);
  CU_ASSERT_EQUAL(s.n_cols, 4);
  for (size_t i = 0; i < s.n_cols; i++)
    CU_ASSERT_EQUAL(s.cols[i].flags, 0u);
  keel_schema_free(&s);
  keel_table *u = keel_table_new(0);
  for (size_t c = 0; c < t->n_cols; c++)
    CU_ASSERT_PTR_NOT_NULL(keel_table_copy_column(u, &t->cols[c], &err));
  CU_ASSERT_EQUAL(u->n_cols, 4);
  keel_table *v = keel_table_drop_column(u, 2, &err);
  CU_ASSERT_PTR_NOT_NULL(v);
  keel_table *w = keel_table_take_rows(u, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL(w);
  keel_table_free(w);
  keel_table_free(v);
  keel_table_free(u);
  keel_table_free(t);
}

static void test_schema(void)
{
  keel_error err = {0};
  keel_schema s;
  keel_schema_init(&s);
  CU_ASSERT_EQUAL(s.n_cols, 0);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "a", KEEL_COL_NUMERIC, 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(
      keel_schema_add(&s, "b", KEEL_COL_CATEGORICAL, KEEL_COL_MAY_MISS, &err),
      KEEL_OK);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "c", KEEL_COL_TEXT, 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(
      keel_schema_add(&s, "d", KEEL_COL_DATE, KEEL_COL_MAY_NONFINITE, &err),
      KEEL_OK);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "a", KEEL_COL_TEXT, 0, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'a'"));
  CU_ASSERT_EQUAL(keel_schema_add(&s, "", KEEL_COL_TEXT, 0, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_schema_add(&s, NULL, KEEL_COL_TEXT, 0, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "e", (keel_col_type)77, 0, &err),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(s.n_cols, 4);
  CU_ASSERT_EQUAL(keel_schema_find(&s, "c"), 2);
  CU_ASSERT_EQUAL(keel_schema_find(&s, "z"), -1);
  CU_ASSERT_EQUAL(s.cols[1].flags, KEEL_COL_MAY_MISS);
  CU_ASSERT_EQUAL(s.cols[3].type, KEEL_COL_DATE);
  /* Growth past the first allocation. */
  char name[16];
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "g%d", i);
    CU_ASSERT_EQUAL(keel_schema_add(&s, name, KEEL_COL_NUMERIC, 0, &err),
                    KEEL_OK);
  }
  CU_ASSERT_EQUAL(s.n_cols, 44);
  keel_schema copy;
  CU_ASSERT_EQUAL_FATAL(keel_schema_copy(&copy, &s, &err), KEEL_OK);
  CU_ASSERT_EQUAL(copy.n_cols, 44);
  CU_ASSERT_PTR_NOT_EQUAL(copy.cols[0].name, s.cols[0].name);
  CU_ASSERT_EQUAL(copy.cols[1].flags, KEEL_COL_MAY_MISS);
  keel_schema_free(&s);
  CU_ASSERT_STRING_EQUAL(copy.cols[43].name, "g39");
  /* The copy grows on its own. */
  CU_ASSERT_EQUAL(keel_schema_add(&copy, "late", KEEL_COL_TEXT, 0, &err),
                  KEEL_OK);
  keel_schema_free(&copy);
  /* A zero-initialised schema (as a plugin might declare one) works. */
  keel_schema z = {0};
  CU_ASSERT_EQUAL(keel_schema_add(&z, "q", KEEL_COL_NUMERIC, 0, &err), KEEL_OK);
  keel_schema_free(&z);
}

/* ABI 1.2: a column pointer from table_add stays valid while more columns
 * are added (the array grows past its first capacity of 8 several times),
 * and table_append's index names the same column. */
static void test_column_pointers_stable(void)
{
  const keel_host *h = keel_host_services();
  keel_error err = {0};
  keel_table *t = h->table_new(3);
  keel_column *first = h->table_add(t, "c0", KEEL_COL_NUMERIC, NULL, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(first);
  size_t last = 0;
  char name[16];
  for (int i = 1; i < 40; i++) {
    snprintf(name, sizeof name, "c%d", i);
    CU_ASSERT_EQUAL_FATAL(
        h->table_append(t, name, KEEL_COL_NUMERIC, NULL, 0, &last, &err),
        KEEL_OK);
    CU_ASSERT_EQUAL(last, (size_t)i);
  }
  first->num[2] = 7.25;
  CU_ASSERT_STRING_EQUAL(first->name, "c0");
  CU_ASSERT_EQUAL(t->cols[0].num[2], 7.25);
  CU_ASSERT_STRING_EQUAL(t->cols[last].name, "c39");
  CU_ASSERT_EQUAL(
      h->table_append(t, "c7", KEEL_COL_NUMERIC, NULL, 0, &last, &err),
      KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "duplicate column name 'c7'"));
  h->table_free(t);
}

static void test_type_names(void)
{
  CU_ASSERT_STRING_EQUAL(keel_col_type_name(KEEL_COL_NUMERIC), "numeric");
  CU_ASSERT_STRING_EQUAL(keel_col_type_name(KEEL_COL_CATEGORICAL),
                         "categorical");
  CU_ASSERT_STRING_EQUAL(keel_col_type_name(KEEL_COL_TEXT), "text");
  CU_ASSERT_STRING_EQUAL(keel_col_type_name(KEEL_COL_DATE), "date");
  CU_ASSERT_PTR_NOT_NULL(keel_col_type_name((keel_col_type)0));
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"add a column of every type", test_add_every_type},
      {"many columns", test_many_columns},
      {"add refusals", test_add_refusals},
      {"copy_column is deep", test_copy_column_deep},
      {"text_set", test_text_set},
      {"take_rows", test_take_rows},
      {"drop_column", test_drop_column},
      {"table_schema flags", test_table_schema_flags},
      {"zero-row tables", test_zero_rows},
      {"schemas", test_schema},
      {"type names", test_type_names},
      {"column pointers stable, table_append index",
       test_column_pointers_stable},
      {NULL, NULL},
  };
  return keel_test_run_suite("table", tests);
}
