/* The kit's transform properties: fit twice gives the same state; the
 * declared output schema is what apply yields; the state survives the
 * host's serialization, and apply on the restored state is apply after a
 * refit, to the bit. The input is a synthetic table of the column types
 * the plugin accepts (with missing values unless it refuses them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/state.h"
#include "plugin/table.h"
#include "run/plugin_test_internal.h"

static const char *const pt_colours[] = {"red", "green", "blue"};

static int accepts(const keel_plugin *d, keel_col_type t)
{
  return d->contract.accepts == 0 || (d->contract.accepts & KEEL_COL_BIT(t));
}

/* The synthetic input: numeric x1 and x2 (values in [0, 10), so a log or
 * a root has a domain), categorical c1, text t1 and date d1, each as the
 * contract accepts; with `miss`, rows 3 and 7 of x1 and row 5 of c1
 * missing. NULL on ENOMEM. */
static keel_table *synthetic_table(const pt_ctx *c, size_t n, int miss)
{
  const keel_plugin *d = &c->plugin->desc;
  keel_table *t = keel_table_new(n);
  keel_error e;
  uint64_t k = 0;
  if (!t)
    return NULL;
  if (accepts(d, KEEL_COL_NUMERIC))
    for (int j = 0; j < 2; j++) {
      keel_column *col =
          keel_table_add(t, j ? "x2" : "x1", KEEL_COL_NUMERIC, NULL, 0, &e);
      if (!col)
        goto fail;
      for (size_t r = 0; r < n; r++)
        col->num[r] = pt_uniform(c->seed, PT_STREAM_DATA, k++, 0, 10);
      if (miss && j == 0)
        col->missing[3] = col->missing[7] = 1;
    }
  if (accepts(d, KEEL_COL_CATEGORICAL)) {
    keel_column *col =
        keel_table_add(t, "c1", KEEL_COL_CATEGORICAL, pt_colours, 3, &e);
    if (!col)
      goto fail;
    for (size_t r = 0; r < n; r++)
      col->code[r] = (int32_t)pt_between(c->seed, PT_STREAM_DATA, k++, 0, 2);
    if (miss)
      col->missing[5] = 1;
  }
  if (accepts(d, KEEL_COL_TEXT)) {
    keel_column *col = keel_table_add(t, "t1", KEEL_COL_TEXT, NULL, 0, &e);
    if (!col)
      goto fail;
    for (size_t r = 0; r < n; r++) {
      char word[32];
      int len = snprintf(word, sizeof word, "word%zu",
                         pt_between(c->seed, PT_STREAM_DATA, k++, 0, 9));
      if (keel_table_text_set(t, t->n_cols - 1, r, word, (size_t)len, &e))
        goto fail;
    }
  }
  if (accepts(d, KEEL_COL_DATE)) {
    keel_column *col = keel_table_add(t, "d1", KEEL_COL_DATE, NULL, 0, &e);
    if (!col)
      goto fail;
    for (size_t r = 0; r < n; r++)
      col->num[r] =
          (double)(18000 + pt_between(c->seed, PT_STREAM_DATA, k++, 0, 2000));
  }
  return t;
fail:
  keel_table_free(t);
  return NULL;
}

/* fit on t into a new state (an empty one when fit is NULL); 1 with
 * err when the plugin refused. */
static int fit(pt_ctx *c, const keel_table *t, keel_state **st, keel_error *err)
{
  const keel_transform_api *api = c->plugin->api;
  *st = keel_state_new();
  if (!*st)
    return KEEL_ENOMEM;
  memset(err, 0, sizeof *err);
  if (api->fit && api->fit(&c->host, c->params, t, *st, err) != 0)
    return 1;
  return 0;
}

static int apply(pt_ctx *c, const keel_state *st, const keel_table *in,
                 keel_table **out, keel_error *err)
{
  const keel_transform_api *api = c->plugin->api;
  *out = NULL;
  memset(err, 0, sizeof *err);
  if (api->apply(&c->host, c->params, st, in, out, err) != 0 || !*out) {
    if (!err->message[0])
      snprintf(err->message, sizeof err->message, "apply returned no table");
    return 1;
  }
  return 0;
}

/* NULL when a and b hold the same bits, else what differs (in buf). */
static const char *table_diff(const keel_table *a, const keel_table *b,
                              char *buf, size_t n)
{
  if (a->n_rows != b->n_rows || a->n_cols != b->n_cols) {
    snprintf(buf, n, "%zu x %zu against %zu x %zu (rows x columns)", a->n_rows,
             a->n_cols, b->n_rows, b->n_cols);
    return buf;
  }
  for (size_t j = 0; j < a->n_cols; j++) {
    const keel_column *x = &a->cols[j], *y = &b->cols[j];
    if (strcmp(x->name, y->name) != 0 || x->type != y->type) {
      snprintf(buf, n, "column %zu is '%s' against '%s'", j, x->name, y->name);
      return buf;
    }
    for (size_t r = 0; r < a->n_rows; r++) {
      int same = x->missing[r] == y->missing[r];
      if (same && x->num)
        same = memcmp(&x->num[r], &y->num[r], sizeof x->num[r]) == 0;
      if (same && x->code)
        same = x->code[r] == y->code[r];
      if (same && x->text)
        same = (!x->text[r] && !y->text[r]) ||
               (x->text[r] && y->text[r] && !strcmp(x->text[r], y->text[r]));
      if (!same) {
        snprintf(buf, n, "column '%s' row %zu differs", x->name, r);
        return buf;
      }
    }
    for (size_t k = 0; x->dict && k < x->n_dict; k++)
      if (x->n_dict != y->n_dict || strcmp(x->dict[k], y->dict[k]) != 0) {
        snprintf(buf, n, "column '%s': dictionaries differ", x->name);
        return buf;
      }
  }
  return NULL;
}

static int prop_fit(pt_ctx *c, const keel_table *t)
{
  const keel_transform_api *api = c->plugin->api;
  if (!api->fit)
    return pt_record(c, "transform.fit_deterministic", KEEL_PT_SKIP,
                     "stateless: fit is NULL");
  keel_state *s1 = NULL, *s2 = NULL;
  char *j1 = NULL, *j2 = NULL;
  keel_error e;
  int rc = fit(c, t, &s1, &e);
  if (rc == 1) {
    rc = pt_record(c, "transform.fit_deterministic", KEEL_PT_FAIL,
                   "fit refused the synthetic table: %s", e.message);
    goto out;
  }
  if (!rc)
    rc = fit(c, t, &s2, &e);
  if (rc == 1) {
    rc = pt_record(c, "transform.fit_deterministic", KEEL_PT_FAIL,
                   "fit accepted the table once, then refused it: %s",
                   e.message);
    goto out;
  }
  if (rc)
    goto out;
  j1 = keel_state_to_json(s1);
  j2 = keel_state_to_json(s2);
  if (!j1 || !j2) {
    rc = KEEL_ENOMEM;
    goto out;
  }
  size_t i = 0;
  while (j1[i] && j1[i] == j2[i])
    i++;
  if (j1[i] || j2[i]) {
    /* 40 bytes of each from a little before the difference, on one line. */
    char a[41], b[41];
    size_t from = i > 10 ? i - 10 : 0;
    snprintf(a, sizeof a, "%s", j1 + from);
    snprintf(b, sizeof b, "%s", j2 + from);
    for (char *p = a; *p; p++)
      *p = *p == '\n' ? ' ' : *p;
    for (char *p = b; *p; p++)
      *p = *p == '\n' ? ' ' : *p;
    rc = pt_record(c, "transform.fit_deterministic", KEEL_PT_FAIL,
                   "two fits on the same %zu rows stored different states "
                   "(first difference at byte %zu of the serialized state: "
                   "'%s' against '%s'): fit must depend on its parameters "
                   "and rows alone",
                   t->n_rows, i, a, b);
  } else
    rc = pt_record(c, "transform.fit_deterministic", KEEL_PT_PASS,
                   "two fits on %zu rows: the same %zu bytes of state",
                   t->n_rows, strlen(j1));
out:
  free(j1);
  free(j2);
  keel_state_free(s1);
  keel_state_free(s2);
  return rc;
}

static int prop_schema(pt_ctx *c, const keel_table *t)
{
  const keel_transform_api *api = c->plugin->api;
  keel_schema in, declared, actual;
  keel_schema_init(&in);
  keel_schema_init(&declared);
  keel_schema_init(&actual);
  keel_state *st = NULL;
  keel_table *out = NULL;
  keel_error e = {0};
  int rc = keel_table_schema(t, &in, &e);
  if (rc)
    goto out;
  if (api->schema(&c->host, c->params, &in, &declared, &e) != 0) {
    rc = pt_record(c, "transform.schema_matches", KEEL_PT_FAIL,
                   "schema refused the synthetic input: %s", e.message);
    goto out;
  }
  rc = fit(c, t, &st, &e);
  if (rc == 0)
    rc = apply(c, st, t, &out, &e);
  if (rc == 1) {
    rc = pt_record(c, "transform.schema_matches", KEEL_PT_FAIL,
                   "schema accepted the synthetic input, then %s refused "
                   "it: %s",
                   out ? "apply" : "fit or apply", e.message);
    goto out;
  }
  if (rc || (rc = keel_table_schema(out, &actual, &e)))
    goto out;
  char buf[512];
  const char *why = pt_schema_diff(&declared, &actual, buf, sizeof buf);
  if (why) {
    rc = pt_record(c, "transform.schema_matches", KEEL_PT_FAIL,
                   "schema and apply disagree: %s", why);
    goto out;
  }
  rc = pt_record(c, "transform.schema_matches", KEEL_PT_PASS,
                 "%zu input columns -> %zu declared, %zu made by apply: the "
                 "names, types and flags declared",
                 in.n_cols, declared.n_cols, actual.n_cols);
out:
  keel_schema_free(&in);
  keel_schema_free(&declared);
  keel_schema_free(&actual);
  keel_state_free(st);
  keel_table_free(out);
  return rc;
}

static int prop_roundtrip(pt_ctx *c, const keel_table *t)
{
  keel_state *s1 = NULL, *s2 = NULL, *s3 = NULL;
  keel_table *o2 = NULL, *o3 = NULL;
  char *j1 = NULL, *j2 = NULL, buf[256];
  keel_error e = {0};
  int rc = fit(c, t, &s1, &e);
  if (rc == 1) {
    rc = pt_record(c, "transform.state_roundtrip", KEEL_PT_FAIL,
                   "fit refused the synthetic table: %s", e.message);
    goto out;
  }
  if (rc || !(j1 = keel_state_to_json(s1))) {
    rc = rc ? rc : KEEL_ENOMEM;
    goto out;
  }
  if (keel_state_from_json(j1, "the fitted state", &s2, &e) != 0) {
    rc = pt_record(c, "transform.state_roundtrip", KEEL_PT_FAIL,
                   "the host cannot read back the state fit stored: %s",
                   e.message);
    goto out;
  }
  if (!(j2 = keel_state_to_json(s2))) {
    rc = KEEL_ENOMEM;
    goto out;
  }
  if (strcmp(j1, j2) != 0) {
    rc = pt_record(c, "transform.state_roundtrip", KEEL_PT_FAIL,
                   "the state read back serializes differently");
    goto out;
  }
  rc = apply(c, s2, t, &o2, &e);
  if (rc == 0 && (rc = fit(c, t, &s3, &e)) == 0)
    rc = apply(c, s3, t, &o3, &e);
  if (rc == 1) {
    rc = pt_record(c, "transform.state_roundtrip", KEEL_PT_FAIL,
                   "apply or refit failed: %s", e.message);
    goto out;
  }
  if (rc)
    goto out;
  const char *why = table_diff(o2, o3, buf, sizeof buf);
  rc = why ? pt_record(c, "transform.state_roundtrip", KEEL_PT_FAIL,
                       "apply on the state read back and apply after a refit "
                       "differ: %s",
                       why)
           : pt_record(c, "transform.state_roundtrip", KEEL_PT_PASS,
                       "%zu bytes of state read back; apply on it equals "
                       "apply after a refit (%zu x %zu, bits)",
                       strlen(j1), o2->n_rows, o2->n_cols);
out:
  free(j1);
  free(j2);
  keel_state_free(s1);
  keel_state_free(s2);
  keel_state_free(s3);
  keel_table_free(o2);
  keel_table_free(o3);
  return rc;
}

/* 0 when fit and apply accept t, 1 with err when either refuses it. */
static int accepted(pt_ctx *c, const keel_table *t, keel_error *err)
{
  keel_state *st = NULL;
  keel_table *out = NULL;
  int rc = fit(c, t, &st, err);
  if (rc == 0)
    rc = apply(c, st, t, &out, err);
  keel_state_free(st);
  keel_table_free(out);
  return rc;
}

int pt_transform(pt_ctx *c)
{
  size_t n = pt_between(c->seed, PT_STREAM_SHAPE, 3, 20, 40);
  int miss = !(c->plugin->desc.contract.flags & KEEL_CONTRACT_NO_MISSING);
  keel_table *t = synthetic_table(c, n, miss);
  if (!t)
    return KEEL_ENOMEM;
  /* Refusing missing values with a message is a transform's right (with
   * its parameters as they are): test on complete rows then, and say so. */
  keel_error e;
  int rc = miss ? accepted(c, t, &e) : 0,
      wanted = pt_wanted(c, "transform.missing_values");
  if (rc == 1) {
    keel_table_free(t);
    if (!(t = synthetic_table(c, n, 0)))
      return KEEL_ENOMEM;
    rc = wanted ? pt_record(c, "transform.missing_values", KEEL_PT_SKIP,
                            "the input with missing values was refused "
                            "(%s); the properties below use complete rows",
                            e.message)
                : 0;
  } else if (rc == 0 && wanted) {
    rc = pt_record(c, "transform.missing_values",
                   miss ? KEEL_PT_PASS : KEEL_PT_SKIP, "%s",
                   miss ? "fit and apply take an input with missing values"
                        : "the contract says no missing values");
  }
  if (!rc && pt_wanted(c, "transform.fit_deterministic"))
    rc = prop_fit(c, t);
  if (!rc && pt_wanted(c, "transform.schema_matches"))
    rc = prop_schema(c, t);
  if (!rc && pt_wanted(c, "transform.state_roundtrip"))
    rc = prop_roundtrip(c, t);
  keel_table_free(t);
  return rc;
}
