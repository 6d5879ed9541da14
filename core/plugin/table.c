/* Host-owned tables and schemas. Plugins reach these through keel_host; the
 * pipeline uses them directly. Names, dictionaries and text are copied so a
 * table never points into plugin memory. */
#include "plugin/table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "base/strmap.h"
#include "keel/utf8.h"

const char *keel_col_type_name(keel_col_type t)
{
  switch (t) {
  case KEEL_COL_NUMERIC: return "numeric";
  case KEEL_COL_CATEGORICAL: return "categorical";
  case KEEL_COL_TEXT: return "text";
  case KEEL_COL_DATE: return "date";
  }
  return "unknown";
}

/* The host takes only UTF-8 text from plugins (keel/utf8.h): a column
 * name, dictionary entry or text cell that is not is refused where it
 * enters, before a JSON record could drop it. The pipeline's stage
 * prefix ("[source] csv: ...") names the plugin. `what` is the message's
 * subject ("column name 'x'"). */
static int check_utf8(const char *s, size_t n, keel_error *err,
                      const char *what, const char *name)
{
  size_t bad = keel_utf8_check(s, n);
  if (bad == n)
    return KEEL_OK;
  return keel_fail(err, KEEL_EDATA,
                   "%s'%s' is not valid UTF-8 (byte 0x%02x at byte %zu); "
                   "the host takes only UTF-8 text from plugins",
                   what, name, (unsigned char)s[bad], bad + 1);
}

/* ---- schemas ---------------------------------------------------------- */

/* Column names are found through an index (name -> position) of the
 * first `indexed` columns; columns a schema held before the host first
 * grew it are indexed then. */
typedef struct schema_priv {
  size_t cap;
  keel_strmap names;
  size_t indexed;
} schema_priv;

void keel_schema_init(keel_schema *s)
{
  memset(s, 0, sizeof *s);
}

void keel_schema_free(keel_schema *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n_cols; i++)
    free((char *)s->cols[i].name);
  free(s->cols);
  schema_priv *p = s->host_private;
  if (p)
    keel_strmap_free(&p->names);
  free(p);
  memset(s, 0, sizeof *s);
}

int keel_schema_find(const keel_schema *s, const char *name)
{
  const schema_priv *p = s->host_private;
  if (p && p->indexed == s->n_cols) {
    size_t i;
    return keel_strmap_get(&p->names, name, strlen(name), &i) ? (int)i : -1;
  }
  for (size_t i = 0; i < s->n_cols; i++)
    if (strcmp(s->cols[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* Brings the name index up to every column. 0 or KEEL_ENOMEM. */
static int schema_index(keel_schema *s, schema_priv *p)
{
  for (; p->indexed < s->n_cols; p->indexed++) {
    const char *n = s->cols[p->indexed].name;
    if (keel_strmap_put(&p->names, n, strlen(n), p->indexed, NULL) < 0)
      return KEEL_ENOMEM;
  }
  return 0;
}

int keel_schema_add(keel_schema *s, const char *name, keel_col_type type,
                    uint32_t flags, keel_error *err)
{
  if (!name || !name[0])
    return keel_fail(err, KEEL_EINVAL, "a column needs a name");
  if (type < KEEL_COL_NUMERIC || type > KEEL_COL_DATE)
    return keel_fail(err, KEEL_EINVAL, "column '%s': unknown type %d", name,
                     (int)type);
  if (check_utf8(name, strlen(name), err, "column name ", name))
    return err ? err->code : KEEL_EDATA;
  schema_priv *p = s->host_private;
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    s->host_private = p;
    p->cap = s->n_cols;
  }
  if (schema_index(s, p))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (keel_schema_find(s, name) >= 0)
    return keel_fail(err, KEEL_EINVAL, "duplicate column name '%s'", name);
  if (s->n_cols == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 8;
    keel_column_schema *cols = realloc(s->cols, cap * sizeof *cols);
    if (!cols)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    s->cols = cols;
    p->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  s->cols[s->n_cols].name = copy;
  s->cols[s->n_cols].type = type;
  s->cols[s->n_cols].flags = flags;
  s->n_cols++;
  if (schema_index(s, p))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

int keel_schema_copy(keel_schema *dst, const keel_schema *src, keel_error *err)
{
  keel_schema_init(dst);
  for (size_t i = 0; i < src->n_cols; i++) {
    int rc = keel_schema_add(dst, src->cols[i].name, src->cols[i].type,
                             src->cols[i].flags, err);
    if (rc) {
      keel_schema_free(dst);
      return rc;
    }
  }
  return KEEL_OK;
}

/* ---- tables ----------------------------------------------------------- */

typedef struct table_priv {
  size_t cap;
  keel_strmap names; /* column name -> position, every column */
  /* Column arrays outgrown by table_add, freed with the table: a plugin
   * may still hold a keel_column pointer into one (ABI 1.2 keeps those
   * valid), and the arrays they point to are the live ones. */
  keel_column **retired;
  size_t n_retired;
} table_priv;

keel_table *keel_table_new(size_t n_rows)
{
  keel_table *t = calloc(1, sizeof *t);
  table_priv *p = calloc(1, sizeof *p);
  if (!t || !p) {
    free(t);
    free(p);
    return NULL;
  }
  t->n_rows = n_rows;
  t->host_private = p;
  return t;
}

static void column_free(keel_column *c, size_t n_rows)
{
  free((char *)c->name);
  free(c->num);
  free(c->code);
  if (c->dict)
    for (size_t i = 0; i < c->n_dict; i++)
      free((char *)c->dict[i]);
  free((char **)c->dict);
  if (c->text)
    for (size_t i = 0; i < n_rows; i++)
      free((char *)c->text[i]);
  free((char **)c->text);
  free(c->missing);
}

void keel_table_free(keel_table *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n_cols; i++)
    column_free(&t->cols[i], t->n_rows);
  free(t->cols);
  table_priv *p = t->host_private;
  if (p) {
    keel_strmap_free(&p->names);
    for (size_t i = 0; i < p->n_retired; i++)
      free(p->retired[i]);
    free(p->retired);
  }
  free(p);
  free(t);
}

int keel_table_find(const keel_table *t, const char *name)
{
  const table_priv *p = t->host_private;
  size_t i;
  if (p && p->names.n == t->n_cols)
    return keel_strmap_get(&p->names, name, strlen(name), &i) ? (int)i : -1;
  for (i = 0; i < t->n_cols; i++)
    if (strcmp(t->cols[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* calloc that never returns NULL for a zero-row table. */
static void *zalloc(size_t n, size_t size)
{
  return calloc(n ? n : 1, size);
}

/* Doubles the column array without moving the old one: it is kept (and
 * freed with the table) so that column pointers handed out earlier stay
 * valid. Geometric growth bounds the kept copies by the live array. */
static int grow_columns(keel_table *t, table_priv *p)
{
  size_t cap = p->cap ? 2 * p->cap : 8;
  keel_column *cols = malloc(cap * sizeof *cols);
  keel_column **retired =
      t->cols ? realloc(p->retired, (p->n_retired + 1) * sizeof *retired)
              : p->retired;
  if (!cols || (t->cols && !retired)) {
    free(cols);
    return KEEL_ENOMEM;
  }
  if (t->cols) {
    memcpy(cols, t->cols, t->n_cols * sizeof *cols);
    p->retired = retired;
    p->retired[p->n_retired++] = t->cols;
  }
  t->cols = cols;
  p->cap = cap;
  return KEEL_OK;
}

keel_column *keel_table_add(keel_table *t, const char *name, keel_col_type type,
                            const char *const *dict, size_t n_dict,
                            keel_error *err)
{
  if (!t || !name || !name[0]) {
    keel_fail(err, KEEL_EINVAL, "a column needs a table and a name");
    return NULL;
  }
  if (type < KEEL_COL_NUMERIC || type > KEEL_COL_DATE) {
    keel_fail(err, KEEL_EINVAL, "column '%s': unknown type %d", name,
              (int)type);
    return NULL;
  }
  if (keel_table_find(t, name) >= 0) {
    keel_fail(err, KEEL_EINVAL, "duplicate column name '%s'", name);
    return NULL;
  }
  if (type == KEEL_COL_CATEGORICAL && n_dict && !dict) {
    keel_fail(err, KEEL_EINVAL, "column '%s': dictionary missing", name);
    return NULL;
  }
  if (check_utf8(name, strlen(name), err, "column name ", name))
    return NULL;
  for (size_t i = 0; type == KEEL_COL_CATEGORICAL && i < n_dict; i++)
    if (dict[i] && check_utf8(dict[i], strlen(dict[i]), err, "", dict[i])) {
      keel_error_prefix(err, "column '%s', category %zu", name, i + 1);
      return NULL;
    }
  table_priv *p = t->host_private;
  if (t->n_cols == p->cap && grow_columns(t, p)) {
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return NULL;
  }
  keel_column c = {0};
  c.type = type;
  c.name = strdup(name);
  c.missing = zalloc(t->n_rows, 1);
  int ok = c.name && c.missing;
  if (type == KEEL_COL_NUMERIC || type == KEEL_COL_DATE) {
    c.num = zalloc(t->n_rows, sizeof *c.num);
    ok = ok && c.num;
  } else if (type == KEEL_COL_CATEGORICAL) {
    c.code = zalloc(t->n_rows, sizeof *c.code);
    char **d = zalloc(n_dict, sizeof *d);
    c.dict = (const char *const *)d;
    c.n_dict = n_dict;
    ok = ok && c.code && d;
    for (size_t i = 0; ok && i < n_dict; i++) {
      d[i] = strdup(dict[i] ? dict[i] : "");
      ok = d[i] != NULL;
    }
  } else {
    c.text = (const char *const *)zalloc(t->n_rows, sizeof(char *));
    ok = ok && c.text;
  }
  if (!ok) {
    column_free(&c, t->n_rows);
    keel_fail(err, KEEL_ENOMEM, "out of memory adding column '%s'", name);
    return NULL;
  }
  if (keel_strmap_put(&p->names, c.name, strlen(c.name), t->n_cols, NULL) < 0) {
    column_free(&c, t->n_rows);
    keel_fail(err, KEEL_ENOMEM, "out of memory adding column '%s'", name);
    return NULL;
  }
  t->cols[t->n_cols] = c;
  return &t->cols[t->n_cols++];
}

keel_column *keel_table_copy_column(keel_table *t, const keel_column *src,
                                    keel_error *err)
{
  keel_column *c =
      keel_table_add(t, src->name, src->type, src->dict, src->n_dict, err);
  if (!c)
    return NULL;
  size_t n = t->n_rows;
  if (n)
    memcpy(c->missing, src->missing, n);
  if (c->num && n)
    memcpy(c->num, src->num, n * sizeof *c->num);
  if (c->code && n)
    memcpy(c->code, src->code, n * sizeof *c->code);
  if (c->text) {
    size_t col = (size_t)(c - t->cols);
    for (size_t r = 0; r < n; r++)
      if (src->text[r] && keel_table_text_set(t, col, r, src->text[r],
                                              strlen(src->text[r]), err))
        return NULL;
  }
  return &t->cols[t->n_cols - 1];
}

int keel_table_text_set(keel_table *t, size_t col, size_t row, const char *s,
                        size_t len, keel_error *err)
{
  if (col >= t->n_cols || row >= t->n_rows ||
      t->cols[col].type != KEEL_COL_TEXT)
    return keel_fail(err, KEEL_EINVAL,
                     "text_set: column %zu row %zu is not a "
                     "text cell of this table",
                     col, row);
  size_t bad = keel_utf8_check(s, len);
  if (bad < len)
    return keel_fail(err, KEEL_EDATA,
                     "column '%s' row %zu: text is not valid UTF-8 (byte "
                     "0x%02x at byte %zu); the host takes only UTF-8 text "
                     "from plugins",
                     t->cols[col].name, row + 1, (unsigned char)s[bad],
                     bad + 1);
  char *copy = malloc(len + 1);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  memcpy(copy, s, len);
  copy[len] = '\0';
  char **text = (char **)t->cols[col].text;
  free(text[row]);
  text[row] = copy;
  return KEEL_OK;
}

keel_table *keel_table_take_rows(const keel_table *t, const size_t *rows,
                                 size_t n_rows, keel_error *err)
{
  /* Checked up front so a table without columns refuses them too. */
  for (size_t i = 0; i < n_rows; i++)
    if (rows[i] >= t->n_rows) {
      keel_fail(err, KEEL_EINVAL, "row %zu out of range (table has %zu rows)",
                rows[i], t->n_rows);
      return NULL;
    }
  keel_table *out = keel_table_new(n_rows);
  if (!out) {
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *src = &t->cols[c];
    keel_column *dst =
        keel_table_add(out, src->name, src->type, src->dict, src->n_dict, err);
    if (!dst)
      goto fail;
    for (size_t i = 0; i < n_rows; i++) {
      size_t r = rows[i];
      dst->missing[i] = src->missing[r];
      if (dst->num)
        dst->num[i] = src->num[r];
      if (dst->code)
        dst->code[i] = src->code[r];
      if (dst->text && src->text[r] &&
          keel_table_text_set(out, c, i, src->text[r], strlen(src->text[r]),
                              err))
        goto fail;
    }
  }
  return out;
fail:
  keel_table_free(out);
  return NULL;
}

keel_table *keel_table_drop_column(const keel_table *t, size_t col,
                                   keel_error *err)
{
  if (col >= t->n_cols) {
    keel_fail(err, KEEL_EINVAL, "drop_column: no column %zu (table has %zu)",
              col, t->n_cols);
    return NULL;
  }
  keel_table *out = keel_table_new(t->n_rows);
  if (!out) {
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t c = 0; c < t->n_cols; c++) {
    if (c == col)
      continue;
    if (!keel_table_copy_column(out, &t->cols[c], err)) {
      keel_table_free(out);
      return NULL;
    }
  }
  return out;
}

int keel_table_schema(const keel_table *t, keel_schema *out, keel_error *err)
{
  keel_schema_init(out);
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *col = &t->cols[c];
    uint32_t flags = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
      if (col->missing[r])
        flags |= KEEL_COL_MAY_MISS;
      else if (col->num && !isfinite(col->num[r]))
        flags |= KEEL_COL_MAY_NONFINITE;
    }
    int rc = keel_schema_add(out, col->name, col->type, flags, err);
    if (rc) {
      keel_schema_free(out);
      return rc;
    }
  }
  return KEEL_OK;
}
