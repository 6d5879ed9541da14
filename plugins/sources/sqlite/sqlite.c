/* sqlite: one read-only, ordered SELECT against a SQLite database file.
 *
 * The file is opened only through the host (keel_open_input, then
 * input_view), so the lineage hash covers exactly the bytes queried
 * (DESIGN.md, "Hash beside parse"); SQLite never opens a file: the bytes
 * are copied into sqlite3_malloc64 memory and handed to an in-memory
 * connection with sqlite3_deserialize, read-only. The query is checked
 * before any row is read (sqlite_sql.h, check_statement): one statement,
 * a SELECT (or WITH/VALUES), read-only, nothing but SELECT, READ,
 * FUNCTION and RECURSIVE for the authorizer, and an ORDER BY on the
 * outermost SELECT so the row order is defined.
 *
 * Types: a column named in text_/categorical_/date_/numeric_columns has
 * that type (as in the csv source); otherwise its declared type's SQLite
 * affinity decides (INTEGER, REAL, NUMERIC: numeric; TEXT: categorical; a
 * declared type DATE: date; BLOB: refused), and a column with no declared
 * type (an expression) is numeric when every value is a number, else
 * categorical. NULL is missing. docs/data.md states every rule.
 *
 * schema() prepares the statement (names, declared types and every
 * refusal of the query) and then steps through the result once, looking
 * only at each value's storage class, so that the flags it declares (may
 * be missing, may be non-finite) and the types of expression columns are
 * those of the data, as the csv source's inference scan gives them; read()
 * runs the same code storing the values, so the two agree. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <keel/keel.h>
#include <keel/utf8.h>
#include <keel/util.h>

#include "sqlite_sql.h"

enum {
  P_PATH,
  P_QUERY,
  P_TEXT,
  P_CATEGORICAL,
  P_DATE,
  P_NUMERIC,
  P_MAX_WORK,
  P_COUNT
};

static const keel_param_decl sqlite_params[] = {
    [P_PATH] = KEEL_P_STRING("path", "", KEEL_PARAM_REQUIRED,
                             "SQLite database file, relative to the "
                             "manifest's folder (read through the host, "
                             "never opened by SQLite)"),
    [P_QUERY] = KEEL_P_STRING("query", "", KEEL_PARAM_REQUIRED,
                              "one read-only SELECT whose outermost SELECT "
                              "has an ORDER BY (long queries continue on "
                              "indented lines)"),
    [P_TEXT] =
        KEEL_P_STRING_LIST("text_columns", "", "columns read as free text"),
    [P_CATEGORICAL] =
        KEEL_P_STRING_LIST("categorical_columns", "",
                           "columns forced to categorical (dictionary sorted "
                           "bytewise)"),
    [P_DATE] = KEEL_P_STRING_LIST("date_columns", "",
                                  "columns that must hold YYYY-MM-DD text"),
    [P_NUMERIC] =
        KEEL_P_STRING_LIST("numeric_columns", "",
                           "columns that must hold numbers (text or a blob is "
                           "an error naming row and column)"),
    [P_MAX_WORK] =
        KEEL_P_INT("max_work", 10000, 0, 1000000000, "million instructions",
                   "stop a query after this many million SQLite virtual "
                   "machine instructions (0: no limit)"),
};
KEEL_PARAMS_MATCH(sqlite_params, P_COUNT);

/* A column's type while the result is read: a keel type, or TY_INFER for
 * a column with no declared type (numeric until a text value arrives). */
#define TY_INFER 0

/* The progress handler runs every PROGRESS_STEP instructions. */
#define PROGRESS_STEP 1000

typedef struct sq_col {
  char *name;
  int type;        /* keel_col_type, or TY_INFER */
  int named;       /* named in a *_columns parameter */
  const char *why; /* where the type came from, for messages */
  int saw_text;    /* TY_INFER: a text value seen */
  int nonfinite, any_missing;
  /* values (read() only) */
  double *num;
  uint8_t *miss;
  size_t *soff, *slen; /* strings in sbuf (categorical, text, inferred) */
  char *sbuf;
  size_t sbuf_len, sbuf_cap;
} sq_col;

typedef struct sq_ctx {
  const keel_host *host;
  const keel_value *params;
  keel_error *err;
  char *file; /* the input's name for messages */
  sqlite3 *db;
  sqlite3_stmt *st;
  size_t n_cols;
  sq_col *cols;
  size_t n_rows, cap_rows;
  int store;
  uint64_t ticks, max_ticks; /* progress handler calls */
  int denied;                /* the authorizer refused an action */
  char denied_what[96];
} sq_ctx;

static void ctx_free(sq_ctx *c)
{
  for (size_t j = 0; c->cols && j < c->n_cols; j++) {
    sq_col *col = &c->cols[j];
    free(col->name);
    free(col->num);
    free(col->miss);
    free(col->soff);
    free(col->slen);
    free(col->sbuf);
  }
  free(c->cols);
  sqlite3_finalize(c->st);
  sqlite3_close(c->db);
  free(c->file);
}

/* The query as messages show it: its first line, cut at 60 bytes. */
static void query_excerpt(const char *q, char *buf, size_t cap)
{
  while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
    q++;
  size_t n = strcspn(q, "\n\r");
  int cut = n > 60 || q[n] != '\0';
  if (n > 60)
    n = 60;
  snprintf(buf, cap, "%.*s%s", (int)n, q, cut ? " ..." : "");
}

/* ---- opening the database ------------------------------------------ */

static int load_bytes(sq_ctx *c, char **out, size_t *out_len)
{
  const keel_host *h = c->host;
  keel_input *in = NULL;
  int rc = keel_open_input(h, c->params[P_PATH].s, &in, c->err);
  if (rc)
    return rc;
  if (!(c->file = strdup(h->input_name(in)))) {
    h->input_close(in);
    return h->fail(c->err, KEEL_ENOMEM, "out of memory");
  }
  const char *view = NULL;
  size_t len = 0;
  char *buf = NULL;
  if (KEEL_HOST_HAS(h, input_view) && h->input_view) {
    rc = h->input_view(in, &view, &len, c->err);
    /* SQLite keeps the buffer and may patch it (WAL header): a copy of
     * its own, which sqlite3_close frees (FREEONCLOSE) */
    if (!rc && !(buf = sqlite3_malloc64(len ? len : 1)))
      rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
    if (!rc)
      memcpy(buf, view, len);
  } else { /* a host before ABI 1.1: read the stream */
    size_t cap = 1u << 16;
    if (!(buf = sqlite3_malloc64(cap)))
      rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
    while (!rc) {
      if (len == cap) {
        char *nb = sqlite3_realloc64(buf, 2 * (sqlite3_uint64)cap);
        if (!nb) {
          rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
          break;
        }
        buf = nb;
        cap *= 2;
      }
      long got = h->input_read(in, buf + len, cap - len, c->err);
      if (got < 0)
        rc = (int)got;
      else if (got == 0)
        break;
      else
        len += (size_t)got;
    }
  }
  h->input_close(in);
  if (rc) {
    sqlite3_free(buf);
    return rc;
  }
  *out = buf;
  *out_len = len;
  return KEEL_OK;
}

/* Only reading: SELECT, READ (a column of a table or view), FUNCTION
 * (less the random ones: the same bytes must give the same rows) and
 * RECURSIVE (a recursive CTE). ATTACH, PRAGMA, writes, transactions and
 * everything else are refused with what was asked. */
static int authorize(void *arg, int action, const char *a1, const char *a2,
                     const char *db, const char *trigger)
{
  (void)db;
  (void)trigger;
  sq_ctx *c = arg;
  if (c->denied)
    return SQLITE_DENY; /* the first refusal is the one the message names */
  static const struct {
    int action;
    const char *name;
  } names[] = {{SQLITE_ATTACH, "ATTACH"},
               {SQLITE_DETACH, "DETACH"},
               {SQLITE_PRAGMA, "PRAGMA"},
               {SQLITE_INSERT, "INSERT"},
               {SQLITE_UPDATE, "UPDATE"},
               {SQLITE_DELETE, "DELETE"},
               {SQLITE_TRANSACTION, "a transaction"},
               {SQLITE_SAVEPOINT, "SAVEPOINT"},
               {SQLITE_ANALYZE, "ANALYZE"},
               {SQLITE_REINDEX, "REINDEX"},
               {SQLITE_ALTER_TABLE, "ALTER TABLE"},
               {SQLITE_CREATE_TABLE, "CREATE TABLE"},
               {SQLITE_CREATE_TEMP_TABLE, "CREATE TEMP TABLE"},
               {SQLITE_CREATE_VIEW, "CREATE VIEW"},
               {SQLITE_CREATE_TEMP_VIEW, "CREATE TEMP VIEW"},
               {SQLITE_CREATE_INDEX, "CREATE INDEX"},
               {SQLITE_CREATE_TRIGGER, "CREATE TRIGGER"},
               {SQLITE_CREATE_VTABLE, "CREATE VIRTUAL TABLE"},
               {SQLITE_DROP_TABLE, "DROP TABLE"},
               {SQLITE_DROP_VIEW, "DROP VIEW"},
               {SQLITE_DROP_INDEX, "DROP INDEX"},
               {SQLITE_DROP_TRIGGER, "DROP TRIGGER"}};
  if (action == SQLITE_SELECT || action == SQLITE_READ ||
      action == SQLITE_RECURSIVE)
    return SQLITE_OK;
  if (action == SQLITE_FUNCTION) {
    if (!a2 || (sqlite3_stricmp(a2, "random") != 0 &&
                sqlite3_stricmp(a2, "randomblob") != 0))
      return SQLITE_OK;
    snprintf(c->denied_what, sizeof c->denied_what,
             "the function %s() (its result changes from run to run)", a2);
  } else {
    const char *name = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (names[i].action == action)
        name = names[i].name;
    if (name && action == SQLITE_PRAGMA && a1)
      snprintf(c->denied_what, sizeof c->denied_what, "PRAGMA %.40s", a1);
    else if (name && a1 &&
             (action == SQLITE_INSERT || action == SQLITE_UPDATE ||
              action == SQLITE_DELETE))
      snprintf(c->denied_what, sizeof c->denied_what, "%s on %.40s", name, a1);
    else if (name)
      snprintf(c->denied_what, sizeof c->denied_what, "%s", name);
    else
      snprintf(c->denied_what, sizeof c->denied_what,
               "an operation other than reading (SQLite authorizer action "
               "%d)",
               action);
  }
  c->denied = 1;
  return SQLITE_DENY;
}

static int progress(void *arg)
{
  sq_ctx *c = arg;
  return c->max_ticks && ++c->ticks > c->max_ticks;
}

static int open_db(sq_ctx *c)
{
  const keel_host *h = c->host;
  char *buf = NULL;
  size_t len = 0;
  int rc = load_bytes(c, &buf, &len);
  if (rc)
    return rc;
  /* every SQLite database begins with this header (fileformat2.html) */
  static const char magic[16] = "SQLite format 3";
  if (len < 100 || memcmp(buf, magic, sizeof magic) != 0) {
    sqlite3_free(buf);
    return h->fail(c->err, KEEL_EDATA,
                   "%s is not a SQLite database (%s); expected a file that "
                   "begins with \"SQLite format 3\"",
                   c->file,
                   len < 100 ? "shorter than a database header"
                             : "no SQLite header");
  }
  /* A database in WAL mode says so in bytes 18 and 19 (2 = WAL). An
   * in-memory connection has no -wal file to read, and SQLite would refuse
   * to open the bytes; the bytes hold every committed transaction that was
   * checkpointed, which is what the file's hash covers, so this private
   * copy is marked as a rollback-journal database (1) and reads as such. */
  if ((unsigned char)buf[18] == 2 && (unsigned char)buf[19] == 2) {
    buf[18] = 1;
    buf[19] = 1;
  }
  if (sqlite3_open_v2(":memory:", &c->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      NULL) != SQLITE_OK) {
    sqlite3_free(buf);
    return h->fail(c->err, KEEL_ENOMEM, "cannot open SQLite: %s",
                   c->db ? sqlite3_errmsg(c->db) : "out of memory");
  }
  /* on failure sqlite3_deserialize frees buf itself (FREEONCLOSE) */
  if (sqlite3_deserialize(c->db, "main", (unsigned char *)buf,
                          (sqlite3_int64)len, (sqlite3_int64)len,
                          SQLITE_DESERIALIZE_READONLY |
                              SQLITE_DESERIALIZE_FREEONCLOSE) != SQLITE_OK)
    return h->fail(c->err, KEEL_EDATA, "%s: SQLite cannot read it: %s", c->file,
                   sqlite3_errmsg(c->db));
  /* Hostile bytes: no schema-defined function is trusted, the schema
   * cannot be written, "x" is never a string, nothing can be attached */
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
  sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_set_authorizer(c->db, authorize, c);
  /* max_work million instructions, counted every PROGRESS_STEP: a count
   * of instructions, not of seconds, so a query stops at the same point
   * on every machine */
  c->max_ticks = (uint64_t)c->params[P_MAX_WORK].i * (1000000u / PROGRESS_STEP);
  sqlite3_progress_handler(c->db, PROGRESS_STEP, progress, c);
  return KEEL_OK;
}

/* ---- checking the query -------------------------------------------- */

static int query_fail(sq_ctx *c, int code, const char *what)
{
  char q[80];
  query_excerpt(c->params[P_QUERY].s, q, sizeof q);
  return c->host->fail(c->err, code, "query '%s' on %s: %s", q, c->file, what);
}

/* The SQLite error of a call on the database: damaged bytes are data
 * (KEEL_EDATA), the rest is the query's fault (KEEL_EINVAL). */
static int sqlite_fail(sq_ctx *c, int src)
{
  char what[300];
  int prim = src & 0xff;
  if (c->max_ticks && c->ticks > c->max_ticks) {
    snprintf(what, sizeof what,
             "stopped after %lld million SQLite instructions (max_work); "
             "raise max_work or simplify the query",
             (long long)c->params[P_MAX_WORK].i);
    return query_fail(c, KEEL_EDATA, what);
  }
  if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT) {
    snprintf(what, sizeof what,
             "the database is damaged or not a SQLite database (%s)",
             sqlite3_errmsg(c->db));
    return query_fail(c, KEEL_EDATA, what);
  }
  if (prim == SQLITE_NOMEM)
    return c->host->fail(c->err, KEEL_ENOMEM, "out of memory in SQLite");
  snprintf(what, sizeof what, "%s", sqlite3_errmsg(c->db));
  return query_fail(c, prim == SQLITE_ERROR ? KEEL_EINVAL : KEEL_EDATA, what);
}

static int check_statement(sq_ctx *c)
{
  const char *q = c->params[P_QUERY].s;
  const char *tail = NULL;
  int src = sqlite3_prepare_v2(c->db, q, -1, &c->st, &tail);
  if (src != SQLITE_OK) {
    if (!c->denied)
      return sqlite_fail(c, src);
    char what[320];
    snprintf(what, sizeof what,
             "uses %s; expected one read-only SELECT (only reading tables "
             "and views, functions and recursive CTEs are allowed)",
             c->denied_what);
    return query_fail(c, KEEL_EINVAL, what);
  }
  if (!c->st)
    return query_fail(c, KEEL_EINVAL,
                      "holds no statement (only blanks or comments); "
                      "expected one SELECT");
  size_t used = (size_t)(tail - q);
  if (!sqlsrc_tail_is_blank(tail, strlen(tail))) {
    char more[40];
    query_excerpt(tail, more, sizeof more);
    char what[160];
    snprintf(what, sizeof what,
             "holds more than one statement ('%s' follows the first); "
             "expected exactly one SELECT",
             more);
    return query_fail(c, KEEL_EINVAL, what);
  }
  char first[16];
  sqlsrc_first_word(q, used, first, sizeof first);
  if (sqlite3_stmt_isexplain(c->st) ||
      (strcmp(first, "SELECT") != 0 && strcmp(first, "WITH") != 0 &&
       strcmp(first, "VALUES") != 0) ||
      sqlite3_column_count(c->st) == 0) {
    char what[120];
    snprintf(what, sizeof what,
             "is not a query (it begins with %s); expected a SELECT (or "
             "WITH ... SELECT)",
             first[0] ? first : "no keyword");
    return query_fail(c, KEEL_EINVAL, what);
  }
  if (!sqlite3_stmt_readonly(c->st))
    return query_fail(c, KEEL_EINVAL,
                      "writes to the database; expected a read-only SELECT");
  if (!sqlsrc_has_outer_order_by(q, used))
    return query_fail(c, KEEL_EINVAL,
                      "has no ORDER BY on its outermost SELECT, so SQLite "
                      "does not define the order of its rows; add ORDER BY "
                      "with keys that give every row its own place");
  return KEEL_OK;
}

/* ---- columns and their types --------------------------------------- */

/* The keel type of a declared column type, by SQLite's affinity rules
 * (datatype3.html, 3.1), or 0 for BLOB affinity. DATE alone is a date. */
static int type_of_decl(const char *decl)
{
  if (sqlite3_stricmp(decl, "DATE") == 0)
    return KEEL_COL_DATE;
  if (sqlite3_strlike("%INT%", decl, 0) == 0)
    return KEEL_COL_NUMERIC;
  if (sqlite3_strlike("%CHAR%", decl, 0) == 0 ||
      sqlite3_strlike("%CLOB%", decl, 0) == 0 ||
      sqlite3_strlike("%TEXT%", decl, 0) == 0)
    return KEEL_COL_CATEGORICAL;
  if (sqlite3_strlike("%BLOB%", decl, 0) == 0)
    return 0;
  return KEEL_COL_NUMERIC; /* REAL, FLOA, DOUB and NUMERIC affinity */
}

static int name_columns(sq_ctx *c, keel_name_pos *sorted)
{
  const keel_host *h = c->host;
  for (size_t j = 0; j < c->n_cols; j++) {
    const char *name = sqlite3_column_name(c->st, (int)j);
    if (!name)
      return h->fail(c->err, KEEL_ENOMEM, "out of memory");
    if (!(c->cols[j].name = strdup(name)))
      return h->fail(c->err, KEEL_ENOMEM, "out of memory");
    sorted[j].name = c->cols[j].name;
    sorted[j].pos = j;
  }
  keel_names_sort(sorted, c->n_cols);
  size_t a = 0, b = 0;
  if (keel_names_first_dup(sorted, c->n_cols, &a, &b)) {
    char what[200];
    snprintf(what, sizeof what,
             "returns two columns named '%.60s' (%zu and %zu); give each "
             "its own name with AS",
             c->cols[a].name, a + 1, b + 1);
    return query_fail(c, KEEL_EINVAL, what);
  }
  return KEEL_OK;
}

static int apply_named(sq_ctx *c, const keel_name_pos *sorted)
{
  static const struct {
    int param;
    keel_col_type type;
  } lists[] = {{P_TEXT, KEEL_COL_TEXT},
               {P_CATEGORICAL, KEEL_COL_CATEGORICAL},
               {P_DATE, KEEL_COL_DATE},
               {P_NUMERIC, KEEL_COL_NUMERIC}};
  const keel_host *h = c->host;
  for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
    const keel_value *v = &c->params[lists[l].param];
    for (size_t i = 0; i < v->n; i++) {
      long found = keel_names_find(sorted, c->n_cols, v->strings[i]);
      if (found < 0) {
        char what[200];
        snprintf(what, sizeof what,
                 "%s names column '%.60s', but the query returns no such "
                 "column",
                 sqlite_params[lists[l].param].name, v->strings[i]);
        return query_fail(c, KEEL_EINVAL, what);
      }
      sq_col *col = &c->cols[found];
      if (col->named && col->type != (int)lists[l].type)
        return h->fail(c->err, KEEL_EINVAL,
                       "column '%s' is declared with two types (check the "
                       "*_columns lists)",
                       v->strings[i]);
      col->named = 1;
      col->type = (int)lists[l].type;
      col->why = sqlite_params[lists[l].param].name;
    }
  }
  return KEEL_OK;
}

static int setup_columns(sq_ctx *c)
{
  const keel_host *h = c->host;
  c->n_cols = (size_t)sqlite3_column_count(c->st);
  c->cols = calloc(c->n_cols, sizeof *c->cols);
  keel_name_pos *sorted = malloc(c->n_cols * sizeof *sorted);
  int rc = c->cols && sorted ? KEEL_OK
                             : h->fail(c->err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = name_columns(c, sorted);
  if (!rc)
    rc = apply_named(c, sorted);
  free(sorted);
  for (size_t j = 0; !rc && j < c->n_cols; j++) {
    sq_col *col = &c->cols[j];
    if (col->named)
      continue;
    const char *decl = sqlite3_column_decltype(c->st, (int)j);
    col->why = "its declared type";
    if (!decl || !decl[0]) {
      col->type = TY_INFER;
      col->why = "its values (no declared type)";
    } else if (!(col->type = type_of_decl(decl))) {
      char what[360];
      snprintf(what, sizeof what,
               "column '%.60s' is declared %.30s (BLOB affinity), which keel "
               "cannot type; name it in numeric_columns, "
               "categorical_columns, text_columns or date_columns, or CAST "
               "it in the query",
               col->name, decl);
      rc = query_fail(c, KEEL_EINVAL, what);
    }
  }
  return rc;
}

/* ---- reading the result -------------------------------------------- */

static int grow_rows(sq_ctx *c)
{
  size_t cap = c->cap_rows ? 2 * c->cap_rows : 1024;
  for (size_t j = 0; j < c->n_cols; j++) {
    sq_col *col = &c->cols[j];
    double *num = realloc(col->num, cap * sizeof *num);
    if (num)
      col->num = num;
    uint8_t *miss = realloc(col->miss, cap);
    if (miss)
      col->miss = miss;
    size_t *soff = realloc(col->soff, cap * sizeof *soff);
    if (soff)
      col->soff = soff;
    size_t *slen = realloc(col->slen, cap * sizeof *slen);
    if (slen)
      col->slen = slen;
    if (!num || !miss || !soff || !slen)
      return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
  }
  c->cap_rows = cap;
  return KEEL_OK;
}

static int keep_string(sq_ctx *c, sq_col *col, size_t row, const char *s,
                       size_t n)
{
  if (col->sbuf_len + n > col->sbuf_cap) {
    size_t cap = col->sbuf_cap ? col->sbuf_cap : 4096;
    while (cap < col->sbuf_len + n)
      cap *= 2;
    char *b = realloc(col->sbuf, cap);
    if (!b)
      return c->host->fail(c->err, KEEL_ENOMEM, "out of memory");
    col->sbuf = b;
    col->sbuf_cap = cap;
  }
  memcpy(col->sbuf + col->sbuf_len, s, n);
  col->soff[row] = col->sbuf_len;
  col->slen[row] = n;
  col->sbuf_len += n;
  return KEEL_OK;
}

static const char *type_word(int t)
{
  switch (t) {
  case KEEL_COL_NUMERIC: return "numeric";
  case KEEL_COL_CATEGORICAL: return "categorical";
  case KEEL_COL_TEXT: return "text";
  case KEEL_COL_DATE: return "date";
  default: return "inferred";
  }
}

static int cell_fail(sq_ctx *c, size_t row, size_t j, const char *value,
                     const char *expected)
{
  const sq_col *col = &c->cols[j];
  return c->host->fail(c->err, KEEL_EDATA,
                       "%s: query row %zu, column '%.60s' (%zu): %s in a %s "
                       "column (typed by %s); expected %s",
                       c->file, row + 1, col->name, j + 1, value,
                       type_word(col->type), col->why, expected);
}

/* A value as it will read in a message: text cut at 40 bytes. */
static void value_excerpt(sqlite3_stmt *st, int j, char *buf, size_t cap)
{
  int t = sqlite3_column_type(st, j);
  if (t == SQLITE_BLOB) {
    snprintf(buf, cap, "a blob of %d bytes", sqlite3_column_bytes(st, j));
    return;
  }
  const char *s = (const char *)sqlite3_column_text(st, j);
  int n = sqlite3_column_bytes(st, j);
  snprintf(buf, cap, "%s '%.*s%s'", t == SQLITE_TEXT ? "text" : "the number",
           n > 40 ? 40 : n, s ? s : "", n > 40 ? "..." : "");
}

/* YYYY-MM-DD, a real date, to days since 1970-01-01 (as the csv source). */
static int parse_date(const char *p, size_t n, double *days)
{
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (n != 10 || p[4] != '-' || p[7] != '-')
    return -1;
  int v[8];
  static const int at[8] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (int i = 0; i < 8; i++) {
    if (p[at[i]] < '0' || p[at[i]] > '9')
      return -1;
    v[i] = p[at[i]] - '0';
  }
  long y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
  int mo = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
  if (mo < 1 || mo > 12 || d < 1)
    return -1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap))
    return -1;
  *days = (double)keel_days_from_civil(y, mo, d);
  return 0;
}

/* A number as the text of a categorical or text column: integers in
 * decimal, reals in %.17g (round-trip, and the C library's, not SQLite's
 * formatting, which has changed between SQLite versions). */
static size_t number_text(sqlite3_stmt *st, int j, int t, char *buf, size_t cap)
{
  int n =
      t == SQLITE_INTEGER
          ? snprintf(buf, cap, "%lld", (long long)sqlite3_column_int64(st, j))
          : snprintf(buf, cap, "%.17g", sqlite3_column_double(st, j));
  return (size_t)n;
}

static int read_cell(sq_ctx *c, size_t row, size_t j)
{
  sq_col *col = &c->cols[j];
  sqlite3_stmt *st = c->st;
  int t = sqlite3_column_type(st, (int)j);
  char shown[80], num[40];
  if (t == SQLITE_NULL) {
    col->any_missing = 1;
    if (c->store) {
      col->miss[row] = 1;
      col->num[row] = 0.0;
    }
    return KEEL_OK;
  }
  if (c->store)
    col->miss[row] = 0;
  if (t == SQLITE_BLOB) {
    value_excerpt(st, (int)j, shown, sizeof shown);
    return cell_fail(c, row, j, shown,
                     "a number or text (CAST the blob in the query)");
  }
  int is_num = t == SQLITE_INTEGER || t == SQLITE_FLOAT;
  double v =
      is_num ? (t == SQLITE_INTEGER ? (double)sqlite3_column_int64(st, (int)j)
                                    : sqlite3_column_double(st, (int)j))
             : 0.0;
  switch (col->type) {
  case KEEL_COL_NUMERIC:
    if (!is_num) {
      value_excerpt(st, (int)j, shown, sizeof shown);
      return cell_fail(c, row, j, shown,
                       "a number (CAST it in the query, or name the column "
                       "in categorical_columns)");
    }
    col->nonfinite |= !isfinite(v);
    if (c->store)
      col->num[row] = v;
    return KEEL_OK;
  case KEEL_COL_DATE: {
    const char *s = (const char *)sqlite3_column_text(st, (int)j);
    size_t n = (size_t)sqlite3_column_bytes(st, (int)j);
    double days;
    if (t != SQLITE_TEXT || !s || parse_date(s, n, &days)) {
      value_excerpt(st, (int)j, shown, sizeof shown);
      return cell_fail(c, row, j, shown, "YYYY-MM-DD text");
    }
    if (c->store)
      col->num[row] = days;
    return KEEL_OK;
  }
  default: break; /* categorical, text, inferred: strings */
  }
  if (is_num && col->type == TY_INFER) {
    col->nonfinite |= !isfinite(v);
    if (c->store)
      col->num[row] = v;
  }
  if (!is_num)
    col->saw_text = 1;
  if (!c->store && is_num)
    return KEEL_OK; /* text is checked in schema() too: the same errors */
  const char *s;
  size_t n;
  if (is_num) {
    n = number_text(st, (int)j, t, num, sizeof num);
    s = num;
  } else {
    s = (const char *)sqlite3_column_text(st, (int)j);
    n = (size_t)sqlite3_column_bytes(st, (int)j);
    if (!s)
      return c->host->fail(c->err, KEEL_ENOMEM, "out of memory in SQLite");
    size_t bad = keel_utf8_check(s, n);
    if (bad != n) {
      char what[80];
      snprintf(what, sizeof what, "text with invalid UTF-8 at byte %zu",
               bad + 1);
      return cell_fail(c, row, j, what, "UTF-8 text");
    }
  }
  return c->store ? keep_string(c, col, row, s, n) : KEEL_OK;
}

static int read_rows(sq_ctx *c)
{
  for (;;) {
    int src = sqlite3_step(c->st);
    if (src == SQLITE_DONE)
      break;
    if (src != SQLITE_ROW)
      return sqlite_fail(c, src);
    if (c->store && c->n_rows == c->cap_rows) {
      int rc = grow_rows(c);
      if (rc)
        return rc;
    }
    for (size_t j = 0; j < c->n_cols; j++) {
      int rc = read_cell(c, c->n_rows, j);
      if (rc)
        return rc;
    }
    c->n_rows++;
  }
  if (c->n_rows == 0)
    return query_fail(c, KEEL_EDATA, "returned no rows");
  /* an expression column is numeric unless a value was text */
  for (size_t j = 0; j < c->n_cols; j++)
    if (c->cols[j].type == TY_INFER)
      c->cols[j].type =
          c->cols[j].saw_text ? KEEL_COL_CATEGORICAL : KEEL_COL_NUMERIC;
  return KEEL_OK;
}

static int run_query(sq_ctx *c, const keel_host *host, const keel_value *params,
                     keel_error *err, int store)
{
  memset(c, 0, sizeof *c);
  c->host = host;
  c->params = params;
  c->err = err;
  c->store = store;
  int rc = open_db(c);
  if (!rc)
    rc = check_statement(c);
  if (!rc)
    rc = setup_columns(c);
  if (!rc)
    rc = read_rows(c);
  return rc;
}

static uint32_t col_flags(const sq_col *col)
{
  uint32_t f = col->any_missing ? KEEL_COL_MAY_MISS : 0;
  if (col->nonfinite && col->type == KEEL_COL_NUMERIC)
    f |= KEEL_COL_MAY_NONFINITE;
  return f;
}

static int sqlite_schema(const keel_host *host, const keel_value *params,
                         keel_schema *out, keel_error *err)
{
  sq_ctx c;
  int rc = run_query(&c, host, params, err, 0);
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    rc = host->schema_add(out, c.cols[j].name, (keel_col_type)c.cols[j].type,
                          col_flags(&c.cols[j]), err);
  ctx_free(&c);
  return rc;
}

/* ---- building the table -------------------------------------------- */

typedef struct str_ref {
  const char *p;
  size_t n;
  size_t row;
} str_ref;

static int str_cmp(const void *a, const void *b)
{
  const str_ref *x = a, *y = b;
  int d = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
  if (d)
    return d;
  if (x->n != y->n)
    return x->n < y->n ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

/* Column j as categorical: its distinct strings sorted bytewise. */
static int add_categorical(sq_ctx *c, keel_table *t, size_t j)
{
  const keel_host *h = c->host;
  sq_col *col = &c->cols[j];
  size_t n = c->n_rows, k = 0, n_dict = 0;
  str_ref *refs = malloc((n ? n : 1) * sizeof *refs);
  int32_t *code = malloc((n ? n : 1) * sizeof *code);
  char **dict = calloc(n ? n : 1, sizeof *dict);
  int rc = KEEL_OK;
  if (!refs || !code || !dict) {
    rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t r = 0; r < n; r++) {
    code[r] = 0;
    if (!col->miss[r])
      refs[k++] = (str_ref){col->sbuf + col->soff[r], col->slen[r], r};
  }
  qsort(refs, k, sizeof *refs, str_cmp);
  for (size_t i = 0; i < k; i++) {
    if (i == 0 || refs[i].n != refs[i - 1].n ||
        memcmp(refs[i].p, refs[i - 1].p, refs[i].n) != 0) {
      if (!(dict[n_dict] = malloc(refs[i].n + 1))) {
        rc = h->fail(c->err, KEEL_ENOMEM, "out of memory");
        goto out;
      }
      memcpy(dict[n_dict], refs[i].p, refs[i].n);
      dict[n_dict][refs[i].n] = '\0';
      n_dict++;
    }
    code[refs[i].row] = (int32_t)(n_dict - 1);
  }
  keel_column *kc = h->table_add(t, col->name, KEEL_COL_CATEGORICAL,
                                 (const char *const *)dict, n_dict, c->err);
  if (!kc) {
    rc = c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
    goto out;
  }
  memcpy(kc->code, code, n * sizeof *code);
  memcpy(kc->missing, col->miss, n);
out:
  for (size_t i = 0; dict && i < n_dict; i++)
    free(dict[i]);
  free(dict);
  free(code);
  free(refs);
  return rc;
}

static int add_column(sq_ctx *c, keel_table *t, size_t j)
{
  const keel_host *h = c->host;
  sq_col *col = &c->cols[j];
  if (col->type == KEEL_COL_CATEGORICAL)
    return add_categorical(c, t, j);
  keel_column *kc =
      h->table_add(t, col->name, (keel_col_type)col->type, NULL, 0, c->err);
  if (!kc)
    return c->err && c->err->code ? c->err->code : KEEL_ENOMEM;
  memcpy(kc->missing, col->miss, c->n_rows);
  if (col->type != KEEL_COL_TEXT) {
    memcpy(kc->num, col->num, c->n_rows * sizeof *kc->num);
    return KEEL_OK;
  }
  int rc = KEEL_OK;
  for (size_t r = 0; !rc && r < c->n_rows; r++)
    if (!col->miss[r])
      rc = h->text_set(t, t->n_cols - 1, r, col->sbuf + col->soff[r],
                       col->slen[r], c->err);
  return rc;
}

static int sqlite_read(const keel_host *host, const keel_value *params,
                       keel_table **out, keel_error *err)
{
  sq_ctx c;
  keel_table *t = NULL;
  *out = NULL;
  int rc = run_query(&c, host, params, err, 1);
  if (!rc && !(t = host->table_new(c.n_rows)))
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t j = 0; !rc && j < c.n_cols; j++)
    rc = add_column(&c, t, j);
  if (rc) {
    if (t)
      host->table_free(t);
  } else {
    *out = t;
  }
  ctx_free(&c);
  return rc;
}

static const keel_source_api sqlite_api = {
    KEEL_SOURCE_API_HEADER,
    .schema = sqlite_schema,
    .read = sqlite_read,
};

/* `keel plugin-test` reads this sample (keel/plugin_test.h): every column
 * type, a NULL, made by gen_sample.py. */
#include "sqlite_sample.h"

static const keel_test_file sqlite_sample_file = {
    "sample.db", (const char *)sqlite_sample_db, sizeof sqlite_sample_db};
static const keel_test_fixture sqlite_fixtures[] = {
    {.name = "sample.db",
     .params =
         (const char *const[]){"path=sample.db", SQLITE_SAMPLE_QUERY,
                               "text_columns=note", "date_columns=day", NULL},
     .files = &sqlite_sample_file,
     .n_files = 1},
};
static const keel_plugin_test_ext sqlite_test_ext = {
    .struct_size = sizeof(keel_plugin_test_ext),
    .fixtures = sqlite_fixtures,
    .n_fixtures = KEEL_COUNT(sqlite_fixtures),
};

static const void *sqlite_extension(const char *uri)
{
  return strcmp(uri, KEEL_EXT_PLUGIN_TEST) == 0 ? &sqlite_test_ext : NULL;
}

static const keel_plugin sqlite_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_SOURCE),
    .name = "sqlite",
    .version = "1.0.0",
    .summary = "one ordered, read-only SELECT on a SQLite database file",
    .license = "MIT",
    .params = sqlite_params,
    .n_params = KEEL_COUNT(sqlite_params),
    .api = &sqlite_api,
    .extension = sqlite_extension,
};

KEEL_PLUGIN_DEFINE(sqlite_plugin)
