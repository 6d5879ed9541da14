/* keel SDK: schemas and typed columnar tables.
 *
 * A data source yields a keel_table; each transform maps a table to a new
 * one. Every column has a type and an explicit missing mask. The host owns
 * all tables and schemas: plugins create and grow them only through the
 * host services (host.h), so memory never changes hands across allocators.
 * The last stage must be all NUMERIC, never missing and finite; the host
 * then packs it into a dense row-major float matrix for the model. */
#ifndef KEEL_DATA_H
#define KEEL_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef enum keel_col_type {
  KEEL_COL_NUMERIC = 1,     /* double values in .num */
  KEEL_COL_CATEGORICAL = 2, /* int32 codes in .code into .dict */
  KEEL_COL_TEXT = 3,        /* free text in .text */
  KEEL_COL_DATE = 4         /* days since 1970-01-01 (UTC) in .num */
} keel_col_type;

/* Bit for a column type, to build "accepts" masks. */
#define KEEL_COL_BIT(T) (1u << (T))
#define KEEL_COL_ANY 0xffffffffu

/* Schema flags of one column. */
#define KEEL_COL_MAY_MISS 0x1u      /* some rows may be missing */
#define KEEL_COL_MAY_NONFINITE 0x2u /* NaN/Inf may appear (numeric) */

/* Learning tasks, as bits. */
typedef enum keel_task {
  KEEL_TASK_CLASSIFICATION = 0x1,
  KEEL_TASK_REGRESSION = 0x2
} keel_task;

/* The declared shape of one column, before data is read. */
typedef struct keel_column_schema {
  const char *name;   /* owned by the schema */
  keel_col_type type; /* see keel_col_type */
  uint32_t flags;     /* KEEL_COL_MAY_* bits */
} keel_column_schema;

/* An ordered list of columns. Grow it with host->schema_add(). */
typedef struct keel_schema {
  size_t n_cols;
  keel_column_schema *cols;
  void *host_private; /* host bookkeeping; plugins leave it alone */
} keel_schema;

/* One column of data. Arrays have n_rows elements. */
typedef struct keel_column {
  const char *name; /* owned by the table */
  keel_col_type type;
  double *num;             /* NUMERIC and DATE values, else NULL */
  int32_t *code;           /* CATEGORICAL codes in [0, n_dict), else NULL */
  const char *const *dict; /* CATEGORICAL dictionary, owned by the table */
  size_t n_dict;
  const char *const *text; /* TEXT values (NULL where missing), else NULL */
  uint8_t *missing;        /* 1 where the row's value is missing */
} keel_column;

/* A table: columns of equal length. */
typedef struct keel_table {
  size_t n_rows;
  size_t n_cols;
  keel_column *cols;
  void *host_private; /* host bookkeeping; plugins leave it alone */
} keel_table;

#endif /* KEEL_DATA_H */
