/* The --where and --sort languages of `keel runs` (docs/registry.md has the
 * grammar): parsed here by hand and compiled to a fragment of SQL whose
 * text comes only from this file. Every key and every literal the user
 * wrote becomes a bound parameter (?N); attribute names map to columns
 * through a fixed table. Pure: no database is touched, so a unit test can
 * show that no user text reaches the SQL. */
#ifndef KEEL_RUN_REGISTRY_WHERE_H
#define KEEL_RUN_REGISTRY_WHERE_H

#include <stddef.h>

#include "keel/error.h"

/* One bound parameter: text ('t') or a number ('n'). */
typedef struct keel_where_bind {
  char kind;
  char *text; /* malloc'd when kind is 't' */
  double num;
} keel_where_bind;

/* A compiled query piece. The fragments refer to the runs table as `r`;
 * binds[i] is ?(i+1). keys: the parameter or metric keys the user named
 * (malloc'd, distinct, in order), which `keel runs list` shows as
 * columns. */
typedef struct keel_where_sql {
  char *where; /* a boolean expression, or NULL: every run */
  char *order; /* an ORDER BY list (without the keywords) */
  keel_where_bind *binds;
  size_t n_binds;
  char **keys;
  size_t n_keys;
} keel_where_sql;

/* Limits: an expression is at most this long, nests this deep and holds
 * this many comparisons (SQLite's own limits stay far away). */
#define KEEL_WHERE_MAX_LEN 4096
#define KEEL_WHERE_MAX_DEPTH 32
#define KEEL_WHERE_MAX_TERMS 64

/* Compiles `expr` (NULL or blank: no condition) into out->where, and
 * `sort` ("KEY", "KEY asc" or "KEY desc"; NULL: started_at desc) into
 * out->order, appending to out's binds and keys (zero *out first). A
 * malformed text is KEEL_EINVAL with "column N: expected ... near '...'"
 * (1-based, the user's text escaped) in err. Release with
 * keel_where_sql_free, also after a failure. */
int keel_where_compile(const char *expr, keel_where_sql *out, keel_error *err);
int keel_where_compile_sort(const char *sort, keel_where_sql *out,
                            keel_error *err);

/* A column expression for the value of KEY (an attribute, a metric or a
 * parameter) of run r, appended with its binds: the columns `keel runs
 * list` shows. Returns a malloc'd fragment, or NULL with err set. */
char *keel_where_value_expr(const char *key, keel_where_sql *out,
                            keel_error *err);

void keel_where_sql_free(keel_where_sql *s);

/* 1 when key names a run attribute (run_id, status, template, ...). */
int keel_where_is_attribute(const char *key);

#endif
