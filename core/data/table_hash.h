/* table_hash: the SHA-256 of a table's content, for the lineage of data
 * that is not a file's bytes (a sqlite query's result rows). */
#ifndef KEEL_DATA_TABLE_HASH_H
#define KEEL_DATA_TABLE_HASH_H

#include "keel/data.h"
#include "keel/error.h"

/* Hex SHA-256 over a canonical encoding that does not depend on how the
 * table was built (docs/bundle-format.md, lineage.json "rows_sha256"):
 * "keel-table/1\n", then per column its name, a NUL and its type name and
 * a newline, then per column and row one byte (1 missing, 0 present)
 * followed, when present, by the value: a number (numeric, date) as the
 * 8 bytes of its IEEE-754 double, little-endian; a category or a text as
 * its byte length (8 bytes, little-endian) and its bytes. KEEL_ENOMEM. */
int keel_table_sha256(const keel_table *t, char hex[65], keel_error *err);

#endif
