/* Host-side tables and schemas: the implementations behind the table and
 * schema services of keel_host, plus what the pipeline needs. */
#ifndef KEEL_PLUGIN_TABLE_H
#define KEEL_PLUGIN_TABLE_H

#include "keel/keel.h"

/* Schemas. */
void keel_schema_init(keel_schema *s);
void keel_schema_free(keel_schema *s); /* frees contents, not s */
int keel_schema_add(keel_schema *s, const char *name, keel_col_type type,
                    uint32_t flags, keel_error *err);
int keel_schema_find(const keel_schema *s, const char *name); /* -1 if absent */
int keel_schema_copy(keel_schema *dst, const keel_schema *src, keel_error *err);
const char *keel_col_type_name(keel_col_type t); /* "numeric", ... */

/* Tables. */
keel_table *keel_table_new(size_t n_rows);
void keel_table_free(keel_table *t);
keel_column *keel_table_add(keel_table *t, const char *name, keel_col_type type,
                            const char *const *dict, size_t n_dict,
                            keel_error *err);
keel_column *keel_table_copy_column(keel_table *t, const keel_column *src,
                                    keel_error *err);
int keel_table_text_set(keel_table *t, size_t col, size_t row, const char *s,
                        size_t len, keel_error *err);
int keel_table_find(const keel_table *t, const char *name); /* -1 if absent */
/* A new table with the given rows of t, in that order (for splits). */
keel_table *keel_table_take_rows(const keel_table *t, const size_t *rows,
                                 size_t n_rows, keel_error *err);
/* A new table without column `col`. */
keel_table *keel_table_drop_column(const keel_table *t, size_t col,
                                   keel_error *err);
/* The schema the table actually has (flags from its data: MAY_MISS if any
 * row is missing, MAY_NONFINITE if any numeric value is NaN/Inf). */
int keel_table_schema(const keel_table *t, keel_schema *out, keel_error *err);

#endif
